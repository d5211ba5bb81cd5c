import {expect} from 'chai'
import {buildConditionsLost, orphanedBuildConfigMaps} from '../../src/lib/layering/configmap/pool-status.js'
import {buildAttempts, failureCause, imageBuildDegraded, machineOSBuildEvents} from '../../src/lib/layering/machine-os/pool-status.js'
import type {BuildObjectInfo} from '../../src/lib/cluster/build-objects.js'
import type {ConfigMap, KubeEvent, MachineConfigPool, Pod} from '../../src/lib/kube/types.js'
import {poolOSImageStream} from '../../src/lib/mco/os-image-stream.js'
import {releaseFeatures} from '../../emulator/generation.js'

const P = 'machineconfiguration.openshift.io'
const R = 'rendered-worker-0123456789abcdef0123456789abcdef'
const NOW = Date.parse('2026-12-01T12:00:00Z')

function cm(name: string, labels: Record<string, string>, created = '2026-12-01T11:00:00Z'): ConfigMap {
  return {metadata: {creationTimestamp: created, labels, name, namespace: 'openshift-machine-config-operator'}}
}

const buildLabels = (pool: string, rendered: string) => ({
  [`${P}/buildPod`]: '',
  [`${P}/desiredConfig`]: rendered,
  [`${P}/targetMachineConfigPool`]: pool,
})

function pod(
  name: string,
  job: string,
  phase: 'Failed' | 'Running' | 'Succeeded',
  created: string,
  terminated?: {exitCode: number; reason?: string},
): Pod {
  return {
    metadata: {creationTimestamp: created, labels: {'job-name': job}, name},
    status: {
      containerStatuses: terminated ? [{name: 'image-build', state: {terminated}} as never] : [],
      phase,
    },
  }
}

describe('status: the evidence of a build (pure)', () => {
  it('failureCause: the message when it says why, null for the bare "Build Failed" or nothing', () => {
    expect(failureCause('Build Failed')).to.equal(null)
    expect(failureCause(' build failed. ')).to.equal(null)
    expect(failureCause('')).to.equal(null)
    expect(failureCause(undefined)).to.equal(null)
    expect(failureCause('Build Failed: pod x: container image-build exited with code 1')).to.equal(
      'Build Failed: pod x: container image-build exited with code 1',
    )
  })

  it("buildAttempts: one per pod of the build's Job, oldest first, with why each failed one failed", () => {
    const pods = [
      pod('build-a-22222', 'build-a', 'Running', '2026-12-01T11:02:00Z'),
      pod('build-a-11111', 'build-a', 'Failed', '2026-12-01T11:01:00Z', {exitCode: 1, reason: 'Error'}),
      {
        ...pod('build-a-00000', 'build-a', 'Failed', '2026-12-01T11:00:00Z'),
        status: {phase: 'Failed', reason: 'Evicted', message: 'low on ephemeral-storage'},
      },
      pod('build-b-33333', 'build-b', 'Failed', '2026-12-01T11:00:00Z', {exitCode: 2}),
    ] as Pod[]
    expect(buildAttempts('a', pods)).to.deep.equal({
      attempt: 3,
      failed: [
        {pod: 'build-a-00000', reason: 'low on ephemeral-storage'},
        {pod: 'build-a-11111', reason: 'container image-build exited with code 1 (Error)'},
      ],
      of: 4,
    })
    expect(buildAttempts('c', pods)).to.equal(undefined)
    // Another Job whose name only starts alike is not counted.
    expect(buildAttempts('b', pods)?.attempt).to.equal(1)
  })

  it('imageBuildDegraded: only when True', () => {
    const pool = (status: 'False' | 'True'): MachineConfigPool => ({
      metadata: {name: 'worker'},
      status: {conditions: [{lastTransitionTime: 't', message: 'm', reason: 'BuildFailed', status, type: 'ImageBuildDegraded'}]},
    })
    expect(imageBuildDegraded(pool('True'))).to.deep.equal({message: 'm', reason: 'BuildFailed', since: 't'})
    expect(imageBuildDegraded(pool('False'))).to.equal(null)
    expect(imageBuildDegraded({metadata: {name: 'worker'}})).to.equal(null)
  })

  it("machineOSBuildEvents: the pool's builds' events (also of deleted ones, by the builder's names), newest first, a few", () => {
    const hash = 'f'.repeat(32)
    const ev = (name: string, kind: string, object: string, time: string, rv: string, reason = 'BuildStarted'): KubeEvent => ({
      involvedObject: {kind, name: object},
      lastTimestamp: time,
      metadata: {name, namespace: 'default', resourceVersion: rv},
      reason,
    })
    const events = [
      ev('1', 'MachineOSBuild', `worker-${hash}`, '2026-12-01T11:00:00Z', '10', 'BuildFailed'),
      ev('2', 'MachineOSBuild', `worker-${hash}`, '2026-12-01T11:00:00Z', '11', 'BuildDegraded'),
      ev('3', 'MachineOSBuild', 'worker-gpu-' + hash, '2026-12-01T11:05:00Z', '12'),
      ev('4', 'Pod', `worker-${hash}`, '2026-12-01T11:06:00Z', '13'),
      ev('5', 'MachineOSBuild', 'handmade', '2026-12-01T10:00:00Z', '9', 'BuildCompleted'),
    ]
    const got = machineOSBuildEvents('worker', ['handmade'], events)
    expect(got.map((e) => e.reason)).to.deep.equal(['BuildDegraded', 'BuildFailed', 'BuildCompleted'])
    expect(got[0]).to.deep.equal({
      build: `worker-${hash}`,
      count: 1,
      message: '',
      reason: 'BuildDegraded',
      time: '2026-12-01T11:00:00Z',
      type: 'Normal',
    })
    expect(machineOSBuildEvents('worker', [], events, 1)).to.have.length(1)
  })

  it('orphanedBuildConfigMaps: mc-/dockerfile- of the rendered config, labelled, older than the grace, with no build object', () => {
    const cms = [
      cm(`mc-${R}`, buildLabels('worker', R)),
      cm(`dockerfile-${R}`, buildLabels('worker', R)),
      cm(`digest-${R}`, buildLabels('worker', R)), // not a ConfigMap the operator sets up before the build object
      cm(`mc-${R}-copy`, buildLabels('worker', R)), // a look-alike name
      cm(`mc-rendered-worker-old`, buildLabels('worker', 'rendered-worker-old')),
      cm(`mc-${R}`.replace('worker', 'infra'), buildLabels('infra', R)),
    ]
    expect(orphanedBuildConfigMaps('worker', R, cms, [], NOW)).to.deep.equal([`dockerfile-${R}`, `mc-${R}`])
    // Without the build labels: not the operator's.
    expect(orphanedBuildConfigMaps('worker', R, [cm(`mc-${R}`, {})], [], NOW)).to.deep.equal([])
    // Just made: the build object follows.
    expect(orphanedBuildConfigMaps('worker', R, [cm(`mc-${R}`, buildLabels('worker', R), '2026-12-01T11:59:30Z')], [], NOW)).to.deep.equal(
      [],
    )
    // With a build object of R (any state): not orphaned.
    const object = {kind: 'Pod', name: `build-${R}`, renderedConfig: R, state: 'failed'} as BuildObjectInfo
    expect(orphanedBuildConfigMaps('worker', R, cms, [object], NOW)).to.deep.equal([])
  })

  it('buildConditionsLost: layered, an image, none of the four Build* conditions, no build under way', () => {
    const pool = (conditions: string[], opts: {layered?: boolean; image?: boolean} = {}): MachineConfigPool => ({
      metadata: {
        annotations: opts.image === false ? {} : {[`${P}/newestImageEquivalentConfig`]: 'quay.io/o/i@sha256:' + 'a'.repeat(64)},
        labels: opts.layered === false ? {} : {[`${P}/layering-enabled`]: ''},
        name: 'worker',
      },
      status: {conditions: conditions.map((type) => ({status: 'False' as const, type}))},
    })
    expect(buildConditionsLost(pool(['Updated']), undefined)).to.equal(true)
    expect(buildConditionsLost(pool(['Updated', 'BuildSuccess']), undefined)).to.equal(false)
    expect(buildConditionsLost(pool(['Updated'], {image: false}), undefined)).to.equal(false)
    expect(buildConditionsLost(pool(['Updated'], {layered: false}), undefined)).to.equal(false)
    const running = {kind: 'Pod', name: `build-${R}`, renderedConfig: R, state: 'running', terminating: false} as BuildObjectInfo
    expect(buildConditionsLost(pool(['Updated']), running)).to.equal(false)
  })

  it("poolOSImageStream: the pool's stream (status, else spec, else the default) and its image", () => {
    const cluster = {
      metadata: {name: 'cluster'},
      status: {
        availableStreams: [
          {name: 'rhel-9', osImage: 'img9'},
          {name: 'rhel-10', osImage: 'img10'},
        ],
        defaultStream: 'rhel-10',
      },
    }
    const pool = (spec?: string, status?: string) =>
      ({
        metadata: {name: 'worker'},
        spec: spec ? {osImageStream: {name: spec}} : {},
        status: status ? {osImageStream: {name: status}} : {},
      }) as MachineConfigPool
    expect(poolOSImageStream(pool(), cluster)).to.deep.equal({current: null, osImage: 'img10', requested: null})
    expect(poolOSImageStream(pool('rhel-9'), cluster)).to.deep.equal({current: null, osImage: 'img9', requested: 'rhel-9'})
    expect(poolOSImageStream(pool('rhel-9', 'rhel-10'), cluster)).to.deep.equal({current: 'rhel-10', osImage: 'img10', requested: 'rhel-9'})
    expect(poolOSImageStream(pool(undefined, 'rhel-9'), undefined)).to.deep.equal({current: 'rhel-9', osImage: null, requested: null})
  })

  it("the emulator's release knob: what each release adds", () => {
    expect(releaseFeatures()).to.deep.equal({buildEvents: false, defaultStream: 'rhel-9', failureCause: false, osImageStream: false})
    expect(releaseFeatures('4.22')).to.include({buildEvents: false, failureCause: true, osImageStream: false})
    expect(releaseFeatures('4.23')).to.include({buildEvents: false, defaultStream: 'rhel-9', osImageStream: true})
    expect(releaseFeatures('5.0')).to.deep.equal({buildEvents: true, defaultStream: 'rhel-10', failureCause: true, osImageStream: true})
    expect(() => releaseFeatures('five')).to.throw(/release five: use MAJOR.MINOR/)
  })
})
