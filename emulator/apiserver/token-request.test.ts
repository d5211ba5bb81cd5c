import {expect} from 'chai'
import {startEmulator, type Emulator} from '../index.js'
import {call} from './testing.js'

const NS = 'build-ns'
const SA = `/api/v1/namespaces/${NS}/serviceaccounts`
const claimsOf = (token: string): Record<string, any> => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'))

describe('emulator: TokenRequest (serviceaccounts/token)', () => {
  let em: Emulator
  before(async () => {
    em = await startEmulator({
      objects: [
        {apiVersion: 'v1', kind: 'Namespace', metadata: {name: NS}},
        {apiVersion: 'v1', kind: 'ServiceAccount', metadata: {name: 'builder', namespace: NS}},
      ],
    })
  })
  after(async () => {
    await em.close()
  })

  const tokenRequest = (spec: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec,
    ...extra,
  })

  it('answers 201 with a signed JWT of the service account that expires after spec.expirationSeconds', async () => {
    const sa = await call(em, 'GET', `${SA}/builder`)
    const before = Math.floor(Date.now() / 1000)
    const r = await call(em, 'POST', `${SA}/builder/token`, {body: tokenRequest({expirationSeconds: 31_536_000})})
    expect(r.status, r.text).to.equal(201)
    expect(r.json).to.include({apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest'})
    expect(r.json.metadata).to.deep.equal({creationTimestamp: null, name: 'builder', namespace: NS})
    expect(r.json.spec).to.deep.equal({audiences: ['https://kubernetes.default.svc'], boundObjectRef: null, expirationSeconds: 31_536_000})
    const {expirationTimestamp, token} = r.json.status
    expect(token).to.match(/^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+$/)
    const claims = claimsOf(token)
    expect(claims.sub).to.equal(`system:serviceaccount:${NS}:builder`)
    expect(claims['kubernetes.io']).to.deep.equal({namespace: NS, serviceaccount: {name: 'builder', uid: sa.json.metadata.uid}})
    expect(claims.exp - claims.iat).to.equal(31_536_000)
    expect(claims.iat).to.be.within(before, before + 5)
    expect(expirationTimestamp).to.equal(new Date(claims.exp * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'))
    const again = await call(em, 'POST', `${SA}/builder/token`, {body: tokenRequest({expirationSeconds: 31_536_000})})
    expect(again.json.status.token, 'every request gets a token of its own').to.not.equal(token)
  })

  it('defaults to one hour and keeps the audiences asked for', async () => {
    const r = await call(em, 'POST', `${SA}/builder/token`, {body: tokenRequest({audiences: ['registry']})})
    expect(r.status).to.equal(201)
    expect(r.json.spec).to.include({expirationSeconds: 3600})
    expect(r.json.spec.audiences).to.deep.equal(['registry'])
    const claims = claimsOf(r.json.status.token)
    expect(claims.exp - claims.iat).to.equal(3600)
    expect(claims.aud).to.deep.equal(['registry'])
  })

  it('answers 404 for a service account that does not exist, and creates nothing', async () => {
    const r = await call(em, 'POST', `${SA}/nope/token`, {body: tokenRequest({expirationSeconds: 3600})})
    expect(r.status).to.equal(404)
    expect(r.text).to.equal(
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"serviceaccounts \\"nope\\" not found","reason":"NotFound","details":{"name":"nope","kind":"serviceaccounts"},"code":404}',
    )
    expect((await call(em, 'GET', `${SA}/nope`)).status).to.equal(404)
  })

  it('answers 422 for a duration under 10 minutes and for a name that is not the URL’s', async () => {
    const short = await call(em, 'POST', `${SA}/builder/token`, {body: tokenRequest({expirationSeconds: 599})})
    expect(short.status).to.equal(422)
    expect(short.json.message).to.equal(
      'TokenRequest.authentication.k8s.io "builder" is invalid: spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes',
    )
    expect(short.json.details).to.deep.equal({
      causes: [
        {
          field: 'spec.expirationSeconds',
          message: 'Invalid value: 599: may not specify a duration less than 10 minutes',
          reason: 'FieldValueInvalid',
        },
      ],
      group: 'authentication.k8s.io',
      kind: 'TokenRequest',
      name: 'builder',
    })
    const other = await call(em, 'POST', `${SA}/builder/token`, {body: tokenRequest({}, {metadata: {name: 'default'}})})
    expect(other.status).to.equal(422)
    expect(other.json.message).to.include('metadata.name: Invalid value: "default": must match the service account name if specified')
  })

  it('dryRun=All answers without a token; GET is not allowed; discovery lists serviceaccounts/token', async () => {
    const dry = await call(em, 'POST', `${SA}/builder/token?dryRun=All`, {body: tokenRequest({expirationSeconds: 3600})})
    expect(dry.status).to.equal(201)
    expect(dry.json.status).to.deep.equal({expirationTimestamp: null, token: ''})
    expect((await call(em, 'GET', `${SA}/builder/token`)).status).to.equal(405)
    const v1 = await call(em, 'GET', '/api/v1')
    expect(v1.json.resources.find((r: {name: string}) => r.name === 'serviceaccounts/token')).to.deep.equal({
      group: 'authentication.k8s.io',
      kind: 'TokenRequest',
      name: 'serviceaccounts/token',
      namespaced: true,
      singularName: '',
      verbs: ['create'],
      version: 'v1',
    })
  })

  it('is refused to a user without create on serviceaccounts/token', async () => {
    const r = await call(em, 'POST', `${SA}/builder/token`, {body: tokenRequest({}), token: em.tokens.developer})
    expect(r.status).to.equal(403)
    expect(r.json.message).to.include('cannot create resource "serviceaccounts/token"')
  })
})
