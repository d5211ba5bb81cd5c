import {expect} from 'chai'
import type {Emulator, FakeKubelet} from '../../emulator/index.js'
import {startFakeKubelet} from '../../emulator/index.js'
import {MCO_NS, namespace, pool, run, startEmulator} from './harness.js'

// OpenShift 4.18+: a MachineOSConfig pool builds in the pod of the Job build-<MachineOSBuild>.
const P = 'machineconfiguration.openshift.io'
const RENDERED = 'rendered-worker-0123456789abcdef0123456789abcdef'
const merge = {'Content-Type': 'application/merge-patch+json'}

const conditions = (current: string) =>
  ['Prepared', 'Building', 'Failed', 'Interrupted', 'Succeeded'].map((type) => ({
    lastTransitionTime: '2026-11-20T10:00:00Z',
    message: type === current ? `Build ${current}` : '',
    reason: type,
    status: type === current ? 'True' : 'False',
    type,
  }))

function jobPod(name: string, job: string, state: 'done' | 'running') {
  const running = {running: {startedAt: '2026-11-20T10:00:00Z'}}
  const done = {terminated: {exitCode: 0, finishedAt: '2026-11-20T10:05:00Z', reason: 'Completed', startedAt: '2026-11-20T10:00:00Z'}}
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {labels: {'batch.kubernetes.io/job-name': job, 'job-name': job}, name, namespace: MCO_NS},
    spec: {
      containers: [
        {image: 'mco', name: 'image-build'},
        {image: 'rhcos', name: 'wait-for-done'},
      ],
      nodeName: 'node-1',
      restartPolicy: 'Never',
    },
    status: {
      containerStatuses: ['image-build', 'wait-for-done'].map((c) => ({
        name: c,
        ready: state === 'running',
        restartCount: 0,
        state: state === 'running' ? running : done,
      })),
      phase: state === 'running' ? 'Running' : 'Succeeded',
    },
  }
}

describe('oc mob logs on a MachineOSConfig cluster (4.18+, end to end)', function () {
  this.timeout(60_000)
  let emu: Emulator
  let kubelet: FakeKubelet
  const kc = () => ['--kubeconfig', emu.kubeconfig]

  const createBuild = async (name: string, state: string) => {
    await emu.request('POST', `/apis/${P}/v1/machineosbuilds`, {
      apiVersion: `${P}/v1`,
      kind: 'MachineOSBuild',
      metadata: {name},
      spec: {machineConfig: {name: RENDERED}, machineOSConfig: {name: 'worker'}, renderedImagePushSpec: 'quay.io/org/os:latest'},
    })
    const r = await emu.request('PATCH', `/apis/${P}/v1/machineosbuilds/${name}/status`, {status: {conditions: conditions(state)}}, merge)
    if (r.status !== 200) throw new Error(`status of ${name}: ${r.status}`)
  }

  beforeEach(async () => {
    kubelet = await startFakeKubelet()
    emu = await startEmulator({objects: [namespace(MCO_NS), kubelet.nodeObject('node-1'), pool('master'), pool('worker')]})
    await emu.request('POST', `/apis/${P}/v1/machineosconfigs`, {
      apiVersion: `${P}/v1`,
      kind: 'MachineOSConfig',
      metadata: {name: 'worker'},
      spec: {
        imageBuilder: {imageBuilderType: 'Job'},
        machineConfigPool: {name: 'worker'},
        renderedImagePushSecret: {name: 'push'},
        renderedImagePushSpec: 'quay.io/org/os:latest',
      },
    })
  })

  afterEach(async () => {
    await emu?.close()
    await kubelet?.close()
  })

  it("shows the log of the Job's pod of the pool's MachineOSBuild, and follows it to its end", async () => {
    await createBuild('worker-aaaa', 'Building')
    await emu.request('POST', `/api/v1/namespaces/${MCO_NS}/pods`, jobPod('build-worker-aaaa-x7k2p', 'build-worker-aaaa', 'running'))
    kubelet.setLog(MCO_NS, 'build-worker-aaaa-x7k2p', 'image-build', 'STEP 1/3: FROM base\nSTEP 2/3: RUN rpm-ostree install tmux\n')
    const now = await run(['logs', 'worker', ...kc()])
    expect(now.exitCode, now.stderr).to.equal(0)
    expect(now.stdout).to.equal('STEP 1/3: FROM base\nSTEP 2/3: RUN rpm-ostree install tmux\n')
    // Without a pool: the only pool with a build.
    expect((await run(['logs', ...kc()])).stdout).to.equal(now.stdout)

    const following = run(['logs', 'worker', '-f', ...kc()])
    await new Promise((r) => setTimeout(r, 400))
    kubelet.appendLog(MCO_NS, 'build-worker-aaaa-x7k2p', 'image-build', 'STEP 3/3: LABEL done\nPushed\n')
    await emu.request(
      'PATCH',
      `/api/v1/namespaces/${MCO_NS}/pods/build-worker-aaaa-x7k2p/status`,
      {status: jobPod('', '', 'done').status},
      merge,
    )
    kubelet.endLog(MCO_NS, 'build-worker-aaaa-x7k2p', 'image-build')
    const r = await following
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stdout).to.equal('STEP 1/3: FROM base\nSTEP 2/3: RUN rpm-ostree install tmux\nSTEP 3/3: LABEL done\nPushed\n')
    expect(r.stderr).to.include('image-build of build pod build-worker-aaaa-x7k2p finished (exit code 0, Completed)')
  })

  it("-f waits for the Job's pod of a MachineOSBuild that is only prepared", async () => {
    await createBuild('worker-bbbb', 'Prepared')
    const following = run(['logs', 'worker', '-f', ...kc()])
    await new Promise((r) => setTimeout(r, 500))
    await emu.request('POST', `/api/v1/namespaces/${MCO_NS}/pods`, jobPod('build-worker-bbbb-q9z8w', 'build-worker-bbbb', 'running'))
    kubelet.setLog(MCO_NS, 'build-worker-bbbb-q9z8w', 'image-build', 'building\n')
    await new Promise((r) => setTimeout(r, 300))
    await emu.request(
      'PATCH',
      `/api/v1/namespaces/${MCO_NS}/pods/build-worker-bbbb-q9z8w/status`,
      {status: jobPod('', '', 'done').status},
      merge,
    )
    kubelet.endLog(MCO_NS, 'build-worker-bbbb-q9z8w', 'image-build')
    const r = await following
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stdout).to.equal('building\n')
    expect(r.stderr).to.include('waiting for the build pod of pool worker (Prepared)')
  })

  it('4.20+: image-build runs as an init container; its log is read and followed the same way', async () => {
    await createBuild('worker-dddd', 'Building')
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        labels: {'batch.kubernetes.io/job-name': 'build-worker-dddd', 'job-name': 'build-worker-dddd'},
        name: 'build-worker-dddd-a1b2c',
        namespace: MCO_NS,
      },
      spec: {
        containers: [{image: 'mco', name: 'create-digest-configmap'}],
        initContainers: [{image: 'mco', name: 'image-build'}],
        nodeName: 'node-1',
        restartPolicy: 'Never',
      },
      status: {
        containerStatuses: [
          {name: 'create-digest-configmap', ready: false, restartCount: 0, state: {waiting: {reason: 'PodInitializing'}}},
        ],
        initContainerStatuses: [
          {name: 'image-build', ready: false, restartCount: 0, state: {running: {startedAt: '2026-11-20T10:00:00Z'}}},
        ],
        phase: 'Pending',
      },
    }
    await emu.request('POST', `/api/v1/namespaces/${MCO_NS}/pods`, pod)
    kubelet.setLog(MCO_NS, 'build-worker-dddd-a1b2c', 'image-build', 'STEP 1/2: FROM base\n')
    const following = run(['logs', 'worker', '-f', ...kc()])
    await new Promise((r) => setTimeout(r, 400))
    kubelet.appendLog(MCO_NS, 'build-worker-dddd-a1b2c', 'image-build', 'STEP 2/2: LABEL done\n')
    const ended = {
      initContainerStatuses: [
        {name: 'image-build', ready: false, restartCount: 0, state: {terminated: {exitCode: 0, reason: 'Completed'}}},
      ],
      phase: 'Pending',
    }
    await emu.request('PATCH', `/api/v1/namespaces/${MCO_NS}/pods/build-worker-dddd-a1b2c/status`, {status: ended}, merge)
    kubelet.endLog(MCO_NS, 'build-worker-dddd-a1b2c', 'image-build')
    const r = await following
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stdout).to.equal('STEP 1/2: FROM base\nSTEP 2/2: LABEL done\n')
    expect(r.stderr).to.include('image-build of build pod build-worker-dddd-a1b2c finished (exit code 0, Completed)')
    const bad = await run(['logs', 'worker', '-c', 'nope', ...kc()])
    expect(bad.exitCode).to.equal(2)
    expect(bad.stderr).to.include('its containers are: image-build, create-digest-configmap')
  })

  it('explains a succeeded build whose Job is gone, a failed one, and a pool without builds (exit 6)', async () => {
    const none = await run(['logs', 'worker', ...kc()])
    expect(none.exitCode).to.equal(6)
    expect(none.stderr).to.include('error: pool worker has MachineOSConfig worker but no MachineOSBuild yet, so there is no build log')

    await createBuild('worker-cccc', 'Succeeded')
    const done = await run(['logs', 'worker', ...kc()])
    expect(done.exitCode).to.equal(6)
    expect(done.stderr).to.include(
      'error: MachineOSBuild worker-cccc of pool worker succeeded and the machine-os-builder removed its Job build-worker-cccc: logs of successful builds are not kept',
    )
    expect(done.stderr).to.include(`oc mob build worker --rebuild --follow`)

    // a build that ended keeps its conditions (the CRD refuses changes); a rebuild makes a new one under the name
    expect((await emu.request('DELETE', `/apis/${P}/v1/machineosbuilds/worker-cccc`)).status).to.equal(200)
    await createBuild('worker-cccc', 'Failed')
    const failed = await run(['logs', 'worker', ...kc()])
    expect(failed.exitCode).to.equal(6)
    expect(failed.stderr).to.include(
      'error: MachineOSBuild worker-cccc of pool worker failed (Build Failed) and its Job build-worker-cccc has no pod left',
    )
    // Nothing to follow: -f does not wait for a build that has ended.
    expect((await run(['logs', 'worker', '-f', ...kc()])).exitCode).to.equal(6)
  })
})
