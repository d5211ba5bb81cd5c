import {expect} from 'chai'
import {type MachineOSObjects, planMachineOSPools} from '../../src/lib/layering/machine-os/cleanup.js'
import {redactUrlCredentials} from '../../src/lib/layering/machine-os/save.js'
import type {KubeObject} from '../../src/lib/kube/types.js'

// The planning of a MachineOSConfig pool's cleanup (4.18+), on objects as the builder leaves them.
const P = 'machineconfiguration.openshift.io'
const NS = 'openshift-machine-config-operator'
const R1 = 'rendered-worker-1111'

const conditions = (state: string) =>
  ['Prepared', 'Building', 'Failed', 'Interrupted', 'Succeeded'].map((type) => ({
    message: type === state ? `Build ${state}` : '',
    reason: type === state ? state : '',
    status: (type === state ? 'True' : 'False') as 'False' | 'True',
    type,
  }))
const mosc = (annotations: Record<string, string> = {}) => ({
  metadata: {annotations, name: 'worker'},
  spec: {machineConfigPool: {name: 'worker'}},
})
const mosb = (name: string, state: string | null, uid = `uid-${name}`) => ({
  metadata: {labels: {[`${P}/machine-os-config`]: 'worker', [`${P}/target-machine-config-pool`]: 'worker'}, name, uid},
  spec: {machineConfig: {name: R1}, machineOSConfig: {name: 'worker'}},
  status: state ? {conditions: conditions(state)} : {},
})
const labels = (b: string, pool = 'worker') => ({
  [`${P}/machine-os-build`]: b,
  [`${P}/machine-os-config`]: pool,
  [`${P}/on-cluster-layering`]: '',
  [`${P}/target-machine-config-pool`]: pool,
})
const job = (b: string, owner?: string, active = 0) => ({
  metadata: {
    labels: labels(b),
    name: `build-${b}`,
    namespace: NS,
    ownerReferences: owner ? [{apiVersion: `${P}/v1`, kind: 'MachineOSBuild', name: b, uid: owner}] : [],
    uid: `job-${b}`,
  },
  status: {active},
})
const builder = {metadata: {name: 'machine-os-builder-x'}, status: {phase: 'Running'}}

function objects(o: Partial<MachineOSObjects>): MachineOSObjects {
  return {
    builderPods: [builder],
    builds: [],
    configMaps: [],
    configs: [mosc()],
    jobs: [],
    pods: [],
    pools: [{metadata: {name: 'worker'}, spec: {configuration: {name: R1}}, status: {conditions: []}}],
    secrets: [],
    ...o,
  } as MachineOSObjects
}

const names = (items: Array<{kind: string; name: string}>) => items.map((i) => `${i.kind}/${i.name}`)

describe('cleanup planning of a MachineOSConfig pool', () => {
  it('a failed build with its Job, attempt pods and ephemeral objects; the annotation naming it is cleared', () => {
    const plan = planMachineOSPools(
      objects({
        builds: [mosb('worker-aaa', 'Failed'), mosb('worker-old', 'Succeeded')],
        configMaps: [
          {metadata: {labels: labels('worker-aaa'), name: 'mc-worker-aaa', namespace: NS}},
          {metadata: {labels: labels('worker-aaa'), name: 'notes', namespace: NS}},
        ] as KubeObject[],
        configs: [mosc({[`${P}/current-machine-os-build`]: 'worker-aaa'})],
        jobs: [job('worker-aaa', 'uid-worker-aaa')],
        pods: [1, 2, 3, 4].map((i) => ({
          metadata: {labels: {'job-name': 'build-worker-aaa'}, name: `build-worker-aaa-${i}`, namespace: NS},
          status: {phase: 'Failed'},
        })) as never,
        secrets: [{metadata: {labels: labels('worker-aaa'), name: 'final-worker-aaa', namespace: NS}}] as never,
      }),
      ['worker'],
    )
    expect(names(plan.items)).to.have.members([
      'MachineOSBuild/worker-aaa',
      'Job/build-worker-aaa',
      'Pod/build-worker-aaa-1',
      'Pod/build-worker-aaa-2',
      'Pod/build-worker-aaa-3',
      'Pod/build-worker-aaa-4',
      'ConfigMap/mc-worker-aaa',
      'Secret/final-worker-aaa',
    ])
    expect(plan.kept.map((k) => k.name)).to.deep.equal(['notes'])
    expect(plan.running).to.deep.equal([])
    expect(plan.pools[0].clearAnnotation).to.deep.include({machineOSConfig: 'worker', value: 'worker-aaa'})
    expect(plan.pools[0].notes?.[0]).to.include('then the machine-os-builder starts a new build of rendered-worker-1111')
  })

  it('a build under way is running (refused); with force it goes too', () => {
    const objs = objects({builds: [mosb('worker-bbb', 'Building')], jobs: [job('worker-bbb', 'uid-worker-bbb', 1)]})
    const plain = planMachineOSPools(objs, ['worker'])
    expect(names(plain.running)).to.deep.equal(['MachineOSBuild/worker-bbb'])
    expect(plain.items).to.deep.equal([])
    expect(names(planMachineOSPools(objs, ['worker'], {force: true}).items)).to.have.members([
      'MachineOSBuild/worker-bbb',
      'Job/build-worker-bbb',
    ])
  })

  it('a Job left by an earlier build of the same name blocks the new one: it goes, the waiting build is not "running"', () => {
    const plan = planMachineOSPools(objects({builds: [mosb('worker-ccc', null, 'new-uid')], jobs: [job('worker-ccc', 'old-uid')]}), [
      'worker',
    ])
    expect(names(plan.items)).to.deep.equal(['Job/build-worker-ccc'])
    expect(plan.items[0].why).to.include('from an earlier build of that name')
    expect(plan.running).to.deep.equal([])
  })

  it('a current-machine-os-build naming a build that is gone is cleared; a rebuild annotation not acted on and blocking degradations are reported', () => {
    const objs = objects({
      builds: [mosb('worker-ddd', 'Succeeded')],
      builderPods: [],
      configs: [mosc({[`${P}/current-machine-os-build`]: 'worker-gone', [`${P}/rebuild`]: ''})],
      pools: [
        {
          metadata: {name: 'worker'},
          spec: {configuration: {name: R1}},
          status: {
            conditions: [
              {message: 'boom', reason: 'BuildFailed', status: 'True', type: 'ImageBuildDegraded'},
              {message: 'node x', status: 'True', type: 'NodeDegraded'},
            ],
          },
        },
      ] as never,
    })
    const plan = planMachineOSPools(objs, ['worker'])
    expect(plan.items).to.deep.equal([])
    expect(plan.pools[0].clearAnnotation).to.deep.include({value: 'worker-gone'})
    expect(plan.pools[0].clearAnnotation?.why).to.include('which no longer exists')
    const notes = plan.pools[0].notes!.join('\n')
    expect(notes).to.include(`has the ${P}/rebuild annotation`)
    expect(notes).to.include('(the machine-os-builder is not running)')
    expect(notes).to.include('ImageBuildDegraded is True (boom)')
    expect(notes).to.include('the pool is NodeDegraded (node x): the builder starts no build while it is')
  })

  it("another pool's builds and objects are never in the plan", () => {
    const other = {...mosb('infra-eee', 'Failed'), spec: {machineConfig: {name: 'rendered-infra-1'}, machineOSConfig: {name: 'infra'}}}
    other.metadata.labels = {[`${P}/machine-os-config`]: 'infra', [`${P}/target-machine-config-pool`]: 'infra'}
    const plan = planMachineOSPools(
      objects({
        builds: [other],
        jobs: [{...job('infra-eee', 'uid-infra-eee'), metadata: {...job('infra-eee').metadata, labels: labels('infra-eee', 'infra')}}],
      }),
      ['worker'],
    )
    expect(plan.items).to.deep.equal([])
  })

  it('credentials in URLs are redacted from saved text', () => {
    expect(redactUrlCredentials('HTTPS_PROXY: http://user:pa55@proxy.example:3128 and https://plain.example/x')).to.equal(
      'HTTPS_PROXY: http://redacted@proxy.example:3128 and https://plain.example/x',
    )
  })
})
