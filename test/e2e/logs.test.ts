import {expect} from 'chai'
import {execa} from 'execa'
import type {Emulator, FakeKubelet} from '../../emulator/index.js'
import {startFakeKubelet} from '../../emulator/index.js'
import type {Cluster} from '../../emulator/sim/index.js'
import type {ContainerProcess} from '../../emulator/sim/kubelet.js'
import {FAST, getPool, layeredPool, setupLayering, condTrue, waitFor} from '../../emulator/sim/helpers.js'
import {R as SR} from '../../emulator/sim/client.js'
import {cliPath, MCO_NS, namespace, pool, ROOT, run, startEmulator, startCluster as startSimCluster} from './harness.js'

const BUILD_LABELS = 'machineconfiguration.openshift.io'
const R = {
  imgb: 'rendered-imgb-1111111111111111111111111111111a',
  infraNew: 'rendered-infra-2222222222222222222222222222222b',
  infraOld: 'rendered-infra-0000000000000000000000000000000c',
  layering: 'rendered-layering-3333333333333333333333333333333d',
  layeringOld: 'rendered-layering-0000000000000000000000000000000e',
}
const TS_LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z /

type Terminated = {exitCode: number; reason?: string}
type ContainerState = 'running' | 'waiting' | Terminated

function buildPod(
  name: string,
  poolName: string,
  rendered: string,
  opts: {phase: string; created: string; containers?: Record<string, ContainerState>; node?: string},
) {
  const containers = opts.containers ?? {
    'image-build': {exitCode: 0, reason: 'Completed'},
    'wait-for-done': {exitCode: 0, reason: 'Completed'},
  }
  const state = (s: ContainerState) =>
    s === 'running'
      ? {running: {startedAt: opts.created}}
      : s === 'waiting'
        ? {waiting: {reason: 'ContainerCreating'}}
        : {terminated: {...s, finishedAt: opts.created, startedAt: opts.created}}
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      annotations: {[`${BUILD_LABELS}/pool`]: ''},
      creationTimestamp: opts.created,
      labels: {
        [`${BUILD_LABELS}/buildPod`]: '',
        [`${BUILD_LABELS}/desiredConfig`]: rendered,
        [`${BUILD_LABELS}/targetMachineConfigPool`]: poolName,
      },
      name,
      namespace: MCO_NS,
    },
    spec: {
      containers: Object.keys(containers).map((c) => ({image: 'quay.io/buildah/stable:latest', name: c})),
      nodeName: opts.node ?? 'node-1',
      restartPolicy: 'Never',
    },
    status: {
      containerStatuses: Object.entries(containers).map(([c, s]) => ({name: c, ready: s === 'running', restartCount: 0, state: state(s)})),
      phase: opts.phase,
    },
  }
}

/** The output of `oc mob logs`, run as a child process (for signals and real streams). */
function spawnLogs(args: string[]) {
  return execa(process.execPath, [cliPath(), 'logs', ...args], {
    cwd: ROOT,
    env: {FORCE_COLOR: undefined, NO_COLOR: '1'},
    extendEnv: true,
    reject: false,
    stripFinalNewline: false,
    timeout: 60_000,
  })
}

describe('oc mob logs (end to end, API server + kubelet)', function () {
  this.timeout(120_000)
  let emu: Emulator
  let kubelet: FakeKubelet
  const IMAGE_BUILD = Array.from({length: 30}, (_, i) => `STEP ${i + 1}/30: line ${i + 1} of the image build`).join('\n') + '\n'

  before(async () => {
    kubelet = await startFakeKubelet()
    emu = await startEmulator({
      objects: [
        namespace(MCO_NS),
        kubelet.nodeObject('node-1'),
        pool('master'),
        pool('worker'),
        pool('layering', {
          layered: true,
          rendered: R.layering,
          conditions: [
            ['BuildSuccess', 'False'],
            ['Building', 'True', 'BuildRunning'],
          ],
        }),
        pool('infra', {layered: true, rendered: R.infraNew, conditions: [['Building', 'True', 'BuildRunning']]}),
        pool('imgb', {layered: true, rendered: R.imgb, conditions: [['BuildSuccess', 'True', 'BuildSucceeded']]}),
        pool('done', {
          layered: true,
          conditions: [['BuildSuccess', 'True', 'BuildSucceeded']],
          image: 'quay.io/org/os@sha256:' + 'd'.repeat(64),
        }),
        pool('fresh', {layered: true}),
        {
          apiVersion: 'v1',
          data: {baseImagePullSecretName: 'pull', finalImagePullspec: 'quay.io/org/os:latest', finalImagePushSecretName: 'push'},
          kind: 'ConfigMap',
          metadata: {name: 'on-cluster-build-config', namespace: MCO_NS},
        },
        // layering: the current build (finished) and an older one; the current one is preferred although older by date
        buildPod(`build-${R.layering}`, 'layering', R.layering, {created: '2026-01-01T10:00:00Z', phase: 'Succeeded'}),
        buildPod(`build-${R.layeringOld}`, 'layering', R.layeringOld, {
          containers: {'image-build': {exitCode: 1, reason: 'Error'}, 'wait-for-done': 'running'},
          created: '2026-01-02T10:00:00Z',
          phase: 'Running',
        }),
        // infra: only a pod of an older rendered config, still building
        buildPod(`build-${R.infraOld}`, 'infra', R.infraOld, {
          containers: {'image-build': 'running', 'wait-for-done': 'running'},
          created: '2026-01-01T11:00:00Z',
          phase: 'Running',
        }),
        // imgb: an OpenShift Build and the pod OpenShift ran for it
        {
          apiVersion: 'build.openshift.io/v1',
          kind: 'Build',
          metadata: {
            annotations: {'openshift.io/build.pod-name': `build-${R.imgb}-build`},
            creationTimestamp: '2026-01-01T12:00:00Z',
            labels: {
              [`${BUILD_LABELS}/buildPod`]: '',
              [`${BUILD_LABELS}/desiredConfig`]: R.imgb,
              [`${BUILD_LABELS}/targetMachineConfigPool`]: 'imgb',
            },
            name: `build-${R.imgb}`,
            namespace: MCO_NS,
          },
          spec: {strategy: {type: 'Docker'}},
          status: {phase: 'Complete'},
        },
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            labels: {
              'openshift.io/build.name': `build-${R.imgb}`,
              [`${BUILD_LABELS}/buildPod`]: '',
              [`${BUILD_LABELS}/targetMachineConfigPool`]: 'imgb',
            },
            name: `build-${R.imgb}-build`,
            namespace: MCO_NS,
          },
          spec: {containers: [{image: 'builder', name: 'docker'}], nodeName: 'node-1'},
          status: {containerStatuses: [{name: 'docker', state: {terminated: {exitCode: 0, reason: 'Completed'}}}], phase: 'Succeeded'},
        },
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            creationTimestamp: '2026-01-01T09:00:00Z',
            labels: {'k8s-app': 'machine-os-builder'},
            name: 'machine-os-builder-6d5f7b-abcde',
            namespace: MCO_NS,
          },
          spec: {containers: [{image: 'mco', name: 'machine-os-builder'}], nodeName: 'node-1'},
          status: {
            containerStatuses: [{name: 'machine-os-builder', ready: true, state: {running: {startedAt: '2026-01-01T09:00:00Z'}}}],
            phase: 'Running',
          },
        },
      ],
    })
    kubelet.setLog(MCO_NS, `build-${R.layering}`, 'image-build', IMAGE_BUILD)
    kubelet.endLog(MCO_NS, `build-${R.layering}`, 'image-build')
    kubelet.setLog(MCO_NS, `build-${R.layering}`, 'wait-for-done', `configmap/digest-${R.layering} created\n`)
    kubelet.endLog(MCO_NS, `build-${R.layering}`, 'wait-for-done')
    kubelet.setLog(MCO_NS, `build-${R.layeringOld}`, 'image-build', 'old build\nError: building at STEP "RUN false"\n')
    kubelet.setLog(MCO_NS, `build-${R.infraOld}`, 'image-build', 'infra step 1\ninfra step 2\n')
    kubelet.setLog(
      MCO_NS,
      `build-${R.imgb}-build`,
      'docker',
      'Cloning "FROM scratch" ...\nSTEP 1/9: FROM quay.io/openshift/os AS extract\nPush successful\n',
    )
    kubelet.endLog(MCO_NS, `build-${R.imgb}-build`, 'docker')
    kubelet.setLog(
      MCO_NS,
      'machine-os-builder-6d5f7b-abcde',
      'machine-os-builder',
      'I0101 09:00:00.000000       1 start.go:49] Version: 4.14.12\nI0101 09:00:01.000000       1 build_controller.go:236] Starting MachineOSBuilder-BuildController\n',
    )
  })

  after(async () => {
    await emu?.close()
    await kubelet?.close()
  })

  const kc = () => ['--kubeconfig', emu.kubeconfig]

  it('prints the log of a finished build pod (image-build), preferring build-<current rendered config>', async () => {
    emu.resetRequests()
    const r = await run(['logs', 'layering', ...kc()])
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stdout).to.equal(IMAGE_BUILD)
    expect(r.stderr).to.equal('')
    const logReqs = emu.requests.filter((q) => q.path.endsWith('/log'))
    expect(logReqs.map((q) => q.path)).to.deep.equal([`/api/v1/namespaces/${MCO_NS}/pods/build-${R.layering}/log`])
    expect(kubelet.requests.at(-1)!.path).to.equal(`/containerLogs/${MCO_NS}/build-${R.layering}/image-build`)
  })

  it('-c wait-for-done shows the other container', async () => {
    const r = await run(['logs', 'layering', '-c', 'wait-for-done', ...kc()])
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stdout).to.equal(`configmap/digest-${R.layering} created\n`)
    const bad = await run(['logs', 'layering', '-c', 'nope', ...kc()])
    expect(bad.exitCode).to.equal(2)
    expect(bad.stderr).to.include(`build pod build-${R.layering} has no container nope; its containers are: image-build, wait-for-done`)
  })

  it('--tail N prints the last N lines', async () => {
    const r = await run(['logs', 'layering', '--tail', '3', ...kc()])
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stdout).to.equal(IMAGE_BUILD.split('\n').slice(-4).join('\n'))
    expect(r.stdout.split('\n')).to.have.length(4)
  })

  it('--timestamps starts every line with its RFC 3339 timestamp', async () => {
    const r = await run(['logs', 'layering', '--timestamps', '--tail', '5', ...kc()])
    expect(r.exitCode, r.stderr).to.equal(0)
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines).to.have.length(5)
    for (const l of lines) expect(l).to.match(TS_LINE)
    expect(lines.map((l) => l.replace(TS_LINE, ''))).to.deep.equal(IMAGE_BUILD.trimEnd().split('\n').slice(-5))
    // without the flag, no timestamps although the client always asks for them (to resume)
    const plain = await run(['logs', 'layering', '--tail', '1', ...kc()])
    expect(plain.stdout).to.equal('STEP 30/30: line 30 of the image build\n')
  })

  it("says on stderr when the build shown is for an older rendered config than the pool's current one", async () => {
    const r = await run(['logs', 'infra', ...kc()])
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stdout).to.equal('infra step 1\ninfra step 2\n')
    expect(r.stderr).to.include(
      `note: build-${R.infraOld} is for rendered config ${R.infraOld}, not pool infra's current rendered config ${R.infraNew}`,
    )
  })

  it("--builder shows the machine-os-builder pod's log", async () => {
    const r = await run(['logs', '--builder', ...kc()])
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stdout).to.include('Starting MachineOSBuilder-BuildController')
    expect(kubelet.requests.at(-1)!.path).to.equal(`/containerLogs/${MCO_NS}/machine-os-builder-6d5f7b-abcde/machine-os-builder`)
    const withPool = await run(['logs', 'layering', '--builder', ...kc()])
    expect(withPool.exitCode).to.equal(2)
  })

  it('reads builds/log when the cluster uses the image builder and the pool has a Build', async () => {
    emu.resetRequests()
    const r = await run(['logs', 'imgb', ...kc()])
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stdout).to.equal('Cloning "FROM scratch" ...\nSTEP 1/9: FROM quay.io/openshift/os AS extract\nPush successful\n')
    expect(emu.requests.filter((q) => q.path.endsWith('/log')).map((q) => q.path)).to.deep.equal([
      `/apis/build.openshift.io/v1/namespaces/${MCO_NS}/builds/build-${R.imgb}/log`,
    ])
    const c = await run(['logs', 'imgb', '-c', 'wait-for-done', ...kc()])
    expect(c.exitCode).to.equal(2)
    expect(c.stderr).to.include('OpenShift Build')
  })

  it("--all prints every pool's build log in turn, each line prefixed with [pool]", async () => {
    // a pool whose build pod has not started yet is skipped with a note
    const slow = 'rendered-slow-5555555555555555555555555555555a'
    await emu.request(
      'POST',
      '/apis/machineconfiguration.openshift.io/v1/machineconfigpools',
      pool('slow', {layered: true, rendered: slow}),
    )
    const unscheduled = buildPod(`build-${slow}`, 'slow', slow, {created: '2026-01-01T13:00:00Z', phase: 'Pending'}) as {
      spec: {nodeName?: string}
    }
    delete unscheduled.spec.nodeName
    expect((await emu.request('POST', `/api/v1/namespaces/${MCO_NS}/pods`, unscheduled)).status).to.equal(201)
    let r: Awaited<ReturnType<typeof run>> | undefined
    try {
      r = await run(['logs', '--all', '--tail', '2', ...kc()])
    } finally {
      await emu.request('DELETE', `/api/v1/namespaces/${MCO_NS}/pods/build-${slow}`)
      await emu.request('DELETE', '/apis/machineconfiguration.openshift.io/v1/machineconfigpools/slow')
    }

    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stderr).to.include(
      `[slow] image-build of pod build-${slow} has not started yet (not scheduled to a node yet), so it has no log yet`,
    )
    expect(r.stdout).to.equal(
      [
        '[imgb] STEP 1/9: FROM quay.io/openshift/os AS extract',
        '[imgb] Push successful',
        '[infra] infra step 1',
        '[infra] infra step 2',
        '[layering] STEP 29/30: line 29 of the image build',
        '[layering] STEP 30/30: line 30 of the image build',
        '',
      ].join('\n'),
    )
  })

  it('without a pool and with several pools building, asks for one and names them (exit 2)', async () => {
    const r = await run(['logs', ...kc()])
    expect(r.exitCode).to.equal(2)
    expect(r.stderr).to.include('error: several pools have builds: imgb, infra, layering; name one')
    expect(r.stderr).to.include('--all')
  })

  it('names the pools when the pool does not exist (exit 6)', async () => {
    const r = await run(['logs', 'nope', ...kc()])
    expect(r.exitCode).to.equal(6)
    expect(r.stderr).to.include('error: pool nope not found; pools are: done, fresh, imgb, infra, layering, master, worker')
    expect(r.stderr).to.include('next:')
    expect(r.stderr).not.to.match(/\n\s+at /)
  })

  it('explains a build pod removed after a successful build (exit 6)', async () => {
    const r = await run(['logs', 'done', ...kc()])
    expect(r.exitCode).to.equal(6)
    expect(r.stderr).to.include(
      `error: the build of pool done succeeded (image quay.io/org/os@sha256:${'d'.repeat(64)}) and its build pod is gone`,
    )
    expect(r.stdout).to.equal('')
  })

  it('says how to start a build when none was ever started (exit 6)', async () => {
    const r = await run(['logs', 'fresh', ...kc()])
    expect(r.exitCode).to.equal(6)
    expect(r.stderr).to.include('error: no build has been started for pool fresh and its rendered config rendered-fresh-')
    expect(r.stderr).to.include('next: start one with `oc mob build fresh`')
    const worker = await run(['logs', 'worker', ...kc()])
    expect(worker.exitCode).to.equal(6)
    expect(worker.stderr).to.include('pool worker is not opted into on-cluster builds')
    expect(worker.stderr).to.include('oc mob enable worker')
  })

  it('refuses -o json|yaml: a log is plain text (exit 2)', async () => {
    const r = await run(['logs', 'layering', '-o', 'json', ...kc()])
    expect(r.exitCode).to.equal(2)
    expect(r.stderr).to.include('-o json is not supported by `oc mob logs`')
    expect(r.stdout).to.equal('')
  })

  it('Ctrl-C stops following: exit 130 and a note that the build goes on', async () => {
    const child = spawnLogs(['infra', '-f', ...kc()])
    let out = ''
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
    })
    await waitFor('the first lines', () => out.includes('infra step 2'), 30_000)
    kubelet.appendLog(MCO_NS, `build-${R.infraOld}`, 'image-build', 'infra step 3\n')
    await waitFor('the appended line', () => out.includes('infra step 3'), 10_000)
    child.kill('SIGINT')
    const r = await child
    expect(r.exitCode).to.equal(130)
    expect(String(r.stdout)).to.equal('infra step 1\ninfra step 2\ninfra step 3\n')
    expect(String(r.stderr)).to.include(
      'interrupted: stopped following the log; the build goes on in the cluster (`oc mob logs infra -f` picks it up again',
    )
    expect(String(r.stderr)).not.to.match(/\n\s+at /)
    // the build pod was not touched
    const pod = await emu.request('GET', `/api/v1/namespaces/${MCO_NS}/pods/build-${R.infraOld}`)
    expect(pod.status).to.equal(200)
    expect(pod.body.status.phase).to.equal('Running')
  })

  it("-f waits for a Build that has not started, then follows builds/log to the Build's end across a dropped stream", async () => {
    const rendered = 'rendered-imgw-4444444444444444444444444444444f'
    const B = '/apis/build.openshift.io/v1/namespaces/' + MCO_NS + '/builds'
    const merge = {'Content-Type': 'application/merge-patch+json'}
    await emu.request(
      'POST',
      '/apis/machineconfiguration.openshift.io/v1/machineconfigpools',
      pool('imgw', {layered: true, rendered, conditions: [['BuildPending', 'True', 'BuildPending']]}),
    )
    await emu.request('POST', B, {
      apiVersion: 'build.openshift.io/v1',
      kind: 'Build',
      metadata: {
        annotations: {'openshift.io/build.pod-name': `build-${rendered}-build`},
        labels: {
          [`${BUILD_LABELS}/buildPod`]: '',
          [`${BUILD_LABELS}/desiredConfig`]: rendered,
          [`${BUILD_LABELS}/targetMachineConfigPool`]: 'imgw',
        },
        name: `build-${rendered}`,
        namespace: MCO_NS,
      },
      spec: {strategy: {type: 'Docker'}},
    })
    // The first builds/log stream ends cleanly after 40 bytes (mid-line) while the Build still runs.
    emu.faults.dropLogAfter({path: new RegExp(`/builds/build-${rendered}/log$`)}, 40)
    emu.resetRequests()
    try {
      const pending = run(['logs', 'imgw', '-f', ...kc()])
      await new Promise((r) => setTimeout(r, 500))
      // OpenShift starts the build pod, the Build runs, writes its log and completes
      const podRes = await emu.request('POST', `/api/v1/namespaces/${MCO_NS}/pods`, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {labels: {'openshift.io/build.name': `build-${rendered}`}, name: `build-${rendered}-build`, namespace: MCO_NS},
        spec: {containers: [{image: 'builder', name: 'docker'}], nodeName: 'node-1'},
        status: {phase: 'Running'},
      })
      expect(podRes.status).to.equal(201)
      kubelet.setLog(MCO_NS, `build-${rendered}-build`, 'docker', 'STEP 1/2: FROM base\n')
      await emu.request('PATCH', `${B}/build-${rendered}/status`, {status: {phase: 'Running'}}, merge)
      await new Promise((r) => setTimeout(r, 300))
      kubelet.appendLog(MCO_NS, `build-${rendered}-build`, 'docker', 'STEP 2/2: LABEL x=y\nPush successful\n')
      await emu.request('PATCH', `${B}/build-${rendered}/status`, {status: {phase: 'Complete'}}, merge)
      kubelet.endLog(MCO_NS, `build-${rendered}-build`, 'docker')
      const r = await pending
      expect(r.exitCode, r.stderr).to.equal(0)
      expect(r.stdout).to.equal('STEP 1/2: FROM base\nSTEP 2/2: LABEL x=y\nPush successful\n')
      const logReads = emu.requests.filter(
        (q: {path: string; status?: number}) => q.path.endsWith(`/builds/build-${rendered}/log`) && q.status === 200,
      )
      expect(logReads.length, 'resumed after the drop').to.be.at.least(2)
      expect(r.stderr).to.include(`waiting for Build build-${rendered} to start (phase New)`)
      expect(r.stderr).to.include(`Build build-${rendered} ended: Complete`)
    } finally {
      await emu.request('DELETE', `/apis/machineconfiguration.openshift.io/v1/machineconfigpools/imgw`)
      await emu.request('DELETE', `${B}/build-${rendered}`)
      await emu.request('DELETE', `/api/v1/namespaces/${MCO_NS}/pods/build-${rendered}-build`)
    }
  })

  it('a closed pipe (| head) ends the command quietly', async () => {
    const child = spawnLogs(['infra', '-f', ...kc()])
    let out = ''
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      child.stdout!.destroy()
    })
    await waitFor('the first lines', () => out.length > 0, 30_000)
    for (let i = 0; i < 20; i++) kubelet.appendLog(MCO_NS, `build-${R.infraOld}`, 'image-build', `more ${i}\n`)
    const r = await child
    expect(r.exitCode).to.equal(0)
    expect(String(r.stderr)).not.to.match(/error|EPIPE|\n\s+at /)
  })

  it('-f on a failed image-build ends with its exit code and explains the wait-for-done hang', async () => {
    kubelet.endLog(MCO_NS, `build-${R.layeringOld}`, 'image-build')
    // Ask for the old pod by deleting nothing: point the pool at the old rendered config.
    await emu.request(
      'PATCH',
      '/apis/machineconfiguration.openshift.io/v1/machineconfigpools/layering',
      {spec: {configuration: {name: R.layeringOld}}},
      {'Content-Type': 'application/merge-patch+json'},
    )
    try {
      const r = await run(['logs', 'layering', '-f', ...kc()])
      expect(r.exitCode, r.stderr).to.equal(0)
      expect(r.stdout).to.equal('old build\nError: building at STEP "RUN false"\n')
      expect(r.stderr).to.include(`image-build of build pod build-${R.layeringOld} failed (exit code 1, Error)`)
      expect(r.stderr).to.include('wait-for-done keeps the pod Running')
      expect(r.stderr).to.include('oc mob cleanup layering')
    } finally {
      await emu.request(
        'PATCH',
        '/apis/machineconfiguration.openshift.io/v1/machineconfigpools/layering',
        {spec: {configuration: {name: R.layering}}},
        {'Content-Type': 'application/merge-patch+json'},
      )
    }
  })
})

/** image-build stand-in: numbered lines with the pool's name, then the digest file for wait-for-done. */
function numberedImageBuild(lines: number, everyMs: number): ContainerProcess {
  return {
    match: {container: 'image-build', namespace: MCO_NS, podName: /^build-/},
    async run(ctx) {
      const pool = ctx.pod.metadata.labels?.[`${BUILD_LABELS}/targetMachineConfigPool`] ?? '?'
      for (let i = 1; i <= lines; i++) {
        if (ctx.signal.aborted) return 137
        ctx.log(`${pool} build line ${String(i).padStart(4, '0')} ${'x'.repeat(40)}`)
        if (i % 5 === 0) await new Promise((r) => setTimeout(r, everyMs))
      }

      ctx.emptyDir('done').set('digestfile', `sha256:${'5'.repeat(64)}`)
      return 0
    },
  }
}

const expectedLines = (pool: string, n: number) =>
  Array.from({length: n}, (_, i) => `${pool} build line ${String(i + 1).padStart(4, '0')} ${'x'.repeat(40)}`)

describe('oc mob logs (end to end, simulated cluster)', function () {
  this.timeout(120_000)
  let cluster: Cluster

  afterEach(async () => {
    await cluster?.stop()
  })

  it('-f waits for the pending pod, follows the build to its end across a dropped stream, then explains the removed pod', async () => {
    const LINES = 200
    cluster = await startSimCluster({delays: {...FAST, podStartMs: 1500}, mode: 'scripted', processes: [numberedImageBuild(LINES, 25)]})
    const em = cluster.emulator as Emulator
    // the first log stream is cut after 3000 bytes, mid-line
    em.faults.dropLogAfter({path: /\/pods\/build-rendered-layered-[0-9a-f]+\/log$/}, 3001)
    await setupLayering(cluster.client)
    await waitFor('the build pod', async () => (await cluster.client.list(SR.pods, MCO_NS, `${BUILD_LABELS}/buildPod`)).items[0])
    em.resetRequests()
    const r = await run(['logs', 'layered', '-f', '--kubeconfig', cluster.kubeconfig])
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stdout).to.equal(expectedLines('layered', LINES).join('\n') + '\n')
    expect(r.stderr).to.match(/waiting for image-build of build pod build-rendered-layered-[0-9a-f]+ to start \(ContainerCreating\)/)
    // the pod ends, and may already be removed by the operator when the stream ends
    expect(r.stderr).to.match(
      /image-build of build pod build-rendered-layered-[0-9a-f]+ finished (\(exit code 0, Completed\)|and the operator removed it: the build of pool layered succeeded \(image quay\.io\/example\/os-image@sha256:5{64}\))/,
    )
    // the stream really was cut and resumed
    const logReqs = em.requests.filter((q: {path: string; status?: number}) => q.path.endsWith('/log') && q.status === 200)
    expect(logReqs.length).to.be.at.least(2)

    await waitFor(
      'BuildSuccess and the pod removed',
      async () => {
        const p = await getPool(cluster.client, 'layered')
        const pods = (await cluster.client.list(SR.pods, MCO_NS, `${BUILD_LABELS}/buildPod`)).items
        return condTrue(p, 'BuildSuccess') && pods.length === 0
      },
      20_000,
    )
    const gone = await run(['logs', 'layered', '--kubeconfig', cluster.kubeconfig])
    expect(gone.exitCode).to.equal(6)
    expect(gone.stderr).to.match(
      /error: the build of pool layered succeeded \(image quay\.io\/example\/os-image@sha256:5{64}\) and its build pod is gone/,
    )
    // without a pool: the only opted-in pool is explained the same way
    const noPool = await run(['logs', '--kubeconfig', cluster.kubeconfig])
    expect(noPool.exitCode).to.equal(6)
    expect(noPool.stderr).to.include('the build of pool layered succeeded')
  })

  it('--all -f interleaves two pools building at once, each line prefixed, none lost or repeated', async () => {
    const LINES = 120
    cluster = await startSimCluster({delays: {...FAST, podStartMs: 200}, mode: 'scripted', processes: [numberedImageBuild(LINES, 30)]})
    await setupLayering(cluster.client)
    await cluster.client.create(SR.pools, undefined, layeredPool('second', {label: true}))
    await waitFor('two build pods', async () => (await cluster.client.list(SR.pods, MCO_NS, `${BUILD_LABELS}/buildPod`)).items.length === 2)
    const r = await run(['logs', '--all', '-f', '--kubeconfig', cluster.kubeconfig])
    expect(r.exitCode, r.stderr).to.equal(0)
    const lines = r.stdout.trimEnd().split('\n')
    const of = (p: string) => lines.filter((l) => l.startsWith(`[${p}] `)).map((l) => l.slice(p.length + 3))
    expect(of('layered')).to.deep.equal(expectedLines('layered', LINES))
    expect(of('second')).to.deep.equal(expectedLines('second', LINES))
    expect(lines).to.have.length(2 * LINES)
    // interleaved as they arrived, not one after the other
    const firstSecond = lines.findIndex((l) => l.startsWith('[second] '))
    const lastLayered = lines.findLastIndex((l) => l.startsWith('[layered] '))
    expect(firstSecond).to.be.lessThan(lastLayered)
    expect(r.stderr).to.match(/\[layered\] image-build of build pod \S+ finished \(exit code 0/)
    expect(r.stderr).to.match(/\[second\] image-build of build pod \S+ finished \(exit code 0/)
  })

  it('--all -f picks up a pool that starts building while it follows, and ends when no pool is building', async () => {
    const LINES = 60
    // 60 lines, 5 every 150 ms: each build runs for about 1.8 s.
    cluster = await startSimCluster({delays: {...FAST, podStartMs: 200}, mode: 'scripted', processes: [numberedImageBuild(LINES, 150)]})
    await setupLayering(cluster.client)
    await waitFor(
      'the first build pod',
      async () => (await cluster.client.list(SR.pods, MCO_NS, `${BUILD_LABELS}/buildPod`)).items.length === 1,
    )
    const following = run(['logs', '--all', '-f', '--kubeconfig', cluster.kubeconfig])
    // Opted in after the command started, while layered is still building.
    await new Promise((r) => setTimeout(r, 600))
    await cluster.client.create(SR.pools, undefined, layeredPool('second', {label: true}))
    const r = await following
    expect(r.exitCode, r.stderr).to.equal(0)
    const lines = r.stdout.trimEnd().split('\n')
    const of = (p: string) => lines.filter((l) => l.startsWith(`[${p}] `)).map((l) => l.slice(p.length + 3))
    expect(of('layered')).to.deep.equal(expectedLines('layered', LINES))
    expect(of('second')).to.deep.equal(expectedLines('second', LINES))
    expect(lines).to.have.length(2 * LINES)
    expect(r.stderr).to.include('waiting for the build pod of pool second')
    // It ended by itself once the second build had ended too.
    expect(r.stderr).to.match(/\[second\] image-build of build pod \S+ finished/)
  })
})

describe('oc mob logs --all -f before the build pod exists (end to end, API server + kubelet)', function () {
  this.timeout(60_000)

  it('waits for the pool that is about to build, follows its pod, and ends with it', async () => {
    const rendered = 'rendered-solo-5555555555555555555555555555555f'
    const kubelet = await startFakeKubelet()
    const emu = await startEmulator({
      objects: [
        namespace(MCO_NS),
        kubelet.nodeObject('node-1'),
        pool('worker'),
        pool('solo', {conditions: [['BuildPending', 'True', 'BuildPending']], layered: true, rendered}),
        pool('idle', {layered: true}),
        {
          apiVersion: 'v1',
          data: {baseImagePullSecretName: 'pull', finalImagePullspec: 'quay.io/org/os:latest', finalImagePushSecretName: 'push'},
          kind: 'ConfigMap',
          metadata: {name: 'on-cluster-build-config', namespace: MCO_NS},
        },
      ],
    })
    try {
      const kc = ['--kubeconfig', emu.kubeconfig]
      const without = await run(['logs', '--all', ...kc])
      expect(without.exitCode, 'without -f there is nothing to show yet').to.equal(6)
      const following = run(['logs', '--all', '-f', ...kc])
      await new Promise((r) => setTimeout(r, 700))
      const name = `build-${rendered}`
      const created = new Date().toISOString()
      const res = await emu.request(
        'POST',
        `/api/v1/namespaces/${MCO_NS}/pods`,
        buildPod(name, 'solo', rendered, {containers: {'image-build': 'running', 'wait-for-done': 'running'}, created, phase: 'Running'}),
      )
      expect(res.status).to.equal(201)
      kubelet.setLog(MCO_NS, name, 'image-build', 'STEP 1/2: FROM base\n')
      await new Promise((r) => setTimeout(r, 300))
      kubelet.appendLog(MCO_NS, name, 'image-build', 'STEP 2/2: LABEL x=y\nPushed\n')
      const done = buildPod(name, 'solo', rendered, {created, phase: 'Succeeded'})
      await emu.request(
        'PATCH',
        `/api/v1/namespaces/${MCO_NS}/pods/${name}/status`,
        {status: done.status},
        {'Content-Type': 'application/merge-patch+json'},
      )
      kubelet.endLog(MCO_NS, name, 'image-build')
      const r = await following
      expect(r.exitCode, r.stderr).to.equal(0)
      expect(r.stdout).to.equal('[solo] STEP 1/2: FROM base\n[solo] STEP 2/2: LABEL x=y\n[solo] Pushed\n')
      expect(r.stderr).to.include('waiting for the build pod of pool solo (BuildPending)')
      expect(r.stderr).to.include(`[solo] image-build of build pod ${name} finished (exit code 0, Completed)`)
    } finally {
      await emu.close()
      await kubelet.close()
    }
  })
})
