/**
 * HTTP/2 to the API server, as kubectl speaks it: one TLS connection carries every request of a
 * command. Over HTTP/1.1 each request in flight needs a connection of its own, and a command sends
 * a dozen at once: a dozen TCP and TLS handshakes, each costing the server and oc-mob CPU and, on a
 * real network, round trips.
 *
 * The protocol is agreed in the TLS handshake (ALPN). A server that does not offer h2 is remembered
 * and gets HTTP/1.1 from then on (the caller's keep-alive agent). A connection that stops answering
 * is found as client-go finds it: after 30 s without a frame it is pinged, and without a pong within
 * 15 s it is dropped, failing its streams (watches and log streams then resume on a new one).
 */
import type {ClientHttp2Session, ClientHttp2Stream, OutgoingHttpHeaders} from 'node:http2'
import net from 'node:net'
import tls from 'node:tls'
import type {EarlyConnection} from './early-connection.js'

/** Where a request stood when its time ran out. */
export type Phase = 'answer' | 'connect' | 'tls'

export interface H2Target {
  /** https://host:port of the API server */
  origin: URL
  secureContext: tls.SecureContext
  rejectUnauthorized: boolean
  /** The name the server's certificate must carry when it is not the host (tls-server-name). */
  servername?: string
  /** Receives a line when a connection is made (--debug). */
  debug?: (line: string) => void
  /** A connection opened while the CLI loaded (early-connection.ts), used instead of opening one the first time. */
  early?: EarlyConnection
  /** Tests shorten these: without a frame for readIdleMs the connection is pinged, and dropped without a pong in pingTimeoutMs. */
  readIdleMs?: number
  pingTimeoutMs?: number
}

const READ_IDLE_MS = 30_000
const PING_TIMEOUT_MS = 15_000

let http2Loaded: typeof import('node:http2') | undefined
function http2Module(): typeof import('node:http2') {
  http2Loaded ??= process.getBuiltinModule('node:http2')
  return http2Loaded
}

/** How a connection to the server is opened: HTTP/2 offered first, then HTTP/1.1. */
export function connectOptions(
  origin: URL,
  t: {rejectUnauthorized: boolean; secureContext: tls.SecureContext; servername?: string},
): tls.ConnectionOptions {
  const host = origin.hostname.replace(/^\[(.*)\]$/, '$1')
  return {
    ALPNProtocols: ['h2', 'http/1.1'],
    host,
    port: Number(origin.port || 443),
    rejectUnauthorized: t.rejectUnauthorized,
    secureContext: t.secureContext,
    // SNI carries host names only; an IP address is checked against the certificate without it.
    servername: t.servername ?? (net.isIP(host) ? undefined : host),
  }
}

function closedError(message: string, code: string): Error {
  return Object.assign(new Error(message), {code})
}

/** One HTTP/2 connection to one server, opened on first use and again after it was lost. */
export class H2Link {
  /** True once the server finished a TLS handshake without offering h2: use HTTP/1.1. */
  http1 = false
  private session?: ClientHttp2Session
  private connecting?: Promise<ClientHttp2Session | undefined>
  private socket?: tls.TLSSocket
  private active = 0
  /** requests waiting for the connection being made */
  private waiting = 0
  private early?: EarlyConnection

  constructor(private readonly target: H2Target) {
    this.early = target.early
  }

  /** Where getting the connection stands: for a request whose time ran out while it waited for one. */
  phase(): Phase {
    const s = this.socket
    if (this.session && !this.session.destroyed) return 'answer'
    if (!s || s.connecting) return 'connect'
    return 'tls'
  }

  /** The session (connecting when there is none), or undefined when the server speaks HTTP/1.1 only. */
  get(): Promise<ClientHttp2Session | undefined> {
    if (this.http1) return Promise.resolve(undefined)
    const s = this.session
    if (s && !s.closed && !s.destroyed) return Promise.resolve(s)
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined
      this.waiting = 0
    })
    this.waiting++
    return this.connecting
  }

  /**
   * A request stops waiting for the connection being made (its time ran out, or it was cancelled).
   * The last one to stop closes it: the others keep their own clocks, and fail with their own errors.
   */
  abandon(): void {
    if (!this.connecting || !this.socket || this.session) return
    if (--this.waiting <= 0) this.socket.destroy()
  }

  /** Closes the connection; streams still open are ended. */
  close(): void {
    this.session?.destroy()
    this.socket?.destroy()
  }

  /** Opens a stream; the connection stays referenced (keeps the process alive) while any stream is open. */
  request(
    session: ClientHttp2Session,
    headers: OutgoingHttpHeaders,
    options: {endStream: boolean; signal?: AbortSignal},
  ): ClientHttp2Stream {
    const stream = session.request(headers, options)
    if (this.active++ === 0) session.ref()
    stream.once('close', () => {
      if (--this.active === 0 && !session.destroyed) session.unref()
    })
    return stream
  }

  private connect(): Promise<ClientHttp2Session | undefined> {
    const {origin} = this.target
    // The early connection is used once: after it is lost, connections are opened here. One that
    // failed (its error is this one's to find again) or was closed since it was taken is not used.
    const early = this.early && !this.early.socket.destroyed ? this.early : undefined
    if (this.early && !early) this.target.debug?.('the connection opened while oc-mob started was lost: opening another')
    this.early = undefined
    return new Promise((resolve, reject) => {
      const socket = early?.socket ?? tls.connect(connectOptions(origin, this.target))
      // Opened unreferenced (it must not keep a CLI that never used it alive); now it is waited for.
      if (early) socket.ref()
      this.socket = socket
      // node:http2 takes about 8 ms to load: loaded here, it loads while the handshake is under way,
      // rather than at start-up before the first request is sent.
      http2Module()
      const secured = (): void => {
        const opened = early ? ', opened while oc-mob started' : ''
        this.target.debug?.(
          `connected to ${origin.host} (${socket.getProtocol()}${opened}): ${socket.alpnProtocol === 'h2' ? 'HTTP/2, one connection for every request' : 'the server offers no HTTP/2, HTTP/1.1 from here on'}`,
        )
        if (socket.alpnProtocol !== 'h2') {
          this.http1 = true
          socket.destroy()
          resolve(undefined)
          return
        }

        resolve(this.open(socket))
      }

      if (early?.secure) {
        secured()
        return
      }

      const onError = (error: Error): void => {
        socket.destroy()
        reject(error)
      }
      const onClose = (): void => reject(closedError('socket disconnected before secure TLS connection was established', 'ECONNRESET'))
      socket.once('error', onError)
      socket.once('close', onClose)
      socket.once('secureConnect', () => {
        socket.off('error', onError)
        socket.off('close', onClose)
        secured()
      })
    })
  }

  private open(socket: tls.TLSSocket): ClientHttp2Session {
    const session = http2Module().connect(this.target.origin, {createConnection: () => socket})
    this.session = session
    session.unref()
    const retire = (): void => {
      if (this.session === session) this.session = undefined
    }
    // A server going away (restart, load balancing) finishes what it took; new requests need a new connection.
    session.once('goaway', retire)
    session.once('close', retire)
    // Errors reach the streams, which report them to their requests.
    session.on('error', retire)
    const pingMs = this.target.pingTimeoutMs ?? PING_TIMEOUT_MS
    session.setTimeout(this.target.readIdleMs ?? READ_IDLE_MS, () => {
      if (session.destroyed) return
      const timer = setTimeout(() => {
        retire()
        this.target.debug?.(`no answer to a ping within ${pingMs} ms: connection to ${this.target.origin.host} dropped`)
        session.destroy(closedError(`the connection timed out: no answer to a ping within ${pingMs} ms`, 'ETIMEDOUT'))
      }, pingMs)
      timer.unref()
      if (!session.ping(() => clearTimeout(timer))) clearTimeout(timer)
    })
    return session
  }
}
