import {expect} from 'chai'
import {execa} from 'execa'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import {parse, stringify} from 'yaml'
import type {Emulator} from '../../emulator/index.js'
import {basicCluster, cliPath, MCO_NS, node, pool, run, runBin, STATUS_JSON_KEYS, startEmulator} from './harness.js'

const ESC = '\u001B['

describe('oc mob status (end to end)', function () {
  this.timeout(120_000)
  let emu: Emulator
  let tmp: string

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-mob-status-'))
    emu = await startEmulator({
      objects: [
        ...basicCluster(),
        pool('layering', {
          conditions: [
            ['BuildFailed', 'True', 'BuildFailed', 'Failed to build configuration for pool layering: build failed'],
            ['Degraded', 'True'],
          ],
          counts: [1, 0],
          image: 'quay.io/org/os@sha256:' + 'c'.repeat(64),
          layered: true,
        }),
        node('worker-1', ['worker', 'layering'], {
          'machineconfiguration.openshift.io/currentConfig': 'rendered-worker-0123456789abcdef0123456789abcdef',
          'machineconfiguration.openshift.io/currentImage': 'quay.io/org/os@sha256:' + 'c'.repeat(64),
          'machineconfiguration.openshift.io/desiredConfig': 'rendered-layering-0123456789abcdef0123456789abcdef',
          'machineconfiguration.openshift.io/desiredImage': 'quay.io/org/os@sha256:' + 'c'.repeat(64),
          'machineconfiguration.openshift.io/state': 'Working',
        }),
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: {name: 'machine-os-builder', namespace: MCO_NS},
          spec: {
            replicas: 1,
            selector: {matchLabels: {'k8s-app': 'machine-os-builder'}},
            template: {
              metadata: {labels: {'k8s-app': 'machine-os-builder'}},
              spec: {containers: [{image: 'mco', name: 'machine-os-builder'}]},
            },
          },
        },
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {labels: {'k8s-app': 'machine-os-builder'}, name: 'machine-os-builder-6d5f7b-abcde', namespace: MCO_NS},
          spec: {containers: [{image: 'mco', name: 'machine-os-builder'}]},
          status: {conditions: [{status: 'True', type: 'Ready'}], phase: 'Running'},
        },
      ],
      restricted: [{rules: [{resources: ['nodes'], verbs: ['get', 'list', 'watch']}], token: 'no-pools-token', user: 'nopools'}],
    })
  })

  after(async () => {
    await emu?.close()
    fs.rmSync(tmp, {force: true, recursive: true})
  })

  it('lists every pool with layering, build state, image and node counts, and the machine-os-builder', async () => {
    const r = await run(['status', '--kubeconfig', emu.kubeconfig])
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stdout).to.include(`Cluster: ${emu.url}`)
    expect(r.stdout).to.match(/machine-os-builder: running \(machine-os-builder-6d5f7b-abcde\)/)
    const rows = r.stdout.split('\n')
    const header = rows.find((l) => l.startsWith('POOL'))!
    expect(header).to.match(
      /^POOL\s+LAYERED\s+BUILDER\s+BUILD\s+RENDERED CONFIG\s+IMAGE\s+MATCHES\s+UPDATED\s+UPDATING\s+DEGRADED\s+STATE$/,
    )
    const layering = rows.find((l) => l.startsWith('layering '))!
    expect(layering).to.match(
      /^layering\s+yes\s+-\s+failed \(\d+s\)\s+rendered-layering-0123456789abcdef0123456789abcdef\s+os@sha256:cccccccccccc\s+unknown\s+0\/1\s+1\s+0\s+Degraded$/,
    )
    expect(rows.find((l) => l.startsWith('master '))).to.match(
      /^master\s+no\s+-\s+-\s+rendered-master-\S+\s+-\s+-\s+1\/1\s+0\s+0\s+Updated$/,
    )
    expect(r.stdout).to.include('Build for pool layering failed: Failed to build configuration for pool layering: build failed')
  })

  it('takes its pool from the command line only: piped input is not a pool name', async () => {
    const r = await execa(process.execPath, [cliPath(), 'status', '--kubeconfig', emu.kubeconfig], {
      env: {NO_COLOR: '1'},
      input: 'nosuch\n',
      reject: false,
    })
    expect(r.exitCode, String(r.stderr)).to.equal(0)
    expect(String(r.stdout))
      .to.match(/^layering /m)
      .and.match(/^worker /m)
    expect(String(r.stderr)).not.to.include('nosuch')
  })

  it('-o wide: the same table with every image reference in full', async () => {
    const r = await run(['status', '--kubeconfig', emu.kubeconfig, '-o', 'wide'])
    expect(r.exitCode, r.stderr).to.equal(0)
    const layering = r.stdout.split('\n').find((l) => l.startsWith('layering '))!
    expect(layering).to.match(/\squay\.io\/org\/os@sha256:c{64}\s+unknown\s/)
  })

  it('-o json gives the documented, parseable shape', async () => {
    const r = await run(['status', '--kubeconfig', emu.kubeconfig, '-o', 'json'])
    expect(r.exitCode, r.stderr).to.equal(0)
    const s = JSON.parse(r.stdout)
    expect(Object.keys(s)).to.deep.equal(STATUS_JSON_KEYS)
    expect(s.machineOSConfigApi, 'the emulator serves the MachineOSConfig API unless told not to').to.equal(true)
    expect(s.machineOSBuilder).to.deep.equal({
      deployed: true,
      expected: true,
      operator: null,
      pods: [{name: 'machine-os-builder-6d5f7b-abcde', phase: 'Running', ready: true, reason: null, restarts: 0}],
      restarts: 0,
      running: true,
    })
    const layering = s.pools.find((p: {name: string}) => p.name === 'layering')
    expect(layering).to.deep.include({
      currentConfig: 'rendered-layering-0123456789abcdef0123456789abcdef',
      degraded: true,
      image: 'quay.io/org/os@sha256:' + 'c'.repeat(64),
      layered: true,
      paused: false,
      renderedConfig: 'rendered-layering-0123456789abcdef0123456789abcdef',
    })
    expect(layering.build).to.include({
      message: 'Failed to build configuration for pool layering: build failed',
      reason: 'BuildFailed',
      state: 'failed',
    })
    expect(layering.nodes).to.deep.equal({degraded: 0, ready: 0, total: 1, unavailable: 0, updated: 0, updating: 1})
    expect(s.pools.map((p: {name: string}) => p.name)).to.deep.equal(['layering', 'master', 'worker'])
  })

  it('-o yaml too', async () => {
    const r = await run(['status', '--kubeconfig', emu.kubeconfig, '-o', 'yaml'])
    expect(parse(r.stdout).pools).to.have.length(3)
  })

  it('status POOL adds a row per node of that pool with configs, images and daemon state', async () => {
    const r = await run(['status', 'layering', '--kubeconfig', emu.kubeconfig])
    expect(r.exitCode, r.stderr).to.equal(0)
    const line = r.stdout.split('\n').find((l) => l.startsWith('worker-1 '))!
    expect(line).to.match(/^worker-1\s+Working\s+Ready\s+rendered-layering-\S+\s+rendered-worker-\S+\s+os@sha256:cccccccccccc\s+=$/)
    expect(r.stdout).not.to.match(/^worker-0/m)
    const json = JSON.parse((await run(['status', 'layering', '--kubeconfig', emu.kubeconfig, '-o', 'json'])).stdout)
    expect(json.pools).to.have.length(1)
    expect(json.nodes).to.deep.equal([
      {
        currentConfig: 'rendered-worker-0123456789abcdef0123456789abcdef',
        currentImage: 'quay.io/org/os@sha256:' + 'c'.repeat(64),
        desiredConfig: 'rendered-layering-0123456789abcdef0123456789abcdef',
        desiredImage: 'quay.io/org/os@sha256:' + 'c'.repeat(64),
        name: 'worker-1',
        pool: 'layering',
        reason: null,
        ready: true,
        schedulable: true,
        state: 'Working',
      },
    ])
  })

  it('uses one list request per kind, however many nodes there are', async () => {
    emu.resetRequests()
    await run(['status', 'worker', '--kubeconfig', emu.kubeconfig, '-o', 'json'])
    const paths = emu.requests.map((q) => `${q.method} ${q.path}`)
    expect(paths.filter((p) => p.endsWith('/nodes'))).to.have.length(1)
    expect(paths.filter((p) => /\/nodes\/[^/]+$/.test(p))).to.have.length(0)
    expect(paths.filter((p) => p.endsWith('/machineconfigpools'))).to.have.length(1)
  })

  it('names the existing pools when the pool does not exist (exit 6)', async () => {
    const r = await run(['status', 'nope', '--kubeconfig', emu.kubeconfig])
    expect(r.exitCode).to.equal(6)
    expect(r.stderr).to.include('error: pool nope not found; pools are: layering, master, worker')
    expect(r.stderr).to.include('next:')
    expect(r.stderr).not.to.match(/\n\s+at /)
  })

  it('explains rejected credentials (401, exit 5)', async () => {
    const r = await run(['status', '--kubeconfig', emu.kubeconfigFor('bad-token')])
    expect(r.exitCode).to.equal(5)
    expect(r.stderr).to.include(`the cluster at ${emu.url} rejected the credentials`)
    expect(r.stderr).to.include('oc login')
  })

  it('explains a denied verb and that cluster-admin is needed (403, exit 5)', async () => {
    const r = await run(['status', '--kubeconfig', emu.kubeconfigFor('nopools')])
    expect(r.exitCode).to.equal(5)
    expect(r.stderr).to.include(
      'permission denied: machineconfigpools.machineconfiguration.openshift.io is forbidden: User "nopools" cannot list resource "machineconfigpools" in API group "machineconfiguration.openshift.io" at the cluster scope',
    )
    expect(r.stderr).to.include('cluster-admin')
  })

  it('names the server and the cause when it cannot be reached (exit 4)', async () => {
    const port = await freePort()
    const kc = rewriteServer(emu.kubeconfig, `https://127.0.0.1:${port}`, tmp, 'down')
    const r = await run(['status', '--kubeconfig', kc])
    expect(r.exitCode).to.equal(4)
    expect(r.stderr).to.include(`cannot reach the cluster at https://127.0.0.1:${port}: connection refused`)
  })

  it('reports a certificate that the kubeconfig CA does not trust as a TLS error (exit 4)', async () => {
    const other = await startEmulator({objects: basicCluster()})
    try {
      const kc = parse(fs.readFileSync(emu.kubeconfig, 'utf8'))
      kc.clusters[0].cluster['certificate-authority-data'] = Buffer.from(other.caPem).toString('base64')
      const file = path.join(tmp, 'bad-ca')
      fs.writeFileSync(file, stringify(kc))
      const r = await run(['status', '--kubeconfig', file])
      expect(r.exitCode).to.equal(4)
      expect(r.stderr).to.match(new RegExp(`TLS verification of ${emu.url.replaceAll('.', '\\.')} failed`))
      expect(r.stderr).to.include('certificate-authority')
    } finally {
      await other.close()
    }
  })

  it('accepts a self-signed server only when the kubeconfig says insecure-skip-tls-verify', async () => {
    const r = await run(['status', '--kubeconfig', emu.kubeconfigFor('insecure'), '-o', 'json'])
    expect(r.exitCode, r.stderr).to.equal(0)
  })

  it('authenticates with a client certificate', async () => {
    const r = await run(['status', '--kubeconfig', emu.kubeconfigFor('cert'), '-o', 'json'])
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(emu.requests.at(-1)!.user).to.equal('admin')
  })

  it('refuses a client key that does not go with its certificate before connecting (exit 5)', async () => {
    const kc = parse(fs.readFileSync(emu.kubeconfigFor('cert'), 'utf8'))
    const other = parse(fs.readFileSync(emu.kubeconfig, 'utf8'))
    // The CA certificate in place of the client certificate: a valid certificate, not the key's.
    kc.users[0].user['client-certificate-data'] = other.clusters[0].cluster['certificate-authority-data']
    const file = path.join(tmp, 'mismatched-key')
    fs.writeFileSync(file, stringify(kc))
    const before = emu.requests.length
    const r = await run(['status', '--kubeconfig', file])
    expect(r.exitCode).to.equal(5)
    expect(r.stderr).to.include(`the TLS material of context "${kc['current-context']}" is not usable`)
    expect(r.stderr).to.include('client-key')
    expect(emu.requests.length, 'nothing was sent').to.equal(before)
  })

  it('fails clearly for a missing kubeconfig file and an unknown context (exit 3)', async () => {
    const missing = await run(['status', '--kubeconfig', path.join(tmp, 'missing')])
    expect(missing.exitCode).to.equal(3)
    expect(missing.stderr).to.include(`cannot read kubeconfig ${path.join(tmp, 'missing')}: ENOENT`)
    const ctx = await run(['status', '--kubeconfig', emu.kubeconfig, '--context', 'nope'])
    expect(ctx.exitCode).to.equal(3)
    expect(ctx.stderr).to.include('context "nope" not found in kubeconfig')
  })

  it('honours KUBECONFIG with several files like oc: first current-context wins, --context reaches the others', async () => {
    const bad = rewriteServer(emu.kubeconfigFor('bad-token'), emu.url, tmp, 'second', 'second')
    const env = {HOME: tmp, KUBECONFIG: [path.join(tmp, 'does-not-exist'), emu.kubeconfig, bad].join(path.delimiter)}
    const ok = await runBin(['status', '-o', 'json'], env)
    expect(ok.exitCode, ok.stderr).to.equal(0)
    expect(JSON.parse(ok.stdout).context).to.equal('emulator')
    const second = await runBin(['status', '--context', 'second'], env)
    expect(second.exitCode).to.equal(5)
    const none = await runBin(['status'], {HOME: tmp, KUBECONFIG: ''})
    expect(none.exitCode).to.equal(3)
    expect(none.stderr).to.include('no cluster configured')
    expect(none.stderr).to.include('oc login')
  })

  it('--debug shows the HTTP requests made; without it no stack trace is ever printed', async () => {
    const r = await runBin(['status', '--kubeconfig', emu.kubeconfig, '--debug'])
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stderr).to.match(
      /debug: GET https:\/\/127\.0\.0\.1:\d+\/apis\/machineconfiguration\.openshift\.io\/v1\/machineconfigpools\?limit=500 200 in \d+ms/,
    )
    const failing = await runBin(['status', 'nope', '--kubeconfig', emu.kubeconfig])
    expect(failing.stderr).not.to.match(/\bat .*\.(ts|js):\d+/)
    const debugFailing = await runBin(['status', 'nope', '--kubeconfig', emu.kubeconfig, '--debug'])
    expect(debugFailing.stderr).to.match(/at .*\.(ts|js):\d+/)
  })

  it('prints no colour when stdout is not a terminal or NO_COLOR is set, and colour on a terminal', async function () {
    const plain = await runBin(['status', '--kubeconfig', emu.kubeconfig])
    expect(plain.stdout).not.to.include(ESC)
    expect(plain.stderr).not.to.include(ESC)
    // A pseudo-terminal through util-linux `script`, to see what a person sees.
    const script = await execa('sh', ['-c', 'command -v script'], {reject: false})
    if (script.exitCode !== 0) this.skip()
    const cmd = `${process.execPath} ${cliPath()} status --kubeconfig ${emu.kubeconfig}`
    const tty = await execa('script', ['-qec', cmd, '/dev/null'], {env: {NO_COLOR: undefined}, extendEnv: true, reject: false})
    expect(String(tty.stdout)).to.include(ESC)
    const noColor = await execa('script', ['-qec', cmd, '/dev/null'], {env: {NO_COLOR: '1'}, extendEnv: true, reject: false})
    expect(String(noColor.stdout)).to.include('layering')
    expect(String(noColor.stdout)).not.to.include(ESC)
  })
})

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const {port} = srv.address() as net.AddressInfo
      srv.close(() => resolve(port))
    })
  })
}

function rewriteServer(kubeconfig: string, server: string, dir: string, file: string, rename?: string): string {
  const kc = parse(fs.readFileSync(kubeconfig, 'utf8'))
  kc.clusters[0].cluster.server = server
  if (rename) {
    kc.clusters[0].name = rename
    kc.users[0].name = rename
    kc.contexts[0].name = rename
    kc.contexts[0].context.cluster = rename
    kc.contexts[0].context.user = rename
    kc['current-context'] = rename
  }

  const out = path.join(dir, file)
  fs.writeFileSync(out, stringify(kc))
  return out
}
