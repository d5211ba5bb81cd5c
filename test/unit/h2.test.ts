import {expect} from 'chai'
import http2 from 'node:http2'
import https from 'node:https'
import type net from 'node:net'
import type {AddressInfo} from 'node:net'
import tls from 'node:tls'
import {createPki} from '../../emulator/pki.js'
import type {EarlyConnection} from '../../src/lib/kube/early-connection.js'
import {connectOptions, H2Link} from '../../src/lib/kube/h2.js'
import {type FaultProxy, startFaultProxy} from '../support/fault-proxy.js'

const pki = createPki()
const secureContext = tls.createSecureContext({ca: pki.ca.certPem})

interface TestServer {
  url: string
  /** TCP connections accepted */
  connections: number
  /** HTTP/2: tells every open session to go away */
  goaway(): void
  close(): Promise<void>
}

/** A loopback server answering every request with its path; HTTP/2 (and 1.1) or HTTP/1.1 only. */
async function serve(protocols: 'h2' | 'http/1.1'): Promise<TestServer> {
  const options = {cert: pki.server.certPem, key: pki.server.keyPem}
  const answer = (req: {url?: string}, res: {end(text: string): void}): void => res.end(req.url ?? '')
  const server = protocols === 'h2' ? http2.createSecureServer({...options, allowHTTP1: true}, answer) : https.createServer(options, answer)
  const out: TestServer = {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const s of open) s.destroy()
      }),
    connections: 0,
    goaway: () => {
      for (const session of sessions) session.goaway()
    },
    url: '',
  }
  const sessions = new Set<http2.ServerHttp2Session>()
  server.on('session', (session: http2.ServerHttp2Session) => {
    sessions.add(session)
    session.once('close', () => sessions.delete(session))
  })
  const open = new Set<net.Socket>()
  server.on('connection', (s: net.Socket) => {
    out.connections++
    open.add(s)
    s.once('close', () => open.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  out.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
  return out
}

function get(link: H2Link, session: http2.ClientHttp2Session, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = link.request(session, {':method': 'GET', ':path': path}, {endStream: true})
    let text = ''
    s.setEncoding('utf8')
    s.on('data', (c: string) => {
      text += c
    })
    s.once('end', () => resolve(text))
    s.once('error', reject)
  })
}

describe('HTTP/2 to the API server (kube/h2.ts)', () => {
  let server: TestServer | undefined
  let proxy: FaultProxy | undefined
  afterEach(async () => {
    await proxy?.close()
    await server?.close()
    proxy = undefined
    server = undefined
  })

  it('carries requests sent at once on one TLS connection, and says so under --debug', async () => {
    server = await serve('h2')
    const lines: string[] = []
    const link = new H2Link({debug: (l) => lines.push(l), origin: new URL(server.url), rejectUnauthorized: true, secureContext})
    const answers = await Promise.all(
      Array.from({length: 12}, async (_, i) => {
        const session = await link.get()
        expect(session, 'a session').to.not.equal(undefined)
        return get(link, session!, `/r${i}`)
      }),
    )
    expect(answers).to.deep.equal(Array.from({length: 12}, (_, i) => `/r${i}`))
    expect(server.connections).to.equal(1)
    expect(link.http1).to.equal(false)
    expect(lines).to.have.length(1)
    expect(lines[0]).to.match(/^connected to 127\.0\.0\.1:\d+ \(TLSv1\.3\): HTTP\/2, one connection for every request$/)
    link.close()
  })

  /** A connection opened as bin/run.cjs opens it (src/boot/early-connect.ts): unreferenced, its handshake tracked. */
  const earlyConnection = (url: string): EarlyConnection => {
    const origin = new URL(url)
    const socket = tls.connect(connectOptions(origin, {rejectUnauthorized: true, secureContext}))
    socket.unref()
    const early: EarlyConnection = {material: {origin: origin.origin, rejectUnauthorized: true}, secure: false, secureContext, socket}
    socket.once('secureConnect', () => {
      early.secure = true
    })
    socket.on('error', () => socket.destroy())
    return early
  }

  it('uses a connection opened early, whether its handshake has finished or not, and only for its first connection', async () => {
    server = await serve('h2')
    for (const wait of [true, false]) {
      const before = server.connections
      const early = earlyConnection(server.url)
      if (wait) await new Promise((resolve) => early.socket.once('secureConnect', resolve))
      expect(early.secure).to.equal(wait)
      const lines: string[] = []
      const link = new H2Link({debug: (l) => lines.push(l), early, origin: new URL(server.url), rejectUnauthorized: true, secureContext})
      const session = await link.get()
      expect(await get(link, session!, '/a')).to.equal('/a')
      expect(server.connections - before, 'the early one, none of its own').to.equal(1)
      expect(lines[0]).to.match(/\(TLSv1\.3, opened while oc-mob started\): HTTP\/2/)
      // Lost: the next connection is the link's own.
      session!.destroy()
      const next = await link.get()
      expect(await get(link, next!, '/b')).to.equal('/b')
      expect(server.connections - before).to.equal(2)
      link.close()
    }
  })

  it('opens its own when the early connection failed before it was used, and says so', async () => {
    server = await serve('h2')
    const early = earlyConnection(server.url)
    await new Promise((resolve) => early.socket.once('secureConnect', resolve))
    early.socket.destroy()
    const lines: string[] = []
    const link = new H2Link({debug: (l) => lines.push(l), early, origin: new URL(server.url), rejectUnauthorized: true, secureContext})
    const session = await link.get()
    expect(await get(link, session!, '/a')).to.equal('/a')
    expect(lines[0]).to.equal('the connection opened while oc-mob started was lost: opening another')
    expect(lines[1]).to.match(/\(TLSv1\.3\): HTTP\/2/)
    link.close()
  })

  it('finds a server without HTTP/2 in the handshake and leaves it to HTTP/1.1 from then on', async () => {
    server = await serve('http/1.1')
    const lines: string[] = []
    const link = new H2Link({debug: (l) => lines.push(l), origin: new URL(server.url), rejectUnauthorized: true, secureContext})
    expect(await link.get()).to.equal(undefined)
    expect(link.http1).to.equal(true)
    expect(await link.get()).to.equal(undefined)
    expect(server.connections, 'no second handshake').to.equal(1)
    expect(lines.join('\n')).to.include('the server offers no HTTP/2, HTTP/1.1 from here on')
  })

  it('opens a new connection for the requests after the server went away (GOAWAY), as kube-apiserver does now and then', async () => {
    server = await serve('h2')
    const link = new H2Link({origin: new URL(server.url), rejectUnauthorized: true, secureContext})
    const first = await link.get()
    expect(await get(link, first!, '/a')).to.equal('/a')
    const away = new Promise((resolve) => first!.once('goaway', resolve))
    server.goaway()
    await away
    const second = await link.get()
    expect(second).to.not.equal(first)
    expect(await get(link, second!, '/b')).to.equal('/b')
    expect(server.connections).to.equal(2)
    link.close()
  })

  it('refuses a server whose certificate the CA did not sign, as HTTPS does', async () => {
    server = await serve('h2')
    const other = tls.createSecureContext({ca: createPki().ca.certPem})
    const link = new H2Link({origin: new URL(server.url), rejectUnauthorized: true, secureContext: other})
    const error = await link.get().then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e,
    )
    expect(error?.code).to.be.oneOf(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN'])
  })

  it('drops a connection that stops answering (no pong to its ping), failing its streams; the next request gets a new connection', async () => {
    server = await serve('h2')
    proxy = await startFaultProxy({lifetimeMs: 30_000, target: server.url})
    const lines: string[] = []
    const link = new H2Link({
      debug: (l) => lines.push(l),
      origin: new URL(proxy.url),
      pingTimeoutMs: 300,
      readIdleMs: 300,
      rejectUnauthorized: true,
      secureContext,
    })
    const first = await link.get()
    expect(await get(link, first!, '/before')).to.equal('/before')
    // Everything held, as by a dead VPN: a stream opened now never gets an answer.
    proxy.setMode({forMs: 5000, kind: 'stall'})
    const started = Date.now()
    const error = await get(link, first!, '/during').then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e,
    )
    expect(error?.code).to.equal('ETIMEDOUT')
    expect(error?.message).to.match(/^the connection timed out: no answer to a ping within 300 ms$/)
    expect(Date.now() - started).to.be.below(3000)
    expect(first!.destroyed).to.equal(true)
    proxy.setMode({kind: 'none'})
    const second = await link.get()
    expect(second).to.not.equal(first)
    expect(await get(link, second!, '/after')).to.equal('/after')
    expect(lines.filter((l) => l.startsWith('connected to'))).to.have.length(2)
    link.close()
  })
})
