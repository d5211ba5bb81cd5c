/**
 * `oc mob build` of a pool opted in by a MachineOSConfig (OpenShift 4.18+). There the
 * machine-os-builder builds from the MachineOSConfig itself, so oc-mob does not build from the
 * workstation: it joins the MachineOSBuild of the pool's rendered config, or asks for a new one the way
 * the API provides (the `machineconfiguration.openshift.io/rebuild` annotation, which makes the
 * controller delete the current MachineOSBuild and create it again under the same name), and follows
 * it to its end: the digested image on success, the last lines of its Job pod's log on failure.
 */
import {ExitCode, MobError} from '../../errors.js'
import {isStatus, type KubeClient} from '../../kube/client.js'
import {R} from '../../kube/resources.js'
import type {MachineConfigPool, Pod} from '../../kube/types.js'
import {streamLog} from '../../kube/logs.js'
import {deadline} from '../../kube/wait.js'
import {informer, waitFor} from '../../kube/watch.js'
import {logTail} from '../../cluster/builder.js'
import {pickBuildObject} from '../../logs/target.js'
import {waitForJobPod} from './logs.js'
import {MCO_NAMESPACE} from '../../mco/constants.js'
import {
  CURRENT_MOSB_ANNOTATION,
  currentBuild,
  jobOf,
  type MachineOSBuild,
  type MachineOSConfig,
  mosbStatus,
  REBUILD_ANNOTATION,
} from '../../mco/machine-os.js'
import {renderedConfig} from '../../mco/pool-state.js'
import {
  type BuildOptions,
  type BuildPhase,
  type BuildResult,
  buildWaitEnded,
  logCutShort,
  logReadFailure,
  settleLog,
} from '../build-shapes.js'
import {recognizeStall, stallError} from '../../build/stall.js'
import {watchForStall} from '../../build/stall-watch.js'
import {recordMachineOSHistory} from './history.js'

const NS = MCO_NAMESPACE

/** The states after which a MachineOSBuild does not change any more. */
const ended = (b: MachineOSBuild): boolean => ['failed', 'interrupted', 'succeeded'].includes(mosbStatus(b).state)

/** With --follow: the image-build log of the Job's pod, once there is one, to its end. */
async function followJobLog(client: KubeClient, job: string, onLog: (text: string) => void, signal: AbortSignal): Promise<void> {
  const t = await waitForJobPod(client, {container: 'image-build', kind: 'pod', namespace: NS, role: 'build'}, job, signal)
  await streamLog(client, {container: t.container, follow: true, name: t.name, namespace: NS, signal}, onLog)
}

/** The end of the image-build log of the Job's newest pod (empty when there is none to read). */
async function lastJobLogLines(client: KubeClient, job: string, n: number): Promise<string[]> {
  const pods = await client.list<Pod>(R.pods, {labelSelector: `job-name=${job}`, namespace: NS}).catch(() => ({items: [] as Pod[]}))
  const pod = pickBuildObject(pods.items, undefined)
  return pod ? logTail(client, pod.metadata.name!, 'image-build', n) : []
}

export async function buildWithMachineOSConfig(
  client: KubeClient,
  pool: MachineConfigPool,
  config: MachineOSConfig,
  opts: BuildOptions = {},
): Promise<BuildResult> {
  const started = Date.now()
  const poolName = pool.metadata.name!
  const mosc = config.metadata.name!
  const emit = (phase: BuildPhase, message: string): void => opts.onEvent?.({message, phase})
  const rendered = renderedConfig(pool)
  if (!rendered) {
    throw new MobError(`pool ${poolName} has no rendered config yet (spec.configuration.name is empty)`, {
      exitCode: ExitCode.Invalid,
      next: `see \`oc describe mcp ${poolName}\` and the machine-config controller`,
    })
  }

  const builds = (await client.list<MachineOSBuild>(R.machineOSBuilds, {signal: opts.signal})).items
  const current = currentBuild(builds, config, rendered)
  const rebuild = `\`oc mob build ${poolName} --rebuild\``
  const result = (b: MachineOSBuild, outcome: BuildResult['outcome'], joined: boolean): BuildResult => {
    const image = b.status?.digestedImagePushSpec || undefined
    return {
      buildName: b.metadata.name!,
      digest: image?.split('@')[1],
      durationMs: Date.now() - started,
      image,
      joined,
      machineOSConfig: mosc,
      outcome,
      pool: poolName,
      renderedConfig: rendered,
      tag: b.spec?.renderedImagePushSpec ?? '',
    }
  }

  let requested = false
  let previousUid: string | undefined
  if (current && ended(current)) {
    const st = mosbStatus(current)
    if (!opts.rebuild) {
      if (st.state === 'succeeded') {
        await recordMachineOSHistory(client, poolName, {mosbs: builds, mosc: config}, opts.signal)
        return result(current, 'up-to-date', false)
      }

      throw new MobError(
        `MachineOSBuild ${current.metadata.name} of pool ${poolName} ${st.state === 'failed' ? 'failed' : 'was interrupted'}${st.message ? ` (${st.message})` : ''}; the machine-os-builder does not build it again by itself`,
        {
          code: 'BuildFailed',
          exitCode: ExitCode.Invalid,
          next: `see why with \`oc mob logs ${poolName}\`, then build again with ${rebuild}`,
        },
      )
    }

    if (opts.dryRun) return {...result(current, 'dry-run', false), objects: []}
    await requestRebuild(client, poolName, config, current, opts.signal)
    requested = true
    previousUid = current.metadata.uid
    emit(
      'creating',
      `asked the machine-os-builder to rebuild ${current.metadata.name} (annotation ${REBUILD_ANNOTATION} on MachineOSConfig ${mosc})`,
    )
  } else if (current) {
    if (opts.dryRun) return {...result(current, 'dry-run', true), objects: []}
    emit('joined', `joining MachineOSBuild ${current.metadata.name} (${mosbStatus(current).condition ?? 'new'})`)
  } else {
    if (opts.dryRun)
      return {
        buildName: '',
        durationMs: 0,
        joined: false,
        machineOSConfig: mosc,
        objects: [],
        outcome: 'dry-run',
        pool: poolName,
        renderedConfig: rendered,
        tag: '',
      }
    emit('pending', `waiting for the machine-os-builder to create the MachineOSBuild of ${rendered}`)
  }

  // Follow: the build of the rendered config (a new one after a rebuild request) until it ends.
  const ac = deadline(
    opts.signal,
    opts.timeoutMs,
    () => new MobError(`stopped waiting after ${Math.round(opts.timeoutMs! / 1000)}s`, {exitCode: ExitCode.Timeout}),
  )
  let last = ''
  let done: MachineOSBuild
  const logAc = new AbortController()
  const logDone =
    opts.follow && opts.onLog && current
      ? followJobLog(client, jobOf(current), opts.onLog, AbortSignal.any([logAc.signal, ac.signal])).catch((error: unknown) => {
          if (logAc.signal.aborted || ac.signal.aborted) return
          opts.onLogError?.(logReadFailure(error, poolName))
        })
      : undefined
  // The Job's pods (or, before there is a build, the machine-os-builder) stuck: the wait ends; a failed attempt is reported.
  const stallAc = new AbortController()
  const watches: Array<Promise<void>> = []
  let watching: {job?: string; ac: AbortController} | undefined
  const watchStalls = (b: MachineOSBuild | undefined): void => {
    const job = b ? jobOf(b) : undefined
    if (watching && (!job || job === watching.job)) return
    watching?.ac.abort()
    const own = {ac: new AbortController(), job}
    watching = own
    watches.push(
      watchForStall(client, {
        builder: true,
        digestConfigMap: `digest-${b?.metadata.name ?? mosc}`,
        generation: 'machineosconfig',
        graceMs: opts.stallGraceMs,
        job,
        machineOSConfig: mosc,
        onRetry: (st, lines) => opts.onRetry?.(st.message, lines),
        pods: job ? {labelSelector: `job-name=${job}`} : undefined,
        pool: poolName,
        signal: AbortSignal.any([own.ac.signal, stallAc.signal, ac.signal]),
      }).then((stall) => {
        if (stall && watching === own) ac.abort(stallError(stall))
      }),
    )
  }

  watchStalls(current && !requested ? current : undefined)
  try {
    const name = current?.metadata.name
    const pick = (b: MachineOSBuild | undefined): MachineOSBuild | undefined => {
      if (!b || b.metadata.deletionTimestamp || b.metadata.uid === previousUid) return undefined
      if (b.spec?.machineOSConfig?.name !== mosc || b.spec?.machineConfig?.name !== rendered) return undefined
      watchStalls(b)
      const st = mosbStatus(b)
      const phase = st.state === 'running' ? 'running' : 'pending'
      const text = `MachineOSBuild ${b.metadata.name}: ${st.condition ?? 'created'}`
      if (text !== last && !ended(b)) {
        last = text
        emit(phase, text)
      }

      return ended(b) ? b : undefined
    }

    done = name
      ? await waitFor<MachineOSBuild, MachineOSBuild>(client, R.machineOSBuilds, name, (b) => pick(b), {signal: ac.signal})
      : await waitForNewBuild(client, pick, ac.signal)
  } catch (error) {
    if (ac.signal.aborted) {
      throw buildWaitEnded(
        ac.signal,
        `the build of pool ${poolName}`,
        `re-attach with \`oc mob build ${poolName}\`, or follow it with \`oc mob logs ${poolName} -f\` and \`oc mob status ${poolName} --watch\``,
        (m) => emit('failed', m),
      )
    }

    throw error
  } finally {
    ac.dispose(true)
    stallAc.abort()
    await Promise.all(watches)
  }

  if (logDone) {
    // The stream ends with the container; never hang on it.
    if (await settleLog(logDone, logAc)) opts.onLogError?.(logCutShort(poolName))
  }

  const st = mosbStatus(done)
  if (st.state !== 'succeeded') {
    const job = jobOf(done)
    emit('failed', `MachineOSBuild ${done.metadata.name} ${st.state}`)
    const lines = opts.follow ? [] : await lastJobLogLines(client, job, opts.failureTailLines ?? 20)
    // The last attempt evicted or OOMKilled: say so, with what to do about it.
    const pods = await client.list<Pod>(R.pods, {labelSelector: `job-name=${job}`, namespace: NS}).then(
      (l) => l.items,
      () => [] as Pod[],
    )
    const stall = recognizeStall({
      build: {digestConfigMap: `digest-${done.metadata.name}`, generation: 'machineosconfig', machineOSConfig: mosc, pods, pool: poolName},
      now: Date.now(),
    })
    const cause = stall?.kind === 'failed' ? stallError(stall) : undefined
    throw new MobError(
      `MachineOSBuild ${done.metadata.name} of pool ${poolName} ${st.state === 'failed' ? 'failed' : 'was interrupted'}${st.message ? `: ${st.message}` : ''}${cause ? ` (${cause.message})` : ''}`,
      {
        code: 'BuildFailed',
        details: [...(cause?.details ?? []), ...(lines.length > 0 ? ['last lines of the build log:', ...lines.map((l) => `  ${l}`)] : [])],
        exitCode: ExitCode.Failed,
        next: cause
          ? `${cause.next} (Job ${job} and its objects are kept for inspection)`
          : `read the whole log with \`oc mob logs ${poolName}\` (Job ${job} and its objects are kept for inspection); once the cause is fixed, ${rebuild}`,
      },
    )
  }

  emit('succeeded', `built ${done.status?.digestedImagePushSpec}`)
  await recordBuilt(client, poolName, mosc, done.status?.digestedImagePushSpec, opts.signal)
  return result(done, 'succeeded', !requested && Boolean(current))
}

/**
 * The rebuild request: the annotation on the MachineOSConfig (and, when another build is named as
 * current, this one named instead: the controller rebuilds the build the MachineOSConfig names).
 *
 * The patch names the MachineOSConfig's resourceVersion. The builder takes the annotation away once
 * it has recreated the build, so when the answer is lost (or the object moved on) the annotation
 * alone cannot tell whether the request was made: the build can. A request still pending, or a build
 * deleted or recreated since it was read, is the request taken; otherwise it is sent again, against
 * the version now read, so a request is never made twice (two rebuilds).
 * Interrupted while it is under way, it may or may not have reached the cluster: the error says so,
 * and how to tell.
 */
async function requestRebuild(
  client: KubeClient,
  pool: string,
  config: MachineOSConfig,
  current: MachineOSBuild,
  signal: AbortSignal | undefined,
): Promise<void> {
  const mosc = config.metadata.name!
  const build = current.metadata.name!
  let read = config
  for (let attempt = 1; ; attempt++) {
    const named = read.metadata.annotations?.[CURRENT_MOSB_ANNOTATION]
    const patch = {
      metadata: {
        annotations: {[REBUILD_ANNOTATION]: '', ...(named === build ? {} : {[CURRENT_MOSB_ANNOTATION]: build})},
        resourceVersion: read.metadata.resourceVersion,
      },
    }
    try {
      await client.patch(R.machineOSConfigs, mosc, patch, {signal, type: 'merge'})
      return
    } catch (error) {
      if ((error as MobError).exitCode === ExitCode.Interrupted || signal?.aborted) throw rebuildInterrupted(pool, mosc, build, error)
      if ((error as MobError).code !== 'WriteUnconfirmed' && !isStatus(error, 409)) throw error
      const seen = await Promise.all([
        client.find<MachineOSConfig>(R.machineOSConfigs, mosc, undefined, signal),
        client.find<MachineOSBuild>(R.machineOSBuilds, build, undefined, signal),
      ]).catch((readError: unknown) => {
        if (signal?.aborted) throw rebuildInterrupted(pool, mosc, build, readError)
        throw error
      })
      if (!seen[0]) throw error
      if (rebuildTaken(seen[0], seen[1], current)) return
      if (attempt >= 3) throw error
      read = seen[0]
    }
  }
}

/** Whether the builder has the rebuild request: still pending, or the build already deleted or made anew. */
function rebuildTaken(config: MachineOSConfig, build: MachineOSBuild | undefined, previous: MachineOSBuild): boolean {
  if (Object.hasOwn(config.metadata.annotations ?? {}, REBUILD_ANNOTATION)) return true
  return !build || Boolean(build.metadata.deletionTimestamp) || build.metadata.uid !== previous.metadata.uid
}

function rebuildInterrupted(pool: string, mosc: string, build: string, cause: unknown): MobError {
  return new MobError(
    `interrupted while asking the machine-os-builder to rebuild MachineOSBuild ${build} of pool ${pool}: the annotation ${REBUILD_ANNOTATION} on MachineOSConfig ${mosc} was under way (it may have been made)`,
    {
      cause,
      code: 'Interrupted',
      exitCode: ExitCode.Interrupted,
      next: `\`oc mob status ${pool}\` shows whether a new build started (\`oc mob build ${pool}\` follows it); if none did, ask again with \`oc mob build ${pool} --rebuild\``,
    },
  )
}

/** The MachineOSBuild the controller is about to create (no name known yet): watch them all. */
async function waitForNewBuild(
  client: KubeClient,
  pick: (b: MachineOSBuild) => MachineOSBuild | undefined,
  signal: AbortSignal,
): Promise<MachineOSBuild> {
  for await (const ev of informer<MachineOSBuild>(client, R.machineOSBuilds, {signal})) {
    const objects = ev.type === 'SYNCED' ? ev.objects : ev.type === 'DELETED' ? [] : [ev.object]
    for (const b of objects) {
      const found = pick(b)
      if (found) return found
    }
  }

  throw signal.reason ?? new MobError('interrupted', {exitCode: ExitCode.Interrupted})
}

/**
 * Into oc-mob's image history (for rollback): the builds of the pool, once the MachineOSConfig reports
 * the new image as current (the builder writes that right after the build's status), so that the spec
 * that produced it is recorded with it. A builder slower than a few seconds only costs that record.
 */
async function recordBuilt(client: KubeClient, pool: string, mosc: string, image: string | undefined, signal?: AbortSignal): Promise<void> {
  try {
    await waitFor<MachineOSConfig, true>(
      client,
      R.machineOSConfigs,
      mosc,
      (c) => (!c || c.status?.currentImagePullSpec === image ? true : undefined),
      {signal, timeoutMs: 5000},
    )
  } catch (error) {
    if (signal?.aborted) throw error
  }

  await recordMachineOSHistory(client, pool, undefined, signal)
}
