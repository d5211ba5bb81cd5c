import {expect} from 'chai'
import {Readable} from 'node:stream'
import type {KubeClient} from '../../src/lib/kube/client.js'
import {streamLog} from '../../src/lib/kube/logs.js'
import type {Build, MachineConfigPool, Pod} from '../../src/lib/kube/types.js'
import {noBuildError} from '../../src/lib/layering/configmap/logs.js'
import {type Inventory, selectBuilds} from '../../src/lib/layering/logs/index.js'
import {containerStarted, podOutcome, prefixLines} from '../../src/lib/logs/stream.js'
import {isStale, pickBuildObject} from '../../src/lib/logs/target.js'

const P = 'machineconfiguration.openshift.io'

function pool(
  name: string,
  opts: {layered?: boolean; rendered?: string; conditions?: Array<[string, string, string?]>; image?: string} = {},
): MachineConfigPool {
  return {
    metadata: {
      annotations: opts.image ? {[`${P}/newestImageEquivalentConfig`]: opts.image} : {},
      labels: opts.layered === false ? {} : {[`${P}/layering-enabled`]: ''},
      name,
    },
    spec: {configuration: {name: opts.rendered ?? `rendered-${name}-1`}},
    status: {conditions: (opts.conditions ?? []).map(([type, status, message]) => ({message, status: status as 'True', type}))},
  }
}

function pod(name: string, poolName: string, rendered: string, created: string, extra: Partial<Pod> = {}): Pod {
  return {
    metadata: {
      creationTimestamp: created,
      labels: {[`${P}/buildPod`]: '', [`${P}/desiredConfig`]: rendered, [`${P}/targetMachineConfigPool`]: poolName},
      name,
      namespace: 'openshift-machine-config-operator',
    },
    spec: {containers: [{name: 'image-build'}, {name: 'wait-for-done'}], nodeName: 'n1'},
    ...extra,
  }
}

const build = (name: string, poolName: string, rendered: string): Build => ({
  metadata: {
    creationTimestamp: '2026-01-01T00:00:00Z',
    labels: {[`${P}/buildPod`]: '', [`${P}/desiredConfig`]: rendered, [`${P}/targetMachineConfigPool`]: poolName},
    name,
  },
})

const inv = (over: Partial<Inventory>): Inventory => ({
  builderType: 'custom-pod-builder',
  builds: [],
  machineOS: {builds: [], configs: [], pods: []},
  pods: [],
  pools: [],
  ...over,
})

describe('logs: choosing the build', () => {
  it('prefers build-<current rendered config>, otherwise the newest', () => {
    const a = pod('build-r1', 'p', 'r1', '2026-01-01T00:00:00Z')
    const b = pod('build-r2', 'p', 'r2', '2026-01-03T00:00:00Z')
    const c = pod('build-r3', 'p', 'r3', '2026-01-02T00:00:00Z')
    expect(pickBuildObject([a, b, c], 'r1')).to.equal(a)
    expect(pickBuildObject([a, b, c], 'r9')).to.equal(b)
    expect(pickBuildObject([a, b, c], undefined)).to.equal(b)
    expect(pickBuildObject([], 'r1')).to.equal(undefined)
  })

  it('one pool with builds is chosen without a name; several need a name or --all', () => {
    const pools = [pool('a', {rendered: 'ra'}), pool('b', {rendered: 'rb'}), pool('worker', {layered: false})]
    const one = selectBuilds(inv({pods: [pod('build-ra', 'a', 'ra', '2026-01-01T00:00:00Z')], pools}), {})
    expect(one.targets.map((t) => [t.pool, t.name, t.kind, t.container])).to.deep.equal([['a', 'build-ra', 'pod', 'image-build']])
    const two = inv({pods: [pod('build-ra', 'a', 'ra', '2026-01-01T00:00:00Z'), pod('build-rb', 'b', 'rb', '2026-01-01T00:00:00Z')], pools})
    expect(() => selectBuilds(two, {}))
      .to.throw('several pools have builds: a, b; name one')
      .with.property('exitCode', 2)
    expect(selectBuilds(two, {all: true}).targets.map((t) => t.pool)).to.deep.equal(['a', 'b'])
    expect(selectBuilds(two, {container: 'wait-for-done', pool: 'b'}).targets[0].container).to.equal('wait-for-done')
  })

  it('uses the Build with the image-builder backend only when a Build exists', () => {
    const pools = [pool('a', {rendered: 'ra'})]
    const pods = [pod('build-ra', 'a', 'ra', '2026-01-01T00:00:00Z')]
    const withBuild = inv({builderType: 'openshift-image-builder', builds: [build('build-ra', 'a', 'ra')], pods, pools})
    expect(selectBuilds(withBuild, {pool: 'a'}).targets[0]).to.include({kind: 'build', name: 'build-ra'})
    expect(selectBuilds({...withBuild, builderType: 'custom-pod-builder'}, {pool: 'a'}).targets[0]).to.include({
      kind: 'pod',
      name: 'build-ra',
    })
    expect(selectBuilds({...withBuild, builds: []}, {pool: 'a'}).targets[0]).to.include({kind: 'pod'})
  })

  it('marks a build of an older rendered config as stale', () => {
    const t = selectBuilds(inv({pods: [pod('build-old', 'a', 'old', '2026-01-01T00:00:00Z')], pools: [pool('a', {rendered: 'new'})]}), {
      pool: 'a',
    }).targets[0]
    expect(t).to.include({poolRendered: 'new', rendered: 'old'})
    expect(isStale(t)).to.equal(true)
  })

  it('names the pools when the pool does not exist', () => {
    expect(() => selectBuilds(inv({pools: [pool('b'), pool('a')]}), {pool: 'x'}))
      .to.throw('pool x not found; pools are: a, b')
      .with.property('exitCode', 6)
  })

  it("explains why there is no build pod, from the pool's state", () => {
    expect(noBuildError(pool('w', {layered: false})).message).to.equal(
      'pool w is not opted into on-cluster builds, so it has no build logs',
    )
    const ok = noBuildError(pool('a', {conditions: [['BuildSuccess', 'True']], image: 'q/os@sha256:1'}))
    expect(ok.message).to.equal(
      'the build of pool a succeeded (image q/os@sha256:1) and its build pod is gone: the objects of a successful build are removed when it ends (by the operator, or by oc mob build), so its log is not kept',
    )
    expect(ok.exitCode).to.equal(6)
    expect(noBuildError(pool('a', {conditions: [['BuildFailed', 'True', 'boom']]})).message).to.equal(
      'the build of pool a failed (boom) and its build pod no longer exists',
    )
    const never = noBuildError(pool('a', {rendered: 'rendered-a-9'}))
    expect(never.message).to.equal('no build has been started for pool a and its rendered config rendered-a-9')
    expect(never.next).to.equal("start one with `oc mob build a` (it follows the build's log)")
  })

  it("with -f waits for a pending build's pod; without -f explains", () => {
    const pending = inv({pools: [pool('a', {conditions: [['BuildPending', 'True']]})]})
    expect(selectBuilds(pending, {follow: true, pool: 'a'}).awaiting.map((a) => a.pool.metadata.name)).to.deep.equal(['a'])
    expect(() => selectBuilds(pending, {pool: 'a'})).to.throw('a build of pool a is pending but its build pod does not exist (yet)')
  })

  it('without a pool and without builds, explains the only opted-in pool', () => {
    const i = inv({pools: [pool('a', {conditions: [['BuildSuccess', 'True']]}), pool('worker', {layered: false})]})
    expect(() => selectBuilds(i, {})).to.throw('the build of pool a succeeded')
    expect(() => selectBuilds(inv({pools: [pool('worker', {layered: false})]}), {}))
      .to.throw('no pool has a build pod or Build')
      .with.property('exitCode', 6)
  })
})

describe('logs: pods and outcomes', () => {
  const p = (containerStatuses: NonNullable<Pod['status']>['containerStatuses'], extra: Partial<Pod> = {}): Pod => ({
    ...pod('build-r', 'a', 'r', '2026-01-01T00:00:00Z'),
    status: {containerStatuses, phase: 'Running'},
    ...extra,
  })

  it('a container has a log once scheduled and not waiting', () => {
    expect(containerStarted(p([{name: 'image-build', state: {waiting: {reason: 'ContainerCreating'}}}]), 'image-build')).to.equal(false)
    expect(containerStarted(p([{name: 'image-build', state: {running: {}}}]), 'image-build')).to.equal(true)
    expect(containerStarted(p([], {spec: {containers: [{name: 'image-build'}]}}), 'image-build')).to.equal(false)
  })

  it('says how the container ended, and spots the wait-for-done hang', () => {
    const failed = p([
      {name: 'image-build', state: {terminated: {exitCode: 1, reason: 'Error'}}},
      {name: 'wait-for-done', state: {running: {}}},
    ])
    expect(podOutcome(failed, 'image-build')).to.deep.equal({exitCode: 1, hung: true, phase: 'Running', reason: 'Error'})
    expect(podOutcome(failed, 'wait-for-done')).to.deep.equal({phase: 'Running'})
    expect(podOutcome(undefined, 'image-build')).to.deep.equal({gone: true})
  })

  it('prefixes every line', () => {
    const out: string[] = []
    prefixLines('[a] ', (t) => {
      out.push(t)
    })('one\ntwo\n')
    expect(out).to.deep.equal(['[a] one\n[a] two\n'])
  })
})

describe('logs: streaming holds back when the writer is slow', () => {
  it('reads no further from the server while the writer has not drained', async () => {
    const line = '2026-01-01T00:00:00.000000001Z ' + 'x'.repeat(99) + '\n'
    let pulled = 0
    const total = 2000 // 2000 chunks of 10 lines: about 2.6 MB
    const body = new Readable({
      read() {
        pulled++
        this.push(pulled > total ? null : line.repeat(10))
      },
    })
    const res = Object.assign(body, {statusCode: 200, headers: {}})
    const client = {send: async () => res} as unknown as KubeClient
    let release!: () => void
    const gate = new Promise<void>((r) => {
      release = r
    })
    let writes = 0
    let bytes = 0
    const done = streamLog(client, {name: 'p', namespace: 'ns'}, (text) => {
      writes++
      bytes += text.length
      return writes === 1 ? gate : undefined
    })
    await new Promise((r) => setTimeout(r, 100))
    // blocked on the first write: only what fits the stream's buffers was pulled
    expect(writes).to.equal(1)
    expect(pulled).to.be.lessThan(20)
    release()
    const result = await done
    expect(pulled).to.equal(total + 1)
    expect(result.lines).to.equal(total * 10)
    expect(bytes).to.equal(total * 10 * 100)
  })
})
