import {expect} from 'chai'
import {BASE_IMAGE_VERSION, buildBaseImage, sharedLibraries} from './base-image.js'
import {fileText, readImageFs, type ImageEntry} from './image-fs.js'
import {inspectImage, manifestDigest, registryAvailable, startRegistry, type Registry} from './registry.js'
import {createBuildahStorage, type BuildahStorage} from './storage.js'
import {missingTools, skipWith} from './tools.js'

describe('simulated RHCOS base image', function () {
  this.timeout(120_000)
  let registry: Registry | undefined
  let other: Registry | undefined
  let storage: BuildahStorage | undefined

  before(async function () {
    if (!(await registryAvailable())) skipWith(this, 'docker-registry not found (install the Debian package "docker-registry")')
    const missing = await missingTools('buildah', 'busybox', 'jq')
    if (missing) skipWith(this, missing)
    registry = await startRegistry()
    storage = await createBuildahStorage({registries: [registry.host]})
  })
  after(async () => {
    await storage?.cleanup()
    await registry?.stop()
    await other?.stop()
  })

  it('collects shared libraries with ldd', async () => {
    const libs = await sharedLibraries('/usr/bin/jq')
    expect(libs.some((l) => /\/libc\.so\.6$/.test(l))).to.equal(true)
    expect(libs.some((l) => /ld-linux/.test(l))).to.equal(true)
    expect(await sharedLibraries('/usr/bin/busybox')).to.deep.equal([])
  })

  it('builds FROM scratch well under 5 s, pushes it and returns the digested pullspec', async () => {
    const base = await buildBaseImage({registry: registry!, storage: storage!})
    console.log(`      base image ${base.cached ? 'copied from cache' : 'built and pushed'} in ${base.elapsedMs} ms`)
    expect(base.elapsedMs).to.be.lessThan(5000)
    expect(base.pullspec).to.match(new RegExp(`^${registry!.host.replace(/\./g, '\\.')}/ocp/rhcos@sha256:[0-9a-f]{64}$`))
    expect(base.tag).to.equal(`${registry!.host}/ocp/rhcos:latest`)
    expect(await manifestDigest(registry!, 'ocp/rhcos', 'latest')).to.equal(base.digest)

    const image = await inspectImage(registry!, 'ocp/rhcos', base.digest)
    expect(image.labels).to.include({version: BASE_IMAGE_VERSION, 'ostree.bootable': 'true', 'io.oc-mob.simulated': 'true'})
    expect(image.config.config?.Env).to.include('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin')
    expect(image.manifest.layers).to.have.length(1)
    expect(image.manifest.layers[0].size).to.be.lessThan(8 * 1024 * 1024)

    const fs = await readImageFs(registry!, 'ocp/rhcos', base.digest)
    const link = (p: string) => (fs.get(p) as Extract<ImageEntry, {type: 'symlink'}> | undefined)?.target
    expect(link('/bin')).to.equal('usr/bin')
    expect(link('/lib64')).to.equal('usr/lib64')
    expect(link('/usr/bin/sh'), '/bin/sh is bash, for <( ) in the RUN line').to.equal('bash')
    expect(link('/usr/bin/base64')).to.equal('busybox')
    expect(link('/usr/bin/gunzip')).to.equal('busybox')
    for (const exe of [
      '/usr/bin/bash',
      '/usr/bin/jq',
      '/usr/bin/busybox',
      '/usr/bin/ostree',
      '/usr/lib/dracut/modules.d/30ignition/ignition',
    ]) {
      expect(fs.get(exe), exe).to.deep.include({type: 'file', mode: 0o755})
    }
    expect(fs.has('/usr/lib64/ld-linux-x86-64.so.2') || fs.has('/usr/lib/ld-linux-aarch64.so.1')).to.equal(true)
    expect([...fs.keys()].some((p) => /^\/usr\/lib\/.*\/libonig\.so/.test(p))).to.equal(true)
    expect(fileText(fs, '/etc/os-release')).to.match(/^NAME="Red Hat Enterprise Linux CoreOS"$/m)
    expect(fileText(fs, '/etc/os-release')).to.contain('simulated by oc-mob')
    expect(fs.get('/tmp')).to.deep.include({type: 'dir', mode: 0o1777})
  })

  it('reuses the build: a second registry gets the same digest without building again', async () => {
    const first = await buildBaseImage({registry: registry!, storage: storage!})
    other = await startRegistry({auth: {user: 'u', password: 'p'}})
    const second = await buildBaseImage({registry: other, storage: storage!, repo: 'openshift/os', tagName: '4.16'})
    expect(second.cached).to.equal(true)
    expect(second.digest).to.equal(first.digest)
    expect(second.pullspec).to.equal(`${other.host}/openshift/os@${first.digest}`)
    expect(second.tag).to.equal(`${other.host}/openshift/os:4.16`)
  })
})
