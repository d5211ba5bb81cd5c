import {expect} from 'chai'
import {gunzipSync} from 'node:zlib'
import {
  configMapDataSize,
  customDockerfileOffset,
  decodeMachineConfig,
  encodeMachineConfig,
  goJson,
  renderDockerfile,
} from '../../src/lib/build/dockerfile.js'
import {validateCustomDockerfile} from '../../src/lib/build/validate.js'

const inputs = {
  baseImage: 'quay.io/ocp/rhcos@sha256:1',
  pool: 'layering',
  releaseVersion: '4.14.0',
  renderedConfig: 'rendered-layering-abc',
}

describe('Dockerfile rendering (the operator template)', () => {
  it('renders the template line for line, with the extensions stage and the custom Dockerfile', () => {
    const out = renderDockerfile({
      ...inputs,
      customDockerfile: 'FROM configs AS final\nRUN echo hi',
      extensionsImage: 'quay.io/ocp/ext@sha256:2',
    })
    const lines = out.split('\n')
    expect(lines.slice(7, 12)).to.deep.equal([
      'FROM quay.io/ocp/rhcos@sha256:1 AS extract',
      'COPY ./machineconfig/machineconfig.json.gz /tmp/machineconfig.json.gz',
      'RUN mkdir -p /etc/machine-config-daemon && \\',
      '\tcat /tmp/machineconfig.json.gz | base64 -d | gunzip - > /etc/machine-config-daemon/currentconfig',
      '',
    ])
    // {{if}} block: blank line, five comment lines, the FROM, then the three newlines after {{end}}.
    expect(lines[12]).to.equal('')
    expect(lines[13]).to.match(/^# Pull our extensions image/)
    expect(lines[18]).to.equal('FROM quay.io/ocp/ext@sha256:2 AS extensions')
    expect(lines.slice(19, 22)).to.deep.equal(['', '', ''])
    expect(lines[22]).to.equal('FROM quay.io/ocp/rhcos@sha256:1 AS configs')
    const labels = lines.filter((l) => l.startsWith('LABEL '))
    expect(labels).to.deep.equal([
      'LABEL machineconfig=rendered-layering-abc',
      'LABEL machineconfigpool=layering',
      'LABEL releaseversion=4.14.0',
      'LABEL baseOSContainerImage=quay.io/ocp/rhcos@sha256:1',
    ])
    expect(out.endsWith('LABEL baseOSContainerImage=quay.io/ocp/rhcos@sha256:1\n\n\nFROM configs AS final\nRUN echo hi\n\n')).to.equal(true)
  })

  it('renders without extensions and without custom content exactly as the template does', () => {
    const out = renderDockerfile(inputs)
    expect(out).to.include('/etc/machine-config-daemon/currentconfig\n\n\n\n\nFROM quay.io/ocp/rhcos@sha256:1 AS configs\n')
    expect(out.endsWith('LABEL baseOSContainerImage=quay.io/ocp/rhcos@sha256:1\n\n\n')).to.equal(true)
    expect(out).not.to.include('AS extensions')
  })

  it('knows on which line the custom Dockerfile starts', () => {
    const custom = 'FROM configs AS final\nRUN echo hi'
    const out = renderDockerfile({...inputs, customDockerfile: custom})
    expect(out.split('\n')[customDockerfileOffset({...inputs, customDockerfile: custom}) - 1]).to.equal('FROM configs AS final')
  })
})

describe('MachineConfig encoding', () => {
  const mc = {
    apiVersion: 'machineconfiguration.openshift.io/v1',
    kind: 'MachineConfig',
    metadata: {name: 'rendered-x'},
    spec: {config: {ignition: {version: '3.4.0'}}, note: '<a&b>'},
  }

  it('is base64 (padded, no line breaks) of gzip of Go-style JSON, and decodes back', () => {
    const enc = encodeMachineConfig(mc)
    expect(enc).to.match(/^[A-Za-z0-9+/]+=*$/)
    const raw = gunzipSync(Buffer.from(enc, 'base64')).toString()
    expect(raw).to.equal(goJson(mc))
    expect(raw).to.include(String.raw`\u003ca\u0026b\u003e`)
    expect(decodeMachineConfig(enc)).to.deep.equal(mc)
  })

  it('rejects text that is not an encoded MachineConfig', () => {
    expect(() => decodeMachineConfig('bm90IGd6aXA=')).to.throw(/not a base64-encoded gzipped MachineConfig/)
  })

  it('counts ConfigMap data like the API server (keys and values, bytes)', () => {
    expect(configMapDataSize({'machineconfig.json.gz': 'abc', é: 'é'})).to.equal(21 + 3 + 2 + 2)
  })
})

describe('custom Dockerfile validation', () => {
  it('accepts the documented example shape', () => {
    const ok =
      'FROM quay.io/centos/centos:stream9 AS centos\nRUN dnf install -y epel-release\n\nFROM configs AS final\nCOPY --from=centos /etc/yum.repos.d /etc/yum.repos.d\nRUN rpm-ostree install cowsay\n'
    expect(validateCustomDockerfile(ok)).to.deep.equal([])
    expect(validateCustomDockerfile('')).to.deep.equal([])
  })

  it('reports each problem with its line number', () => {
    const bad = 'FROM quay.io/centos AS centos\nRUNN x\nFROM configs AS final\nCOPY onlyone\nFROM centos AS extract\n'
    const problems = validateCustomDockerfile(bad)
    expect(problems.map((p) => [p.line, p.severity])).to.deep.equal([
      [2, 'error'],
      [4, 'error'],
      [5, 'error'],
      [5, 'error'],
    ])
    expect(problems[0].message).to.equal('Unknown instruction: RUNN')
    expect(problems.map((p) => p.message)).to.include('duplicate name extract')
    expect(problems.at(-1)!.message).to.include('the last stage must be `FROM configs AS final`').and.include('line 3')
  })

  it('requires a FROM configs AS final stage', () => {
    const problems = validateCustomDockerfile('RUN echo hi\n')
    expect(problems.some((p) => p.message.includes('no FROM instruction'))).to.equal(true)
    expect(validateCustomDockerfile('FROM configs AS other\n')[0].message).to.include('it is `FROM configs AS other`')
  })
})
