/**
 * Recognising a build that makes no progress, from what the cluster shows: one pure function over the
 * build's pods (4.14/4.15: `build-<R>`; 4.18+: the pods of the Job `build-<mosb>`), whether its digest
 * ConfigMap exists, the machine-os-builder's pods, and the time. Followers (`build`, `enable --wait`,
 * `logs -f`) and `status` all judge with it, so they say the same thing about the same state.
 *
 * What counts (the cluster itself never gives up on any of these: the build pod and the Job have no
 * deadline, reference §12.2):
 * - a pod Pending because no node fits it (PodScheduled=False, reason Unschedulable);
 * - a container that cannot pull its image (ErrImagePull, ImagePullBackOff, InvalidImageName);
 * - a pod evicted by its node (phase Failed, reason Evicted), a container killed for memory (OOMKilled);
 * - image-build finished, but the digest ConfigMap does not appear and the container that should make
 *   it keeps running (4.14's wait-for-done waits for ever): the one case that needs a grace period;
 * - 4.18+: a Job attempt that failed while the Job retries (up to backoffLimit + 1 pods);
 * - the machine-os-builder pod itself unschedulable or unable to pull its image (no build ever starts).
 */
import {ExitCode, MobError} from '../errors.js'
import type {ContainerStatus, Pod} from '../kube/types.js'
import {MCO_NAMESPACE} from '../mco/constants.js'
import {REBUILD_ANNOTATION} from '../mco/machine-os.js'
import {compareText} from '../order.js'

/** How long a missing digest ConfigMap is tolerated after image-build finished. */
export const DEFAULT_STALL_GRACE_MS = 60_000
/** The MCO's build Job has backoffLimit 3: up to 4 pods (reference §8.3). */
export const JOB_ATTEMPTS = 4

export type StallCause = 'DigestMissing' | 'Evicted' | 'ImagePull' | 'OOMKilled' | 'Retrying' | 'Unschedulable'

export interface Stall {
  cause: StallCause
  /**
   * failed: the build (or, 4.18+, its last attempt) has ended for this cause; stuck: it stays as it is
   * and makes no progress until someone acts; retrying: an attempt failed and the Job tries again.
   */
  kind: 'failed' | 'retrying' | 'stuck'
  /** The machine-os-builder (true) or the build. */
  builder: boolean
  /** The pod concerned (4.18+ retrying: the attempt that failed). */
  pod: string
  /** What is wrong, one sentence. */
  message: string
  /** The cluster's own words (the scheduler's or the kubelet's message), when it has some. */
  detail: string | null
  /** What to do about it. */
  next: string
  /** 4.18+: which attempt of the Job runs (or ran last), out of how many. */
  attempt?: {number: number; of: number}
}

export interface BuildObservation {
  /** configmap: 4.14/4.15 (one pod build-<R>); machineosconfig: 4.18+ (the pods of the Job build-<mosb>). */
  generation: 'configmap' | 'machineosconfig'
  pool: string
  pods: Pod[]
  /** digest-<R> or digest-<mosb>. */
  digestConfigMap: string
  /** Whether the digest ConfigMap exists; undefined when it was not looked at. */
  digestPresent?: boolean
  /** 4.18+: the MachineOSConfig (for the next step). */
  machineOSConfig?: string
  /** 4.18+: how many pods the Job may run (backoffLimit + 1); default JOB_ATTEMPTS. */
  attempts?: number
}

export interface Observation {
  build?: BuildObservation
  /** The machine-os-builder's pods: judged only when there is no build to judge, or it shows nothing. */
  builderPods?: Pod[]
  /** Milliseconds since the epoch. */
  now: number
  /** Grace for the missing digest (default DEFAULT_STALL_GRACE_MS). */
  graceMs?: number
}

const NS = MCO_NAMESPACE
const IMAGE_BUILD = 'image-build'
const PULL_FAILURES = new Set(['ErrImageNeverPull', 'ErrImagePull', 'ImagePullBackOff', 'InvalidImageName'])

const live = (pods: Pod[]): Pod[] => pods.filter((p) => !p.metadata.deletionTimestamp)
const statuses = (pod: Pod): ContainerStatus[] => [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]
const created = (p: Pod): string => p.metadata.creationTimestamp ?? ''
const oldestFirst = (pods: Pod[]): Pod[] =>
  [...pods].sort((a, b) => compareText(created(a), created(b)) || compareText(a.metadata.name ?? '', b.metadata.name ?? ''))

/** Why the scheduler leaves the pod unbound, when it says so. */
function unschedulable(pod: Pod): string | undefined {
  if (pod.spec?.nodeName || (pod.status?.phase && pod.status.phase !== 'Pending')) return undefined
  const c = pod.status?.conditions?.find((x) => x.type === 'PodScheduled')
  if (c?.status !== 'False' || c.reason !== 'Unschedulable') return undefined
  return c.message || 'no node fits the pod'
}

/** The first container that cannot get its image. */
function pullFailure(pod: Pod): {container: string; image: string; reason: string; message: string | null} | undefined {
  if (pod.status?.phase && pod.status.phase !== 'Pending' && pod.status.phase !== 'Running') return undefined
  for (const st of statuses(pod)) {
    const w = st.state?.waiting
    if (!w?.reason || !PULL_FAILURES.has(w.reason)) continue
    const spec = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((c) => c.name === st.name)
    return {container: st.name, image: spec?.image || st.image || '(unknown image)', message: w.message || null, reason: w.reason}
  }

  return undefined
}

/** The secrets the node pulls the pod's images with. */
function pullSecrets(pod: Pod): string {
  const own = ((pod.spec as {imagePullSecrets?: Array<{name?: string}>} | undefined)?.imagePullSecrets ?? [])
    .map((s) => s.name)
    .filter(Boolean)
  const global = "the cluster's global pull secret (openshift-config/pull-secret)"
  return own.length > 0 ? `the pod's image pull secret${own.length === 1 ? '' : 's'} ${own.join(', ')} and ${global}` : global
}

function evicted(pod: Pod): string | undefined {
  if (pod.status?.phase !== 'Failed' || pod.status.reason !== 'Evicted') return undefined
  return pod.status.message || 'the node evicted the pod'
}

function oomKilled(pod: Pod): string | undefined {
  return statuses(pod).find((s) => s.state?.terminated?.reason === 'OOMKilled')?.name
}

/** image-build ended well, the digest container still runs: since when (ms), else undefined. */
function digestWaitSince(pod: Pod): number | undefined {
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return undefined
  const all = statuses(pod)
  const build = all.find((s) => s.name === IMAGE_BUILD)?.state?.terminated
  if (build?.exitCode !== 0) return undefined
  // wait-for-done (4.14-4.19) or create-digest-configmap (4.20+): the container that publishes the digest.
  const waiting = all.some((s) => s.name !== IMAGE_BUILD && !s.state?.terminated)
  if (!waiting) return undefined
  const t = Date.parse(build.finishedAt ?? '')
  return Number.isNaN(t) ? undefined : t
}

function describeFailedPod(pod: Pod): string {
  const ev = evicted(pod)
  if (ev) return `was evicted: ${ev}`
  const oom = oomKilled(pod)
  if (oom) return `ran out of memory: container ${oom} was OOMKilled`
  const term = statuses(pod).find((s) => s.state?.terminated && s.state.terminated.exitCode !== 0)?.state?.terminated
  if (term)
    return `failed: container ${statuses(pod).find((s) => s.state?.terminated === term)?.name} exited with code ${term.exitCode}${term.reason ? ` (${term.reason})` : ''}`
  return `failed${pod.status?.message ? `: ${pod.status.message}` : ''}`
}

interface Steps {
  /** Start the build over (after the cause is fixed). */
  again: string
  /** Remove the stuck build. */
  remove: string
  /** Re-attach. */
  attach: string
}

function steps(b: BuildObservation): Steps {
  if (b.generation === 'machineosconfig') {
    const mosc = b.machineOSConfig ?? b.pool
    return {
      again: `\`oc mob build ${b.pool} --rebuild\``,
      attach: `\`oc mob build ${b.pool}\``,
      remove: `\`oc annotate machineosconfig/${mosc} ${REBUILD_ANNOTATION}=\` (the machine-os-builder replaces the build)`,
    }
  }

  return {
    again: `\`oc mob build ${b.pool} --rebuild\``,
    attach: `\`oc mob build ${b.pool}\``,
    remove: `\`oc mob cleanup ${b.pool} --force\``,
  }
}

/** A stuck pod (unschedulable, image pull, missing digest), the failures of one pod (evicted, OOMKilled). */
function podStall(pod: Pod, b: BuildObservation, now: number, graceMs: number): Stall | undefined {
  const name = pod.metadata.name!
  const s = steps(b)
  const base = {builder: false, pod: name}
  const ev = evicted(pod)
  if (ev) {
    return {
      ...base,
      cause: 'Evicted',
      detail: ev,
      kind: 'failed',
      message: `build pod ${name} was evicted by its node`,
      next: `make room on the nodes (the message says which resource ran short; the build pod requests none), then build again with ${s.again}`,
    }
  }

  const oom = oomKilled(pod)
  if (oom) {
    return {
      ...base,
      cause: 'OOMKilled',
      detail: null,
      kind: 'failed',
      message: `container ${oom} of build pod ${name} ran out of memory (OOMKilled, exit code 137)`,
      next: `give the build more memory (a node with more free memory; check \`oc get limitrange -n ${NS}\`), then build again with ${s.again}`,
    }
  }

  const why = unschedulable(pod)
  if (why) {
    return {
      ...base,
      cause: 'Unschedulable',
      detail: why,
      kind: 'stuck',
      message: `build pod ${name} cannot be scheduled: no node fits it`,
      next: `check the nodes' taints and readiness (\`oc get nodes\`, \`oc describe pod ${name} -n ${NS}\`): the build starts by itself once a node fits (re-attach with ${s.attach}), or remove it with ${s.remove}`,
    }
  }

  const pull = pullFailure(pod)
  if (pull) {
    return {
      ...base,
      cause: 'ImagePull',
      detail: pull.message,
      kind: 'stuck',
      message: `container ${pull.container} of build pod ${name} cannot pull its image ${pull.image} (${pull.reason})`,
      next: `check that ${pull.image} exists and that ${pullSecrets(pod)} can read it; the kubelet keeps retrying (re-attach with ${s.attach}), or remove the build with ${s.remove}`,
    }
  }

  const since = digestWaitSince(pod)
  if (since !== undefined && b.digestPresent !== true && now - since >= graceMs) {
    const secs = Math.round((now - since) / 1000)
    const what =
      b.digestPresent === false
        ? `ConfigMap ${b.digestConfigMap} has not appeared`
        : `the container that creates ConfigMap ${b.digestConfigMap} still runs`
    return {
      ...base,
      cause: 'DigestMissing',
      detail: null,
      kind: 'stuck',
      message: `container image-build of build pod ${name} finished ${secs}s ago, but ${what}: the build waits for ever`,
      next: `read why with \`oc mob logs ${b.pool} -c ${statuses(pod).find((x) => x.name !== IMAGE_BUILD && !x.state?.terminated)?.name ?? 'wait-for-done'}\` (the image was pushed, but its digest was never recorded); remove the build with ${s.remove}, then ${s.again}`,
    }
  }

  return undefined
}

function buildStall(b: BuildObservation, now: number, graceMs: number): Stall | undefined {
  const pods = oldestFirst(live(b.pods))
  if (b.generation === 'configmap') {
    const pod = pods.at(-1)
    return pod ? podStall(pod, b, now, graceMs) : undefined
  }

  // 4.18+: each Job pod is an attempt; a failed one is followed by the next until backoffLimit + 1 failed.
  const of = b.attempts ?? JOB_ATTEMPTS
  if (pods.some((p) => p.status?.phase === 'Succeeded')) return undefined
  const failed = pods.filter((p) => p.status?.phase === 'Failed')
  const active = pods.filter((p) => p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded')
  const number = Math.min(failed.length + 1, of)
  const attempt = {number, of}
  const current = active.at(-1)
  if (current) {
    const stall = podStall(current, b, now, graceMs)
    if (stall) return {...stall, attempt, message: `${stall.message} (attempt ${number} of ${of})`}
  }

  const last = failed.at(-1)
  if (!last) return undefined
  if (failed.length >= of) {
    // The Job has failed: its last attempt's cause, when it is one of ours (a plain build error is just a failure).
    const stall = podStall(last, b, now, graceMs)
    return stall ? {...stall, attempt: {number: of, of}, message: `${stall.message} (attempt ${of} of ${of}: the Job gives up)`} : undefined
  }

  const s = steps(b)
  return {
    attempt,
    builder: false,
    cause: 'Retrying',
    detail: evicted(last) ?? null,
    kind: 'retrying',
    message: `attempt ${failed.length} of ${of} (pod ${last.metadata.name}) ${describeFailedPod(last)}; the Job tries again: attempt ${number} of ${of}${current ? ` is pod ${current.metadata.name}` : ''}`,
    next: `read the failed attempt's log with \`oc logs -n ${NS} ${last.metadata.name} -c image-build\`; if every attempt fails the build fails: fix the cause, then ${s.again}`,
    pod: last.metadata.name!,
  }
}

function builderStall(pods: Pod[]): Stall | undefined {
  const mine = live(pods)
  if (mine.some((p) => p.status?.phase === 'Running')) return undefined
  for (const pod of mine) {
    const name = pod.metadata.name!
    const why = unschedulable(pod)
    if (why) {
      return {
        builder: true,
        cause: 'Unschedulable',
        detail: why,
        kind: 'stuck',
        message: `the machine-os-builder pod ${name} cannot be scheduled, so no build can start`,
        pod: name,
        next: `it has no log (it never started): check the nodes' taints and readiness against the pod's tolerations and node selector (\`oc get nodes\`, \`oc describe pod ${name} -n ${NS}\`); it starts by itself once a node fits`,
      }
    }

    const pull = pullFailure(pod)
    if (pull) {
      return {
        builder: true,
        cause: 'ImagePull',
        detail: pull.message,
        kind: 'stuck',
        message: `the machine-os-builder pod ${name} cannot pull its image ${pull.image} (${pull.reason}), so no build can start`,
        pod: name,
        next: `it has no log (it never started): check that ${pull.image} exists and that ${pullSecrets(pod)} can read it`,
      }
    }
  }

  return undefined
}

/**
 * Whether the build (or the machine-os-builder it waits for) makes no progress, and why; undefined
 * while it is fine. Pure: the same objects and time give the same answer.
 */
export function recognizeStall(o: Observation): Stall | undefined {
  const graceMs = o.graceMs ?? DEFAULT_STALL_GRACE_MS
  const build = o.build && o.build.pods.length > 0 ? buildStall(o.build, o.now, graceMs) : undefined
  if (build) return build
  const hasBuild = Boolean(o.build && live(o.build.pods).length > 0)
  return !hasBuild && o.builderPods ? builderStall(o.builderPods) : undefined
}

/**
 * When the missing-digest grace of the observed build runs out (ms since the epoch), for a follower to
 * look again then; undefined when no build is waiting for its digest.
 */
export function stallRecheckAt(o: Observation): number | undefined {
  const b = o.build
  if (!b || b.digestPresent === true) return undefined
  const pods = oldestFirst(live(b.pods)).filter((p) => p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded')
  const since = pods.length > 0 ? digestWaitSince(pods.at(-1)!) : undefined
  return since === undefined ? undefined : since + (o.graceMs ?? DEFAULT_STALL_GRACE_MS)
}

/** The error a follower ends with when the build it follows stops making progress. */
export function stallError(stall: Stall): MobError {
  const who = stall.cause === 'Unschedulable' ? 'the scheduler says' : 'the kubelet says'
  return new MobError(stall.message, {
    code: stall.kind === 'failed' ? 'BuildFailed' : 'BuildStalled',
    details: stall.detail ? [`${who}: ${stall.detail}`] : [],
    exitCode: ExitCode.Failed,
    next: stall.next,
  })
}
