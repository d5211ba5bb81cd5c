/**
 * The OpenShift 4.18+ generation (a MachineOSConfig per pool, the machine-os-builder's MachineOSBuilds)
 * through an unreliable network: the fault proxy between oc-mob and a simulated 4.19 cluster (TLS end
 * to end), Ctrl-C at chosen moments, and a write whose answer is lost. Every case ends with the right
 * answer, or exit 130 saying what was done: never a wrong answer, a silent gap in a log, a hang or
 * "unexpected failure"; and the cluster is left as the command says.
 */
import {expect} from 'chai'
import {execa} from 'execa'
import {ExitCode} from '../../src/lib/errors.js'
import {R as SR} from '../../emulator/sim/client.js'
import {FAST, waitFor} from '../../emulator/sim/helpers.js'
import type {Cluster} from '../../emulator/sim/index.js'
import {JOB_POD} from '../../emulator/sim/machineos.js'
import {type FaultProxy, startFaultProxy} from '../support/fault-proxy.js'
import {loseAnswerOnce, noBug} from '../support/lost-answer.js'
import {cliPath, MCO_NS, optInWithMachineOSConfig, ROOT, run, startCluster} from './harness.js'

const P = 'machineconfiguration.openshift.io'
const REBUILD = `${P}/rebuild`
const POOL = 'worker'
const LINES = 300
const FAILED_LOG = Array.from({length: LINES}, (_, i) => `STEP ${i + 1}/${LINES}: ${'y'.repeat(50)} line ${i + 1} of a failing build`)

describe('a flaky network and a MachineOSConfig pool (4.19, simulated machine-os-builder, fault proxy)', function () {
  this.timeout(60_000)
  let cluster: Cluster
  let proxy: FaultProxy
  let kc: string

  before(async function () {
    this.timeout(180_000)
    cluster = await startCluster({
      controllers: {machineOS: true},
      delays: {...FAST, lineMs: 2, podStartMs: 100},
      emulator: {groups: {machineOS: true}},
      mode: 'scripted',
    })
    await optInWithMachineOSConfig(cluster)
    // The first build, on a sound network.
    const first = await run(['build', POOL, '--kubeconfig', cluster.kubeconfig])
    expect(first.exitCode, first.stderr).to.equal(0)
    proxy = await startFaultProxy({lifetimeMs: 150_000, target: cluster.emulator.url})
    kc = proxy.kubeconfig(cluster.kubeconfig)
    // The shipped CLI, packed once (the Ctrl-C cases run it as a child process).
    cliPath()
  })

  afterEach(() => {
    proxy?.setMode({kind: 'none'})
    cluster?.emulator.faults.clear()
  })
  after(async () => {
    await proxy?.close()
    await cluster?.stop()
  })

  const mosc = async (name = POOL) => (await cluster.client.get(SR.machineosconfigs, undefined, name))!
  const mosb = async () => {
    const [b] = (await cluster.client.list(SR.machineosbuilds)).items.filter((x) => x.spec.machineOSConfig.name === POOL)
    return b
  }
  const state = (b: {status?: {conditions?: Array<{type: string; status: string}>}}) =>
    b.status?.conditions?.find((c) => c.status === 'True')?.type

  describe('a build followed', () => {
    it('build --rebuild --follow with a third of new connections reset: built, with its whole log or a warning that it is missing', async () => {
      const before = await mosb()
      expect(state(before)).to.equal('Succeeded')
      proxy.setMode({fraction: 0.34, kind: 'reset-new'})
      const resets = proxy.stats.resets
      const r = await run(['build', POOL, '--rebuild', '--follow', '--kubeconfig', kc])
      noBug(r)
      expect(r.exitCode, r.stderr).to.equal(0)
      expect(proxy.stats.resets).to.be.above(resets)
      const out = r.stdout + r.stderr
      const image = /built (\S+@sha256:[0-9a-f]{64})/.exec(out)?.[1]
      expect(image, out).to.be.a('string')
      // The log, every line once and in order; or a warning that says it is missing, never a silent gap.
      const log = [
        'STEP 1/3: FROM quay.io/openshift-release-dev/ocp-v4.0-art-dev AS configs',
        'STEP 2/3: RUN ostree container commit',
        `STEP 3/3: LABEL io.openshift.machineconfig.build=build-${before.metadata.name}`,
        'Writing manifest to image destination',
        'Pushed',
      ]
      const shown = out.split('\n').filter((l) => log.includes(l))
      if (/warning: the build log (could not be read|shown may be incomplete)/.test(r.stderr))
        expect(new Set(shown).size, out).to.equal(shown.length)
      else expect(shown, out).to.deep.equal(log)
      // The cluster agrees: a new MachineOSBuild under the same name succeeded, the request is gone.
      const after = await mosb()
      expect(after.metadata.uid).not.to.equal(before.metadata.uid)
      expect(state(after)).to.equal('Succeeded')
      expect(after.status.digestedImagePushSpec).to.equal(image)
      const config = await mosc()
      expect(config.metadata.annotations ?? {}).not.to.have.property(REBUILD)
      expect(config.metadata.annotations?.[`${P}/current-machine-os-build`]).to.equal(after.metadata.name)
      expect(config.status.currentImagePullSpec).to.equal(image)
    })
  })

  describe('status and logs of a failed build', () => {
    const expected: Record<string, {exitCode: number; stdout: string; stderr: string}> = {}
    const ARGS = {logs: ['logs', POOL], status: ['status', POOL, '-o', 'json']}

    before(async function () {
      this.timeout(60_000)
      // Every attempt of the next build fails with a long log; its pods are kept.
      cluster.sim.addScripts([
        {exitCode: 1, logLines: FAILED_LOG, match: {container: 'image-build', namespace: MCO_NS, podName: JOB_POD}, times: 4},
      ])
      const failed = await run(['build', POOL, '--rebuild', '--kubeconfig', cluster.kubeconfig])
      expect(failed.exitCode, failed.stderr).to.equal(ExitCode.Failed)
      await waitFor('the failed build recorded', async () => state(await mosb()) === 'Failed')
      for (const [name, args] of Object.entries(ARGS)) {
        const r = await run([...args, '--kubeconfig', cluster.kubeconfig])
        expected[name] = r
      }

      expect(expected.logs.exitCode, expected.logs.stderr).to.equal(0)
      expect(expected.logs.stdout.split('\n').filter(Boolean)).to.deep.equal(FAILED_LOG)
      expect(JSON.parse(expected.status.stdout).pools[0].build.state).to.equal('failed')
    })

    const stable = (text: string): string =>
      text
        .replaceAll(proxy.url, cluster.emulator.url)
        .replaceAll(/"(lastTransitionTime|creationTimestamp|startTime|completionTime|age|time|since)": "[^"]*"/g, '')
    const same = async (command: 'logs' | 'status'): Promise<void> => {
      const r = await run([...ARGS[command], '--kubeconfig', kc])
      noBug(r)
      expect(r.exitCode, r.stderr).to.equal(expected[command].exitCode)
      expect(stable(r.stdout)).to.equal(stable(expected[command].stdout))
    }

    for (const command of ['status', 'logs'] as const) {
      it(`reset-new-connections (half of them, the first included): ${command} gives the same answer`, async () => {
        proxy.setMode({fraction: 0.5, kind: 'reset-new'})
        const before = proxy.stats.resets
        await same(command)
        expect(proxy.stats.resets).to.be.above(before)
      })

      for (const bytes of [3000, 9000]) {
        it(`truncate (answers cut at byte ${bytes}, twice): ${command} gives the same answer`, async () => {
          proxy.setMode({afterBytes: bytes, count: 2, kind: 'truncate'})
          const before = proxy.stats.truncated
          await same(command)
          expect(proxy.stats.truncated).to.be.above(before)
        })
      }
    }
  })

  describe('Ctrl-C during build --rebuild --follow', () => {
    /** The packed CLI as a child process, interrupted once `when` is true. */
    async function interruptWhen(args: string[], when: (stderr: string) => boolean) {
      const child = execa(process.execPath, [cliPath(), ...args, '--kubeconfig', kc], {
        cwd: ROOT,
        env: {NO_COLOR: '1'},
        reject: false,
        timeout: 40_000,
      })
      let err = ''
      child.stderr?.on('data', (d) => {
        err += String(d)
      })
      await waitFor('the moment to interrupt', () => when(err) || child.exitCode !== null, 30_000)
      child.kill('SIGINT')
      const r = await child
      return {exitCode: r.exitCode ?? 1, stderr: String(r.stderr), stdout: String(r.stdout)}
    }

    const patchOfConfig = () => () =>
      cluster.emulator.requests.some((q) => q.method === 'PATCH' && q.path === `/apis/${P}/v1/machineosconfigs/${POOL}`)

    it('Ctrl-C during build --rebuild --follow after the rebuild was asked for: exit 130 saying so; the builder rebuilds', async () => {
      const before = await mosb()
      cluster.emulator.resetRequests()
      // Once the CLI has the server's answer (said on stderr): the answer crosses the proxy after the server sent it.
      const r = await interruptWhen(['build', POOL, '--rebuild', '--follow'], (err) =>
        err.includes('asked the machine-os-builder to rebuild'),
      )
      noBug(r)
      expect(r.exitCode, r.stderr).to.equal(ExitCode.Interrupted)
      expect(r.stderr).to.include(`asked the machine-os-builder to rebuild ${before.metadata.name}`)
      expect(r.stderr).to.include(`error: interrupted: the build of pool ${POOL} goes on in the cluster`)
      expect(r.stderr).to.include(`oc mob build ${POOL}`)
      // As said: the request was made, so the builder takes it (the annotation goes) and builds anew.
      const rebuilt = await waitFor(
        'the new build to succeed',
        async () => {
          const b = await mosb()
          return b && b.metadata.uid !== before.metadata.uid && state(b) === 'Succeeded' ? b : undefined
        },
        30_000,
      )
      expect((await mosc()).metadata.annotations ?? {}).not.to.have.property(REBUILD)
      expect((await mosc()).status.currentImagePullSpec).to.equal(rebuilt.status.digestedImagePushSpec)
    })

    it('Ctrl-C while the rebuild request is under way: exit 130 saying it may have been made; the cluster ends consistent', async () => {
      const before = await mosb()
      cluster.emulator.resetRequests()
      cluster.emulator.faults.latency({method: 'PATCH', path: new RegExp(`/machineosconfigs/${POOL}$`)}, 1500)
      const r = await interruptWhen(['build', POOL, '--rebuild', '--follow'], patchOfConfig())
      noBug(r)
      expect(r.exitCode, r.stderr).to.equal(ExitCode.Interrupted)
      expect(r.stderr, r.stderr).to.include(
        `error: interrupted while asking the machine-os-builder to rebuild MachineOSBuild ${before.metadata.name} of pool ${POOL}: the annotation ${REBUILD} on MachineOSConfig ${POOL} was under way (it may have been made)`,
      )
      expect(r.stderr).to.include(
        `next: \`oc mob status ${POOL}\` shows whether a new build started (\`oc mob build ${POOL}\` follows it); if none did, ask again with \`oc mob build ${POOL} --rebuild\``,
      )
      // The server finishes with the write (made or not); the cluster is then whole either way.
      const patchRecord = () =>
        cluster.emulator.requests.find((q) => q.method === 'PATCH' && q.path === `/apis/${P}/v1/machineosconfigs/${POOL}`)
      const answered = await waitFor('the server done with the write', () => patchRecord()?.answeredAt !== undefined && patchRecord())
      if (answered.status === 200) {
        // Made: the builder takes the request and builds anew.
        await waitFor(
          'the new build to succeed',
          async () => {
            const b = await mosb()
            return b && b.metadata.uid !== before.metadata.uid && state(b) === 'Succeeded' ? b : undefined
          },
          30_000,
        )
      } else {
        // Not made: the build and its MachineOSConfig are as they were.
        expect((await mosb()).metadata.uid).to.equal(before.metadata.uid)
      }

      await waitFor('no rebuild request left', async () => !Object.hasOwn((await mosc()).metadata.annotations ?? {}, REBUILD))
      // The next step it gives: build joins what is there (exit 0), with no request left half-done.
      const next = await run(['build', POOL, '--kubeconfig', cluster.kubeconfig])
      expect(next.exitCode, next.stderr).to.equal(0)
      expect((await mosc()).metadata.annotations?.[`${P}/current-machine-os-build`]).to.equal((await mosb()).metadata.name)
      expect(state(await mosb())).to.equal('Succeeded')
    })
  })

  describe('a write whose answer is lost', () => {
    it('build --rebuild whose request answer is lost after the builder took it and cleared it: one rebuild, followed (exit 0)', async function () {
      this.timeout(120_000)
      const before = await mosb()
      cluster.emulator.resetRequests()
      let taken: string | undefined
      // The answer is held back until the builder has recreated the build and removed the annotation.
      const r = await loseAnswerOnce(
        proxy,
        kc,
        ['build', POOL, '--rebuild'],
        async () => {
          const b = await mosb()
          if (!b || b.metadata.uid === before.metadata.uid || Object.hasOwn((await mosc()).metadata.annotations ?? {}, REBUILD))
            return false
          taken = b.metadata.uid
          return true
        },
        1500,
      )
      expect(r.exitCode, r.stderr).to.equal(0)
      expect(r.stderr).to.include(`asked the machine-os-builder to rebuild ${before.metadata.name}`)
      const done = await mosb()
      expect(done.metadata.uid).to.equal(taken)
      expect(state(done)).to.equal('Succeeded')
      expect(r.stdout + r.stderr).to.include(done.status.digestedImagePushSpec)
      // Asked once: one rebuild request reached the server, and the builder deleted the build once.
      const asked = cluster.emulator.requests.filter(
        (q) => q.method === 'PATCH' && q.path === `/apis/${P}/v1/machineosconfigs/${POOL}` && q.body?.includes(`"${REBUILD}":""`),
      )
      expect(asked, JSON.stringify(asked)).to.have.length(1)
      const deletes = cluster.emulator.requests.filter(
        (q) => q.method === 'DELETE' && q.path.endsWith(`/machineosbuilds/${before.metadata.name}`),
      )
      expect(deletes).to.have.length(1)
    })

    it('setup whose MachineOSConfig create answer is lost: checks the object, reports it done (exit 0); it is as setup wanted', async () => {
      const args = [
        'setup',
        '--no-registry-check',
        '--pool',
        'infra',
        '--final-pullspec',
        'quay.io/org/os',
        '--push-secret',
        'push',
        '--yes',
      ]
      const r = await loseAnswerOnce(
        proxy,
        kc,
        args,
        async () => Boolean(await cluster.client.get(SR.machineosconfigs, undefined, 'infra')),
        150,
      )
      expect(r.exitCode, r.stderr).to.equal(0)
      expect(r.stdout + r.stderr).not.to.include('not done')
      expect(r.stdout).to.include('pool infra is opted in')
      expect((await mosc('infra')).spec).to.deep.equal({
        imageBuilder: {imageBuilderType: 'Job'},
        machineConfigPool: {name: 'infra'},
        renderedImagePushSecret: {name: 'push'},
        renderedImagePushSpec: 'quay.io/org/os:latest',
      })
      // A second run finds everything in place.
      const again = await run([...args, '--kubeconfig', cluster.kubeconfig])
      expect(again.exitCode, again.stderr).to.equal(0)
      expect(again.stdout).to.include('nothing to do: everything is set up already')
    })
  })
})
