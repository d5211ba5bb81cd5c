import {expect} from 'chai'
import {createHash} from 'node:crypto'
import {execFileSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import {gzipSync} from 'node:zlib'
import {fileText, readImageFs} from './image-fs.js'
import {
  dockerConfigJson,
  getManifest,
  inspectImage,
  listTags,
  manifestDigest,
  parseReference,
  pushOciLayout,
  putBlob,
  putManifest,
  registryAvailable,
  startRegistry,
  type Registry,
} from './registry.js'
import {skipWith} from './tools.js'

/** A one-layer OCI image made by hand: a tar with one file, a config with labels. */
function tinyImage(labels: Record<string, string>, file = {name: 'hello.txt', content: 'hello\n'}) {
  const header = Buffer.alloc(512)
  header.write(file.name, 0)
  header.write('0000644\0', 100)
  header.write('0000000\0', 108)
  header.write('0000000\0', 116)
  header.write(Buffer.byteLength(file.content).toString(8).padStart(11, '0') + '\0', 124)
  header.write('00000000000\0', 136)
  header.write('        ', 148)
  header.write('0', 156)
  header.write('ustar\0', 257)
  header.write('00', 263)
  let sum = 0
  for (const b of header) sum += b
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148)
  const body = Buffer.alloc(Math.ceil(Buffer.byteLength(file.content) / 512) * 512)
  body.write(file.content)
  const tar = Buffer.concat([header, body, Buffer.alloc(1024)])
  const layer = gzipSync(tar)
  const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`
  const config = Buffer.from(
    JSON.stringify({architecture: 'amd64', os: 'linux', config: {Labels: labels}, rootfs: {type: 'layers', diff_ids: [sha(tar)]}}),
  )
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length},
      layers: [{mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(layer), size: layer.length}],
    }),
  )
  return {layer, config, manifest, digest: sha(manifest)}
}

async function push(reg: Pick<Registry, 'url' | 'auth'>, repo: string, tag: string, img: ReturnType<typeof tinyImage>) {
  await putBlob(reg, repo, img.layer)
  await putBlob(reg, repo, img.config)
  return putManifest(reg, repo, tag, img.manifest, 'application/vnd.oci.image.manifest.v1+json')
}

function processState(pid: number): string {
  try {
    return execFileSync('ps', ['-o', 'stat=', '-p', String(pid)], {encoding: 'utf8'}).trim()
  } catch {
    return '' // no such process
  }
}

describe('loopback registry (docker-registry)', function () {
  this.timeout(60_000)
  const started: Registry[] = []

  before(async function () {
    if (!(await registryAvailable())) skipWith(this, 'docker-registry not found (install the Debian package "docker-registry")')
  })

  after(async () => {
    await Promise.all(started.map((r) => r.stop()))
  })

  it('serves the v2 API on 127.0.0.1, stores, lists and deletes images', async () => {
    const reg = await startRegistry()
    started.push(reg)
    expect(reg.host).to.match(/^127\.0\.0\.1:\d+$/)
    expect(reg.url).to.equal(`http://${reg.host}`)
    expect(reg.authfile).to.equal(undefined)
    const res = await fetch(`${reg.url}/v2/`)
    expect(res.status).to.equal(200)
    expect(res.headers.get('docker-distribution-api-version')).to.equal('registry/2.0')

    const img = tinyImage({version: '1.2.3', 'io.example': 'yes'})
    const digest = await push(reg, 'ocp/test', 'v1', img)
    expect(digest).to.equal(img.digest)
    expect(await manifestDigest(reg, 'ocp/test', 'v1')).to.equal(img.digest)
    expect(await manifestDigest(reg, 'ocp/test', 'nope')).to.equal(undefined)
    const info = await inspectImage(reg, 'ocp/test', 'v1')
    expect(info.digest).to.equal(img.digest)
    expect(info.mediaType).to.equal('application/vnd.oci.image.manifest.v1+json')
    expect(info.labels).to.deep.equal({version: '1.2.3', 'io.example': 'yes'})
    expect(await listTags(reg, 'ocp/test')).to.deep.equal(['v1'])
    expect(await listTags(reg, 'ocp/none')).to.deep.equal([])
    const fs = await readImageFs(reg, 'ocp/test', img.digest)
    expect(fileText(fs, '/hello.txt')).to.equal('hello\n')

    // delete is enabled
    const del = await fetch(`${reg.url}/v2/ocp/test/manifests/${img.digest}`, {method: 'DELETE'})
    expect(del.status).to.equal(202)
    expect(await manifestDigest(reg, 'ocp/test', 'v1')).to.equal(undefined)
  })

  it('with auth: htpasswd realm, 401 without credentials, and a docker config authfile', async () => {
    const reg = await startRegistry({auth: {user: 'pusher', password: 'secret pass'}})
    started.push(reg)
    const anonymous = await fetch(`${reg.url}/v2/`)
    expect(anonymous.status).to.equal(401)
    expect(anonymous.headers.get('www-authenticate')).to.match(/^Basic realm=/)
    const authed = await fetch(`${reg.url}/v2/`, {
      headers: {authorization: `Basic ${Buffer.from('pusher:secret pass').toString('base64')}`},
    })
    expect(authed.status).to.equal(200)
    const wrong = await fetch(`${reg.url}/v2/`, {headers: {authorization: `Basic ${Buffer.from('pusher:nope').toString('base64')}`}})
    expect(wrong.status).to.equal(401)

    expect(reg.authfile).to.be.a('string')
    const authfile = JSON.parse(await readFile(reg.authfile!, 'utf8'))
    expect(authfile).to.deep.equal({auths: {[reg.host]: {auth: Buffer.from('pusher:secret pass').toString('base64')}}})
    expect(dockerConfigJson(reg.host)).to.equal('{\n  "auths": {}\n}\n')

    const img = tinyImage({a: 'b'})
    expect(await push(reg, 'x/y', 'latest', img)).to.equal(img.digest)
    let error: Error | undefined
    await getManifest({url: reg.url}, 'x/y', 'latest').catch((e) => (error = e))
    expect(error?.message).to.match(/HTTP 401/)
  })

  it('stop() kills and reaps the process and removes its temp dir; a given dir is kept and reusable', async () => {
    const reg = await startRegistry()
    expect(processState(reg.pid)).to.match(/^[SR]/)
    await reg.stop()
    await reg.stop() // idempotent
    expect(processState(reg.pid), 'no process, not even a zombie').to.equal('')
    expect(existsSync(reg.dir)).to.equal(false)
    let refused = false
    await fetch(`${reg.url}/v2/`).catch(() => (refused = true))
    expect(refused).to.equal(true)

    const dir = await mkdtemp(path.join(os.tmpdir(), 'oc-mob-registry-test-'))
    try {
      const first = await startRegistry({dir})
      const img = tinyImage({keep: 'me'})
      await push(first, 'keep/me', 'v1', img)
      await first.stop()
      expect(existsSync(path.join(dir, 'data'))).to.equal(true)
      const second = await startRegistry({dir})
      started.push(second)
      expect(await manifestDigest(second, 'keep/me', 'v1')).to.equal(img.digest)
    } finally {
      await rm(dir, {recursive: true, force: true})
    }
  })

  it('fails clearly when a fixed port is taken, and finds another port by itself', async () => {
    const blocker = net.createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const {port} = blocker.address() as net.AddressInfo
    try {
      let error: Error | undefined
      await startRegistry({port}).catch((e) => (error = e))
      expect(error?.message).to.match(new RegExp(`did not start on 127\\.0\\.0\\.1:${port}`))
      expect(error?.message).to.match(/address already in use/)
      const reg = await startRegistry()
      started.push(reg)
      expect(reg.host).to.not.equal(`127.0.0.1:${port}`)
    } finally {
      blocker.close()
    }
  })

  it('copies an OCI layout byte for byte, so the digest is the same in every registry', async () => {
    const a = await startRegistry()
    const b = await startRegistry({auth: {user: 'u', password: 'p'}})
    started.push(a, b)
    const img = tinyImage({layout: 'yes'})
    const layout = await mkdtemp(path.join(os.tmpdir(), 'oc-mob-layout-'))
    try {
      await mkdir(path.join(layout, 'blobs', 'sha256'), {recursive: true})
      for (const blob of [img.layer, img.config, img.manifest]) {
        await writeFile(path.join(layout, 'blobs', 'sha256', createHash('sha256').update(blob).digest('hex')), blob)
      }
      await writeFile(path.join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}')
      await writeFile(
        path.join(layout, 'index.json'),
        JSON.stringify({
          schemaVersion: 2,
          manifests: [{mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: img.digest, size: img.manifest.length}],
        }),
      )
      expect(await pushOciLayout(a, layout, 'r/one', 'latest')).to.equal(img.digest)
      expect(await pushOciLayout(b, layout, 'r/two', 'v2')).to.equal(img.digest)
      expect((await inspectImage(b, 'r/two', 'v2')).labels).to.deep.equal({layout: 'yes'})
    } finally {
      await rm(layout, {recursive: true, force: true})
    }
  })

  it('parses image references with ports, tags and digests', () => {
    expect(parseReference('127.0.0.1:5000/ocp/rhcos:latest')).to.deep.equal({
      host: '127.0.0.1:5000',
      repo: 'ocp/rhcos',
      tag: 'latest',
      digest: undefined,
    })
    expect(parseReference('localhost:5000/a/b/c@sha256:abc')).to.deep.equal({
      host: 'localhost:5000',
      repo: 'a/b/c',
      tag: undefined,
      digest: 'sha256:abc',
    })
    expect(parseReference('quay.io/x/y:t@sha256:abc')).to.deep.equal({host: 'quay.io', repo: 'x/y', tag: 't', digest: 'sha256:abc'})
    expect(() => parseReference('rhcos')).to.throw(/no registry host/)
  })
})
