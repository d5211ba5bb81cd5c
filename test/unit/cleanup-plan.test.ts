import {expect} from 'chai'
import {isEmpty} from '../../src/lib/cleanup/types.js'
import {buildRefs} from '../../src/lib/layering/configmap/cleanup.js'
import {planCleanup} from '../../src/lib/layering/cleanup.js'
import type {KubeClient} from '../../src/lib/kube/client.js'
import type {ResourceType} from '../../src/lib/kube/resources.js'
import type {KubeObject, MachineConfigPool} from '../../src/lib/kube/types.js'

const NS = 'openshift-machine-config-operator'
const P = 'machineconfiguration.openshift.io/'
const RL = 'rendered-layering-0123456789abcdef0123456789abcdef'
const labels = (pool: string, r: string) => ({[`${P}buildPod`]: '', [`${P}desiredConfig`]: r, [`${P}targetMachineConfigPool`]: pool})

/** Just enough of KubeClient for planning: discovery, list with a label selector, find. */
function fakeClient(objects: Array<KubeObject & {kind: string}>): KubeClient {
  const matches = (o: KubeObject, selector?: string): boolean =>
    (selector ?? '')
      .split(',')
      .filter(Boolean)
      .every((term) => {
        const [k, v] = term.split('=')
        const l = o.metadata.labels ?? {}
        return v === undefined ? Object.hasOwn(l, k) : l[k] === v
      })
  const of = (r: ResourceType, ns?: string) =>
    objects.filter((o) => o.kind === r.kind && (!r.namespaced || !ns || o.metadata.namespace === ns))
  return {
    context: 'fake',
    async find(r: ResourceType, name: string, ns?: string) {
      return of(r, ns).find((o) => o.metadata.name === name)
    },
    async list(r: ResourceType, opts: {namespace?: string; labelSelector?: string} = {}) {
      return {items: of(r, opts.namespace).filter((o) => matches(o, opts.labelSelector)), metadata: {}}
    },
    async request(spec: {path: string}) {
      if (spec.path === '/apis')
        return {groups: [{name: 'machineconfiguration.openshift.io', versions: [{groupVersion: `${P.slice(0, -1)}/v1`}]}]}
      return {resources: [{name: 'machineconfigpools'}]}
    },
    server: 'https://fake',
  } as unknown as KubeClient
}

const pool = (name: string, conditions: Array<[string, string]>, extra: Partial<MachineConfigPool> = {}): KubeObject & {kind: string} => ({
  kind: 'MachineConfigPool',
  metadata: {annotations: {}, labels: {[`${P}layering-enabled`]: ''}, name},
  spec: {
    configuration: {
      name: RL,
      source: [
        {kind: 'MachineConfig', name: '00-worker'},
        {kind: 'Pod', name: `build-${RL}`},
      ],
    },
  },
  status: {conditions: conditions.map(([type, status]) => ({status: status as 'True', type}))},
  ...extra,
})
const pod = (phase: string, imageBuild: Record<string, unknown>): KubeObject & {kind: string} =>
  ({
    kind: 'Pod',
    metadata: {labels: labels('layering', RL), name: `build-${RL}`, namespace: NS, uid: 'u1'},
    spec: {containers: []},
    status: {containerStatuses: [{name: 'image-build', state: imageBuild}], phase},
  }) as KubeObject & {kind: string}

describe('cleanup: planning', () => {
  it('reads the build references of a pool from spec and status', () => {
    const p = pool('layering', []) as MachineConfigPool
    p.status!.configuration = {
      source: [
        {kind: 'Build', name: 'build-x'},
        {kind: 'Pod', name: `build-${RL}`},
      ],
    }
    expect(buildRefs(p)).to.deep.equal([`build-${RL}`, 'build-x'])
  })

  it("plans the hung build's pod and the pool fix: conditions removed, the Degraded it caused reset, the reference dropped", async () => {
    const plan = await planCleanup(
      fakeClient([
        pool('layering', [
          ['Building', 'True'],
          ['Degraded', 'True'],
          ['RenderDegraded', 'False'],
          ['NodeDegraded', 'False'],
        ]),
        pod('Running', {terminated: {exitCode: 1}}),
      ]),
      {pool: 'layering'},
    )
    expect(plan.items.map((i) => `${i.kind}/${i.name}`)).to.deep.equal([`Pod/build-${RL}`])
    expect(plan.items[0].why).to.include('failed, pod hung')
    expect(plan.running).to.deep.equal([])
    expect(plan.pools).to.deep.equal([
      {
        exists: true,
        pool: 'layering',
        removeConditions: ['Building'],
        removeRefs: [`build-${RL}`],
        resetConditions: ['Degraded'],
        why: 'its last build failed (BuildFailed blocks new builds)',
      },
    ])
    expect(isEmpty(plan)).to.equal(false)
  })

  it('keeps Degraded when a node is degraded too, and a RenderDegraded with another cause', async () => {
    const plan = await planCleanup(
      fakeClient([
        pool('layering', [
          ['BuildFailed', 'True'],
          ['Degraded', 'True'],
          ['NodeDegraded', 'True'],
          ['RenderDegraded', 'True'],
        ]),
      ]),
      {pool: 'layering'},
    )
    expect(plan.pools[0].resetConditions).to.deep.equal([])
    expect(plan.pools[0].removeConditions).to.deep.equal(['BuildFailed'])
  })

  it('a running build, and a succeeded one whose image the pool has not recorded, are still running', async () => {
    const running = await planCleanup(fakeClient([pool('layering', [['Building', 'True']]), pod('Running', {running: {}})]), {
      pool: 'layering',
    })
    expect(running.running.map((i) => i.name)).to.deep.equal([`build-${RL}`])
    // Only carried out with --force: the build is stopped, so the pool no longer waits for it.
    expect(running.pools[0]).to.include({why: `its running build build-${RL} is stopped (with --force)`})
    const finishing = await planCleanup(
      fakeClient([pool('layering', [['Building', 'True']]), pod('Succeeded', {terminated: {exitCode: 0}})]),
      {pool: 'layering'},
    )
    expect(finishing.running[0].why).to.include('its image is not recorded on the pool yet')
    const digest = {
      data: {digest: `sha256:${'d'.repeat(64)}`},
      kind: 'ConfigMap',
      metadata: {name: `digest-${RL}`, namespace: NS, uid: 'd1'},
    } as KubeObject & {kind: string}
    const recorded = pool('layering', [['BuildSuccess', 'True']], {
      metadata: {
        annotations: {[`${P}newestImageEquivalentConfig`]: `q.io/os@sha256:${'d'.repeat(64)}`},
        labels: {[`${P}layering-enabled`]: ''},
        name: 'layering',
      },
    })
    const done = await planCleanup(fakeClient([recorded, pod('Succeeded', {terminated: {exitCode: 0}}), digest]), {pool: 'layering'})
    expect(done.running).to.deep.equal([])
    expect(done.items.map((i) => i.name)).to.deep.equal([`build-${RL}`, `digest-${RL}`])
    const other = await planCleanup(
      fakeClient([pool('layering', [['BuildSuccess', 'True']]), pod('Succeeded', {terminated: {exitCode: 0}}), digest]),
      {pool: 'layering'},
    )
    expect(other.running.map((i) => i.name)).to.deep.equal([`build-${RL}`])
  })

  it("finds an unlabelled digest ConfigMap only under a name that is provably the pool's", async () => {
    const foreign = 'rendered-other-0123456789abcdef0123456789abcdef'
    const p = pool('layering', [['BuildFailed', 'True']], {
      spec: {configuration: {name: RL, source: [{kind: 'Pod', name: `build-${foreign}`}]}},
    })
    const cm = (name: string) =>
      ({data: {digest: 'sha256:x'}, kind: 'ConfigMap', metadata: {name, namespace: NS}}) as KubeObject & {kind: string}
    const plan = await planCleanup(fakeClient([p, cm(`digest-${RL}`), cm(`digest-${foreign}`)]), {pool: 'layering'})
    expect(plan.items.map((i) => i.name)).to.deep.equal([`digest-${RL}`])
  })

  it('a healthy pool has nothing to clean up; canonical copies are left alone with --keep-secrets', async () => {
    const objs = [
      pool('layering', [['BuildSuccess', 'True']], {spec: {configuration: {name: RL, source: []}}}),
      {
        data: {baseImagePullSecretName: 'pull', finalImagePushSecretName: 'push'},
        kind: 'ConfigMap',
        metadata: {name: 'on-cluster-build-config', namespace: NS},
      },
      {data: {'.dockerconfigjson': 'e30='}, kind: 'Secret', metadata: {name: 'pull', namespace: NS}, type: 'kubernetes.io/dockercfg'},
      {
        data: {'.dockerconfigjson': 'e30='},
        kind: 'Secret',
        metadata: {name: 'pull-canonical', namespace: NS, uid: 's1'},
        type: 'kubernetes.io/dockerconfigjson',
      },
    ] as Array<KubeObject & {kind: string}>
    const kept = await planCleanup(fakeClient(objs), {keepSecrets: true, pool: 'layering'})
    expect(isEmpty(kept)).to.equal(true)
    const plan = await planCleanup(fakeClient(objs), {pool: 'layering'})
    expect(plan.items.map((i) => `${i.kind}/${i.name}`)).to.deep.equal(['Secret/pull-canonical'])
  })
})
