import {expect} from 'chai'
import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {PassThrough} from 'node:stream'
import {announce, startEmulator, type Emulator} from '../index.js'
import {call, cm, MCP, pool} from './testing.js'

const MCO = 'openshift-machine-config-operator'

describe('emulator: TLS, authentication, authorisation, access reviews', () => {
  let em: Emulator
  before(async () => {
    em = await startEmulator({
      objects: [
        {apiVersion: 'v1', kind: 'Namespace', metadata: {name: MCO}},
        cm('c1', MCO),
        pool('layering'),
        {apiVersion: 'v1', kind: 'Pod', metadata: {name: 'p1', namespace: MCO}, spec: {containers: [{name: 'c', image: 'i'}]}},
      ],
      restricted: [
        {
          user: 'viewer',
          token: 'viewer-token',
          rules: [{verbs: ['get', 'list', 'watch'], resources: ['machineconfigpools'], apiGroups: ['machineconfiguration.openshift.io']}],
        },
        {
          user: 'ns-admin',
          token: 'ns-token',
          rules: [{verbs: ['*'], resources: ['configmaps', 'pods', 'pods/log'], apiGroups: [''], namespaces: [MCO]}],
        },
      ],
    })
  })
  after(async () => {
    await em.close()
  })

  it('serves TLS signed by caPem for 127.0.0.1, and writes kubeconfigs', async () => {
    expect(em.url).to.match(/^https:\/\/127\.0\.0\.1:\d+$/)
    expect(em.caPem).to.contain('BEGIN CERTIFICATE')
    const kc = readFileSync(em.kubeconfig, 'utf8')
    expect(kc).to.contain(`server: ${em.url}`)
    expect(kc).to.contain(`certificate-authority-data: ${Buffer.from(em.caPem).toString('base64')}`)
    expect(kc).to.contain(`token: ${em.tokens.admin}`)
    expect(kc).to.contain('current-context: emulator')
    expect(readFileSync(em.kubeconfigFor('insecure'), 'utf8')).to.contain('insecure-skip-tls-verify: true')
    expect(readFileSync(em.kubeconfigFor('developer'), 'utf8')).to.contain(`token: ${em.tokens.developer}`)
    expect(readFileSync(em.kubeconfigFor('cert'), 'utf8')).to.contain('client-certificate-data: ')
    expect(readFileSync(em.kubeconfigFor('viewer'), 'utf8')).to.contain('token: viewer-token')
    expect(() => em.kubeconfigFor('nobody')).to.throw(/unknown identity nobody/)
    const untrusted = await call(em, 'GET', '/version', {ca: 'x'}).catch((error) => error)
    expect(untrusted).to.be.instanceOf(Error)
  })

  it('answers 401 for a bad token and for no credentials', async () => {
    const bad = await call(em, 'GET', '/api/v1/namespaces', {token: 'nope'})
    expect(bad.status).to.equal(401)
    expect(bad.text).to.equal(
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}',
    )
    const none = await call(em, 'GET', '/version', {token: null})
    expect(none.status).to.equal(401)
    expect(em.requests[em.requests.length - 1]).to.deep.include({status: 401, method: 'GET', path: '/version'})
  })

  it('authenticates a client certificate signed by the CA as its CN, with groups from O', async () => {
    const admin = em.clientCertificate('admin', ['system:masters'])
    const r = await call(em, 'GET', '/api/v1/namespaces', {token: null, cert: admin})
    expect(r.status).to.equal(200)
    expect(em.requests[em.requests.length - 1].user).to.equal('admin')
    const master = await call(em, 'GET', MCP, {token: null, cert: em.clientCertificate('someone', ['system:masters'])})
    expect(master.status).to.equal(200)
    const viewer = await call(em, 'GET', '/api/v1/namespaces', {token: null, cert: em.clientCertificate('viewer')})
    expect(viewer.status).to.equal(403)
    expect(viewer.json.message).to.equal(
      'namespaces is forbidden: User "viewer" cannot list resource "namespaces" in API group "" at the cluster scope',
    )
  })

  it('has a "restricted" user bound to nothing, whose kubeconfig-restricted lies beside kubeconfig and is announced', async () => {
    const path = em.kubeconfigFor('restricted')
    expect(path).to.equal(join(dirname(em.kubeconfig), 'kubeconfig-restricted'))
    expect(readFileSync(path, 'utf8')).to.contain(`token: ${em.tokens.restricted}`)
    const t = em.tokens.restricted
    const list = await call(em, 'GET', `/api/v1/namespaces/${MCO}/configmaps`, {token: t})
    expect(list.json).to.deep.equal({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `configmaps is forbidden: User "restricted" cannot list resource "configmaps" in API group "" in the namespace "${MCO}"`,
      reason: 'Forbidden',
      details: {kind: 'configmaps'},
      code: 403,
    })
    expect((await call(em, 'GET', `${MCP}/layering`, {token: t})).status).to.equal(403)
    expect((await call(em, 'GET', '/apis', {token: t})).status, 'discovery stays open').to.equal(200)
    const review = await call(em, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      token: t,
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: {resourceAttributes: {verb: 'get', group: 'machineconfiguration.openshift.io', resource: 'machineconfigpools'}},
      },
    })
    expect(review.json.status.allowed).to.equal(false)
    const out = new PassThrough()
    const err = new PassThrough()
    announce(em, {out, err})
    expect(String(err.read())).to.include(`  restricted kubeconfig: ${path} (a user with no RBAC bindings: everything is 403)\n`)
  })

  it('lets the default developer only get/list/watch', async () => {
    const t = em.tokens.developer
    expect((await call(em, 'GET', `/api/v1/namespaces/${MCO}/configmaps`, {token: t})).status).to.equal(200)
    const c = await call(em, 'POST', `/api/v1/namespaces/${MCO}/configmaps`, {token: t, body: cm('x', MCO)})
    expect(c.status).to.equal(403)
    expect(c.json).to.deep.equal({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `configmaps is forbidden: User "developer" cannot create resource "configmaps" in API group "" in the namespace "${MCO}"`,
      reason: 'Forbidden',
      details: {kind: 'configmaps'},
      code: 403,
    })
    const p = await call(em, 'PATCH', `${MCP}/layering`, {token: t, raw: '{}', headers: {'Content-Type': 'application/merge-patch+json'}})
    expect(p.status).to.equal(403)
    expect(p.json).to.deep.equal({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message:
        'machineconfigpools.machineconfiguration.openshift.io "layering" is forbidden: User "developer" cannot patch resource "machineconfigpools" in API group "machineconfiguration.openshift.io" at the cluster scope',
      reason: 'Forbidden',
      details: {name: 'layering', group: 'machineconfiguration.openshift.io', kind: 'machineconfigpools'},
      code: 403,
    })
  })

  it('applies restricted identities rules: resources, groups, namespaces, subresources', async () => {
    const v = 'viewer-token'
    expect((await call(em, 'GET', MCP, {token: v})).status).to.equal(200)
    const l = await call(em, 'GET', `/api/v1/namespaces/${MCO}/configmaps`, {token: v})
    expect(l.status).to.equal(403)
    expect(l.json.message).to.equal(
      `configmaps is forbidden: User "viewer" cannot list resource "configmaps" in API group "" in the namespace "${MCO}"`,
    )
    expect(l.json.details).to.deep.equal({kind: 'configmaps'})
    const g = await call(em, 'GET', `/api/v1/namespaces/${MCO}/configmaps/c1`, {token: v})
    expect(g.json.message).to.equal(
      `configmaps "c1" is forbidden: User "viewer" cannot get resource "configmaps" in API group "" in the namespace "${MCO}"`,
    )
    expect(g.json.details).to.deep.equal({name: 'c1', kind: 'configmaps'})
    const w = await call(em, 'GET', `/api/v1/namespaces/${MCO}/pods?watch=1`, {token: v})
    expect(w.json.message).to.equal(
      `pods is forbidden: User "viewer" cannot watch resource "pods" in API group "" in the namespace "${MCO}"`,
    )
    const log = await call(em, 'GET', `/api/v1/namespaces/${MCO}/pods/p1/log`, {token: v})
    expect(log.json.message).to.equal(
      `pods "p1" is forbidden: User "viewer" cannot get resource "pods/log" in API group "" in the namespace "${MCO}"`,
    )
    const n = 'ns-token'
    expect((await call(em, 'GET', `/api/v1/namespaces/${MCO}/configmaps`, {token: n})).status).to.equal(200)
    expect((await call(em, 'GET', `/api/v1/namespaces/${MCO}/pods/p1/log`, {token: n})).status).to.equal(204)
    const all = await call(em, 'GET', '/api/v1/configmaps', {token: n})
    expect(all.json.message).to.equal(
      'configmaps is forbidden: User "ns-admin" cannot list resource "configmaps" in API group "" at the cluster scope',
    )
    const other = await call(em, 'GET', '/api/v1/namespaces/default/configmaps', {token: n})
    expect(other.status).to.equal(403)
    const status = await call(em, 'GET', `/api/v1/namespaces/${MCO}/pods/p1/status`, {token: n})
    expect(status.json.message).to.equal(
      `pods "p1" is forbidden: User "ns-admin" cannot get resource "pods/status" in API group "" in the namespace "${MCO}"`,
    )
    // discovery stays open to every authenticated user
    expect((await call(em, 'GET', '/apis', {token: n})).status).to.equal(200)
  })

  it('answers SelfSubjectAccessReviews consistently with the same rules', async () => {
    const review = async (token: string, ra: any) => {
      const r = await call(em, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
        token,
        body: {apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: {resourceAttributes: ra}},
      })
      expect(r.status).to.equal(201)
      expect(r.json.kind).to.equal('SelfSubjectAccessReview')
      expect(r.json.spec.resourceAttributes).to.deep.equal(ra)
      return r.json.status.allowed
    }
    expect(await review(em.tokens.admin, {verb: 'delete', resource: 'nodes'})).to.equal(true)
    expect(await review(em.tokens.developer, {verb: 'list', resource: 'pods', namespace: MCO})).to.equal(true)
    expect(
      await review(em.tokens.developer, {
        verb: 'patch',
        group: 'machineconfiguration.openshift.io',
        resource: 'machineconfigpools',
        name: 'layering',
      }),
    ).to.equal(false)
    expect(await review('ns-token', {verb: 'get', resource: 'pods', subresource: 'log', namespace: MCO})).to.equal(true)
    expect(await review('ns-token', {verb: 'get', resource: 'pods', subresource: 'exec', namespace: MCO})).to.equal(false)
    expect(await review('ns-token', {verb: 'create', resource: 'configmaps', namespace: 'default'})).to.equal(false)
    expect(
      await review('viewer-token', {verb: 'watch', group: 'machineconfiguration.openshift.io', resource: 'machineconfigpools'}),
    ).to.equal(true)
    const methodless = await call(em, 'GET', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews')
    expect(methodless.status).to.equal(405)
  })
})
