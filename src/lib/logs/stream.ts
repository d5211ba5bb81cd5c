/**
 * Streaming the chosen log: a container of a pod (pods/log) or an OpenShift Build (builds/log),
 * straight to a writer as it arrives, following until the container or Build ends. Dropped streams
 * are resumed by streamLog without lost or repeated lines.
 */
import {recognizeStall} from '../build/stall.js'
import {StallGuard} from '../build/stall-watch.js'
import {ExitCode, MobError} from '../errors.js'
import type {KubeClient} from '../kube/client.js'
import {type LogWriter, streamLog} from '../kube/logs.js'
import {R} from '../kube/resources.js'
import type {Build, ContainerStatus, MachineConfigPool, Pod} from '../kube/types.js'
import {waitFor} from '../kube/watch.js'
import {type BuildState, poolBuild, poolImage} from '../mco/pool-state.js'
import {IMAGE_BUILD_CONTAINER, type LogTarget, WAIT_FOR_DONE_CONTAINER} from './target.js'

export interface StreamOptions {
  follow?: boolean
  /** Only the last N lines (of the first connection). */
  tail?: number
  /** Keep the kubelet's RFC 3339 timestamp at the start of each line. */
  timestamps?: boolean
  /** The container asked for with -c, if any (OpenShift Builds have none). */
  container?: string
  signal?: AbortSignal
}

/** How a followed build or container ended. */
export interface Outcome {
  /** The pod or Build no longer exists (the operator removes a successful build's pod). */
  gone?: boolean
  /** The followed container's exit code and reason (pods). */
  exitCode?: number
  reason?: string
  /** The Build's phase (OpenShift Builds) or the pod's phase. */
  phase?: string
  /**
   * image-build failed while wait-for-done still waits for the digest file: in 4.14/4.15 the pod
   * then stays Running and the operator never marks the build failed.
   */
  hung?: boolean
  /** When the pod is gone: the build state its pool records (the operator removes a successful build's pod). */
  poolBuild?: {state: BuildState; image?: string}
}

export type LogEvent =
  | {type: 'awaiting'; pool: string; state: string}
  | {type: 'ended'; target: LogTarget; outcome: Outcome}
  | {type: 'reconnect'; target: LogTarget; why: string}
  | {type: 'retry'; target: LogTarget; message: string}
  | {type: 'skipped'; target: LogTarget; why: string}
  | {type: 'stale'; target: LogTarget}
  | {type: 'waiting'; target: LogTarget; why: string}

export interface TargetResult {
  target: LogTarget
  /** Lines written. */
  lines: number
  /** Times a dropped stream was resumed. */
  reconnects: number
  /** With follow: how the container or Build ended. */
  outcome?: Outcome
}

/** Receives log text as whole lines; a returned promise holds the stream back until it settles. */
export type Writer = LogWriter
export type EventSink = (event: LogEvent) => void

/** A writer that puts `prefix` before every line (text always comes as whole lines). */
export function prefixLines(prefix: string, write: Writer): Writer {
  return (text) => {
    let out = ''
    let start = 0
    while (start < text.length) {
      const nl = text.indexOf('\n', start)
      const end = nl < 0 ? text.length : nl + 1
      out += prefix + text.slice(start, end)
      start = end
    }

    return out ? write(out) : undefined
  }
}

/** A container's status, whether it is a container or an init container (4.20+ build pods). */
function status(pod: Pod, container: string | undefined): ContainerStatus | undefined {
  return (
    pod.status?.containerStatuses?.find((s) => s.name === container) ?? pod.status?.initContainerStatuses?.find((s) => s.name === container)
  )
}

/** Whether the container has a log to read, by the same rule the API server applies. */
export function containerStarted(pod: Pod, container: string | undefined): boolean {
  if (!pod.spec?.nodeName) return false
  const st = status(pod, container)
  return !(st?.state?.waiting && !st.state.running && !st.lastState?.terminated)
}

function waitingReason(pod: Pod, container: string | undefined): string {
  if (!pod.spec?.nodeName) return 'not scheduled to a node yet'
  return status(pod, container)?.state?.waiting?.reason ?? 'ContainerCreating'
}

/** How a pod's container ended, from the pod as last read (undefined: the pod is gone). */
export function podOutcome(pod: Pod | undefined, container: string | undefined): Outcome {
  if (!pod) return {gone: true}
  const st = status(pod, container)
  const term = st?.state?.terminated
  const outcome: Outcome = {phase: pod.status?.phase}
  if (term) {
    outcome.exitCode = term.exitCode
    outcome.reason = term.reason
  }

  if (container === IMAGE_BUILD_CONTAINER && term && term.exitCode !== 0 && status(pod, WAIT_FOR_DONE_CONTAINER)?.state?.running) {
    outcome.hung = true
  }

  return outcome
}

const BUILD_NOT_STARTED = new Set(['New', 'Pending'])

/**
 * The build state a pool records once its build pod is gone. The operator deletes the pod first and
 * marks the pool right after, so a short watch sees the final state; undefined if it does not come.
 */
async function settledPoolBuild(client: KubeClient, pool: string, signal?: AbortSignal): Promise<Outcome['poolBuild']> {
  try {
    return await waitFor<MachineConfigPool, NonNullable<Outcome['poolBuild']>>(
      client,
      R.machineConfigPools,
      pool,
      (p) => {
        if (!p) return {state: 'none'}
        const state = poolBuild(p).state
        return state === 'building' || state === 'pending' ? undefined : {image: poolImage(p), state}
      },
      {signal, timeoutMs: 5000},
    )
  } catch (error) {
    if (signal?.aborted) throw error
    return undefined
  }
}

async function streamPod(client: KubeClient, t: LogTarget, opts: StreamOptions, write: Writer, onEvent: EventSink): Promise<TargetResult> {
  const pod = t.pod ?? (await client.get<Pod>(R.pods, t.name, t.namespace, opts.signal))
  const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c) => c.name)
  if (t.container && !containers.includes(t.container)) {
    throw new MobError(
      `${t.role === 'builder' ? 'the machine-os-builder pod' : 'build pod'} ${t.name} has no container ${t.container}; its containers are: ${containers.join(', ')}`,
      {
        code: 'NoSuchContainer',
        exitCode: ExitCode.Usage,
        next: `pick one of them with -c, e.g. \`-c ${containers.at(-1)}\``,
      },
    )
  }

  if (!opts.follow && !containerStarted(pod, t.container)) {
    throw new MobError(
      `${t.container ?? 'the container'} of pod ${t.name} has not started yet (${waitingReason(pod, t.container)}), so it has no log yet`,
      {
        code: 'NotStarted',
        exitCode: ExitCode.NotFound,
        next: `add -f to wait for it and follow its log${t.pool ? `: \`oc mob logs ${t.pool} -f\`` : ''}`,
      },
    )
  }

  let waited = false
  // Following a build: a pod that cannot make progress (unschedulable, image pull, no digest) ends the
  // wait for its log with the cause; on 4.18+ a failed attempt that the Job retries is reported.
  const guard = opts.follow && t.role === 'build' && t.pool ? new StallGuard(client, opts.signal) : undefined
  const said = new Set<string>()
  const retried = (failedPod: string, message: string): void => {
    if (said.has(failedPod)) return
    said.add(failedPod)
    onEvent({message, target: t, type: 'retry'})
  }

  const job = t.machineOSBuild ? `build-${t.machineOSBuild}` : undefined
  guard?.watch(t.name, {
    digestConfigMap: `digest-${t.machineOSBuild ?? t.rendered ?? ''}`,
    generation: job ? 'machineosconfig' : 'configmap',
    job,
    onRetry: (stall) => retried(stall.pod, `${stall.message}; follow it with \`oc mob logs ${t.pool} -f\``),
    pods: job ? {labelSelector: `job-name=${job}`} : {fieldSelector: `metadata.name=${t.name}`},
    pool: t.pool!,
  })
  const signal = guard?.signal ?? opts.signal
  let res: Awaited<ReturnType<typeof streamLog>>
  try {
    res = await streamLog(
      client,
      {
        container: t.container,
        follow: opts.follow,
        name: t.name,
        namespace: t.namespace,
        onReconnect: (why) => onEvent({target: t, type: 'reconnect', why}),
        onWaiting(why) {
          if (waited) return
          waited = true
          onEvent({target: t, type: 'waiting', why: /waiting to start: (\S+)/.exec(why)?.[1] ?? why})
        },
        signal,
        tailLines: opts.tail,
        timestamps: opts.timestamps,
      },
      write,
    )
  } catch (error) {
    throw guard?.error ?? error
  } finally {
    await guard?.close()
  }

  if (guard?.error) throw guard.error
  const result: TargetResult = {lines: res.lines, reconnects: res.reconnects, target: t}
  if (opts.follow && !opts.signal?.aborted) {
    result.outcome = podOutcome(await client.find<Pod>(R.pods, t.name, t.namespace, opts.signal), t.container)
    if (job && t.pool && result.outcome.exitCode !== undefined && result.outcome.exitCode !== 0) {
      // The attempt followed failed: say whether the Job tries again.
      const pods = await client.list<Pod>(R.pods, {labelSelector: `job-name=${job}`, namespace: t.namespace, signal: opts.signal}).then(
        (l) => l.items,
        () => [] as Pod[],
      )
      const stall = recognizeStall({
        build: {digestConfigMap: `digest-${t.machineOSBuild}`, generation: 'machineosconfig', pods, pool: t.pool},
        now: Date.now(),
      })
      if (stall?.kind === 'retrying') retried(stall.pod, `${stall.message}; follow it with \`oc mob logs ${t.pool} -f\``)
    }

    if (result.outcome.gone && t.role === 'build' && t.pool) result.outcome.poolBuild = await settledPoolBuild(client, t.pool, opts.signal)

    onEvent({outcome: result.outcome, target: t, type: 'ended'})
  }

  return result
}

async function streamBuild(
  client: KubeClient,
  t: LogTarget,
  opts: StreamOptions,
  write: Writer,
  onEvent: EventSink,
): Promise<TargetResult> {
  if (opts.container) {
    throw new MobError(`pool ${t.pool} builds with an OpenShift Build (${t.name}), whose log has no containers to choose from`, {
      code: 'NoSuchContainer',
      exitCode: ExitCode.Usage,
      next: `leave out -c: \`oc mob logs ${t.pool}\``,
    })
  }

  const build = t.build ?? (await client.get<Build>(R.builds, t.name, t.namespace, opts.signal))
  const phase = build.status?.phase ?? 'New'
  if (BUILD_NOT_STARTED.has(phase)) {
    if (!opts.follow) {
      throw new MobError(`Build ${t.name} has not started yet (phase ${phase}), so it has no log yet`, {
        code: 'NotStarted',
        exitCode: ExitCode.NotFound,
        next: `add -f to wait for it and follow its log: \`oc mob logs ${t.pool} -f\``,
      })
    }

    onEvent({target: t, type: 'waiting', why: `phase ${phase}`})
    await waitFor<Build, true>(
      client,
      R.builds,
      t.name,
      (b) => {
        if (!b)
          throw new MobError(`Build ${t.name} was deleted before its log could be read`, {
            exitCode: ExitCode.NotFound,
            next: `\`oc mob status ${t.pool}\` shows where the pool's build stands`,
          })
        return BUILD_NOT_STARTED.has(b.status?.phase ?? 'New') ? undefined : true
      },
      {namespace: t.namespace, signal: opts.signal},
    )
  }

  const res = await streamLog(
    client,
    {
      follow: opts.follow,
      name: t.name,
      namespace: t.namespace,
      onReconnect: (why) => onEvent({target: t, type: 'reconnect', why}),
      resource: R.builds,
      signal: opts.signal,
      tailLines: opts.tail,
      timestamps: opts.timestamps,
    },
    write,
  )
  const result: TargetResult = {lines: res.lines, reconnects: res.reconnects, target: t}
  if (opts.follow && !opts.signal?.aborted) {
    const after = await client.find<Build>(R.builds, t.name, t.namespace, opts.signal)
    result.outcome = after ? {phase: after.status?.phase, reason: after.status?.reason} : {gone: true}
    onEvent({outcome: result.outcome, target: t, type: 'ended'})
  }

  return result
}

/** Write one target's log (following it with `follow`) and say how it ended. */
export async function streamTarget(
  client: KubeClient,
  t: LogTarget,
  opts: StreamOptions,
  write: Writer,
  onEvent: EventSink = () => {},
): Promise<TargetResult> {
  return t.kind === 'build' ? streamBuild(client, t, opts, write, onEvent) : streamPod(client, t, opts, write, onEvent)
}
