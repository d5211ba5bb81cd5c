import {expect} from 'chai'
import {execFile, spawn} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {startEmulator, startFakeKubelet, type Emulator, type FakeKubelet} from './index.js'

const KUBECTL = '/usr/bin/kubectl'

describe('emulator: the real kubectl against it', function () {
  this.timeout(30_000)
  let em: Emulator
  let kubelet: FakeKubelet
  let home: string

  const kubectl = (args: string[], kubeconfig = em.kubeconfig): Promise<{code: number; stdout: string; stderr: string}> =>
    new Promise((resolve) => {
      execFile(
        KUBECTL,
        ['--kubeconfig', kubeconfig, ...args],
        {env: {...process.env, HOME: home, KUBECONFIG: ''}, timeout: 20_000},
        (err, stdout, stderr) => {
          resolve({code: err ? ((err as any).code ?? 1) : 0, stdout, stderr})
        },
      )
    })

  before(async function () {
    if (!existsSync(KUBECTL)) {
      this.skip() // no kubectl on this machine: these checks need the real client
    }
    home = mkdtempSync(join(tmpdir(), 'kubectl-home-'))
    kubelet = await startFakeKubelet()
    em = await startEmulator({
      objects: [
        kubelet.nodeObject('node-1'),
        {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'openshift-machine-config-operator'}},
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: {name: 'on-cluster-build-config', namespace: 'openshift-machine-config-operator', labels: {app: 'ocb'}},
          data: {finalImagePullspec: 'quay.io/x/y:latest'},
        },
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: {name: 'other', namespace: 'openshift-machine-config-operator', labels: {app: 'else'}},
          data: {},
        },
        {
          apiVersion: 'machineconfiguration.openshift.io/v1',
          kind: 'MachineConfigPool',
          metadata: {name: 'worker'},
          spec: {paused: false},
          status: {configuration: {name: 'rendered-worker-1'}, machineCount: 2, conditions: [{type: 'Updated', status: 'True'}]},
        },
        {
          apiVersion: 'machineconfiguration.openshift.io/v1',
          kind: 'MachineConfigPool',
          metadata: {name: 'layering'},
          spec: {paused: false},
        },
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {name: 'build-rendered-layering-1', namespace: 'openshift-machine-config-operator'},
          spec: {nodeName: 'node-1', containers: [{name: 'image-build', image: 'quay.io/buildah/stable:latest'}]},
          status: {phase: 'Running'},
        },
      ],
    })
    kubelet.setLog(
      'openshift-machine-config-operator',
      'build-rendered-layering-1',
      'image-build',
      'STEP 1/5: FROM quay.io/base\nSTEP 2/5: RUN true\n',
    )
  })
  after(async () => {
    await em?.close()
    await kubelet?.close()
    if (home) rmSync(home, {recursive: true, force: true})
  })

  it('gets and lists with label selectors, -o json, and short names with printer columns', async () => {
    const ns = ['-n', 'openshift-machine-config-operator']
    const list = await kubectl(['get', 'configmaps', ...ns, '-l', 'app=ocb'])
    expect(list.stderr).to.equal('')
    expect(list.code).to.equal(0)
    expect(list.stdout).to.match(/^NAME\s+DATA\s+AGE\n/)
    expect(list.stdout).to.match(/\non-cluster-build-config\s+1\s+\d+s\n$/)
    const json = await kubectl(['get', 'configmap', 'on-cluster-build-config', ...ns, '-o', 'json'])
    expect(JSON.parse(json.stdout).data.finalImagePullspec).to.equal('quay.io/x/y:latest')
    const jl = await kubectl(['get', 'cm', ...ns, '-l', 'app in (ocb,else)', '-o', 'json'])
    expect(JSON.parse(jl.stdout).items.map((i: any) => i.metadata.name)).to.deep.equal(['on-cluster-build-config', 'other'])
    const mcp = await kubectl(['get', 'mcp'])
    expect(mcp.code).to.equal(0)
    expect(mcp.stdout.split('\n')[0]).to.match(
      /^NAME\s+CONFIG\s+UPDATED\s+UPDATING\s+DEGRADED\s+MACHINECOUNT\s+READYMACHINECOUNT\s+UPDATEDMACHINECOUNT\s+DEGRADEDMACHINECOUNT\s+AGE$/,
    )
    expect(mcp.stdout).to.match(/\nworker\s+rendered-worker-1\s+True\s+2\s+\d+s\n/)
    const name = await kubectl(['get', 'mcp', '-o', 'name'])
    expect(name.stdout).to.equal(
      'machineconfigpool.machineconfiguration.openshift.io/layering\nmachineconfigpool.machineconfiguration.openshift.io/worker\n',
    )
    const missing = await kubectl(['get', 'mcp', 'nope'])
    expect(missing.code).to.not.equal(0)
    expect(missing.stderr).to.contain('Error from server (NotFound): machineconfigpools.machineconfiguration.openshift.io "nope" not found')
    const nodes = await kubectl(['get', 'nodes'])
    expect(nodes.stdout).to.match(/\nnode-1\s+Ready\s+worker\s+\d+s\s+v1\.27\.16\+openshift\n/)
  })

  it('watches with --watch (a couple of events), then is killed', async () => {
    const child = spawn(KUBECTL, ['--kubeconfig', em.kubeconfig, 'get', 'mcp', '--watch', '--output-watch-events'], {
      env: {...process.env, HOME: home, KUBECONFIG: ''},
    })
    let out = ''
    child.stdout.on('data', (c) => {
      out += c
    })
    child.stderr.on('data', (c) => {
      out += c
    })
    const waitFor = async (re: RegExp) => {
      for (let i = 0; i < 200 && !re.test(out); i++) await new Promise((r) => setTimeout(r, 25))
      expect(out).to.match(re)
    }
    try {
      await waitFor(/ADDED\s+worker/)
      await em.request(
        'PATCH',
        '/apis/machineconfiguration.openshift.io/v1/machineconfigpools/layering',
        {metadata: {labels: {w: '1'}}},
        {'Content-Type': 'application/merge-patch+json'},
      )
      await waitFor(/MODIFIED\s+layering/)
    } finally {
      child.kill('SIGTERM')
    }
    await new Promise((r) => child.once('exit', r))
  })

  it('patches a pool with --type merge, and shows the 415 for the default strategic patch', async () => {
    const ok = await kubectl([
      'patch',
      'mcp',
      'layering',
      '--type',
      'merge',
      '-p',
      '{"metadata":{"labels":{"machineconfiguration.openshift.io/layering-enabled":""}}}',
    ])
    expect(ok.stderr).to.equal('')
    expect(ok.stdout).to.equal('machineconfigpool.machineconfiguration.openshift.io/layering patched\n')
    const got = await em.request('GET', '/apis/machineconfiguration.openshift.io/v1/machineconfigpools/layering')
    expect(got.body.metadata.labels).to.have.property('machineconfiguration.openshift.io/layering-enabled', '')
    const smp = await kubectl(['patch', 'mcp', 'layering', '-p', '{"spec":{"paused":true}}'])
    expect(smp.code).to.not.equal(0)
    expect(smp.stderr).to.contain(
      'application/strategic-merge-patch+json is not supported by machineconfiguration.openshift.io/v1, Kind=MachineConfigPool: the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
    )
    const label = await kubectl(['label', 'mcp', 'worker', 'x=y'])
    expect(label.stdout).to.equal('machineconfigpool.machineconfiguration.openshift.io/worker labeled\n')
    const cmPatch = await kubectl(['patch', 'configmap', 'other', '-n', 'openshift-machine-config-operator', '-p', '{"data":{"k":"v"}}'])
    expect(cmPatch.stdout).to.equal('configmap/other patched\n')
  })

  it('prints pod logs through the kubelet', async () => {
    const logs = await kubectl(['logs', '-n', 'openshift-machine-config-operator', 'build-rendered-layering-1'])
    expect(logs.stderr).to.equal('')
    expect(logs.stdout).to.equal('STEP 1/5: FROM quay.io/base\nSTEP 2/5: RUN true\n')
    const tail = await kubectl(['logs', '-n', 'openshift-machine-config-operator', 'build-rendered-layering-1', '--tail=1'])
    expect(tail.stdout).to.equal('STEP 2/5: RUN true\n')
  })

  it('creates and applies manifests (client-side and server-side apply)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'manifests-'))
    try {
      const file = join(dir, 'm.yaml')
      const manifest = (v: string) =>
        `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\n  namespace: openshift-machine-config-operator\ndata:\n  a: "${v}"\n---\napiVersion: machineconfiguration.openshift.io/v1\nkind: MachineConfigPool\nmetadata:\n  name: infra\nspec:\n  paused: false\n`
      writeFileSync(file, manifest('1'))
      const c = await kubectl(['create', '-f', file])
      expect(c.stderr).to.equal('')
      expect(c.stdout).to.equal('configmap/applied created\nmachineconfigpool.machineconfiguration.openshift.io/infra created\n')
      writeFileSync(file, manifest('2'))
      const a = await kubectl(['apply', '-f', file])
      expect(a.stdout).to.equal('configmap/applied configured\nmachineconfigpool.machineconfiguration.openshift.io/infra configured\n')
      writeFileSync(file, manifest('3'))
      // data.a belongs to the client-side apply now: a server-side apply that changes it conflicts, and nothing changes
      const refused = await kubectl(['apply', '--server-side', '-f', file])
      expect(refused.code).to.equal(1)
      expect(refused.stderr).to.match(
        /^error: Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using v1 at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ: \.data\.a\n/,
      )
      expect((await em.request('GET', '/api/v1/namespaces/openshift-machine-config-operator/configmaps/applied')).body.data).to.deep.equal({
        a: '2',
      })
      const ssa = await kubectl(['apply', '--server-side', '--force-conflicts', '-f', file])
      expect(ssa.stdout).to.equal(
        'configmap/applied serverside-applied\nmachineconfigpool.machineconfiguration.openshift.io/infra serverside-applied\n',
      )
      const got = await em.request('GET', '/api/v1/namespaces/openshift-machine-config-operator/configmaps/applied')
      expect(got.body.data).to.deep.equal({a: '3'})
      await kubectl(['delete', '-f', file])
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('server-side applies from two field managers: conflicts, co-ownership, --force-conflicts, managedFields', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ssa-'))
    const path = '/apis/machineconfiguration.openshift.io/v1/machineconfigpools/ssa-pool'
    try {
      const file = join(dir, 'p.yaml')
      const pool = (fields: string) =>
        `apiVersion: machineconfiguration.openshift.io/v1\nkind: MachineConfigPool\nmetadata:\n  name: ssa-pool\n${fields}`
      writeFileSync(file, pool('  labels:\n    team: a\nspec:\n  paused: true\n'))
      const first = await kubectl(['apply', '--server-side', '--field-manager=team-a', '-f', file])
      expect(first.stderr).to.equal('')
      expect(first.stdout).to.equal('machineconfigpool.machineconfiguration.openshift.io/ssa-pool serverside-applied\n')
      writeFileSync(file, pool('spec:\n  paused: false\n'))
      const clash = await kubectl(['apply', '--server-side', '--field-manager=team-b', '-f', file])
      expect(clash.code).to.equal(1)
      expect(clash.stderr).to.contain(
        'error: Apply failed with 1 conflict: conflict with "team-a" using machineconfiguration.openshift.io/v1: .spec.paused\n',
      )
      expect((await em.request('GET', path)).body.spec.paused).to.equal(true)
      // the same value: team-b co-owns it, no conflict
      writeFileSync(file, pool('spec:\n  paused: true\n'))
      expect((await kubectl(['apply', '--server-side', '--field-manager=team-b', '-f', file])).code).to.equal(0)
      writeFileSync(file, pool('spec:\n  paused: false\n'))
      const forced = await kubectl(['apply', '--server-side', '--field-manager=team-b', '--force-conflicts', '-f', file])
      expect(forced.stdout).to.equal('machineconfigpool.machineconfiguration.openshift.io/ssa-pool serverside-applied\n')
      const got = JSON.parse((await kubectl(['get', 'mcp', 'ssa-pool', '-o', 'json', '--show-managed-fields'])).stdout)
      expect(got.spec.paused).to.equal(false)
      expect(got.metadata.labels).to.deep.equal({team: 'a'})
      expect(got.metadata.managedFields.map((e: any) => [e.manager, e.operation, e.apiVersion, e.fieldsType, e.fieldsV1])).to.deep.equal([
        ['team-a', 'Apply', 'machineconfiguration.openshift.io/v1', 'FieldsV1', {'f:metadata': {'f:labels': {'f:team': {}}}}],
        ['team-b', 'Apply', 'machineconfiguration.openshift.io/v1', 'FieldsV1', {'f:spec': {'f:paused': {}}}],
      ])
      // team-a stops applying its label: nobody else owns it, so it goes
      writeFileSync(file, pool('spec: {}\n'))
      expect((await kubectl(['apply', '--server-side', '--field-manager=team-a', '-f', file])).code).to.equal(0)
      expect((await em.request('GET', path)).body.metadata.labels).to.equal(undefined)
      const hidden = JSON.parse((await kubectl(['get', 'mcp', 'ssa-pool', '-o', 'json'])).stdout)
      expect(hidden.metadata.managedFields).to.equal(undefined)
    } finally {
      await kubectl(['delete', 'mcp', 'ssa-pool'])
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('creates, deletes (waiting for the object to go) and answers auth can-i', async () => {
    const c = await kubectl(['create', 'configmap', 'tmp', '--from-literal=a=b'])
    expect(c.stdout).to.equal('configmap/tmp created\n')
    const d = await kubectl(['delete', 'configmap', 'tmp'])
    expect(d.stderr).to.equal('')
    expect(d.stdout).to.equal('configmap "tmp" deleted\n')
    const dp = await kubectl(['delete', 'mcp', 'layering'])
    expect(dp.stdout).to.equal('machineconfigpool.machineconfiguration.openshift.io "layering" deleted\n')
    const dry = await kubectl(['delete', 'mcp', 'worker', '--dry-run=server'])
    expect(dry.stdout).to.contain('deleted (server dry run)')
    expect((await em.request('GET', '/apis/machineconfiguration.openshift.io/v1/machineconfigpools/worker')).status).to.equal(200)
    const yes = await kubectl(['auth', 'can-i', 'patch', 'machineconfigpools.machineconfiguration.openshift.io'])
    expect(yes.stdout).to.equal('yes\n')
    const no = await kubectl(
      ['auth', 'can-i', 'patch', 'machineconfigpools.machineconfiguration.openshift.io'],
      em.kubeconfigFor('developer'),
    )
    expect(no.stdout).to.equal('no\n')
    const denied = await kubectl(['patch', 'mcp', 'worker', '--type', 'merge', '-p', '{}'], em.kubeconfigFor('developer'))
    expect(denied.stderr).to.contain(
      'Error from server (Forbidden): machineconfigpools.machineconfiguration.openshift.io "worker" is forbidden: User "developer" cannot patch resource "machineconfigpools" in API group "machineconfiguration.openshift.io" at the cluster scope',
    )
    const bad = await kubectl(['get', 'ns'], em.kubeconfigFor('bad-token'))
    expect(bad.stderr).to.contain('Unauthorized')
    const cert = await kubectl(['get', 'ns', 'default', '-o', 'name'], em.kubeconfigFor('cert'))
    expect(cert.stdout).to.equal('namespace/default\n')
  })
})
