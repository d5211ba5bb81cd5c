import {expect} from 'chai'
import {humanDuration, parseChallenges, registryErrorText, scopeFor, tokenExpiry, tokenUrl} from '../../src/lib/registry/challenge.js'
import {containerfileChecks, nodeChecks, poolNodes} from '../../src/lib/doctor/pool.js'
import {credentialsIn, tokenChecks} from '../../src/lib/doctor/secrets.js'
import type {MachineConfigPool, Node} from '../../src/lib/kube/types.js'

const b64 = (s: string): string => Buffer.from(s).toString('base64')
const jwt = (claims: Record<string, unknown>): string =>
  `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`

describe('doctor: registry challenges and tokens', () => {
  it('parses Bearer and Basic challenges, quoted commas and several challenges in one header', () => {
    expect(
      parseChallenges('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"'),
    ).to.deep.equal([
      {params: {realm: 'https://auth.example/token', scope: 'repository:a/b:pull,push', service: 'registry.example'}, scheme: 'bearer'},
    ])
    expect(parseChallenges('Basic realm="Registry Realm", Bearer realm=https://x/t')).to.deep.equal([
      {params: {realm: 'Registry Realm'}, scheme: 'basic'},
      {params: {realm: 'https://x/t'}, scheme: 'bearer'},
    ])
    expect(parseChallenges(['Bearer realm="a\\"b"', 'Basic realm=r'])).to.deep.equal([
      {params: {realm: 'a"b'}, scheme: 'bearer'},
      {params: {realm: 'r'}, scheme: 'basic'},
    ])
    expect(parseChallenges(undefined)).to.deep.equal([])
    const [c] = parseChallenges('Bearer realm="https://auth.example/token?x=1",service="reg"')
    expect(tokenUrl(c, scopeFor('org/os', ['pull', 'push']))).to.equal(
      'https://auth.example/token?x=1&service=reg&scope=repository%3Aorg%2Fos%3Apull%2Cpush',
    )
  })

  it("reads the registry's error answer", () => {
    expect(registryErrorText('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]}')).to.equal(
      'UNAUTHORIZED: authentication required',
    )
    expect(registryErrorText('{"details":"incorrect username or password"}')).to.equal('incorrect username or password')
    expect(registryErrorText('<html>')).to.equal(undefined)
  })

  it("decodes a JWT's expiry without the signature, and tells non-JWTs apart", () => {
    const now = Date.UTC(2026, 0, 1)
    expect(tokenExpiry(jwt({exp: now / 1000 + 3600, sub: 'system:serviceaccount:ns:builder'}), now)).to.deep.equal({
      expires: '2026-01-01T01:00:00.000Z',
      jwt: true,
      secondsLeft: 3600,
      subject: 'system:serviceaccount:ns:builder',
    })
    expect(tokenExpiry(jwt({sub: 'x'}), now)).to.deep.equal({jwt: true, subject: 'x'})
    expect(tokenExpiry('a-plain-password', now)).to.deep.equal({jwt: false})
    expect(tokenExpiry('eyJ.not-base64-json.x', now)).to.deep.equal({jwt: false})
    expect([humanDuration(45), humanDuration(125), humanDuration(3 * 3600 + 120), humanDuration(-90_000)]).to.deep.equal([
      '45s',
      '2m',
      '3h 2m',
      '1d 1h',
    ])
  })

  it('finds credentials by host (and path), as container tools do', () => {
    const auths = {
      'https://quay.io/v1/': {auth: b64('u1:p1')},
      'quay.io/org': {auth: b64('u2:p:2')},
      'reg.example:5000': {password: 'p3', username: 'u3'},
    }
    expect(credentialsIn(auths, 'quay.io', 'org/os')).to.deep.equal({password: 'p:2', username: 'u2'})
    expect(credentialsIn(auths, 'quay.io', 'other/os')).to.deep.equal({password: 'p1', username: 'u1'})
    expect(credentialsIn(auths, 'reg.example:5000', 'x')).to.deep.equal({password: 'p3', username: 'u3'})
    expect(credentialsIn(auths, 'reg.example', 'x')).to.equal(undefined)
  })

  it('token rows: expired fails, expiring within a day and rotating secrets warn, long-lived is ok; the token never appears', () => {
    const now = Date.UTC(2026, 0, 1)
    const mk = (exp: number | undefined, name = 'push') => {
      const token = jwt({...(exp === undefined ? {} : {exp: now / 1000 + exp}), sub: 'system:serviceaccount:ns:builder'})
      return {
        token,
        use: {
          auths: {'reg.example': {auth: b64(`<token>:${token}`)}},
          label: `push secret ${name}`,
          ref: `ns/${name}`,
          role: 'push' as const,
          secret: {metadata: {name}},
        },
      }
    }

    const rows = (exp: number | undefined, name?: string) => {
      const {token, use} = mk(exp, name)
      const out = tokenChecks(use, [{host: 'reg.example', repository: 'os'}], 'FIX', now)
      expect(JSON.stringify(out)).not.to.include(token)
      return out.map((t) => t.check.status)
    }

    expect(rows(-10)).to.deep.equal(['fail'])
    expect(rows(3600)).to.deep.equal(['warn'])
    expect(rows(400 * 86_400)).to.deep.equal(['ok'])
    expect(rows(undefined, 'builder-dockercfg-abcde')).to.deep.equal(['warn'])
    expect(rows(undefined)).to.deep.equal(['ok'])
  })
})

describe('doctor: pool checks', () => {
  const pool = {
    metadata: {name: 'layering'},
    spec: {nodeSelector: {matchLabels: {'node-role.kubernetes.io/layering': ''}}},
  } as MachineConfigPool
  const node = (name: string, osImage: string, architecture = 'amd64', role = 'layering') =>
    ({metadata: {labels: {[`node-role.kubernetes.io/${role}`]: ''}, name}, status: {nodeInfo: {architecture, osImage}}}) as unknown as Node

  it('nodes: not CoreOS fails, not amd64 and single-node warn', () => {
    const nodes = [
      node('a', 'Red Hat Enterprise Linux CoreOS 419.96'),
      node('b', 'Red Hat Enterprise Linux 9.4 (Plow)'),
      node('c', 'Red Hat Enterprise Linux CoreOS 419.96', 'arm64'),
      node('m', 'RHCOS', 'amd64', 'master'),
    ]
    const members = poolNodes(pool, nodes)
    expect(members.map((n) => n.metadata.name)).to.deep.equal(['a', 'b', 'c'])
    const checks = nodeChecks(pool, members, nodes, 'HighlyAvailable')
    expect(checks.map((c) => [c.id, c.status])).to.deep.equal([
      ['pool:nodes-os', 'fail'],
      ['pool:nodes-arch', 'warn'],
    ])
    expect(checks[0].cause).to.include('b (Red Hat Enterprise Linux 9.4 (Plow))')
    expect(checks[0].next).to.equal('move them out of the pool: `oc mob nodes remove layering b`')
    expect(nodeChecks(pool, [nodes[0]], [nodes[0]], 'SingleReplica').map((c) => c.id)).to.deep.equal(['pool:nodes-os', 'pool:sno'])
  })

  it('Containerfile: 4.14 needs FROM configs AS final; 4.18+ warns when the last stage is not the OS image; EL9 URLs on rhel-10', () => {
    const bad = 'FROM configs AS final\nRUN true\nFROM quay.io/x/alpine\n'
    expect(containerfileChecks({content: bad, edit: 'E', finalStage: 'required', pool: 'p'})[0]).to.include({status: 'fail'})
    const mos = containerfileChecks({content: bad, edit: 'E', finalStage: 'last-stage', pool: 'p'})[0]
    expect(mos.status).to.equal('warn')
    expect(mos.cause).to.include('FROM quay.io/x/alpine')
    const el9 = 'FROM configs AS final\nRUN curl -o /etc/yum.repos.d/x.repo https://dl.fedoraproject.org/pub/epel/epel-9.repo\n'
    expect(
      containerfileChecks({content: el9, edit: 'E', finalStage: 'last-stage', pool: 'p', stream: 'rhel-10'}).map((c) => [c.id, c.status]),
    ).to.deep.equal([
      ['pool:containerfile', 'ok'],
      ['pool:containerfile-stream', 'warn'],
    ])
    expect(containerfileChecks({content: el9, edit: 'E', finalStage: 'last-stage', pool: 'p', stream: 'rhel-9'})).to.have.length(1)
    expect(containerfileChecks({edit: 'E', finalStage: 'required', pool: 'p'})[0]).to.include({status: 'ok'})
  })
})
