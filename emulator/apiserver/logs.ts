// pods/log and builds/log: resolve the container and the node, then proxy the kubelet's
// /containerLogs endpoint, streaming the body through unchanged.
import {request as httpsRequest} from 'node:https'
import type {ServerResponse} from 'node:http'
import {ApiError, badRequest, notFound, q} from './errors.js'
import type {Registry} from './resources.js'
import type {Store} from './store.js'

export interface LogContext {
  store: Store
  registry: Registry
  /** client certificate the apiserver presents to kubelets */
  clientCert?: {cert: string; key: string}
  takeLogDrop: (path: string) => number | undefined
  setStatus: (code: number) => void
  open: Set<{end(): void}>
}

const LOG_PARAMS = ['follow', 'limitBytes', 'previous', 'sinceSeconds', 'sinceTime', 'tailLines', 'timestamps']

function containerNames(list: any): string {
  return (Array.isArray(list) ? list : []).map((c: any) => c?.name).join(' ')
}

/** resolves which container of `pod` to read, with the real server's errors */
function resolveContainer(pod: any, requested: string | null): string {
  const name = pod.metadata.name
  const containers: any[] = pod.spec?.containers ?? []
  if (!requested) {
    if (containers.length === 1) return containers[0].name
    if (containers.length === 0) throw badRequest(`a container name must be specified for pod ${name}`)
    let msg = `a container name must be specified for pod ${name}, choose one of: [${containerNames(containers)}]`
    const init = containerNames(pod.spec?.initContainers)
    if (init) msg += ` or one of the init containers: [${init}]`
    throw badRequest(msg)
  }
  const all = [...containers, ...(pod.spec?.initContainers ?? []), ...(pod.spec?.ephemeralContainers ?? [])]
  if (!all.some((c: any) => c?.name === requested)) throw badRequest(`container ${requested} is not valid for pod ${name}`)
  return requested
}

export async function servePodLog(
  ctx: LogContext,
  path: string,
  ns: string,
  podName: string,
  query: URLSearchParams,
  out: ServerResponse,
  defaultContainer?: string,
): Promise<void> {
  const pods = ctx.registry.find('', 'v1', 'pods')!
  const pod = ctx.store.get(pods, ns, podName)?.obj
  if (!pod) throw notFound(pods, podName)
  let requested = query.get('container')
  if (!requested && defaultContainer) {
    const cs: any[] = pod.spec?.containers ?? []
    requested = cs.some((c) => c?.name === defaultContainer) ? defaultContainer : cs.length === 1 ? cs[0].name : defaultContainer
  }
  const container = resolveContainer(pod, requested)
  const nodeName = pod.spec?.nodeName
  if (!nodeName) {
    ctx.setStatus(204)
    out.writeHead(204)
    out.end()
    return
  }
  const previous = query.get('previous') === 'true' || query.get('previous') === '1'
  if (!previous) {
    const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])]
    const st = statuses.find((s: any) => s?.name === container)
    const waiting = st?.state?.waiting
    if (waiting && !st?.state?.running && !st?.lastState?.terminated) {
      throw badRequest(`container ${q(container)} in pod ${q(podName)} is waiting to start: ${waiting.reason ?? 'ContainerCreating'}`)
    }
  }
  const nodes = ctx.registry.find('', 'v1', 'nodes')!
  const node = ctx.store.get(nodes, undefined, nodeName)?.obj
  if (!node) throw notFound(nodes, nodeName)
  const addrs: any[] = node.status?.addresses ?? []
  const host =
    (
      addrs.find((a) => a?.type === 'InternalIP') ??
      addrs.find((a) => a?.type === 'Hostname') ??
      addrs.find((a) => a?.type === 'ExternalIP')
    )?.address ?? nodeName
  const port = Number(node.status?.daemonEndpoints?.kubeletEndpoint?.Port) || 10250
  const params = new URLSearchParams()
  for (const k of LOG_PARAMS) {
    const v = query.get(k)
    if (v === null || v === '') continue
    if (['follow', 'previous', 'timestamps'].includes(k)) {
      if (v === 'true' || v === '1') params.set(k, 'true')
    } else params.set(k, v)
  }
  const hostPort = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
  const qs = params.toString()
  const url = `https://${hostPort}/containerLogs/${ns}/${podName}/${container}${qs ? `?${qs}` : ''}`
  const dropAfter = ctx.takeLogDrop(path)
  const limit = query.get('limitBytes') ? Number(query.get('limitBytes')) : undefined
  const follow = params.get('follow') === 'true'

  await new Promise<void>((resolve, reject) => {
    const upstream = httpsRequest(
      url,
      {method: 'GET', rejectUnauthorized: false, cert: ctx.clientCert?.cert, key: ctx.clientCert?.key, headers: {Accept: '*/*'}},
      (kres) => {
        const code = kres.statusCode ?? 500
        if (code < 200 || code > 206) {
          const chunks: Buffer[] = []
          kres.on('data', (c: Buffer) => chunks.push(c))
          kres.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8').slice(0, 4096).replace(/\n$/, '')
            if (code === 400) reject(badRequest(text))
            else if (code === 500)
              reject(new ApiError(500, 'InternalError', `Internal error occurred: ${text}`, {causes: [{reason: '', message: text}]}))
            else if (code === 404)
              reject(
                new ApiError(404, 'NotFound', `the server could not find the requested resource ( pods/log ${podName})`, {
                  name: podName,
                  kind: 'pods/log',
                  causes: [{reason: 'UnexpectedServerResponse', message: text}],
                }),
              )
            else
              reject(
                new ApiError(
                  code,
                  undefined,
                  text || `the server responded with the status code ${code} but did not return more information`,
                  {name: podName, kind: 'pods/log'},
                ),
              )
          })
          kres.on('error', reject)
          return
        }
        ctx.setStatus(200)
        out.writeHead(200, {'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private'})
        if (follow) out.flushHeaders()
        let bytes = 0
        const max = Math.min(dropAfter ?? Infinity, limit ?? Infinity)
        const handle = {end: () => finish()}
        ctx.open.add(handle)
        let done = false
        function finish() {
          if (done) return
          done = true
          ctx.open.delete(handle)
          kres.destroy()
          upstream.destroy()
          out.end()
          resolve()
        }
        kres.on('data', (chunk: Buffer) => {
          if (done) return
          if (bytes + chunk.length >= max) {
            out.write(chunk.subarray(0, max - bytes))
            bytes = max
            finish()
            return
          }
          bytes += chunk.length
          // as kube-apiserver does, the kubelet is read no faster than the client reads (over HTTP/2 a
          // server that queued regardless would pass its session memory limit and reset the stream)
          if (!out.write(chunk)) {
            kres.pause()
            out.once('drain', () => kres.resume())
          }
        })
        kres.on('end', finish)
        kres.on('error', finish)
        if (max === 0) finish()
      },
    )
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (out.headersSent) return resolve()
      const why =
        err.code === 'ECONNREFUSED'
          ? `dial tcp ${hostPort}: connect: connection refused`
          : err.code === 'ETIMEDOUT'
            ? `dial tcp ${hostPort}: i/o timeout`
            : err.message
      reject(new ApiError(500, undefined, `Get ${q(url)}: ${why}`))
    })
    out.on('close', () => upstream.destroy())
    upstream.end()
  })
}
