// Watch streams: chunked JSON lines {"type","object"}, resume from a bounded history (410 Expired when
// too old), synthetic ADDED events for resourceVersion ""/"0", selector transitions (an object that stops
// matching is DELETED for that watcher), bookmarks, timeoutSeconds, and injectable cuts.
import type {ServerResponse} from 'node:http'
import {badRequest, expired, statusBody} from './errors.js'
import {apiVersionOf, type Column, type ResourceDef} from './resources.js'
import type {Collection, StoreEvent, WatchSink} from './store.js'
import {toTable} from './table.js'

export interface WatchOptions {
  res: ResourceDef
  collection: Collection
  currentRV: () => number
  namespace?: string
  match: (obj: any) => boolean
  resourceVersion?: string | null
  bookmarks: boolean
  timeoutSeconds?: number
  bookmarkIntervalMs: number
  /** render events as Tables with these columns */
  table?: {columns: Column[]; accept?: string; includeObject?: string | null}
  /** end the stream after this many (non-bookmark) events */
  cutAfter?: number
  /** after this many (non-bookmark) events send nothing more, and end the stream after forMs */
  silenceAfter?: {after: number; forMs: number}
  /** the server plays hung: events wait until it ends, bookmarks are skipped */
  paused?: () => {ended: Promise<void>} | undefined
  onEnd?: () => void
  /** the list of currently open streams, so the server can end them all on close */
  open: Set<{end(): void}>
}

export function serveWatch(out: ServerResponse, o: WatchOptions, setStatus: (code: number) => void): void {
  const {res, collection} = o
  let since: number | undefined
  const rvParam = o.resourceVersion ?? ''
  if (rvParam !== '' && rvParam !== '0') {
    if (!/^\d+$/.test(rvParam))
      throw badRequest(`resourceVersion: Invalid value: "${rvParam}": strconv.ParseUint: parsing "${rvParam}": invalid syntax`)
    since = Number(rvParam)
  }
  let backlog: StoreEvent[] | undefined
  if (since !== undefined) {
    backlog = collection.eventsSince(since)
    if (!backlog) {
      const err = expired(`too old resource version: ${since} (${collection.oldestAvailable(o.currentRV())})`)
      setStatus(200)
      out.writeHead(200, {'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private'})
      out.end(`${JSON.stringify({type: 'ERROR', object: statusBody(err.code, err.reason, err.message)})}\n`)
      return
    }
  }

  setStatus(200)
  out.writeHead(200, {'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private'})
  out.flushHeaders()

  let sent = 0
  let closed = false
  let silent = false
  let columnsSent = false
  const timers: NodeJS.Timeout[] = []
  // while the server plays hung, lines wait here in order
  let held: string[] | undefined
  // Over HTTP/2 a stream whose connection went away throws on write until its 'close' comes: the watch ends there.
  const send = (line: string) => {
    if (closed || out.destroyed || out.writableEnded) return
    try {
      out.write(line)
    } catch {
      stop()
    }
  }
  const emit = (line: string) => {
    if (held) {
      held.push(line)
      return
    }
    const p = o.paused?.()
    if (p) {
      held = [line]
      void p.ended.then(() => {
        const lines = held ?? []
        held = undefined
        for (const l of lines) send(l)
      })
      return
    }
    send(line)
  }
  const goSilent = () => {
    silent = true
    timers.push(setTimeout(stop, o.silenceAfter!.forMs))
  }
  const inNs = (obj: any) => !o.namespace || obj?.metadata?.namespace === o.namespace
  const passes = (obj: any) => obj && inNs(obj) && o.match(obj)

  const write = (type: string, obj: any, json: string) => {
    if (closed || silent) return
    let line: string
    if (o.table) {
      const t = toTable([obj], {resourceVersion: obj.metadata?.resourceVersion}, {...o.table, columns: o.table.columns}, !columnsSent)
      columnsSent = true
      line = JSON.stringify({type, object: t})
    } else line = `{"type":"${type}","object":${json}}`
    emit(`${line}\n`)
    sent++
    if (o.cutAfter !== undefined && sent >= o.cutAfter) stop()
    else if (o.silenceAfter && sent >= o.silenceAfter.after) goSilent()
  }

  const bookmark = () => {
    if (closed || silent || held || o.paused?.()) return
    const obj = {kind: res.kind, apiVersion: apiVersionOf(res), metadata: {resourceVersion: String(o.currentRV())}}
    send(`${JSON.stringify({type: 'BOOKMARK', object: obj})}\n`)
  }

  const sink: WatchSink = {
    deliver(ev) {
      const cur = passes(ev.obj)
      if (ev.type === 'ADDED') {
        if (cur) write('ADDED', ev.obj, ev.json)
      } else if (ev.type === 'MODIFIED') {
        const prev = passes(ev.prev)
        if (cur && prev) write('MODIFIED', ev.obj, ev.json)
        else if (cur) write('ADDED', ev.obj, ev.json)
        else if (prev) {
          const gone = {...ev.prev, metadata: {...ev.prev.metadata, resourceVersion: String(ev.rv)}}
          write('DELETED', gone, JSON.stringify(gone))
        }
      } else if (passes(ev.prev ?? ev.obj)) write('DELETED', ev.obj, ev.json)
    },
  }

  const handle = {end: () => stop()}
  function stop() {
    if (closed) return
    closed = true
    collection.watchers.delete(sink)
    for (const t of timers) clearTimeout(t)
    o.open.delete(handle)
    out.end()
    o.onEnd?.()
  }
  o.open.add(handle)
  out.on('close', stop)

  if (o.cutAfter === 0) {
    stop()
    return
  }
  if (o.silenceAfter?.after === 0) goSilent()
  collection.watchers.add(sink)
  if (backlog) {
    for (const ev of backlog) {
      sink.deliver(ev)
      if (closed) return
    }
  } else {
    for (const e of o.namespace && res.namespaced
      ? collection.sorted().filter((x) => x.obj.metadata.namespace === o.namespace)
      : collection.sorted()) {
      if (o.match(e.obj)) write('ADDED', e.obj, e.json)
      if (closed) return
    }
  }
  if (o.bookmarks) {
    const iv = setInterval(bookmark, o.bookmarkIntervalMs)
    timers.push(iv)
  }
  if (o.timeoutSeconds !== undefined && o.timeoutSeconds > 0) {
    timers.push(
      setTimeout(() => {
        // a silent or hung server does not end its watches either
        if (silent) return
        const p = o.paused?.()
        if (p) {
          void p.ended.then(() => stop())
          return
        }
        if (o.bookmarks) bookmark()
        stop()
      }, o.timeoutSeconds * 1000),
    )
  }
}
