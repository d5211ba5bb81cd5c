/**
 * The main commands through an unreliable network: a fault proxy between oc-mob and the emulated
 * cluster (TLS end to end), in each of its modes, and Ctrl-C at chosen moments. Every case ends with
 * the right answer, a clear error after a bounded number of retries, or exit 130 saying what was done
 * and what was not: never a wrong answer, a silent gap in a log, a hang or "unexpected failure".
 */
import {expect} from 'chai'
import {execa} from 'execa'
import {ExitCode, MobError} from '../../src/lib/errors.js'
import {KubeClient} from '../../src/lib/kube/client.js'
import {loadKubeconfig} from '../../src/lib/kube/kubeconfig.js'
import {R} from '../../src/lib/kube/resources.js'
import type {ConfigMap, MachineConfigPool, Node} from '../../src/lib/kube/types.js'
import type {Emulator, FakeKubelet} from '../../emulator/index.js'
import {startFakeKubelet} from '../../emulator/index.js'
import type {Cluster} from '../../emulator/sim/index.js'
import {type FaultProxy, startFaultProxy} from '../support/fault-proxy.js'
import {loseAnswerOnce, noBug} from '../support/lost-answer.js'
import {cliPath, MCO_NS, namespace, pool, ROOT, run, startEmulator, startCluster} from './harness.js'

const LABELS = 'machineconfiguration.openshift.io'
const RENDERED = 'rendered-layering-3333333333333333333333333333333d'
const BUILD = `build-${RENDERED}`
const LINES = 400
const LOG =
  Array.from({length: LINES}, (_, i) => `STEP ${i + 1}/${LINES}: ${'x'.repeat(60)} line ${i + 1} of the image build`).join('\n') + '\n'
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

async function until(what: string, cond: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

function buildPodObject() {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      creationTimestamp: '2026-01-01T10:00:00Z',
      labels: {[`${LABELS}/buildPod`]: '', [`${LABELS}/desiredConfig`]: RENDERED, [`${LABELS}/targetMachineConfigPool`]: 'layering'},
      name: BUILD,
      namespace: MCO_NS,
    },
    spec: {
      containers: ['image-build', 'wait-for-done'].map((name) => ({image: 'quay.io/buildah/stable:latest', name})),
      nodeName: 'node-1',
      restartPolicy: 'Never',
    },
    status: {
      containerStatuses: ['image-build', 'wait-for-done'].map((name) => ({
        name,
        ready: false,
        restartCount: 0,
        state: {terminated: {exitCode: 1, finishedAt: '2026-01-01T10:05:00Z', reason: 'Error', startedAt: '2026-01-01T10:00:00Z'}},
      })),
      phase: 'Failed',
    },
  }
}

describe('a flaky network between oc-mob and the cluster (fault proxy, TLS end to end)', function () {
  this.timeout(60_000)

  describe('reads and logs', () => {
    let emu: Emulator
    let kubelet: FakeKubelet
    let proxy: FaultProxy
    let kc: string
    const expected: Record<string, string> = {}

    before(async () => {
      kubelet = await startFakeKubelet()
      emu = await startEmulator({
        objects: [
          namespace(MCO_NS),
          kubelet.nodeObject('node-1'),
          pool('master'),
          pool('worker'),
          pool('layering', {layered: true, rendered: RENDERED, conditions: [['BuildFailed', 'True', 'BuildFailed']]}),
          {
            apiVersion: 'v1',
            data: {baseImagePullSecretName: 'pull', finalImagePullspec: 'quay.io/org/os:latest', finalImagePushSecretName: 'push'},
            kind: 'ConfigMap',
            metadata: {name: 'on-cluster-build-config', namespace: MCO_NS},
          },
          buildPodObject(),
        ],
      })
      kubelet.setLog(MCO_NS, BUILD, 'image-build', LOG)
      kubelet.endLog(MCO_NS, BUILD, 'image-build')
      proxy = await startFaultProxy({lifetimeMs: 120_000, target: emu.url})
      kc = proxy.kubeconfig(emu.kubeconfig)
      // The answers on a sound network, to compare with.
      for (const args of [
        ['status', '-o', 'json'],
        ['logs', 'layering'],
        ['cleanup', 'layering', '--dry-run', '-o', 'json'],
      ]) {
        const r = await run([...args, '--kubeconfig', emu.kubeconfig])
        expect(r.exitCode, r.stderr).to.be.oneOf([0])
        expected[args[0]] = r.stdout
      }

      expect(expected.logs.split('\n').filter(Boolean)).to.have.length(LINES)
    })

    afterEach(() => proxy.setMode({kind: 'none'}))
    after(async () => {
      await proxy?.close()
      await emu?.close()
      await kubelet?.close()
    })

    const stable = (text: string): string =>
      text.replaceAll(proxy.url, emu.url).replaceAll(/"(lastTransitionTime|creationTimestamp|age|time)": "[^"]*"/g, '')
    const same = async (command: 'cleanup' | 'logs' | 'status', extra: string[] = []): Promise<void> => {
      const args =
        command === 'status'
          ? ['status', '-o', 'json']
          : command === 'logs'
            ? ['logs', 'layering']
            : ['cleanup', 'layering', '--dry-run', '-o', 'json']
      const r = await run([...args, '--kubeconfig', kc, ...extra])
      noBug(r)
      expect(r.exitCode, r.stderr).to.equal(0)
      expect(stable(r.stdout)).to.equal(stable(expected[command]))
    }

    for (const command of ['status', 'logs', 'cleanup'] as const) {
      it(`reset-new-connections (half of them, the first included): ${command} gives the same answer`, async () => {
        proxy.setMode({fraction: 0.5, kind: 'reset-new'})
        const before = proxy.stats.resets
        await same(command)
        expect(proxy.stats.resets).to.be.above(before)
      })

      it(`latency (150 ms each way): ${command} gives the same answer`, async () => {
        proxy.setMode({kind: 'latency', ms: 150})
        await same(command)
      })

      it(`drop-after (every connection reset 150–400 ms after it opened): ${command} gives the same answer`, async () => {
        proxy.setMode({kind: 'drop-after', maxMs: 400, minMs: 150})
        await same(command)
      })

      it(`stall (1.5 s, all traffic held): ${command} gives the same answer, later`, async () => {
        proxy.setMode({forMs: 1500, kind: 'stall'})
        await same(command)
      })
    }

    it('stall longer than --request-timeout: a clear timeout error (exit 4), not retried', async () => {
      proxy.setMode({forMs: 4000, kind: 'stall'})
      const r = await run(['status', '--kubeconfig', kc, '--request-timeout', '1s'])
      noBug(r)
      expect(r.exitCode).to.equal(ExitCode.Unreachable)
      expect(r.stderr).to.match(
        /error: (the API server at \S+ (accepted the connection but did not complete the TLS handshake|did not answer \S+ \S+) within 1s|cannot reach the cluster at \S+: no connection within 1s)/,
      )
      expect(r.stderr).to.include('--request-timeout')
    })

    for (const bytes of [3000, 6000, 12_000, 20_000]) {
      it(`truncate (answers cut at byte ${bytes}, twice): logs prints all ${LINES} lines once, in order`, async () => {
        proxy.setMode({afterBytes: bytes, count: 2, kind: 'truncate'})
        await same('logs')
      })
    }

    it('truncate on every connection: logs fails clearly after a bounded number of tries, saying how many lines were shown', async () => {
      proxy.setMode({afterBytes: 4000, count: 1000, kind: 'truncate'})
      const r = await run(['logs', 'layering', '--kubeconfig', kc])
      noBug(r)
      expect(r.exitCode).to.equal(ExitCode.Unreachable)
      const shown = r.stdout.split('\n').filter(Boolean)
      expect(shown.length).to.be.below(LINES)
      expect(shown).to.deep.equal(expected.logs.split('\n').filter(Boolean).slice(0, shown.length))
      expect(r.stderr).to.match(
        new RegExp(
          `error: (the log of pod ${BUILD} was cut short 8 times; only its first ${shown.length} lines were shown|cannot reach the cluster)`,
        ),
      )
    })

    it('truncate: status and cleanup --dry-run answers cut off midway are asked for again', async () => {
      for (const command of ['status', 'cleanup'] as const) {
        proxy.setMode({afterBytes: 3500, count: 3, kind: 'truncate'})
        await same(command)
      }
    })

    it('every new connection reset during the TLS handshake: a connection error after 4 tries, not a certificate error', async () => {
      proxy.setMode({fraction: 1, kind: 'reset-new'})
      const before = proxy.stats.resets
      const client = new KubeClient(loadKubeconfig({kubeconfig: kc}), {backoffMs: 20})
      const error = await client.list(R.pods, {namespace: MCO_NS}).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).to.be.instanceOf(MobError)
      const e = error as MobError
      expect(e.code).to.equal('Unreachable')
      expect(e.exitCode).to.equal(ExitCode.Unreachable)
      expect(e.message).to.equal(`cannot reach the cluster at ${proxy.url}: the connection was reset during the TLS handshake`)
      expect(e.message).not.to.include('TLS verification')
      expect(proxy.stats.resets - before).to.equal(4)
    })
  })
  describe('writes, builds and Ctrl-C (simulated cluster)', () => {
    const POOL = 'layering'
    const W1 = 'ip-10-0-22-17.us-east-2.compute.internal'
    const ROLE = `node-role.kubernetes.io/${POOL}`
    let cluster: Cluster
    let client: KubeClient
    let proxy: FaultProxy
    let kc: string
    const setupArgs = ['setup', '--no-registry-check', '--pool', POOL, '--imagestream', 'os-image', '--clone-global-pull-secret', '--yes']

    before(async function () {
      this.timeout(180_000)
      cluster = await startCluster({delays: {buildMs: 1500, podStartMs: 50, pollMs: 100, rebootMs: 300, restartMs: 200}, mode: 'scripted'})
      client = new KubeClient(loadKubeconfig({kubeconfig: cluster.kubeconfig}))
      proxy = await startFaultProxy({lifetimeMs: 150_000, target: cluster.emulator.url})
      kc = proxy.kubeconfig(cluster.kubeconfig)
      // The shipped CLI, packed once (the Ctrl-C cases run it as a child process).
      cliPath()
    })

    afterEach(() => {
      proxy.setMode({kind: 'none'})
      cluster.emulator.faults.clear()
    })
    after(async () => {
      await proxy?.close()
      await cluster?.stop()
    })

    it('setup whose ConfigMap answer is lost: checks the ConfigMap, reports it done, and completes (exit 0)', async () => {
      const r = await loseAnswerOnce(
        proxy,
        kc,
        setupArgs,
        async () => Boolean(await client.find<ConfigMap>(R.configMaps, 'on-cluster-build-config', MCO_NS)),
        250,
      )
      expect(r.exitCode, r.stderr).to.equal(0)
      expect(r.stdout + r.stderr).not.to.include('not done')
      const cm = await client.get<ConfigMap>(R.configMaps, 'on-cluster-build-config', MCO_NS)
      expect(cm.data?.imageBuilderType ?? cm.data?.finalImagePushSecretName).to.be.a('string')
      expect(await client.find<MachineConfigPool>(R.machineConfigPools, POOL)).not.to.equal(undefined)
      // A second run finds everything in place.
      const again = await run([...setupArgs, '--kubeconfig', cluster.kubeconfig])
      expect(again.exitCode, again.stderr).to.equal(0)
    })

    it('nodes add whose label answer is lost: checks the node, reports the label applied (exit 0)', async () => {
      const r = await loseAnswerOnce(
        proxy,
        kc,
        ['nodes', 'add', POOL, W1, '--yes'],
        async () => Object.hasOwn((await client.get<Node>(R.nodes, W1)).metadata.labels ?? {}, ROLE),
        250,
      )
      expect(r.exitCode, r.stderr).to.equal(0)
      expect(r.stdout + r.stderr).not.to.match(/not done|not labelled/)
      expect((await client.get<Node>(R.nodes, W1)).metadata.labels).to.have.property(ROLE)
    })

    it('build --rebuild --follow with a third of new connections reset: built, with its log or a warning that it is missing', async () => {
      const e = await run(['enable', POOL, '--wait', '--kubeconfig', cluster.kubeconfig])
      expect(e.exitCode, e.stderr).to.equal(0)
      proxy.setMode({fraction: 0.34, kind: 'reset-new'})
      const r = await run(['build', POOL, '--rebuild', '--follow', '--kubeconfig', kc])
      noBug(r)
      expect(r.exitCode, r.stderr).to.equal(0)
      expect(r.stdout + r.stderr).to.match(/built /)
      expect(r.stderr).to.match(/STEP|warning: the build log/)
      const p = await client.get<MachineConfigPool>(R.machineConfigPools, POOL)
      expect(p.status?.conditions?.find((c) => c.type === 'BuildSuccess')?.status).to.equal('True')
    })

    /** The packed CLI as a child process, interrupted once `when` is true. */
    async function interruptWhen(args: string[], when: () => boolean) {
      const child = execa(process.execPath, [cliPath(), ...args, '--kubeconfig', kc], {
        cwd: ROOT,
        env: {NO_COLOR: '1'},
        reject: false,
        timeout: 40_000,
      })
      await until('the moment to interrupt', () => when() || child.exitCode !== null, 30_000)
      child.kill('SIGINT')
      const r = await child
      return {exitCode: r.exitCode ?? 1, stderr: String(r.stderr), stdout: String(r.stdout)}
    }

    const seen = (method: string, path: RegExp) => () => cluster.emulator.requests.some((q) => q.method === method && path.test(q.path))

    it('Ctrl-C while nodes add labels: exit 130 saying so, never "unexpected failure"', async () => {
      const W2 = 'ip-10-0-29-188.us-east-2.compute.internal'
      cluster.emulator.resetRequests()
      cluster.emulator.faults.latency({method: 'PATCH', path: new RegExp(`/nodes/${W2}$`)}, 3000)
      const r = await interruptWhen(['nodes', 'add', POOL, W2, '--yes'], seen('PATCH', new RegExp(`/nodes/${W2}$`)))
      noBug(r)
      expect(r.exitCode, r.stderr).to.equal(ExitCode.Interrupted)
      // The label write was in flight: not known to be done, and said so, with the way to finish.
      expect(r.stderr).to.include(`error: interrupted: labelled no node; not done (or not known to be done): ${W2}`)
      expect(r.stderr).to.include(`next: run \`oc mob nodes add ${POOL} ${W2}\` again: nodes already moved are left as they are`)
    })

    it('Ctrl-C during setup: exit 130, never "unexpected failure"', async () => {
      cluster.emulator.resetRequests()
      cluster.emulator.faults.latency({method: 'GET', path: /machineconfigpools/}, 3000)
      const r = await interruptWhen([...setupArgs], seen('GET', /machineconfigpools/))
      noBug(r)
      expect(r.exitCode, r.stderr).to.equal(ExitCode.Interrupted)
      expect(r.stderr).to.include('error: interrupted before setup changed anything: nothing was changed')
      expect(r.stderr).to.include('next: run the same command again when ready')
    })

    it('Ctrl-C during build --rebuild --follow before the pod exists: exit 130, and the pool keeps a true record', async () => {
      cluster.emulator.resetRequests()
      cluster.emulator.faults.latency({method: 'POST', path: /\/pods$/}, 3000)
      const r = await interruptWhen(['build', POOL, '--rebuild', '--follow'], seen('POST', /\/pods$/))
      noBug(r)
      expect(r.exitCode, r.stderr).to.equal(ExitCode.Interrupted)
      expect(r.stderr).to.match(
        /error: interrupted while starting build (build-rendered-layering-\S+) of pool layering: created configmap\/mc-\S+, created configmap\/dockerfile-\S+; create pod\/\1 was under way \(it may have been done\)/,
      )
      expect(r.stderr).to.include(`next: \`oc mob build ${POOL}\` joins the build pod if it exists and records it on the pool`)
      // The earlier build's success is still on record: nothing cleared it before a new pod existed.
      const p = await client.get<MachineConfigPool>(R.machineConfigPools, POOL)
      expect(p.status?.conditions?.find((c) => c.type === 'BuildSuccess')?.status).to.equal('True')
    })

    it('Ctrl-C during cleanup between its deletes: exit 130 saying what is gone and what is left; a re-run finishes', async () => {
      const leftovers = async () =>
        (await client.list<ConfigMap>(R.configMaps, {labelSelector: `${LABELS}/buildPod`, namespace: MCO_NS})).items.map(
          (c) => c.metadata.name,
        )
      // The ConfigMaps the interrupted build created before its pod.
      expect(await leftovers()).to.have.length.of.at.least(2)
      cluster.emulator.resetRequests()
      cluster.emulator.faults.latency({method: 'DELETE', path: /\/configmaps\//}, 3000)
      const r = await interruptWhen(['cleanup', POOL, '--yes'], seen('DELETE', /\/configmaps\//))
      noBug(r)
      expect(r.exitCode, r.stderr).to.equal(ExitCode.Interrupted)
      expect(r.stderr).to.match(/error: interrupted: deleted .*; not deleted \(or not known to be\): configmap\//)
      expect(r.stderr, r.stderr).to.include(`next: run \`oc mob cleanup ${POOL}\` again to finish: it starts from what is left`)
      cluster.emulator.faults.clear()
      const c = await run(['cleanup', POOL, '--yes', '--kubeconfig', kc])
      expect(c.exitCode, c.stderr).to.equal(0)
      expect(await leftovers()).to.deep.equal([])
    })
  })
})
