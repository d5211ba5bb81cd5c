/**
 * One build of a pool, driven from the workstation as the BuildController would drive it: check the
 * inputs, create `mc-<R>`, `dockerfile-<R>` and the `build-<R>` pod, record BuildPending/Building/
 * BuildSuccess/BuildFailed on the pool, follow the pod with a watch, and on success record the
 * digested image and remove the ephemeral objects (on failure they stay, for inspection).
 *
 * A build that already exists for the rendered config (started by the cluster's machine-os-builder or
 * another oc-mob) is joined, never duplicated. Every write is idempotent, so the cluster's own
 * controller can do the same bookkeeping at the same time without harm.
 *
 * Deviation from the 4.14 operator, on purpose: oc-mob always builds with a pod (the
 * PodBuildController's way), also when on-cluster-build-config asks for the image-builder backend.
 * The pod gets both the base image pull secret and the push secret (the Build object path wires no
 * pull secret), and its digest comes back through `digest-<R>`. A Build object that the cluster
 * created is joined and followed like a pod.
 */
import {ExitCode, MobError} from '../../errors.js'
import type {KubeClient} from '../../kube/client.js'
import {R} from '../../kube/resources.js'
import type {Build, ConfigMap, KubeObject, MachineConfigPool, Pod, Secret} from '../../kube/types.js'
import {deadline} from '../../kube/wait.js'
import {informer, waitFor} from '../../kube/watch.js'
import {streamLog} from '../../kube/logs.js'
import {isStatus} from '../../kube/client.js'
import {
  BUILD_CONFIG_KEYS,
  BUILD_LABELS,
  buildNames,
  MCO_NAMESPACE,
  NEWEST_IMAGE_ANNOTATION,
  ON_CLUSTER_BUILD_CONFIG,
} from '../../mco/constants.js'
import {conditionTrue, poolBuild, poolImage} from '../../mco/pool-state.js'
import {canonicalDockerConfig, parseDockerSecret} from '../../registry/auth.js'
import {isDigest, withDigest} from '../../registry/reference.js'
import {gatherBuildInputs, type BuildInputs} from '../../build/inputs.js'
import {
  type BuildOptions,
  type BuildPhase,
  type BuildResult,
  buildWaitEnded,
  logCutShort,
  logReadFailure,
  settleLog,
} from '../build-shapes.js'
import {BUILD_CONTAINERS, buildPod, dockerfileConfigMap, machineConfigConfigMap, type BuildObjectInputs} from '../../build/objects.js'
import {clearBuildState, recordFailure, recordPending, recordRunning, recordSuccess} from './pool-record.js'
import {logTail} from '../../cluster/builder.js'
import {dockerfileHash, recordHistory} from '../../cluster/history.js'
import {recognizeStall, stallError} from '../../build/stall.js'
import {watchForStall} from '../../build/stall-watch.js'

const NS = MCO_NAMESPACE

export function hasBuildLabels(o: KubeObject, pool?: string, rendered?: string): boolean {
  const l = o.metadata.labels ?? {}
  return (
    Object.hasOwn(l, BUILD_LABELS.buildPod) &&
    Boolean(l[BUILD_LABELS.targetPool]) &&
    Boolean(l[BUILD_LABELS.desiredConfig]) &&
    (!pool || l[BUILD_LABELS.targetPool] === pool) &&
    (!rendered || l[BUILD_LABELS.desiredConfig] === rendered)
  )
}

/**
 * Whether the pool's image is already the one for its current rendered config: a successful build
 * recorded after the rendered MachineConfig was created.
 */
function upToDate(inputs: BuildInputs): string | undefined {
  const image = poolImage(inputs.pool)
  if (!image) return undefined
  const success = inputs.pool.status?.conditions?.find((c) => c.type === 'BuildSuccess' && c.status === 'True')
  if (!success) return undefined
  const built = Date.parse(success.lastTransitionTime ?? '')
  const rendered = Date.parse(inputs.machineConfig.metadata.creationTimestamp ?? '')
  if (Number.isNaN(built) || Number.isNaN(rendered) || built < rendered) return undefined
  return image
}

/**
 * The operator's canonicalisation: a secret whose docker config lacks a top-level "auths" (a
 * .dockercfg secret, or legacy .dockerconfigjson content) is copied into `<name>-canonical` as
 * .dockerconfigjson with {"auths": ...}, and on-cluster-build-config is pointed at the copy.
 */
async function canonicalise(client: KubeClient, secret: Secret, key: string, dryRun: boolean): Promise<{name: string; object?: Secret}> {
  const parsed = parseDockerSecret(secret)
  if (!parsed.legacyContent && parsed.type === 'kubernetes.io/dockerconfigjson') return {name: secret.metadata.name!}
  const name = `${secret.metadata.name}-canonical`
  const data = {'.dockerconfigjson': Buffer.from(canonicalDockerConfig(parsed.auths)).toString('base64')}
  const object: Secret = {apiVersion: 'v1', data, kind: 'Secret', metadata: {name, namespace: NS}, type: 'kubernetes.io/dockerconfigjson'}
  if (dryRun) return {name, object: {...object, data: {'.dockerconfigjson': '(redacted)'}}}
  const existing = await client.find<Secret>(R.secrets, name, NS)
  if (existing) {
    if (existing.data?.['.dockerconfigjson'] !== data['.dockerconfigjson'] || existing.type !== object.type) {
      await client.replace<Secret>(R.secrets, {...existing, data, type: object.type})
    }
  } else {
    await client.create<Secret>(R.secrets, object)
  }

  await client.update<ConfigMap>(
    R.configMaps,
    ON_CLUSTER_BUILD_CONFIG,
    (cm) => {
      if (cm.data?.[key] === name) return false
      cm.data = {...cm.data, [key]: name}
    },
    {namespace: NS},
  )
  return {name}
}

/** Create a ConfigMap, replacing a leftover of ours with the same name (same build, earlier attempt). */
async function createOrReplace(client: KubeClient, cm: ConfigMap): Promise<void> {
  try {
    await client.create<ConfigMap>(R.configMaps, cm)
  } catch (error) {
    if (!isStatus(error, 409)) throw error
    const existing = await client.get<ConfigMap>(R.configMaps, cm.metadata.name!, NS)
    if (!hasBuildLabels(existing)) {
      throw new MobError(`ConfigMap ${cm.metadata.name} already exists in ${NS} and is not a build object; oc-mob will not overwrite it`, {
        exitCode: ExitCode.Invalid,
        next: `inspect it with \`oc get configmap ${cm.metadata.name} -n ${NS} -o yaml\``,
      })
    }

    await client.replace<ConfigMap>(R.configMaps, {...cm, metadata: {...cm.metadata, resourceVersion: existing.metadata.resourceVersion}})
  }
}

/** Delete the ephemeral objects of one build (strictly by name, and only objects carrying its labels where they have them). */
export async function deleteBuildObjects(
  client: KubeClient,
  pool: string,
  rendered: string,
  opts: {keepPod?: boolean} = {},
): Promise<string[]> {
  const names = buildNames(rendered)
  const deleted: string[] = []
  const del = async (kind: typeof R.pods | typeof R.configMaps | typeof R.builds, name: string, checkLabels: boolean): Promise<void> => {
    const obj = await client.find<KubeObject>(kind, name, NS)
    if (!obj || (checkLabels && !hasBuildLabels(obj, pool, rendered))) return
    if (await client.delete(kind, name, {ignoreNotFound: true, namespace: NS})) deleted.push(`${kind.kind.toLowerCase()}/${name}`)
  }

  const podGone = opts.keepPod
    ? undefined
    : del(R.pods, names.build, true).then(async () => {
        // A pod that ran on a node terminates gracefully: wait until it is really gone, so that a new
        // build pod of the same name can be created.
        if (!deleted.includes(`pod/${names.build}`)) return
        await waitFor<Pod, true>(client, R.pods, names.build, (p) => (p ? undefined : true), {
          description: `pod ${names.build} to terminate`,
          namespace: NS,
          timeoutMs: 120_000,
        })
      })
  await Promise.all([
    podGone,
    del(R.configMaps, names.machineConfig, true),
    del(R.configMaps, names.dockerfile, true),
    // digest-<R> is created by the build pod's `oc create configmap`, without labels.
    del(R.configMaps, names.digest, false),
  ])
  return deleted
}

export async function runBuild(client: KubeClient, poolName: string, opts: BuildOptions = {}): Promise<BuildResult> {
  const started = Date.now()
  const emit = (phase: BuildPhase, message: string): void => opts.onEvent?.({message, phase})
  emit('checking', `checking the build inputs of pool ${poolName}`)
  const inputs = await gatherBuildInputs(client, poolName, {requireLayered: true})
  const names = buildNames(inputs.rendered)
  const base = {buildName: names.build, pool: poolName, renderedConfig: inputs.rendered, tag: inputs.tag}

  const [pod, build] = await Promise.all([
    client.find<Pod>(R.pods, names.build, NS),
    client.find<Build>(R.builds, names.build, NS).catch(() => undefined),
  ])
  if (pod && !hasBuildLabels(pod)) {
    throw new MobError(`a pod named ${names.build} exists in ${NS} but does not carry the build labels; oc-mob will not touch it`, {
      exitCode: ExitCode.Invalid,
      next: `inspect it: \`oc get pod ${names.build} -n ${NS} -o yaml\``,
    })
  }

  const existing = pod ?? (build && hasBuildLabels(build) ? build : undefined)
  if (existing) {
    const finished = isFinished(existing)
    if (!opts.rebuild || !finished) {
      if (opts.dryRun) return {...base, durationMs: Date.now() - started, joined: true, objects: [], outcome: 'dry-run'}
      emit('joined', `joining the existing build ${names.build} (${describePhase(existing)})`)
      return follow(client, inputs, existing.kind === 'Build' || !pod ? 'build' : 'pod', opts, true, started)
    }
  }

  const state = poolBuild(inputs.pool)
  if (!opts.rebuild) {
    const image = upToDate(inputs)
    if (image) return {...base, digest: image.split('@')[1], durationMs: Date.now() - started, image, joined: false, outcome: 'up-to-date'}
    if (state.state === 'failed') {
      throw new MobError(`pool ${poolName} has a failed build (BuildFailed); the cluster will not build it again until that is cleared`, {
        code: 'BuildFailed',
        exitCode: ExitCode.Invalid,
        next: `see why with \`oc mob logs ${poolName}\`, then build again with \`oc mob build ${poolName} --rebuild\` (or clean up with \`oc mob cleanup ${poolName}\`)`,
      })
    }

    if (state.state === 'pending' || state.state === 'building') {
      throw new MobError(
        `pool ${poolName} says a build is ${state.state === 'pending' ? 'pending' : 'running'}, but no build object ${names.build} exists (a build of an earlier rendered config, or an interrupted one)`,
        {
          exitCode: ExitCode.Invalid,
          next: `start a fresh build with \`oc mob build ${poolName} --rebuild\``,
        },
      )
    }
  }

  const pull = await canonicalise(client, inputs.pullSecret, BUILD_CONFIG_KEYS.baseImagePullSecretName, Boolean(opts.dryRun))
  const push = await canonicalise(client, inputs.pushSecret, BUILD_CONFIG_KEYS.finalImagePushSecretName, Boolean(opts.dryRun))
  const objInputs: BuildObjectInputs = {
    baseImage: inputs.osImage.baseImage,
    dockerfile: inputs.dockerfile,
    encodedMachineConfig: inputs.encodedMachineConfig,
    pool: poolName,
    pullSecret: pull.name,
    pushSecret: push.name,
    rendered: inputs.rendered,
    tag: inputs.tag,
  }
  const objects: KubeObject[] = [machineConfigConfigMap(objInputs), dockerfileConfigMap(objInputs), buildPod(objInputs)]
  if (opts.dryRun) {
    const secrets = [pull.object, push.object].filter((s): s is Secret => Boolean(s))
    return {...base, durationMs: Date.now() - started, joined: false, objects: [...secrets, ...objects], outcome: 'dry-run'}
  }

  // The writes come in an order where stopping after any of them (Ctrl-C, a lost connection) leaves a
  // true picture: the pool keeps its last build's record until the new pod exists, the ConfigMaps
  // before the pod are ours to replace on the next run (and `cleanup` lists them), and the pod is
  // recorded on the pool as soon as it exists.
  const done: string[] = []
  let doing = ''
  let created: Pod
  try {
    if (opts.rebuild) {
      // Leftovers of an earlier attempt for this rendered config go first; the pool's record stays.
      doing = `delete the leftovers of build ${names.build}`
      const removed = await deleteBuildObjects(client, poolName, inputs.rendered)
      if (removed.length > 0) done.push(`deleted ${removed.join(', ')}`)
    }

    emit('creating', `creating ${names.machineConfig}, ${names.dockerfile} and pod ${names.build} in ${NS}`)
    doing = `create configmap/${names.machineConfig}`
    await createOrReplace(client, objects[0] as ConfigMap)
    done.push(`created configmap/${names.machineConfig}`)
    doing = `create configmap/${names.dockerfile}`
    await createOrReplace(client, objects[1] as ConfigMap)
    done.push(`created configmap/${names.dockerfile}`)
    doing = `create pod/${names.build}`
    try {
      created = await client.create<Pod>(R.pods, objects[2] as Pod)
    } catch (error) {
      if (!isStatus(error, 409)) throw error
      // Someone (the cluster's builder) created it between our check and now: join it.
      emit('joined', `the build pod ${names.build} appeared meanwhile; joining it`)
      return follow(client, inputs, 'pod', opts, true, started)
    }

    done.push(`created pod/${names.build}`)
    // Only now is the earlier build's record replaced: the stuck conditions cleared, the new pod pending.
    doing = `record build ${names.build} on pool ${poolName}`
    if (opts.rebuild) await clearBuildState(client, poolName, names.build)
    await recordPending(client, poolName, {kind: 'Pod', name: names.build, namespace: NS, uid: created.metadata.uid})
  } catch (error) {
    if ((error as MobError).exitCode !== ExitCode.Interrupted && !opts.signal?.aborted) throw error
    const podMade = done.includes(`created pod/${names.build}`) || doing === `create pod/${names.build}`
    throw new MobError(
      `interrupted while starting build ${names.build} of pool ${poolName}: ${done.length > 0 ? done.join(', ') : 'nothing was changed'}${doing ? `; ${doing} was under way (it may have been done)` : ''}`,
      {
        code: 'Interrupted',
        exitCode: ExitCode.Interrupted,
        next: podMade
          ? `\`oc mob build ${poolName}\` joins the build pod if it exists and records it on the pool; \`oc mob cleanup ${poolName}\` removes what was left`
          : `build again with \`oc mob build ${poolName}${opts.rebuild ? ' --rebuild' : ''}\` (what was created is reused), or remove it with \`oc mob cleanup ${poolName}\``,
      },
    )
  }

  emit('pending', `build pod ${names.build} created; waiting for it to start`)
  return follow(client, inputs, 'pod', opts, false, started)
}

function isFinished(o: Pod | Build): boolean {
  const phase = o.status?.phase
  if (o.kind === 'Build') return phase === 'Complete' || phase === 'Failed' || phase === 'Error' || phase === 'Cancelled'
  return phase === 'Succeeded' || phase === 'Failed' || Boolean(hungFailure(o as Pod))
}

function describePhase(o: Pod | Build): string {
  return `phase ${o.status?.phase ?? 'Pending'}`
}

/** The 4.14 hang: image-build terminated with an error while wait-for-done keeps the pod Running. */
export function hungFailure(pod: Pod): string | undefined {
  const st = pod.status?.containerStatuses?.find((c) => c.name === BUILD_CONTAINERS.imageBuild)
  const t = st?.state?.terminated
  if (!t || t.exitCode === 0) return undefined
  return `container ${BUILD_CONTAINERS.imageBuild} exited with code ${t.exitCode}${t.reason ? ` (${t.reason})` : ''}`
}

interface Outcome {
  ok: boolean
  reason?: string
  /** The pod stayed Running after the failure (4.14 wait-for-done defect). */
  hung?: boolean
}

async function follow(
  client: KubeClient,
  inputs: BuildInputs,
  kind: 'build' | 'pod',
  opts: BuildOptions,
  joined: boolean,
  started: number,
): Promise<BuildResult> {
  const names = buildNames(inputs.rendered)
  const emit = (phase: BuildPhase, message: string): void => opts.onEvent?.({message, phase})
  const ac = deadline(
    opts.signal,
    opts.timeoutMs,
    () => new MobError(`stopped waiting after ${Math.round(opts.timeoutMs! / 1000)}s`, {exitCode: ExitCode.Timeout}),
  )

  const logAc = new AbortController()
  let lastLogFailure: string | undefined
  let logWritten = false
  const logDone =
    opts.follow && opts.onLog
      ? streamLog(
          client,
          {
            container: kind === 'pod' ? BUILD_CONTAINERS.imageBuild : undefined,
            follow: true,
            name: names.build,
            namespace: NS,
            onReconnect: (why) => {
              // The last failed request, to say why the log is missing if the build ends first.
              lastLogFailure = /^log request failed \((.*)\); retrying$/.exec(why)?.[1] ?? lastLogFailure
            },
            resource: kind === 'pod' ? R.pods : R.builds,
            signal: logAc.signal,
          },
          (text) => {
            logWritten = true
            return opts.onLog!(text)
          },
        ).catch((error: unknown) => {
          if (logAc.signal.aborted) return
          opts.onLogError?.(logReadFailure(error, inputs.poolName))
        })
      : undefined

  // A build pod that cannot make progress (unschedulable, image pull, no digest) ends the wait.
  const stallAc = new AbortController()
  const stalled =
    kind === 'pod'
      ? watchForStall(client, {
          digestConfigMap: names.digest,
          generation: 'configmap',
          graceMs: opts.stallGraceMs,
          pods: {fieldSelector: `metadata.name=${names.build}`},
          pool: inputs.poolName,
          signal: AbortSignal.any([stallAc.signal, ac.signal]),
        }).then((stall) => {
          if (stall) ac.abort(stallError(stall))
        })
      : undefined

  let outcome: Outcome | undefined
  try {
    outcome = kind === 'pod' ? await watchPod(client, inputs, ac.signal, emit) : await watchBuild(client, inputs, ac.signal, emit)
  } catch (error) {
    logAc.abort()
    if (ac.signal.aborted) {
      throw buildWaitEnded(
        ac.signal,
        `build ${names.build} of pool ${inputs.poolName}`,
        `re-attach with \`oc mob build ${inputs.poolName}\` (it joins the running build and records its result), or follow it with \`oc mob logs ${inputs.poolName} -f\``,
        (m) => emit('failed', m),
      )
    }

    throw error
  } finally {
    ac.dispose(true)
    stallAc.abort()
    await stalled
  }

  if (logDone) {
    // Let the log stream end by itself (the container has ended), but never hang on it.
    if (outcome.hung) logAc.abort()
    const cut = await settleLog(logDone, logAc)
    // Never a silent gap: a log that did not reach its end is said to be incomplete.
    if (cut) {
      opts.onLogError?.(
        !logWritten && lastLogFailure ? logReadFailure(new Error(lastLogFailure), inputs.poolName) : logCutShort(inputs.poolName),
      )
    }
  }

  if (!outcome.ok) {
    await recordFailure(client, inputs.poolName)
    emit('failed', `build ${names.build} failed: ${outcome.reason}`)
    const details = opts.follow
      ? []
      : await logTail(client, names.build, BUILD_CONTAINERS.imageBuild, opts.failureTailLines ?? 20, false, kind === 'build')
    // Evicted or OOMKilled: the cause and what to do about it, rather than a bare exit code.
    const pod = kind === 'pod' ? await client.find<Pod>(R.pods, names.build, NS).catch(() => undefined) : undefined
    const stall = pod
      ? recognizeStall({
          build: {digestConfigMap: names.digest, generation: 'configmap', pods: [pod], pool: inputs.poolName},
          now: Date.now(),
        })
      : undefined
    const cause = stall?.kind === 'failed' ? stallError(stall) : undefined
    throw new MobError(
      `build ${names.build} of pool ${inputs.poolName} failed: ${cause ? cause.message : outcome.reason}${outcome.hung ? ' (its pod stays Running: the 4.14 wait-for-done container waits forever after a failed build)' : ''}`,
      {
        code: 'BuildFailed',
        details: [
          ...(cause?.details ?? []),
          ...(details.length > 0 ? ['last lines of the build log:', ...details.map((l) => `  ${l}`)] : []),
        ],
        exitCode: ExitCode.Failed,
        next: cause
          ? `${cause.next}; the build objects are kept for inspection (\`oc mob cleanup ${inputs.poolName}\` removes them)`
          : `read the whole log with \`oc mob logs ${inputs.poolName}\`; the build objects are kept for inspection — remove them with \`oc mob cleanup ${inputs.poolName}\`, or build again with \`oc mob build ${inputs.poolName} --rebuild\``,
      },
    )
  }

  // Said as soon as the image is known; its ephemeral objects go and it is recorded on the pool and in
  // the history at the same time, before the build returns.
  const image = await successImage(client, inputs, kind)
  emit('succeeded', `built ${image}`)
  await Promise.all([
    finishSuccess(client, inputs, kind, image),
    recordHistory(client, inputs.poolName, {
      customDockerfileHash: dockerfileHash(inputs.customDockerfile),
      image,
      renderedConfig: inputs.rendered,
      source: joined ? 'joined' : 'built',
      time: new Date().toISOString(),
    }),
  ])
  return {
    buildName: names.build,
    digest: image.split('@')[1],
    durationMs: Date.now() - started,
    image,
    joined,
    outcome: 'succeeded',
    pool: inputs.poolName,
    renderedConfig: inputs.rendered,
    tag: inputs.tag,
  }
}

/**
 * Follow the build pod or Build by watch until it ends: `judge` reads each version of it (an outcome,
 * 'running', or undefined while it is pending); an object that goes away was finished by the cluster.
 */
async function watchObject<T extends Build | Pod>(
  client: KubeClient,
  inputs: BuildInputs,
  r: typeof R.builds | typeof R.pods,
  signal: AbortSignal,
  judge: (o: T) => Outcome | 'running' | undefined,
  onRunning: () => Promise<void>,
): Promise<Outcome> {
  const names = buildNames(inputs.rendered)
  let running = false
  let seen = false
  for await (const ev of informer<T>(client, r, {fieldSelector: `metadata.name=${names.build}`, namespace: NS, signal})) {
    let o: T | undefined
    if (ev.type === 'SYNCED') o = ev.objects[0]
    else if (ev.type === 'DELETED') o = undefined
    else if (!seen) continue
    else o = ev.object
    seen = true
    if (!o) return completedByCluster(client, inputs, signal)
    const verdict = judge(o)
    if (verdict === 'running') {
      if (!running) await onRunning()
      running = true
    } else if (verdict) {
      return verdict
    }
  }

  throw signal.reason ?? new MobError('the watch of the build ended early', {exitCode: ExitCode.Unreachable})
}

function watchPod(
  client: KubeClient,
  inputs: BuildInputs,
  signal: AbortSignal,
  emit: (p: BuildPhase, m: string) => void,
): Promise<Outcome> {
  const judge = (pod: Pod): Outcome | 'running' | undefined => {
    const phase = pod.status?.phase
    const hung = hungFailure(pod)
    if (hung) return {hung: phase === 'Running', ok: false, reason: hung}
    if (phase === 'Failed') return {ok: false, reason: pod.status?.message || pod.status?.reason || 'the build pod failed'}
    if (phase === 'Succeeded') return {ok: true}
    return phase === 'Running' ? 'running' : undefined
  }

  return watchObject<Pod>(client, inputs, R.pods, signal, judge, async () => {
    await recordRunning(client, inputs.poolName)
    emit('running', `building ${inputs.tag}`)
  })
}

function watchBuild(
  client: KubeClient,
  inputs: BuildInputs,
  signal: AbortSignal,
  emit: (p: BuildPhase, m: string) => void,
): Promise<Outcome> {
  const judge = (b: Build): Outcome | 'running' | undefined => {
    const phase = b.status?.phase
    if (phase === 'Complete') return {ok: true}
    if (phase === 'Failed' || phase === 'Error' || phase === 'Cancelled')
      return {ok: false, reason: `the Build is ${phase}${b.status?.message ? `: ${b.status.message}` : ''}`}
    return phase === 'Running' ? 'running' : undefined
  }

  return watchObject<Build>(client, inputs, R.builds, signal, judge, async () => emit('running', `building ${inputs.tag}`))
}

/** The build object went away: the cluster's controller finished the build (or someone deleted it). */
async function completedByCluster(client: KubeClient, inputs: BuildInputs, signal: AbortSignal): Promise<Outcome> {
  const pool = await client.get<MachineConfigPool>(R.machineConfigPools, inputs.poolName)
  if (conditionTrue(pool, 'BuildSuccess') && poolImage(pool)) return {ok: true}
  if (conditionTrue(pool, 'BuildFailed')) return {ok: false, reason: 'the cluster recorded the build as failed'}
  // Give the cluster's controller a moment to record its verdict after removing the pod.
  try {
    return await waitFor<MachineConfigPool, Outcome>(
      client,
      R.machineConfigPools,
      inputs.poolName,
      (p) => {
        if (p && conditionTrue(p, 'BuildSuccess') && poolImage(p)) return {ok: true}
        if (p && conditionTrue(p, 'BuildFailed')) return {ok: false, reason: 'the cluster recorded the build as failed'}
        return undefined
      },
      {signal, timeoutMs: 15_000},
    )
  } catch (error) {
    if (signal.aborted) throw error
    return {ok: false, reason: `the build object ${buildNames(inputs.rendered).build} was deleted before the build finished`}
  }
}

/** The built image (digested): from the digest ConfigMap or the Build, else from the pool if the operator was quicker. */
async function successImage(client: KubeClient, inputs: BuildInputs, kind: 'build' | 'pod'): Promise<string> {
  const names = buildNames(inputs.rendered)
  let image: string | undefined
  if (kind === 'pod') {
    const cm = await client.find<ConfigMap>(R.configMaps, names.digest, NS)
    const digest = cm?.data?.digest?.trim()
    if (digest && isDigest(digest)) image = withDigest(inputs.config.finalImagePullspec, digest)
  } else {
    const b = await client.find<Build>(R.builds, names.build, NS)
    const digest = b?.status?.output?.to?.imageDigest
    const ref = b?.status?.outputDockerImageReference
    if (digest && ref) image = withDigest(ref, digest)
  }

  if (!image) {
    // The cluster's controller already finished: it removed the digest and recorded the image.
    const pool = await client.get<MachineConfigPool>(R.machineConfigPools, inputs.poolName)
    image = pool.metadata.annotations?.[NEWEST_IMAGE_ANNOTATION]
    if (!image) {
      throw new MobError(`build ${names.build} succeeded but its digest (ConfigMap ${names.digest}) is missing`, {
        exitCode: ExitCode.Failed,
        next: `check \`oc get configmap ${names.digest} -n ${NS}\` and the wait-for-done log: \`oc mob logs ${inputs.poolName} -c wait-for-done\``,
      })
    }
  }

  return image
}

/** The ephemeral objects removed and the image recorded on the pool, side by side. */
async function finishSuccess(client: KubeClient, inputs: BuildInputs, kind: 'build' | 'pod', image: string): Promise<void> {
  const names = buildNames(inputs.rendered)
  const cleanup = async (): Promise<void> => {
    if (kind === 'pod') await deleteBuildObjects(client, inputs.poolName, inputs.rendered)
    else {
      await deleteBuildObjects(client, inputs.poolName, inputs.rendered, {keepPod: true})
      await client.delete(R.builds, names.build, {ignoreNotFound: true, namespace: NS})
    }
  }

  await Promise.all([cleanup(), recordSuccess(client, inputs.poolName, names.build, image)])
}
