// The HTTPS front: authentication, faults, routing, and the REST verbs on top of the object service.
// It speaks HTTP/2 and HTTP/1.1, agreed in the TLS handshake (ALPN), as kube-apiserver does: Go
// clients (kubectl) and oc-mob carry every request on one HTTP/2 connection; other clients get 1.1.
import {createSecureServer, type ServerHttp2Session} from 'node:http2'
import {createServer as createHttpsServer} from 'node:https'
import type {Server as TlsServer} from 'node:tls'
import type {IncomingMessage, ServerResponse} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'
import {randomBytes} from 'node:crypto'
import {authorize, type Attributes, type Authenticator, type Identity} from './auth.js'
import type {CrdInfo} from './crds.js'
import {apiGroup, apiGroupList, apiResourceList, apiVersions, openApiV2, versionDoc} from './discovery.js'
import {
  ApiError,
  badRequest,
  defaultMessageFor,
  forbidden,
  methodNotAllowed,
  notAcceptable,
  notFound,
  pathNotFound,
  reasonFor,
  statusBody,
  tooLarge,
  unauthorized,
} from './errors.js'
import type {FaultTable} from './faults.js'
import {managerFromUserAgent} from './managed-fields.js'
import {OpenApiV3} from './openapi.js'
import {servePodLog} from './logs.js'
import type {FieldValidation, ObjectService, WriteResult} from './objects.js'
import {apiVersionOf, type Registry, type ResourceDef} from './resources.js'
import {parseFieldSelector, parseLabelSelector} from './selectors.js'
import type {Entry, Store} from './store.js'
import {columnsFor, toTable, wantsTable} from './table.js'
import {duplicateFields} from './strict-json.js'
import {serveWatch} from './watch.js'
import {tokenRequest} from './token-request.js'

const MAX_BODY = 3 * 1024 * 1024

export interface RequestRecord {
  method: string
  path: string
  query: string
  contentType?: string
  status: number
  user?: string
  watch: boolean
  /** writes, when the server records them (recordWrites): the client's User-Agent and the request body */
  userAgent?: string
  body?: string
  /** When the request arrived (epoch ms, sub-millisecond: performance.timeOrigin + performance.now()). */
  at: number
  /** When its answer's headers went out (for a watch or log stream: when the stream began), same clock. */
  answeredAt?: number
  /** '2.0' or '1.1' */
  httpVersion: string
  /** which TLS connection it came on: 1 for the server's first, and so on */
  connection: number
}

/** The number of a TLS connection, kept on its socket (an HTTP/2 request's socket stands for its connection's). */
const CONNECTION = Symbol('connection')

export interface ServerDeps {
  store: Store
  registry: Registry
  objects: ObjectService
  crds: Map<string, CrdInfo>
  auth: Authenticator
  faults: FaultTable
  requests: RequestRecord[]
  tls: {key: string; cert: string; ca: string}
  kubeletClient?: {cert: string; key: string}
  gitVersion: string
  bookmarkIntervalMs: number
  /** offer HTTP/2 in the TLS handshake, as kube-apiserver does (false: HTTP/1.1 only, as behind a proxy that speaks no HTTP/2) */
  http2?: boolean
  /** keep the User-Agent and body of every POST/PUT/PATCH in its record (tests re-submit them) */
  recordWrites?: boolean
}

interface Route {
  res: ResourceDef
  ns?: string
  name?: string
  sub?: string
  watchPrefix: boolean
}

const TRUE = (v: string | null) => v === 'true' || v === '1'

export class ApiServer {
  private server?: TlsServer
  private connectionCount = 0
  /** every TLS connection and HTTP/2 session, closed with the server */
  private readonly connections = new Set<{destroy(): void}>()
  readonly open = new Set<{end(): void}>()
  /** raw connections held without a TLS handshake while the server plays hung */
  private readonly held = new Set<Socket>()
  private snapshots = new Map<string, Entry[]>()
  private openApiV3?: OpenApiV3
  /** the records whose bodies are kept (recordWrites) */
  private readonly writes = new WeakMap<IncomingMessage, RequestRecord>()
  port = 0

  constructor(private readonly d: ServerDeps) {}

  async listen(port = 0, host = '127.0.0.1'): Promise<number> {
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      // an error is answered once the request body is read: answering while it still streams in (a 413, a
      // 401) can leave the client with a broken connection instead of the answer
      this.handle(req, res).catch(async (error) => {
        await drained(req)
        this.fail(res, error)
      })
    }
    const tlsOptions = {key: this.d.tls.key, cert: this.d.tls.cert, ca: this.d.tls.ca, requestCert: true, rejectUnauthorized: false}
    // The compatibility API gives HTTP/2 requests the shape of HTTP/1.1's; the handlers use what both have.
    this.server =
      this.d.http2 === false
        ? createHttpsServer(tlsOptions, handler)
        : createSecureServer({...tlsOptions, allowHTTP1: true}, handler as unknown as Parameters<typeof createSecureServer>[1])
    // read by the HTTP/1.1 side of the server, as on an https.Server
    ;(this.server as unknown as {keepAliveTimeout: number}).keepAliveTimeout = 30_000
    this.server.on('secureConnection', (socket: Socket) => {
      // watch events and log lines go out as they come (HTTP/2 streams cannot set this themselves)
      socket.setNoDelay(true)
      ;(socket as unknown as Record<symbol, number>)[CONNECTION] = ++this.connectionCount
      this.connections.add(socket)
      socket.once('close', () => this.connections.delete(socket))
    })
    this.server.on('session', (session: ServerHttp2Session) => {
      this.connections.add(session)
      session.once('close', () => this.connections.delete(session))
    })
    // faults.pause() without a handshake: new TCP connections are held before TLS sees them, and
    // dropped when the pause ends (a hung server that comes back does not remember them).
    const server = this.server
    const tlsListeners = server.listeners('connection') as Array<(socket: Socket) => void>
    server.removeAllListeners('connection')
    server.on('connection', (socket: Socket) => {
      const p = this.d.faults.pauseState()
      if (p && !p.handshake) {
        this.held.add(socket)
        socket.on('error', () => {})
        socket.once('close', () => this.held.delete(socket))
        void p.ended.then(() => socket.destroy())
        return
      }
      const handshake = (): void => {
        for (const l of tlsListeners) l.call(server, socket)
      }
      const delay = this.d.faults.connectDelay()
      if (delay <= 0) {
        handshake()
        return
      }
      // What the client sends meanwhile (its TLS hello) waits in the socket until the handshake starts.
      const ignore = (): void => {}
      this.held.add(socket)
      socket.on('error', ignore)
      setTimeout(() => {
        this.held.delete(socket)
        socket.off('error', ignore)
        if (!socket.destroyed) handshake()
      }, delay)
    })
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject)
      this.server!.listen(port, host, () => resolve())
    })
    const address = this.server.address() as AddressInfo
    this.port = address.port
    this.d.faults.listenAddress = address.address
    return this.port
  }

  async close(): Promise<void> {
    this.d.faults.resume()
    for (const s of [...this.held]) s.destroy()
    for (const h of [...this.open]) h.end()
    if (!this.server) return
    const s = this.server
    await new Promise<void>((resolve) => {
      s.close(() => resolve())
      for (const c of [...this.connections]) c.destroy()
    })
  }

  // ------------------------------------------------------------------ plumbing
  private record?: WeakMap<ServerResponse, RequestRecord> = new WeakMap()

  private setStatus(res: ServerResponse, code: number) {
    const r = this.record?.get(res)
    if (r) r.status = code
  }

  private sendJson(res: ServerResponse, code: number, json: string, headers: Record<string, string | string[]> = {}) {
    this.setStatus(res, code)
    if (res.headersSent) {
      res.end()
      return
    }
    res.writeHead(code, {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-cache, private',
      'Content-Length': Buffer.byteLength(json),
      ...headers,
    })
    res.end(json)
  }

  private fail(res: ServerResponse, error: unknown) {
    if (error instanceof ApiError) {
      this.sendJson(res, error.code, JSON.stringify(error.status()), error.headers)
      return
    }
    const msg = error instanceof Error ? error.message : String(error)
    this.sendJson(
      res,
      500,
      JSON.stringify(statusBody(500, 'InternalError', `Internal error occurred: ${msg}`, {causes: [{reason: '', message: msg}]})),
    )
  }

  private async readBody(req: IncomingMessage): Promise<Buffer> {
    const declared = Number(req.headers['content-length'] ?? 0)
    if (declared > MAX_BODY) {
      await drained(req)
      throw tooLarge()
    }
    const chunks: Buffer[] = []
    let total = 0
    let over = false
    for await (const c of req) {
      total += (c as Buffer).length
      if (total > MAX_BODY) over = true
      if (!over) chunks.push(c as Buffer)
    }
    if (over) throw tooLarge()
    const body = Buffer.concat(chunks)
    const rec = this.writes.get(req)
    if (rec) rec.body = body.toString('utf8')
    return body
  }

  /** the request body parsed; `duplicates`, when given, collects the keys its JSON sets twice */
  private async readJson(req: IncomingMessage, kind?: string, duplicates?: string[]): Promise<any> {
    const buf = await this.readBody(req)
    if (buf.length === 0) return undefined
    const ct = String(req.headers['content-type'] ?? 'application/json')
      .split(';')[0]
      .trim()
    if (ct && ct !== 'application/json' && ct !== '*/*' && !ct.endsWith('+json') && ct !== 'application/yaml') {
      throw new ApiError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`,
      )
    }
    try {
      if (ct === 'application/yaml') {
        const {parse} = await import('yaml')
        return parse(buf.toString('utf8'))
      }
      const text = buf.toString('utf8')
      const out = JSON.parse(text)
      duplicates?.push(...duplicateFields(text))
      return out
    } catch (error) {
      throw badRequest(
        `${kind ? `the object provided is unrecognized (must be of type ${kind}): ` : ''}couldn't get version/kind; json parse error: ${(error as Error).message}`,
      )
    }
  }

  // ------------------------------------------------------------------ entry
  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://localhost')
    const path = url.pathname
    const query = url.searchParams
    const method = (req.method ?? 'GET').toUpperCase()
    const rec: RequestRecord = {
      method,
      path,
      query: url.search.replace(/^\?/, ''),
      contentType: req.headers['content-type'],
      status: 0,
      watch: TRUE(query.get('watch')) || path.includes('/watch/'),
      at: performance.timeOrigin + performance.now(),
      httpVersion: req.httpVersion,
      connection: (req.socket as unknown as Record<symbol, number>)[CONNECTION] ?? 0,
    }
    if (rec.contentType === undefined) delete rec.contentType
    if (this.d.recordWrites && ['POST', 'PUT', 'PATCH'].includes(method)) {
      rec.userAgent = String(req.headers['user-agent'] ?? '')
      this.writes.set(req, rec)
    }
    const writeHead = res.writeHead
    res.writeHead = function (this: ServerResponse, ...args: Parameters<ServerResponse['writeHead']>) {
      rec.answeredAt ??= performance.timeOrigin + performance.now()
      return writeHead.apply(this, args)
    } as ServerResponse['writeHead']
    this.d.requests.push(rec)
    this.record!.set(res, rec)

    const paused = this.d.faults.pauseState()
    if (paused) {
      // a hung server: no answer until the pause ends, and none at all if the client gave up
      await paused.ended
      if (req.socket.destroyed) return
    }

    const id = this.d.auth.authenticate(req)
    if (id) rec.user = id.user
    const delay = this.d.faults.delayFor(method, path)
    if (delay > 0) await new Promise((r) => setTimeout(r, delay))
    if (!id) {
      req.resume()
      throw unauthorized()
    }
    const fault = this.d.faults.takeFailure(method, path)
    if (fault) {
      req.resume()
      const reason = reasonFor(fault.status)
      const headers: Record<string, string> = fault.status === 429 || fault.status === 503 ? {'Retry-After': '1'} : {}
      const details = fault.status === 429 ? {retryAfterSeconds: 1} : undefined
      throw new ApiError(fault.status, reason, fault.message ?? defaultMessageFor(fault.status), details, headers)
    }
    await this.route(req, res, id, method, path, query)
  }

  private async route(req: IncomingMessage, res: ServerResponse, id: Identity, method: string, path: string, query: URLSearchParams) {
    const seg = path.split('/').filter(Boolean)
    const reg = this.d.registry
    if (method === 'GET' || method === 'HEAD') {
      if (path === '/api' || path === '/api/') return this.sendJson(res, 200, JSON.stringify(apiVersions(`127.0.0.1:${this.port}`)))
      if (path === '/apis' || path === '/apis/') return this.sendJson(res, 200, JSON.stringify(apiGroupList(reg)))
      if (path === '/version') return this.sendJson(res, 200, JSON.stringify(versionDoc(this.d.gitVersion), null, 2))
      if (path === '/openapi/v2') {
        const doc = openApiV2(this.d.gitVersion, /protobuf/.test(String(req.headers.accept ?? '')))
        this.setStatus(res, 200)
        res.writeHead(200, {'Content-Type': doc.contentType, 'Content-Length': doc.body.length})
        return res.end(doc.body)
      }
      if (path === '/openapi/v3' || path.startsWith('/openapi/v3/')) {
        this.openApiV3 ??= new OpenApiV3(reg, this.d.crds, this.d.gitVersion)
        const doc = path === '/openapi/v3' ? this.openApiV3.root() : this.openApiV3.doc(path.slice('/openapi/v3/'.length))
        if (doc === undefined) throw pathNotFound()
        return this.sendJson(res, 200, doc)
      }
      if (['/healthz', '/readyz', '/livez'].includes(path)) {
        this.setStatus(res, 200)
        res.writeHead(200, {'Content-Type': 'text/plain; charset=utf-8'})
        return res.end('ok')
      }
      if (seg[0] === 'api' && seg.length === 2) {
        const l = seg[1] === 'v1' ? apiResourceList(reg, '', 'v1') : undefined
        if (l) return this.sendJson(res, 200, JSON.stringify(l))
        throw pathNotFound()
      }
      if (seg[0] === 'apis' && seg.length === 2) {
        const g = apiGroup(reg, seg[1])
        if (g) return this.sendJson(res, 200, JSON.stringify(g))
        throw pathNotFound()
      }
      if (seg[0] === 'apis' && seg.length === 3) {
        const l = apiResourceList(reg, seg[1], seg[2])
        if (l) return this.sendJson(res, 200, JSON.stringify(l))
        throw pathNotFound()
      }
    }
    const route = this.parseResourcePath(seg)
    if (!route) {
      req.resume()
      if (seg[0] === 'api' || seg[0] === 'apis') throw pathNotFound()
      this.setStatus(res, 404)
      res.writeHead(404, {'Content-Type': 'text/plain; charset=utf-8'})
      return res.end('404 page not found\n')
    }
    const verb = this.verbOf(method, route, query)
    if (!verb) {
      req.resume()
      throw methodNotAllowed()
    }
    const attrs: Attributes = {
      verb,
      group: route.res.group,
      resource: route.res.plural,
      subresource: route.sub,
      namespace: route.res.plural === 'namespaces' && route.name ? route.name : route.ns,
      name: route.name,
    }
    if (!authorize(id, attrs)) {
      req.resume()
      throw forbidden({user: id.user, ...attrs})
    }
    await this.serve(req, res, id, verb, route, path, query)
  }

  private parseResourcePath(seg: string[]): Route | undefined {
    let group: string
    let version: string
    let rest: string[]
    if (seg[0] === 'api' && seg[1] === 'v1') {
      group = ''
      version = 'v1'
      rest = seg.slice(2)
    } else if (seg[0] === 'apis' && seg.length >= 4) {
      group = seg[1]
      version = seg[2]
      rest = seg.slice(3)
    } else return undefined
    let watchPrefix = false
    if (rest[0] === 'watch') {
      watchPrefix = true
      rest = rest.slice(1)
    }
    let ns: string | undefined
    let plural: string
    let name: string | undefined
    let sub: string | undefined
    if (rest[0] === 'namespaces' && rest.length >= 3 && !(rest.length === 3 && ['status', 'finalize'].includes(rest[2]))) {
      ;[, ns, plural, name, sub] = rest
      if (rest.length > 5) return undefined
    } else {
      ;[plural, name, sub] = rest
      if (rest.length > 3 || rest.length === 0) return undefined
    }
    const res = this.d.registry.find(group, version, plural)
    if (!res) return undefined
    if (ns !== undefined && !res.namespaced) return undefined
    if (sub !== undefined && !res.subresources.includes(sub)) return undefined
    if (watchPrefix && sub) return undefined
    return {res, ns, name, sub, watchPrefix}
  }

  private verbOf(method: string, r: Route, query: URLSearchParams): string | undefined {
    const watch = r.watchPrefix || TRUE(query.get('watch'))
    if (r.res.plural === 'selfsubjectaccessreviews') return method === 'POST' && !r.name ? 'create' : undefined
    if (r.sub === 'log') return method === 'GET' ? 'get' : undefined
    if (r.sub === 'binding' || r.sub === 'token') return method === 'POST' ? 'create' : undefined
    if (r.sub === 'status') return ({GET: 'get', PUT: 'update', PATCH: 'patch'} as Record<string, string>)[method]
    if (!r.name) {
      if (method === 'GET') return watch ? 'watch' : 'list'
      if (method === 'POST') return 'create'
      if (method === 'DELETE') return r.res.verbs.includes('deletecollection') ? 'deletecollection' : undefined
      return undefined
    }
    return ({GET: watch ? 'watch' : 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete'} as Record<string, string>)[method]
  }

  // ------------------------------------------------------------------ verbs
  private async serve(
    req: IncomingMessage,
    res: ServerResponse,
    id: Identity,
    verb: string,
    r: Route,
    path: string,
    query: URLSearchParams,
  ) {
    const {objects} = this.d
    const dryRun = query.getAll('dryRun')
    if (dryRun.some((v) => v !== 'All')) throw badRequest(`Invalid dryRun: ${dryRun.join(',')}`)
    const dry = dryRun.length > 0
    const manager = query.get('fieldManager') ?? managerFromUserAgent(req.headers['user-agent'])
    const accept = req.headers.accept
    const ns = r.ns
    const fieldValidation = verb === 'create' || verb === 'update' || verb === 'patch' ? fieldValidationOf(verb, query) : undefined
    switch (verb) {
      case 'list':
        req.resume()
        return this.list(res, r.res, ns, query, accept)
      case 'watch': {
        req.resume()
        const ls = parseLabelSelector(query.get('labelSelector'))
        let fs = parseFieldSelector(query.get('fieldSelector'), r.res)
        if (r.name) fs = parseFieldSelector(`metadata.name=${r.name}`, r.res)
        const match = (o: any) => (!ls || ls(o.metadata?.labels)) && (!fs || fs.match(o))
        const timeout = query.get('timeoutSeconds')
        return serveWatch(
          res,
          {
            res: r.res,
            collection: this.d.store.collection(r.res),
            currentRV: () => this.d.store.rv,
            namespace: ns,
            match,
            resourceVersion: query.get('resourceVersion'),
            bookmarks: TRUE(query.get('allowWatchBookmarks')),
            timeoutSeconds: timeout ? Number(timeout) : undefined,
            bookmarkIntervalMs: this.d.bookmarkIntervalMs,
            table: wantsTable(accept)
              ? {columns: columnsFor(r.res, this.d.crds.get(r.res.plural)?.columns), accept, includeObject: query.get('includeObject')}
              : undefined,
            cutAfter: this.d.faults.takeWatchCut(path),
            silenceAfter: this.d.faults.takeWatchSilence(path),
            paused: () => this.d.faults.pauseState(),
            open: this.open,
          },
          (c) => this.setStatus(res, c),
        )
      }
      case 'get': {
        req.resume()
        if (r.sub === 'log') return this.log(res, r, path, query)
        const e = this.d.store.get(r.res, ns, r.name!)
        if (!e) throw notFound(r.res, r.name!)
        if (wantsTable(accept)) {
          const t = toTable(
            [e.obj],
            {resourceVersion: e.obj.metadata.resourceVersion},
            {accept, includeObject: query.get('includeObject'), columns: columnsFor(r.res, this.d.crds.get(r.res.plural)?.columns)},
          )
          return this.sendJson(res, 200, JSON.stringify(t))
        }
        this.checkAccept(accept)
        return this.sendJson(res, 200, e.json)
      }
      case 'create': {
        const duplicates: string[] = []
        const body = await this.readJson(req, r.res.kind, fieldValidation === 'Ignore' ? undefined : duplicates)
        if (r.sub === 'token') {
          const out = tokenRequest(this.d.store, r.res, ns!, r.name!, body, {dryRun: dry})
          return this.sendJson(res, out.code, out.json)
        }
        if (r.res.plural === 'selfsubjectaccessreviews') return this.ssar(res, id, body)
        if (r.sub === 'binding') return this.bind(res, r, body, dry)
        return this.sendWrite(res, objects.create(r.res, ns, body, {dryRun: dry, manager, fieldValidation, duplicates}))
      }
      case 'update': {
        const duplicates: string[] = []
        const body = await this.readJson(req, r.res.kind, fieldValidation === 'Ignore' ? undefined : duplicates)
        return this.sendWrite(
          res,
          objects.update(r.res, ns, r.name!, body, {dryRun: dry, sub: r.sub, manager, fieldValidation, duplicates}),
        )
      }
      case 'patch': {
        const raw = (await this.readBody(req)).toString('utf8')
        const out = objects.patch(r.res, ns, r.name!, raw, String(req.headers['content-type'] ?? ''), {
          dryRun: dry,
          sub: r.sub,
          fieldManager: query.get('fieldManager'),
          manager,
          force: TRUE(query.get('force')),
          fieldValidation,
        })
        return this.sendWrite(res, out)
      }
      case 'delete': {
        const body = await this.readJson(req).catch(() => undefined)
        const opts = {...(body ?? {})}
        if (query.get('propagationPolicy')) opts.propagationPolicy = query.get('propagationPolicy')
        // DeleteOptions may carry dryRun in the body (kubectl does that) as well as in the query
        const out = objects.delete(r.res, ns, r.name!, opts, {dryRun: dry || (Array.isArray(opts.dryRun) && opts.dryRun.includes('All'))})
        return this.sendJson(res, out.code, out.json)
      }
      case 'deletecollection': {
        const body = await this.readJson(req).catch(() => undefined)
        const items = this.select(r.res, ns, query)
        const dryAll = dry || (Array.isArray(body?.dryRun) && body.dryRun.includes('All'))
        const deleted: any[] = []
        for (const e of items) {
          try {
            const out = objects.delete(r.res, e.obj.metadata.namespace, e.obj.metadata.name, body ?? {}, {dryRun: dryAll}).obj
            deleted.push(out.kind === 'Status' ? e.obj : out)
          } catch (error) {
            if (!(error instanceof ApiError && error.code === 404)) throw error
          }
        }
        const list = {
          kind: `${r.res.kind}List`,
          apiVersion: apiVersionOf(r.res),
          metadata: {resourceVersion: String(this.d.store.rv)},
          items: deleted,
        }
        return this.sendJson(res, 200, JSON.stringify(list))
      }
    }
    throw methodNotAllowed()
  }

  /** a write's answer, with a `Warning: 299` header for each unknown field it dropped (fieldValidation=Warn) */
  private sendWrite(res: ServerResponse, out: WriteResult) {
    const warnings = out.warnings?.map(warningHeader)
    return this.sendJson(res, out.code, out.json, warnings?.length ? {Warning: warnings} : {})
  }

  private checkAccept(accept: string | undefined) {
    if (!accept) return
    const ok = accept.split(',').some((p) => {
      const t = p.split(';')[0].trim()
      return (
        t === '*/*' ||
        t === 'application/json' ||
        t === 'application/*' ||
        t === 'application/yaml' ||
        t === 'application/vnd.kubernetes.protobuf' ||
        t === 'text/plain'
      )
    })
    if (!ok) throw notAcceptable()
  }

  private select(res: ResourceDef, ns: string | undefined, query: URLSearchParams): Entry[] {
    const ls = parseLabelSelector(query.get('labelSelector'))
    const fs = parseFieldSelector(query.get('fieldSelector'), res)
    let items = this.d.store.list(res, ns)
    if (ls || fs) items = items.filter((e) => (!ls || ls(e.obj.metadata?.labels)) && (!fs || fs.match(e.obj)))
    return items
  }

  private list(res: ServerResponse, r: ResourceDef, ns: string | undefined, query: URLSearchParams, accept: string | undefined) {
    const rv = String(this.d.store.rv)
    const limit = Number(query.get('limit') ?? 0)
    const cont = query.get('continue')
    let items: Entry[]
    let listRV = rv
    let start: string | undefined
    if (cont) {
      let tok: any
      try {
        tok = JSON.parse(Buffer.from(cont, 'base64url').toString('utf8'))
      } catch {
        throw badRequest('continue key is not valid: illegal base64 data')
      }
      if (!tok || typeof tok.start !== 'string' || typeof tok.rv !== 'string')
        throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)')
      listRV = tok.rv
      start = tok.start
      const snap = typeof tok.id === 'string' ? this.snapshots.get(tok.id) : undefined
      items = snap ?? this.select(r, ns, query)
    } else items = this.select(r, ns, query)
    if (start !== undefined) {
      const s = start
      // binary search for the first key after `start`
      let lo = 0
      let hi = items.length
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if (items[mid].key <= s) lo = mid + 1
        else hi = mid
      }
      items = items.slice(lo)
    }
    const meta: Record<string, unknown> = {resourceVersion: listRV}
    let page = items
    if (limit > 0 && items.length > limit) {
      page = items.slice(0, limit)
      const snapId = randomBytes(8).toString('hex')
      this.snapshots.set(snapId, items.slice(limit))
      if (this.snapshots.size > 64) this.snapshots.delete(this.snapshots.keys().next().value!)
      meta.continue = Buffer.from(JSON.stringify({v: 'meta.k8s.io/v1', rv: listRV, start: page[page.length - 1].key, id: snapId})).toString(
        'base64url',
      )
      if (!query.get('labelSelector') && !query.get('fieldSelector')) meta.remainingItemCount = items.length - limit
    }
    if (wantsTable(accept)) {
      const t = toTable(
        page.map((e) => e.obj),
        meta,
        {accept, includeObject: query.get('includeObject'), columns: columnsFor(r, this.d.crds.get(r.plural)?.columns)},
      )
      return this.sendJson(res, 200, JSON.stringify(t))
    }
    this.checkAccept(accept)
    // built-in lists carry items without kind/apiVersion, as the real server's typed lists do
    const prefix = `{"kind":${JSON.stringify(r.kind)},"apiVersion":${JSON.stringify(apiVersionOf(r))},`
    const parts: string[] = new Array(page.length)
    for (let i = 0; i < page.length; i++) {
      const j = page[i].json
      parts[i] = r.builtin && j.startsWith(prefix) ? `{${j.slice(prefix.length)}` : j
    }
    const head = JSON.stringify({kind: `${r.kind}List`, apiVersion: apiVersionOf(r), metadata: meta})
    const body = `${head.slice(0, -1)},"items":[${parts.join(',')}]}`
    return this.sendJson(res, 200, body)
  }

  private async log(res: ServerResponse, r: Route, path: string, query: URLSearchParams) {
    const ctx = {
      store: this.d.store,
      registry: this.d.registry,
      clientCert: this.d.kubeletClient,
      takeLogDrop: (p: string) => this.d.faults.takeLogDrop(p),
      setStatus: (c: number) => this.setStatus(res, c),
      open: this.open,
    }
    if (r.res.plural === 'pods') return servePodLog(ctx, path, r.ns!, r.name!, query, res)
    // builds/log: the build's pod, container "docker"
    const build = this.d.store.get(r.res, r.ns, r.name!)
    if (!build) throw notFound(r.res, r.name!)
    const podName = build.obj.metadata.annotations?.['openshift.io/build.pod-name'] ?? `${r.name}-build`
    return servePodLog(ctx, path, r.ns!, podName, query, res, 'docker')
  }

  private bind(res: ServerResponse, r: Route, body: any, dry: boolean) {
    const {store} = this.d
    const cur = store.get(r.res, r.ns, r.name!)
    if (!cur) throw notFound(r.res, r.name!)
    const target = body?.target?.name
    if (!target)
      throw new ApiError(422, 'Invalid', `Binding.core "${r.name}" is invalid: target.name: Required value`, {
        name: r.name,
        group: 'core',
        kind: 'Binding',
        causes: [{reason: 'FieldValueRequired', message: 'Required value', field: 'target.name'}],
      })
    if (cur.obj.spec?.nodeName) {
      throw new ApiError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on pods/binding "${r.name}": pod ${r.name} is already assigned to node "${cur.obj.spec.nodeName}"`,
        {name: r.name, kind: 'pods/binding'},
      )
    }
    if (!dry) {
      const obj = JSON.parse(cur.json)
      obj.spec.nodeName = target
      obj.status = obj.status ?? {}
      obj.status.conditions = [
        ...(obj.status.conditions ?? []).filter((c: any) => c?.type !== 'PodScheduled'),
        {type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')},
      ]
      store.put(r.res, obj)
    }
    return this.sendJson(res, 201, JSON.stringify({kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201}))
  }

  private ssar(res: ServerResponse, id: Identity, body: any) {
    const spec = body?.spec ?? {}
    const ra = spec.resourceAttributes
    let allowed: boolean
    if (ra) {
      allowed = authorize(id, {
        verb: ra.verb ?? '',
        group: ra.group ?? '',
        resource: ra.resource ?? '',
        subresource: ra.subresource || undefined,
        namespace: ra.namespace || undefined,
        name: ra.name || undefined,
      })
    } else if (spec.nonResourceAttributes) {
      const p = String(spec.nonResourceAttributes.path ?? '')
      allowed =
        !id.rules ||
        ['/api', '/apis', '/version', '/healthz', '/readyz', '/livez', '/openapi'].some((x) => p === x || p.startsWith(`${x}/`))
    } else {
      throw new ApiError(
        422,
        'Invalid',
        'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified',
        {
          group: 'authorization.k8s.io',
          kind: 'SelfSubjectAccessReview',
          causes: [
            {
              reason: 'FieldValueInvalid',
              message: 'Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified',
              field: 'spec.resourceAttributes',
            },
          ],
        },
      )
    }
    const status: any = {allowed}
    if (allowed && !id.rules)
      status.reason = 'RBAC: allowed by ClusterRoleBinding "cluster-admins" of ClusterRole "cluster-admin" to Group "system:cluster-admins"'
    const out = {kind: 'SelfSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', metadata: {creationTimestamp: null}, spec, status}
    return this.sendJson(res, 201, JSON.stringify(out))
  }
}

const FIELD_VALIDATION = ['Ignore', 'Strict', 'Warn']
const OPTIONS_KIND: Record<string, string> = {create: 'CreateOptions', update: 'UpdateOptions', patch: 'PatchOptions'}

/**
 * ?fieldValidation of a create, update or patch: unset (or empty) is Warn; any other value than Ignore, Warn
 * or Strict is refused as kube-apiserver's validation of its CreateOptions/UpdateOptions/PatchOptions does (422).
 */
function fieldValidationOf(verb: string, query: URLSearchParams): FieldValidation | undefined {
  const v = query.get('fieldValidation')
  if (!v) return undefined
  if (FIELD_VALIDATION.includes(v)) return v as FieldValidation
  const detail = `Unsupported value: ${JSON.stringify(v)}: supported values: "", ${FIELD_VALIDATION.map((x) => JSON.stringify(x)).join(', ')}`
  const kind = OPTIONS_KIND[verb]
  throw new ApiError(422, 'Invalid', `${kind}.meta.k8s.io "" is invalid: fieldValidation: ${detail}`, {
    group: 'meta.k8s.io',
    kind,
    causes: [{reason: 'FieldValueNotSupported', message: detail, field: 'fieldValidation'}],
  })
}

/** an RFC 7234 warning as kube-apiserver writes it: code 299, no agent, the text quoted with \" and \\ escaped */
function warningHeader(text: string): string {
  return `299 - "${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`
}

/** Resolves once the request body has been read to its end (discarding what is not read yet). */
function drained(req: IncomingMessage): Promise<void> {
  if (req.complete || req.readableEnded || req.destroyed) return Promise.resolve()
  return new Promise((resolve) => {
    req.once('end', () => resolve())
    req.once('close', () => resolve())
    req.once('error', () => resolve())
    req.resume()
  })
}
