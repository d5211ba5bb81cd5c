import {expect} from 'chai'
import {DEFAULT_STALL_GRACE_MS, JOB_ATTEMPTS, recognizeStall, stallRecheckAt, type BuildObservation} from '../../src/lib/build/stall.js'
import type {ContainerStatus, Pod} from '../../src/lib/kube/types.js'

const T0 = Date.parse('2026-11-20T10:00:00Z')
const at = (ms: number): string => new Date(T0 + ms).toISOString()
const SCHED =
  '0/5 nodes are available: 5 node(s) had untolerated taint {node.kubernetes.io/not-ready: }. preemption: 0/5 nodes are available: 5 Preemption is not helpful for scheduling.'

const running = (name: string): ContainerStatus => ({name, ready: true, state: {running: {startedAt: at(0)}}})
const ended = (name: string, exitCode: number, reason = exitCode === 0 ? 'Completed' : 'Error', finished = 1000): ContainerStatus => ({
  name,
  state: {terminated: {exitCode, finishedAt: at(finished), reason, startedAt: at(0)}},
})
const waiting = (name: string, reason: string, message?: string): ContainerStatus => ({name, state: {waiting: {message, reason}}})

function pod(
  name: string,
  o: {
    phase?: Pod['status'] extends infer S ? (S extends {phase?: infer P} ? P : never) : never
    node?: string
    statuses?: ContainerStatus[]
    init?: ContainerStatus[]
    conditions?: NonNullable<Pod['status']>['conditions']
    reason?: string
    message?: string
    created?: number
    deleting?: boolean
    pullSecrets?: string[]
  } = {},
): Pod {
  return {
    metadata: {creationTimestamp: at(o.created ?? 0), name, ...(o.deleting ? {deletionTimestamp: at(5000)} : {})},
    spec: {
      containers: [
        {image: 'quay.io/buildah/stable:latest', name: 'image-build'},
        {image: 'quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:abc', name: 'wait-for-done'},
      ],
      nodeName: o.node,
      ...(o.pullSecrets ? {imagePullSecrets: o.pullSecrets.map((s) => ({name: s}))} : {}),
    } as Pod['spec'],
    status: {
      conditions: o.conditions,
      containerStatuses: o.statuses,
      initContainerStatuses: o.init,
      message: o.message,
      phase: o.phase,
      reason: o.reason,
    },
  }
}

const unschedulable = (name: string, created = 0): Pod =>
  pod(name, {conditions: [{message: SCHED, reason: 'Unschedulable', status: 'False', type: 'PodScheduled'}], created, phase: 'Pending'})
const gen1 = (pods: Pod[], digestPresent?: boolean): BuildObservation => ({
  digestConfigMap: 'digest-rendered-worker-1',
  digestPresent,
  generation: 'configmap',
  pods,
  pool: 'worker',
})
const gen3 = (pods: Pod[], digestPresent?: boolean): BuildObservation => ({
  digestConfigMap: 'digest-worker-abc',
  digestPresent,
  generation: 'machineosconfig',
  machineOSConfig: 'worker',
  pods,
  pool: 'worker',
})

describe('recognizing a build that makes no progress', () => {
  it('a healthy build, no build at all, and a finished build are not stalls', () => {
    expect(recognizeStall({now: T0})).to.equal(undefined)
    expect(recognizeStall({build: gen1([]), now: T0})).to.equal(undefined)
    expect(recognizeStall({build: gen1([pod('build-r', {phase: 'Pending'})]), now: T0}), 'not looked at by the scheduler yet').to.equal(
      undefined,
    )
    expect(
      recognizeStall({
        build: gen1([
          pod('build-r', {
            node: 'w0',
            phase: 'Pending',
            statuses: [waiting('image-build', 'ContainerCreating'), waiting('wait-for-done', 'ContainerCreating')],
          }),
        ]),
        now: T0,
      }),
    ).to.equal(undefined)
    expect(
      recognizeStall({
        build: gen1([pod('build-r', {node: 'w0', phase: 'Running', statuses: [running('image-build'), running('wait-for-done')]})]),
        now: T0 + 3_600_000,
      }),
    ).to.equal(undefined)
    expect(
      recognizeStall({
        build: gen1(
          [pod('build-r', {node: 'w0', phase: 'Succeeded', statuses: [ended('image-build', 0), ended('wait-for-done', 0)]})],
          false,
        ),
        now: T0 + 3_600_000,
      }),
    ).to.equal(undefined)
    // A plain build failure is a failure, not a stall: the driver reports it with its log.
    expect(
      recognizeStall({
        build: gen1([pod('build-r', {node: 'w0', phase: 'Failed', statuses: [ended('image-build', 1), ended('wait-for-done', 1)]})]),
        now: T0,
      }),
    ).to.equal(undefined)
  })

  it("an unschedulable build pod: stuck, with the scheduler's message and the way out", () => {
    const s = recognizeStall({build: gen1([unschedulable('build-r')]), now: T0})!
    expect(s).to.deep.include({builder: false, cause: 'Unschedulable', detail: SCHED, kind: 'stuck', pod: 'build-r'})
    expect(s.message).to.equal('build pod build-r cannot be scheduled: no node fits it')
    expect(s.next).to.include('oc mob cleanup worker --force').and.to.include('taints').and.to.include('oc mob build worker')
    // A pod the scheduler has bound is not unschedulable any more, whatever the stale condition says.
    const bound = {...unschedulable('build-r'), spec: {...unschedulable('build-r').spec!, nodeName: 'w0'}}
    expect(recognizeStall({build: gen1([bound]), now: T0})).to.equal(undefined)
  })

  it('a container that cannot pull its image: names the image, its reason and the pull secrets', () => {
    const p = pod('build-r', {
      node: 'w0',
      phase: 'Pending',
      statuses: [
        waiting('image-build', 'ImagePullBackOff', 'Back-off pulling image "quay.io/buildah/stable:latest"'),
        waiting('wait-for-done', 'ContainerCreating'),
      ],
    })
    const s = recognizeStall({build: gen1([p]), now: T0})!
    expect(s).to.deep.include({cause: 'ImagePull', detail: 'Back-off pulling image "quay.io/buildah/stable:latest"', kind: 'stuck'})
    expect(s.message).to.equal(
      'container image-build of build pod build-r cannot pull its image quay.io/buildah/stable:latest (ImagePullBackOff)',
    )
    expect(s.next).to.include('openshift-config/pull-secret')
    const withSecret = pod('build-r', {
      node: 'w0',
      phase: 'Pending',
      pullSecrets: ['machine-os-builder-dockercfg-x'],
      statuses: [
        running('image-build'),
        waiting('wait-for-done', 'ErrImagePull', 'unauthorized: access to the requested resource is not authorized'),
      ],
    })
    const s2 = recognizeStall({build: gen1([withSecret]), now: T0})!
    expect(s2.message)
      .to.include('container wait-for-done')
      .and.to.include('quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:abc (ErrImagePull)')
    expect(s2.next).to.include('machine-os-builder-dockercfg-x')
  })

  it('an evicted pod and an OOMKilled container: the build failed for that cause', () => {
    const ev = pod('build-r', {
      message: 'The node was low on resource: ephemeral-storage. Threshold quantity: 10Gi, available: 2Gi.',
      node: 'w0',
      phase: 'Failed',
      reason: 'Evicted',
      statuses: [ended('image-build', 137, 'Error'), ended('wait-for-done', 137, 'Error')],
    })
    const s = recognizeStall({build: gen1([ev]), now: T0})!
    expect(s).to.deep.include({cause: 'Evicted', kind: 'failed', message: 'build pod build-r was evicted by its node'})
    expect(s.detail).to.include('low on resource: ephemeral-storage')
    expect(s.next).to.include('oc mob build worker --rebuild')
    // 4.14: image-build OOMKilled while wait-for-done keeps the pod Running.
    const oom = pod('build-r', {node: 'w0', phase: 'Running', statuses: [ended('image-build', 137, 'OOMKilled'), running('wait-for-done')]})
    expect(recognizeStall({build: gen1([oom]), now: T0})).to.deep.include({
      cause: 'OOMKilled',
      kind: 'failed',
      message: 'container image-build of build pod build-r ran out of memory (OOMKilled, exit code 137)',
    })
  })

  it('image-build done but no digest ConfigMap: a stall only after the grace period, and not once the digest exists', () => {
    const p = pod('build-r', {
      node: 'w0',
      phase: 'Running',
      statuses: [ended('image-build', 0, 'Completed', 1000), running('wait-for-done')],
    })
    expect(recognizeStall({build: gen1([p], false), now: T0 + 1000 + DEFAULT_STALL_GRACE_MS - 1})).to.equal(undefined)
    expect(stallRecheckAt({build: gen1([p], false), now: T0})).to.equal(T0 + 1000 + DEFAULT_STALL_GRACE_MS)
    const s = recognizeStall({build: gen1([p], false), now: T0 + 1000 + DEFAULT_STALL_GRACE_MS})!
    expect(s).to.deep.include({cause: 'DigestMissing', kind: 'stuck'})
    expect(s.message).to.equal(
      'container image-build of build pod build-r finished 60s ago, but ConfigMap digest-rendered-worker-1 has not appeared: the build waits for ever',
    )
    expect(s.next).to.include('oc mob logs worker -c wait-for-done').and.to.include('oc mob cleanup worker --force')
    // The grace is a setting; a digest that exists means the pod is about to finish.
    expect(recognizeStall({build: gen1([p], false), graceMs: 5000, now: T0 + 6000})?.cause).to.equal('DigestMissing')
    expect(recognizeStall({build: gen1([p], true), graceMs: 5000, now: T0 + 600_000})).to.equal(undefined)
    expect(stallRecheckAt({build: gen1([p], true), now: T0})).to.equal(undefined)
    // Not looked at: the container that should create it still running says enough.
    expect(recognizeStall({build: gen1([p]), graceMs: 5000, now: T0 + 6000})?.message).to.include(
      'the container that creates ConfigMap digest-rendered-worker-1 still runs',
    )
    // A failed image-build is not a digest wait (that is the 4.14 hang, reported as a failure).
    const failed = pod('build-r', {node: 'w0', phase: 'Running', statuses: [ended('image-build', 1), running('wait-for-done')]})
    expect(recognizeStall({build: gen1([failed], false), now: T0 + 600_000})).to.equal(undefined)
    expect(stallRecheckAt({build: gen1([failed], false), now: T0})).to.equal(undefined)
    // 4.20+: image-build is an init container, create-digest-configmap the container.
    const v420 = pod('build-worker-abc-x1y2z', {
      init: [ended('image-build', 0, 'Completed', 1000)],
      node: 'w0',
      phase: 'Running',
      statuses: [running('create-digest-configmap')],
    })
    expect(recognizeStall({build: gen3([v420], false), graceMs: 1000, now: T0 + 5000})?.next).to.include('-c create-digest-configmap')
  })

  it('4.18+: a failed attempt while the Job retries: attempt 2 of 4, naming the failed pod and why', () => {
    const first = pod('build-worker-abc-aaaaa', {created: 0, node: 'w0', phase: 'Failed', statuses: [ended('image-build', 1)]})
    const second = pod('build-worker-abc-bbbbb', {created: 1000, node: 'w0', phase: 'Running', statuses: [running('image-build')]})
    const s = recognizeStall({build: gen3([second, first]), now: T0})!
    expect(s).to.deep.include({attempt: {number: 2, of: JOB_ATTEMPTS}, cause: 'Retrying', kind: 'retrying', pod: 'build-worker-abc-aaaaa'})
    expect(s.message).to.equal(
      'attempt 1 of 4 (pod build-worker-abc-aaaaa) failed: container image-build exited with code 1 (Error); the Job tries again: attempt 2 of 4 is pod build-worker-abc-bbbbb',
    )
    expect(s.next).to.include('oc logs -n openshift-machine-config-operator build-worker-abc-aaaaa -c image-build')
    // Before the next pod exists.
    expect(recognizeStall({build: gen3([first]), now: T0})?.message).to.match(/the Job tries again: attempt 2 of 4$/)
    // An evicted attempt says so.
    const evicted = pod('build-worker-abc-aaaaa', {
      created: 0,
      message: 'The node was low on resource: memory.',
      node: 'w0',
      phase: 'Failed',
      reason: 'Evicted',
    })
    expect(recognizeStall({build: gen3([evicted, second]), now: T0})?.message).to.include(
      'was evicted: The node was low on resource: memory.',
    )
    // A stuck current attempt is the stall, with its number.
    const stuck = recognizeStall({build: gen3([first, unschedulable('build-worker-abc-ccccc', 2000)]), now: T0})!
    expect(stuck).to.deep.include({attempt: {number: 2, of: 4}, cause: 'Unschedulable', kind: 'stuck'})
    expect(stuck.message).to.include('(attempt 2 of 4)')
    expect(stuck.next).to.include('oc annotate machineosconfig/worker machineconfiguration.openshift.io/rebuild=')
    // backoffLimit from the Job when known.
    expect(recognizeStall({build: {...gen3([first]), attempts: 2}, now: T0})?.attempt).to.deep.equal({number: 2, of: 2})
  })

  it("4.18+: all attempts used up: a failure with our cause is reported as failed; a plain one is left to the build's own failure", () => {
    const oom = (i: number) =>
      pod(`build-worker-abc-${i}0000`, {created: i * 1000, node: 'w0', phase: 'Failed', statuses: [ended('image-build', 137, 'OOMKilled')]})
    const s = recognizeStall({build: gen3([oom(1), oom(2), oom(3), oom(4)]), now: T0})!
    expect(s).to.deep.include({attempt: {number: 4, of: 4}, cause: 'OOMKilled', kind: 'failed', pod: 'build-worker-abc-40000'})
    expect(s.message).to.include('(attempt 4 of 4: the Job gives up)')
    const plain = (i: number) =>
      pod(`build-worker-abc-${i}0000`, {created: i * 1000, node: 'w0', phase: 'Failed', statuses: [ended('image-build', 1)]})
    expect(recognizeStall({build: gen3([plain(1), plain(2), plain(3), plain(4)]), now: T0})).to.equal(undefined)
    // A succeeded attempt after failures: the build made it, nothing to say.
    const ok = pod('build-worker-abc-50000', {created: 5000, node: 'w0', phase: 'Succeeded', statuses: [ended('image-build', 0)]})
    expect(recognizeStall({build: gen3([plain(1), ok]), now: T0})).to.equal(undefined)
  })

  it('pods being deleted do not count', () => {
    expect(
      recognizeStall({
        build: gen1([{...unschedulable('build-r'), metadata: {...unschedulable('build-r').metadata, deletionTimestamp: at(1)}}]),
        now: T0,
      }),
    ).to.equal(undefined)
  })

  it("the machine-os-builder pod unschedulable: stuck, with the scheduler's message, and not pointing at its (empty) log", () => {
    const builder = {
      ...unschedulable('machine-os-builder-7d9f-x2'),
      spec: {containers: [{image: 'quay.io/openshift/mco:latest', name: 'machine-os-builder'}]},
    }
    const s = recognizeStall({builderPods: [builder], now: T0})!
    expect(s).to.deep.include({builder: true, cause: 'Unschedulable', detail: SCHED, kind: 'stuck', pod: 'machine-os-builder-7d9f-x2'})
    expect(s.message).to.equal('the machine-os-builder pod machine-os-builder-7d9f-x2 cannot be scheduled, so no build can start')
    expect(s.next).to.include('tolerations').and.to.include('never started').and.not.to.include('oc mob logs --builder')
    // A running builder (e.g. a new replica pending beside it) is fine.
    const ok = pod('machine-os-builder-7d9f-ok', {node: 'm0', phase: 'Running', statuses: [running('machine-os-builder')]})
    expect(recognizeStall({builderPods: [builder, ok], now: T0})).to.equal(undefined)
    // Cannot pull its image.
    const pull = pod('machine-os-builder-7d9f-x3', {
      node: 'm0',
      phase: 'Pending',
      statuses: [waiting('machine-os-builder', 'ErrImagePull', 'manifest unknown')],
    })
    expect(recognizeStall({builderPods: [pull], now: T0})).to.deep.include({builder: true, cause: 'ImagePull', detail: 'manifest unknown'})
    // A build that exists is judged on its own: the builder is not what it waits for any more.
    const healthy = pod('build-r', {node: 'w0', phase: 'Running', statuses: [running('image-build'), running('wait-for-done')]})
    expect(recognizeStall({build: gen1([healthy]), builderPods: [builder], now: T0})).to.equal(undefined)
    expect(recognizeStall({build: gen1([]), builderPods: [builder], now: T0})?.builder).to.equal(true)
  })
})
