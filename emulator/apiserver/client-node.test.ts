import {expect} from 'chai'
import {PassThrough} from 'node:stream'
import {CoreV1Api, CustomObjectsApi, KubeConfig, Log, PatchStrategy, Watch, setHeaderOptions} from '@kubernetes/client-node'
import {startEmulator, startFakeKubelet, type Emulator, type FakeKubelet} from '../index.js'

const G = {group: 'machineconfiguration.openshift.io', version: 'v1', plural: 'machineconfigpools'}

describe('emulator: @kubernetes/client-node 1.4 against it', function () {
  this.timeout(20_000)
  let em: Emulator
  let kubelet: FakeKubelet
  let kc: KubeConfig
  before(async () => {
    kubelet = await startFakeKubelet()
    em = await startEmulator({
      objects: [
        kubelet.nodeObject('node-1'),
        {apiVersion: 'machineconfiguration.openshift.io/v1', kind: 'MachineConfigPool', metadata: {name: 'worker'}, spec: {paused: false}},
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {name: 'p1', namespace: 'default'},
          spec: {nodeName: 'node-1', containers: [{name: 'c', image: 'i'}]},
          status: {phase: 'Running'},
        },
      ],
    })
    kubelet.setLog('default', 'p1', 'c', 'hello\n')
    kc = new KubeConfig()
    kc.loadFromFile(em.kubeconfig)
  })
  after(async () => {
    await em.close()
    await kubelet.close()
  })

  it('CoreV1Api: create, read, list with selectors, errors as ApiException with a JSON Status body', async () => {
    const core = kc.makeApiClient(CoreV1Api)
    const created = await core.createNamespacedConfigMap({
      namespace: 'default',
      body: {metadata: {name: 'cn1', labels: {a: 'b'}}, data: {k: 'v'}},
    })
    expect(created.metadata?.uid).to.be.a('string')
    const list = await core.listNamespacedConfigMap({namespace: 'default', labelSelector: 'a=b'})
    expect(list.items.map((i) => i.metadata?.name)).to.deep.equal(['cn1'])
    const nodes = await core.listNode()
    expect(nodes.items[0].status?.daemonEndpoints?.kubeletEndpoint?.Port).to.equal(kubelet.port)
    const err: any = await core.readNamespacedConfigMap({namespace: 'default', name: 'nope'}).catch((error) => error)
    expect(err.code).to.equal(404)
    expect(JSON.parse(err.body)).to.deep.include({reason: 'NotFound', message: 'configmaps "nope" not found'})
  })

  it('CustomObjectsApi: JSON patch by default, merge patch with the header option, 415 for strategic', async () => {
    const co = kc.makeApiClient(CustomObjectsApi)
    const pools: any = await co.listClusterCustomObject(G)
    expect(pools.items.map((p: any) => p.metadata.name)).to.deep.equal(['worker'])
    const bad: any = await co.patchClusterCustomObject({...G, name: 'worker', body: {metadata: {labels: {x: 'y'}}}}).catch((error) => error)
    expect(bad.code).to.equal(400)
    expect(JSON.parse(bad.body).message).to.equal('json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp')
    const jp: any = await co.patchClusterCustomObject({
      ...G,
      name: 'worker',
      body: [{op: 'add', path: '/metadata/labels', value: {x: 'y'}}],
    })
    expect(jp.metadata.labels).to.deep.equal({x: 'y'})
    const mp: any = await co.patchClusterCustomObject(
      {...G, name: 'worker', body: {spec: {paused: true}}},
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )
    expect(mp.spec.paused).to.equal(true)
    expect(mp.metadata.generation).to.equal(2)
    const smp: any = await co
      .patchClusterCustomObject(
        {...G, name: 'worker', body: {spec: {paused: false}}},
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      )
      .catch((error) => error)
    expect(smp.code).to.equal(415)
    const ssa: any = await co.patchClusterCustomObject(
      {
        ...G,
        name: 'infra',
        body: {
          apiVersion: 'machineconfiguration.openshift.io/v1',
          kind: 'MachineConfigPool',
          metadata: {name: 'infra'},
          spec: {paused: false},
        },
        fieldManager: 'oc-mob',
        force: true,
      },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    )
    expect(ssa.metadata.name).to.equal('infra')
    const dry: any = await co.createClusterCustomObject({
      ...G,
      body: {apiVersion: 'machineconfiguration.openshift.io/v1', kind: 'MachineConfigPool', metadata: {name: 'dry'}, spec: {}},
      dryRun: 'All',
    })
    expect(dry.metadata.uid).to.be.a('string')
    const gone: any = await co.getClusterCustomObject({...G, name: 'dry'}).catch((error) => error)
    expect(gone.code).to.equal(404)
  })

  it('CustomObjectsApi: server-side apply from two managers, a 409 with FieldManagerConflict causes, then force', async () => {
    const co = kc.makeApiClient(CustomObjectsApi)
    const apply = (manager: string, paused: boolean, force?: boolean) =>
      co.patchClusterCustomObject(
        {
          ...G,
          name: 'applied-pool',
          body: {apiVersion: `${G.group}/v1`, kind: 'MachineConfigPool', metadata: {name: 'applied-pool'}, spec: {paused}},
          fieldManager: manager,
          ...(force === undefined ? {} : {force}),
        },
        setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
      )
    const first: any = await apply('oc-mob', false)
    expect(first.metadata.managedFields.map((e: any) => [e.manager, e.operation, e.fieldsV1])).to.deep.equal([
      ['oc-mob', 'Apply', {'f:spec': {'f:paused': {}}}],
    ])
    const clash: any = await apply('someone-else', true).catch((error) => error)
    expect(clash.code).to.equal(409)
    expect(JSON.parse(clash.body)).to.deep.include({
      reason: 'Conflict',
      message: `Apply failed with 1 conflict: conflict with "oc-mob" using ${G.group}/v1: .spec.paused`,
      details: {causes: [{reason: 'FieldManagerConflict', message: `conflict with "oc-mob" using ${G.group}/v1`, field: '.spec.paused'}]},
    })
    const forced: any = await apply('someone-else', true, true)
    expect(forced.spec.paused).to.equal(true)
    expect(forced.metadata.managedFields.map((e: any) => e.manager)).to.deep.equal(['someone-else'])
  })

  it('Watch: events, then an ERROR 410 for a compacted resourceVersion', async () => {
    const events: string[] = []
    let done: (err: any) => void = () => {}
    const finished = new Promise((resolve) => {
      done = resolve
    })
    const w = new Watch(kc)
    const list: any = await kc.makeApiClient(CustomObjectsApi).listClusterCustomObject(G)
    const ctl = await w.watch(
      `/apis/${G.group}/${G.version}/${G.plural}`,
      {resourceVersion: list.metadata.resourceVersion, allowWatchBookmarks: true},
      (type, obj) => events.push(`${type}:${obj.metadata?.name ?? ''}`),
      (err) => done(err),
    )
    await em.request(
      'PATCH',
      `/apis/${G.group}/${G.version}/${G.plural}/worker`,
      {metadata: {labels: {w: '1'}}},
      {'Content-Type': 'application/merge-patch+json'},
    )
    for (let i = 0; i < 50 && events.length === 0; i++) await new Promise((r) => setTimeout(r, 20))
    expect(events[0]).to.equal('MODIFIED:worker')
    ctl.abort()
    await finished

    const small = await startEmulator({watchHistory: 2})
    try {
      const kc2 = new KubeConfig()
      kc2.loadFromFile(small.kubeconfig)
      for (let i = 0; i < 5; i++) await small.request('POST', '/api/v1/namespaces/default/configmaps', {metadata: {name: `c${i}`}})
      const got: any[] = []
      const end = new Promise((resolve) => {
        void new Watch(kc2).watch(
          '/api/v1/namespaces/default/configmaps',
          {resourceVersion: '1'},
          (type, obj) => got.push({type, obj}),
          resolve,
        )
      })
      expect(await end).to.equal(null)
      expect(got).to.have.length(1)
      expect(got[0].type).to.equal('ERROR')
      expect(got[0].obj).to.deep.include({code: 410, reason: 'Expired'})
    } finally {
      await small.close()
    }
  })

  it('Log: follows a pod log through the kubelet', async () => {
    const out = new PassThrough()
    let text = ''
    out.on('data', (c) => {
      text += c
    })
    const ctl = await new Log(kc).log('default', 'p1', 'c', out, {follow: true})
    kubelet.appendLog('default', 'p1', 'c', 'world\n')
    for (let i = 0; i < 100 && !text.includes('world'); i++) await new Promise((r) => setTimeout(r, 20))
    expect(text).to.equal('hello\nworld\n')
    kubelet.endLog('default', 'p1', 'c')
    ctl.abort()
  })

  it('client-certificate and insecure kubeconfigs work; a bad token gives 401', async () => {
    for (const id of ['cert', 'insecure']) {
      const k = new KubeConfig()
      k.loadFromFile(em.kubeconfigFor(id))
      const ns = await k.makeApiClient(CoreV1Api).listNamespace()
      expect(ns.items.length).to.be.greaterThan(0)
    }
    const k = new KubeConfig()
    k.loadFromFile(em.kubeconfigFor('bad-token'))
    const err: any = await k
      .makeApiClient(CoreV1Api)
      .listNamespace()
      .catch((error) => error)
    expect(err.code).to.equal(401)
  })
})
