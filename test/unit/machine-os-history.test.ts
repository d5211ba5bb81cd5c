import {expect} from 'chai'
import {type HistoryEntry, teaches, withObservations} from '../../src/lib/cluster/history.js'
import {isMobError} from '../../src/lib/errors.js'
import type {Condition, Node} from '../../src/lib/kube/types.js'
import {machineOSObservations, specProducedBuild} from '../../src/lib/layering/machine-os/history.js'
import {checkKeep, planPrune} from '../../src/lib/layering/machine-os/prune.js'
import {CURRENT_MOSB_ANNOTATION, type MachineOSBuild, type MachineOSConfig} from '../../src/lib/mco/machine-os.js'

const P = 'machineconfiguration.openshift.io'
const img = (c: string): string => `quay.io/org/os@sha256:${c.repeat(64)}`
const state = (type: string): Condition[] =>
  ['Prepared', 'Building', 'Failed', 'Interrupted', 'Succeeded'].map((t) => ({
    lastTransitionTime: '2026-11-20T10:00:00Z',
    message: '',
    reason: t,
    status: t === type ? 'True' : 'False',
    type: t,
  }))
const build = (name: string, end: string, image?: string, st = 'Succeeded'): MachineOSBuild => ({
  metadata: {creationTimestamp: end, name},
  spec: {machineConfig: {name: 'rendered-worker-1'}, machineOSConfig: {name: 'worker'}},
  status: {buildEnd: end, conditions: state(st), digestedImagePushSpec: image},
})
const SPEC: MachineOSConfig['spec'] = {
  containerFile: [{containerfileArch: 'NoArch', content: 'FROM configs AS final\n'}],
  machineConfigPool: {name: 'worker'},
  renderedImagePushSpec: 'quay.io/org/os:latest',
}
const config = (current: string, image: string, generation = 2, observed = 2): MachineOSConfig => ({
  metadata: {annotations: {[CURRENT_MOSB_ANNOTATION]: current}, generation, name: 'worker'},
  spec: SPEC,
  status: {currentImagePullSpec: image, observedGeneration: observed},
})
const node = (name: string, current?: string, desired?: string): Node => ({
  metadata: {
    annotations: {
      ...(current ? {[`${P}/currentImage`]: current} : {}),
      ...(desired ? {[`${P}/desiredImage`]: desired} : {}),
    },
    name,
  },
})

describe('4.18+: what the image history records of MachineOSBuilds', () => {
  const builds = [
    build('worker-b', '2026-11-20T11:00:00Z', img('b')),
    build('worker-a', '2026-11-20T10:00:00Z', img('a')),
    build('worker-f', '2026-11-20T12:00:00Z', undefined, 'Failed'),
  ]

  it('knows the spec produced a build only while the MachineOSConfig names it, reports its image and has observed its spec', () => {
    expect(specProducedBuild(config('worker-b', img('b')), builds[0])).to.equal(true)
    expect(specProducedBuild(config('worker-a', img('b')), builds[0]), 'another build named').to.equal(false)
    expect(specProducedBuild(config('worker-b', img('a')), builds[0]), 'another image').to.equal(false)
    expect(specProducedBuild(config('worker-b', img('b'), 3, 2), builds[0]), 'spec changed since').to.equal(false)
  })

  it('observes successful builds oldest first, the spec only with the current one', () => {
    const seen = machineOSObservations('worker', config('worker-b', img('b')), builds)
    expect(seen.map((o) => [o.machineOSBuild, o.image, Boolean(o.machineOSConfigSpec)])).to.deep.equal([
      ['worker-a', img('a'), false],
      ['worker-b', img('b'), true],
    ])
    expect(seen[1]).to.deep.include({renderedConfig: 'rendered-worker-1', time: '2026-11-20T11:00:00Z'})
  })

  it('adds new images at the head and fills in what a known entry lacks, without repeating it', () => {
    const known: HistoryEntry[] = [
      {customDockerfileHash: '', image: img('a'), renderedConfig: '', source: 'observed', time: '2026-11-20T10:00:00Z'},
    ]
    const seen = machineOSObservations('worker', config('worker-b', img('b')), builds)
    const next = withObservations(known, seen)
    expect(next.map((e) => [e.image, e.machineOSBuild, Boolean(e.machineOSConfigSpec)])).to.deep.equal([
      [img('b'), 'worker-b', true],
      [img('a'), 'worker-a', false],
    ])
    expect(next[1].renderedConfig).to.equal('rendered-worker-1')
    expect(withObservations(next, seen), 'nothing new: the same list').to.equal(next)
    expect(teaches(next, seen[1])).to.equal(false)
    expect(teaches(next, {...seen[0], machineOSConfigSpec: SPEC}), 'a spec learnt later').to.equal(true)
  })
})

describe('4.18+: which MachineOSBuilds prune deletes', () => {
  const builds = [
    build('worker-d', '2026-11-20T13:00:00Z', img('d')),
    build('worker-c', '2026-11-20T12:00:00Z', img('c')),
    build('worker-b', '2026-11-20T11:00:00Z', img('b')),
    build('worker-a', '2026-11-20T10:00:00Z', img('a')),
    build('worker-f', '2026-11-20T14:00:00Z', undefined, 'Failed'),
    build('worker-r', '2026-11-20T15:00:00Z', undefined, 'Building'),
  ]

  it('keeps the newest N successful ones, the current one and any whose image a node runs or is to run; the rest go, oldest last', () => {
    // The MachineOSConfig points back at b (a rollback); node-1 runs c, node-2 is to run it.
    const {kept, remove} = planPrune(
      config('worker-b', img('b')),
      builds,
      [node('node-1', img('c')), node('node-2', img('a'), img('c'))],
      1,
    )
    expect(kept.map((k) => [k.name, k.why, k.nodes])).to.deep.equal([
      ['worker-d', 'newest', []],
      ['worker-c', 'in-use', ['node-1', 'node-2']],
      ['worker-b', 'current', []],
      ['worker-a', 'in-use', ['node-2']],
    ])
    expect(remove).to.deep.equal([])
    const again = planPrune(config('worker-d', img('d')), builds, [], 2)
    expect(again.kept.map((k) => k.name)).to.deep.equal(['worker-d', 'worker-c'])
    expect(
      again.remove.map((r) => r.name),
      'failed and running builds are not prune’s',
    ).to.deep.equal(['worker-b', 'worker-a'])
  })

  it('--keep must be a whole number of at least 1 (a usage error otherwise)', () => {
    for (const bad of [0, -1, 1.5]) {
      try {
        checkKeep(bad)
        expect.fail(`--keep ${bad} accepted`)
      } catch (error) {
        expect(isMobError(error) && error.exitCode, String(bad)).to.equal(2)
      }
    }

    expect(() => checkKeep(1)).to.not.throw()
  })
})
