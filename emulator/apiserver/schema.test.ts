import {expect} from 'chai'
import {startEmulator, type Emulator} from '../index.js'
import {call, pool} from './testing.js'
import {validateCustomResource} from './schema-validation.js'

const G = '/apis/machineconfiguration.openshift.io/v1'
const MOSC = `${G}/machineosconfigs`
const MOSB = `${G}/machineosbuilds`
const MCP = `${G}/machineconfigpools`
const NOT_CHECKED =
  '<nil>: Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation'
const PUSHSPEC_MSG =
  'the OCI Image name should follow the host[:port][/namespace]/name format, resembling a valid URL without the scheme. Or it must be a valid .svc followed by a port, repository, image name, and tag.'

const mosc = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'machineconfiguration.openshift.io/v1',
  kind: 'MachineOSConfig',
  metadata: {name},
  spec: {
    machineConfigPool: {name},
    imageBuilder: {imageBuilderType: 'Job'},
    renderedImagePushSecret: {name: 'push-secret'},
    renderedImagePushSpec: 'quay.io/example/os-image:latest',
    ...spec,
  },
})

const mosb = (name: string) => ({
  apiVersion: 'machineconfiguration.openshift.io/v1',
  kind: 'MachineOSBuild',
  metadata: {name},
  spec: {
    machineConfig: {name: 'rendered-layered-0123456789abcdef'},
    machineOSConfig: {name: 'layered'},
    renderedImagePushSpec: 'quay.io/example/os-image:latest',
  },
})

const cond = (type: string, status: string, reason = 'Ready') => ({
  type,
  status,
  reason,
  message: '',
  lastTransitionTime: '2025-01-01T00:00:00Z',
})

/** the 422 body's cause lines, `field: message` */
const lines = (json: any) => json.details.causes.map((c: any) => `${c.field}: ${c.message}`)

describe('emulator: custom resources are validated against their CRD schemas and CEL rules', () => {
  let em: Emulator
  before(async () => {
    em = await startEmulator({objects: []})
  })
  after(async () => {
    await em.close()
  })

  it("accepts a valid MachineOSConfig, and answers an invalid one with the real server's 422 body", async () => {
    expect((await call(em, 'POST', MOSC, {body: mosc('ok')})).status).to.equal(201)
    const r = await call(em, 'POST', MOSC, {body: mosc('bad', {renderedImagePushSpec: 'quay.io/example/os-image'})})
    expect(r.status).to.equal(422)
    expect(r.json).to.deep.equal({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `MachineOSConfig.machineconfiguration.openshift.io "bad" is invalid: spec.renderedImagePushSpec: Invalid value: "string": ${PUSHSPEC_MSG}`,
      reason: 'Invalid',
      details: {
        name: 'bad',
        group: 'machineconfiguration.openshift.io',
        kind: 'MachineOSConfig',
        causes: [{reason: 'FieldValueInvalid', message: `Invalid value: "string": ${PUSHSPEC_MSG}`, field: 'spec.renderedImagePushSpec'}],
      },
      code: 422,
    })
    expect((await call(em, 'GET', `${MOSC}/bad`)).status).to.equal(404)
  })

  it('type: a wrong JSON type is FieldValueTypeInvalid and keeps the CEL rules from running', async () => {
    const r = await call(em, 'POST', MOSC, {body: mosc('typed', {renderedImagePushSpec: 42})})
    expect(r.status).to.equal(422)
    expect(r.json.details.causes[0]).to.deep.equal({
      reason: 'FieldValueTypeInvalid',
      message: 'Invalid value: "integer": spec.renderedImagePushSpec in body must be of type string: "integer"',
      field: 'spec.renderedImagePushSpec',
    })
    expect(lines(r.json)).to.deep.equal([
      'spec.renderedImagePushSpec: Invalid value: "integer": spec.renderedImagePushSpec in body must be of type string: "integer"',
      NOT_CHECKED,
    ])
    expect(r.json.message).to.equal(`MachineOSConfig.machineconfiguration.openshift.io "typed" is invalid: [${lines(r.json).join(', ')}]`)
  })

  it('required: a missing field is FieldValueRequired', async () => {
    const body: any = mosc('req')
    delete body.spec.renderedImagePushSecret
    const r = await call(em, 'POST', MOSC, {body})
    expect(r.json.details.causes).to.deep.equal([
      {reason: 'FieldValueRequired', message: 'Required value', field: 'spec.renderedImagePushSecret'},
      {
        reason: 'FieldValueInvalid',
        message:
          'Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
        field: '<nil>',
      },
    ])
  })

  it('enum: a value outside the list is FieldValueNotSupported with the supported values', async () => {
    const r = await call(em, 'POST', MOSC, {body: mosc('enum', {imageBuilder: {imageBuilderType: 'PodImageBuilder'}})})
    expect(lines(r.json)).to.deep.equal([
      'spec.imageBuilder.imageBuilderType: Unsupported value: "PodImageBuilder": supported values: "Job"',
      NOT_CHECKED,
    ])
    expect(r.json.details.causes[0].reason).to.equal('FieldValueNotSupported')
  })

  it('maxLength / minLength / maxItems', async () => {
    const long = await call(em, 'POST', MOSC, {body: mosc('long', {containerFile: [{content: 'x'.repeat(4100)}]})})
    expect(long.json.details.causes[0]).to.deep.equal({
      reason: 'FieldValueTooLong',
      message: 'Too long: may not be more than 4096 bytes',
      field: 'spec.containerFile[0].content',
    })
    const short = await call(em, 'POST', MOSC, {body: mosc('short', {renderedImagePushSpec: ''})})
    expect(lines(short.json)[0]).to.equal(
      'spec.renderedImagePushSpec: Invalid value: "": spec.renderedImagePushSpec in body should be at least 1 chars long',
    )
    expect(short.json.details.causes[0].reason).to.equal('FieldValueInvalid')
    const arches = ['ARM64', 'AMD64', 'PPC64LE', 'S390X', 'NoArch'].map((a) => ({containerfileArch: a, content: 'FROM x'}))
    const many = await call(em, 'POST', MOSC, {body: mosc('many', {containerFile: arches})})
    expect(lines(many.json)).to.deep.equal(['spec.containerFile: Too many: 5: must have at most 4 items', NOT_CHECKED])
    expect(many.json.details.causes[0].reason).to.equal('FieldValueTooMany')
    // a MachineOSBuild's machineConfig.name has a minLength of 10
    const b = mosb('few')
    b.spec.machineConfig.name = 'short'
    const few = await call(em, 'POST', MOSB, {body: b})
    expect(lines(few.json)).to.deep.equal([
      'spec.machineConfig.name: Invalid value: "short": spec.machineConfig.name in body should be at least 10 chars long',
    ])
  })

  it('pattern and format: status conditions of a MachineOSBuild', async () => {
    expect((await call(em, 'POST', MOSB, {body: mosb('pat')})).status).to.equal(201)
    const put = async (status: any) => {
      const cur = (await call(em, 'GET', `${MOSB}/pat`)).json
      return call(em, 'PUT', `${MOSB}/pat/status`, {body: {...cur, status}})
    }
    const r = await put({conditions: [{...cond('Building', 'True'), reason: 'not valid!', lastTransitionTime: 'yesterday'}]})
    expect(r.status).to.equal(422)
    expect(lines(r.json)).to.deep.equal([
      'status.conditions[0].lastTransitionTime: Invalid value: "yesterday": status.conditions[0].lastTransitionTime in body must be of type date-time: "yesterday"',
      'status.conditions[0].reason: Invalid value: "not valid!": status.conditions[0].reason in body should match \'^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$\'',
      NOT_CHECKED,
    ])
    const empty = await put({conditions: [cond('Building', 'True', '')]})
    expect(lines(empty.json)).to.deep.equal([
      'status.conditions[0].reason: Invalid value: "": status.conditions[0].reason in body should be at least 1 chars long',
      'status.conditions[0].reason: Invalid value: "": status.conditions[0].reason in body should match \'^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$\'',
    ])
    expect((await put({conditions: [cond('Building', 'True')]})).status).to.equal(200)
  })

  it('list-map keys: two entries with the same key (defaults included) are FieldValueDuplicate', async () => {
    const r = await call(em, 'POST', MOSC, {
      body: mosc('dup', {containerFile: [{content: 'FROM a'}, {containerfileArch: 'NoArch', content: 'FROM b'}]}),
    })
    expect(r.json.details.causes).to.deep.equal([
      {
        reason: 'FieldValueDuplicate',
        message: 'Duplicate value: map[string]interface {}{"containerfileArch":"NoArch"}',
        field: 'spec.containerFile[1]',
      },
    ])
  })

  it('CEL: format library, matches, split, has, timestamp; the root rule with optionalOldSelf', async () => {
    const name = await call(em, 'POST', MOSC, {body: mosc('Not_A_Name', {machineConfigPool: {name: 'Not_A_Name'}})})
    expect(lines(name.json)).to.include(
      "spec.machineConfigPool.name: Invalid value: \"string\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character.",
    )
    const dotted = await call(em, 'POST', MOSC, {body: mosc('dotted', {renderedImagePushSpec: 'quay.io/my.org/os-image:latest'})})
    expect(lines(dotted.json)).to.deep.equal([`spec.renderedImagePushSpec: Invalid value: "string": ${PUSHSPEC_MSG}`])
    const svc = await call(em, 'POST', MOSC, {
      body: mosc('svc', {renderedImagePushSpec: 'image-registry.openshift-image-registry.svc:5000/ns/os-image:latest'}),
    })
    expect(svc.status).to.equal(201)
    const other = await call(em, 'POST', MOSC, {body: mosc('other', {machineConfigPool: {name: 'worker'}})})
    expect(lines(other.json)).to.deep.equal([
      '<nil>: Invalid value: "object": MachineOSConfig name must match the referenced MachineConfigPool name; can only have one MachineOSConfig per MachineConfigPool',
    ])
    // the status digest rules (split + matches)
    const digest = await call(em, 'PUT', `${MOSC}/svc/status`, {
      body: {...(await call(em, 'GET', `${MOSC}/svc`)).json, status: {currentImagePullSpec: 'quay.io/example/os-image:latest'}},
    })
    expect(lines(digest.json)).to.deep.equal([
      "status.currentImagePullSpec: Invalid value: \"string\": the OCI Image reference must end with a valid '@sha256:<digest>' suffix, where '<digest>' is 64 characters long",
      'status.currentImagePullSpec: Invalid value: "string": the OCI Image name should follow the host[:port][/namespace]/name format, resembling a valid URL without the scheme',
    ])
    const good = `quay.io/example/os-image@sha256:${'a'.repeat(64)}`
    expect(
      (
        await call(em, 'PUT', `${MOSC}/svc/status`, {
          body: {...(await call(em, 'GET', `${MOSC}/svc`)).json, status: {currentImagePullSpec: good}},
        })
      ).status,
    ).to.equal(200)
    // has(): job forbidden unless Job; timestamp(): buildEnd strictly after buildStart
    expect((await call(em, 'POST', MOSB, {body: mosb('cel')})).status).to.equal(201)
    const cur = (await call(em, 'GET', `${MOSB}/cel`)).json
    const t = '2025-01-01T00:00:00Z'
    const r = await call(em, 'PUT', `${MOSB}/cel/status`, {
      body: {
        ...cur,
        status: {buildStart: t, buildEnd: t, builder: {imageBuilderType: 'Other', job: {group: 'batch', name: 'j', resource: 'jobs'}}},
      },
    })
    // a node's own rules run before those of its fields
    expect(lines(r.json)).to.deep.equal([
      'status: Invalid value: "object": buildEnd must be after buildStart',
      'status.builder: Invalid value: "object": job is required when imageBuilderType is Job, and forbidden otherwise',
    ])
  })

  it('CEL transition rules: oldSelf on update, patch and status; skipped on create; unchanged parts ratchet', async () => {
    expect((await call(em, 'POST', MOSB, {body: mosb('tr')})).status).to.equal(201)
    // spec is immutable once set (self == oldSelf), through PUT and merge patch alike
    const cur = (await call(em, 'GET', `${MOSB}/tr`)).json
    const put = await call(em, 'PUT', `${MOSB}/tr`, {
      body: {...cur, spec: {...cur.spec, renderedImagePushSpec: 'quay.io/example/other:latest'}},
    })
    expect(lines(put.json)).to.deep.equal(['spec: Invalid value: "object": machineOSBuildSpec is immutable once set'])
    const patch = await call(em, 'PATCH', `${MOSB}/tr`, {
      raw: JSON.stringify({spec: {renderedImagePushSpec: 'quay.io/example/other:latest'}}),
      headers: {'Content-Type': 'application/merge-patch+json'},
    })
    expect(patch.status).to.equal(422)
    // once Succeeded, conditions are immutable (status subresource, JSON patch)
    const status = (conditions: any[]) =>
      call(em, 'PATCH', `${MOSB}/tr/status`, {
        raw: JSON.stringify({status: {conditions}}),
        headers: {'Content-Type': 'application/merge-patch+json'},
      })
    expect((await status([cond('Succeeded', 'True')])).status).to.equal(200)
    const again = await status([cond('Succeeded', 'True'), cond('Building', 'False')])
    expect(lines(again.json)).to.deep.equal([
      'status.conditions: Invalid value: "array": once an Succeeded condition is set, conditions are immutable',
    ])
    // observedGeneration may not move backwards (self >= oldSelf)
    expect((await call(em, 'POST', MOSC, {body: mosc('gen')})).status).to.equal(201)
    const gen = (n: number) =>
      call(em, 'PATCH', `${MOSC}/gen/status`, {
        raw: JSON.stringify({status: {observedGeneration: n}}),
        headers: {'Content-Type': 'application/merge-patch+json'},
      })
    expect((await gen(3)).status).to.equal(200)
    expect(lines((await gen(2)).json)).to.deep.equal([
      'status.observedGeneration: Invalid value: "integer": observedGeneration must not move backwards',
    ])
    // the root rule with optionalOldSelf: a MachineOSConfig already named unlike its pool may keep that pool
    const pools = await call(em, 'POST', MCP, {body: pool('layered')})
    expect(pools.status).to.equal(201)
    const renamed = await call(em, 'PATCH', `${MOSC}/gen`, {
      raw: JSON.stringify({spec: {machineConfigPool: {name: 'layered'}}}),
      headers: {'Content-Type': 'application/merge-patch+json'},
    })
    expect(lines(renamed.json)).to.deep.equal([
      '<nil>: Invalid value: "object": MachineOSConfig name must match the referenced MachineConfigPool name; can only have one MachineOSConfig per MachineConfigPool',
    ])
  })

  it('ratchets: an invalid value stored earlier does not block an unrelated update', async () => {
    // objects loaded at start are not validated (like objects already in etcd); an update touching
    // something else is accepted, one touching the bad field is judged
    const em2 = await startEmulator({objects: [{...mosc('old', {renderedImagePushSpec: 'quay.io/my.org/os-image:latest'})}]})
    try {
      const label = await call(em2, 'PATCH', `${MOSC}/old`, {
        raw: JSON.stringify({metadata: {labels: {a: 'b'}}}),
        headers: {'Content-Type': 'application/merge-patch+json'},
      })
      expect(label.status).to.equal(200)
      const spec = await call(em2, 'PATCH', `${MOSC}/old`, {
        raw: JSON.stringify({spec: {renderedImagePushSpec: 'quay.io/my.org/os-image:v2'}}),
        headers: {'Content-Type': 'application/merge-patch+json'},
      })
      expect(spec.status).to.equal(422)
    } finally {
      await em2.close()
    }
  })

  it('validates on dry run too, and leaves built-in kinds to their own rules', async () => {
    const r = await call(em, 'POST', `${MOSC}?dryRun=All`, {body: mosc('dry', {renderedImagePushSpec: 'nope'})})
    expect(r.status).to.equal(422)
  })
})

describe('emulator: schema rules the MCO CRDs do not exercise (validateCustomResource)', () => {
  const schema = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          list: {type: 'array', minItems: 1, items: {type: 'string'}, 'x-kubernetes-list-type': 'set'},
          count: {type: 'integer', minimum: 0, maximum: 10},
          mode: {'x-kubernetes-int-or-string': true},
          opt: {type: 'string', nullable: true},
          labels: {type: 'object', additionalProperties: {type: 'string', maxLength: 3}},
        },
        'x-kubernetes-validations': [
          {rule: 'self.count != 5', messageExpression: "'count may not be ' + string(self.count)"},
          {rule: 'self.count != 7', fieldPath: '.count', reason: 'FieldValueForbidden', message: 'seven'},
        ],
      },
    },
  }
  const v = (spec: any, old?: any) =>
    validateCustomResource(schema, {metadata: {name: 'x'}, spec}, old && {metadata: {name: 'x'}, spec: old}).map(
      (c) => `${c.reason} ${c.field}: ${c.message}`,
    )

  it('minItems, minimum/maximum, set duplicates, int-or-string, nullable, additionalProperties', () => {
    expect(v({list: [], count: -1, mode: 'a', opt: null})).to.deep.equal([
      'FieldValueInvalid spec.list: Invalid value: 0: spec.list in body should have at least 1 items',
      'FieldValueInvalid spec.count: Invalid value: -1: spec.count in body should be greater than or equal to 0',
    ])
    expect(v({list: ['a', 'b', 'a'], count: 11, mode: true, labels: {k: 'long'}})).to.deep.equal([
      'FieldValueInvalid spec.count: Invalid value: 11: spec.count in body should be less than or equal to 10',
      'FieldValueTypeInvalid spec.mode: Invalid value: "boolean": spec.mode in body must be of type integer,string: "boolean"',
      'FieldValueTooLong spec.labels.k: Too long: may not be more than 3 bytes',
      'FieldValueDuplicate spec.list[2]: Duplicate value: "a"',
      'FieldValueInvalid <nil>: Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
    ])
  })

  it('messageExpression, fieldPath and reason of a rule; ratcheting of unchanged values', () => {
    expect(v({list: ['a'], count: 5})).to.deep.equal(['FieldValueInvalid spec: Invalid value: "object": count may not be 5'])
    expect(v({list: ['a'], count: 7})).to.deep.equal(['FieldValueForbidden spec.count: Forbidden: seven'])
    // unchanged on update: neither the schema nor the rule judges it again
    expect(v({list: ['a'], count: 11}, {list: ['a'], count: 11})).to.deep.equal([])
    expect(v({list: ['a', 'b'], count: 5}, {list: ['a'], count: 5})).to.deep.equal([
      'FieldValueInvalid spec: Invalid value: "object": count may not be 5',
    ])
  })
})
