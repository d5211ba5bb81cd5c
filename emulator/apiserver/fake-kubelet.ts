// A tiny HTTPS kubelet for tests: serves /containerLogs/<ns>/<pod>/<container> from in-memory text,
// with follow, tailLines, timestamps, previous and limitBytes.
import {createServer} from 'node:https'
import type {ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {createPki} from '../pki.js'

export interface FakeKubeletOptions {
  port?: number
  /** node name used by nodeObject() (default "node-1") */
  nodeName?: string
}

export interface FakeKubelet {
  host: string
  port: number
  url: string
  /** replace a container's log (current run; `previous` = the previous run) */
  setLog(ns: string, pod: string, container: string, text: string, opts?: {previous?: boolean}): void
  /** append to a container's log; followers receive it at once */
  appendLog(ns: string, pod: string, container: string, text: string): void
  /** the container exits: followers' streams end */
  endLog(ns: string, pod: string, container: string): void
  /** answer requests for this container with an error (the kubelet writes plain text) */
  setError(ns: string, pod: string, container: string, status: number, message: string): void
  /** a Node object whose kubelet endpoint is this server */
  nodeObject(name?: string, extra?: {labels?: Record<string, string>; ready?: boolean}): any
  requests: Array<{path: string; query: string}>
  close(): Promise<void>
}

interface Line {
  ts: string
  text: string
}
interface Log {
  lines: Line[]
  previous: Line[]
  ended: boolean
  error?: {status: number; message: string}
  followers: Set<{res: ServerResponse; timestamps: boolean; remaining: number}>
}

let lastStamp = ''

function nanoStamp(): string {
  const d = new Date()
  const iso = d.toISOString()
  const ns = String(process.hrtime.bigint() % 1_000_000n).padStart(6, '0')
  let s = `${iso.slice(0, -1)}${ns}Z`
  // hrtime's sub-millisecond digits wrap independently of the millisecond: keep the stamps increasing, as a real clock's are
  if (s <= lastStamp) s = lastStamp.replace(/\.(\d{9})Z$/, (_m, f) => `.${String(Math.min(Number(f) + 1, 999_999_999)).padStart(9, '0')}Z`)
  lastStamp = s
  return s
}

function splitLines(text: string): string[] {
  const out = text.split(/(?<=\n)/)
  return out.filter((l) => l !== '')
}

export async function startFakeKubelet(opts: FakeKubeletOptions = {}): Promise<FakeKubelet> {
  const pki = createPki()
  const logs = new Map<string, Log>()
  const requests: FakeKubelet['requests'] = []
  const key = (ns: string, pod: string, c: string) => `${ns}/${pod}/${c}`
  const get = (k: string): Log => {
    let l = logs.get(k)
    if (!l) {
      l = {lines: [], previous: [], ended: false, followers: new Set()}
      logs.set(k, l)
    }
    return l
  }
  const render = (lines: Line[], timestamps: boolean) => lines.map((l) => (timestamps ? `${l.ts} ${l.text}` : l.text)).join('')

  const server = createServer({key: pki.server.keyPem, cert: pki.server.certPem}, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://localhost')
    requests.push({path: url.pathname, query: url.search.replace(/^\?/, '')})
    const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname)
    if (!m || req.method !== 'GET') {
      res.writeHead(404, {'Content-Type': 'text/plain'})
      res.end('404 page not found\n')
      return
    }
    const [, ns, pod, container] = m
    const log = logs.get(key(ns, pod, container))
    if (!log) {
      res.writeHead(404, {'Content-Type': 'text/plain'})
      res.end(`pod "${pod}" (container "${container}") not found`)
      return
    }
    if (log.error) {
      res.writeHead(log.error.status, {'Content-Type': 'text/plain'})
      res.end(log.error.message)
      return
    }
    const q = url.searchParams
    const follow = q.get('follow') === 'true'
    const previous = q.get('previous') === 'true'
    const timestamps = q.get('timestamps') === 'true'
    const tail = q.get('tailLines') !== null ? Number(q.get('tailLines')) : undefined
    const limit = q.get('limitBytes') !== null ? Number(q.get('limitBytes')) : Infinity
    let lines = previous ? log.previous : log.lines
    if (tail !== undefined && tail >= 0) lines = tail === 0 ? [] : lines.slice(-tail)
    let text = render(lines, timestamps)
    res.writeHead(200, {'Content-Type': 'text/plain'})
    res.socket?.setNoDelay(true)
    if (Buffer.byteLength(text) >= limit) {
      res.end(Buffer.from(text).subarray(0, limit))
      return
    }
    if (text) res.write(text)
    if (!follow || previous || log.ended) {
      res.end()
      return
    }
    res.flushHeaders()
    const f = {res, timestamps, remaining: limit - Buffer.byteLength(text)}
    log.followers.add(f)
    res.on('close', () => log.followers.delete(f))
    text = ''
  })
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port

  const k: FakeKubelet = {
    host: '127.0.0.1',
    port,
    url: `https://127.0.0.1:${port}`,
    requests,
    setLog(ns, pod, container, text, o = {}) {
      const l = get(key(ns, pod, container))
      const lines = splitLines(text).map((t) => ({ts: nanoStamp(), text: t}))
      if (o.previous) l.previous = lines
      else {
        l.lines = lines
        l.ended = false
        l.error = undefined
      }
    },
    appendLog(ns, pod, container, text) {
      const l = get(key(ns, pod, container))
      for (const t of splitLines(text)) {
        const line = {ts: nanoStamp(), text: t}
        l.lines.push(line)
        for (const f of l.followers) {
          const chunk = Buffer.from(f.timestamps ? `${line.ts} ${line.text}` : line.text)
          if (chunk.length >= f.remaining) {
            f.res.end(chunk.subarray(0, f.remaining))
            l.followers.delete(f)
          } else {
            f.remaining -= chunk.length
            f.res.write(chunk)
          }
        }
      }
    },
    endLog(ns, pod, container) {
      const l = get(key(ns, pod, container))
      l.ended = true
      for (const f of l.followers) f.res.end()
      l.followers.clear()
    },
    setError(ns, pod, container, status, message) {
      get(key(ns, pod, container)).error = {status, message}
    },
    nodeObject(name = opts.nodeName ?? 'node-1', extra = {}) {
      return {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {name, labels: {'kubernetes.io/hostname': name, 'node-role.kubernetes.io/worker': '', ...(extra.labels ?? {})}},
        spec: {},
        status: {
          addresses: [
            {type: 'InternalIP', address: '127.0.0.1'},
            {type: 'Hostname', address: name},
          ],
          daemonEndpoints: {kubeletEndpoint: {Port: port}},
          conditions: [
            {
              type: 'Ready',
              status: extra.ready === false ? 'False' : 'True',
              reason: 'KubeletReady',
              message: 'kubelet is posting ready status',
            },
          ],
          nodeInfo: {
            kubeletVersion: 'v1.27.16+openshift',
            osImage: 'Red Hat Enterprise Linux CoreOS',
            containerRuntimeVersion: 'cri-o://1.27.0',
          },
        },
      }
    },
    async close() {
      for (const l of logs.values()) for (const f of l.followers) f.res.destroy()
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    },
  }
  return k
}
