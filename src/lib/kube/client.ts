/**
 * A small Kubernetes REST client: the only code in oc-mob that sends requests to the API server.
 *
 * Credentials and TLS material come from @kubernetes/client-node's KubeConfig (token, token file,
 * client certificate, exec plugins, CA data, insecure-skip-tls-verify); the requests themselves go
 * over one HTTP/2 connection as kubectl's do (h2.ts), or, to a server without HTTP/2, through a proxy
 * or with DISABLE_HTTP2 set (as client-go reads it), as node:https calls on a keep-alive agent. This
 * keeps the content type of every patch under our control (custom resources reject strategic merge
 * patch with 415), preserves the API server's Status message on every error (client-node drops it
 * for logs), and starts fast.
 */
import http from 'node:http'
import type {ClientHttp2Stream, OutgoingHttpHeaders} from 'node:http2'
import https from 'node:https'
import type {IncomingHttpHeaders} from 'node:http'
import type net from 'node:net'
import type {Readable} from 'node:stream'
import tls from 'node:tls'
import {ExitCode, MobError} from '../errors.js'
import {formatDuration} from '../duration.js'
import {takeEarlyConnection, type TlsMaterial} from './early-connection.js'
import {H2Link, type Phase} from './h2.js'
import type {KubeconfigFlags} from './kubeconfig-files.js'
import {loadKubeconfig, type LoadedKubeconfig} from './kubeconfig.js'
import {collectionPath, objectPath, PATCH_CONTENT_TYPES, qualifiedName, type PatchType, type ResourceType} from './resources.js'
import type {KubeList, KubeObject, Status} from './types.js'
import {ApiError, apiErrorFromResponse, transportError} from './api-error.js'
import {answerCutOff, checkWrite, lostWriteError, type WriteCheck} from './lost-write.js'
import {isRetryable, sleep} from './retry.js'

export type Query = Record<string, boolean | number | string | undefined>

export interface RequestSpec {
  method: 'DELETE' | 'GET' | 'PATCH' | 'POST' | 'PUT'
  path: string
  query?: Query
  body?: unknown
  contentType?: string
  accept?: string
  signal?: AbortSignal
  /** Overrides the client's request timeout for this request (milliseconds, 0 = none). */
  timeoutMs?: number
}

export interface ClientOptions {
  /** Receives one line per request when --debug is on. */
  debug?: (line: string) => void
  /** Attempts for safe calls (reads and watches), including the first. */
  attempts?: number
  /** Base delay of the exponential backoff between attempts. */
  backoffMs?: number
  userAgent?: string
  /**
   * How long one request may take, like kubectl's --request-timeout: from getting a connection to the
   * end of the answer (for streams: to the answer's headers; watches and logs then run for as long
   * as they last). 0 = no limit. Default 30 s.
   */
  requestTimeoutMs?: number
  /** How long a new connection may take (TCP connect and TLS handshake). Default 15 s. */
  connectTimeoutMs?: number
  /** Aborting it cancels every request in flight and every later one (the command's Ctrl-C). */
  signal?: AbortSignal
}

export interface ListOptions {
  namespace?: string
  labelSelector?: string
  fieldSelector?: string
  /** Page size for limit/continue pagination; every page is fetched. */
  pageSize?: number
  signal?: AbortSignal
}

export interface WriteOptions {
  namespace?: string
  dryRun?: boolean
  subresource?: string
  signal?: AbortSignal
}

/** An answer whose body is still to be read: an HTTP/1.1 message or an HTTP/2 stream. */
export type Answer = Readable & {statusCode?: number; headers: IncomingHttpHeaders}

interface AuthMaterial {
  agent: http.Agent
  /** The HTTP/2 connection, unless HTTP/2 is off (a proxy, plain http, DISABLE_HTTP2). */
  h2?: H2Link
  /** The agent is a proxy's: its sockets may come connected already, so connections are not timed apart. */
  proxied: boolean
  headers: Record<string, string>
  auth?: string
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000
export const DEFAULT_CONNECT_TIMEOUT_MS = 15_000

/** TLS connections whose handshake is complete (every socket is seen by a request before it connects). */
const secured = new WeakSet<net.Socket>()

function watchHandshake(socket: net.Socket): void {
  if (socket instanceof tls.TLSSocket && !secured.has(socket)) socket.once('secureConnect', () => secured.add(socket))
}

function phaseOf(socket: net.Socket | undefined): Phase {
  if (!socket || socket.connecting) return 'connect'
  if (socket instanceof tls.TLSSocket && !secured.has(socket)) return 'tls'
  return 'answer'
}

interface InFlight {
  req: {destroy(error?: Error): unknown}
  res?: Answer
}

/** One request as send() prepared it. */
interface Call {
  spec: RequestSpec
  stream: boolean
  material: AuthMaterial
  /** the whole URL (HTTP/1.1) */
  target: string
  /** the path and query (HTTP/2) */
  path: string
  headers: Record<string, string>
  payload: Buffer | undefined
  requestMs: number
  connectMs: number
}

export function buildQuery(q?: Query): string {
  if (!q) return ''
  const parts: string[] = []
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === '') continue
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
  }

  return parts.length > 0 ? `?${parts.join('&')}` : ''
}

/**
 * The query of a create, replace or patch. Every write of an object asks for fieldValidation=Strict: a field
 * the cluster's schema does not know (a CRD older or newer than oc-mob expects) is refused, not silently
 * dropped. A review (SelfSubjectAccessReview) is a question, not an object, so it is sent as it is.
 */
function writeQuery(r: ResourceType, opts: WriteOptions): Query {
  return {dryRun: opts.dryRun ? 'All' : undefined, fieldValidation: r.plural.endsWith('accessreviews') ? undefined : 'Strict'}
}

export class KubeClient {
  readonly server: string
  readonly context: string
  readonly namespace?: string
  readonly config: LoadedKubeconfig
  private readonly opts: Required<Pick<ClientOptions, 'attempts' | 'backoffMs' | 'connectTimeoutMs' | 'requestTimeoutMs'>> & ClientOptions
  private auth?: Promise<AuthMaterial>
  private readonly base: URL
  /** Requests (and streaming answers) not finished yet, cancelled together when opts.signal aborts. */
  private readonly inFlight = new Set<InFlight>()
  /**
   * Called when the server answers 404 for a whole resource type or path (not for one missing
   * object): what discovery said may no longer hold.
   */
  onResourceNotFound?: (path: string) => void

  constructor(config: LoadedKubeconfig, opts: ClientOptions = {}) {
    this.config = config
    this.server = config.server.replace(/\/+$/, '')
    this.context = config.context
    this.namespace = config.namespace
    this.base = new URL(this.server)
    this.opts = {
      attempts: 4,
      backoffMs: 250,
      connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
      requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
      ...opts,
    }
    // One listener for all requests (not one per request: a command runs many at once).
    this.opts.signal?.addEventListener(
      'abort',
      () => {
        const reason = this.opts.signal!.reason as Error
        for (const f of this.inFlight) {
          if (f.res) f.res.destroy(reason)
          else f.req.destroy(reason)
        }
      },
      {once: true},
    )
  }

  private throwIfCancelled(): void {
    if (this.opts.signal?.aborted) throw this.opts.signal.reason
  }

  static fromFlags(flags: KubeconfigFlags, opts: ClientOptions = {}): KubeClient {
    return new KubeClient(loadKubeconfig(flags), opts)
  }

  private debug(line: string): void {
    this.opts.debug?.(line)
  }

  private authMaterial(): Promise<AuthMaterial> {
    this.auth ??= this.loadAuth()
    return this.auth
  }

  private async loadAuth(): Promise<AuthMaterial> {
    const {kc} = this.config
    const cluster = kc.getCurrentCluster()
    const opts: https.RequestOptions & {headers: Record<string, string>} = {headers: {}}
    try {
      await kc.applyToHTTPSOptions(opts)
    } catch (error) {
      throw new MobError(`could not obtain credentials for context "${this.context}": ${(error as Error).message}`, {
        cause: error,
        exitCode: ExitCode.Auth,
        next: 'check the user entry of the context (exec plugin, token file, certificates), or run `oc login`',
      })
    }

    let agent: http.Agent
    let h2: H2Link | undefined
    const proxied = Boolean(cluster?.proxyUrl && opts.agent)
    if (proxied) {
      agent = opts.agent as http.Agent
    } else if (this.base.protocol === 'http:') {
      agent = new http.Agent({keepAlive: true, maxSockets: 32})
    } else {
      const {material, rejectUnauthorized, servername} = tlsTarget(this.base, opts, cluster)
      const early = process.env.DISABLE_HTTP2 ? undefined : takeEarlyConnection(material)
      // One TLS context for every connection: without it, each new socket parses the CA bundle and
      // the client key again (a few ms each, and a command opens several connections at once). The
      // early connection's was made from the same material.
      let secureContext = early?.secureContext
      try {
        secureContext ??= tls.createSecureContext({ca: opts.ca, cert: opts.cert, key: opts.key, passphrase: opts.passphrase})
      } catch (error) {
        throw new MobError(`the TLS material of context "${this.context}" is not usable: ${(error as Error).message}`, {
          cause: error,
          exitCode: ExitCode.Auth,
          next: 'check certificate-authority(-data), client-certificate(-data) and client-key(-data) in the kubeconfig',
        })
      }

      agent = new https.Agent({keepAlive: true, maxSockets: 32, secureContext, rejectUnauthorized, servername})
      if (!process.env.DISABLE_HTTP2) {
        h2 = new H2Link({debug: (line) => this.debug(line), early, origin: this.base, rejectUnauthorized, secureContext, servername})
      }
    }

    // A connection opened at start-up that this client will not use (no TLS, a proxy, HTTP/2 off) is closed.
    if (!h2) takeEarlyConnection(undefined)

    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(opts.headers ?? {})) if (typeof v === 'string') headers[k] = v
    return {agent, auth: typeof opts.auth === 'string' ? opts.auth : undefined, h2, headers, proxied}
  }

  url(path: string, query?: Query): string {
    return `${this.base.protocol}//${this.base.host}${this.pathOf(path, query)}`
  }

  /** The request's path and query on the server (a server URL may carry a path prefix). */
  private pathOf(path: string, query?: Query): string {
    return `${this.base.pathname.replace(/\/+$/, '')}${path}${buildQuery(query)}`
  }

  /** Send one request and return the response with its body unread. Non-2xx answers are thrown. */
  async send(spec: RequestSpec, stream: boolean): Promise<Answer> {
    const material = await this.authMaterial()
    const target = this.url(spec.path, spec.query)
    const payload = spec.body === undefined ? undefined : Buffer.from(typeof spec.body === 'string' ? spec.body : JSON.stringify(spec.body))
    const headers: Record<string, string> = {
      Accept: spec.accept ?? 'application/json',
      'User-Agent': this.opts.userAgent ?? 'oc-mob',
      ...material.headers,
    }
    if (payload) {
      headers['Content-Type'] = spec.contentType ?? 'application/json'
      headers['Content-Length'] = String(payload.length)
    }

    const started = Date.now()
    const requestMs = spec.timeoutMs ?? this.opts.requestTimeoutMs
    const connectMs = requestMs > 0 ? Math.min(this.opts.connectTimeoutMs, requestMs) : this.opts.connectTimeoutMs
    this.throwIfCancelled()
    // A signal that fired before the request fires no 'abort' event for it: it is looked at first
    // (node:http2 and node:https would also drop the request, but only once a connection is there).
    if (spec.signal?.aborted) throw abortReason(spec.signal)
    const call: Call = {connectMs, headers, material, path: this.pathOf(spec.path, spec.query), payload, requestMs, spec, stream, target}
    const flight: InFlight = {req: {destroy: () => undefined}}
    const res = await (material.h2 && !material.h2.http1 ? this.sendH2(material.h2, call, flight) : Promise.resolve(undefined))
      .then((answer) => answer ?? this.sendH1(call, flight))
      .catch((error: unknown) => {
        this.inFlight.delete(flight)
        this.debug(`${spec.method} ${target} failed after ${Date.now() - started}ms: ${(error as Error).message}`)
        this.throwIfCancelled()
        if (spec.signal?.aborted) throw abortReason(spec.signal)
        if (error instanceof MobError) throw error
        throw transportError(error, this.server, this.context)
      })

    this.debug(
      `${spec.method} ${target}${payload && spec.contentType ? ` (${spec.contentType})` : ''} ${res.statusCode} in ${Date.now() - started}ms`,
    )
    const code = res.statusCode ?? 0
    if (code >= 200 && code < 300) return res
    let text: string
    try {
      text = await readBody(res)
    } catch (error) {
      this.throwAborted(spec)
      throw answerCutOff(error, spec, this.server, this.context)
    }

    const retryAfter = res.headers['retry-after']
    if (code === 404 && this.onResourceNotFound && !namesAnObject(text)) this.onResourceNotFound(spec.path)
    throw apiErrorFromResponse(
      code,
      text,
      {context: this.context, method: spec.method, path: spec.path, server: this.server},
      typeof retryAfter === 'string' ? retryAfter : undefined,
    )
  }

  /** One request over HTTP/1.1 on the keep-alive agent (or a proxy's agent). */
  private sendH1(call: Call, flight: InFlight): Promise<Answer> {
    const {connectMs, headers, material, payload, requestMs, spec, stream, target} = call
    const mod = this.base.protocol === 'http:' ? http : https
    return new Promise<Answer>((resolve, reject) => {
      let socket: net.Socket | undefined
      const timers: NodeJS.Timeout[] = []
      const stop = (): void => {
        for (const t of timers) clearTimeout(t)
        timers.length = 0
      }

      const expire = (limitMs: number, connecting: boolean): void => {
        const phase = material.proxied && socket && !socket.connecting ? 'answer' : phaseOf(socket)
        // The connection limit only covers getting a connection; past that the request limit rules.
        if (connecting && phase === 'answer') return
        // A connection limit cut short by a smaller --request-timeout is that flag's doing.
        const byFlag = !connecting || limitMs === requestMs
        const error = this.timeoutError(phase, limitMs, byFlag, spec)
        if (flight.res) flight.res.destroy(error)
        else req.destroy(error)
      }

      const req = mod.request(
        target,
        {
          agent: material.agent,
          auth: material.auth,
          headers,
          method: spec.method,
          signal: spec.signal,
        },
        (r) => {
          flight.res = r
          // A stream's headers have come: it runs as long as it lasts (watches have their heartbeat).
          if (stream) stop()
          else r.once('end', stop)
          r.once('close', () => {
            stop()
            this.inFlight.delete(flight)
          })
          resolve(r)
        },
      )
      flight.req = req
      this.inFlight.add(flight)
      // The clocks start with a connection: waiting for a free one behind long watches is not the server's fault.
      req.once('socket', (s: net.Socket) => {
        socket = s
        watchHandshake(s)
        if (connectMs > 0 && !material.proxied) timers.push(setTimeout(() => expire(connectMs, true), connectMs))
        if (requestMs > 0) timers.push(setTimeout(() => expire(requestMs, false), requestMs))
      })
      req.once('close', () => {
        if (!flight.res) {
          stop()
          this.inFlight.delete(flight)
        }
      })
      req.on('error', (error) => {
        stop()
        reject(error)
      })
      req.end(payload)
    })
  }

  /**
   * One request as a stream of the HTTP/2 connection; undefined when the server turned out to speak
   * HTTP/1.1 only (the caller sends it that way). Its clocks start at once: no request waits for a
   * free connection behind long watches, as they may over HTTP/1.1.
   */
  private sendH2(link: H2Link, call: Call, flight: InFlight): Promise<Answer | undefined> {
    const {connectMs, headers, material, payload, requestMs, spec, stream} = call
    return new Promise<Answer | undefined>((resolve, reject) => {
      let h2stream: ClientHttp2Stream | undefined
      let settled = false
      const timers: NodeJS.Timeout[] = []
      const stop = (): void => {
        for (const t of timers) clearTimeout(t)
        timers.length = 0
      }

      // Stops waiting for the connection being made, once.
      let left = false
      const leave = (): void => {
        if (left) return
        left = true
        link.abandon()
      }

      const fail = (error: unknown): void => {
        stop()
        this.inFlight.delete(flight)
        if (settled) return
        settled = true
        reject(error)
      }

      const expire = (limitMs: number, connecting: boolean): void => {
        const phase = h2stream ? 'answer' : link.phase()
        if (connecting && phase === 'answer') return
        const error = this.timeoutError(phase, limitMs, !connecting || limitMs === requestMs, spec)
        if (flight.res) flight.res.destroy(error)
        else if (h2stream) h2stream.destroy(error)
        else {
          leave()
          fail(error)
        }
      }

      flight.req = {
        destroy: (error?: Error) => {
          if (h2stream) h2stream.destroy(error)
          else {
            leave()
            fail(error)
          }
        },
      }
      this.inFlight.add(flight)
      if (connectMs > 0) timers.push(setTimeout(() => expire(connectMs, true), connectMs))
      if (requestMs > 0) timers.push(setTimeout(() => expire(requestMs, false), requestMs))
      const onAbort = (): void => {
        if (!h2stream) leave()
        fail(spec.signal!.reason)
      }
      spec.signal?.addEventListener('abort', onAbort, {once: true})
      link.get().then(
        (session) => {
          spec.signal?.removeEventListener('abort', onAbort)
          if (settled) return
          if (!session) {
            // HTTP/1.1 only: the caller sends the request that way, with fresh clocks.
            stop()
            settled = true
            this.inFlight.delete(flight)
            resolve(undefined)
            return
          }

          const h: OutgoingHttpHeaders = {':method': spec.method, ':path': call.path}
          for (const [k, v] of Object.entries(headers)) h[k.toLowerCase()] = v
          if (material.auth && !h.authorization) h.authorization = `Basic ${Buffer.from(material.auth).toString('base64')}`
          let s: ClientHttp2Stream
          try {
            // Node ends a DELETE's request side at once unless told otherwise; a delete may carry DeleteOptions.
            s = link.request(session, h, {endStream: payload === undefined, signal: spec.signal})
          } catch (error) {
            // The connection closed or went away between being handed out and this request (a GOAWAY).
            fail(error)
            return
          }

          h2stream = s
          s.once('response', (answerHeaders) => {
            const answer = Object.assign(s, {statusCode: Number(answerHeaders[':status']), headers: answerHeaders as IncomingHttpHeaders})
            flight.res = answer
            // A stream's headers have come: it runs as long as it lasts (watches have their heartbeat).
            if (stream) stop()
            else s.once('end', stop)
            settled = true
            resolve(answer)
          })
          s.once('close', () => {
            stop()
            this.inFlight.delete(flight)
            if (!settled) fail(Object.assign(new Error('the stream was closed before an answer came'), {code: 'ERR_HTTP2_STREAM_CANCEL'}))
          })
          // Also after the answer came: an error reaches whoever reads the body, and is never left unhandled.
          s.on('error', fail)
          if (payload !== undefined) s.end(payload)
        },
        (error: unknown) => {
          spec.signal?.removeEventListener('abort', onAbort)
          fail(error)
        },
      )
    })
  }

  private timeoutError(phase: Phase, limitMs: number, byFlag: boolean, spec: RequestSpec): MobError {
    return requestTimeoutError(phase, limitMs, byFlag, {context: this.context, method: spec.method, path: spec.path, server: this.server})
  }

  /**
   * A request with a JSON answer. Safe calls (GET) are retried with backoff on transport errors
   * (reset, refused, an answer cut off), 429 and 5xx. A write is sent once; when its answer is lost
   * on the way back, the object is read to see whether it now holds what was sent: if so the write
   * is done, if it plainly did not happen it is sent once more (see `settleLostWrite`).
   */
  async request<T>(spec: RequestSpec): Promise<T> {
    if (spec.method !== 'GET') return this.write<T>(spec)
    const attempts = this.opts.attempts
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once<T>(spec)
      } catch (error) {
        this.throwIfCancelled()
        if (attempt >= attempts || !isRetryable(error) || spec.signal?.aborted) throw error
        const delay = retryDelay(error, attempt, this.opts.backoffMs)
        this.debug(`retrying ${spec.method} ${spec.path} in ${delay}ms (attempt ${attempt + 1} of ${attempts})`)
        await sleep(delay, spec.signal).catch(() => this.throwAborted(spec))
      }
    }
  }

  /** One request and its whole answer; an answer cut off midway is a transport error like a reset. */
  private async once<T>(spec: RequestSpec): Promise<T> {
    const res = await this.send(spec, false)
    let text: string
    try {
      text = await readBody(res)
    } catch (error) {
      this.throwAborted(spec)
      if (error instanceof MobError) throw error
      throw answerCutOff(error, spec, this.server, this.context)
    }

    if (res.statusCode === 204 || text.length === 0) return undefined as T
    const type = res.headers['content-type'] ?? ''
    if (!type.includes('json')) return text as T
    try {
      return JSON.parse(text) as T
    } catch (error) {
      throw answerCutOff(error, spec, this.server, this.context)
    }
  }

  /** Throws the interrupt (or the caller's abort) when the command or the request was cancelled. */
  private throwAborted(spec: RequestSpec): void {
    this.throwIfCancelled()
    if (spec.signal?.aborted) throw abortReason(spec.signal)
  }

  private async write<T>(spec: RequestSpec): Promise<T> {
    try {
      return await this.once<T>(spec)
    } catch (error) {
      this.throwAborted(spec)
      // An answer from the server says what happened; only a lost answer leaves it open.
      if (error instanceof ApiError || !isRetryable(error)) throw error
      return this.settleLostWrite<T>(spec, error)
    }
  }

  /**
   * A write whose answer was lost (reset, cut off, refused): read the object. When it holds what was
   * sent, the write is done; when it plainly was not applied (absent after a create, unchanged
   * resourceVersion after a replace, a patch not in effect, still there after a delete), it is sent
   * once more. Otherwise the outcome is unknown and the error says so.
   */
  private async settleLostWrite<T>(spec: RequestSpec, lost: unknown): Promise<T> {
    const check = async (): Promise<WriteCheck> => {
      try {
        return await checkWrite(spec, (path) =>
          this.request<KubeObject>({method: 'GET', path, signal: spec.signal}).catch((error: unknown) => {
            if (isStatus(error, 404)) return undefined
            throw error
          }),
        )
      } catch {
        this.throwAborted(spec)
        return {state: 'unknown'}
      }
    }

    const first = await check()
    this.debug(`${spec.method} ${spec.path}: the answer was lost; the object says ${first.state}`)
    if (first.state === 'applied') return first.object as T
    if (first.state === 'unknown') throw lostWriteError(spec, lost, this.server, this.context)
    await sleep(retryDelay(lost, 1, this.opts.backoffMs), spec.signal).catch(() => this.throwAborted(spec))
    this.debug(`sending ${spec.method} ${spec.path} again`)
    try {
      return await this.once<T>(spec)
    } catch (error) {
      this.throwAborted(spec)
      // The first one did land after all (a create now meets itself, a delete finds nothing).
      if ((spec.method === 'POST' && isStatus(error, 409)) || (spec.method === 'DELETE' && isStatus(error, 404))) {
        const again = await check()
        if (again.state === 'applied') return again.object as T
      }

      if (error instanceof ApiError || !isRetryable(error)) throw error
      throw lostWriteError(spec, error, this.server, this.context)
    }
  }

  // ---------------------------------------------------------------- typed helpers

  async get<T extends KubeObject>(r: ResourceType, name: string, namespace?: string, signal?: AbortSignal): Promise<T> {
    return this.request<T>({method: 'GET', path: objectPath(r, name, namespace), signal})
  }

  /** Like get, but a missing object is `undefined` instead of an error. */
  async find<T extends KubeObject>(r: ResourceType, name: string, namespace?: string, signal?: AbortSignal): Promise<T | undefined> {
    try {
      return await this.get<T>(r, name, namespace, signal)
    } catch (error) {
      if (isStatus(error, 404)) return undefined
      throw error
    }
  }

  /** List every object (all pages) in one consistent series of requests. */
  async list<T extends KubeObject>(r: ResourceType, opts: ListOptions = {}): Promise<KubeList<T>> {
    const items: T[] = []
    let cont: string | undefined
    let first: KubeList<T> | undefined
    do {
      const page: KubeList<T> = await this.request<KubeList<T>>({
        method: 'GET',
        path: collectionPath(r, opts.namespace),
        query: {continue: cont, fieldSelector: opts.fieldSelector, labelSelector: opts.labelSelector, limit: opts.pageSize ?? 500},
        signal: opts.signal,
      })
      first ??= page
      items.push(...(page.items ?? []))
      cont = page.metadata?.continue || undefined
    } while (cont)

    return {...first!, items, metadata: {resourceVersion: first!.metadata?.resourceVersion}}
  }

  async create<T extends KubeObject>(r: ResourceType, obj: T, opts: WriteOptions = {}): Promise<T> {
    const namespace = opts.namespace ?? obj.metadata.namespace
    return this.request<T>({
      body: withTypeMeta(r, obj),
      method: 'POST',
      path: collectionPath(r, namespace) + (opts.subresource ? `/${opts.subresource}` : ''),
      query: writeQuery(r, opts),
      signal: opts.signal,
    })
  }

  /** PUT the whole object; the API server checks metadata.resourceVersion and answers 409 when stale. */
  async replace<T extends KubeObject>(r: ResourceType, obj: T, opts: WriteOptions = {}): Promise<T> {
    const namespace = opts.namespace ?? obj.metadata.namespace
    return this.request<T>({
      body: withTypeMeta(r, obj),
      method: 'PUT',
      path: objectPath(r, obj.metadata.name!, namespace, opts.subresource),
      query: writeQuery(r, opts),
      signal: opts.signal,
    })
  }

  /**
   * Patch with the content type the kind accepts. JSON merge patch is the default because every
   * kind takes it; strategic merge patch is refused here for custom resources before the server
   * refuses it with 415.
   */
  async patch<T extends KubeObject>(
    r: ResourceType,
    name: string,
    patch: unknown,
    opts: WriteOptions & {type?: PatchType} = {},
  ): Promise<T> {
    const type = opts.type ?? 'merge'
    if (type === 'strategic' && !r.builtin) {
      throw new Error(`strategic merge patch is not supported for ${qualifiedName(r)}; use a merge or JSON patch`)
    }

    return this.request<T>({
      body: patch,
      contentType: PATCH_CONTENT_TYPES[type],
      method: 'PATCH',
      path: objectPath(r, name, opts.namespace, opts.subresource),
      query: writeQuery(r, opts),
      signal: opts.signal,
    })
  }

  async delete(r: ResourceType, name: string, opts: WriteOptions & {ignoreNotFound?: boolean} = {}): Promise<boolean> {
    try {
      await this.request<Status>({
        method: 'DELETE',
        path: objectPath(r, name, opts.namespace),
        query: {dryRun: opts.dryRun ? 'All' : undefined},
        signal: opts.signal,
      })
      return true
    } catch (error) {
      if (opts.ignoreNotFound && isStatus(error, 404)) return false
      throw error
    }
  }

  /**
   * Deletes exactly the object that was read: a precondition on its uid refuses a same-named
   * newcomer. 'gone' when it no longer exists, 'changed' when the name now holds another object.
   */
  async deleteExact(
    r: ResourceType,
    o: {name: string; namespace?: string; uid?: string},
    opts: {propagationPolicy?: 'Background' | 'Foreground' | 'Orphan'; signal?: AbortSignal} = {},
  ): Promise<'changed' | 'deleted' | 'gone'> {
    try {
      await this.request<Status>({
        body: {
          apiVersion: 'v1',
          kind: 'DeleteOptions',
          ...(o.uid ? {preconditions: {uid: o.uid}} : {}),
          ...(opts.propagationPolicy ? {propagationPolicy: opts.propagationPolicy} : {}),
        },
        method: 'DELETE',
        path: objectPath(r, o.name, o.namespace),
        signal: opts.signal,
      })
      return 'deleted'
    } catch (error) {
      if (isStatus(error, 404)) return 'gone'
      if (isStatus(error, 409)) return 'changed'
      throw error
    }
  }

  async deleteCollection(r: ResourceType, opts: {namespace?: string; labelSelector: string; dryRun?: boolean}): Promise<void> {
    if (!opts.labelSelector) throw new Error('deleteCollection needs a label selector')
    await this.request<unknown>({
      method: 'DELETE',
      path: collectionPath(r, opts.namespace),
      query: {dryRun: opts.dryRun ? 'All' : undefined, labelSelector: opts.labelSelector},
    })
  }

  /**
   * Read-modify-write with optimistic concurrency: `mutate` gets the current object and changes it
   * (or returns false to skip the write); on 409 Conflict the object is read again and `mutate` runs
   * again on the fresh copy.
   */
  async update<T extends KubeObject>(
    r: ResourceType,
    name: string, // biome-ignore lint/suspicious/noConfusingVoidType: a mutator may return nothing (change made) or false (nothing to change)
    mutate: (obj: T) => boolean | void,
    opts: {namespace?: string; subresource?: string; attempts?: number; dryRun?: boolean} = {},
  ): Promise<T> {
    const attempts = opts.attempts ?? 5
    for (let attempt = 1; ; attempt++) {
      const current = await this.get<T>(r, name, opts.namespace)
      if (mutate(current) === false) return current
      try {
        return await this.replace<T>(r, current, {dryRun: opts.dryRun, namespace: opts.namespace, subresource: opts.subresource})
      } catch (error) {
        if (!isStatus(error, 409) || attempt >= attempts) throw error
        this.debug(`conflict updating ${qualifiedName(r)} "${name}", re-reading (attempt ${attempt + 1})`)
      }
    }
  }
}

/**
 * A request that ran out of time, saying where it stood: no connection, no TLS handshake, or no
 * answer. Exit 4 like every unreachable server; not retried (the time is already spent).
 */
export function requestTimeoutError(
  phase: Phase,
  limitMs: number,
  byFlag: boolean,
  req: {server: string; context: string; method: string; path: string},
): MobError {
  const within = formatDuration(limitMs)
  const what =
    phase === 'connect'
      ? `cannot reach the cluster at ${req.server}: no connection within ${within}`
      : phase === 'tls'
        ? `the API server at ${req.server} accepted the connection but did not complete the TLS handshake within ${within}`
        : `the API server at ${req.server} did not answer ${req.method} ${req.path} within ${within}`
  const check = `check that the API server of context "${req.context}" is up and reachable from here (VPN, proxy, firewall)`
  return new MobError(what, {
    code: 'RequestTimeout',
    exitCode: ExitCode.Unreachable,
    next: byFlag ? `${check}, or give it more time with --request-timeout (now ${within}; 0 waits without limit)` : check,
  })
}

/**
 * How a TLS connection to the server is made, from the options client-node filled in: verification
 * stays on unless the kubeconfig turns it off. `material` is what an early connection is compared
 * with (early-connection.ts); undefined when client-node gave something else than one buffer each,
 * or a passphrase.
 */
export function tlsTarget(
  base: URL,
  opts: https.RequestOptions,
  cluster: {skipTLSVerify?: boolean; tlsServerName?: string} | null | undefined,
): {material?: TlsMaterial; rejectUnauthorized: boolean; servername?: string} {
  const rejectUnauthorized = !cluster?.skipTLSVerify
  const servername = opts.servername ?? (cluster?.tlsServerName || undefined)
  const {ca, cert, key} = opts as {ca?: unknown; cert?: unknown; key?: unknown}
  type Bytes = Buffer | string | undefined
  const plain =
    opts.passphrase === undefined && [ca, cert, key].every((x) => x === undefined || Buffer.isBuffer(x) || typeof x === 'string')
  const material = plain
    ? {ca: ca as Bytes, cert: cert as Bytes, key: key as Bytes, origin: base.origin, rejectUnauthorized, servername}
    : undefined
  return {material, rejectUnauthorized, servername}
}

/** What a cancelled request throws: the reason it was cancelled with, or an interrupt. */
function abortReason(signal: AbortSignal): unknown {
  const reason: unknown = signal.reason
  if (reason instanceof Error && reason.name !== 'AbortError') return reason
  return new MobError('interrupted', {code: 'Interrupted', exitCode: ExitCode.Interrupted})
}

function retryDelay(error: unknown, attempt: number, base: number): number {
  const retryAfter = (error as {retryAfterSeconds?: number}).retryAfterSeconds
  if (retryAfter && retryAfter > 0) return Math.min(retryAfter * 1000, 10_000)
  const exp = base * 2 ** (attempt - 1)
  return Math.round(exp / 2 + (Math.random() * exp) / 2)
}

function withTypeMeta<T extends KubeObject>(r: ResourceType, obj: T): T {
  if (obj.apiVersion && obj.kind) return obj
  return {...obj, apiVersion: r.group ? `${r.group}/${r.version}` : r.version, kind: r.kind}
}

/** A 404 Status about one object (details.name) rather than about the path itself. */
function namesAnObject(text: string): boolean {
  try {
    return Boolean((JSON.parse(text) as {details?: {name?: string}}).details?.name)
  } catch {
    return false
  }
}

export async function readBody(res: Answer): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of res) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

export function isStatus(error: unknown, code: number): boolean {
  return typeof error === 'object' && error !== null && (error as {status?: number}).status === code
}
