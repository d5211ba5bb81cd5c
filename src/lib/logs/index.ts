/**
 * `oc mob logs`: the log of a pool's current or most recent build (build pod or OpenShift Build),
 * or of the machine-os-builder; one pool, or every pool with a build (`all`, each line prefixed
 * with `[pool] `). The text goes to `write` as it arrives; what happens along the way (waiting for a
 * pod to start, a resumed stream, how a followed build ended) goes to `onEvent`.
 */
import {isMobError} from '../errors.js'
import type {KubeClient} from '../kube/client.js'
import {renderedConfig} from '../mco/pool-state.js'
import {builderTarget, isStale, type LogTarget, readInventory, selectBuilds} from './find.js'
import {type EventSink, prefixLines, type StreamOptions, streamTarget, type TargetResult, waitForBuildObject, type Writer} from './stream.js'

export * from './find.js'
export * from './stream.js'

export interface LogsOptions extends StreamOptions {
  /** The pool whose build log to show; without it, the only pool with a build. */
  pool?: string
  /** Every pool with a build: in turn, or interleaved when following. */
  all?: boolean
  /** The machine-os-builder's log instead of a build's. */
  builder?: boolean
}

export interface LogsResult {
  targets: TargetResult[]
  /** The signal aborted (Ctrl-C) before the end. */
  interrupted: boolean
}

export async function showLogs(client: KubeClient, opts: LogsOptions, write: Writer, onEvent: EventSink = () => {}): Promise<LogsResult> {
  const results: TargetResult[] = []
  const interrupted = (): LogsResult => ({interrupted: true, targets: results})
  // One failing stream of several stops the others.
  const stop = new AbortController()
  const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal
  const sopts: StreamOptions = {...opts, signal}
  try {
    let targets: LogTarget[]
    if (opts.builder) {
      targets = [await builderTarget(client, opts.container, signal)]
    } else {
      const inv = await readInventory(client, signal)
      const sel = selectBuilds(inv, opts)
      targets = sel.targets
      for (const pool of sel.awaiting) {
        onEvent({pool: pool.metadata.name!, state: pool.status?.conditions?.find((c) => c.status === 'True' && (c.type === 'BuildPending' || c.type === 'Building'))?.type ?? 'BuildPending', type: 'awaiting'})
        targets.push(await waitForBuildObject(client, pool.metadata.name!, renderedConfig(pool), inv.builderType, opts.container, signal))
      }
    }

    for (const t of targets) if (isStale(t)) onEvent({target: t, type: 'stale'})
    const writerFor = (t: LogTarget): Writer => (opts.all ? prefixLines(`[${t.pool}] `, write) : write)
    if (opts.all && opts.follow && targets.length > 1) {
      const runs = targets.map(async (t) => {
        try {
          results.push(await streamTarget(client, t, sopts, writerFor(t), onEvent))
        } catch (error) {
          stop.abort(error)
          throw error
        }
      })
      const settled = await Promise.allSettled(runs)
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected')
      if (failed) throw stop.signal.reason ?? failed.reason
    } else {
      for (const t of targets) {
        try {
          results.push(await streamTarget(client, t, sopts, writerFor(t), onEvent))
        } catch (error) {
          // With --all, a build that has no log yet does not hide the others'.
          if (!opts.all || !isMobError(error) || error.code !== 'NotStarted') throw error
          onEvent({target: t, type: 'skipped', why: error.message})
        }

        if (opts.signal?.aborted) break
      }
    }
  } catch (error) {
    if (opts.signal?.aborted) return interrupted()
    throw error
  }

  if (opts.signal?.aborted) return interrupted()
  // In pool order, whichever ended first.
  results.sort((a, b) => (a.target.pool ?? '').localeCompare(b.target.pool ?? ''))
  return {interrupted: false, targets: results}
}
