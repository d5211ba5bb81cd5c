/**
 * `oc mob logs`: the log of a pool's current or most recent build, or of the machine-os-builder; one
 * pool, or every pool with a build (`all`, each line prefixed with `[pool] `; following, also the builds
 * that start meanwhile). Which object holds a pool's log is its generation's answer (configmap/logs.ts,
 * machine-os/logs.ts). The text goes to `write` as it arrives; what happens along the way (waiting for
 * a pod to start, a resumed stream, how a followed build ended) goes to `onEvent`.
 */
import {poolNotFound} from '../../cluster/pools.js'
import {ExitCode, isMobError, MobError} from '../../errors.js'
import type {KubeClient} from '../../kube/client.js'
import {R} from '../../kube/resources.js'
import type {MachineConfigPool} from '../../kube/types.js'
import {informer} from '../../kube/watch.js'
import {type EventSink, prefixLines, type StreamOptions, streamTarget, type TargetResult, type Writer} from '../../logs/stream.js'
import {builderTarget, isStale, type LogTarget, severalPoolsError} from '../../logs/target.js'
import {MCO_NAMESPACE} from '../../mco/constants.js'
import {poolBuild, renderedConfig} from '../../mco/pool-state.js'
import {configMapLogs, inProgress, readConfigMapBuilds, waitForBuildObject} from '../configmap/logs.js'
import {machineOSLogs, readMachineOSBuilds} from '../machine-os/logs.js'
import type {AwaitedBuild, Inventory, PoolLogs} from './inventory.js'
import {compareText} from '../../order.js'

export type {LogEvent, Outcome, TargetResult} from '../../logs/stream.js'
export type {LogTarget} from '../../logs/target.js'
export type {Inventory} from './inventory.js'

export async function readInventory(client: KubeClient, signal?: AbortSignal): Promise<Inventory> {
  const [pools, cm, machineOS] = await Promise.all([
    client.list<MachineConfigPool>(R.machineConfigPools, {signal}),
    readConfigMapBuilds(client, signal),
    readMachineOSBuilds(client, signal),
  ])
  return {...cm, machineOS, pools: pools.items}
}

/** The generation that opted the pool in: a MachineOSConfig (4.18+), otherwise the label (4.14/4.15). */
function logsOf(inv: Inventory, pool: MachineConfigPool): PoolLogs {
  return machineOSLogs.optedIn(inv, pool) ? machineOSLogs : configMapLogs
}

/** Pools that have a build object (build pod, Build, or a build Job's pod), sorted by name. */
export function poolsWithBuilds(inv: Inventory): string[] {
  return [...new Set([...configMapLogs.poolsWithBuilds(inv), ...machineOSLogs.poolsWithBuilds(inv)])].sort()
}

/** A pool is opted in by the label (4.14/4.15) or by a MachineOSConfig (4.18+). */
export function optedIn(inv: Inventory, pool: MachineConfigPool): boolean {
  return configMapLogs.optedIn(inv, pool) || machineOSLogs.optedIn(inv, pool)
}

/** The build target of one pool, or undefined when it has no build object. */
export function buildTarget(inv: Inventory, pool: MachineConfigPool, container?: string): LogTarget | undefined {
  return logsOf(inv, pool).target(inv, pool, container)
}

export function noBuildsAnywhereError(inv: Inventory): MobError {
  const layered = inv.pools
    .filter((p) => optedIn(inv, p))
    .map((p) => p.metadata.name!)
    .sort()
  return new MobError(
    `no pool has a build pod or Build in ${MCO_NAMESPACE}${layered.length > 0 ? ` (pools opted into on-cluster builds: ${layered.join(', ')})` : ' and no pool is opted into on-cluster builds'}`,
    {
      code: 'NoBuild',
      exitCode: ExitCode.NotFound,
      next:
        layered.length > 0
          ? `\`oc mob build ${layered[0]}\` runs a build and follows its log; \`oc mob logs --builder\` shows the machine-os-builder's log`
          : 'opt a pool in with `oc mob enable <pool>`, then `oc mob build <pool>` runs a build and follows its log',
    },
  )
}

export interface Selection {
  targets: LogTarget[]
  /** Builds under way whose pod or Build does not exist yet: `-f` waits for them. */
  awaiting: AwaitedBuild[]
}

export interface SelectOptions {
  pool?: string
  all?: boolean
  container?: string
  follow?: boolean
}

/** Choose the build log(s) to show, or throw the error that explains why there is none. */
export function selectBuilds(inv: Inventory, opts: SelectOptions): Selection {
  if (opts.pool) {
    const pool = inv.pools.find((p) => p.metadata.name === opts.pool)
    if (!pool) throw poolNotFound(opts.pool, inv.pools, 'logs')
    const logs = logsOf(inv, pool)
    const target = logs.target(inv, pool, opts.container)
    if (target) return {awaiting: [], targets: [target]}
    const awaited = opts.follow ? logs.awaiting(inv, pool, opts.container) : undefined
    if (awaited) return {awaiting: [awaited], targets: []}
    throw logs.noBuild(inv, pool)
  }

  const names = poolsWithBuilds(inv)
  if (names.length === 0) {
    // One pool opted in: explain that pool (its build succeeded, was never started...).
    const layered = inv.pools.filter((p) => optedIn(inv, p))
    if (layered.length === 1 && !opts.all) return selectBuilds(inv, {...opts, pool: layered[0].metadata.name})
    throw noBuildsAnywhereError(inv)
  }

  if (names.length > 1 && !opts.all) throw severalPoolsError(names)
  const targets: LogTarget[] = []
  for (const name of names) {
    const pool = inv.pools.find((p) => p.metadata.name === name)
    // A build object whose pool was deleted still has a log worth showing.
    const t = buildTarget(inv, pool ?? {metadata: {name}}, opts.container)
    if (t) targets.push(t)
  }

  return {awaiting: [], targets}
}

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
      for (const awaited of sel.awaiting) {
        onEvent({pool: awaited.pool.metadata.name!, state: awaited.state, type: 'awaiting'})
        targets.push(await awaited.wait(client, signal))
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
  results.sort((a, b) => compareText(a.target.pool ?? '', b.target.pool ?? ''))
  return {interrupted: false, targets: results}
}

const buildKey = (pool: string | undefined, rendered: string | undefined): string => `${pool ?? ''}\u0000${rendered ?? ''}`

/**
 * `--all -f`: follow the builds found at the start side by side, and, watching the pools, every build
 * that starts meanwhile (a pool opted in or given a new rendered config while following), until no
 * followed build is running and no pool is waiting for one. One failing stream stops the others.
 */
async function followAll(
  client: KubeClient,
  initial: LogTarget[],
  builderType: string,
  opts: StreamOptions,
  writerFor: (t: LogTarget) => Writer,
  onEvent: EventSink,
  results: TargetResult[],
  stop: AbortController,
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
