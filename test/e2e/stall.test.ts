import {expect} from 'chai'
import type {Cluster} from '../../emulator/sim/index.js'
import {R as SR, type Obj} from '../../emulator/sim/client.js'
import {FAST, waitFor} from '../../emulator/sim/helpers.js'
import {JOB_POD} from '../../emulator/sim/machineos.js'
import {MCO_NS, run, startCluster as startSim, optInWithMachineOSConfig} from './harness.js'

// A build that makes no progress is recognised from its state and ends the wait with its cause and
// next step (exit code 8), leaving the build as it is: every case driven through the simulation.
const POOL = 'layering'
const P = 'machineconfiguration.openshift.io'
const DELAYS = {...FAST, buildMs: 300, podStartMs: 50, pollMs: 50, rebootMs: 200}
// an administrator's taint: the node lifecycle controller would take a not-ready taint off a Ready node at once
const MAINTENANCE = {effect: 'NoSchedule', key: 'example.com/maintenance'}

async function taintAll(cluster: Cluster, on: boolean): Promise<number> {
  const nodes = (await cluster.client.list(SR.nodes)).items
  for (const n of nodes) {
    const others = (n.spec?.taints ?? []).filter((t: Obj) => t.key !== MAINTENANCE.key)
    await cluster.client.patch(SR.nodes, undefined, n.metadata.name, {spec: {taints: on ? [...others, MAINTENANCE] : others}})
  }

  return nodes.length
}

const kc = (cluster: Cluster): string[] => ['--kubeconfig', cluster.kubeconfig]

describe('a build that makes no progress (end to end, simulated cluster)', function () {
  this.timeout(180_000)

  describe('4.14/4.15: oc mob build', () => {
    let cluster: Cluster
    let rendered: string
    const podName = (): string => `build-${rendered}`
    const buildPod = async (): Promise<Obj | undefined> => cluster.client.get(SR.pods, MCO_NS, podName())

    before(async () => {
      // No operator: nothing but oc mob builds, so each case sees only its own build.
      cluster = await startSim({controllers: {operator: false}, delays: DELAYS, mode: 'scripted'})
      const s = await run([
        'setup',
        '--no-registry-check',
        ...kc(cluster),
        '--pool',
        POOL,
        '--imagestream',
        'os-image',
        '--clone-global-pull-secret',
        '--yes',
      ])
      expect(s.exitCode, s.stderr).to.equal(0)
      const e = await run(['enable', POOL, ...kc(cluster)])
      expect(e.exitCode, e.stderr).to.equal(0)
      rendered = await waitFor(
        'the pool rendered',
        async () => (await cluster.client.get(SR.pools, undefined, POOL))?.spec?.configuration?.name,
        20_000,
      )
    })

    after(async () => cluster?.stop())

    /** The way out each stalled build names: remove it, then nothing of it is left. */
    async function cleanUp(): Promise<void> {
      const c = await run(['cleanup', POOL, '--force', '--yes', ...kc(cluster)])
      expect(c.exitCode, c.stderr).to.equal(0)
      expect(await buildPod()).to.equal(undefined)
    }

    it("a build pod no node can take: the scheduler's message, exit 8, the pod left Pending", async () => {
      const nodes = await taintAll(cluster, true)
      try {
        const t0 = Date.now()
        const r = await run(['build', POOL, ...kc(cluster)])
        expect(Date.now() - t0, 'at once, not after a timeout').to.be.lessThan(20_000)
        expect(r.exitCode).to.equal(8)
        expect(r.stderr).to.include(`error: build pod ${podName()} cannot be scheduled: no node fits it`)
        expect(r.stderr)
          .to.include(`the scheduler says: 0/${nodes} nodes are available: `)
          .and.to.include('had untolerated taint {example.com/maintenance: }')
        expect(r.stderr).to.include(`oc mob cleanup ${POOL} --force`).and.to.include('taints')
        // Nothing changed or lost: the build is still there, as it was.
        const pod = await buildPod()
        expect(pod?.status?.phase).to.equal('Pending')
        expect(await cluster.client.get(SR.configmaps, MCO_NS, `mc-${rendered}`)).to.not.equal(undefined)
        const s = JSON.parse((await run(['status', POOL, '-o', 'json', ...kc(cluster)])).stdout)
        const problem = s.problems.find((p: {message: string}) => p.message.includes('cannot be scheduled'))
        expect(problem, JSON.stringify(s.problems)).to.deep.include({pool: POOL, severity: 'error'})
        expect(problem.message).to.include('untolerated taint {example.com/maintenance: }')
        await cleanUp()
      } finally {
        await taintAll(cluster, false)
      }
    })

    it('an image that cannot be pulled: names the image and the pull secret', async () => {
      cluster.sim.addScripts([
        {
          exitCode: 0,
          logLines: [],
          match: {container: 'image-build', namespace: MCO_NS, podName: /^build-/},
          pullError:
            'rpc error: code = Unknown desc = reading manifest latest in quay.io/buildah/stable: unauthorized: access to the requested resource is not authorized',
          times: 1,
        },
      ])
      const r = await run(['build', POOL, ...kc(cluster)])
      expect(r.exitCode).to.equal(8)
      expect(r.stderr).to.match(
        new RegExp(
          `error: container image-build of build pod ${podName()} cannot pull its image quay\\.io/buildah/stable:latest \\((ErrImagePull|ImagePullBackOff)\\)`,
        ),
      )
      expect(r.stderr).to.include('openshift-config/pull-secret')
      expect(r.stderr).to.match(/the kubelet says: (rpc error|Back-off pulling image)/)
      expect((await buildPod())?.status?.phase).to.equal('Pending')
      await cleanUp()
    })

    it('logs -f of a build pod no node can take: the cause instead of waiting for ever', async () => {
      await taintAll(cluster, true)
      try {
        // Start the build and leave it (Ctrl-C-like: a short --timeout); it stays Pending.
        const b = await run(['build', POOL, '--timeout', '1s', ...kc(cluster)])
        expect(b.exitCode).to.equal(8)
        const r = await run(['logs', POOL, '-f', ...kc(cluster)])
        expect(r.exitCode).to.equal(8)
        expect(r.stderr).to.include(`error: build pod ${podName()} cannot be scheduled: no node fits it`)
        expect(r.stderr).to.include('had untolerated taint {example.com/maintenance: }')
        expect((await buildPod())?.status?.phase).to.equal('Pending')
        await cleanUp()
      } finally {
        await taintAll(cluster, false)
      }
    })

    it("an evicted build pod: the node's message and what to do; the failure is recorded as before", async () => {
      cluster.sim.addScripts([
        {
          evict:
            'The node was low on resource: ephemeral-storage. Threshold quantity: 10Gi, available: 1Gi. Container image-build was using 15Gi, request is 0.',
          exitCode: 0,
          logLines: ['STEP 1/4: FROM base'],
          match: {container: 'image-build', namespace: MCO_NS, podName: /^build-/},
          times: 1,
        },
      ])
      const r = await run(['build', POOL, ...kc(cluster)])
      expect(r.exitCode).to.equal(8)
      expect(r.stderr).to.include(`error: build ${podName()} of pool ${POOL} failed: build pod ${podName()} was evicted by its node`)
      expect(r.stderr).to.include('the kubelet says: The node was low on resource: ephemeral-storage.')
      expect(r.stderr).to.include('make room on the nodes')
      const pod = await buildPod()
      expect(pod?.status).to.deep.include({phase: 'Failed', reason: 'Evicted'})
      await cleanUp()
    })

    it('an OOMKilled image-build (the pod hangs in 4.14): the cause, not just an exit code', async () => {
      cluster.sim.addScripts([
        {
          exitCode: 137,
          logLines: ['STEP 1/4: FROM base', 'STEP 2/4: RUN dnf install -y kernel-devel'],
          match: {container: 'image-build', namespace: MCO_NS, podName: /^build-/},
          terminatedReason: 'OOMKilled',
          times: 1,
        },
      ])
      const r = await run(['build', POOL, ...kc(cluster)])
      expect(r.exitCode).to.equal(8)
      expect(r.stderr).to.include(`container image-build of build pod ${podName()} ran out of memory (OOMKilled, exit code 137)`)
      expect(r.stderr).to.include('give the build more memory')
      expect(r.stderr).to.include('STEP 2/4: RUN dnf install -y kernel-devel')
      await cleanUp()
    })

    it('image-build done but the digest ConfigMap never appears: stuck after --stall-timeout, not for ever', async () => {
      cluster.sim.addScripts([
        {
          exitCode: 0,
          hangAfter: true,
          logLines: ['+ while [ ! -f /tmp/done/digestfile ]'],
          match: {container: 'wait-for-done', namespace: MCO_NS, podName: /^build-/},
          times: 1,
        },
      ])
      const t0 = Date.now()
      const r = await run(['build', POOL, '--stall-timeout', '2s', ...kc(cluster)])
      expect(Date.now() - t0).to.be.lessThan(30_000)
      expect(r.exitCode).to.equal(8)
      expect(r.stderr).to.match(
        new RegExp(
          `error: container image-build of build pod ${podName()} finished \\d+s ago, but ConfigMap digest-${rendered} has not appeared: the build waits for ever`,
        ),
      )
      expect(r.stderr).to.include(`oc mob logs ${POOL} -c wait-for-done`)
      expect((await buildPod())?.status?.phase).to.equal('Running')
      const bad = await run(['build', POOL, '--stall-timeout', 'soon', ...kc(cluster)])
      expect(bad.exitCode).to.equal(2)
      await cleanUp()
    })

    it("--follow with a log that cannot be read: a warning saying how to read it, and the build's result", async () => {
      cluster.emulator.faults.failNext(
        {path: new RegExp(`/pods/build-${rendered}/log$`)},
        1000,
        500,
        'error trying to reach service: proxy error',
      )
      try {
        const r = await run(['build', POOL, '--follow', '--rebuild', ...kc(cluster)])
        expect(r.exitCode, r.stderr).to.equal(0)
        expect(r.stderr).to.include('warning: the build log could not be read')
        expect(r.stderr).to.include(`read the log with \`oc mob logs ${POOL}\``)
        expect(r.stdout).to.match(/image: {4}\S+@sha256:[0-9a-f]{64}/)
      } finally {
        cluster.emulator.faults.clear()
      }
    })
  })

  describe('4.14/4.15: enable --wait and status while the machine-os-builder cannot be scheduled', () => {
    let cluster: Cluster
    before(async () => {
      cluster = await startSim({delays: DELAYS, mode: 'scripted'})
      const s = await run([
        'setup',
        '--no-registry-check',
        ...kc(cluster),
        '--pool',
        POOL,
        '--imagestream',
        'os-image',
        '--clone-global-pull-secret',
        '--yes',
      ])
      expect(s.exitCode, s.stderr).to.equal(0)
    })
    after(async () => cluster?.stop())

    it('enable --wait says why the builder does not start instead of waiting silently; status says the same, not `oc mob logs --builder`', async () => {
      const nodes = await taintAll(cluster, true)
      const t0 = Date.now()
      const r = await run(['enable', POOL, '--wait', ...kc(cluster)])
      expect(Date.now() - t0).to.be.lessThan(30_000)
      expect(r.exitCode).to.equal(8)
      expect(r.stderr).to.match(/error: the machine-os-builder pod machine-os-builder-\S+ cannot be scheduled, so no build can start/)
      expect(r.stderr)
        .to.include(`the scheduler says: 0/${nodes} nodes are available: `)
        .and.to.include('had untolerated taint {example.com/maintenance: }')
      expect(r.stderr).to.include('tolerations')
      // The opt-in itself was made and stays.
      expect(Object.hasOwn((await cluster.client.get(SR.pools, undefined, POOL))!.metadata.labels ?? {}, `${P}/layering-enabled`)).to.equal(
        true,
      )

      const s = JSON.parse((await run(['status', '-o', 'json', ...kc(cluster)])).stdout)
      const problem = s.problems.find((p: {message: string}) => p.message.includes('machine-os-builder'))
      expect(problem.message).to.include('cannot be scheduled').and.to.include('untolerated taint {example.com/maintenance: }')
      expect(problem.next).to.not.include('oc mob logs --builder')
      await taintAll(cluster, false)
    })
  })

  describe('4.18+: the Job of a MachineOSBuild', () => {
    let cluster: Cluster
    before(async () => {
      cluster = await startSim({
        controllers: {machineOS: true},
        delays: {...DELAYS, lineMs: 5, podStartMs: 100},
        emulator: {groups: {machineOS: true}},
        mode: 'scripted',
      })
      await optInWithMachineOSConfig(cluster)
      const first = await run(['build', 'worker', ...kc(cluster)])
      expect(first.exitCode, first.stderr).to.equal(0)
    })
    after(async () => cluster?.stop())
    const mosbName = async (): Promise<string> =>
      (await cluster.client.list(SR.machineosbuilds)).items.find((b) => b.spec.machineOSConfig.name === 'worker')!.metadata.name

    it('a failed attempt the Job retries: "attempt 2 of 4" with the failed attempt\'s last lines, and the build goes on to its image', async () => {
      cluster.sim.addScripts([
        {
          exitCode: 1,
          logLines: [
            'STEP 1/2: FROM quay.io/openshift-release-dev/ocp-v4.0-art-dev AS configs',
            'error: copying layer: connection reset by peer',
          ],
          match: {container: 'image-build', namespace: MCO_NS, podName: JOB_POD},
          times: 1,
        },
      ])
      const r = await run(['build', 'worker', '--rebuild', '-o', 'json', ...kc(cluster)])
      expect(r.exitCode, r.stderr).to.equal(0)
      expect(JSON.parse(r.stdout).outcome).to.equal('succeeded')
      const mosb = await mosbName()
      expect(r.stderr).to.match(
        new RegExp(
          `warning: attempt 1 of 4 \\(pod build-${mosb}-[0-9a-f]{5}\\) failed: container image-build exited with code 1 \\(Error\\); the Job tries again: attempt 2 of 4`,
        ),
      )
      expect(r.stderr).to.include('error: copying layer: connection reset by peer')
    })

    it('logs -f of an attempt that fails: its log, then that the Job tries again', async () => {
      cluster.sim.addScripts([
        {
          durationMs: 1500,
          exitCode: 1,
          logLines: [
            'STEP 1/2: FROM quay.io/openshift-release-dev/ocp-v4.0-art-dev AS configs',
            'error: copying layer: connection reset by peer',
          ],
          match: {container: 'image-build', namespace: MCO_NS, podName: JOB_POD},
          times: 1,
        },
      ])
      await cluster.client.patch(SR.machineosconfigs, undefined, 'worker', {metadata: {annotations: {[`${P}/rebuild`]: ''}}})
      const mosb = await mosbName()
      await waitFor(
        'the first attempt',
        async () => (await cluster.client.list(SR.pods, MCO_NS, `job-name=build-${mosb}`)).items.length > 0,
        20_000,
      )
      const r = await run(['logs', 'worker', '-f', ...kc(cluster)])
      expect(r.exitCode, r.stderr).to.equal(0)
      expect(r.stdout).to.include('error: copying layer: connection reset by peer')
      expect(r.stderr).to.match(
        /warning: attempt 1 of 4 \(pod build-\S+\) failed: container image-build exited with code 1 \(Error\); the Job tries again: attempt 2 of 4/,
      )
      expect(r.stderr).to.include('oc mob logs worker -f')
      const done = await run(['build', 'worker', ...kc(cluster)])
      expect(done.exitCode, done.stderr).to.equal(0)
    })

    it("a Job pod no node can take: exit 8 with the attempt, the scheduler's message and the rebuild annotation as the way out", async () => {
      const nodes = await taintAll(cluster, true)
      try {
        const r = await run(['build', 'worker', '--rebuild', ...kc(cluster)])
        expect(r.exitCode).to.equal(8)
        const mosb = await mosbName()
        expect(r.stderr).to.match(
          new RegExp(`error: build pod build-${mosb}-[0-9a-f]{5} cannot be scheduled: no node fits it \\(attempt 1 of 4\\)`),
        )
        expect(r.stderr).to.include(`the scheduler says: 0/${nodes} nodes are available`)
        expect(r.stderr).to.include(`oc annotate machineosconfig/worker ${P}/rebuild=`)
        const pods = (await cluster.client.list(SR.pods, MCO_NS, `job-name=build-${mosb}`)).items
        expect(pods.map((p) => p.status?.phase)).to.deep.equal(['Pending'])
        const s = JSON.parse((await run(['status', 'worker', '-o', 'json', ...kc(cluster)])).stdout)
        expect(s.problems.map((p: {message: string}) => p.message).join('\n')).to.include(
          'cannot be scheduled: no node fits it (attempt 1 of 4)',
        )
      } finally {
        await taintAll(cluster, false)
      }

      // Once a node fits, the build goes on by itself and oc mob build re-attaches.
      const mosb = await mosbName()
      await waitFor(
        'the scheduler to bind the Job pod',
        async () => (await cluster.client.list(SR.pods, MCO_NS, `job-name=build-${mosb}`)).items.some((p) => p.spec?.nodeName),
        20_000,
      )
      const again = await run(['build', 'worker', '-o', 'json', ...kc(cluster)])
      expect(again.exitCode, again.stderr).to.equal(0)
    })
  })
})
