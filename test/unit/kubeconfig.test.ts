import {expect} from 'chai'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {stringify} from 'yaml'
import {ExitCode, MobError} from '../../src/lib/errors.js'
import {loadKubeconfig} from '../../src/lib/kube/kubeconfig.js'
import {kubeconfigFiles, mergeKubeconfigs} from '../../src/lib/kube/kubeconfig-files.js'

function kubeconfig(name: string, server: string, current?: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    clusters: [{cluster: {server, ...extra}, name}],
    contexts: [{context: {cluster: name, namespace: `${name}-ns`, user: name}, name}],
    'current-context': current,
    kind: 'Config',
    users: [{name, user: {token: `token-${name}`}}],
  }
}

describe('kubeconfig loading (kubectl rules)', () => {
  let dir: string
  const write = (file: string, content: unknown): string => {
    const p = path.join(dir, file)
    fs.writeFileSync(p, typeof content === 'string' ? content : stringify(content))
    return p
  }

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-mob-kc-'))
  })
  afterEach(() => fs.rmSync(dir, {force: true, recursive: true}))

  it('merges KUBECONFIG files: the first file that sets current-context wins, first definition of a name wins', () => {
    const a = write('a', kubeconfig('a', 'https://a.example:6443', 'a'))
    const b = write('b', {
      ...kubeconfig('b', 'https://b.example:6443', 'b'),
      clusters: [
        {cluster: {server: 'https://other'}, name: 'a'},
        {cluster: {server: 'https://b.example:6443'}, name: 'b'},
      ],
    })
    const env = {HOME: dir, KUBECONFIG: [a, b].join(path.delimiter)}
    const loaded = loadKubeconfig({}, env)
    expect(loaded.context).to.equal('a')
    expect(loaded.server).to.equal('https://a.example:6443')
    expect(loaded.namespace).to.equal('a-ns')
    expect(loaded.files).to.deep.equal([a, b])
    // The context from the second file is usable too.
    const other = loadKubeconfig({context: 'b'}, env)
    expect(other.server).to.equal('https://b.example:6443')
  })

  it('uses the second file current-context when the first sets none', () => {
    const a = write('a', kubeconfig('a', 'https://a.example:6443'))
    const b = write('b', kubeconfig('b', 'https://b.example:6443', 'b'))
    const loaded = loadKubeconfig({}, {HOME: dir, KUBECONFIG: `${a}${path.delimiter}${b}`})
    expect(loaded.context).to.equal('b')
  })

  it('skips KUBECONFIG entries that do not exist, as kubectl does', () => {
    const a = write('a', kubeconfig('a', 'https://a.example:6443', 'a'))
    const files = kubeconfigFiles({}, {KUBECONFIG: `${path.join(dir, 'missing')}${path.delimiter}${a}`})
    expect(files.files).to.deep.equal([a])
  })

  it('an explicit --kubeconfig beats KUBECONFIG', () => {
    const a = write('a', kubeconfig('a', 'https://a.example:6443', 'a'))
    const b = write('b', kubeconfig('b', 'https://b.example:6443', 'b'))
    expect(loadKubeconfig({kubeconfig: b}, {HOME: dir, KUBECONFIG: a}).context).to.equal('b')
  })

  it('says "no cluster configured" with `oc login` as the next step when there is no kubeconfig', () => {
    const err = catchErr(() => loadKubeconfig({}, {HOME: dir}))
    expect(err.message).to.match(/^no cluster configured/)
    expect(err.next).to.include('oc login')
    expect(err.exitCode).to.equal(ExitCode.Config)
  })

  it('reports a missing --kubeconfig file with its path', () => {
    const err = catchErr(() => loadKubeconfig({kubeconfig: path.join(dir, 'nope')}, {HOME: dir}))
    expect(err.message).to.include(path.join(dir, 'nope')).and.include('ENOENT')
    expect(err.exitCode).to.equal(ExitCode.Config)
  })

  it('names the known contexts when --context is unknown', () => {
    const a = write('a', kubeconfig('a', 'https://a.example:6443', 'a'))
    const err = catchErr(() => loadKubeconfig({context: 'nope', kubeconfig: a}, {HOME: dir}))
    expect(err.message).to.equal('context "nope" not found in kubeconfig')
    expect(err.next).to.equal('use one of: a')
  })

  it('rejects a file that is not YAML, and a kubeconfig without a current context', () => {
    const bad = write('bad', 'clusters: [unclosed')
    expect(catchErr(() => loadKubeconfig({kubeconfig: bad}, {})).message).to.include('is not valid YAML')
    const none = write('none', kubeconfig('a', 'https://a.example:6443'))
    expect(catchErr(() => loadKubeconfig({kubeconfig: none}, {})).message).to.include('has no current context')
  })

  it('reads anchors and merge keys (<<), as kubectl does, and an empty file as no config', () => {
    const text = [
      'apiVersion: v1',
      'kind: Config',
      'current-context: m',
      'clusters:',
      '- name: m',
      '  cluster: &base',
      '    server: https://m.example:6443',
      'contexts:',
      '- name: m',
      '  context: {cluster: m, user: m}',
      'users:',
      '- name: m',
      '  user:',
      '    <<: {token: token-m}',
      '- name: n',
      '  user: {token: token-n, extra: *base}',
      '',
    ].join('\n')
    const loaded = loadKubeconfig({kubeconfig: write('merged', text)}, {})
    expect(loaded.server).to.equal('https://m.example:6443')
    expect(loaded.kc.getCurrentUser()?.token).to.equal('token-m')
    const empty = write('empty', '')
    expect(catchErr(() => loadKubeconfig({kubeconfig: empty}, {})).message).to.include('has no current context')
  })

  it('resolves relative certificate paths against the kubeconfig file directory', () => {
    const merged = mergeKubeconfigs([])
    expect(merged.clusters).to.deep.equal([])
    fs.mkdirSync(path.join(dir, 'sub'))
    fs.writeFileSync(path.join(dir, 'sub', 'ca.crt'), 'x')
    const f = write('sub/kc', kubeconfig('a', 'https://a.example:6443', 'a', {'certificate-authority': 'ca.crt'}))
    const loaded = loadKubeconfig({kubeconfig: f}, {})
    expect(loaded.kc.getCurrentCluster()?.caFile).to.equal(path.join(dir, 'sub', 'ca.crt'))
  })
})

function catchErr(fn: () => unknown): MobError {
  try {
    fn()
  } catch (error) {
    expect(error).to.be.instanceOf(MobError)
    return error as MobError
  }

  throw new Error('expected an error')
}
