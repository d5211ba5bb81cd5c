import {expect} from 'chai'
import {Informer, type Obj, R} from './client.js'
import type {Cluster} from './index.js'
import {cond, condTrue, fastCluster, getPool, setupLayering, waitFor} from './helpers.js'
import {MACHINE_API_NS} from './names.js'

const A = 'machineconfiguration.openshift.io/'
const ann = (n: Obj, k: string) => n.metadata?.annotations?.[A + k] ?? ''

async function workers(cluster: Cluster): Promise<Obj[]> {
  return (await cluster.client.list(R.nodes, undefined, 'node-role.kubernetes.io/worker')).items
}

describe('sim: node rollout and machine API', () => {
  let cluster: Cluster
  const extra: Array<{stop(): Promise<void>}> = []
  afterEach(async () => {
    for (const e of extra.splice(0)) await e.stop()
    await cluster?.stop()
  })

  it('rolls a built image to two nodes one at a time (maxUnavailable 1), then refuses the 4.14 rollback', async () => {
    cluster = await fastCluster({delays: {rebootMs: 200}})
    const c = cluster.client
    const nodes = await workers(cluster)
    expect(nodes).to.have.length(2)
    for (const n of nodes) await c.patch(R.nodes, undefined, n.metadata.name, {metadata: {labels: {'node-role.kubernetes.io/layered': ''}}})

    // watch every node change: how many are unavailable at once, and what each went through
    let maxUnavailable = 0
    const seen = new Map<string, string[]>()
    const inf = new Informer(c, R.nodes).on((_t, n) => {
      if (!('node-role.kubernetes.io/layered' in (n.metadata.labels ?? {}))) return
      const name = n.metadata.name
      const tag = `${ann(n, 'state')}${n.spec?.unschedulable ? '+cordoned' : ''}`
      const list = seen.get(name) ?? []
      if (list[list.length - 1] !== tag) list.push(tag)
      seen.set(name, list)
      const all = inf.list().filter((x) => 'node-role.kubernetes.io/layered' in (x.metadata.labels ?? {}))
      const unavailable = all.filter(
        (x) =>
          x.spec?.unschedulable ||
          ann(x, 'state') === 'Working' ||
          ann(x, 'desiredConfig') !== ann(x, 'currentConfig') ||
          ann(x, 'desiredImage') !== ann(x, 'currentImage'),
      ).length
      maxUnavailable = Math.max(maxUnavailable, unavailable)
    })
    extra.push(inf)
    await inf.start()

    await setupLayering(c, {maxUnavailable: 1})
    const pool = await waitFor('the image', async () => {
      const p = await getPool(c, 'layered')
      return p?.metadata.annotations?.[A + 'newestImageEquivalentConfig'] ? p : undefined
    })
    const image = pool.metadata.annotations[A + 'newestImageEquivalentConfig']
    const rendered = pool.spec.configuration.name
    const updated = await waitFor(
      'both nodes on the image',
      async () => {
        const p = await getPool(c, 'layered')
        return p?.status?.updatedMachineCount === 2 && condTrue(p, 'Updated') ? p : undefined
      },
      15_000,
    )
    expect(updated.status).to.include({
      machineCount: 2,
      updatedMachineCount: 2,
      readyMachineCount: 2,
      unavailableMachineCount: 0,
      degradedMachineCount: 0,
    })
    expect(updated.status.configuration.name).to.equal(rendered)
    expect(condTrue(updated, 'Updating')).to.equal(false)
    for (const n of await workers(cluster)) {
      expect(ann(n, 'currentConfig')).to.equal(rendered)
      expect(ann(n, 'desiredConfig')).to.equal(rendered)
      expect(ann(n, 'currentImage')).to.equal(image)
      expect(ann(n, 'desiredImage')).to.equal(image)
      expect(ann(n, 'state')).to.equal('Done')
      expect(n.spec.unschedulable ?? false).to.equal(false)
      const states = seen.get(n.metadata.name)!
      expect(states).to.include('Working+cordoned')
      expect(states[states.length - 1]).to.equal('Done')
    }
    expect(maxUnavailable).to.equal(1)

    // the worker pool no longer counts them
    await waitFor('worker pool recount', async () => (await getPool(c, 'worker'))!.status.machineCount === 0)

    // opting out: 4.14's daemon refuses to leave the image
    await c.patch(R.pools, undefined, 'layered', {metadata: {labels: {[A + 'layering-enabled']: null}}})
    const degraded = await waitFor('a degraded node', async () => (await workers(cluster)).find((n) => ann(n, 'state') === 'Degraded'))
    expect(ann(degraded, 'reason')).to.equal('rolling back from a layered to non-layered configuration is not currently supported')
    expect(ann(degraded, 'desiredImage')).to.equal('')
    expect(ann(degraded, 'currentImage')).to.equal(image)
    const p = await waitFor('NodeDegraded', async () => {
      const x = await getPool(c, 'layered')
      return condTrue(x, 'NodeDegraded') ? x : undefined
    })
    expect(p.status.degradedMachineCount).to.equal(1)
    expect(cond(p, 'NodeDegraded')!.message).to.include(
      'rolling back from a layered to non-layered configuration is not currently supported',
    )
    expect(condTrue(p, 'Degraded')).to.equal(true)
    await new Promise((r) => setTimeout(r, 300))
    // maxUnavailable holds: the second node is not touched while the first is degraded
    const other = (await workers(cluster)).find((n) => n.metadata.name !== degraded.metadata.name)!
    expect(ann(other, 'desiredImage')).to.equal(image)
    expect(ann(other, 'state')).to.equal('Done')
  })

  it('does not roll a paused pool, and holds layered nodes until the build succeeded', async () => {
    cluster = await fastCluster({delays: {buildMs: 400}})
    const c = cluster.client
    const [n1] = await workers(cluster)
    await c.patch(R.nodes, undefined, n1.metadata.name, {metadata: {labels: {'node-role.kubernetes.io/layered': ''}}})
    await setupLayering(c, {paused: true})
    await waitFor('BuildSuccess', async () => condTrue(await getPool(c, 'layered'), 'BuildSuccess'))
    await new Promise((r) => setTimeout(r, 200))
    let node = (await c.get(R.nodes, undefined, n1.metadata.name))!
    expect(ann(node, 'desiredImage')).to.equal('')
    expect(ann(node, 'desiredConfig')).to.match(/^rendered-worker-/)
    await c.patch(R.pools, undefined, 'layered', {spec: {paused: false}})
    node = await waitFor('the node on the image', async () => {
      const n = (await c.get(R.nodes, undefined, n1.metadata.name))!
      return ann(n, 'currentImage') && ann(n, 'state') === 'Done' ? n : undefined
    })
    expect(ann(node, 'currentConfig')).to.match(/^rendered-layered-/)
  })

  it('replaces a deleted Machine with a fresh non-layered worker node', async () => {
    cluster = await fastCluster()
    const c = cluster.client
    const before = await workers(cluster)
    const nodesBefore = new Set(before.map((n) => n.metadata.name))
    const [victim] = before
    const machineRef: string = victim.metadata.annotations['machine.openshift.io/machine']
    const [ns, machineName] = machineRef.split('/')
    expect(ns).to.equal(MACHINE_API_NS)
    const workerConfig = (await getPool(c, 'worker'))!.spec.configuration.name
    // the documented 4.14 rollback workaround: delete the machine and the node
    await c.delete(R.machines, ns, machineName)
    await c.delete(R.nodes, undefined, victim.metadata.name)
    const fresh = await waitFor('a replacement node', async () => (await workers(cluster)).find((n) => !nodesBefore.has(n.metadata.name)))
    await waitFor('the old machine to go', async () => !(await c.get(R.machines, ns, machineName)))
    const newMachineName = fresh.metadata.annotations['machine.openshift.io/machine'].split('/')[1]
    const machine = (await c.get(R.machines, ns, newMachineName))!
    expect(machine.metadata.name).to.match(/^ocp414-7dxqk-worker-us-east-2a-[a-z0-9]{5}$/)
    expect(machine.metadata.ownerReferences[0]).to.include({kind: 'MachineSet', name: 'ocp414-7dxqk-worker-us-east-2a'})
    await waitFor('machine Running', async () => (await c.get(R.machines, ns, newMachineName))!.status?.phase === 'Running')
    const m2 = (await c.get(R.machines, ns, newMachineName))!
    expect(m2.status.nodeRef.name).to.equal(fresh.metadata.name)
    expect(fresh.metadata.labels).to.include({'node-role.kubernetes.io/worker': '', 'kubernetes.io/os': 'linux'})
    expect(Object.keys(fresh.metadata.labels).filter((k) => k.startsWith('node-role.kubernetes.io/'))).to.deep.equal([
      'node-role.kubernetes.io/worker',
    ])
    expect(ann(fresh, 'currentConfig')).to.equal(workerConfig)
    expect(ann(fresh, 'desiredConfig')).to.equal(workerConfig)
    expect(ann(fresh, 'state')).to.equal('Done')
    expect(ann(fresh, 'currentImage')).to.equal('')
    await waitFor(
      'the kubelet port on the new node',
      async () =>
        (await c.get(R.nodes, undefined, fresh.metadata.name))!.status.daemonEndpoints.kubeletEndpoint.Port === cluster.sim.kubelet.port,
    )
    const ms = await waitFor('the machineset back at 2', async () => {
      const s = await c.get(R.machinesets, ns, 'ocp414-7dxqk-worker-us-east-2a')
      return s?.status?.readyReplicas === 2 ? s : undefined
    })
    expect(ms.status.replicas).to.equal(2)
    await waitFor('the worker pool counting 2 machines', async () => {
      const p = await getPool(c, 'worker')
      return p?.status?.machineCount === 2 && p.status.updatedMachineCount === 2
    })
  })
})
