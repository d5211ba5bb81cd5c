import {expect} from 'chai'
import {dockerConfigFromFile, findCredentials, parseDockerSecret} from '../../src/lib/registry/auth.js'
import {parseReference, repositoryOf, withDigest, withTag} from '../../src/lib/registry/reference.js'

const b64 = (s: string): string => Buffer.from(s).toString('base64')

describe('image references', () => {
  it('parses registries with ports, tags and digests', () => {
    expect(parseReference('quay.io/myorg/myrepo:latest')).to.deep.equal({
      digest: undefined,
      registry: 'quay.io',
      repository: 'myorg/myrepo',
      tag: 'latest',
    })
    const internal = parseReference('image-registry.openshift-image-registry.svc:5000/openshift-machine-config-operator/os-image')
    expect(internal.registry).to.equal('image-registry.openshift-image-registry.svc:5000')
    expect(internal.tag).to.equal(undefined)
    expect(parseReference('127.0.0.1:5000/ocp/os@sha256:' + 'a'.repeat(64)).digest).to.equal('sha256:' + 'a'.repeat(64))
    expect(repositoryOf(parseReference('ubuntu'))).to.equal('docker.io/library/ubuntu')
  })

  it('replaces the tag with the rendered config, and records digests without tag', () => {
    expect(withTag('quay.io/myorg/myrepo:latest', 'rendered-worker-1')).to.equal('quay.io/myorg/myrepo:rendered-worker-1')
    expect(withDigest('quay.io/myorg/myrepo:latest', 'sha256:' + 'b'.repeat(64))).to.equal('quay.io/myorg/myrepo@sha256:' + 'b'.repeat(64))
  })

  it('rejects what is not an image reference, saying why', () => {
    expect(() => parseReference('')).to.throw(/empty/)
    expect(() => parseReference('Quay.io/UPPER/x')).to.throw(/not a valid repository name component/)
    expect(() => parseReference('quay.io/x:bad tag')).to.throw(/tag/)
    expect(() => parseReference('quay.io/x@sha256:short')).to.throw(/digest/)
    expect(() => parseReference('quay.io//x')).to.throw(/empty component/)
  })
})

describe('docker config secrets', () => {
  const secret = (type: string, key: string, content: unknown) => ({
    data: {[key]: b64(JSON.stringify(content))},
    metadata: {name: 's'},
    type,
  })

  it('reads .dockerconfigjson and .dockercfg, and flags legacy content', () => {
    const auth = {auth: b64('u:p')}
    expect(parseDockerSecret(secret('kubernetes.io/dockerconfigjson', '.dockerconfigjson', {auths: {'quay.io': auth}}))).to.include({
      legacyContent: false,
    })
    expect(parseDockerSecret(secret('kubernetes.io/dockercfg', '.dockercfg', {'quay.io': auth})).auths).to.have.key('quay.io')
    expect(parseDockerSecret(secret('kubernetes.io/dockerconfigjson', '.dockerconfigjson', {'quay.io': auth})).legacyContent).to.equal(true)
  })

  it('rejects other types and empty or broken data', () => {
    expect(() => parseDockerSecret({data: {}, metadata: {name: 'o'}, type: 'Opaque'})).to.throw(
      'secret o has type Opaque; it must be kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg',
    )
    expect(() => parseDockerSecret({data: {}, metadata: {name: 'e'}, type: 'kubernetes.io/dockerconfigjson'})).to.throw(
      /has no .dockerconfigjson data/,
    )
    expect(() => parseDockerSecret({data: {'.dockercfg': b64('{')}, metadata: {name: 'j'}, type: 'kubernetes.io/dockercfg'})).to.throw(
      /not valid JSON/,
    )
  })

  it('finds credentials by host, port, scheme and path like container tools', () => {
    const ok = {auth: b64('u:p')}
    const auths = {
      'https://quay.io/v1/': ok,
      '127.0.0.1:5001': ok,
      'registry.example/team-a': ok,
      'https://index.docker.io/v1/': ok,
      'empty.example': {auth: ''},
    }
    expect(findCredentials(auths, 'quay.io')).to.equal('https://quay.io/v1/')
    expect(findCredentials(auths, '127.0.0.1:5001')).to.equal('127.0.0.1:5001')
    expect(findCredentials(auths, '127.0.0.1:5000')).to.equal(undefined)
    expect(findCredentials(auths, 'registry.example', 'team-a/os')).to.equal('registry.example/team-a')
    expect(findCredentials(auths, 'registry.example', 'team-b/os')).to.equal(undefined)
    expect(findCredentials(auths, 'docker.io')).to.equal('https://index.docker.io/v1/')
    expect(findCredentials(auths, 'empty.example')).to.equal(undefined)
  })
})

describe('docker config files (setup --push-secret-from-file)', () => {
  const b64 = (s: string): string => Buffer.from(s).toString('base64')

  it('keeps only the entries with credentials, as {"auths": ...}', () => {
    const text = JSON.stringify({
      auths: {'quay.io': {auth: b64('u:p')}, 'registry.example': {}, 'ghcr.io': {identitytoken: 't'}},
      credHelpers: {'gcr.io': 'gcloud'},
      psFormat: 'table',
    })
    const out = dockerConfigFromFile(text, 'f.json')
    expect(JSON.parse(out.json)).to.deep.equal({auths: {'ghcr.io': {identitytoken: 't'}, 'quay.io': {auth: b64('u:p')}}})
    expect(out.registries).to.deep.equal(['ghcr.io', 'quay.io'])
  })

  it('refuses what is no docker config, or keeps its credentials elsewhere, saying which', () => {
    expect(() => dockerConfigFromFile('{', 'a.json')).to.throw('a.json is not a docker config file: it is not valid JSON')
    expect(() => dockerConfigFromFile('[]', 'a.json')).to.throw('a.json is not a docker config file: it is not a JSON object')
    expect(() => dockerConfigFromFile(JSON.stringify({auths: {'quay.io': {}}, credsStore: 'desktop'}), 'a.json')).to.throw(
      'a.json keeps its credentials in a credential store (credsStore desktop), not in the file',
    )
    expect(() => dockerConfigFromFile(JSON.stringify({credHelpers: {'quay.io': 'x'}}), 'a.json')).to.throw(
      /credential store \(credHelpers\)/,
    )
    expect(() => dockerConfigFromFile('{}', 'a.json')).to.throw('a.json holds no registry credentials')
  })
})
