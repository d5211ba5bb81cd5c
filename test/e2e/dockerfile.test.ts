import {expect} from 'chai'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {parse} from 'yaml'
import {decodeMachineConfig, encodeMachineConfig, renderDockerfile} from '../../src/lib/build/dockerfile.js'
import {defaultFixturePath, type Emulator} from '../../emulator/index.js'
import {MCO_NS, namespace, pool, run, runBin, startEmulator} from './harness.js'

const MCO_API = 'machineconfiguration.openshift.io/v1'
const R_LAY = 'rendered-layering-5f2c1e0d9b8a7c6d5e4f3a2b1c0d9e8f'
const R_BROKEN = 'rendered-broken-0a1b2c3d4e5f60718293a4b5c6d7e8f9'
const R_WARNED = 'rendered-warned-99887766554433221100ffeeddccbbaa'
const R_PLAIN = 'rendered-plain-00112233445566778899aabbccddeeff'
const CM_PATH = `/api/v1/namespaces/${MCO_NS}/configmaps`

const CUSTOM_OK = [
  '# Tools from an image, then the final stage.',
  'FROM quay.io/example/tools:1.0 AS tools',
  'FROM configs AS final',
  'COPY --from=tools /usr/bin/yq /usr/bin/yq',
  'RUN rpm-ostree install tmux && ostree container commit',
].join('\n')
const CUSTOM_BAD =
  'FROM quay.io/centos/centos:stream9 AS centos\nRUNN dnf install -y epel-release\nFROM configs AS final\nCOPY onlyone\nFROM centos AS late\n'
const CUSTOM_WARN = 'FROM configs AS final\nMAINTAINER admin@example.com\nRUN echo hi\n'

function machineConfig(name: string, files: Array<[string, string]>) {
  return {
    apiVersion: MCO_API,
    kind: 'MachineConfig',
    metadata: {
      annotations: {'machineconfiguration.openshift.io/generated-by-controller-version': '4.14.0'},
      name,
      ownerReferences: [
        {
          apiVersion: MCO_API,
          blockOwnerDeletion: true,
          controller: true,
          kind: 'MachineConfigPool',
          name: name.split('-')[1],
          uid: '5b1f7e3c-0d2a-4c8e-9f61-3a7b2c1d0e9f',
        },
      ],
    },
    spec: {
      config: {
        ignition: {version: '3.4.0'},
        storage: {
          files: files.map(([p, text]) => ({contents: {source: `data:,${encodeURIComponent(text)}`}, mode: 420, overwrite: true, path: p})),
        },
      },
      extensions: [],
      fips: false,
      kernelArguments: [],
      kernelType: 'default',
      osImageURL: '',
    },
  }
}

const layeringMc = machineConfig(R_LAY, [
  ['/etc/motd', 'hello <layered> & welcome\n'],
  ['/etc/sysctl.d/inotify.conf', 'fs.inotify.max_user_watches = 65536\n'],
])

function configMap(name: string, data: Record<string, string>, labels?: Record<string, string>) {
  return {apiVersion: 'v1', data, kind: 'ConfigMap', metadata: {labels, name, namespace: MCO_NS}}
}

describe('oc mob dockerfile and oc mob machineconfig (end to end)', function () {
  this.timeout(120_000)
  let emu: Emulator
  let tmp: string
  let osImage: Record<string, string>

  const expected = (pool: string, rendered: string, customDockerfile?: string): string =>
    renderDockerfile({
      baseImage: osImage.baseOSContainerImage,
      customDockerfile,
      extensionsImage: osImage.baseOSExtensionsContainerImage,
      pool,
      releaseVersion: osImage.releaseVersion,
      renderedConfig: rendered,
    })
  const args = (...a: string[]): string[] => [...a, '--kubeconfig', emu.kubeconfig]
  const writes = (): string[] => emu.requests.filter((q) => q.method !== 'GET').map((q) => `${q.method} ${q.path}`)

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-mob-dockerfile-'))
    // A 4.14/4.15 cluster: it does not serve the MachineOSConfig API.
    emu = await startEmulator({
      fixture: defaultFixturePath(),
      groups: {machineOS: false},
      objects: [
        pool('layering', {layered: true, rendered: R_LAY}),
        pool('broken', {layered: true, rendered: R_BROKEN}),
        pool('warned', {rendered: R_WARNED}),
        pool('plain', {rendered: R_PLAIN}),
        pool('unrendered', {rendered: ''}),
        layeringMc,
        machineConfig(R_BROKEN, [['/etc/broken', 'x\n']]),
        configMap('on-cluster-build-custom-dockerfile', {broken: CUSTOM_BAD, layering: CUSTOM_OK, warned: CUSTOM_WARN, worker: ''}),
        // The build config names secrets that do not exist: rendering must not need them.
        configMap('on-cluster-build-config', {
          baseImagePullSecretName: 'no-such-pull-secret',
          finalImagePullspec: 'quay.io/example/os-image:latest',
          finalImagePushSecretName: 'no-such-push-secret',
          imageBuilderType: 'custom-pod-builder',
        }),
      ],
    })
    osImage = (await emu.request('GET', `${CM_PATH}/machine-config-osimageurl`)).body.data
  })

  after(async () => {
    await emu?.close()
    fs.rmSync(tmp, {force: true, recursive: true})
  })

  beforeEach(() => emu.resetRequests())

  describe('dockerfile', () => {
    it('renders the Dockerfile of the next build byte for byte, custom Dockerfile included, with no secrets set up', async () => {
      const r = await run(args('dockerfile', 'layering'))
      expect(r.exitCode, r.stderr).to.equal(0)
      expect(r.stdout).to.equal(expected('layering', R_LAY, CUSTOM_OK))
      expect(r.stdout).to.include(`LABEL machineconfig=${R_LAY}\n`).and.include('AS extensions\n')
      expect(r.stdout.endsWith(`${CUSTOM_OK}\n\n`)).to.equal(true)
      expect(r.stderr).to.equal('')
      expect(writes()).to.deep.equal([])
    })

    it('renders the template alone when the pool has no entry or an empty one, and says when the pool is not layered', async () => {
      const plain = await run(args('dockerfile', 'plain'))
      expect(plain.exitCode, plain.stderr).to.equal(0)
      expect(plain.stdout).to.equal(expected('plain', R_PLAIN))
      expect(plain.stderr).to.include('pool plain is not opted into on-cluster builds')
      const worker = await run(args('dockerfile', 'worker', '-o', 'json'))
      const json = JSON.parse(worker.stdout)
      expect(json.customDockerfile).to.deep.equal({location: null, origin: 'none', startLine: null})
      expect(json.dockerfile).to.equal(expected('worker', 'rendered-worker-3c273e885e2c53ea2e7ec2155b22757f'))
    })

    it('-o json|yaml give the documented shape', async () => {
      const r = await run(args('dockerfile', 'layering', '-o', 'json'))
      expect(r.exitCode, r.stderr).to.equal(0)
      const j = JSON.parse(r.stdout)
      expect(j).to.include({
        baseImage: osImage.baseOSContainerImage,
        buildState: 'none',
        dockerfile: expected('layering', R_LAY, CUSTOM_OK),
        layered: true,
        liveConfigMap: null,
        pool: 'layering',
        releaseVersion: '4.14.12',
        renderedConfig: R_LAY,
        source: 'rendered',
        tag: `quay.io/example/os-image:${R_LAY}`,
      })
      expect(j.problems).to.deep.equal([])
      expect(j.customDockerfile.origin).to.equal('cluster')
      expect(j.customDockerfile.location).to.equal('on-cluster-build-custom-dockerfile[layering]')
      expect(j.dockerfile.split('\n')[j.customDockerfile.startLine - 1]).to.equal('# Tools from an image, then the final stage.')
      const y = parse((await run(args('dockerfile', 'layering', '-o', 'yaml'))).stdout)
      expect(y.dockerfile).to.equal(j.dockerfile)
    })

    it('shows the Dockerfile, then each problem of the custom Dockerfile with its line on stderr, and exits 7 on errors', async () => {
      const r = await run(args('dockerfile', 'broken'))
      expect(r.exitCode).to.equal(7)
      expect(r.stdout).to.equal(expected('broken', R_BROKEN, CUSTOM_BAD))
      const start = expected('broken', R_BROKEN).split('\n').length
      expect(r.stderr).to.include(
        'error: the custom Dockerfile (on-cluster-build-custom-dockerfile, key broken) has 3 errors; a build would fail on it',
      )
      expect(r.stderr).to.include(`line 2 (Dockerfile line ${start + 1}): error: Unknown instruction: RUNN`)
      expect(r.stderr).to.include(`line 4 (Dockerfile line ${start + 3}): error: COPY requires at least two arguments`)
      expect(r.stderr).to.match(
        /line 5 \(Dockerfile line \d+\): error: the last stage must be `FROM configs AS final` \(it is `FROM centos AS late`; move the stage of line 3 to the end\)/,
      )
      expect(r.stderr).to.include('next: fix it in a local file, check it with `oc mob dockerfile broken --file FILE --check`')
      expect(r.stderr).not.to.match(/\n\s+at /)
      const json = await run(args('dockerfile', 'broken', '-o', 'json'))
      expect(json.exitCode).to.equal(7)
      const j = JSON.parse(json.stdout)
      expect(j.problems.map((p: {line: number; severity: string}) => [p.line, p.severity])).to.deep.equal([
        [2, 'error'],
        [4, 'error'],
        [5, 'error'],
      ])
      expect(j.problems[0]).to.have.keys('line', 'severity', 'message', 'dockerfileLine')
      expect(writes()).to.deep.equal([])
    })

    it('prints warnings on stderr and exits 0 when there are only warnings', async () => {
      const r = await run(args('dockerfile', 'warned'))
      expect(r.exitCode, r.stderr).to.equal(0)
      expect(r.stdout).to.equal(expected('warned', R_WARNED, CUSTOM_WARN))
      expect(r.stderr).to.include('warning: the custom Dockerfile (on-cluster-build-custom-dockerfile, key warned) has 1 warning:')
      expect(r.stderr).to.match(/line 2 \(Dockerfile line \d+\): warning: MAINTAINER has been deprecated/)
    })

    it('--check (alias --validate-only) prints a summary instead of the Dockerfile', async () => {
      const ok = await run(args('dockerfile', 'layering', '--check'))
      expect(ok.exitCode, ok.stderr).to.equal(0)
      expect(ok.stdout.trim()).to.equal('Custom Dockerfile on-cluster-build-custom-dockerfile[layering] for pool layering: no problems.')
      const bad = await run(args('dockerfile', 'broken', '--validate-only'))
      expect(bad.exitCode).to.equal(7)
      expect(bad.stdout.trim()).to.equal(
        'Custom Dockerfile on-cluster-build-custom-dockerfile[broken] for pool broken: 3 errors, 0 warnings.',
      )
      expect(bad.stderr).to.include('  line 2: error: Unknown instruction: RUNN')
      const none = await run(args('dockerfile', 'plain', '--check'))
      expect(none.exitCode).to.equal(0)
      expect(none.stdout).to.include('Pool plain has no custom Dockerfile')
      const both = await run(args('dockerfile', 'layering', '--check', '--diff'))
      expect(both.exitCode).to.equal(2)
    })

    it("--file renders and checks a local custom Dockerfile instead of the cluster's", async () => {
      const good = path.join(tmp, 'good.Dockerfile')
      const local = 'FROM configs AS final\nRUN echo from-a-file > /etc/from-a-file\n'
      fs.writeFileSync(good, local)
      const r = await run(args('dockerfile', 'broken', '--file', good))
      expect(r.exitCode, r.stderr).to.equal(0)
      expect(r.stdout).to.equal(expected('broken', R_BROKEN, local))
      const check = await run(args('dockerfile', 'layering', '-f', good, '--check', '-o', 'json'))
      expect(JSON.parse(check.stdout).customDockerfile).to.include({location: good, origin: 'file'})

      const bad = path.join(tmp, 'bad.Dockerfile')
      fs.writeFileSync(bad, 'FROM configs AS other\nRUN echo\n')
      const b = await run(args('dockerfile', 'layering', '--file', bad))
      expect(b.exitCode).to.equal(7)
      expect(b.stderr).to.include(`error: the custom Dockerfile (${bad}) has 1 error`)
      expect(b.stderr).to.include('line 1 (Dockerfile line')
      expect(b.stderr).to.include(`next: fix ${bad} and check it again: \`oc mob dockerfile layering --file ${bad} --check\``)

      const missing = await run(args('dockerfile', 'layering', '--file', path.join(tmp, 'nope')))
      expect(missing.exitCode).to.equal(2)
      expect(missing.stderr).to.include(`cannot read the custom Dockerfile ${path.join(tmp, 'nope')}: no such file`)
      expect(writes()).to.deep.equal([])
    })

    it('--export writes Dockerfile and machineconfig/machineconfig.json.gz as the build pod sees them', async () => {
      const dir = path.join(tmp, 'ctx')
      const r = await run(args('dockerfile', 'layering', '--export', dir))
      expect(r.exitCode, r.stderr).to.equal(0)
      expect(fs.readFileSync(path.join(dir, 'Dockerfile'), 'utf8')).to.equal(expected('layering', R_LAY, CUSTOM_OK))
      const encoded = fs.readFileSync(path.join(dir, 'machineconfig', 'machineconfig.json.gz'), 'utf8')
      const served = (await emu.request('GET', `/apis/${MCO_API}/machineconfigs/${R_LAY}`)).body
      expect(encoded).to.equal(encodeMachineConfig(served))
      expect(decodeMachineConfig(encoded)).to.deep.equal(served)
      expect(r.stdout).to.include(`Wrote the build context of pool layering (${R_LAY}, rendered now) to ${dir}:`)
      expect(r.stdout).to.match(new RegExp(`${path.join(dir, 'Dockerfile')}\\s+\\d+\\.\\d KiB`))
      expect(r.stdout).to.include(path.join(dir, 'machineconfig', 'machineconfig.json.gz'))
      expect(r.stdout).to.include(`--tag quay.io/example/os-image:${R_LAY} ${dir}`)
      expect(fs.readdirSync(dir).sort()).to.deep.equal(['Dockerfile', 'machineconfig'])
      expect(writes()).to.deep.equal([])
    })

    it('--export refuses a directory that is not empty unless --force, and then touches nothing else', async () => {
      const dir = path.join(tmp, 'busy')
      fs.mkdirSync(dir)
      fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine\n')
      const r = await run(args('dockerfile', 'layering', '--export', dir))
      expect(r.exitCode).to.equal(7)
      expect(r.stderr).to.include(`error: ${dir} is not empty (1 entry); refusing to write the build context into it`)
      expect(r.stderr).to.include('next: give a new or empty directory, or add --force')
      expect(fs.readdirSync(dir)).to.deep.equal(['notes.txt'])
      expect(emu.requests).to.deep.equal([])

      const file = path.join(tmp, 'a-file')
      fs.writeFileSync(file, 'x')
      const f = await run(args('dockerfile', 'layering', '--export', file, '--force'))
      expect(f.exitCode).to.equal(7)
      expect(f.stderr).to.include(`${file} exists and is not a directory`)

      const forced = await run(args('dockerfile', 'layering', '--export', dir, '--force', '-o', 'json'))
      expect(forced.exitCode, forced.stderr).to.equal(0)
      expect(fs.readdirSync(dir).sort()).to.deep.equal(['Dockerfile', 'machineconfig', 'notes.txt'])
      expect(fs.readFileSync(path.join(dir, 'notes.txt'), 'utf8')).to.equal('mine\n')
      const j = JSON.parse(forced.stdout)
      expect(j.exported).to.include({dir, fitsConfigMap: true, machineConfigSource: 'rendered'})
      expect(j.exported.files.map((x: {path: string}) => x.path)).to.deep.equal([
        path.join(dir, 'Dockerfile'),
        path.join(dir, 'machineconfig', 'machineconfig.json.gz'),
      ])
      const noForce = await run(args('dockerfile', 'layering', '--force'))
      expect(noForce.exitCode).to.equal(2)
    })

    it('--export still writes the context of a custom Dockerfile with errors (to debug it), then exits 7', async () => {
      const dir = path.join(tmp, 'broken-ctx')
      const r = await run(args('dockerfile', 'broken', '--export', dir))
      expect(r.exitCode).to.equal(7)
      expect(fs.readFileSync(path.join(dir, 'Dockerfile'), 'utf8')).to.equal(expected('broken', R_BROKEN, CUSTOM_BAD))
      expect(r.stdout).to.include(`Wrote the build context of pool broken`)
      expect(r.stderr).to.include('has 3 errors')
    })

    it('--export fails with exit 6 and writes nothing when the rendered MachineConfig is missing', async () => {
      const dir = path.join(tmp, 'warned-ctx')
      const r = await run(args('dockerfile', 'warned', '--export', dir))
      expect(r.exitCode).to.equal(6)
      expect(r.stderr).to.include(`the rendered MachineConfig ${R_WARNED} of pool warned does not exist`)
      expect(fs.existsSync(dir)).to.equal(false)
    })

    describe('while a build is under way', () => {
      const live = (): string =>
        expected('layering', R_LAY, CUSTOM_OK).replace('LABEL releaseversion=4.14.12', 'LABEL releaseversion=4.14.11')
      const liveMc = {...layeringMc, metadata: {...layeringMc.metadata, annotations: {note: 'the copy the build uses'}}}

      before(async () => {
        const labels = {
          'machineconfiguration.openshift.io/buildPod': '',
          'machineconfiguration.openshift.io/desiredConfig': R_LAY,
          'machineconfiguration.openshift.io/targetMachineConfigPool': 'layering',
        }
        expect((await emu.request('POST', CM_PATH, configMap(`dockerfile-${R_LAY}`, {Dockerfile: live()}, labels))).status).to.equal(201)
        expect(
          (await emu.request('POST', CM_PATH, configMap(`mc-${R_LAY}`, {'machineconfig.json.gz': encodeMachineConfig(liveMc)}, labels)))
            .status,
        ).to.equal(201)
        expect(
          (await emu.request('POST', CM_PATH, configMap(`mc-${R_BROKEN}`, {'machineconfig.json.gz': 'bm90IGd6aXA='}, labels))).status,
        ).to.equal(201)
      })

      after(async () => {
        for (const n of [`dockerfile-${R_LAY}`, `mc-${R_LAY}`, `mc-${R_BROKEN}`]) await emu.request('DELETE', `${CM_PATH}/${n}`)
      })

      it("shows the build's own copy from dockerfile-<rendered> and says so on stderr", async () => {
        const r = await run(args('dockerfile', 'layering'))
        expect(r.exitCode, r.stderr).to.equal(0)
        expect(r.stdout).to.equal(live())
        expect(r.stderr).to.include(
          `note: a build of ${R_LAY} is under way: showing its own copy from ConfigMap dockerfile-${R_LAY}; it differs from a fresh render (--diff shows how, --fresh shows the fresh render)`,
        )
        const j = JSON.parse((await run(args('dockerfile', 'layering', '-o', 'json'))).stdout)
        expect(j).to.include({liveConfigMap: `dockerfile-${R_LAY}`, liveMatchesRender: false, source: 'live'})
        const fresh = await run(args('dockerfile', 'layering', '--fresh'))
        expect(fresh.stdout).to.equal(expected('layering', R_LAY, CUSTOM_OK))
        expect(fresh.stderr).to.equal('')
        const fj = JSON.parse((await run(args('dockerfile', 'layering', '--fresh', '-o', 'json'))).stdout)
        expect(fj).to.include({liveConfigMap: `dockerfile-${R_LAY}`, source: 'rendered'})
      })

      it('--diff shows a unified diff of the live copy against a fresh render (exit 0)', async () => {
        const r = await run(args('dockerfile', 'layering', '--diff'))
        expect(r.exitCode, r.stderr).to.equal(0)
        const lines = r.stdout.split('\n')
        expect(lines.slice(0, 2)).to.deep.equal([`--- dockerfile-${R_LAY} (live)`, '+++ rendered now'])
        expect(lines[2]).to.match(/^@@ -\d+,7 \+\d+,7 @@$/)
        expect(lines.filter((l) => /^[+-][^+-]/.test(l))).to.deep.equal(['-LABEL releaseversion=4.14.11', '+LABEL releaseversion=4.14.12'])
        const j = JSON.parse((await run(args('dockerfile', 'layering', '--diff', '-o', 'json'))).stdout)
        expect(j.diff).to.include({from: `dockerfile-${R_LAY} (live)`, identical: false, to: 'rendered now'})
        expect(j.diff.text).to.equal(r.stdout)
        expect(writes()).to.deep.equal([])
      })

      it("--diff with --file compares the build's copy with a render using the file", async () => {
        const file = path.join(tmp, 'diff.Dockerfile')
        fs.writeFileSync(file, CUSTOM_OK.replace('tmux', 'tmux htop'))
        const r = await run(args('dockerfile', 'layering', '--diff', '--file', file))
        expect(r.exitCode, r.stderr).to.equal(0)
        expect(r.stdout).to.include(`+++ rendered now with ${file}`)
        expect(r.stdout).to.include('+RUN rpm-ostree install tmux htop && ostree container commit')
      })

      it("--export writes the build's own copies (mc-<rendered> verbatim)", async () => {
        const dir = path.join(tmp, 'live-ctx')
        const r = await run(args('dockerfile', 'layering', '--export', dir, '-o', 'json'))
        expect(r.exitCode, r.stderr).to.equal(0)
        expect(fs.readFileSync(path.join(dir, 'Dockerfile'), 'utf8')).to.equal(live())
        expect(fs.readFileSync(path.join(dir, 'machineconfig', 'machineconfig.json.gz'), 'utf8')).to.equal(encodeMachineConfig(liveMc))
        expect(JSON.parse(r.stdout).exported.machineConfigSource).to.equal('live')
      })

      it('machineconfig decodes the MachineConfig from mc-<rendered> and says so', async () => {
        const r = await run(args('machineconfig', 'layering'))
        expect(r.exitCode, r.stderr).to.equal(0)
        expect(JSON.parse(r.stdout)).to.deep.equal(liveMc)
        expect(r.stderr).to.include(`note: a build of ${R_LAY} is under way: decoded from ConfigMap mc-${R_LAY}`)
      })

      it('machineconfig refuses an mc-<rendered> that is not an encoded MachineConfig (exit 7)', async () => {
        const r = await run(args('mc', 'broken'))
        expect(r.exitCode).to.equal(7)
        expect(r.stderr).to.include(
          `error: ConfigMap mc-${R_BROKEN} in ${MCO_NS}: its machineconfig.json.gz is not a base64-encoded gzipped MachineConfig`,
        )
        expect(r.stderr).to.include('next: ')
      })
    })

    it('--diff without a build under way exits 6 and says there is nothing to compare', async () => {
      const r = await run(args('dockerfile', 'layering', '--diff'))
      expect(r.exitCode).to.equal(6)
      expect(r.stderr).to.include(`no build of pool layering is under way: ConfigMap dockerfile-${R_LAY} does not exist`)
      expect(r.stderr).to.include('next: `oc mob dockerfile layering` shows the Dockerfile the next build')
    })

    it('names the pools when the pool does not exist (6), and refuses a pool without a rendered config (7)', async () => {
      const r = await run(args('dockerfile', 'nope'))
      expect(r.exitCode).to.equal(6)
      expect(r.stderr).to.include('pool nope not found; pools are: broken, layering, master, plain, unrendered, warned, worker')
      const u = await run(args('dockerfile', 'unrendered'))
      expect(u.exitCode).to.equal(7)
      expect(u.stderr).to.include('pool unrendered has no rendered MachineConfig yet')
      expect(writes()).to.deep.equal([])
    })

    it('runs as a separate process with a byte-exact Dockerfile on stdout', async () => {
      const r = await runBin(args('dockerfile', 'layering'))
      expect(r.exitCode, r.stderr).to.equal(0)
      // execa drops the final newline; everything before it is the Dockerfile.
      expect(r.stdout + '\n').to.equal(expected('layering', R_LAY, CUSTOM_OK))
    })
  })

  describe('machineconfig', () => {
    it("prints the pool's rendered MachineConfig as indented JSON by default", async () => {
      const r = await run(args('machineconfig', 'layering'))
      expect(r.exitCode, r.stderr).to.equal(0)
      const served = (await emu.request('GET', `/apis/${MCO_API}/machineconfigs/${R_LAY}`)).body
      expect(JSON.parse(r.stdout)).to.deep.equal(served)
      expect(r.stdout.trim()).to.equal(JSON.stringify(served, null, 2))
      expect(r.stderr).to.equal('')
      const j = await run(args('mc', 'layering', '-o', 'json'))
      expect(JSON.parse(j.stdout)).to.deep.equal(served)
    })

    it('-o yaml and --config-only', async () => {
      const y = await run(args('mc', 'layering', '-o', 'yaml'))
      expect(parse(y.stdout).metadata.name).to.equal(R_LAY)
      const c = await run(args('mc', 'layering', '--config-only'))
      expect(JSON.parse(c.stdout)).to.deep.equal(layeringMc.spec.config)
    })

    it('exits 6 for a missing pool or rendered MachineConfig, and changes nothing', async () => {
      const p = await run(args('mc', 'nope'))
      expect(p.exitCode).to.equal(6)
      expect(p.stderr).to.include('pool nope not found')
      const m = await run(args('mc', 'warned'))
      expect(m.exitCode).to.equal(6)
      expect(m.stderr).to.include(`the rendered MachineConfig ${R_WARNED} of pool warned does not exist`)
      expect(writes()).to.deep.equal([])
    })
  })

  it('exits 6 naming machine-config-osimageurl when the release ConfigMap is missing', async () => {
    const bare = await startEmulator({
      groups: {machineOS: false},
      objects: [namespace(MCO_NS), pool('layering', {layered: true, rendered: R_LAY})],
    })
    try {
      const r = await run(['dockerfile', 'layering', '--kubeconfig', bare.kubeconfig])
      expect(r.exitCode).to.equal(6)
      expect(r.stderr).to.include('machine-config-osimageurl')
    } finally {
      await bare.close()
    }
  })
})
