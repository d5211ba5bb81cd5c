/**
 * `oc mob logs`: the log of a pool's current or most recent build (build pod or OpenShift Build),
 * or of the machine-os-builder; one pool, or every pool with a build (`all`, each line prefixed
 * with `[pool] `; following, also the builds that start meanwhile). The text goes to `write` as it arrives; what happens along the way (waiting for a
 * pod to start, a resumed stream, how a followed build ended) goes to `onEvent`.
 */
import {isMobError} from '../errors.js'
import type {KubeClient} from '../kube/client.js'
import {R} from '../kube/resources.js'
import type {MachineConfigPool} from '../kube/types.js'
import {informer} from '../kube/watch.js'
import {isLayered, poolBuild, renderedConfig} from '../mco/pool-state.js'
import {jobOf, mosbStatus} from '../mco/machine-os.js'
import {MCO_NAMESPACE} from '../mco/constants.js'
import {builderTarget, IMAGE_BUILD_CONTAINER, isStale, type LogTarget, readInventory, selectBuilds, type Selection} from './find.js'
import {type EventSink, prefixLines, type StreamOptions, streamTarget, type TargetResult, waitForBuildObject, waitForJobPod, type Writer} from './stream.js'

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
    let builderType = ''
    if (opts.builder) {
      targets = [await builderTarget(client, opts.container, signal)]
    } else {
      const inv = await readInventory(client, signal)
      builderType = inv.builderType
      let sel: Selection
      try {
        sel = selectBuilds(inv, opts)
      } catch (error) {
        // --all -f with no build object yet but a pool about to build: followAll waits for it.
        if (!(opts.all && opts.follow && inv.pools.some(inProgress))) throw error
        sel = {awaiting: [], targets: []}
      }

      targets = sel.targets
      for (const {machineOSBuild: mosb, pool} of sel.awaitingJobs ?? []) {
        onEvent({pool: pool.metadata.name!, state: mosbStatus(mosb).condition ?? 'Prepared', type: 'awaiting'})
        targets.push(await waitForJobPod(client, {
          container: opts.container ?? IMAGE_BUILD_CONTAINER, kind: 'pod', machineOSBuild: mosb.metadata.name, namespace: MCO_NAMESPACE,
          pool: pool.metadata.name, poolRendered: renderedConfig(pool), rendered: mosb.spec?.machineConfig?.name, role: 'build',
        }, jobOf(mosb), signal))
      }

      for (const pool of sel.awaiting) {
        onEvent({pool: pool.metadata.name!, state: pool.status?.conditions?.find((c) => c.status === 'True' && (c.type === 'BuildPending' || c.type === 'Building'))?.type ?? 'BuildPending', type: 'awaiting'})
        targets.push(await waitForBuildObject(client, pool.metadata.name!, renderedConfig(pool), inv.builderType, opts.container, signal))
      }
    }

    for (const t of targets) if (isStale(t)) onEvent({target: t, type: 'stale'})
    const writerFor = (t: LogTarget): Writer => (opts.all ? prefixLines(`[${t.pool}] `, write) : write)
    if (opts.all && opts.follow && !opts.builder) {
      await followAll(client, targets, builderType, sopts, writerFor, onEvent, results, stop)
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

const inProgress = (pool: MachineConfigPool): boolean => isLayered(pool) && ['building', 'pending'].includes(poolBuild(pool).state)
const buildKey = (pool: string | undefined, rendered: string | undefined): string => `${pool ?? ''}\u0000${rendered ?? ''}`

/**
 * `--all -f`: follow the builds found at the start side by side, and, watching the pools, every build
 * that starts meanwhile (a pool opted in or given a new rendered config while following), until no
 * followed build is running and no pool is waiting for one. One failing stream stops the others.
 */
async function followAll(
  client: KubeClient, initial: LogTarget[], builderType: string, opts: StreamOptions, writerFor: (t: LogTarget) => Writer,
  onEvent: EventSink, results: TargetResult[], stop: AbortController,
): Promise<void> {
  const signal = opts.signal!
  const followed = new Set<string>()
  const pools = new Map<string, MachineConfigPool>()
  let synced = false
  let active = 0
  let finish!: () => void
  const finished = new Promise<void>((resolve) => {
    finish = resolve
  })
  const fail = (error: unknown): void => {
    if (!stop.signal.aborted) stop.abort(error)
    finish()
  }

  const settle = (): void => {
    if (signal.aborted) return finish()
    // Done once nothing is followed and every pool that is building has been followed already.
    if (!synced || active > 0) return
    for (const p of pools.values()) if (inProgress(p) && !followed.has(buildKey(p.metadata.name, renderedConfig(p)))) return
    finish()
  }

  const follow = (t: LogTarget): void => {
    // A stale target is an older build of its pool: a build of the pool's current config is awaited too.
    followed.add(buildKey(t.pool, t.rendered ?? t.poolRendered))
    active++
    streamTarget(client, t, opts, writerFor(t), onEvent)
      .then((r) => {
        results.push(r)
      }, fail)
      .finally(() => {
        active--
        settle()
      })
  }

  const await_ = (pool: MachineConfigPool): void => {
    const name = pool.metadata.name!
    const rendered = renderedConfig(pool)
    followed.add(buildKey(name, rendered))
    onEvent({pool: name, state: poolBuild(pool).state === 'building' ? 'Building' : 'BuildPending', type: 'awaiting'})
    active++
    waitForBuildObject(client, name, rendered, builderType, opts.container, signal)
      .then((t) => {
        if (isStale(t)) onEvent({target: t, type: 'stale'})
        follow(t)
      }, fail)
      .finally(() => {
        active--
        settle()
      })
  }

  for (const t of initial) follow(t)
  const watch = new AbortController()
  const watching = (async () => {
    for await (const ev of informer<MachineConfigPool>(client, R.machineConfigPools, {signal: AbortSignal.any([signal, watch.signal])})) {
      if (ev.type === 'SYNCED') {
        synced = true
      } else if (ev.type === 'DELETED') {
        pools.delete(ev.object.metadata.name!)
      } else {
        pools.set(ev.object.metadata.name!, ev.object)
      }

      if (synced) {
        for (const p of pools.values()) if (inProgress(p) && !followed.has(buildKey(p.metadata.name, renderedConfig(p)))) await_(p)
        settle()
      }
    }
  })().catch((error: unknown) => {
    if (!signal.aborted && !watch.signal.aborted) fail(error)
  })

  try {
    await finished
  } finally {
    watch.abort()
    await watching
  }

  if (stop.signal.aborted) throw stop.signal.reason
}
