import {expect} from 'chai'
import {startEmulator, type Emulator} from '../index.js'
import {call, cm, MCP, pool} from './testing.js'

const CM = '/api/v1/namespaces/default/configmaps'

describe('emulator: objects (CRUD, validation, errors)', () => {
  let em: Emulator
  before(async () => {
    em = await startEmulator({objects: [{apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'openshift-machine-config-operator'}}]})
  })
  after(async () => {
    await em.close()
  })

  it('creates with uid, creationTimestamp and a global increasing resourceVersion', async () => {
    const a = await call(em, 'POST', CM, {body: cm('crud-a')})
    const b = await call(em, 'POST', MCP, {body: pool('crud-pool')})
    expect(a.status).to.equal(201)
    expect(b.status).to.equal(201)
    expect(a.json.metadata.uid).to.match(/^[0-9a-f-]{36}$/)
    expect(a.json.metadata.creationTimestamp).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    expect(a.json.metadata.resourceVersion).to.be.a('string')
    expect(Number(b.json.metadata.resourceVersion)).to.be.greaterThan(Number(a.json.metadata.resourceVersion))
    expect(a.json).to.not.have.nested.property('metadata.generation')
    expect(b.json.metadata.generation).to.equal(1)
    const got = await call(em, 'GET', `${CM}/crud-a`)
    expect(got.json).to.deep.equal(a.json)
    expect(got.text.startsWith('{"kind":"ConfigMap","apiVersion":"v1",')).to.equal(true)
  })

  it('answers 404 NotFound exactly for core and custom resources', async () => {
    const a = await call(em, 'GET', `${CM}/nope`)
    expect(a.status).to.equal(404)
    expect(a.text).to.equal(
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"configmaps \\"nope\\" not found","reason":"NotFound","details":{"name":"nope","kind":"configmaps"},"code":404}',
    )
    const b = await call(em, 'GET', `${MCP}/nope`)
    expect(b.json).to.deep.equal({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'machineconfigpools.machineconfiguration.openshift.io "nope" not found',
      reason: 'NotFound',
      details: {name: 'nope', group: 'machineconfiguration.openshift.io', kind: 'machineconfigpools'},
      code: 404,
    })
  })

  it('answers 409 AlreadyExists', async () => {
    await call(em, 'POST', CM, {body: cm('cm1')})
    const r = await call(em, 'POST', CM, {body: cm('cm1')})
    expect(r.status).to.equal(409)
    expect(r.json).to.deep.equal({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'configmaps "cm1" already exists',
      reason: 'AlreadyExists',
      details: {name: 'cm1', kind: 'configmaps'},
      code: 409,
    })
  })

  it('needs the namespace to exist for namespaced creates', async () => {
    const r = await call(em, 'POST', '/api/v1/namespaces/x/configmaps', {body: cm('a', 'x')})
    expect(r.status).to.equal(404)
    expect(r.json.message).to.equal('namespaces "x" not found')
    expect(r.json.details).to.deep.equal({name: 'x', kind: 'namespaces'})
  })

  it('validates names with the real message (422)', async () => {
    const r = await call(em, 'POST', CM, {body: cm('Bad_Name')})
    expect(r.status).to.equal(422)
    const msg = `Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`
    expect(r.json).to.deep.equal({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `ConfigMap "Bad_Name" is invalid: metadata.name: ${msg}`,
      reason: 'Invalid',
      details: {name: 'Bad_Name', kind: 'ConfigMap', causes: [{reason: 'FieldValueInvalid', message: msg, field: 'metadata.name'}]},
      code: 422,
    })
    const p = await call(em, 'POST', MCP, {body: pool('Bad')})
    expect(p.json.message).to.match(
      /^MachineConfigPool\.machineconfiguration\.openshift\.io "Bad" is invalid: metadata\.name: Invalid value: "Bad"/,
    )
    expect(p.json.details.group).to.equal('machineconfiguration.openshift.io')
    const ns = await call(em, 'POST', '/api/v1/namespaces', {body: {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'a.b'}}})
    expect(ns.json.message).to.contain('a lowercase RFC 1123 label must consist of')
    const none = await call(em, 'POST', CM, {body: {data: {}}})
    expect(none.status).to.equal(422)
    expect(none.json.message).to.equal('ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required')
  })

  it('generates names from generateName', async () => {
    const r = await call(em, 'POST', CM, {body: {metadata: {generateName: 'gen-'}, data: {}}})
    expect(r.status).to.equal(201)
    expect(r.json.metadata.name).to.match(/^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/)
    expect(r.json.kind).to.equal('ConfigMap')
  })

  it('rejects ConfigMap data over 1 MiB and bodies over 3 MiB exactly', async () => {
    const big = await call(em, 'POST', CM, {body: cm('big', 'default', {a: 'x'.repeat(1048577)})})
    expect(big.status).to.equal(422)
    expect(big.json).to.deep.equal({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'ConfigMap "big" is invalid: []: Too long: may not be more than 1048576 bytes',
      reason: 'Invalid',
      details: {
        name: 'big',
        kind: 'ConfigMap',
        causes: [{reason: 'FieldValueTooLong', message: 'Too long: may not be more than 1048576 bytes', field: '[]'}],
      },
      code: 422,
    })
    const fits = await call(em, 'POST', CM, {body: cm('fits', 'default', {a: 'x'.repeat(1048576)})})
    expect(fits.status).to.equal(201)
    const huge = await call(em, 'POST', CM, {body: cm('huge', 'default', {a: 'x'.repeat(3 * 1024 * 1024)})})
    expect(huge.status).to.equal(413)
    expect(huge.json).to.deep.equal({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Request entity too large: limit is 3145728',
      reason: 'RequestEntityTooLarge',
      code: 413,
    })
  })

  it('updates with resourceVersion checks: stale -> 409 Conflict, empty -> unconditional', async () => {
    const c = (await call(em, 'POST', CM, {body: cm('upd')})).json
    const u1 = await call(em, 'PUT', `${CM}/upd`, {body: {...c, data: {a: '2'}}})
    expect(u1.status).to.equal(200)
    expect(u1.json.data).to.deep.equal({a: '2'})
    const stale = await call(em, 'PUT', `${CM}/upd`, {body: {...c, data: {a: '3'}}})
    expect(stale.status).to.equal(409)
    expect(stale.json).to.deep.equal({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message:
        'Operation cannot be fulfilled on configmaps "upd": the object has been modified; please apply your changes to the latest version and try again',
      reason: 'Conflict',
      details: {name: 'upd', kind: 'configmaps'},
      code: 409,
    })
    const {resourceVersion: _rv, ...meta} = c.metadata
    const u2 = await call(em, 'PUT', `${CM}/upd`, {body: {...c, metadata: meta, data: {a: '4'}}})
    expect(u2.status).to.equal(200)
    expect(u2.json.metadata.uid).to.equal(c.metadata.uid)
    // a no-op update keeps the resourceVersion
    const u3 = await call(em, 'PUT', `${CM}/upd`, {body: u2.json})
    expect(u3.json.metadata.resourceVersion).to.equal(u2.json.metadata.resourceVersion)
    const p = (await call(em, 'POST', MCP, {body: pool('conf')})).json
    await call(em, 'PUT', `${MCP}/conf`, {body: {...p, spec: {...p.spec, paused: true}}})
    const cr = await call(em, 'PUT', `${MCP}/conf`, {body: p})
    expect(cr.json.message).to.equal(
      'Operation cannot be fulfilled on machineconfigpools.machineconfiguration.openshift.io "conf": the object has been modified; please apply your changes to the latest version and try again',
    )
    expect(cr.json.details).to.deep.equal({name: 'conf', group: 'machineconfiguration.openshift.io', kind: 'machineconfigpools'})
    const missing = await call(em, 'PUT', `${CM}/never`, {body: cm('never')})
    expect(missing.status).to.equal(404)
  })

  it('keeps status out of the main endpoint and spec out of /status; bumps generation on spec changes only', async () => {
    const created = await call(em, 'POST', MCP, {body: {...pool('gen'), status: {machineCount: 9}}})
    expect(created.json.status).to.equal(undefined) // status is dropped on create for kinds with a status subresource
    const s1 = await call(em, 'PUT', `${MCP}/gen/status`, {
      body: {...created.json, spec: {paused: true}, metadata: {...created.json.metadata, labels: {x: 'y'}}, status: {machineCount: 3}},
    })
    expect(s1.status).to.equal(200)
    expect(s1.json.status).to.deep.equal({machineCount: 3})
    expect(s1.json.spec.paused).to.equal(false)
    expect(s1.json.metadata.labels).to.equal(undefined)
    expect(s1.json.metadata.generation).to.equal(1)
    const m1 = await call(em, 'PUT', `${MCP}/gen`, {
      body: {...s1.json, status: {machineCount: 100}, metadata: {...s1.json.metadata, labels: {a: 'b'}}},
    })
    expect(m1.json.status).to.deep.equal({machineCount: 3})
    expect(m1.json.metadata.generation).to.equal(1) // metadata-only change
    const m2 = await call(em, 'PUT', `${MCP}/gen`, {body: {...m1.json, spec: {...m1.json.spec, paused: true}}})
    expect(m2.json.metadata.generation).to.equal(2)
    const st = await call(em, 'GET', `${MCP}/gen/status`)
    expect(st.json.metadata.name).to.equal('gen')
    // MachineConfig has no status subresource: any non-metadata change bumps generation
    const mc = await call(em, 'POST', '/apis/machineconfiguration.openshift.io/v1/machineconfigs', {
      body: {
        apiVersion: 'machineconfiguration.openshift.io/v1',
        kind: 'MachineConfig',
        metadata: {name: 'mc1'},
        spec: {config: {ignition: {version: '3.4.0'}}},
      },
    })
    expect(mc.json.metadata.generation).to.equal(1)
    const mc2 = await call(em, 'PUT', '/apis/machineconfiguration.openshift.io/v1/machineconfigs/mc1', {
      body: {...mc.json, spec: {...mc.json.spec, kernelArguments: ['a=b']}},
    })
    expect(mc2.json.metadata.generation).to.equal(2)
    const nope = await call(em, 'GET', '/apis/machineconfiguration.openshift.io/v1/machineconfigs/mc1/status')
    expect(nope.status).to.equal(404)
  })

  it('prunes unknown fields of MCO kinds per the CRD schema', async () => {
    const r = await call(em, 'POST', MCP, {body: {...pool('pruned'), spec: {...pool('pruned').spec, bogus: 1}, extra: true}})
    expect(r.status).to.equal(201)
    expect(r.json.extra).to.equal(undefined)
    expect(r.json.spec.bogus).to.equal(undefined)
    expect(r.json.spec.paused).to.equal(false)
    const mc = await call(em, 'POST', '/apis/machineconfiguration.openshift.io/v1/machineconfigs', {
      body: {
        apiVersion: 'machineconfiguration.openshift.io/v1',
        kind: 'MachineConfig',
        metadata: {name: 'mc-keep'},
        spec: {config: {ignition: {version: '3.4.0'}, storage: {files: []}}},
      },
    })
    expect(mc.json.spec.config.storage).to.deep.equal({files: []}) // x-kubernetes-preserve-unknown-fields
  })

  it('handles Secrets: stringData merged into base64 data, type immutable, data must be base64', async () => {
    const S = '/api/v1/namespaces/default/secrets'
    const r = await call(em, 'POST', S, {
      body: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {name: 's1'},
        data: {a: Buffer.from('x').toString('base64')},
        stringData: {b: 'hello'},
      },
    })
    expect(r.status).to.equal(201)
    expect(r.json.type).to.equal('Opaque')
    expect(r.json.data).to.deep.equal({a: 'eA==', b: 'aGVsbG8='})
    expect(r.json.stringData).to.equal(undefined)
    const t = await call(em, 'PUT', `${S}/s1`, {body: {...r.json, type: 'kubernetes.io/tls'}})
    expect(t.status).to.equal(422)
    expect(t.json.message).to.contain('Secret "s1" is invalid:')
    expect(t.json.details.causes).to.deep.include({
      reason: 'FieldValueInvalid',
      message: 'Invalid value: "kubernetes.io/tls": field is immutable',
      field: 'type',
    })
    const bad = await call(em, 'POST', S, {body: {apiVersion: 'v1', kind: 'Secret', metadata: {name: 's2'}, data: {a: 'not base64!'}}})
    expect(bad.status).to.equal(400)
    expect(bad.json.reason).to.equal('BadRequest')
    expect(bad.json.message).to.match(/^Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte \d+$/)
    const big = await call(em, 'POST', S, {
      body: {apiVersion: 'v1', kind: 'Secret', metadata: {name: 's3'}, data: {a: Buffer.alloc(1048577).toString('base64')}},
    })
    expect(big.status).to.equal(422)
    expect(big.json.message).to.equal('Secret "s3" is invalid: data: Too long: may not be more than 1048576 bytes')
    const dcj = await call(em, 'POST', S, {
      body: {apiVersion: 'v1', kind: 'Secret', metadata: {name: 's4'}, type: 'kubernetes.io/dockerconfigjson', data: {}},
    })
    expect(dcj.status).to.equal(422)
    expect(dcj.json.message).to.equal('Secret "s4" is invalid: data[.dockerconfigjson]: Required value')
  })

  it('supports dryRun=All on create, update, patch and delete', async () => {
    const c = await call(em, 'POST', `${CM}?dryRun=All`, {body: cm('dry')})
    expect(c.status).to.equal(201)
    expect(c.json.metadata.uid).to.be.a('string')
    expect(c.json.metadata.creationTimestamp).to.be.a('string')
    expect((await call(em, 'GET', `${CM}/dry`)).status).to.equal(404)
    const real = (await call(em, 'POST', CM, {body: cm('dry')})).json
    const u = await call(em, 'PUT', `${CM}/dry?dryRun=All`, {body: {...real, data: {z: '1'}}})
    expect(u.json.data).to.deep.equal({z: '1'})
    const p = await call(em, 'PATCH', `${CM}/dry?dryRun=All`, {
      raw: '{"data":{"y":"2"}}',
      headers: {'Content-Type': 'application/merge-patch+json'},
    })
    expect(p.json.data).to.deep.equal({a: '1', y: '2'})
    const d = await call(em, 'DELETE', `${CM}/dry?dryRun=All`)
    expect(d.status).to.equal(200)
    const after = await call(em, 'GET', `${CM}/dry`)
    expect(after.json).to.deep.equal(real)
  })

  it('deletes: a Status for ConfigMaps and custom resources, the object for pods, 404 afterwards, preconditions', async () => {
    const c = (await call(em, 'POST', CM, {body: cm('del')})).json
    const d = await call(em, 'DELETE', `${CM}/del`)
    expect(d.json).to.deep.equal({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: {name: 'del', kind: 'configmaps', uid: c.metadata.uid},
    })
    expect((await call(em, 'GET', `${CM}/del`)).status).to.equal(404)
    expect((await call(em, 'DELETE', `${CM}/del`)).json.message).to.equal('configmaps "del" not found')
    const p = (await call(em, 'POST', MCP, {body: pool('delpool')})).json
    const dp = await call(em, 'DELETE', `${MCP}/delpool`)
    expect(dp.status).to.equal(200)
    expect(dp.text).to.equal(
      `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success","details":{"name":"delpool","group":"machineconfiguration.openshift.io","kind":"machineconfigpools","uid":"${p.metadata.uid}"}}`,
    )
    // with a finalizer the object stays, marked, and is what DELETE answers
    await call(em, 'POST', MCP, {body: {...pool('finpool'), metadata: {name: 'finpool', finalizers: ['example.com/x']}}})
    const fp = await call(em, 'DELETE', `${MCP}/finpool`)
    expect(fp.json.kind).to.equal('MachineConfigPool')
    expect(fp.json.metadata.deletionTimestamp).to.be.a('string')
    await call(em, 'PATCH', `${MCP}/finpool`, {
      raw: '{"metadata":{"finalizers":null}}',
      headers: {'Content-Type': 'application/merge-patch+json'},
    })
    await call(em, 'POST', CM, {body: cm('pre')})
    const pre = await call(em, 'DELETE', `${CM}/pre`, {body: {preconditions: {uid: 'x'}}})
    expect(pre.status).to.equal(409)
    expect(pre.json.message).to.match(
      /^Operation cannot be fulfilled on configmaps "pre": Precondition failed: UID in precondition: x, UID in object meta: /,
    )
  })

  it('honours finalizers: deletionTimestamp first, gone once the last finalizer is removed', async () => {
    await call(em, 'POST', CM, {body: {...cm('fin'), metadata: {name: 'fin', finalizers: ['example.com/x']}}})
    const d = await call(em, 'DELETE', `${CM}/fin`)
    expect(d.status).to.equal(200)
    const got = await call(em, 'GET', `${CM}/fin`)
    expect(got.json.metadata.deletionTimestamp).to.be.a('string')
    const p = await call(em, 'PATCH', `${CM}/fin`, {
      raw: '{"metadata":{"finalizers":null}}',
      headers: {'Content-Type': 'application/merge-patch+json'},
    })
    expect(p.status).to.equal(200)
    expect((await call(em, 'GET', `${CM}/fin`)).status).to.equal(404)
  })

  it('garbage-collects dependents with ownerReferences', async () => {
    const owner = (await call(em, 'POST', CM, {body: cm('owner')})).json
    await call(em, 'POST', CM, {
      body: {
        ...cm('owned'),
        metadata: {name: 'owned', ownerReferences: [{apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid}]},
      },
    })
    await call(em, 'DELETE', `${CM}/owner`)
    await new Promise((r) => setTimeout(r, 20))
    expect((await call(em, 'GET', `${CM}/owned`)).status).to.equal(404)
  })

  it('defaults pods, binds them to nodes, and protects the pod spec', async () => {
    const P = '/api/v1/namespaces/default/pods'
    const p = await call(em, 'POST', P, {
      body: {apiVersion: 'v1', kind: 'Pod', metadata: {name: 'p1'}, spec: {containers: [{name: 'c', image: 'quay.io/x/y:1'}]}},
    })
    expect(p.status).to.equal(201)
    expect(p.json.status).to.deep.equal({phase: 'Pending', qosClass: 'BestEffort'})
    expect(p.json.spec.containers[0].imagePullPolicy).to.equal('IfNotPresent')
    expect(p.json.spec.restartPolicy).to.equal('Always')
    const b = await call(em, 'POST', `${P}/p1/binding`, {
      body: {apiVersion: 'v1', kind: 'Binding', metadata: {name: 'p1'}, target: {kind: 'Node', name: 'n1'}},
    })
    expect(b.status).to.equal(201)
    expect(b.json).to.deep.equal({kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201})
    const again = await call(em, 'POST', `${P}/p1/binding`, {body: {target: {kind: 'Node', name: 'n2'}}})
    expect(again.status).to.equal(409)
    const got = (await call(em, 'GET', `${P}/p1`)).json
    expect(got.spec.nodeName).to.equal('n1')
    const bad = await call(em, 'PUT', `${P}/p1`, {body: {...got, spec: {...got.spec, nodeName: 'other'}}})
    expect(bad.status).to.equal(422)
    expect(bad.json.message).to.match(/^Pod "p1" is invalid: spec: Forbidden: pod updates may not change fields other than/)
    const img = await call(em, 'PUT', `${P}/p1`, {
      body: {...got, spec: {...got.spec, containers: [{...got.spec.containers[0], image: 'quay.io/x/y:2'}]}},
    })
    expect(img.status).to.equal(200)
  })

  it('deletes pods on a node gracefully (the kubelet finishes with grace 0), others at once', async () => {
    const P = '/api/v1/namespaces/default/pods'
    const spec = {containers: [{name: 'c', image: 'i'}]}
    await call(em, 'POST', P, {body: {metadata: {name: 'g-unbound'}, spec}})
    const d0 = await call(em, 'DELETE', `${P}/g-unbound`)
    expect(d0.json.kind).to.equal('Pod')
    expect((await call(em, 'GET', `${P}/g-unbound`)).status).to.equal(404)
    await call(em, 'POST', P, {body: {metadata: {name: 'g-bound'}, spec: {...spec, nodeName: 'n1'}}})
    const d1 = await call(em, 'DELETE', `${P}/g-bound`)
    expect(d1.status).to.equal(200)
    expect(d1.json.metadata.deletionGracePeriodSeconds).to.equal(30)
    expect(Date.parse(d1.json.metadata.deletionTimestamp) - Date.now()).to.be.greaterThan(25_000)
    expect((await call(em, 'GET', `${P}/g-bound`)).json.metadata.deletionTimestamp).to.equal(d1.json.metadata.deletionTimestamp)
    const again = await call(em, 'POST', P, {body: {metadata: {name: 'g-bound'}, spec}})
    expect(again.status).to.equal(409)
    const d2 = await call(em, 'DELETE', `${P}/g-bound`, {
      body: {apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: {uid: d1.json.metadata.uid}},
    })
    expect(d2.status).to.equal(200)
    expect((await call(em, 'GET', `${P}/g-bound`)).status).to.equal(404)
  })

  it('keeps namespaced and cluster-scoped paths apart', async () => {
    expect((await call(em, 'GET', '/api/v1/namespaces/default/nodes')).status).to.equal(404)
    expect((await call(em, 'GET', '/apis/machineconfiguration.openshift.io/v1/namespaces/default/machineconfigpools')).status).to.equal(404)
    expect((await call(em, 'GET', '/api/v1/namespaces/default')).json.kind).to.equal('Namespace')
    expect((await call(em, 'GET', '/api/v1/namespaces/default/status')).json.status.phase).to.equal('Active')
    const sa = await call(em, 'GET', '/api/v1/namespaces/openshift-machine-config-operator/serviceaccounts/default')
    expect(sa.status).to.equal(200)
    const nf = await call(em, 'GET', '/apis/nope.example.com/v1/things')
    expect(nf.status).to.equal(404)
    expect(nf.json).to.deep.equal({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'the server could not find the requested resource',
      reason: 'NotFound',
      details: {},
      code: 404,
    })
    const mna = await call(em, 'POST', `${CM}/x`, {body: cm('x')})
    expect(mna.status).to.equal(405)
  })

  it('deletes a namespace with its contents', async () => {
    await call(em, 'POST', '/api/v1/namespaces', {body: {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'gone'}}})
    await call(em, 'POST', '/api/v1/namespaces/gone/configmaps', {body: cm('x', 'gone')})
    const d = await call(em, 'DELETE', '/api/v1/namespaces/gone')
    expect(d.status).to.equal(200)
    expect(d.json.status.phase).to.equal('Terminating')
    expect((await call(em, 'GET', '/api/v1/namespaces/gone/configmaps/x')).status).to.equal(404)
    expect((await call(em, 'GET', '/api/v1/namespaces/gone')).status).to.equal(404)
  })

  it('sets job selectors and imagestream repositories like the real server', async () => {
    await call(em, 'POST', '/api/v1/namespaces', {body: {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'jobs'}}})
    const j = await call(em, 'POST', '/apis/batch/v1/namespaces/jobs/jobs', {
      body: {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: {name: 'build-x'},
        spec: {template: {spec: {restartPolicy: 'Never', containers: [{name: 'c', image: 'i'}]}}},
      },
    })
    expect(j.status).to.equal(201)
    expect(j.json.spec.selector.matchLabels['batch.kubernetes.io/controller-uid']).to.equal(j.json.metadata.uid)
    expect(j.json.spec.template.metadata.labels['job-name']).to.equal('build-x')
    expect(j.json.spec.backoffLimit).to.equal(6)
    const is = await call(em, 'POST', '/apis/image.openshift.io/v1/namespaces/jobs/imagestreams', {
      body: {apiVersion: 'image.openshift.io/v1', kind: 'ImageStream', metadata: {name: 'os-image'}},
    })
    expect(is.json.status.dockerImageRepository).to.equal('image-registry.openshift-image-registry.svc:5000/jobs/os-image')
  })
})
