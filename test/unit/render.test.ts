import {expect} from 'chai'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {gunzipSync} from 'node:zlib'
import {largeMachineConfig} from '../../bench/render.bench.js'
import {decodeMachineConfig, encodeMachineConfig, goJson} from '../../src/lib/build/dockerfile.js'
import {authfileContent, buildArgs, findOnPath, pushArgs} from '../../src/lib/build/local.js'
import {checkContextDir, CONTEXT_FILES, customDockerfileLocation, unifiedDiff, writeBuildContext} from '../../src/lib/build/render.js'
import {MobError} from '../../src/lib/errors.js'

const b64 = (s: string): string => Buffer.from(s).toString('base64')

async function rejection(p: Promise<unknown>): Promise<MobError> {
  try {
    await p
  } catch (error) {
    if (error instanceof MobError) return error
    throw error
  }

  throw new Error('expected a MobError')
}

describe('unified diff of Dockerfiles', () => {
  it('is empty for equal texts', () => {
    expect(unifiedDiff('a\nb\n', 'a\nb\n', 'x', 'y')).to.equal('')
  })

  it('has ---/+++ headers, hunks with 3 lines of context, and -/+ lines', () => {
    const from = Array.from({length: 20}, (_, i) => `line ${i + 1}`).join('\n') + '\n'
    const to = from.replace('line 10\n', 'line ten\n')
    expect(unifiedDiff(from, to, 'dockerfile-r (live)', 'rendered now')).to.equal(
      [
        '--- dockerfile-r (live)',
        '+++ rendered now',
        '@@ -7,7 +7,7 @@',
        ' line 7',
        ' line 8',
        ' line 9',
        '-line 10',
        '+line ten',
        ' line 11',
        ' line 12',
        ' line 13',
        '',
      ].join('\n'),
    )
  })

  it('shows lines added at the end and a missing final newline', () => {
    const d = unifiedDiff('FROM a\n', 'FROM a\nRUN b', 'old', 'new')
    expect(d.split('\n').slice(2)).to.deep.equal(['@@ -1,1 +1,2 @@', ' FROM a', '+RUN b', '\\ No newline at end of file', ''])
  })
})

describe('build context directories', () => {
  let tmp: string
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-mob-render-unit-'))
  })
  afterEach(() => fs.rmSync(tmp, {force: true, recursive: true}))

  it('accepts a missing or empty directory, refuses a non-empty one unless forced, and a file always', async () => {
    await checkContextDir(path.join(tmp, 'new'))
    await checkContextDir(tmp)
    fs.writeFileSync(path.join(tmp, 'a'), '')
    fs.writeFileSync(path.join(tmp, 'b'), '')
    const e = await rejection(checkContextDir(tmp))
    expect(e.exitCode).to.equal(7)
    expect(e.message).to.equal(`${tmp} is not empty (2 entries); refusing to write the build context into it`)
    await checkContextDir(tmp, {force: true})
    const f = await rejection(checkContextDir(path.join(tmp, 'a'), {force: true}))
    expect(f.message).to.equal(`${path.join(tmp, 'a')} exists and is not a directory`)
  })

  it('with ownOnly, accepts a directory holding only a previous build context', async () => {
    const files = await writeBuildContext(tmp, {dockerfile: 'FROM x\n', encodedMachineConfig: 'H4sI'})
    expect(files).to.deep.equal([
      {bytes: 7, path: path.join(tmp, 'Dockerfile')},
      {bytes: 4, path: path.join(tmp, CONTEXT_FILES.machineConfig)},
    ])
    expect(fs.readFileSync(path.join(tmp, 'machineconfig', 'machineconfig.json.gz'), 'utf8')).to.equal('H4sI')
    await checkContextDir(tmp, {ownOnly: true})
    await rejection(checkContextDir(tmp))
    fs.writeFileSync(path.join(tmp, 'machineconfig', 'extra'), '')
    await rejection(checkContextDir(tmp, {ownOnly: true}))
  })

  it("names where the cluster keeps a pool's custom Dockerfile", () => {
    expect(customDockerfileLocation('layering')).to.equal('on-cluster-build-custom-dockerfile[layering]')
  })
})

describe('local build commands and credentials', () => {
  it('build and push arguments are the same for buildah and podman', () => {
    expect(
      buildArgs({authfile: '/t/pull.json', contextDir: '/t/ctx', iidfile: '/t/iid', tag: 'q.io/o/r:rendered-x', tlsVerify: true}),
    ).to.deep.equal([
      'build',
      '--authfile',
      '/t/pull.json',
      '--tag',
      'q.io/o/r:rendered-x',
      '--file',
      '/t/ctx/Dockerfile',
      '--iidfile',
      '/t/iid',
      '/t/ctx',
    ])
    expect(
      buildArgs({authfile: 'a', contextDir: 'c', iidfile: 'i', isolation: 'chroot', tag: 't', tlsVerify: false}).slice(-4),
    ).to.deep.equal(['--isolation', 'chroot', '--tls-verify=false', 'c'])
    expect(pushArgs({authfile: '/t/push.json', digestfile: '/t/d', tag: 'q.io/o/r:x', tlsVerify: false})).to.deep.equal([
      'push',
      '--authfile',
      '/t/push.json',
      '--digestfile',
      '/t/d',
      '--tls-verify=false',
      'q.io/o/r:x',
      'docker://q.io/o/r:x',
    ])
  })

  it('writes {"auths": …} for both secret types, adding "auth" to username/password entries', () => {
    const json = {
      data: {'.dockerconfigjson': b64(JSON.stringify({auths: {'quay.io': {auth: b64('u:p')}}, credsStore: 'x'}))},
      metadata: {name: 's'},
      type: 'kubernetes.io/dockerconfigjson',
    }
    expect(JSON.parse(authfileContent(json))).to.deep.equal({auths: {'quay.io': {auth: b64('u:p')}}})
    const cfg = {
      data: {'.dockercfg': b64(JSON.stringify({'r.example:5000': {email: 'e', password: 'pw', username: 'me'}}))},
      metadata: {name: 's'},
      type: 'kubernetes.io/dockercfg',
    }
    expect(JSON.parse(authfileContent(cfg))).to.deep.equal({
      auths: {'r.example:5000': {auth: b64('me:pw'), email: 'e', password: 'pw', username: 'me'}},
    })
  })

  it('finds executables on a PATH', async () => {
    expect(await findOnPath('sh', '/nonexistent:/bin:/usr/bin')).to.match(/\/sh$/)
    expect(await findOnPath('no-such-tool-here', '/bin:/usr/bin')).to.equal(undefined)
  })
})

describe("the benchmark's MachineConfig", () => {
  it('is about 900 KiB of varied content that compresses like a real one and round-trips', () => {
    const mc = largeMachineConfig()
    const json = goJson(mc)
    expect(json.length).to.be.within(900 * 1024, 920 * 1024)
    const files = (mc as {spec: {config: {storage: {files: unknown[]}}}}).spec.config.storage.files
    expect(files.length).to.be.above(200)
    const encoded = encodeMachineConfig(mc)
    const gz = Buffer.from(encoded, 'base64')
    // Neither incompressible noise nor zeros: gzip saves between a third and four fifths.
    expect(gz.length / json.length).to.be.within(0.2, 0.67)
    expect(gunzipSync(gz).toString()).to.equal(json)
    expect(decodeMachineConfig(encoded)).to.deep.equal(JSON.parse(json))
  })
})
