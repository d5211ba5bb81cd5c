import {expect} from 'chai'
import type {MachineConfigPool, Node} from '../../src/lib/kube/types.js'
import {
  addEntry,
  digestOf,
  findEntry,
  type HistoryEntry,
  HISTORY_LIMIT,
  parseHistory,
  parseHistoryConfigMap,
  previousGood,
  rolledBackFrom,
} from '../../src/lib/cluster/history.js'
import {isUnavailable, maxUnavailable, selectorString} from '../../src/lib/rollout/nodes.js'
import {parseNodeDegraded} from '../../src/lib/status/index.js'
import {describeBuildObject} from '../../src/lib/cluster/build-objects.js'
import {imageMatch} from '../../src/lib/layering/configmap/pool-status.js'

const img = (c: string): string => `quay.io/org/os@sha256:${c.repeat(64)}`
const entry = (
  image: string,
  renderedConfig: string,
  source: HistoryEntry['source'] = 'built',
  extra: Partial<HistoryEntry> = {},
): HistoryEntry => ({
  customDockerfileHash: '',
  image,
  renderedConfig,
  source,
  time: '2026-01-01T00:00:00.000Z',
  ...extra,
})

describe('rollout: image history', () => {
  it('parses tolerantly: bad JSON or bad entries are dropped, not fatal', () => {
    expect(parseHistory(undefined)).to.deep.equal([])
    expect(parseHistory('{not json')).to.deep.equal([])
    expect(parseHistory(JSON.stringify([{image: 'x'}, entry(img('a'), 'r1'), 7]))).to.deep.equal([entry(img('a'), 'r1')])
    expect(parseHistoryConfigMap({data: {a: JSON.stringify([entry(img('a'), 'r')]), b: 'nope'}, metadata: {}})).to.deep.equal({
      a: [entry(img('a'), 'r')],
      b: [],
    })
  })

  it('adds at the head, does not repeat the head, upgrades an observed head, and keeps at most the limit', () => {
    const one = addEntry([], entry(img('a'), 'r1'))
    expect(addEntry(one, entry(img('a'), 'r1', 'joined'))).to.equal(one)
    const observed = [entry(img('b'), 'r1', 'observed'), ...one]
    expect(addEntry(observed, entry(img('b'), 'r1', 'built'))).to.deep.equal([entry(img('b'), 'r1', 'built'), ...one])
    expect(addEntry(one, entry(img('a'), 'r1', 'rollback'))).to.have.length(2)
    let long: HistoryEntry[] = []
    for (let i = 0; i < HISTORY_LIMIT + 5; i++) long = addEntry(long, entry(`q.io/x@sha256:${String(i).padStart(64, '0')}`, 'r'))
    expect(long).to.have.length(HISTORY_LIMIT)
    expect(long[0].image.endsWith(String(HISTORY_LIMIT + 4))).to.equal(true)
  })

  it('picks the previous good image of the rendered config, skipping what was rolled away from', () => {
    const h = [entry(img('b'), 'r1'), entry(img('c'), 'r0'), entry(img('a'), 'r1')]
    expect(previousGood(h, 'r1', img('b'))).to.equal(2)
    expect(previousGood(h, 'r2', img('b'))).to.equal(undefined)
    const after = [entry(img('a'), 'r1', 'rollback', {replaced: img('b')}), ...h]
    expect(rolledBackFrom(after)).to.deep.equal(new Set([img('b')]))
    expect(previousGood(after, 'r1', img('a'))).to.equal(undefined)
  })

  it('finds an entry by number, pullspec, digest or a digest prefix; refuses ambiguity and unknowns', () => {
    const h = [
      entry(img('b'), 'r1'),
      entry('quay.io/org/os@sha256:ab' + 'c'.repeat(62), 'r1'),
      entry(img('a'), 'r1'),
      entry(img('b'), 'r0'),
    ]
    expect(findEntry(h, '2', 'worker')).to.equal(2)
    expect(findEntry(h, img('a'), 'worker')).to.equal(2)
    expect(findEntry(h, `sha256:${'a'.repeat(64)}`, 'worker')).to.equal(2)
    expect(findEntry(h, 'bbbbbbb', 'worker')).to.equal(0)
    expect(() => findEntry(h, 'aaaaaa', 'worker')).to.throw('no image in the history matches "aaaaaa"') // too short to be a prefix
    expect(() => findEntry(h, 'a', 'worker')).to.throw(/no image/)
    expect(() => findEntry(h, '9', 'worker'))
      .to.throw('the history has 4 entries (0 to 3); there is no entry 9')
      .with.property('next', 'list them with `oc mob status worker --history`')
    const amb = [entry('q.io/x@sha256:abc1' + '0'.repeat(60), 'r'), entry('q.io/x@sha256:abc1' + '1'.repeat(60), 'r')]
    expect(() => findEntry(amb, 'abc1000', 'worker')).not.to.throw()
    expect(() => findEntry(amb, 'sha256:abc1', 'worker')).to.throw(/no image/)
    expect(() =>
      findEntry(
        [...amb, entry('q.io/x@sha256:abc1234' + '2'.repeat(57), 'r'), entry('q.io/x@sha256:abc1234' + '3'.repeat(57), 'r')],
        'abc1234',
        'worker',
      ),
    ).to.throw('"abc1234" matches 2 different images in the history')
    expect(digestOf(img('a'))).to.equal(`sha256:${'a'.repeat(64)}`)
    // A digest prefix with no letter in it is still a digest: seven or more digits are never a place in the history.
    const digits = [entry(`q.io/x@sha256:8478199008${'e'.repeat(54)}`, 'r'), entry(img('b'), 'r')]
    expect(findEntry(digits, '8478199008', 'worker')).to.equal(0)
    expect(findEntry(digits, '1', 'worker')).to.equal(1)
    expect(() => findEntry(digits, '1234567', 'worker')).to.throw('no image in the history matches "1234567"')
  })
})

describe('rollout: image evidence and pool nodes', () => {
  const running = describeBuildObject(
    {
      metadata: {labels: {'machineconfiguration.openshift.io/desiredConfig': 'r2'}, name: 'build-r2'},
      spec: {containers: []},
      status: {phase: 'Running'},
    },
    'Pod',
  )

  it('says whether an image was built from the rendered config, and why', () => {
    expect(imageMatch(img('a'), 'r1', [entry(img('a'), 'r1')], undefined)).to.deep.equal({
      evidence: 'image history: built by oc-mob for r1 at 2026-01-01T00:00:00.000Z',
      match: 'yes',
    })
    expect(imageMatch(img('a'), 'r2', [entry(img('a'), 'r1')], running).match).to.equal('no')
    expect(imageMatch(img('a'), 'r2', [entry(img('a'), 'r1')], undefined)).to.deep.equal({
      evidence: 'image history: built for r1, not for r2',
      match: 'no',
    })
    expect(imageMatch(img('a'), 'r1', [entry(img('a'), 'r1', 'observed')], undefined).match).to.equal('unknown')
    expect(imageMatch(img('a'), 'r1', [], undefined).match).to.equal('unknown')
    expect(imageMatch(img('a'), 'r1', [entry(img('a'), 'r0'), entry(img('a'), 'r1', 'rollback')], undefined).evidence).to.include(
      'rolled back to by oc-mob for r1',
    )
  })

  it('classifies build objects: a Running pod whose image-build failed is failed (the 4.14 hang)', () => {
    const pod = (phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed', exitCode?: number) =>
      describeBuildObject(
        {
          metadata: {name: 'build-r'},
          spec: {containers: []},
          status: {
            containerStatuses: [{name: 'image-build', state: exitCode === undefined ? {running: {}} : {terminated: {exitCode}}}],
            phase,
          },
        },
        'Pod',
      )
    expect(pod('Pending').state).to.equal('pending')
    expect(pod('Running').state).to.equal('running')
    expect(pod('Running', 0).state).to.equal('running')
    expect(pod('Running', 1)).to.include({hung: true, state: 'failed'})
    expect(pod('Failed', 1)).to.include({hung: false, state: 'failed'})
    expect(pod('Succeeded', 0).state).to.equal('succeeded')
    const build = (phase: string) => describeBuildObject({metadata: {name: 'build-r'}, status: {phase: phase as 'New'}}, 'Build').state
    expect(['New', 'Pending', 'Running', 'Complete', 'Failed', 'Error', 'Cancelled'].map((p) => build(p))).to.deep.equal([
      'pending',
      'pending',
      'running',
      'succeeded',
      'failed',
      'failed',
      'failed',
    ])
  })

  it("reads the degraded nodes out of the pool's NodeDegraded message", () => {
    expect(parseNodeDegraded('Node a is reporting: "x y", Node b is reporting: "say \\"hi\\""')).to.deep.equal([
      {node: 'a', reason: 'x y'},
      {node: 'b', reason: 'say "hi"'},
    ])
    expect(parseNodeDegraded(undefined)).to.deep.equal([])
  })

  it('maxUnavailable as the node controller reads it, and who is unavailable', () => {
    const p = (v?: number | string): MachineConfigPool => ({metadata: {name: 'p'}, spec: {maxUnavailable: v}})
    expect(maxUnavailable(p(), 10)).to.equal(1)
    expect(maxUnavailable(p(3), 10)).to.equal(3)
    expect(maxUnavailable(p(0), 10)).to.equal(1)
    expect(maxUnavailable(p('25%'), 10)).to.equal(2)
    expect(maxUnavailable(p('5%'), 10)).to.equal(1)
    const n = (ann: Record<string, string>, ready = true, unschedulable = false): Node => ({
      metadata: {
        annotations: Object.fromEntries(Object.entries(ann).map(([k, v]) => [`machineconfiguration.openshift.io/${k}`, v])),
        name: 'n',
      },
      spec: {unschedulable},
      status: {conditions: [{status: ready ? 'True' : 'False', type: 'Ready'}]},
    })
    expect(isUnavailable(n({currentConfig: 'a', desiredConfig: 'a', state: 'Done'}))).to.equal(false)
    expect(isUnavailable(n({currentConfig: 'a', desiredConfig: 'a', state: 'Done'}, false))).to.equal(true)
    expect(isUnavailable(n({currentConfig: 'a', desiredConfig: 'a', state: 'Done'}, true, true))).to.equal(true)
    expect(isUnavailable(n({currentConfig: 'a', desiredConfig: 'b', state: 'Done'}))).to.equal(true)
    expect(isUnavailable(n({currentConfig: 'a', currentImage: 'x', desiredConfig: 'a', state: 'Done'}))).to.equal(true)
    expect(selectorString({matchLabels: {'node-role.kubernetes.io/x': ''}})).to.equal('node-role.kubernetes.io/x=')
    expect(selectorString({matchExpressions: [{key: 'a', operator: 'Exists'}]})).to.equal(undefined)
  })
})
