import {expect} from 'chai'
import {startEmulator, type Emulator} from '../index.js'
import {call, MCP, pool} from './testing.js'

const CM = '/api/v1/namespaces/default/configmaps'
const APPLY = {'Content-Type': 'application/apply-patch+yaml'}
const MERGE = {'Content-Type': 'application/merge-patch+json'}
const apply = (em: Emulator, path: string, obj: unknown) => call(em, 'PATCH', path, {raw: JSON.stringify(obj), headers: APPLY})
const cmObj = (name: string, data: Record<string, string>, labels?: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: labels ? {name, labels} : {name},
  data,
})
/** the entries without their times (each an RFC 3339 second) */
const strip = (mf: any[]) =>
  mf.map(({time, ...e}: any) => {
    expect(time).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    return e
  })

describe('emulator: managedFields and server-side apply', () => {
  let em: Emulator
  before(async () => {
    em = await startEmulator({objects: [pool('layering')]})
  })
  after(async () => {
    await em.close()
  })

  it('records a create as an Update by ?fieldManager, or by the User-Agent before its first "/"', async () => {
    const c = await call(em, 'POST', `${CM}?fieldManager=tester`, {body: cmObj('created', {a: '1'}, {app: 'x'})})
    expect(c.status).to.equal(201)
    expect(strip(c.json.metadata.managedFields)).to.deep.equal([
      {
        manager: 'tester',
        operation: 'Update',
        apiVersion: 'v1',
        fieldsType: 'FieldsV1',
        fieldsV1: {'f:data': {'.': {}, 'f:a': {}}, 'f:metadata': {'f:labels': {'.': {}, 'f:app': {}}}},
      },
    ])
    const ua = await call(em, 'POST', CM, {body: cmObj('by-agent', {a: '1'}), headers: {'User-Agent': 'some-client/1.2 (linux)'}})
    expect(ua.json.metadata.managedFields[0].manager).to.equal('some-client')
    // stored as answered
    expect((await call(em, 'GET', `${CM}/created`)).json.metadata.managedFields).to.deep.equal(c.json.metadata.managedFields)
  })

  it('gives the fields an update changes to its manager and takes them from the others; no change, no new entry', async () => {
    await call(em, 'POST', `${CM}?fieldManager=first`, {body: cmObj('shared', {a: '1', b: '2'})})
    const p = await call(em, 'PATCH', `${CM}/shared?fieldManager=second`, {raw: JSON.stringify({data: {b: '3', c: '4'}}), headers: MERGE})
    expect(p.status).to.equal(200)
    const mf = strip(p.json.metadata.managedFields)
    expect(mf.map((e: any) => [e.manager, e.operation])).to.deep.equal([
      ['first', 'Update'],
      ['second', 'Update'],
    ])
    expect(mf[0].fieldsV1).to.deep.equal({'f:data': {'.': {}, 'f:a': {}}})
    expect(mf[1].fieldsV1).to.deep.equal({'f:data': {'f:b': {}, 'f:c': {}}})
    // a removed field leaves its owner
    const rm = await call(em, 'PATCH', `${CM}/shared?fieldManager=second`, {raw: JSON.stringify({data: {a: null}}), headers: MERGE})
    expect(strip(rm.json.metadata.managedFields)[0].fieldsV1).to.deep.equal({'f:data': {'.': {}}})
    const rv = rm.json.metadata.resourceVersion
    const same = await call(em, 'PATCH', `${CM}/shared?fieldManager=third`, {raw: JSON.stringify({data: {b: '3'}}), headers: MERGE})
    expect(same.json.metadata.resourceVersion).to.equal(rv)
    expect(same.json.metadata.managedFields.map((e: any) => e.manager)).to.deep.equal(['first', 'second'])
  })

  it('applies: creates with an Apply entry of only the applied fields, merges, and removes what the manager stops applying', async () => {
    const c = await apply(em, `${CM}/applied?fieldManager=one`, cmObj('applied', {a: '1', b: '2'}))
    expect(c.status).to.equal(201)
    expect(strip(c.json.metadata.managedFields)).to.deep.equal([
      {manager: 'one', operation: 'Apply', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: {'f:data': {'f:a': {}, 'f:b': {}}}},
    ])
    const two = await apply(em, `${CM}/applied?fieldManager=two`, cmObj('applied', {c: '3'}))
    expect(two.status).to.equal(200)
    expect(two.json.data).to.deep.equal({a: '1', b: '2', c: '3'})
    const again = await apply(em, `${CM}/applied?fieldManager=one`, cmObj('applied', {a: '1'}))
    expect(again.json.data).to.deep.equal({a: '1', c: '3'})
    expect(strip(again.json.metadata.managedFields).map((e: any) => [e.manager, e.fieldsV1])).to.deep.equal([
      ['one', {'f:data': {'f:a': {}}}],
      ['two', {'f:data': {'f:c': {}}}],
    ])
    // the same configuration again changes nothing
    const rv = again.json.metadata.resourceVersion
    const noop = await apply(em, `${CM}/applied?fieldManager=one`, cmObj('applied', {a: '1'}))
    expect(noop.json.metadata.resourceVersion).to.equal(rv)
    // a second owner of the same value is no conflict; the field stays while either applies it
    const co = await apply(em, `${CM}/applied?fieldManager=two`, cmObj('applied', {a: '1', c: '3'}))
    expect(co.status).to.equal(200)
    const drop = await apply(em, `${CM}/applied?fieldManager=one`, cmObj('applied', {}))
    expect(drop.json.data).to.deep.equal({a: '1', c: '3'})
  })

  it('answers a changed value owned by another manager with 409 Conflict and its causes; force takes it over', async () => {
    await call(em, 'POST', `${CM}?fieldManager=creator`, {body: cmObj('contested', {k: 'v', j: 'w'})})
    const before = (await call(em, 'GET', `${CM}/contested`)).json
    const time = before.metadata.managedFields[0].time
    const r = await apply(em, `${CM}/contested?fieldManager=applier`, cmObj('contested', {k: 'other'}))
    expect(r.status).to.equal(409)
    expect(r.json).to.deep.equal({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `Apply failed with 1 conflict: conflict with "creator" using v1 at ${time}: .data.k`,
      reason: 'Conflict',
      details: {causes: [{reason: 'FieldManagerConflict', message: `conflict with "creator" using v1 at ${time}`, field: '.data.k'}]},
      code: 409,
    })
    expect((await call(em, 'GET', `${CM}/contested`)).json).to.deep.equal(before)
    const two = await apply(em, `${CM}/contested?fieldManager=applier`, cmObj('contested', {k: 'x', j: 'y'}))
    expect(two.status).to.equal(409)
    expect(two.json.message).to.equal(`Apply failed with 2 conflicts: conflicts with "creator" using v1 at ${time}:\n- .data.j\n- .data.k`)
    expect(two.json.details.causes.map((c: any) => c.field)).to.deep.equal(['.data.j', '.data.k'])
    const forced = await apply(em, `${CM}/contested?fieldManager=applier&force=true`, cmObj('contested', {k: 'other'}))
    expect(forced.status).to.equal(200)
    expect(forced.json.data).to.deep.equal({k: 'other', j: 'w'})
    expect(strip(forced.json.metadata.managedFields).map((e: any) => [e.manager, e.operation, e.fieldsV1])).to.deep.equal([
      ['creator', 'Update', {'f:data': {'.': {}, 'f:j': {}}}],
      ['applier', 'Apply', {'f:data': {'f:k': {}}}],
    ])
  })

  it('keys list items by the schema: a custom resource list-map, built-in containers by name', async () => {
    const mcp = await apply(em, `${MCP}/layering?fieldManager=a`, {
      apiVersion: 'machineconfiguration.openshift.io/v1',
      kind: 'MachineConfigPool',
      metadata: {name: 'layering', labels: {l: '1'}},
      spec: {paused: true, machineConfigSelector: {matchLabels: {x: 'y'}}},
    })
    expect(mcp.status).to.equal(200)
    const mine = mcp.json.metadata.managedFields.find((e: any) => e.manager === 'a')
    expect(mine.fieldsV1).to.deep.equal({
      'f:metadata': {'f:labels': {'f:l': {}}},
      // a label selector is an atomic map in the CRD: owned as one field
      'f:spec': {'f:machineConfigSelector': {}, 'f:paused': {}},
    })
    const st = await apply(em, `${MCP}/layering/status?fieldManager=a`, {
      apiVersion: 'machineconfiguration.openshift.io/v1',
      kind: 'MachineConfigPool',
      metadata: {name: 'layering'},
      status: {machineCount: 2},
    })
    expect(st.status).to.equal(200)
    expect(st.json.status.machineCount).to.equal(2)
    expect(st.json.spec.paused).to.equal(true)
    const se = st.json.metadata.managedFields.find((e: any) => e.subresource === 'status')
    expect(se).to.include({manager: 'a', operation: 'Apply'})
    expect(se.fieldsV1).to.deep.equal({'f:status': {'f:machineCount': {}}})
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {name: 'p', namespace: 'default'},
      spec: {containers: [{name: 'c', image: 'quay.io/a/b:1'}]},
    }
    const p = await apply(em, '/api/v1/namespaces/default/pods/p?fieldManager=pods', pod)
    expect(p.status).to.equal(201)
    expect(p.json.metadata.managedFields[0].fieldsV1).to.deep.equal({
      'f:spec': {'f:containers': {'k:{"name":"c"}': {'.': {}, 'f:image': {}, 'f:name': {}}}},
    })
  })

  it('refuses an apply without fieldManager and leaves the object as it was', async () => {
    await call(em, 'POST', `${CM}?fieldManager=creator`, {body: cmObj('untouched', {a: '1'})})
    const r = await apply(em, `${CM}/untouched`, cmObj('untouched', {a: '2'}))
    expect(r.status).to.equal(400)
    const cur = (await call(em, 'GET', `${CM}/untouched`)).json
    const withFields = await apply(em, `${CM}/untouched?fieldManager=x`, {...cmObj('untouched', {a: '2'}), metadata: cur.metadata})
    expect(withFields.status).to.equal(400)
    expect(withFields.json.message).to.equal('metadata.managedFields must be nil')
    expect((await call(em, 'GET', `${CM}/untouched`)).json.data).to.deep.equal({a: '1'})
  })
})
