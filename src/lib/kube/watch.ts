/**
 * Watching without polling: list, then watch from the list's resourceVersion; resume from the last
 * seen resourceVersion when a connection drops; re-list (and report what changed meanwhile) when the
 * server answers 410 Gone because the version is older than its history.
 */

import {deadline} from './wait.js'
import {formatDuration} from '../duration.js'
import {ExitCode, MobError} from '../errors.js'
import {ApiError} from './api-error.js'
import type {Answer, KubeClient} from './client.js'
import {collectionPath, type ResourceType} from './resources.js'
import {backoff, isRetryable, sleep} from './retry.js'
import type {KubeObject, Status, WatchEvent} from './types.js'

export interface WatchOptions {
  namespace?: string
  labelSelector?: string
  fieldSelector?: string
  signal?: AbortSignal
  /** Server-side lifetime of one watch connection (default 60 s); the watch is resumed after it. */
  timeoutSeconds?: number
  /**
   * A connection that brings nothing (no event, no bookmark, no end) for this long is taken for dead:
   * closed and resumed from the last resourceVersion. Default: timeoutSeconds plus 15 s, since the
   * server ends every watch at timeoutSeconds (and sends bookmarks before that). 0 = never.
   */
  heartbeatMs?: number
  /** Called on every (re)connection, for progress output and tests. */
  onReconnect?: (why: string, resourceVersion: string) => void
}

export type InformerEvent<T> = {type: 'ADDED' | 'DELETED' | 'MODIFIED'; object: T} | {type: 'SYNCED'; objects: T[]}

/** Expired: the watch's resourceVersion is older than the server's history window. */
class ExpiredError extends Error {}

/** A watch connection that stayed silent past its heartbeat. */
export class SilentWatchError extends Error {}

const DEFAULT_WATCH_SECONDS = 60
const HEARTBEAT_GRACE_MS = 15_000
/** Resumes in a row that find the server silent or out of time before the watch gives up (exit 4). */
const MAX_STALLS = 3

function heartbeatOf(opts: WatchOptions): number {
  return opts.heartbeatMs ?? (opts.timeoutSeconds ?? DEFAULT_WATCH_SECONDS) * 1000 + HEARTBEAT_GRACE_MS
}

const stalled = (error: unknown): boolean =>
  error instanceof SilentWatchError || (error instanceof MobError && error.code === 'RequestTimeout')

function key(o: KubeObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name}`
}

/**
 * How a connection cut mid-stream shows: a reset (HTTP/1.1), a stream or connection ended (HTTP/2),
 * or an HTTP/2 connection dropped for not answering its ping (h2.ts).
 */
const CUT_CODES = new Set([
  'ECONNRESET',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_HTTP2_STREAM_ERROR',
  'ERR_HTTP2_STREAM_CANCEL',
  'ERR_HTTP2_SESSION_ERROR',
  'ETIMEDOUT',
])

/**
 * One watch connection. Yields events until the server closes the stream. A 410 ERROR event ends
 * it with ExpiredError; other ERROR events become ApiErrors.
 */
export async function* watchOnce<T extends KubeObject>(
  client: KubeClient,
  r: ResourceType,
  resourceVersion: string,
  opts: WatchOptions,
): AsyncGenerator<WatchEvent<T>> {
  const ac = new AbortController()
  const onAbort = (): void => ac.abort()
  // A signal that has already fired sends no event: it is looked at first.
  if (opts.signal?.aborted) ac.abort()
  else opts.signal?.addEventListener('abort', onAbort, {once: true})
  let res: Answer | undefined
  const heartbeatMs = heartbeatOf(opts)
  let silent = false
  let heartbeat: NodeJS.Timeout | undefined
  const beat = (): void => {
    if (heartbeatMs <= 0) return
    clearTimeout(heartbeat)
    heartbeat = setTimeout(() => {
      silent = true
      ac.abort()
    }, heartbeatMs)
  }

  try {
    res = await client.send(
      {
        method: 'GET',
        path: collectionPath(r, opts.namespace),
        query: {
          allowWatchBookmarks: true,
          fieldSelector: opts.fieldSelector,
          labelSelector: opts.labelSelector,
          resourceVersion,
          timeoutSeconds: opts.timeoutSeconds ?? DEFAULT_WATCH_SECONDS,
          watch: 1,
        },
        signal: ac.signal,
      },
      true,
    )

    let buf = ''
    res.setEncoding('utf8')
    beat()
    for await (const chunk of res) {
      beat()
      buf += chunk as string
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim()
        buf = buf.slice(nl + 1)
        if (!line) continue
        const ev = JSON.parse(line) as WatchEvent<T>
        if (ev.type === 'ERROR') {
          const status = ev.object as unknown as Status
          if (status.code === 410) throw new ExpiredError(status.message ?? 'resource version expired')
          throw new ApiError(status.code ?? 500, status, status.message ?? '', {
            context: client.context,
            method: 'GET',
            path: collectionPath(r, opts.namespace),
            server: client.server,
          })
        }

        // The heartbeat times the server, not a consumer that takes its time with an event.
        clearTimeout(heartbeat)
        yield ev
        beat()
      }
    }
  } catch (error) {
    if (silent && !opts.signal?.aborted) throw new SilentWatchError(`no event or bookmark within ${formatDuration(heartbeatMs)}`)
    if (ac.signal.aborted && !(error instanceof ExpiredError)) return
    // A connection cut mid-stream surfaces as a reset; that is an ordinary end of this connection.
    const code = (error as NodeJS.ErrnoException).code
    if (CUT_CODES.has(code ?? '') || (error as Error).message === 'aborted') return
    throw error
  } finally {
    clearTimeout(heartbeat)
    opts.signal?.removeEventListener('abort', onAbort)
    ac.abort()
    res?.destroy()
  }
}

/**
 * An informer as an async iterator: ADDED for every listed object, then SYNCED with the full list,
 * then live ADDED/MODIFIED/DELETED events. Survives dropped connections and 410 Gone. Stops when
 * the signal aborts or the consumer stops iterating.
 */
export async function* informer<T extends KubeObject>(
  client: KubeClient,
  r: ResourceType,
  opts: WatchOptions = {},
): AsyncGenerator<InformerEvent<T>> {
  const known = new Map<string, T>()
  let rv = ''
  let failures = 0
  let stalls = 0

  const relist = async function* (initial: boolean): AsyncGenerator<InformerEvent<T>> {
    const list = await client.list<T>(r, {
      fieldSelector: opts.fieldSelector,
      labelSelector: opts.labelSelector,
      namespace: opts.namespace,
      signal: opts.signal,
    })
    rv = list.metadata.resourceVersion ?? ''
    const fresh = new Map(list.items.map((o) => [key(o), o]))
    for (const [k, old] of known) {
      if (!fresh.has(k)) {
        known.delete(k)
        yield {object: old, type: 'DELETED'}
      }
    }

    for (const [k, o] of fresh) {
      const old = known.get(k)
      known.set(k, o)
      if (!old) yield {object: o, type: 'ADDED'}
      else if (old.metadata.resourceVersion !== o.metadata.resourceVersion) yield {object: o, type: 'MODIFIED'}
    }

    if (initial) yield {objects: [...known.values()], type: 'SYNCED'}
  }

  yield* relist(true)
  while (!opts.signal?.aborted) {
    try {
      let got = 0
      for await (const ev of watchOnce<T>(client, r, rv, opts)) {
        got++
        failures = 0
        stalls = 0
        if (ev.object?.metadata?.resourceVersion) rv = ev.object.metadata.resourceVersion
        if (ev.type === 'BOOKMARK') continue
        const k = key(ev.object)
        if (ev.type === 'DELETED') known.delete(k)
        else known.set(k, ev.object)
        yield ev as InformerEvent<T>
      }

      if (opts.signal?.aborted) return
      opts.onReconnect?.(got === 0 ? 'watch closed without events' : 'watch closed', rv)
      // An immediately closing stream must not turn into a busy loop.
      if (got === 0) await sleep(backoff(++failures, 100, 2000), opts.signal)
    } catch (error) {
      if (opts.signal?.aborted) return
      if (error instanceof ExpiredError) {
        opts.onReconnect?.(`resource version ${rv} expired (410 Gone), listing again`, rv)
        yield* relist(false)
        continue
      }

      if (stalled(error)) {
        // A silent server: resume a few times (a stuck connection, a restarted API server), then say so.
        if (++stalls >= MAX_STALLS) throw error instanceof MobError ? error : silentServer(client, r, error as Error, stalls)
        opts.onReconnect?.(`${(error as Error).message}; resuming the watch`, rv)
        await sleep(backoff(stalls, 500, 5000), opts.signal)
        continue
      }

      if (!isRetryable(error) || ++failures > 8) throw error
      opts.onReconnect?.(`watch failed: ${(error as Error).message}`, rv)
      await sleep(backoff(failures), opts.signal)
    }
  }
}

function silentServer(client: KubeClient, r: ResourceType, error: Error, times: number): MobError {
  return new MobError(
    `the API server at ${client.server} stopped sending updates of ${r.plural}: ${error.message}, ${times} times in a row`,
    {
      code: 'RequestTimeout',
      exitCode: ExitCode.Unreachable,
      next: `check that the API server of context "${client.context}" is up and reachable from here (VPN, proxy, firewall), then run the command again`,
    },
  )
}

export interface WaitOptions {
  namespace?: string
  signal?: AbortSignal
  timeoutMs?: number
  /** What is being waited for, for the timeout message. */
  description?: string
  /** What to tell the user to do when the wait times out. */
  next?: string
  onReconnect?: WatchOptions['onReconnect']
}

/**
 * Wait until `check` returns a value other than undefined for the named object (undefined object =
 * it does not exist). Watch-driven: each change is seen as soon as the server sends it.
 */
export async function waitFor<T extends KubeObject, R>(
  client: KubeClient,
  r: ResourceType,
  name: string,
  check: (obj: T | undefined) => R | undefined,
  opts: WaitOptions = {},
): Promise<R> {
  const ac = deadline(
    opts.signal,
    opts.timeoutMs,
    () =>
      new MobError(`timed out after ${Math.round(opts.timeoutMs! / 1000)}s waiting for ${opts.description ?? `${r.kind} ${name}`}`, {
        exitCode: ExitCode.Timeout,
        next: opts.next,
      }),
  )
  try {
    let synced = false
    for await (const ev of informer<T>(client, r, {
      fieldSelector: `metadata.name=${name}`,
      namespace: opts.namespace,
      onReconnect: opts.onReconnect,
      signal: ac.signal,
    })) {
      let obj: T | undefined
      if (ev.type === 'SYNCED') {
        synced = true
        obj = ev.objects[0]
      } else if (!synced) {
        continue // the SYNCED event that ends the listing carries the listed object
      } else {
        obj = ev.type === 'DELETED' ? undefined : ev.object
      }

      const result = check(obj)
      if (result !== undefined) return result
    }

    throw ac.signal.reason ?? new MobError('wait aborted', {exitCode: ExitCode.Interrupted})
  } catch (error) {
    if (ac.signal.aborted && ac.signal.reason) throw ac.signal.reason
    throw error
  } finally {
    ac.dispose()
  }
}
