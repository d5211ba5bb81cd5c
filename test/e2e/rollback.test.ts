import {expect} from 'chai'
import {KubeClient} from '../../src/lib/kube/client.js'
import {loadKubeconfig} from '../../src/lib/kube/kubeconfig.js'
import {R} from '../../src/lib/kube/resources.js'
import type {ConfigMap, KubeObject, Machine, MachineConfigPool, Node, Secret} from '../../src/lib/kube/types.js'
import {waitFor} from '../../src/lib/kube/watch.js'
import type {Emulator} from '../../emulator/index.js'
import type {Cluster} from '../../emulator/sim/index.js'
import {basicCluster, MCO_NS, node, pool, run, runBin, startEmulator, startCluster as startSim} from './harness.js'

const NS = MCO_NS
const POOL = 'layering'
const A = 'machineconfiguration.openshift.io/'
const INTERNAL = 'image-registry.openshift-image-registry.svc:5000'
const REFUSAL = 'rolling back from a layered to non-layered configuration is not currently supported'
const b64 = (s: string): string => Buffer.from(s).toString('base64')
const ann = (o: KubeObject, k: string): string => o.metadata.annotations?.[A + k] ?? ''

async function prepare(client: KubeClient, custom: string): Promise<string> {
  const global = await client.get<Secret>(R.secrets, 'pull-secret', 'openshift-config')
  const auths = JSON.parse(Buffer.from(global.data!['.dockerconfigjson'], 'base64').toString()).auths
  await client.create<Secret>(R.secrets, {
    data: {'.dockerconfigjson': b64(JSON.stringify({auths: {...auths, [INTERNAL]: {auth: b64('b:s')}}}))},
    metadata: {name: 'creds', namespace: NS},
    type: 'kubernetes.io/dockerconfigjson',
  })
  await client.create<ConfigMap>(R.configMaps, {
    data: {
      baseImagePullSecretName: 'creds',
      finalImagePullspec: `${INTERNAL}/ocp/os-image:latest`,
      finalImagePushSecretName: 'creds',
      imageBuilderType: 'custom-pod-builder',
    },
    metadata: {name: 'on-cluster-build-config', namespace: NS},
  })
  await client.create<ConfigMap>(R.configMaps, {
    data: {[POOL]: custom},
    metadata: {name: 'on-cluster-build-custom-dockerfile', namespace: NS},
  })
  await client.create<MachineConfigPool>(R.machineConfigPools, {
    metadata: {labels: {[`${A}layering-enabled`]: ''}, name: POOL},
    spec: {
      machineConfigSelector: {matchExpressions: [{key: `${A}role`, operator: 'In', values: [POOL, 'worker']}]},
      maxUnavailable: 1,
      nodeSelector: {matchLabels: {[`node-role.kubernetes.io/${POOL}`]: ''}},
    },
  })
  return waitFor<MachineConfigPool, string>(client, R.machineConfigPools, POOL, (p) => p?.spec?.configuration?.name, {timeoutMs: 20_000})
}

async function workers(client: KubeClient): Promise<Node[]> {
  return (await client.list<Node>(R.nodes, {labelSelector: 'node-role.kubernetes.io/worker'})).items
}

/** Every node of the pool Done on the image (polled through the API; the command under test waits by watch). */
async function nodesOn(client: KubeClient, image: string): Promise<void> {
  const end = Date.now() + 60_000
  for (;;) {
    const members = (await client.list<Node>(R.nodes, {labelSelector: `node-role.kubernetes.io/${POOL}`})).items
    if (
      members.length > 0 &&
      members.every((n) => ann(n, 'currentImage') === image && ann(n, 'desiredImage') === image && ann(n, 'state') === 'Done')
    )
      return
    if (Date.now() > end)
      throw new Error(
        `nodes never reached ${image}: ${members.map((n) => `${n.metadata.name} ${ann(n, 'state')} ${ann(n, 'currentImage')}`).join('; ')}`,
      )
    await new Promise((r) => setTimeout(r, 100))
  }
}

describe('oc mob rollback (end to end, simulated 4.14 cluster)', function () {
  this.timeout(240_000)
  let cluster: Cluster
  let client: KubeClient
  let rendered: string
  let good: string
  let bad: string

  before(async () => {
    // The 4.14 generation: no MachineOSConfig API, a daemon that refuses to leave a layered image.
    cluster = await startSim({
      controllers: {operator: false},
      delays: {buildMs: 200, machineReplaceMs: 300, podStartMs: 30, pollMs: 30, rebootMs: 300, resyncMs: 1000, retryMs: 50},
      emulator: {groups: {machineOS: false}},
      mode: 'scripted',
    })
    client = new KubeClient(loadKubeconfig({kubeconfig: cluster.kubeconfig}))
    rendered = await prepare(client, 'FROM configs AS final\nRUN echo good > /etc/variant\n')
    for (const n of await workers(client))
      await client.patch(R.nodes, n.metadata.name!, {metadata: {labels: {[`node-role.kubernetes.io/${POOL}`]: ''}}})
  })
  after(async () => cluster?.stop())

  it('refuses without history (exit 7) and changes nothing', async () => {
    await client.patch(R.machineConfigPools, POOL, {
      metadata: {annotations: {[`${A}newestImageEquivalentConfig`]: `${INTERNAL}/ocp/os-image@sha256:${'1'.repeat(64)}`}},
    })
    const before = await client.get<MachineConfigPool>(R.machineConfigPools, POOL)
    const r = await run(['rollback', POOL, '--kubeconfig', cluster.kubeconfig, '--yes'])
    expect(r.exitCode).to.equal(7)
    expect(r.stderr).to.include(
      `no earlier image of pool ${POOL} is known: oc-mob's image history (ConfigMap oc-mob-image-history in ${NS}) has no entry for it`,
    )
    expect(r.stderr).to.include('next:')
    const after = await client.get<MachineConfigPool>(R.machineConfigPools, POOL)
    expect(after.metadata.annotations).to.deep.equal(before.metadata.annotations)
    expect(await client.find(R.configMaps, 'oc-mob-image-history', NS)).to.equal(undefined)
    await client.patch(R.machineConfigPools, POOL, {metadata: {annotations: {[`${A}newestImageEquivalentConfig`]: null}}})
  })

  it('rolls the nodes back to the previous good image after a bad custom Dockerfile', async () => {
    const first = await run(['build', POOL, '--kubeconfig', cluster.kubeconfig, '-o', 'json'])
    expect(first.exitCode, first.stderr).to.equal(0)
    good = JSON.parse(first.stdout).image
    await nodesOn(client, good)

    await client.patch(
      R.configMaps,
      'on-cluster-build-custom-dockerfile',
      {data: {[POOL]: 'FROM configs AS final\nRUN echo bad > /etc/variant\n'}},
      {namespace: NS},
    )
    const second = await run(['build', POOL, '--kubeconfig', cluster.kubeconfig, '--rebuild', '-o', 'json'])
    expect(second.exitCode, second.stderr).to.equal(0)
    bad = JSON.parse(second.stdout).image
    expect(bad).not.to.equal(good)
    await nodesOn(client, bad)

    const dry = await run(['rollback', POOL, '--kubeconfig', cluster.kubeconfig, '--dry-run'])
    expect(dry.exitCode, dry.stderr).to.equal(0)
    expect(dry.stdout).to.include(`from ${bad}`).and.include(`to   ${good}`)
    const names = (await workers(client)).map((n) => n.metadata.name!).sort()
    for (const n of names)
      expect(dry.stdout).to.match(
        new RegExp(`${n.replaceAll('.', '\\.')}\\s+\\S+@sha256:[0-9a-f]{12}\\s+reboots into \\S+@${good.split('@')[1].slice(0, 19)}`),
      )
    expect(dry.stdout).to.include('(dry run: nothing was changed)')
    expect(ann(await client.get(R.machineConfigPools, POOL), 'newestImageEquivalentConfig')).to.equal(bad)

    // No terminal and no --yes: the plan is shown and the rollback refused.
    const refused = await runBin(['rollback', POOL, '--kubeconfig', cluster.kubeconfig])
    expect(refused.exitCode).to.equal(2)
    expect(refused.stderr).to.include('--yes')

    const r = await run(['rollback', POOL, '--kubeconfig', cluster.kubeconfig, '--yes', '--wait', '-o', 'json'])
    expect(r.exitCode, r.stderr).to.equal(0)
    const result = JSON.parse(r.stdout)
    expect(result).to.deep.include({currentImage: bad, maxUnavailable: 1, outcome: 'rolled-back', pool: POOL, renderedConfig: rendered})
    expect(result.target).to.include({image: good, index: 1, renderedConfig: rendered, source: 'built'})
    expect(result.rolledOut).to.deep.include({done: 2, total: 2})
    expect(result.nodes.map((n: {reboots: boolean}) => n.reboots)).to.deep.equal([true, true])
    for (const n of await workers(client)) {
      expect(ann(n, 'currentImage')).to.equal(good)
      expect(ann(n, 'desiredImage')).to.equal(good)
      expect(ann(n, 'state')).to.equal('Done')
    }

    const p = await client.get<MachineConfigPool>(R.machineConfigPools, POOL)
    expect(ann(p, 'newestImageEquivalentConfig')).to.equal(good)
    const conds = Object.fromEntries(p.status!.conditions!.map((c) => [c.type, c.status]))
    expect(conds).to.include({BuildSuccess: 'True'})
    for (const t of ['BuildPending', 'Building', 'BuildFailed']) expect(conds).not.to.have.property(t)

    const status = JSON.parse((await run(['status', POOL, '--history', '--kubeconfig', cluster.kubeconfig, '-o', 'json'])).stdout)
    expect(
      status.history.map((h: {source: string; image: string; current: boolean; index: number}) => [h.index, h.source, h.image, h.current]),
    ).to.deep.equal([
      [0, 'rollback', good, true],
      [1, 'built', bad, false],
      [2, 'built', good, true],
    ])
    expect(status.history[0].replaced).to.equal(bad)
    expect(status.pools[0]).to.include({imageMatchesConfig: 'yes'})
  })

  it('does not offer the image it rolled away from again; --to picks any entry', async () => {
    const again = await run(['rollback', POOL, '--kubeconfig', cluster.kubeconfig, '--yes'])
    expect(again.exitCode).to.equal(7)
    expect(again.stderr).to.include(`the history of pool ${POOL} has no earlier good image for its rendered config ${rendered}`)
    const r = await run([
      'rollback',
      POOL,
      '--kubeconfig',
      cluster.kubeconfig,
      '--to',
      bad.split('@sha256:')[1].slice(0, 10),
      '--yes',
      '--wait',
      '-o',
      'json',
    ])
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(JSON.parse(r.stdout).target.image).to.equal(bad)
    await nodesOn(client, bad)
    // The history is now [rollback bad, rollback good, built bad, built good]: entry 3 is the first good build.
    const back = await run(['rollback', POOL, '--kubeconfig', cluster.kubeconfig, '--to', '3', '--yes', '--wait'])
    expect(back.exitCode, back.stderr).to.equal(0)
    expect(back.stdout).to.include(`Pool ${POOL} now points at ${good}`)
    const missing = await run(['rollback', POOL, '--kubeconfig', cluster.kubeconfig, '--to', '99', '--yes'])
    expect(missing.exitCode).to.equal(7)
  })

  it('refuses an image of another rendered config unless --force', async () => {
    await client.create(R.machineConfigs, {
      metadata: {labels: {[`${A}role`]: POOL}, name: '99-layering-extra'},
      spec: {
        config: {ignition: {version: '3.4.0'}, storage: {files: [{contents: {source: 'data:,extra%0A'}, mode: 420, path: '/etc/extra'}]}},
      },
    })
    const next = await waitFor<MachineConfigPool, string>(
      client,
      R.machineConfigPools,
      POOL,
      (p) => (p?.spec?.configuration?.name !== rendered ? p?.spec?.configuration?.name : undefined),
      {timeoutMs: 20_000},
    )
    const r = await run(['rollback', POOL, '--kubeconfig', cluster.kubeconfig, '--to', '1', '--yes'])
    expect(r.exitCode).to.equal(7)
    expect(r.stderr).to.include(`was built from ${rendered}, but pool ${POOL} now targets ${next}`)
    expect(r.stderr).to.include('--force')
    const dry = await run(['rollback', POOL, '--kubeconfig', cluster.kubeconfig, '--to', '1', '--force', '--dry-run'])
    expect(dry.exitCode, dry.stderr).to.equal(0)
    expect(dry.stdout).to.include(`warning: the image was built from ${rendered}, not from the pool's rendered config ${next}`)
    // Back to the pool's own config for the node tests.
    await client.delete(R.machineConfigs, '99-layering-extra')
    await waitFor<MachineConfigPool, true>(
      client,
      R.machineConfigPools,
      POOL,
      (p) => (p?.spec?.configuration?.name === rendered ? true : undefined),
      {timeoutMs: 20_000},
    )
  })

  it('--remove-from-pool: the 4.14 refusal, explained; with --force the node goes Degraded as predicted', async () => {
    const [victim] = (await workers(client)).map((n) => n.metadata.name!).sort()
    const r = await run(['rollback', 'node', victim, '--remove-from-pool', '--kubeconfig', cluster.kubeconfig, '--yes'])
    expect(r.exitCode).to.equal(7)
    expect(r.stderr).to.include('the OpenShift 4.14/4.15 generation: the MachineOSConfig API is not served')
    expect(r.stderr).to.include(REFUSAL)
    expect(r.stderr).to.include(`oc mob rollback node ${victim} --replace-machine`)
    expect((await client.get<Node>(R.nodes, victim)).metadata.labels).to.have.property(`node-role.kubernetes.io/${POOL}`)

    const forced = await run([
      'rollback',
      'node',
      victim,
      '--remove-from-pool',
      '--force',
      '--yes',
      '--wait',
      '--timeout',
      '60s',
      '--kubeconfig',
      cluster.kubeconfig,
    ])
    expect(forced.exitCode).to.equal(8)
    expect(forced.stderr).to.include(`node ${victim} is Degraded: ${REFUSAL}`)
    expect(forced.stderr).to.include('--replace-machine')
    const n = await client.get<Node>(R.nodes, victim)
    expect(n.metadata.labels).not.to.have.property(`node-role.kubernetes.io/${POOL}`)
    expect(ann(n, 'state')).to.equal('Degraded')

    const status = JSON.parse((await run(['status', 'worker', '--kubeconfig', cluster.kubeconfig, '-o', 'json'])).stdout)
    const problem = status.problems.find((p: {node: string | null}) => p.node === victim)
    expect(problem.message).to.include(REFUSAL)
    expect(problem.next).to.include(`oc mob rollback node ${victim} --replace-machine`)
  })

  it('--replace-machine: the MachineSet replaces the node with a fresh non-layered worker', async () => {
    const [victim] = (await client.list<Node>(R.nodes, {labelSelector: 'node-role.kubernetes.io/worker'})).items
      .filter((n) => ann(n, 'state') === 'Degraded')
      .map((n) => n.metadata.name!)
    const victimNode = await client.get<Node>(R.nodes, victim)
    const [ns, machine] = victimNode.metadata.annotations!['machine.openshift.io/machine'].split('/')
    const dry = await run(['rollback', 'node', victim, '--replace-machine', '--dry-run', '--force', '--kubeconfig', cluster.kubeconfig])
    expect(dry.exitCode, dry.stderr).to.equal(0)
    expect(dry.stdout).to.include(`delete machine ${ns}/${machine} and node ${victim}`)
    expect(dry.stdout).to.include('MachineSet ocp414-7dxqk-worker-us-east-2a (2 replicas) provisions a replacement')
    expect(await client.find(R.machines, machine, ns)).not.to.equal(undefined)

    const r = await run([
      'rollback',
      'node',
      victim,
      '--replace-machine',
      '--force',
      '--yes',
      '--wait',
      '--timeout',
      '90s',
      '--kubeconfig',
      cluster.kubeconfig,
      '-o',
      'json',
    ])
    expect(r.exitCode, r.stderr).to.equal(0)
    const result = JSON.parse(r.stdout)
    expect(result).to.deep.include({method: 'replace-machine', node: victim, outcome: 'done'})
    expect(result.machine).to.deep.equal({machineSet: 'ocp414-7dxqk-worker-us-east-2a', name: machine, namespace: ns, replicas: 2})
    const {machine: newMachine, node: newNode} = result.replacement
    expect(newNode).not.to.equal(victim)
    expect(await client.find(R.nodes, victim)).to.equal(undefined)
    expect(await client.find(R.machines, machine, ns)).to.equal(undefined)
    const fresh = await client.get<Node>(R.nodes, newNode)
    expect(fresh.status!.conditions!.find((c) => c.type === 'Ready')!.status).to.equal('True')
    expect(Object.keys(fresh.metadata.labels!).filter((k) => k.startsWith('node-role.kubernetes.io/'))).to.deep.equal([
      'node-role.kubernetes.io/worker',
    ])
    expect(ann(fresh, 'currentImage')).to.equal('')
    const m = await client.get<Machine>(R.machines, newMachine, ns)
    expect(m.metadata.ownerReferences![0]).to.include({kind: 'MachineSet', name: 'ocp414-7dxqk-worker-us-east-2a'})
  })

  it('--replace-machine refuses to take the pool below its capacity without --force', async () => {
    // Put the new worker in the pool and cordon it: one node unavailable already, maxUnavailable 1.
    const members = (await client.list<Node>(R.nodes, {labelSelector: `node-role.kubernetes.io/${POOL}`})).items
    expect(members).to.have.length(1)
    const fresh = (await workers(client)).find((n) => !(`node-role.kubernetes.io/${POOL}` in (n.metadata.labels ?? {})))!
    await client.patch(R.nodes, fresh.metadata.name!, {
      metadata: {labels: {[`node-role.kubernetes.io/${POOL}`]: ''}},
      spec: {unschedulable: true},
    })
    const r = await run(['rollback', 'node', members[0].metadata.name!, '--replace-machine', '--yes', '--kubeconfig', cluster.kubeconfig])
    expect(r.exitCode).to.equal(7)
    expect(r.stderr).to.match(/would leave pool layering with 2 of 2 nodes unavailable, more than its maxUnavailable 1/)
    expect(await client.find(R.nodes, members[0].metadata.name!)).not.to.equal(undefined)
  })
})

describe('oc mob rollback: refusals on other clusters', function () {
  this.timeout(60_000)
  let emu: Emulator
  afterEach(async () => emu?.close())
  const layeredNode = (name: string, ann: Record<string, string> = {}) =>
    node(name, ['worker', POOL], {
      [`${A}currentConfig`]: 'rendered-layering-0123456789abcdef0123456789abcdef',
      [`${A}currentImage`]: `q.io/os@sha256:${'a'.repeat(64)}`,
      [`${A}desiredConfig`]: 'rendered-layering-0123456789abcdef0123456789abcdef',
      [`${A}desiredImage`]: `q.io/os@sha256:${'a'.repeat(64)}`,
      ...ann,
    })

  it('--replace-machine on a cluster without the machine API: a clear refusal (exit 10)', async () => {
    emu = await startEmulator({
      groups: {machine: false},
      objects: [
        ...basicCluster(),
        pool(POOL, {layered: true}),
        layeredNode('worker-1', {'machine.openshift.io/machine': 'openshift-machine-api/m1'}),
      ],
    })
    const r = await run(['rollback', 'node', 'worker-1', '--replace-machine', '--yes', '--kubeconfig', emu.kubeconfig])
    expect(r.exitCode).to.equal(10)
    expect(r.stderr).to.include('does not serve the machine API (machine.openshift.io/v1beta1): no MachineSet would replace node worker-1')
    expect(await emu.request('GET', '/api/v1/nodes/worker-1').then((x) => x.status)).to.equal(200)
  })

  it('--replace-machine checks the Machine and its MachineSet; unknown node exit 6; no method exit 2; control plane refused', async () => {
    emu = await startEmulator({
      objects: [
        ...basicCluster(),
        {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'openshift-machine-api'}},
        pool(POOL, {layered: true}),
        layeredNode('worker-1'),
        layeredNode('worker-2', {'machine.openshift.io/machine': 'openshift-machine-api/gone'}),
        layeredNode('worker-3', {'machine.openshift.io/machine': 'openshift-machine-api/orphan'}),
        {
          apiVersion: 'machine.openshift.io/v1beta1',
          kind: 'Machine',
          metadata: {name: 'orphan', namespace: 'openshift-machine-api'},
          spec: {},
        },
      ],
    })
    const kc = emu.kubeconfig
    let r = await run(['rollback', 'node', 'worker-1', '--replace-machine', '--yes', '--kubeconfig', kc])
    expect([r.exitCode, r.stderr]).to.satisfy(
      ([c, e]: [number, string]) =>
        c === 7 && e.includes('node worker-1 has no machine.openshift.io/machine annotation: no Machine manages it'),
    )
    r = await run(['rollback', 'node', 'worker-2', '--replace-machine', '--yes', '--kubeconfig', kc])
    expect([r.exitCode, r.stderr]).to.satisfy(
      ([c, e]: [number, string]) => c === 7 && e.includes('Machine openshift-machine-api/gone named by node worker-2 does not exist'),
    )
    r = await run(['rollback', 'node', 'worker-3', '--replace-machine', '--yes', '--kubeconfig', kc])
    expect([r.exitCode, r.stderr]).to.satisfy(
      ([c, e]: [number, string]) => c === 7 && e.includes('Machine openshift-machine-api/orphan is not owned by a MachineSet'),
    )
    r = await run(['rollback', 'node', 'nope', '--replace-machine', '--yes', '--kubeconfig', kc])
    expect(r.exitCode).to.equal(6)
    r = await run(['rollback', 'node', 'worker-1', '--kubeconfig', kc])
    expect(r.exitCode).to.equal(2)
    expect(r.stderr).to.include('--replace-machine or --remove-from-pool')
    r = await run(['rollback', 'node', 'master-0', '--replace-machine', '--yes', '--force', '--kubeconfig', kc])
    expect([r.exitCode, r.stderr]).to.satisfy(([c, e]: [number, string]) => c === 7 && e.includes('control-plane node'))
    const machines = await emu.request('GET', '/apis/machine.openshift.io/v1beta1/namespaces/openshift-machine-api/machines')
    expect(machines.body.items).to.have.length(1)
  })

  it('--remove-from-pool where the MachineOSConfig API is served (4.18+): no --force needed', async () => {
    emu = await startEmulator({objects: [...basicCluster(), pool(POOL, {layered: true}), layeredNode('worker-1')]})
    const dry = await run(['rollback', 'node', 'worker-1', '--remove-from-pool', '--dry-run', '--kubeconfig', emu.kubeconfig])
    expect(dry.exitCode, dry.stderr).to.equal(0)
    expect(dry.stdout).to.include(`remove label node-role.kubernetes.io/${POOL}: the node moves to pool worker`)
    expect(dry.stdout).to.include('two reboots')
    const r = await run(['rollback', 'node', 'worker-1', '--remove-from-pool', '--yes', '--kubeconfig', emu.kubeconfig, '-o', 'json'])
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(JSON.parse(r.stdout)).to.include({newPool: 'worker', outcome: 'done', pool: POOL})
    const n = (await emu.request('GET', '/api/v1/nodes/worker-1')).body
    expect(n.metadata.labels).not.to.have.property(`node-role.kubernetes.io/${POOL}`)
    expect(n.metadata.labels).to.have.property('node-role.kubernetes.io/worker')
  })

  it('pool rollback: unknown pool exit 6, a pool that is not layered exit 7', async () => {
    emu = await startEmulator({objects: basicCluster()})
    const r = await run(['rollback', 'nope', '--yes', '--kubeconfig', emu.kubeconfig])
    expect(r.exitCode).to.equal(6)
    const w = await run(['rollback', 'worker', '--yes', '--kubeconfig', emu.kubeconfig])
    expect(w.exitCode).to.equal(7)
    expect(w.stderr).to.include('pool worker is not opted into on-cluster builds')
  })
})
