import {expect} from 'chai'
import {startEmulator, type Emulator} from '../index.js'
import {call, cm, MCP, pool} from './testing.js'

const MC = '/apis/machineconfiguration.openshift.io/v1/machineconfigs'
const MERGE = {'Content-Type': 'application/merge-patch+json'}
const JSON_PATCH = {'Content-Type': 'application/json-patch+json'}
const APPLY = {'Content-Type': 'application/apply-patch+yaml'}

/** a pool with two fields its CRD does not know, one of them deep in a known object */
const withUnknown = (name: string) => {
  const p: any = pool(name)
  p.spec.foo = 'x'
  p.spec.nodeSelector.bar = 1
  return p
}
const UNKNOWN = ['unknown field "spec.foo"', 'unknown field "spec.nodeSelector.bar"'].sort()
const STRICT = `MachineConfigPool in version "v1" cannot be handled as a MachineConfigPool: strict decoding error: ${UNKNOWN.join(', ')}`
const warning = (text: string) => `299 - "${text.replaceAll('"', '\\"')}"`

describe('emulator: fieldValidation (unknown fields of custom resources)', () => {
  let em: Emulator
  before(async () => {
    em = await startEmulator({objects: []})
  })
  after(async () => {
    await em.close()
  })

  const stored = async (name: string) => (await call(em, 'GET', `${MCP}/${name}`)).json
  const badRequest = (message: string) => ({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: 'BadRequest',
    code: 400,
  })

  describe('create', () => {
    it('Strict refuses the object with 400, naming every unknown field, and stores nothing', async () => {
      const r = await call(em, 'POST', `${MCP}?fieldValidation=Strict`, {body: withUnknown('strict-create')})
      expect(r.status).to.equal(400)
      expect(r.json).to.deep.equal(badRequest(STRICT))
      expect(r.warnings).to.deep.equal([])
      expect((await call(em, 'GET', `${MCP}/strict-create`)).status).to.equal(404)
    })

    it('Strict with dryRun=All refuses as well', async () => {
      const r = await call(em, 'POST', `${MCP}?fieldValidation=Strict&dryRun=All`, {body: withUnknown('strict-dry')})
      expect(r.status).to.equal(400)
      expect(r.json.message).to.equal(STRICT)
      expect((await call(em, 'GET', `${MCP}/strict-dry`)).status).to.equal(404)
    })

    it('Warn (and no fieldValidation, the default) creates it pruned with one Warning header per unknown field', async () => {
      for (const [name, q] of [
        ['warn-create', '?fieldValidation=Warn'],
        ['default-create', ''],
      ]) {
        const r = await call(em, 'POST', `${MCP}${q}`, {body: withUnknown(name)})
        expect(r.status, name).to.equal(201)
        expect(r.warnings, name).to.deep.equal(UNKNOWN.map(warning))
        const s = await stored(name)
        expect(s.spec, name).to.not.have.property('foo')
        expect(s.spec.nodeSelector, name).to.deep.equal(pool(name).spec.nodeSelector)
      }
    })

    it('Ignore creates it pruned without a word', async () => {
      const r = await call(em, 'POST', `${MCP}?fieldValidation=Ignore`, {body: withUnknown('ignore-create')})
      expect(r.status).to.equal(201)
      expect(r.warnings).to.deep.equal([])
      expect((await stored('ignore-create')).spec).to.not.have.property('foo')
    })

    it('Strict accepts labels, fields under x-kubernetes-preserve-unknown-fields, and a clean object', async () => {
      const mc = {
        apiVersion: 'machineconfiguration.openshift.io/v1',
        kind: 'MachineConfig',
        metadata: {name: 'mc-preserved', labels: {'machineconfiguration.openshift.io/role': 'worker'}},
        spec: {config: {ignition: {version: '3.4.0'}, anything: {goes: true}}},
      }
      const r = await call(em, 'POST', `${MC}?fieldValidation=Strict`, {body: mc})
      expect(r.status, r.text).to.equal(201)
      expect(r.json.spec.config).to.deep.equal(mc.spec.config)
      const clean = await call(em, 'POST', `${MCP}?fieldValidation=Strict`, {body: pool('strict-clean', {a: 'b'})})
      expect(clean.status, clean.text).to.equal(201)
      expect(clean.warnings).to.deep.equal([])
    })

    it('reports an unknown key under metadata, and drops it', async () => {
      const p: any = pool('meta-unknown')
      p.metadata.colour = 'blue'
      const strict = await call(em, 'POST', `${MCP}?fieldValidation=Strict`, {body: p})
      expect(strict.json.message).to.equal(
        'MachineConfigPool in version "v1" cannot be handled as a MachineConfigPool: strict decoding error: unknown field "metadata.colour"',
      )
      const warn = await call(em, 'POST', MCP, {body: p})
      expect(warn.warnings).to.deep.equal([warning('unknown field "metadata.colour"')])
      expect((await stored('meta-unknown')).metadata).to.not.have.property('colour')
    })

    it('refuses a fieldValidation it does not know with 422, as kube-apiserver validates CreateOptions', async () => {
      const r = await call(em, 'POST', `${MCP}?fieldValidation=strict`, {body: pool('bad-directive')})
      expect(r.status).to.equal(422)
      expect(r.json).to.deep.equal({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message:
          'CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "strict": supported values: "", "Ignore", "Strict", "Warn"',
        reason: 'Invalid',
        details: {
          group: 'meta.k8s.io',
          kind: 'CreateOptions',
          causes: [
            {
              reason: 'FieldValueNotSupported',
              message: 'Unsupported value: "strict": supported values: "", "Ignore", "Strict", "Warn"',
              field: 'fieldValidation',
            },
          ],
        },
        code: 422,
      })
      expect((await call(em, 'GET', `${MCP}/bad-directive`)).status).to.equal(404)
      const put = await call(em, 'PUT', `${MCP}/ignore-create?fieldValidation=Nope`, {body: pool('ignore-create')})
      expect(put.json.message).to.match(/^UpdateOptions\.meta\.k8s\.io "" is invalid: fieldValidation: Unsupported value: "Nope"/)
      const patch = await call(em, 'PATCH', `${MCP}/ignore-create?fieldValidation=Nope`, {body: {}, headers: MERGE})
      expect(patch.json.message).to.match(/^PatchOptions\.meta\.k8s\.io "" is invalid: fieldValidation: Unsupported value: "Nope"/)
    })

    it('reports keys the JSON sets twice first, in the order they appear, then unknown metadata, then pruned fields', async () => {
      const raw = (name: string) =>
        `{"apiVersion":"machineconfiguration.openshift.io/v1","kind":"MachineConfigPool","metadata":{"name":"x","name":"${name}","colour":1},` +
        '"spec":{"zeta":1,"paused":true,"paused":false,"nodeSelector":{"matchLabels":{"a":"1","a":"2"}},"alpha":2}}'
      const dups = ['duplicate field "metadata.name"', 'duplicate field "spec.paused"', 'duplicate field "spec.nodeSelector.matchLabels.a"']
      const unknown = ['unknown field "metadata.colour"', 'unknown field "spec.alpha"', 'unknown field "spec.zeta"']
      const strict = await call(em, 'POST', `${MCP}?fieldValidation=Strict`, {raw: raw('dups-strict')})
      expect(strict.status).to.equal(400)
      expect(strict.json.message).to.equal(
        `MachineConfigPool in version "v1" cannot be handled as a MachineConfigPool: strict decoding error: ${[...dups, ...unknown].join(', ')}`,
      )
      expect((await call(em, 'GET', `${MCP}/dups-strict`)).status).to.equal(404)
      const warn = await call(em, 'POST', MCP, {raw: raw('dups-warn')})
      expect(warn.status).to.equal(201)
      expect(warn.warnings).to.deep.equal([...dups, ...unknown].map(warning))
      const s = await stored('dups-warn')
      expect(s.spec.paused).to.equal(false)
      expect(s.spec.nodeSelector.matchLabels).to.deep.equal({a: '2'})
      const ignore = await call(em, 'POST', `${MCP}?fieldValidation=Ignore`, {raw: raw('dups-ignore')})
      expect(ignore.status).to.equal(201)
      expect(ignore.warnings).to.deep.equal([])
    })

    it('reports duplicate keys of built-in kinds too, but not their unknown fields (the emulator has no schema for them)', async () => {
      const r = await call(em, 'POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Strict', {
        raw: '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dup-cm"},"data":{"a":"1","a":"2"}}',
      })
      expect(r.status).to.equal(400)
      expect(r.json.message).to.equal(
        'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: duplicate field "data.a"',
      )
      expect((await call(em, 'GET', '/api/v1/namespaces/default/configmaps/dup-cm')).status).to.equal(404)
    })

    it('leaves unknown fields of built-in kinds alone (the emulator has no schema for them)', async () => {
      const c: any = cm('builtin-unknown')
      c.extra = 1
      const r = await call(em, 'POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Strict', {body: c})
      expect(r.status).to.equal(201)
      expect(r.warnings).to.deep.equal([])
    })
  })

  describe('update (PUT)', () => {
    before(async () => {
      expect((await call(em, 'POST', MCP, {body: pool('upd')})).status).to.equal(201)
    })

    const changed = async () => {
      const cur = await stored('upd')
      const next = withUnknown('upd')
      next.metadata.resourceVersion = cur.metadata.resourceVersion
      next.spec.paused = !cur.spec.paused
      return {cur, next}
    }

    it('Strict refuses with 400 and leaves the object as it was (also with dryRun=All)', async () => {
      for (const q of ['fieldValidation=Strict', 'fieldValidation=Strict&dryRun=All']) {
        const {cur, next} = await changed()
        const r = await call(em, 'PUT', `${MCP}/upd?${q}`, {body: next})
        expect(r.status, q).to.equal(400)
        expect(r.json, q).to.deep.equal(badRequest(STRICT))
        expect(await stored('upd'), q).to.deep.equal(cur)
      }
    })

    it('Warn warns and stores the change pruned; Ignore stores it silently', async () => {
      let {next} = await changed()
      const warn = await call(em, 'PUT', `${MCP}/upd?fieldValidation=Warn`, {body: next})
      expect(warn.status).to.equal(200)
      expect(warn.warnings).to.deep.equal(UNKNOWN.map(warning))
      expect(warn.json.spec).to.not.have.property('foo')
      expect(warn.json.spec.paused).to.equal(next.spec.paused)
      ;({next} = await changed())
      const ignore = await call(em, 'PUT', `${MCP}/upd?fieldValidation=Ignore`, {body: next})
      expect(ignore.status).to.equal(200)
      expect(ignore.warnings).to.deep.equal([])
      expect((await stored('upd')).spec.paused).to.equal(next.spec.paused)
    })
  })

  describe('patch', () => {
    before(async () => {
      expect((await call(em, 'POST', MCP, {body: pool('pat')})).status).to.equal(201)
    })

    it('Strict refuses a merge patch with 422 naming the unknown field, the patched object as the value, and changes nothing', async () => {
      for (const q of ['fieldValidation=Strict', 'fieldValidation=Strict&dryRun=All']) {
        const cur = await stored('pat')
        const r = await call(em, 'PATCH', `${MCP}/pat?${q}`, {body: {spec: {paused: true, foo: 'x'}}, headers: MERGE})
        expect(r.status, q).to.equal(422)
        expect(r.json.reason).to.equal('Invalid')
        expect(r.json.message).to.match(/^ "" is invalid: patch: Invalid value: "\{\\"apiVersion\\":/)
        expect(r.json.message).to.match(/": strict decoding error: unknown field "spec.foo"$/)
        expect(r.json.details.causes).to.have.length(1)
        expect(r.json.details.causes[0].field).to.equal('patch')
        expect(await stored('pat'), q).to.deep.equal(cur)
      }
    })

    it('Strict refuses a JSON patch adding an unknown field too', async () => {
      const r = await call(em, 'PATCH', `${MCP}/pat?fieldValidation=Strict`, {
        body: [{op: 'add', path: '/spec/foo', value: 1}],
        headers: JSON_PATCH,
      })
      expect(r.status).to.equal(422)
      expect(r.json.message).to.match(/strict decoding error: unknown field "spec.foo"$/)
    })

    it('Warn (the default) applies the patch pruned with a warning; Ignore silently', async () => {
      const warn = await call(em, 'PATCH', `${MCP}/pat`, {body: {spec: {paused: true, foo: 'x'}}, headers: MERGE})
      expect(warn.status).to.equal(200)
      expect(warn.warnings).to.deep.equal([warning('unknown field "spec.foo"')])
      expect(warn.json.spec.paused).to.equal(true)
      expect(warn.json.spec).to.not.have.property('foo')
      const ignore = await call(em, 'PATCH', `${MCP}/pat?fieldValidation=Ignore`, {body: {spec: {paused: false, foo: 'x'}}, headers: MERGE})
      expect(ignore.status).to.equal(200)
      expect(ignore.warnings).to.deep.equal([])
      expect((await stored('pat')).spec)
        .to.include({paused: false})
        .and.not.have.property('foo')
    })

    it('reports keys a merge patch or a JSON patch operation sets twice before unknown fields', async () => {
      const merge = await call(em, 'PATCH', `${MCP}/pat`, {raw: '{"spec":{"paused":true,"paused":false,"foo":1}}', headers: MERGE})
      expect(merge.status).to.equal(200)
      expect(merge.warnings).to.deep.equal([warning('duplicate field "spec.paused"'), warning('unknown field "spec.foo"')])
      expect(merge.json.spec.paused).to.equal(false)
      const json = await call(em, 'PATCH', `${MCP}/pat?fieldValidation=Strict`, {
        raw: '[{"op":"replace","path":"/spec/paused","path":"/spec/paused","value":true}]',
        headers: JSON_PATCH,
      })
      expect(json.status).to.equal(422)
      expect(json.json.message).to.match(/": strict decoding error: json patch duplicate field "\[0\]\.path"$/)
    })

    it('a clean patch under Strict goes through without warnings', async () => {
      const r = await call(em, 'PATCH', `${MCP}/pat?fieldValidation=Strict`, {body: {spec: {paused: true}}, headers: MERGE})
      expect(r.status).to.equal(200)
      expect(r.warnings).to.deep.equal([])
    })
  })

  describe('server-side apply', () => {
    const applied = (name: string, extra = '') =>
      `apiVersion: machineconfiguration.openshift.io/v1\nkind: MachineConfigPool\nmetadata:\n  name: ${name}\nspec:\n  paused: true\n${extra}`

    it('refuses a field the schema does not declare in every mode (a 500, as kube-apiserver answers it) and stores nothing', async () => {
      for (const q of [
        '',
        '&fieldValidation=Ignore',
        '&fieldValidation=Warn',
        '&fieldValidation=Strict',
        '&fieldValidation=Strict&dryRun=All',
      ]) {
        const r = await call(em, 'PATCH', `${MCP}/ssa?fieldManager=me${q}`, {raw: applied('ssa', '  foo: x\n'), headers: APPLY})
        expect(r.status, q).to.equal(500)
        expect(r.json, q).to.deep.equal({
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message:
            'failed to create typed patch object (/ssa; machineconfiguration.openshift.io/v1, Kind=MachineConfigPool): .spec.foo: field not declared in schema',
          code: 500,
        })
        expect((await call(em, 'GET', `${MCP}/ssa`)).status, q).to.equal(404)
      }
    })

    it('lists several undeclared fields, and refuses them on an existing object too (which stays as it was)', async () => {
      expect(
        (await call(em, 'PATCH', `${MCP}/ssa2?fieldManager=me&fieldValidation=Strict`, {raw: applied('ssa2'), headers: APPLY})).status,
      ).to.equal(201)
      const cur = await stored('ssa2')
      const r = await call(em, 'PATCH', `${MCP}/ssa2?fieldManager=me`, {raw: applied('ssa2', '  foo: x\n  bar: y\n'), headers: APPLY})
      expect(r.status).to.equal(500)
      expect(r.json.message).to.equal(
        'failed to create typed patch object (/ssa2; machineconfiguration.openshift.io/v1, Kind=MachineConfigPool): errors:\n  .spec.bar: field not declared in schema\n  .spec.foo: field not declared in schema',
      )
      expect(await stored('ssa2')).to.deep.equal(cur)
    })
  })
})
