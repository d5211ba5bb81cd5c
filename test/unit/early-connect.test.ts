import {expect} from 'chai'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type tls from 'node:tls'
import {stringify} from 'yaml'
import {connectFlags, earlyMaterial} from '../../src/boot/early-connect.js'
import {tlsTarget} from '../../src/lib/kube/client.js'
import {type EarlyConnection, offerEarlyConnection, type TlsMaterial, takeEarlyConnection} from '../../src/lib/kube/early-connection.js'
import type {KubeconfigFlags} from '../../src/lib/kube/kubeconfig-files.js'
import {loadKubeconfig} from '../../src/lib/kube/kubeconfig.js'

const b64 = (s: string): string => Buffer.from(s).toString('base64')

describe('the early connection: which arguments open one', () => {
  it('commands that may talk to a cluster, with their --kubeconfig and --context in both spellings', () => {
    expect(connectFlags(['status'])).to.deep.equal({})
    expect(connectFlags(['status', 'worker', '--kubeconfig', '/k', '--context=c'])).to.deep.equal({context: 'c', kubeconfig: '/k'})
    expect(connectFlags(['logs', 'worker', '--kubeconfig=/k=2'])).to.deep.equal({kubeconfig: '/k=2'})
    // after --, nothing is a flag
    expect(connectFlags(['build', 'worker', '--', '--context', 'x'])).to.deep.equal({})
    // shell completion of pool names (bin/complete.js)
    expect(connectFlags(['completion-names', 'pools', '--context', 'c'])).to.deep.equal({context: 'c'})
  })

  it('nothing for help, completion scripts, contexts to complete, no command, or flags oclif refuses (given twice, no value)', () => {
    for (const args of [
      [],
      ['--version'],
      ['help'],
      ['help', 'status'],
      ['status', '--help'],
      ['status', '-h'],
      ['autocomplete'],
      ['completion-names', 'contexts'],
      ['status', '--context=a', '--context', 'b'],
      ['status', '--kubeconfig'],
    ]) {
      expect(connectFlags(args), args.join(' ')).to.equal(undefined)
    }
  })
})

describe('the early connection: the TLS material, as the client will use it', () => {
  let dir: string
  const write = (file: string, content: unknown): string => {
    const p = path.join(dir, file)
    fs.writeFileSync(p, typeof content === 'string' ? content : stringify(content))
    return p
  }

  const config = (cluster: Record<string, unknown>, user: Record<string, unknown>, name = 'c') => ({
    apiVersion: 'v1',
    clusters: [{cluster: {server: 'https://api.example:6443', ...cluster}, name}],
    contexts: [{context: {cluster: name, user: name}, name}],
    'current-context': name,
    kind: 'Config',
    users: [{name, user}],
  })

  /** What the client compares the early connection with, computed as the client computes it. */
  async function clientMaterial(flags: KubeconfigFlags, env: NodeJS.ProcessEnv): Promise<TlsMaterial | undefined> {
    const loaded = loadKubeconfig(flags, env)
    const opts = {headers: {}}
    await loaded.kc.applyToHTTPSOptions(opts)
    return tlsTarget(new URL(loaded.server), opts, loaded.kc.getCurrentCluster()).material
  }

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-mob-early-'))
  })
  afterEach(() => fs.rmSync(dir, {force: true, recursive: true}))

  it('is the same material the client connects with, for each way a kubeconfig gives it', async () => {
    write('ca.crt', 'CA FROM FILE')
    write('client.crt', 'CERT FROM FILE')
    write('client.key', 'KEY FROM FILE')
    const cases: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
      ['token, CA data', {'certificate-authority-data': b64('CA DATA')}, {token: 'sha256~t'}],
      ['CA file relative to the kubeconfig', {'certificate-authority': 'ca.crt'}, {token: 't'}],
      ['CA file wins over CA data', {'certificate-authority': 'ca.crt', 'certificate-authority-data': b64('other')}, {token: 't'}],
      ['client certificate files', {}, {'client-certificate': 'client.crt', 'client-key': 'client.key'}],
      ['client certificate data', {}, {'client-certificate-data': b64('CERT'), 'client-key-data': b64('KEY')}],
      ['verification off', {'insecure-skip-tls-verify': true}, {token: 't'}],
      ['tls-server-name', {'tls-server-name': 'api.internal'}, {token: 't'}],
      ['a server URL with a path', {server: 'https://api.example:6443/prefix/'}, {token: 't'}],
      ['no port', {server: 'https://api.example'}, {username: 'u', password: 'p'}],
    ]
    for (const [name, cluster, user] of cases) {
      const file = write('config', config(cluster, user))
      const env = {HOME: dir, KUBECONFIG: file}
      const mine = earlyMaterial({}, env)
      expect(mine, name).to.not.equal(undefined)
      expect(mine, name).to.deep.equal(await clientMaterial({}, env))
    }
  })

  it('follows kubectl: the files of KUBECONFIG merged, --kubeconfig over it, --context over current-context', async () => {
    const a = write('a', config({'certificate-authority-data': b64('CA A'), server: 'https://a.example:6443'}, {token: 'a'}, 'a'))
    const b = write('b', {
      ...config({'certificate-authority-data': b64('CA B'), server: 'https://b.example:6443'}, {token: 'b'}, 'b'),
      'current-context': 'b',
    })
    const env = {HOME: dir, KUBECONFIG: [a, b].join(path.delimiter)}
    for (const flags of [{}, {context: 'b'}, {kubeconfig: b}] as KubeconfigFlags[]) {
      const mine = earlyMaterial(flags, env)
      expect(mine, JSON.stringify(flags)).to.deep.equal(await clientMaterial(flags, env))
    }

    expect(earlyMaterial({}, env)?.origin).to.equal('https://a.example:6443')
    expect(earlyMaterial({context: 'b'}, env)?.origin).to.equal('https://b.example:6443')
    expect(earlyMaterial({kubeconfig: b}, env)?.origin).to.equal('https://b.example:6443')
  })

  it('none when the client may connect otherwise, or not at all', () => {
    const cases: Array<[string, Record<string, unknown>, Record<string, unknown>, NodeJS.ProcessEnv?]> = [
      ['an exec plugin (it may give a client certificate)', {}, {exec: {apiVersion: 'client.authentication.k8s.io/v1', command: 'x'}}],
      ['an auth provider', {}, {'auth-provider': {name: 'oidc'}}],
      ['a proxy', {'proxy-url': 'socks5://127.0.0.1:1080'}, {token: 't'}],
      ['plain HTTP', {server: 'http://api.example:8080'}, {token: 't'}],
      ['HTTP/2 turned off', {}, {token: 't'}, {DISABLE_HTTP2: '1'}],
    ]
    for (const [name, cluster, user, extra] of cases) {
      const file = write('config', config(cluster, user))
      expect(earlyMaterial({}, {HOME: dir, KUBECONFIG: file, ...extra}), name).to.equal(undefined)
    }

    const file = write('config', config({}, {token: 't'}))
    expect(earlyMaterial({context: 'missing'}, {HOME: dir, KUBECONFIG: file}), 'an unknown context').to.equal(undefined)
    expect(earlyMaterial({}, {HOME: dir}), 'no kubeconfig').to.equal(undefined)
  })
})

describe('the early connection: adopted only by the client that would open the same one', () => {
  const material: TlsMaterial = {ca: Buffer.from('CA'), origin: 'https://api.example:6443', rejectUnauthorized: true}
  const fake = (m: TlsMaterial): EarlyConnection & {closed: () => boolean} => {
    let closed = false
    const socket = {
      destroy: () => {
        closed = true
      },
      get destroyed() {
        return closed
      },
    } as unknown as tls.TLSSocket
    return {closed: () => closed, material: m, secure: false, secureContext: {} as tls.SecureContext, socket}
  }

  it('the same server and bytes: taken once', () => {
    const c = fake(material)
    offerEarlyConnection(c)
    expect(takeEarlyConnection({...material, ca: 'CA'})).to.equal(c)
    expect(c.closed()).to.equal(false)
    expect(takeEarlyConnection(material), 'a second client opens its own').to.equal(undefined)
  })

  it('anything different, or a client that will not use it: closed', () => {
    for (const other of [
      {...material, ca: Buffer.from('another CA')},
      {...material, ca: undefined},
      {...material, cert: Buffer.from('CERT')},
      {...material, rejectUnauthorized: false},
      {...material, servername: 'api.internal'},
      {...material, origin: 'https://api.example:443'},
      undefined,
    ]) {
      const c = fake(material)
      offerEarlyConnection(c)
      expect(takeEarlyConnection(other), JSON.stringify(other)).to.equal(undefined)
      expect(c.closed(), JSON.stringify(other)).to.equal(true)
    }
  })

  it('one that was closed meanwhile is not used', () => {
    const c = fake(material)
    offerEarlyConnection(c)
    c.socket.destroy()
    expect(takeEarlyConnection(material)).to.equal(undefined)
  })
})
