import {expect} from 'chai'
import {KubeClient} from '../../src/lib/kube/client.js'
import {loadKubeconfig} from '../../src/lib/kube/kubeconfig.js'
import {R} from '../../src/lib/kube/resources.js'
import type {KubeObject, MachineConfigPool, Node} from '../../src/lib/kube/types.js'
import {waitFor} from '../../src/lib/kube/watch.js'
import {defaultFixturePath, type Emulator} from '../../emulator/index.js'
import type {Cluster} from '../../emulator/sim/index.js'
import {MCO_NS, run, runBin, startEmulator, startCluster as startSim} from './harness.js'

const NS = MCO_NS
const POOL = 'layering'
const LABEL = 'machineconfiguration.openshift.io/layering-enabled'
const IMAGE_ANNOTATION = 'machineconfiguration.openshift.io/newestImageEquivalentConfig'
const W1 = 'ip-10-0-22-17.us-east-2.compute.internal'
const W2 = 'ip-10-0-29-188.us-east-2.compute.internal'
const DELAYS = {buildMs: 500, podStartMs: 50, pollMs: 100, rebootMs: 300, restartMs: 200}

const setupArgs = (kubeconfig: string): string[] => [
  'setup',
  '--no-registry-check',
  '--kubeconfig',
  kubeconfig,
  '--pool',
  POOL,
  '--imagestream',
  'os-image',
  '--clone-global-pull-secret',
  '--yes',
]

async function layered(client: KubeClient): Promise<boolean> {
  const pool = await client.get<MachineConfigPool>(R.machineConfigPools, POOL)
  return Object.hasOwn(pool.metadata.labels ?? {}, LABEL)
}

describe('oc mob enable / disable (end to end, simulated cluster)', function () {
  this.timeout(180_000)
  let cluster: Cluster
  let client: KubeClient

  afterEach(async () => cluster?.stop())

  const start = async (opts: Parameters<typeof startSim>[0] = {}): Promise<void> => {
    cluster = await startSim({delays: DELAYS, mode: 'scripted', ...opts})
    client = new KubeClient(loadKubeconfig({kubeconfig: cluster.kubeconfig}))
    const s = await run(setupArgs(cluster.kubeconfig))
    expect(s.exitCode, s.stderr).to.equal(0)
  }

  it('--wait follows the machine-os-builder, the build and the rollout of two nodes, one at a time; disable --wait then waits for the cleanup', async () => {
    await start()
    const added = await run(['nodes', 'add', POOL, W1, W2, '--kubeconfig', cluster.kubeconfig, '--yes', '--wait'])
    expect(added.exitCode, added.stderr).to.equal(0)

    const r = await run(['enable', POOL, '--kubeconfig', cluster.kubeconfig, '--wait', '-o', 'json'])
    expect(r.exitCode, r.stderr).to.equal(0)
    const result = JSON.parse(r.stdout)
    expect(result).to.include({generation: 'configmap', outcome: 'enabled', pool: POOL})
    expect(result.change.action).to.equal('update')
    const pool = await client.get<MachineConfigPool>(R.machineConfigPools, POOL)
    const image = pool.metadata.annotations![IMAGE_ANNOTATION]
    expect(image).to.match(
      /^image-registry\.openshift-image-registry\.svc:5000\/openshift-machine-config-operator\/os-image@sha256:[0-9a-f]{64}$/,
    )
    expect(result.image).to.equal(image)
    expect(result.nodes.map((n: {name: string; phase: string; currentImage: string}) => [n.name, n.phase, n.currentImage])).to.deep.equal([
      [W1, 'done', image],
      [W2, 'done', image],
    ])

    const err = r.stderr
    for (const s of [
      'machine-os-builder running',
      `build build-${pool.spec!.configuration!.name} pending`,
      `building the image for ${pool.spec!.configuration!.name}`,
      `built ${image}`,
      `rolling out to 2 nodes: ${W1}, ${W2}`,
    ]) {
      expect(err).to.include(s)
    }

    // setup said the push secret's lifetime when it chose it; enable does not repeat it.
    expect(err).not.to.include('push secret lifetime')

    // maxUnavailable 1: the second node starts only once the first is done.
    const firstDone = err.indexOf(`node ${W1}: done`)
    expect(firstDone).to.be.greaterThan(0)
    expect(err.indexOf(`node ${W2}: updating`)).to.be.greaterThan(firstDone)
    expect(err).to.include(`node ${W1}: rebooting`)
    for (const name of [W1, W2]) {
      const node = await client.get<Node>(R.nodes, name)
      expect(node.metadata.annotations!['machineconfiguration.openshift.io/currentImage']).to.equal(image)
      expect(node.metadata.annotations!['machineconfiguration.openshift.io/state']).to.equal('Done')
    }

    // The build the cluster ran and enable --wait followed is in the history: status says the image matches its config.
    const status = JSON.parse((await run(['status', POOL, '--kubeconfig', cluster.kubeconfig, '-o', 'json'])).stdout)
    expect(status.pools[0]).to.include({image, imageMatchesConfig: 'yes'})
    expect(status.pools[0].imageEvidence).to.match(/^image history: built by the cluster, followed by oc-mob for rendered-/)

    // Opted in already: nothing changes, --wait returns at once with the image.
    const again = await run(['enable', POOL, '--kubeconfig', cluster.kubeconfig, '--wait'])
    expect(again.exitCode, again.stderr).to.equal(0)
    expect(again.stdout).to.include(`pool ${POOL} was opted in already`).and.include(`image: ${image}`)

    // disable: refused without confirmation (no terminal), then done with --yes --wait.
    const refused = await runBin(['disable', POOL, '--kubeconfig', cluster.kubeconfig])
    expect(refused.exitCode).to.equal(2)
    expect(refused.stderr).to.include(
      `2 nodes of pool ${POOL} (${W1}, ${W2}) run a layered image. On 4.14/4.15 a node cannot roll back from a layered image by itself`,
    )
    expect(refused.stderr).to.include('`oc mob rollback node NODE`')
    expect(refused.stderr).to.include('there is no terminal to ask on; nothing was changed')
    expect(await layered(client)).to.equal(true)
    const dry = await run(['disable', POOL, '--kubeconfig', cluster.kubeconfig, '--dry-run'])
    expect(dry.exitCode, dry.stderr).to.equal(0)
    expect(dry.stdout).to.include(`dry run: would patch machineconfigpool/${POOL}: remove the label ${LABEL}; nothing was changed`)
    expect(await layered(client)).to.equal(true)

    const off = await run(['disable', POOL, '--kubeconfig', cluster.kubeconfig, '--yes', '--wait'])
    expect(off.exitCode, off.stderr).to.equal(0)
    expect(off.stdout).to.include(`pool ${POOL} opted out of on-cluster builds; the cluster has removed its build state`)
    expect(off.stderr).to.include('no other pool is opted in: the Machine Config Operator removes the machine-os-builder')
    const after = await client.get<MachineConfigPool>(R.machineConfigPools, POOL)
    expect(after.metadata.labels ?? {}).not.to.have.property(LABEL)
    expect(after.metadata.annotations ?? {}).not.to.have.property(IMAGE_ANNOTATION)
    expect((after.status?.conditions ?? []).map((c) => c.type)).not.to.include.members(['BuildSuccess'])
    expect(await client.find(R.deployments, 'machine-os-builder', NS)).to.equal(undefined)
    const notAgain = await run(['disable', POOL, '--kubeconfig', cluster.kubeconfig, '--yes'])
    expect(notAgain.stdout).to.include(`pool ${POOL} is not opted in; nothing to do`)
  })

  it("--build runs the one-shot build from here while the cluster's builder is down", async () => {
    await start({controllers: {operator: false}})
    const r = await run(['enable', POOL, '--kubeconfig', cluster.kubeconfig, '--build'])
    expect(r.exitCode, r.stderr).to.equal(0)
    const pool = await client.get<MachineConfigPool>(R.machineConfigPools, POOL)
    const image = pool.metadata.annotations![IMAGE_ANNOTATION]
    expect(image).to.match(/@sha256:[0-9a-f]{64}$/)
    expect(r.stdout).to.include(`pool ${POOL} opted into on-cluster builds`).and.include(`image: ${image}`)
    expect(r.stderr).to.include(`creating mc-${pool.spec!.configuration!.name}`)
    expect(pool.metadata.labels).to.have.property(LABEL)
    expect(await client.find(R.deployments, 'machine-os-builder', NS)).to.equal(undefined)
  })

  it('--wait reports a failed build (the 4.14 hang) with the end of its log', async () => {
    await start()
    cluster.sim.addScripts([
      {
        exitCode: 1,
        logLines: ['STEP 1/4: FROM base', 'error: building at STEP "RUN exit 1": exit status 1'],
        match: {container: 'image-build', podName: /^build-/},
      },
    ])
    const r = await run(['enable', POOL, '--kubeconfig', cluster.kubeconfig, '--wait'])
    expect(r.exitCode).to.equal(8)
    expect(r.stderr).to.include(`error: the build of pool ${POOL} failed: container image-build exited with code 1`)
    expect(r.stderr).to.include('the 4.14 wait-for-done container waits forever after a failed build')
    expect(r.stderr).to.include('error: building at STEP "RUN exit 1": exit status 1')
    expect(r.stderr).to.include(`oc mob cleanup ${POOL}`)
  })

  it('--wait shows why the machine-os-builder cannot run, from its log', async () => {
    await start()
    cluster.sim.addScripts([
      {
        exitCode: 255,
        logLines: ['F1123 10:00:00.000000       1 start.go:61] could not start: on-cluster-build-config is unreadable'],
        match: {container: 'machine-os-builder'},
      },
    ])
    const r = await run(['enable', POOL, '--kubeconfig', cluster.kubeconfig, '--wait', '--timeout', '60s'])
    expect(r.exitCode).to.equal(8)
    expect(r.stderr).to.match(/error: the machine-os-builder \(pod machine-os-builder-\S+\) is failing: /)
    expect(r.stderr).to.include('could not start: on-cluster-build-config is unreadable')
  })

  it('refuses to opt in when setup is missing or a pool is degraded, changing nothing; --dry-run changes nothing', async () => {
    cluster = await startSim({delays: DELAYS, mode: 'scripted'})
    client = new KubeClient(loadKubeconfig({kubeconfig: cluster.kubeconfig}))
    const missing = await run(['enable', 'worker', '--kubeconfig', cluster.kubeconfig])
    expect(missing.exitCode).to.equal(6)
    expect(missing.stderr).to.include('on-cluster builds are not set up: the build settings (on-cluster-build-config) are missing')
    expect(missing.stderr).to.include('fix: run `oc mob setup --pool worker`')
    expect(missing.stderr).to.include('error: pool worker cannot be opted in: the build settings check above failed; nothing was changed')
    const unknown = await run(['enable', 'nope', '--kubeconfig', cluster.kubeconfig])
    expect(unknown.exitCode).to.equal(6)
    expect(unknown.stderr).to.include('pool nope not found; pools are: master, worker')

    expect((await run(setupArgs(cluster.kubeconfig))).exitCode).to.equal(0)
    const dry = await run(['enable', POOL, '--kubeconfig', cluster.kubeconfig, '--dry-run'])
    expect(dry.exitCode, dry.stderr).to.equal(0)
    expect(dry.stdout).to.include(`dry run: would patch machineconfigpool/${POOL}: add the label ${LABEL}=`)
    expect(await layered(client)).to.equal(false)

    // A degraded pool: the operator builds nothing while it is degraded.
    await cluster.stop()
    cluster = await startSim({controllers: {nodes: false}, delays: DELAYS, mode: 'scripted'})
    client = new KubeClient(loadKubeconfig({kubeconfig: cluster.kubeconfig}))
    expect((await run(setupArgs(cluster.kubeconfig))).exitCode).to.equal(0)
    await waitFor(client, R.machineConfigPools, POOL, (p: MachineConfigPool | undefined) => p?.spec?.configuration?.name || undefined, {
      timeoutMs: 20_000,
    })
    await client.update<MachineConfigPool>(
      R.machineConfigPools,
      POOL,
      (p) => {
        p.status = {
          ...p.status,
          conditions: [
            {message: 'Failed to render configuration for pool layering: boom', reason: '', status: 'True', type: 'RenderDegraded'},
            {status: 'True', type: 'Degraded'},
          ],
        }
      },
      {subresource: 'status'},
    )
    const degraded = await run(['enable', POOL, '--kubeconfig', cluster.kubeconfig])
    expect(degraded.exitCode).to.equal(7)
    expect(degraded.stderr).to.include('1 pool is degraded: layering')
    expect(degraded.stderr).to.include('cannot be opted in: the pools check above failed; nothing was changed')
    expect(degraded.stderr).to.include('pool layering: RenderDegraded: Failed to render configuration for pool layering: boom')
    expect(await layered(client)).to.equal(false)
  })
})

describe("oc mob enable --wait and the operator's MachineOSBuilderFailed (end to end, API server only)", function () {
  this.timeout(120_000)
  let emu: Emulator

  afterEach(async () => emu?.close())

  it("ends with the operator's reason when it marks machine-config Degraded after the opt-in", async () => {
    emu = await startEmulator({fixture: defaultFixturePath(), groups: {machineOS: false}})
    const client = new KubeClient(loadKubeconfig({kubeconfig: emu.kubeconfig}))
    expect((await run(setupArgs(emu.kubeconfig))).exitCode).to.equal(0)
    const pending = run(['enable', POOL, '--kubeconfig', emu.kubeconfig, '--wait'])
    // Play the operator: it sees the label, fails to validate, and reports it.
    await waitFor(
      client,
      R.machineConfigPools,
      POOL,
      (p: MachineConfigPool | undefined) => (p && Object.hasOwn(p.metadata.labels ?? {}, LABEL) ? true : undefined),
      {timeoutMs: 30_000},
    )
    const message =
      'Failed to resync 4.14.12 because: secret builder-dockercfg-7wq9x from on-cluster-build-config is not found. Did you use the right secret name?'
    await client.update<KubeObject & {status?: {conditions?: unknown[]}}>(
      R.clusterOperators,
      'machine-config',
      (co) => {
        co.status = {
          ...co.status,
          conditions: [
            {lastTransitionTime: new Date().toISOString(), message, reason: 'MachineOSBuilderFailed', status: 'True', type: 'Degraded'},
          ],
        }
      },
      {subresource: 'status'},
    )
    const r = await pending
    expect(r.exitCode).to.equal(8)
    expect(r.stderr).to.include(`error: the Machine Config Operator cannot start the machine-os-builder: ${message}`)
    expect(r.stderr).to.include('oc get co machine-config')
  })
})
