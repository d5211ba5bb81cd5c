import {expect} from 'chai'
import {existsSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import path from 'node:path'
import {execa} from 'execa'
import {buildahEnv, createBuildahStorage, mountsUnder, type BuildahStorage} from './storage.js'
import {missingTools, skipWith} from './tools.js'

describe('buildah storage bundle', function () {
  this.timeout(60_000)
  const made: BuildahStorage[] = []
  after(async () => {
    await Promise.all(made.map((s) => s.cleanup()))
  })

  it('writes storage.conf, registries.conf, containers.conf and policy.json into one temp dir', async () => {
    const s = await createBuildahStorage({registries: ['127.0.0.1:5999']})
    made.push(s)
    expect(s.driver).to.equal('vfs')
    const storageConf = await readFile(s.storageConf, 'utf8')
    expect(storageConf).to.contain('driver = "vfs"')
    expect(storageConf).to.contain(`graphroot = "${path.join(s.dir, 'graph')}"`)
    expect(storageConf).to.contain(`runroot = "${path.join(s.dir, 'run')}"`)
    const registries = await readFile(s.registriesConf, 'utf8')
    expect(registries).to.contain('location = "127.0.0.1:5999"\ninsecure = true')
    expect(registries).to.contain('location = "localhost:5999"\ninsecure = true')
    expect(registries).to.contain('unqualified-search-registries = []')
    expect(JSON.parse(await readFile(s.policyPath, 'utf8'))).to.deep.equal({default: [{type: 'insecureAcceptAnything'}]})
    expect(JSON.parse(await readFile(path.join(s.env.HOME, '.config', 'containers', 'policy.json'), 'utf8'))).to.deep.equal({
      default: [{type: 'insecureAcceptAnything'}],
    })
    expect(await readFile(s.containersConf, 'utf8')).to.match(/runtime = "runc"[\s\S]*network_backend = "cni"/)
    expect(s.env).to.include({
      CONTAINERS_STORAGE_CONF: s.storageConf,
      CONTAINERS_REGISTRIES_CONF: s.registriesConf,
      CONTAINERS_CONF: s.containersConf,
      BUILDAH_ISOLATION: 'chroot',
    })

    await s.trustRegistry('localhost:6001')
    const after = await readFile(s.registriesConf, 'utf8')
    expect(after).to.contain('location = "127.0.0.1:6001"')
    expect(after).to.contain('location = "localhost:6001"')
    expect(after).to.contain('location = "127.0.0.1:5999"')
  })

  it('is what buildah uses, and cleanup() removes it', async function () {
    const missing = await missingTools('buildah')
    if (missing) skipWith(this, missing)
    const s = await createBuildahStorage({driver: 'overlay'})
    made.push(s)
    const env = buildahEnv(s)
    const {stdout} = await execa('buildah', ['info'], {env, extendEnv: false})
    const info = JSON.parse(stdout)
    expect(info.store.GraphRoot).to.equal(path.join(s.dir, 'graph'))
    expect(info.store.RunRoot).to.equal(path.join(s.dir, 'run'))
    expect(info.store.GraphDriverName).to.equal('overlay')
    // a mounted working container is unmounted by cleanup()
    const ctr = (await execa('buildah', ['from', 'scratch'], {env, extendEnv: false})).stdout.trim()
    const mnt = (await execa('buildah', ['mount', ctr], {env, extendEnv: false})).stdout.trim()
    expect((await mountsUnder(s.dir)).length).to.be.greaterThan(0)
    expect(mnt.startsWith(s.dir)).to.equal(true)
    await s.cleanup()
    expect(await mountsUnder(s.dir)).to.deep.equal([])
    expect(existsSync(s.dir)).to.equal(false)
  })
})
