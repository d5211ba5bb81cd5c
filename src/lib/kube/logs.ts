/**
 * Container logs that survive a dropped connection without losing or repeating lines.
 *
 * The log is always requested with timestamps; each line's timestamp (and how many lines carried
 * that same timestamp) is remembered, so after a reconnect (`sinceTime` = the last second seen) the
 * lines already shown are skipped. Timestamps are stripped again unless the user asked for them.
 */

import {ExitCode, MobError} from '../errors.js'
import {ApiError} from './api-error.js'
import type {Answer, KubeClient} from './client.js'
import {objectPath, R, type ResourceType} from './resources.js'
import {backoff, isRetryable, sleep} from './retry.js'
import type {Build, Pod} from './types.js'
import {waitFor} from './watch.js'

export interface LogOptions {
  namespace: string
  /** The pod (or, with `resource: R.builds`, the Build) whose log is read. */
  name: string
  resource?: ResourceType
  container?: string
  follow?: boolean
  tailLines?: number
  timestamps?: boolean
  previous?: boolean
  signal?: AbortSignal
  /** Called when the stream dropped and is being resumed. */
  onReconnect?: (why: string) => void
  /** Called while waiting for the container to start (it was still waiting or unscheduled). */
  onWaiting?: (why: string) => void
}

export interface LogResult {
  lines: number
  reconnects: number
}

const TS = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})) ?/

/** Remembers the position in the log as (timestamp, occurrences of that timestamp). */
class Cursor {
  lastTs = ''
  atLast = 0
  /** During a replay after reconnect: how many lines of lastTs are still to be skipped. */
  private skipAtLast = 0
  private replaying = false

  startReplay(): void {
    this.replaying = this.lastTs !== ''
    this.skipAtLast = this.atLast
  }

  /** True when the line is new and should be shown. */
  accept(ts: string): boolean {
    if (this.replaying) {
      if (ts < this.lastTs) return false
      if (ts === this.lastTs && this.skipAtLast > 0) {
        this.skipAtLast--
        return false
      }

      this.replaying = false
    }

    if (ts === this.lastTs) this.atLast++
    else {
      this.lastTs = ts
      this.atLast = 1
    }

    return true
  }
}

/** Failed requests and dropped streams in a row before giving up. */
const MAX_FAILURES = 8

function incompleteLog(opts: LogOptions, result: LogResult): MobError {
  return new MobError(
    `the log of ${opts.resource === R.builds ? 'Build' : 'pod'} ${opts.name} was cut short ${MAX_FAILURES} times; only its first ${result.lines} lines were shown`,
    {
      code: 'LogIncomplete',
      exitCode: ExitCode.Unreachable,
      next: 'check the connection to the API server, then run the command again',
    },
  )
}

function isWaiting(error: unknown): boolean {
  if (!(error instanceof ApiError) || error.status !== 400) return false
  return /is waiting to start|ContainerCreating|PodInitializing|is not available|has not started/i.test(error.serverMessage)
}

/** Whether the container has finished, so that the end of its stream is the end of the log. */
/** A Build's log is complete once the Build is gone or past Running (Complete, Failed, Error, Cancelled). */
function buildDone(build: Build | undefined): boolean {
  return !build || !['New', 'Pending', 'Running'].includes(build.status?.phase ?? 'New')
}

function containerDone(pod: Pod | undefined, container?: string): boolean {
  if (!pod) return true
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return true
  const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])]
  const st = container ? statuses.find((s) => s.name === container) : statuses[0]
  return Boolean(st?.state?.terminated)
}

function containerStarted(pod: Pod | undefined, container?: string): boolean | undefined {
  if (!pod) return undefined
  const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])]
  const st = container ? statuses.find((s) => s.name === container) : statuses[0]
  if (!pod.spec?.nodeName) return false
  return Boolean(st?.state?.running || st?.state?.terminated)
}

/**
 * A writer for log text. It may return a promise (e.g. until stdout drains): the next chunk is read
 * from the server only after it settles, so a slow reader holds the stream back instead of memory
 * filling up.
 */
export type LogWriter = (text: string) => Promise<void> | void

/**
 * Stream a container's (or a Build's) log to `write` (blocks of whole lines). With `follow`, runs
 * until the container (or the Build) ends or the signal aborts, reconnecting after drops.
 */
export async function streamLog(client: KubeClient, opts: LogOptions, write: LogWriter): Promise<LogResult> {
  const resource = opts.resource ?? R.pods
  const cursor = new Cursor()
  const result: LogResult = {lines: 0, reconnects: 0}
  let failures = 0
  let first = true

  while (!opts.signal?.aborted) {
    let res: Answer
    const query = {
      container: opts.container,
      follow: opts.follow ? true : undefined,
      previous: opts.previous ? true : undefined,
      sinceTime: first || !cursor.lastTs ? undefined : cursor.lastTs.replace(/\.\d+/, ''),
      // Until a line has come, a resumed request asks for what the first one asked for.
      tailLines: first || !cursor.lastTs ? opts.tailLines : undefined,
      timestamps: true,
    }
    try {
      res = await client.send(
        {method: 'GET', path: objectPath(resource, opts.name, opts.namespace, 'log'), query, signal: opts.signal},
        true,
      )
    } catch (error) {
      if (opts.signal?.aborted) break
      if (isWaiting(error) && opts.follow && resource === R.pods) {
        opts.onWaiting?.((error as ApiError).serverMessage)
        await waitForStart(client, opts)
        continue
      }

      // Resuming after the stream ended, the pod is gone: its container had ended (a successful build's
      // pod is removed right away), so what was read is the whole log.
      if (!first && opts.follow && error instanceof ApiError && error.status === 404) break
      // A reset or refused connection, also on the first request: the log is asked for again.
      if (isRetryable(error) && ++failures <= MAX_FAILURES) {
        opts.onReconnect?.(`log request failed (${(error as Error).message}); retrying`)
        await sleep(backoff(failures, 100, 2000), opts.signal)
        continue
      }

      throw error
    }

    if (res.statusCode === 204) {
      // The pod has no node yet: nothing to read until it is scheduled and started.
      res.resume()
      if (!opts.follow || resource !== R.pods) break
      opts.onWaiting?.('the pod is not scheduled yet')
      await waitForStart(client, opts)
      continue
    }

    if (!first) cursor.startReplay()
    first = false
    const before = result.lines
    const {dropped, flush} = await pump(res, cursor, opts, write, result)
    // A stream that brought new lines is progress: the count of failures in a row starts again.
    if (result.lines > before) failures = 0
    if (opts.signal?.aborted) break
    if (!opts.follow) {
      if (!dropped) {
        flush()
        break
      }

      // Cut short: the rest is fetched from the last line seen, or the log is said to be incomplete.
      if (++failures > MAX_FAILURES) throw incompleteLog(opts, result)
      result.reconnects++
      opts.onReconnect?.('log stream ended early; fetching the rest')
      await sleep(backoff(failures, 100, 2000), opts.signal)
      continue
    }

    if (!dropped) {
      // The server ended the stream: done if the container (or the Build) has ended, otherwise the
      // connection dropped (and a trailing line without newline is incomplete: it comes again after
      // the reconnect).
      const ended =
        resource === R.pods
          ? containerDone(await client.find<Pod>(R.pods, opts.name, opts.namespace), opts.container)
          : buildDone(await client.find<Build>(resource, opts.name, opts.namespace))
      if (ended) {
        flush()
        break
      }
    }

    result.reconnects++
    failures++
    opts.onReconnect?.('log stream ended early; resuming')
    if (failures > 1) await sleep(backoff(failures - 1, 100, 2000), opts.signal)
  }

  return result
}

async function waitForStart(client: KubeClient, opts: LogOptions): Promise<void> {
  await waitFor<Pod, true>(
    client,
    R.pods,
    opts.name,
    (pod) => {
      if (!pod) {
        throw new MobError(`pod ${opts.name} was deleted before its log could be read`, {exitCode: ExitCode.NotFound})
      }

      return containerStarted(pod, opts.container) || containerDone(pod, opts.container) ? true : undefined
    },
    {namespace: opts.namespace, signal: opts.signal},
  )
}

/**
 * Copy one response's whole lines into `write`. `dropped` is true when the connection failed
 * mid-stream; `flush` writes a trailing line that had no newline, once the caller knows the log ended.
 */
async function pump(
  res: Answer,
  cursor: Cursor,
  opts: LogOptions,
  write: LogWriter,
  result: LogResult,
): Promise<{dropped: boolean; flush: () => void}> {
  let buf = ''
  // What the writer is still busy with: awaited before the next chunk is read.
  let pending: Promise<void> | undefined
  const onAbort = (): void => {
    res.destroy()
  }

  if (opts.signal?.aborted) res.destroy()
  else opts.signal?.addEventListener('abort', onAbort, {once: true})
  const emit = (text: string, final: boolean): string => {
    let out = ''
    let start = 0
    for (;;) {
      const nl = text.indexOf('\n', start)
      if (nl < 0) break
      out += take(text.slice(start, nl))
      start = nl + 1
    }

    let rest = text.slice(start)
    if (final && rest) {
      out += take(rest)
      rest = ''
    }

    if (out) pending = write(out) ?? undefined
    return rest
  }

  const take = (line: string): string => {
    const m = TS.exec(line)
    if (!m) {
      result.lines++
      return line + '\n'
    }

    if (!cursor.accept(m[1])) return ''
    result.lines++
    return (opts.timestamps ? line : line.slice(m[0].length)) + '\n'
  }

  const flush = (): void => {
    emit(buf, true)
    buf = ''
  }

  // Decoding on the stream keeps a multi-byte character that spans two chunks intact.
  res.setEncoding('utf8')
  try {
    for await (const chunk of res) {
      buf = emit(buf + (chunk as string), false)
      if (pending) {
        const busy = pending
        pending = undefined
        await busy
      }
    }

    return {dropped: false, flush}
  } catch {
    // Dropped mid-stream: the partial line will come again after the reconnect.
    return {dropped: !opts.signal?.aborted, flush: () => {}}
  } finally {
    opts.signal?.removeEventListener('abort', onAbort)
  }
}
