import {expect} from 'chai'
import {startEmulator, type Emulator} from '../index.js'
import {call, cm, MCP, pool} from './testing.js'

const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json'

describe('emulator: discovery, lists, selectors, pagination, tables', () => {
  let em: Emulator
  before(async () => {
    const objects: any[] = [
      {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'a'}},
      {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'b'}},
      cm('one', 'a', {x: '1'}, {app: 'web', tier: 'front'}),
      cm('two', 'a', {x: '2'}, {app: 'web', tier: 'back'}),
      cm('three', 'b', {x: '3'}, {app: 'db'}),
      cm('four', 'b', {x: '4'}),
      pool('worker', {'pools.operator.machineconfiguration.openshift.io/worker': ''}),
      pool('master'),
      {
        ...pool('infra'),
        status: {
          configuration: {name: 'rendered-infra-1'},
          machineCount: 2,
          conditions: [
            {type: 'Updated', status: 'True'},
            {type: 'Updating', status: 'False'},
          ],
        },
      },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {name: 'p-run', namespace: 'a'},
        spec: {nodeName: 'n1', containers: [{name: 'c', image: 'i'}]},
        status: {phase: 'Running'},
      },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {name: 'p-pend', namespace: 'b'},
        spec: {containers: [{name: 'c', image: 'i'}]},
        status: {phase: 'Pending'},
      },
    ]
    for (let i = 0; i < 25; i++)
      objects.push({
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {name: `node-${String(i).padStart(2, '0')}`, labels: {zone: i % 2 ? 'odd' : 'even'}},
        status: {conditions: [{type: 'Ready', status: 'True'}]},
      })
    em = await startEmulator({objects})
  })
  after(async () => {
    await em.close()
  })

  it('serves legacy discovery with preferred versions, subresources, short names', async () => {
    const api = await call(em, 'GET', '/api')
    expect(api.json.kind).to.equal('APIVersions')
    expect(api.json.versions).to.deep.equal(['v1'])
    const v1 = (await call(em, 'GET', '/api/v1')).json
    const names = v1.resources.map((r: any) => r.name)
    expect(names).to.include.members([
      'namespaces',
      'configmaps',
      'secrets',
      'pods',
      'pods/status',
      'pods/log',
      'pods/binding',
      'nodes',
      'nodes/status',
      'serviceaccounts',
      'events',
    ])
    const pods = v1.resources.find((r: any) => r.name === 'pods')
    expect(pods).to.deep.include({singularName: 'pod', namespaced: true, kind: 'Pod', shortNames: ['po']})
    expect(pods.verbs).to.include.members(['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'])
    expect(v1.resources.find((r: any) => r.name === 'pods/binding').kind).to.equal('Binding')
    const apis = (await call(em, 'GET', '/apis')).json
    expect(apis.kind).to.equal('APIGroupList')
    const mco = apis.groups.find((g: any) => g.name === 'machineconfiguration.openshift.io')
    expect(mco.preferredVersion).to.deep.equal({groupVersion: 'machineconfiguration.openshift.io/v1', version: 'v1'})
    expect(apis.groups.map((g: any) => g.name)).to.include.members([
      'apps',
      'batch',
      'authorization.k8s.io',
      'image.openshift.io',
      'build.openshift.io',
      'machine.openshift.io',
    ])
    const mcoRes = (await call(em, 'GET', '/apis/machineconfiguration.openshift.io/v1')).json
    const byName = Object.fromEntries(mcoRes.resources.map((r: any) => [r.name, r]))
    expect(byName.machineconfigpools).to.deep.include({kind: 'MachineConfigPool', namespaced: false, shortNames: ['mcp']})
    expect(byName.machineconfigs.shortNames).to.deep.equal(['mc'])
    expect(Object.keys(byName)).to.include.members([
      'machineconfigpools/status',
      'controllerconfigs/status',
      'machineosconfigs/status',
      'machineosbuilds/status',
    ])
    expect(Object.keys(byName)).to.not.include('machineconfigs/status')
    const builds = (await call(em, 'GET', '/apis/build.openshift.io/v1')).json
    expect(builds.resources.map((r: any) => r.name)).to.include.members(['builds', 'builds/log', 'builds/status'])
    const group = (await call(em, 'GET', '/apis/apps')).json
    expect(group).to.deep.include({kind: 'APIGroup', name: 'apps'})
    const v = (await call(em, 'GET', '/version')).json
    expect(v.gitVersion).to.equal('v1.27.16+openshift')
    expect(v.major).to.equal('1')
    expect(v.minor).to.equal('27')
    const oa = await call(em, 'GET', '/openapi/v2')
    expect(oa.json).to.deep.include({swagger: '2.0', paths: {}, definitions: {}})
    const pb = await call(em, 'GET', '/openapi/v2', {headers: {Accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf'}})
    expect(pb.headers['content-type']).to.equal('application/octet-stream')
    expect(pb.text.startsWith('\n\x032.0')).to.equal(true)
    // OpenAPI v3 is served (per group-version documents; see openapi.test.ts)
    expect((await call(em, 'GET', '/openapi/v3')).json.paths).to.have.property('api/v1')
  })

  it('leaves optional groups out entirely when switched off', async () => {
    const small = await startEmulator({
      groups: {image: false, build: false, machine: false, machineOS: false},
      objects: [{apiVersion: 'machineconfiguration.openshift.io/v1', kind: 'MachineOSConfig', metadata: {name: 'x'}}],
    })
    try {
      const groups = (await call(small, 'GET', '/apis')).json.groups.map((g: any) => g.name)
      expect(groups).to.not.include.members(['image.openshift.io'])
      expect(groups).to.not.include('build.openshift.io')
      expect(groups).to.not.include('machine.openshift.io')
      expect(groups).to.include('machineconfiguration.openshift.io')
      const mco = (await call(small, 'GET', '/apis/machineconfiguration.openshift.io/v1')).json.resources.map((r: any) => r.name)
      expect(mco).to.not.include('machineosconfigs')
      expect(mco).to.include('machineconfigpools')
      expect((await call(small, 'GET', '/apis/image.openshift.io/v1')).status).to.equal(404)
      expect((await call(small, 'GET', '/apis/image.openshift.io/v1/namespaces/default/imagestreams')).status).to.equal(404)
      expect((await call(small, 'GET', '/apis/machineconfiguration.openshift.io/v1/machineosconfigs')).status).to.equal(404)
    } finally {
      await small.close()
    }
  })

  it('lists with kind <Kind>List, resourceVersion, and items without kind for built-ins', async () => {
    const r = await call(em, 'GET', '/api/v1/namespaces/a/configmaps')
    expect(r.json.kind).to.equal('ConfigMapList')
    expect(r.json.apiVersion).to.equal('v1')
    expect(r.json.metadata.resourceVersion).to.equal(em.resourceVersion())
    expect(r.json.items.map((i: any) => i.metadata.name)).to.deep.equal(['one', 'two'])
    expect(r.json.items[0].kind).to.equal(undefined)
    const all = await call(em, 'GET', '/api/v1/configmaps')
    expect(all.json.items.map((i: any) => `${i.metadata.namespace}/${i.metadata.name}`)).to.deep.equal([
      'a/one',
      'a/two',
      'b/four',
      'b/three',
    ])
    const pools = await call(em, 'GET', MCP)
    expect(pools.json.kind).to.equal('MachineConfigPoolList')
    expect(pools.json.items[0].kind).to.equal('MachineConfigPool')
    const pods = await call(em, 'GET', '/api/v1/pods')
    expect(pods.json.items).to.have.length(2)
  })

  it('filters by label selectors (=, ==, !=, in, notin, exists, !key)', async () => {
    const names = async (sel: string) =>
      (await call(em, 'GET', `/api/v1/configmaps?labelSelector=${encodeURIComponent(sel)}`)).json.items.map((i: any) => i.metadata.name)
    expect(await names('app=web')).to.deep.equal(['one', 'two'])
    expect(await names('app==db')).to.deep.equal(['three'])
    expect(await names('app!=web')).to.deep.equal(['four', 'three'])
    expect(await names('tier in (front,back)')).to.deep.equal(['one', 'two'])
    expect(await names('app notin (web)')).to.deep.equal(['four', 'three'])
    expect(await names('app')).to.deep.equal(['one', 'two', 'three'])
    expect(await names('!app')).to.deep.equal(['four'])
    expect(await names('app=web,tier=back')).to.deep.equal(['two'])
    const pools = (
      await call(em, 'GET', `${MCP}?labelSelector=${encodeURIComponent('pools.operator.machineconfiguration.openshift.io/worker')}`)
    ).json.items
    expect(pools.map((p: any) => p.metadata.name)).to.deep.equal(['worker'])
  })

  it('filters by field selectors and rejects unsupported fields like the real server', async () => {
    const f = async (path: string, sel: string) => call(em, 'GET', `${path}?fieldSelector=${encodeURIComponent(sel)}`)
    expect((await f('/api/v1/configmaps', 'metadata.name=two')).json.items.map((i: any) => i.metadata.name)).to.deep.equal(['two'])
    expect((await f('/api/v1/configmaps', 'metadata.namespace=b')).json.items).to.have.length(2)
    expect((await f('/api/v1/configmaps', 'metadata.namespace!=b')).json.items).to.have.length(2)
    expect((await f('/api/v1/pods', 'status.phase=Running')).json.items.map((i: any) => i.metadata.name)).to.deep.equal(['p-run'])
    expect((await f('/api/v1/pods', 'spec.nodeName=')).json.items.map((i: any) => i.metadata.name)).to.deep.equal(['p-pend'])
    expect((await f('/api/v1/pods', 'spec.nodeName=n1')).json.items.map((i: any) => i.metadata.name)).to.deep.equal(['p-run'])
    expect((await f(MCP, 'metadata.name==master')).json.items).to.have.length(1)
    const bad = await f('/api/v1/configmaps', 'data.x=1')
    expect(bad.status).to.equal(400)
    expect(bad.json).to.deep.equal({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'field label not supported: data.x',
      reason: 'BadRequest',
      code: 400,
    })
    expect((await f(MCP, 'spec.paused=true')).json.message).to.equal('field label not supported: spec.paused')
  })

  it('paginates with limit/continue over a consistent snapshot', async () => {
    const seen: string[] = []
    let cont: string | undefined
    let pages = 0
    const first = await call(em, 'GET', '/api/v1/nodes?limit=10')
    expect(first.json.metadata.remainingItemCount).to.equal(15)
    // a node created mid-way must not appear in the pages of the first list
    await call(em, 'POST', '/api/v1/nodes', {body: {apiVersion: 'v1', kind: 'Node', metadata: {name: 'node-05a'}}})
    seen.push(...first.json.items.map((i: any) => i.metadata.name))
    cont = first.json.metadata.continue
    while (cont) {
      const page = await call(em, 'GET', `/api/v1/nodes?limit=10&continue=${encodeURIComponent(cont)}`)
      expect(page.json.metadata.resourceVersion).to.equal(first.json.metadata.resourceVersion)
      seen.push(...page.json.items.map((i: any) => i.metadata.name))
      cont = page.json.metadata.continue
      pages++
    }
    expect(pages).to.equal(2)
    expect(seen).to.have.length(25)
    expect(seen).to.deep.equal([...seen].sort())
    expect(seen).to.not.include('node-05a')
    const sel = await call(em, 'GET', `/api/v1/nodes?limit=5&labelSelector=zone%3Dodd`)
    expect(sel.json.items).to.have.length(5)
    expect(sel.json.metadata.remainingItemCount).to.equal(undefined)
    const next = await call(em, 'GET', `/api/v1/nodes?limit=100&labelSelector=zone%3Dodd&continue=${sel.json.metadata.continue}`)
    expect(next.json.items).to.have.length(7)
    expect(next.json.metadata.continue).to.equal(undefined)
    const junk = await call(em, 'GET', '/api/v1/nodes?limit=1&continue=%25%25')
    expect(junk.status).to.equal(400)
    await call(em, 'DELETE', '/api/v1/nodes/node-05a')
  })

  it('serves Tables to kubectl get (name/age, built-in printers, CRD printer columns)', async () => {
    const t = await call(em, 'GET', '/api/v1/namespaces/a/configmaps', {headers: {Accept: TABLE_ACCEPT}})
    expect(t.json.kind).to.equal('Table')
    expect(t.json.apiVersion).to.equal('meta.k8s.io/v1')
    expect(t.json.columnDefinitions.map((c: any) => c.name)).to.deep.equal(['Name', 'Data', 'Age'])
    expect(t.json.rows[0].cells.slice(0, 2)).to.deep.equal(['one', 1])
    expect(t.json.rows[0].cells[2]).to.match(/^\d+s$/)
    expect(t.json.rows[0].object).to.deep.include({kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1'})
    expect(t.json.rows[0].object.metadata.name).to.equal('one')
    const p = await call(em, 'GET', MCP, {headers: {Accept: TABLE_ACCEPT}})
    expect(p.json.columnDefinitions.map((c: any) => c.name)).to.deep.equal([
      'Name',
      'Config',
      'Updated',
      'Updating',
      'Degraded',
      'MachineCount',
      'ReadyMachineCount',
      'UpdatedMachineCount',
      'DegradedMachineCount',
      'Age',
    ])
    const infra = p.json.rows.find((r: any) => r.cells[0] === 'infra')
    expect(infra.cells.slice(0, 6)).to.deep.equal(['infra', 'rendered-infra-1', 'True', 'False', null, 2])
    const one = await call(em, 'GET', `${MCP}/infra`, {headers: {Accept: TABLE_ACCEPT}})
    expect(one.json.rows).to.have.length(1)
    const nodes = await call(em, 'GET', '/api/v1/nodes?limit=2', {headers: {Accept: TABLE_ACCEPT}})
    expect(nodes.json.columnDefinitions.map((c: any) => c.name)).to.include.members(['Name', 'Status', 'Roles', 'Age', 'Version'])
    expect(nodes.json.rows[0].cells[1]).to.equal('Ready')
    expect(nodes.json.metadata.continue).to.be.a('string')
    const full = await call(em, 'GET', '/api/v1/namespaces/a/pods?includeObject=Object', {headers: {Accept: TABLE_ACCEPT}})
    expect(full.json.rows[0].object.kind).to.equal('Pod')
  })

  it('deletes collections by label selector', async () => {
    await call(em, 'POST', '/api/v1/namespaces', {body: {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'dc'}}})
    for (const n of ['x1', 'x2', 'keep'])
      await call(em, 'POST', '/api/v1/namespaces/dc/configmaps', {body: cm(n, 'dc', {}, n === 'keep' ? {k: 'y'} : {k: 'x'})})
    const d = await call(em, 'DELETE', '/api/v1/namespaces/dc/configmaps?labelSelector=k%3Dx')
    expect(d.status).to.equal(200)
    expect(d.json.kind).to.equal('ConfigMapList')
    expect(d.json.items.map((i: any) => i.metadata.name)).to.deep.equal(['x1', 'x2'])
    const left = (await call(em, 'GET', '/api/v1/namespaces/dc/configmaps')).json.items.map((i: any) => i.metadata.name)
    expect(left).to.deep.equal(['keep'])
  })
})
