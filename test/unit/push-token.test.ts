import {expect} from 'chai'
import {heldTokens} from '../../src/lib/doctor/secrets.js'
import type {Secret} from '../../src/lib/kube/types.js'
import {pushTokenProblems} from '../../src/lib/status/push-token.js'

const b64 = (s: string): string => Buffer.from(s).toString('base64')
const NOW = Date.parse('2026-03-01T12:00:00Z')
const jwt = (claims: Record<string, unknown>): string =>
  `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2lnbmF0dXJl`
const sub = 'system:serviceaccount:openshift-machine-config-operator:builder'

function secret(
  auths: Record<string, {auth?: string; password?: string; username?: string}>,
  type = 'kubernetes.io/dockerconfigjson',
): Secret {
  const content = type === 'kubernetes.io/dockercfg' ? auths : {auths}
  const key = type === 'kubernetes.io/dockercfg' ? '.dockercfg' : '.dockerconfigjson'
  return {data: {[key]: b64(JSON.stringify(content))}, metadata: {name: 'push', namespace: 'openshift-machine-config-operator'}, type}
}

const withToken = (exp: number | undefined, host = 'quay.io'): Secret => {
  const token = jwt(exp === undefined ? {sub} : {exp, sub})
  return secret({[host]: {auth: b64(`builder:${token}`)}})
}

describe('push secret tokens: expiry for status, from the JWT alone', () => {
  it('heldTokens: each registry whose password is a JWT with exp; the time left; never the token', () => {
    const exp = NOW / 1000 + 3 * 86_400 + 4 * 3600
    const s = secret({
      'quay.io': {auth: b64(`builder:${jwt({exp, sub})}`)},
      'registry.example.com': {auth: b64('robot:plain-password')},
      'r2.example.com': {password: jwt({sub}), username: 'x'},
    })
    const held = heldTokens(s, NOW)
    expect(held).to.deep.equal([
      {
        expires: '2026-03-04T16:00:00.000Z',
        host: 'quay.io',
        left: '3d 4h',
        secondsLeft: 3 * 86_400 + 4 * 3600,
        serviceAccount: 'openshift-machine-config-operator/builder',
      },
    ])
    expect(JSON.stringify(held)).not.to.include('eyJ')
    expect(heldTokens({...s, type: 'Opaque'}, NOW), 'not a docker config secret').to.deep.equal([])
    expect(heldTokens(secret({'q.io': {auth: b64(`u:${jwt({exp})}`)}}, 'kubernetes.io/dockercfg'), NOW)).to.have.length(1)
  })

  it('a token that expires within 7 days is a warning, an expired one an error; later or no expiry: nothing', () => {
    const soon = pushTokenProblems('worker', 'push', withToken(NOW / 1000 + 2 * 86_400), NOW)
    expect(soon).to.deep.equal([
      {
        message:
          'pool worker: the token for quay.io in push secret openshift-machine-config-operator/push (service account openshift-machine-config-operator/builder) expires in 2d 0h (2026-03-03T12:00:00.000Z): builds cannot push after that',
        next: 'replace it with a long-lived token: `oc mob doctor worker --fix` (or put fresh credentials in push)',
        node: null,
        pool: 'worker',
        severity: 'warning',
      },
    ])
    const expired = pushTokenProblems('worker', 'push', withToken(NOW / 1000 - 5400), NOW)
    expect(expired).to.have.length(1)
    expect(expired[0].severity).to.equal('error')
    expect(expired[0].message).to.include('expired 1h 30m ago (2026-03-01T10:30:00.000Z): builds cannot push')
    expect(pushTokenProblems('worker', 'push', withToken(NOW / 1000 + 7 * 86_400 + 60), NOW)).to.deep.equal([])
    expect(pushTokenProblems('worker', 'push', withToken(NOW / 1000 + 7 * 86_400 - 60), NOW)).to.have.length(1)
    expect(pushTokenProblems('worker', 'push', withToken(undefined), NOW)).to.deep.equal([])
    expect(pushTokenProblems('worker', 'push', undefined, NOW), 'a secret that could not be read').to.deep.equal([])
  })
})
