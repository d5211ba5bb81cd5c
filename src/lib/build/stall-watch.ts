/**
 * Watching a build for the moment it stops making progress (src/lib/build/stall.ts judges): its pods,
 * its digest ConfigMap and, where the follower waits for the cluster's builder, the
 * machine-os-builder's pods, each with a watch; a timer looks again when the missing-digest grace runs
 * out. Followers race it against their own wait.
 */
import {MobError} from '../errors.js'
import type {KubeClient} from '../kube/client.js'
import {R} from '../kube/resources.js'
import type {ConfigMap, KubeObject, Pod} from '../kube/types.js'
import {BUILDER_WATCH, logTail} from '../cluster/builder.js'
import {deadline} from '../kube/wait.js'
import {Seen, watchAll, type WatchSpec} from '../kube/watch-many.js'
import {MCO_NAMESPACE} from '../mco/constants.js'
import {type BuildObservation, JOB_ATTEMPTS, recognizeStall, type Stall, stallError, stallRecheckAt} from './stall.js'

export interface StallWatchOptions {
  generation: BuildObservation['generation']
  pool: string
  machineOSConfig?: string
  /** Selects the build's pods in the operator's namespace (a field selector on the pod's name, or job-name=...). */
  pods?: {fieldSelector?: string; labelSelector?: string}
  /** digest-<R> or digest-<mosb>. */
  digestConfigMap: string
  /** 4.18+: the Job, to read its backoffLimit (JOB_ATTEMPTS when it cannot be read). */
  job?: string
  /** Also watch the machine-os-builder (the follower waits for the cluster's builder to start the build). */
  builder?: boolean
  graceMs?: number
  /** Which stalls end the watch (default: stuck ones; failed builds are reported by the follower's own wait). */
  stopOn?: Array<Stall['kind']>
  signal: AbortSignal
  /** 4.18+: an attempt failed and the Job tries again; once per failed pod, with the end of its log. */
  onRetry?: (stall: Stall, lastLines: string[]) => void
}

type Source = 'builder' | 'digest' | 'pods'

/** Resolves with the first stall that ends the wait; undefined when the signal aborts first. */
export async function watchForStall(client: KubeClient, opts: StallWatchOptions): Promise<Stall | undefined> {
  const stopOn = new Set(opts.stopOn ?? ['stuck'])
  if (opts.signal.aborted) return undefined
  const ac = deadline(opts.signal, undefined, undefined, () => undefined)
  const specs: Array<WatchSpec<Source>> = [
    {fieldSelector: `metadata.name=${opts.digestConfigMap}`, namespace: MCO_NAMESPACE, resource: R.configMaps, source: 'digest'},
  ]
  if (opts.pods) specs.push({...opts.pods, namespace: MCO_NAMESPACE, resource: R.pods, source: 'pods'})
  if (opts.builder) specs.push({...BUILDER_WATCH, source: 'builder'})
  const seen = new Seen<Source>()
  const retried = new Set<string>()
  let attempts = JOB_ATTEMPTS
  if (opts.job) {
    const job = await client
      .find<KubeObject & {spec?: {backoffLimit?: number}}>(R.jobs, opts.job, MCO_NAMESPACE, opts.signal)
      .catch(() => undefined)
    if (typeof job?.spec?.backoffLimit === 'number') attempts = job.spec.backoffLimit + 1
    // The follower may have finished while the Job was read.
    if (ac.signal.aborted) {
      ac.dispose()
      return undefined
    }
  }

  let timer: NodeJS.Timeout | undefined
  let found: ((s: Stall) => void) | undefined
  const result = new Promise<Stall>((resolve) => {
    found = resolve
  })
  const evaluate = (): void => {
    if (ac.signal.aborted || !seen.ready(...specs.map((s) => s.source))) return
    const observation = {
      build: {
        attempts,
        digestConfigMap: opts.digestConfigMap,
        digestPresent: seen.all<ConfigMap>('digest').length > 0,
        generation: opts.generation,
        machineOSConfig: opts.machineOSConfig,
        pods: seen.all<Pod>('pods'),
        pool: opts.pool,
      },
      builderPods: opts.builder ? seen.all<Pod>('builder') : undefined,
      graceMs: opts.graceMs,
      now: Date.now(),
    }
    const stall = recognizeStall(observation)
    if (stall?.kind === 'retrying' && !retried.has(stall.pod)) {
      retried.add(stall.pod)
      const report = opts.onRetry
      if (report) void logTail(client, stall.pod, 'image-build', 10).then((lines) => report(stall, lines))
    }

    if (stall && stopOn.has(stall.kind)) {
      found?.(stall)
      ac.abort()
      return
    }

    if (timer) clearTimeout(timer)
    const at = stallRecheckAt(observation)
    timer = at === undefined ? undefined : setTimeout(evaluate, Math.max(0, at - Date.now()) + 50)
  }

  const watching = (async () => {
    for await (const t of watchAll(client, specs, ac.signal)) {
      seen.apply(t)
      evaluate()
    }
  })().catch(() => {
    // A failing watch only loses the stall detection: the follower's own wait goes on and reports.
  })
  try {
    return await Promise.race([
      result,
      watching.then(() => undefined),
      new Promise<undefined>((resolve) => {
        if (ac.signal.aborted) resolve(undefined)
        else ac.signal.addEventListener('abort', () => resolve(undefined), {once: true})
      }),
    ])
  } finally {
    if (timer) clearTimeout(timer)
    ac.dispose()
    await watching
  }
}

/**
 * A signal for a follower's own wait that also aborts, with the stall's error as its reason, when the
 * build (or the builder it waits for) stops making progress. `watch` (re)starts the watch whenever
 * what to watch changes (a new rendered config, a new MachineOSBuild).
 */
export class StallGuard {
  private readonly ac = new AbortController()
  private readonly inner = new AbortController()
  private readonly running: Array<Promise<void>> = []
  private current?: {key: string; ac: AbortController}
  private readonly onOuter = (): void => this.ac.abort(this.outer?.reason)

  constructor(
    private readonly client: KubeClient,
    private readonly outer?: AbortSignal,
  ) {
    if (outer?.aborted) this.ac.abort(outer.reason)
    else outer?.addEventListener('abort', this.onOuter, {once: true})
  }

  get signal(): AbortSignal {
    return this.ac.signal
  }

  /** The stall's error, when the guard fired. */
  get error(): MobError | undefined {
    const r: unknown = this.ac.signal.reason
    return this.ac.signal.aborted && r instanceof MobError && r.code === 'BuildStalled' ? r : undefined
  }

  watch(key: string, opts: Omit<StallWatchOptions, 'signal'>): void {
    if (this.current?.key === key || this.ac.signal.aborted) return
    this.current?.ac.abort()
    const mine = {ac: new AbortController(), key}
    this.current = mine
    this.running.push(
      watchForStall(this.client, {...opts, signal: AbortSignal.any([mine.ac.signal, this.inner.signal])}).then((stall) => {
        if (stall && this.current === mine && !this.ac.signal.aborted) this.ac.abort(stallError(stall))
      }),
    )
  }

  async close(): Promise<void> {
    this.outer?.removeEventListener('abort', this.onOuter)
    this.inner.abort()
    await Promise.all(this.running)
  }
}
