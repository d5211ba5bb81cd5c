import {expect} from 'chai'
import {transportError} from '../../src/lib/kube/api-error.js'
import {checkWrite, holds, mergePatchInEffect} from '../../src/lib/kube/lost-write.js'
import {isRetryable} from '../../src/lib/kube/retry.js'
import type {KubeObject} from '../../src/lib/kube/types.js'

const CM_PATH = '/api/v1/namespaces/ns/configmaps'
const cm = (data: Record<string, string>, meta: Partial<KubeObject['metadata']> = {}): KubeObject =>
  ({
    apiVersion: 'v1',
    data,
    kind: 'ConfigMap',
    metadata: {name: 'c', namespace: 'ns', resourceVersion: '7', uid: 'u1', ...meta},
  }) as KubeObject

/** A find that answers from one object (undefined: 404), recording the paths asked for. */
function finder(obj: KubeObject | undefined) {
  const asked: string[] = []
  return {
    asked,
    find: async (path: string) => {
      asked.push(path)
      return obj
    },
  }
}

describe('a write whose answer was lost', () => {
  it('holds: what was sent is in the object; added fields and list elements do not matter, changed ones do', () => {
    expect(holds({a: 1, b: {c: [1, 2]}}, {a: 1, b: {c: [2, 1, 3], d: 4}, e: 5})).to.equal(true)
    expect(holds({a: 1}, {a: 2})).to.equal(false)
    expect(holds({b: {c: [1, 9]}}, {b: {c: [1, 2]}})).to.equal(false)
    expect(holds({a: {x: 1}}, {a: 'x'})).to.equal(false)
  })

  it('a merge patch is in effect when every field it sets has that value and every null is gone', () => {
    const node = {metadata: {labels: {a: '', keep: 'x'}}}
    expect(mergePatchInEffect({metadata: {labels: {a: ''}}}, node)).to.equal(true)
    expect(mergePatchInEffect({metadata: {labels: {b: ''}}}, node)).to.equal(false)
    expect(mergePatchInEffect({metadata: {labels: {a: null}}}, node)).to.equal(false)
    expect(mergePatchInEffect({metadata: {labels: {gone: null}}}, node)).to.equal(true)
  })

  it('create: the object holding what was sent is applied; absent is not applied; another object of that name is unknown', async () => {
    const sent = cm({k: 'v'})
    const f = finder(cm({k: 'v'}, {resourceVersion: '8'}))
    const applied = await checkWrite({body: sent, method: 'POST', path: CM_PATH}, f.find)
    expect(applied.state).to.equal('applied')
    expect(f.asked).to.deep.equal([`${CM_PATH}/c`])
    expect((await checkWrite({body: sent, method: 'POST', path: CM_PATH}, finder(undefined).find)).state).to.equal('not-applied')
    expect((await checkWrite({body: sent, method: 'POST', path: CM_PATH}, finder(cm({k: 'other'})).find)).state).to.equal('unknown')
    // A generated name cannot be looked up.
    const generated = {...sent, metadata: {generateName: 'c-', namespace: 'ns'}}
    expect((await checkWrite({body: generated, method: 'POST', path: CM_PATH}, finder(undefined).find)).state).to.equal('unknown')
  })

  it('replace: the same resourceVersion is not applied; a newer one holding the body is; a newer one without it is unknown', async () => {
    const sent = cm({k: 'new'})
    const spec = {body: sent, method: 'PUT', path: `${CM_PATH}/c`}
    expect((await checkWrite(spec, finder(cm({k: 'old'})).find)).state).to.equal('not-applied')
    expect((await checkWrite(spec, finder(cm({k: 'new'}, {resourceVersion: '8'})).find)).state).to.equal('applied')
    expect((await checkWrite(spec, finder(cm({k: 'third'}, {resourceVersion: '9'})).find)).state).to.equal('unknown')
  })

  it('status replace compares the status only, reading the object itself', async () => {
    const pool = (status: unknown, rv: string) =>
      ({apiVersion: 'v1', kind: 'MachineConfigPool', metadata: {name: 'p', resourceVersion: rv}, spec: {x: 1}, status}) as KubeObject
    const path = '/apis/machineconfiguration.openshift.io/v1/machineconfigpools/p/status'
    const f = finder(pool({conditions: [{status: 'True', type: 'BuildPending'}]}, '8'))
    const r = await checkWrite({body: pool({conditions: [{status: 'True', type: 'BuildPending'}]}, '7'), method: 'PUT', path}, f.find)
    expect(r.state).to.equal('applied')
    expect(f.asked).to.deep.equal(['/apis/machineconfiguration.openshift.io/v1/machineconfigpools/p'])
  })

  it('patch: in effect is applied, not in effect is not applied (sent again); a JSON patch append cannot be told', async () => {
    const node = {apiVersion: 'v1', kind: 'Node', metadata: {labels: {role: ''}, name: 'n'}} as KubeObject
    const path = '/api/v1/nodes/n'
    expect((await checkWrite({body: {metadata: {labels: {role: ''}}}, method: 'PATCH', path}, finder(node).find)).state).to.equal('applied')
    expect((await checkWrite({body: {metadata: {labels: {other: ''}}}, method: 'PATCH', path}, finder(node).find)).state).to.equal(
      'not-applied',
    )
    const json = 'application/json-patch+json'
    const add = [{op: 'add', path: '/metadata/labels/role', value: ''}]
    expect((await checkWrite({body: add, contentType: json, method: 'PATCH', path}, finder(node).find)).state).to.equal('applied')
    const append = [{op: 'add', path: '/spec/taints/-', value: {key: 'k'}}]
    expect((await checkWrite({body: append, contentType: json, method: 'PATCH', path}, finder(node).find)).state).to.equal('unknown')
  })

  it('patch made against a resourceVersion: same version not applied; newer and in effect applied; newer without it unknown', async () => {
    const path = '/apis/machineconfiguration.openshift.io/v1/machineosconfigs/worker'
    const config = (annotations: Record<string, string>, resourceVersion: string) =>
      ({apiVersion: 'v1', kind: 'MachineOSConfig', metadata: {annotations, name: 'worker', resourceVersion}}) as KubeObject
    const body = {metadata: {annotations: {rebuild: ''}, resourceVersion: '7'}}
    const spec = {body, method: 'PATCH', path}
    expect((await checkWrite(spec, finder(config({}, '7')).find)).state).to.equal('not-applied')
    expect((await checkWrite(spec, finder(config({rebuild: ''}, '8')).find)).state).to.equal('applied')
    // Taken and then consumed by a controller, or never made while another write moved the version on.
    expect((await checkWrite(spec, finder(config({}, '9')).find)).state).to.equal('unknown')
  })

  it('delete: gone, terminating or replaced by a newcomer is applied; the same object still there is not applied', async () => {
    const body = {apiVersion: 'v1', kind: 'DeleteOptions', preconditions: {uid: 'u1'}}
    const spec = {body, method: 'DELETE', path: `${CM_PATH}/c`}
    expect((await checkWrite(spec, finder(undefined).find)).state).to.equal('applied')
    expect((await checkWrite(spec, finder(cm({}, {deletionTimestamp: '2026-01-01T00:00:00Z'})).find)).state).to.equal('applied')
    expect((await checkWrite(spec, finder(cm({}, {uid: 'u2'})).find)).state).to.equal('applied')
    expect((await checkWrite(spec, finder(cm({})).find)).state).to.equal('not-applied')
    // A collection delete cannot be told.
    expect((await checkWrite({method: 'DELETE', path: CM_PATH}, finder(undefined).find)).state).to.equal('unknown')
  })
})

describe('transport errors', () => {
  const server = 'https://api.example:6443'
  const err = (message: string, code?: string) => Object.assign(new Error(message), code ? {code} : {})

  it('a connection reset during the TLS handshake is a connection problem, retried; not a certificate problem', () => {
    const e = transportError(
      err('Client network socket disconnected before secure TLS connection was established', 'ECONNRESET'),
      server,
      'ctx',
    )
    expect(e.code).to.equal('Unreachable')
    expect(e.message).to.equal(`cannot reach the cluster at ${server}: the connection was reset during the TLS handshake`)
    expect(isRetryable(e)).to.equal(true)
  })

  it('a real certificate failure still says so, and is not retried', () => {
    for (const e of [
      transportError(err('certificate has expired', 'CERT_HAS_EXPIRED'), server, 'ctx'),
      transportError(err('unable to verify the first certificate', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'), server, 'ctx'),
      transportError(err('Hostname/IP does not match certificate', 'ERR_TLS_CERT_ALTNAME_INVALID'), server, 'ctx'),
    ]) {
      expect(e.code).to.equal('TLSError')
      expect(e.message).to.match(/^TLS verification of https:\/\/api\.example:6443 failed: /)
      expect(e.next).to.include('certificate-authority')
      expect(isRetryable(e)).to.equal(false)
    }
  })

  it('a refused connection is retried; an unknown host is not', () => {
    expect(isRetryable(transportError(err('connect ECONNREFUSED 127.0.0.1:6443', 'ECONNREFUSED'), server, 'ctx'))).to.equal(true)
    expect(isRetryable(transportError(err('getaddrinfo ENOTFOUND api.example', 'ENOTFOUND'), server, 'ctx'))).to.equal(false)
  })
})
