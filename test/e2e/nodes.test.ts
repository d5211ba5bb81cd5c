import {expect} from 'chai'
import {KubeClient} from '../../src/lib/kube/client.js'
import {loadKubeconfig} from '../../src/lib/kube/kubeconfig.js'
import {R} from '../../src/lib/kube/resources.js'
import type {MachineConfigPool, Node} from '../../src/lib/kube/types.js'
import type {Cluster} from '../../emulator/sim/index.js'
import {run, runBin, startCluster} from './harness.js'

const POOL = 'layering'
const ROLE = 'node-role.kubernetes.io/layering'
const MASTER = 'ip-10-0-15-201.us-east-2.compute.internal'
const W1 = 'ip-10-0-22-17.us-east-2.compute.internal'
const W2 = 'ip-10-0-29-188.us-east-2.compute.internal'

describe('oc mob nodes add / remove (end to end, simulated cluster)', function () {
  this.timeout(180_000)
  let cluster: Cluster
  let client: KubeClient

  beforeEach(async () => {
    cluster = await startCluster({delays: {buildMs: 400, podStartMs: 50, pollMs: 100, rebootMs: 300}, mode: 'scripted'})
    client = new KubeClient(loadKubeconfig({kubeconfig: cluster.kubeconfig}))
    const s = await run([
      'setup',
      '--no-registry-check',
      '--kubeconfig',
      cluster.kubeconfig,
      '--pool',
      POOL,
      '--imagestream',
      'os-image',
      '--clone-global-pull-secret',
      '--yes',
    ])
    expect(s.exitCode, s.stderr).to.equal(0)
  })
  afterEach(async () => cluster?.stop())

  const labels = async (name: string): Promise<Record<string, string>> => (await client.get<Node>(R.nodes, name)).metadata.labels ?? {}
  const nodes = (...args: string[]): Promise<Awaited<ReturnType<typeof run>>> => run(['nodes', ...args, '--kubeconfig', cluster.kubeconfig])

  it('shows which nodes reboot in which order (maxUnavailable), changes nothing on --dry-run, and needs --yes without a terminal', async () => {
    const dry = await nodes('add', POOL, W2, W1, '--dry-run')
    expect(dry.exitCode, dry.stderr).to.equal(0)
    expect(dry.stdout).to.include(`Add label ${ROLE}= to 2 nodes, moving them into pool layering:`)
    expect(dry.stdout).to.include(`${W2}: pool worker -> layering`)
    expect(dry.stdout).to.include(
      "Each node is cordoned, drained and rebooted onto pool layering's config, 1 at a time (maxUnavailable 1), in this order:",
    )
    expect(dry.stdout).to.include(`  1. ${W1}\n  2. ${W2}`)
    expect(dry.stdout).to.include('dry run: nothing was changed')
    expect(await labels(W1)).not.to.have.property(ROLE)

    await client.patch<MachineConfigPool>(R.machineConfigPools, POOL, {spec: {maxUnavailable: 2}})
    const json = await nodes('add', POOL, W1, W2, '--dry-run', '-o', 'json')
    expect(JSON.parse(json.stdout)).to.deep.include({
      batches: [[W1, W2]],
      outcome: 'dry-run',
      rollout: {maxUnavailable: 2, paused: false, pool: POOL},
    })

    const unconfirmed = await runBin(['nodes', 'add', POOL, W1, '--kubeconfig', cluster.kubeconfig])
    expect(unconfirmed.exitCode).to.equal(2)
    expect(unconfirmed.stderr).to.include('adding nodes reboots them and there is no terminal to confirm on; nothing was changed')
    expect(await labels(W1)).not.to.have.property(ROLE)
  })

  it('refuses control-plane nodes, unknown nodes and nodes of another custom pool, changing nothing', async () => {
    const master = await nodes('add', POOL, MASTER, W1, '--yes')
    expect(master.exitCode).to.equal(7)
    expect(master.stderr).to.include(`error: refusing control-plane node ${MASTER}: control-plane nodes stay in the master pool`)
    const unknown = await nodes('add', POOL, 'no-such-node', '--yes')
    expect(unknown.exitCode).to.equal(6)
    expect(unknown.stderr).to.include('node not found: no-such-node')

    const other = await run([
      'setup',
      '--no-registry-check',
      '--kubeconfig',
      cluster.kubeconfig,
      '--pool',
      'other',
      '--imagestream',
      'os-image',
      '--clone-global-pull-secret',
      '--yes',
    ])
    expect(other.exitCode, other.stderr).to.equal(0)
    await client.patch<Node>(R.nodes, W2, {metadata: {labels: {'node-role.kubernetes.io/other': ''}}})
    const elsewhere = await nodes('add', POOL, W1, W2, '--yes')
    expect(elsewhere.exitCode).to.equal(7)
    expect(elsewhere.stderr).to.include(`error: refusing node of another custom pool: ${W2} (pool other)`)
    expect(elsewhere.stderr).to.include(`next: remove it from that pool first: \`oc mob nodes remove other ${W2}\``)
    const notMember = await nodes('remove', POOL, W1, '--yes')
    expect(notMember.exitCode).to.equal(7)
    expect(notMember.stderr).to.include(`not in pool layering: ${W1} (pool worker)`)
    for (const n of [W1, W2]) expect(await labels(n)).not.to.have.property(ROLE)
  })

  it('adds and removes nodes following each to Done; a node on a layered image is only removed with --force, and then goes Degraded', async () => {
    const added = await nodes('add', POOL, W1, W2, '--yes', '--wait')
    expect(added.exitCode, added.stderr).to.equal(0)
    const pool = await client.get<MachineConfigPool>(R.machineConfigPools, POOL)
    const rendered = pool.spec!.configuration!.name!
    expect(added.stderr).to.include(`node ${W1}: done — on ${rendered}`).and.include(`node ${W2}: done — on ${rendered}`)
    expect(added.stdout).to.include(`labelled ${W1}, ${W2}; all done`)
    for (const n of [W1, W2]) {
      const node = await client.get<Node>(R.nodes, n)
      expect(node.metadata.labels).to.have.property(ROLE, '')
      expect(node.metadata.annotations!['machineconfiguration.openshift.io/currentConfig']).to.equal(rendered)
    }

    const same = await nodes('add', POOL, W1, '--yes')
    expect(same.stdout).to.include('nothing to do: the nodes are in the pool already')

    // A node without a layered image leaves normally and goes back to the worker config.
    const removed = await nodes('remove', POOL, W2, '--yes', '--wait')
    expect(removed.exitCode, removed.stderr).to.equal(0)
    const worker = await client.get<MachineConfigPool>(R.machineConfigPools, 'worker')
    expect(removed.stderr).to.include(`node ${W2}: done — on ${worker.spec!.configuration!.name}`)
    expect(await labels(W2)).not.to.have.property(ROLE)

    // Once W1 runs the pool's image, taking it out is refused...
    const enabled = await run(['enable', POOL, '--kubeconfig', cluster.kubeconfig, '--wait'])
    expect(enabled.exitCode, enabled.stderr).to.equal(0)
    const refused = await nodes('remove', POOL, W1, '--yes')
    expect(refused.exitCode).to.equal(7)
    expect(refused.stderr).to.include(
      `error: refusing to remove ${W1} from pool layering: ${W1} runs a layered image, and on 4.14/4.15 a node cannot roll back from a layered to a non-layered configuration`,
    )
    expect(refused.stderr).to.include('"rolling back from a layered to non-layered configuration is not currently supported"')
    expect(refused.stderr).to.include(
      `next: take it off the layered image with \`oc mob rollback node ${W1}\` (it replaces the machine), or pass --force`,
    )
    expect(await labels(W1)).to.have.property(ROLE)

    // ...and with --force the daemon refuses, as on a real 4.14 cluster.
    const forced = await nodes('remove', POOL, W1, '--yes', '--force', '--wait')
    expect(forced.exitCode).to.equal(8)
    expect(forced.stdout).to.include('warning:').and.include('going ahead because of --force')
    expect(forced.stderr).to.include(
      `error: node ${W1} is Degraded: rolling back from a layered to non-layered configuration is not currently supported`,
    )
    expect(forced.stderr).to.include(`\`oc mob rollback node ${W1}\``)
    expect(await labels(W1)).not.to.have.property(ROLE)
  })
})
