import {expect} from 'chai'
import {apiErrorFromResponse} from '../../src/lib/kube/api-error.js'
import {ExitCode} from '../../src/lib/errors.js'

const req = {
  context: 'admin',
  method: 'POST',
  path: '/apis/machineconfiguration.openshift.io/v1/machineosconfigs',
  server: 'https://api.x:6443',
}
const status = (code: number, reason: string, message: string, details?: unknown) =>
  JSON.stringify({apiVersion: 'v1', code, kind: 'Status', message, metadata: {}, reason, status: 'Failure', ...(details ? {details} : {})})

describe('an API refusal of a field the cluster does not know (fieldValidation=Strict)', () => {
  it('a create or replace (400): names the kind and every unknown field, exit 7, with a next step', () => {
    const e = apiErrorFromResponse(
      400,
      status(
        400,
        'BadRequest',
        'MachineOSConfig in version "v1" cannot be handled as a MachineOSConfig: strict decoding error: unknown field "spec.imageBuilder.colour", unknown field "spec.size"',
      ),
      req,
    )
    expect(e.message).to.equal(
      "the cluster's MachineOSConfig does not know the fields spec.imageBuilder.colour, spec.size oc-mob writes (its CRD is older or newer than this oc-mob expects): the server refused the write",
    )
    expect(e.exitCode).to.equal(ExitCode.Invalid)
    expect(e.code).to.equal('UnknownField')
    expect(e.next).to.contain('oc get clusterversion').and.contain('report this message')
  })

  it('a patch (422, the patched object as the invalid value): names the field from the error, not from the object', () => {
    const detail =
      'Invalid value: "{\\"spec\\":{\\"note\\":\\"unknown field \\\\\\"spec.decoy\\\\\\"\\",\\"foo\\":1}}": strict decoding error: unknown field "spec.foo"'
    const e = apiErrorFromResponse(
      422,
      status(422, 'Invalid', ` "" is invalid: patch: ${detail}`, {
        causes: [{field: 'patch', message: detail, reason: 'FieldValueInvalid'}],
      }),
      {
        ...req,
        method: 'PATCH',
      },
    )
    expect(e.message).to.equal("the cluster's schema does not know the field spec.foo oc-mob writes: the server refused the write")
    expect(e.exitCode).to.equal(ExitCode.Invalid)
    expect(e.code).to.equal('UnknownField')
  })

  it('other 400 and 422 answers keep the server message (a duplicate key alone is not an unknown field)', () => {
    const bad = apiErrorFromResponse(
      400,
      status(400, 'BadRequest', 'the API version in the data (v2) does not match the expected API version (v1)'),
      req,
    )
    expect(bad.message).to.equal('the API version in the data (v2) does not match the expected API version (v1)')
    expect(bad.code).to.equal('BadRequest')
    expect(bad.exitCode).to.equal(ExitCode.Invalid)
    const dup = apiErrorFromResponse(
      400,
      status(
        400,
        'BadRequest',
        'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: duplicate field "data.a"',
      ),
      req,
    )
    expect(dup.code).to.equal('BadRequest')
    const invalid = apiErrorFromResponse(
      422,
      status(422, 'Invalid', 'MachineOSConfig.machineconfiguration.openshift.io "x" is invalid: spec: Required value'),
      req,
    )
    expect(invalid.message).to.equal('MachineOSConfig.machineconfiguration.openshift.io "x" is invalid: spec: Required value')
    expect(invalid.exitCode).to.equal(ExitCode.Invalid)
  })
})
