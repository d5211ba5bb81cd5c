// A small Kubernetes API client for the simulated cluster's controllers.
// It speaks only the public HTTP API (list/watch/get/create/patch/delete and
// subresources) using the credentials and TLS settings of a kubeconfig, so the
// controllers run unchanged against any API server that serves the OpenShift
// kinds they use.
import https from 'node:https'
import http from 'node:http'
import {KubeConfig} from '@kubernetes/client-node'

export type Obj = Record<string, any>

export interface ApiResponse {
  status: number
  body: any
  text: string
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly body?: any,
  ) {
    super(message)
  }
}

export const isNotFound = (e: unknown): boolean => e instanceof ApiError && e.status === 404
const isConflict = (e: unknown): boolean => e instanceof ApiError && e.status === 409
export const isAlreadyExists = (e: unknown): boolean => e instanceof ApiError && e.status === 409 && e.reason === 'AlreadyExists'

/** Where a kind lives in the API: group/version, plural, namespaced or not. */
export interface ResourceKind {
  group: string
  version: string
  plural: string
  namespaced: boolean
}

const k = (group: string, version: string, plural: string, namespaced: boolean): ResourceKind => ({
  group,
  version,
  plural,
  namespaced,
})

const MCO_GROUP = 'machineconfiguration.openshift.io'
export const R = {
  namespaces: k('', 'v1', 'namespaces', false),
  nodes: k('', 'v1', 'nodes', false),
  pods: k('', 'v1', 'pods', true),
  configmaps: k('', 'v1', 'configmaps', true),
  secrets: k('', 'v1', 'secrets', true),
  serviceaccounts: k('', 'v1', 'serviceaccounts', true),
  events: k('', 'v1', 'events', true),
  deployments: k('apps', 'v1', 'deployments', true),
  pools: k(MCO_GROUP, 'v1', 'machineconfigpools', false),
  machineconfigs: k(MCO_GROUP, 'v1', 'machineconfigs', false),
  controllerconfigs: k(MCO_GROUP, 'v1', 'controllerconfigs', false),
  machines: k('machine.openshift.io', 'v1beta1', 'machines', true),
  machinesets: k('machine.openshift.io', 'v1beta1', 'machinesets', true),
  clusteroperators: k('config.openshift.io', 'v1', 'clusteroperators', false),
  machineosconfigs: k(MCO_GROUP, 'v1', 'machineosconfigs', false),
  machineosbuilds: k(MCO_GROUP, 'v1', 'machineosbuilds', false),
  osimagestreams: k(MCO_GROUP, 'v1', 'osimagestreams', false),
} as const

/** Builds the URL path of a collection or an object, optionally with a subresource. */
function resourcePath(kind: ResourceKind, namespace?: string, name?: string, sub?: string): string {
  let p = kind.group === '' ? `/api/${kind.version}` : `/apis/${kind.group}/${kind.version}`
  if (kind.namespaced && namespace) p += `/namespaces/${encodeURIComponent(namespace)}`
  p += `/${kind.plural}`
  if (name) p += `/${encodeURIComponent(name)}`
  if (sub) p += `/${sub}`
  return p
}

export type PatchType = 'merge' | 'json' | 'strategic'
const PATCH_CT: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'
  object: Obj
}

export class SimClient {
  private opts?: https.RequestOptions
  private optsAt = 0
  readonly server: URL
  private readonly agents = new Set<http.Agent>()
  private closed = false
  private readonly active = new Set<http.ClientRequest>()

  constructor(readonly kc: KubeConfig) {
    const cluster = kc.getCurrentCluster()
    if (!cluster) throw new Error('kubeconfig has no current cluster')
    this.server = new URL(cluster.server)
  }

  static fromFile(file: string): SimClient {
    const kc = new KubeConfig()
    kc.loadFromFile(file)
    return new SimClient(kc)
  }

  /** TLS and auth options from the kubeconfig; refreshed now and then so rotating tokens keep working. */
  private async requestOptions(): Promise<https.RequestOptions> {
    if (this.opts && Date.now() - this.optsAt < 60_000) return this.opts
    const o: https.RequestOptions = {headers: {}}
    await this.kc.applyToHTTPSOptions(o)
    if (o.agent instanceof http.Agent) this.agents.add(o.agent)
    this.opts = o
    this.optsAt = Date.now()
    return o
  }

  private async send(method: string, path: string, body?: unknown, contentType?: string): Promise<http.IncomingMessage> {
    if (this.closed) throw new Error('client closed')
    const base = await this.requestOptions()
    const url = new URL(path, this.server)
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body)
    const headers: Record<string, any> = {...(base.headers as any), Accept: 'application/json'}
    if (payload !== undefined) {
      headers['Content-Type'] = contentType ?? 'application/json'
      headers['Content-Length'] = Buffer.byteLength(payload)
    }
    const mod = url.protocol === 'http:' ? http : https
    return new Promise((resolve, reject) => {
      const req = mod.request(
        {
          ...(url.protocol === 'http:' ? {} : base),
          headers,
          method,
          hostname: url.hostname,
          port: url.port,
          path: url.pathname + url.search,
        } as https.RequestOptions,
        (res) => {
          this.active.delete(req)
          resolve(res)
        },
      )
      this.active.add(req)
      req.on('error', (err) => {
        this.active.delete(req)
        reject(err)
      })
      req.on('close', () => this.active.delete(req))
      if (payload !== undefined) req.write(payload)
      req.end()
    })
  }

  async raw(method: string, path: string, body?: unknown, contentType?: string): Promise<ApiResponse> {
    const res = await this.send(method, path, body, contentType)
    const chunks: Buffer[] = []
    for await (const c of res) chunks.push(c as Buffer)
    const text = Buffer.concat(chunks).toString('utf8')
    let parsed: any
    try {
      parsed = text ? JSON.parse(text) : undefined
    } catch {
      parsed = undefined
    }
    return {status: res.statusCode ?? 0, body: parsed, text}
  }

  async call(method: string, path: string, body?: unknown, contentType?: string): Promise<any> {
    const r = await this.raw(method, path, body, contentType)
    if (r.status >= 200 && r.status < 300) return r.body
    const reason = r.body?.reason ?? String(r.status)
    const message = r.body?.message ?? (r.text || `HTTP ${r.status}`)
    throw new ApiError(r.status, reason, `${method} ${path}: ${message}`, r.body)
  }

  async get(kind: ResourceKind, namespace: string | undefined, name: string): Promise<Obj | undefined> {
    try {
      return await this.call('GET', resourcePath(kind, namespace, name))
    } catch (e) {
      if (isNotFound(e)) return undefined
      throw e
    }
  }

  async list(kind: ResourceKind, namespace?: string, labelSelector?: string): Promise<{items: Obj[]; resourceVersion: string}> {
    let p = resourcePath(kind, namespace)
    if (labelSelector) p += `?labelSelector=${encodeURIComponent(labelSelector)}`
    const body = await this.call('GET', p)
    const itemKind = kindName(kind)
    const items: Obj[] = (body.items ?? []).map((o: Obj) => ({
      apiVersion: kind.group ? `${kind.group}/${kind.version}` : kind.version,
      kind: itemKind,
      ...o,
    }))
    return {items, resourceVersion: body.metadata?.resourceVersion ?? ''}
  }

  create(kind: ResourceKind, namespace: string | undefined, obj: Obj): Promise<Obj> {
    return this.call('POST', resourcePath(kind, namespace), obj)
  }

  replace(kind: ResourceKind, namespace: string | undefined, name: string, obj: Obj, sub?: string): Promise<Obj> {
    return this.call('PUT', resourcePath(kind, namespace, name, sub), obj)
  }

  patch(
    kind: ResourceKind,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    type: PatchType = 'merge',
    sub?: string,
  ): Promise<Obj> {
    return this.call('PATCH', resourcePath(kind, namespace, name, sub), patch, PATCH_CT[type])
  }

  /** Deletes an object; returns false when it was already gone. */
  async delete(kind: ResourceKind, namespace: string | undefined, name: string, body?: Obj): Promise<boolean> {
    try {
      await this.call('DELETE', resourcePath(kind, namespace, name), body)
      return true
    } catch (e) {
      if (isNotFound(e)) return false
      throw e
    }
  }

  /**
   * Read-modify-write with optimistic concurrency: GET, let `mutate` change the
   * object (return false to skip), PUT it back with its resourceVersion, and
   * start over on 409 Conflict.
   */
  async update(
    kind: ResourceKind,
    namespace: string | undefined,
    name: string,
    // biome-ignore lint/suspicious/noConfusingVoidType: a mutator returns nothing, or false to skip; `unknown` would also let an async one through
    mutate: (o: Obj) => boolean | void,
    opts: {status?: boolean; attempts?: number} = {},
  ): Promise<Obj | undefined> {
    const attempts = opts.attempts ?? 10
    for (let i = 0; ; i++) {
      const cur = await this.get(kind, namespace, name)
      if (!cur) return undefined
      const next = structuredClone(cur)
      if (mutate(next) === false) return cur
      try {
        return await this.replace(kind, namespace, name, next, opts.status ? 'status' : undefined)
      } catch (e) {
        if (isConflict(e) && i < attempts) continue
        throw e
      }
    }
  }

  /**
   * One watch request. Resolves when the stream ends (server close, error, or
   * abort). ERROR events (e.g. 410 Expired) are passed to `onEvent`.
   */
  async watchOnce(
    path: string,
    resourceVersion: string,
    onEvent: (ev: WatchEvent) => void,
    signal: AbortSignal,
    timeoutSeconds = 300,
  ): Promise<void> {
    const sep = path.includes('?') ? '&' : '?'
    const q =
      `${sep}watch=1&allowWatchBookmarks=true&timeoutSeconds=${timeoutSeconds}` +
      (resourceVersion ? `&resourceVersion=${encodeURIComponent(resourceVersion)}` : '')
    const res = await this.send('GET', path + q)
    if ((res.statusCode ?? 0) >= 300) {
      const chunks: Buffer[] = []
      for await (const c of res) chunks.push(c as Buffer)
      let body: any
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
      } catch {
        body = undefined
      }
      if (res.statusCode === 410) {
        onEvent({type: 'ERROR', object: body ?? {kind: 'Status', code: 410, reason: 'Expired'}})
        return
      }
      throw new ApiError(res.statusCode ?? 0, body?.reason ?? '', `watch ${path}: ${body?.message ?? res.statusCode}`, body)
    }
    await new Promise<void>((resolve) => {
      let buf = ''
      const onAbort = () => {
        res.destroy()
        resolve()
      }
      if (signal.aborted) return onAbort()
      signal.addEventListener('abort', onAbort, {once: true})
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        buf += chunk
        let i: number
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i).trim()
          buf = buf.slice(i + 1)
          if (!line) continue
          try {
            onEvent(JSON.parse(line) as WatchEvent)
          } catch {
            // a torn line: ignore it, the next re-list repairs the cache
          }
        }
      })
      const done = () => {
        signal.removeEventListener('abort', onAbort)
        resolve()
      }
      res.on('end', done)
      res.on('close', done)
      res.on('error', done)
    })
  }

  close(): void {
    this.closed = true
    for (const r of this.active) r.destroy()
    this.active.clear()
    for (const a of this.agents) a.destroy()
  }
}

function kindName(kind: ResourceKind): string {
  const names: Record<string, string> = {
    namespaces: 'Namespace',
    nodes: 'Node',
    pods: 'Pod',
    configmaps: 'ConfigMap',
    secrets: 'Secret',
    serviceaccounts: 'ServiceAccount',
    events: 'Event',
    deployments: 'Deployment',
    machineconfigpools: 'MachineConfigPool',
    machineconfigs: 'MachineConfig',
    controllerconfigs: 'ControllerConfig',
    machines: 'Machine',
    machinesets: 'MachineSet',
    clusteroperators: 'ClusterOperator',
  }
  return names[kind.plural] ?? kind.plural
}

type Handler = (type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: Obj, old?: Obj) => void

/**
 * List + watch cache of one kind (optionally one namespace / label selector).
 * Resumes from the last resourceVersion after a dropped stream and re-lists
 * after 410 Gone; a re-list reports the differences as events.
 */
export class Informer {
  private readonly cache = new Map<string, Obj>()
  private readonly handlers: Handler[] = []
  private readonly ac = new AbortController()
  private rv = ''
  private loop?: Promise<void>
  private syncedResolve!: () => void
  readonly synced = new Promise<void>((r) => (this.syncedResolve = r))

  constructor(
    private readonly client: SimClient,
    readonly kind: ResourceKind,
    private readonly opts: {namespace?: string; labelSelector?: string; onError?: (e: unknown) => void; retryMs?: number} = {},
  ) {}

  on(h: Handler): this {
    this.handlers.push(h)
    return this
  }

  list(): Obj[] {
    return [...this.cache.values()]
  }

  get(name: string, namespace?: string): Obj | undefined {
    return this.cache.get(key(namespace, name))
  }

  start(): Promise<void> {
    this.loop ??= this.run()
    return this.synced
  }

  async stop(): Promise<void> {
    this.ac.abort()
    await this.loop?.catch(() => undefined)
  }

  private emit(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: Obj, old?: Obj) {
    for (const h of this.handlers) {
      try {
        h(type, obj, old)
      } catch (e) {
        this.opts.onError?.(e)
      }
    }
  }

  private async relist(): Promise<void> {
    const {items, resourceVersion} = await this.client.list(this.kind, this.opts.namespace, this.opts.labelSelector)
    const seen = new Set<string>()
    for (const o of items) {
      const kk = key(o.metadata?.namespace, o.metadata?.name)
      seen.add(kk)
      const old = this.cache.get(kk)
      this.cache.set(kk, o)
      if (!old) this.emit('ADDED', o)
      else if (old.metadata?.resourceVersion !== o.metadata?.resourceVersion) this.emit('MODIFIED', o, old)
    }
    for (const [kk, o] of [...this.cache]) {
      if (!seen.has(kk)) {
        this.cache.delete(kk)
        this.emit('DELETED', o)
      }
    }
    this.rv = resourceVersion
  }

  private async run(): Promise<void> {
    const signal = this.ac.signal
    let needList = true
    const apiVersion = this.kind.group ? `${this.kind.group}/${this.kind.version}` : this.kind.version
    const kindStr = kindName(this.kind)
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.relist()
          needList = false
          this.syncedResolve()
        }
        let path = resourcePath(this.kind, this.opts.namespace)
        if (this.opts.labelSelector) path += `?labelSelector=${encodeURIComponent(this.opts.labelSelector)}`
        await this.client.watchOnce(
          path,
          this.rv,
          (ev) => {
            const o = ev.object ?? {}
            if (ev.type === 'ERROR') {
              needList = true
              return
            }
            if (o.metadata?.resourceVersion) this.rv = o.metadata.resourceVersion
            if (ev.type === 'BOOKMARK') return
            const obj = {apiVersion, kind: kindStr, ...o}
            const kk = key(o.metadata?.namespace, o.metadata?.name)
            const old = this.cache.get(kk)
            if (ev.type === 'DELETED') {
              this.cache.delete(kk)
              this.emit('DELETED', obj, old)
            } else {
              this.cache.set(kk, obj)
              this.emit(old ? 'MODIFIED' : 'ADDED', obj, old)
            }
          },
          signal,
        )
      } catch (e) {
        if (signal.aborted) break
        this.opts.onError?.(e)
        if (e instanceof ApiError && e.status === 410) needList = true
        await sleep(this.opts.retryMs ?? 200, signal)
        needList = true
      }
    }
  }
}

const key = (ns: string | undefined, name: string | undefined) => `${ns ?? ''}/${name ?? ''}`

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const t = setTimeout(
      () => {
        signal?.removeEventListener('abort', done)
        resolve()
      },
      Math.min(ms, 2 ** 31 - 1),
    )
    const done = () => {
      clearTimeout(t)
      resolve()
    }
    signal?.addEventListener('abort', done, {once: true})
  })
}

/** Kubernetes label selector (matchLabels + matchExpressions) against a label map. */
export function matchesSelector(sel: Obj | undefined, labels: Record<string, string> | undefined): boolean {
  if (!sel) return false
  const l = labels ?? {}
  for (const [kk, v] of Object.entries(sel.matchLabels ?? {})) if (l[kk] !== v) return false
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(l, e.key)
    switch (e.operator) {
      case 'In':
        if (!has || !(e.values ?? []).includes(l[e.key])) return false
        break
      case 'NotIn':
        if (has && (e.values ?? []).includes(l[e.key])) return false
        break
      case 'Exists':
        if (!has) return false
        break
      case 'DoesNotExist':
        if (has) return false
        break
      default:
        return false
    }
  }
  return true
}

/** RFC 3339 time without fractional seconds, as Kubernetes writes metav1.Time. */
export const now = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')
