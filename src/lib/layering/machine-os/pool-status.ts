/** 4.18+: a pool opted in by a MachineOSConfig, its MachineOSBuilds and their Jobs. */
import {DEFAULT_STALL_GRACE_MS, recognizeStall, type Stall} from '../../build/stall.js'
import {describeMachineOSBuild} from '../../cluster/build-objects.js'
import {digestOf} from '../../cluster/history.js'
import type {KubeEvent, MachineConfigPool, Pod} from '../../kube/types.js'
import {MCO_NAMESPACE} from '../../mco/constants.js'
import {buildsOf, currentBuild, type MachineOSBuild, type MachineOSConfig, mosbStatus} from '../../mco/machine-os.js'
import {type BuildState, condition, renderedConfig} from '../../mco/pool-state.js'
import type {
  BuildAttempts,
  BuildEvent,
  BuildPods,
  BuildProblem,
  ConditionView,
  ImageMatch,
  PoolBuild,
  PoolView,
  ViewedPool,
} from '../pool-view.js'
import {compareText} from '../../order.js'

const n = <T>(v: T | undefined): T | null => v ?? null
const NS = MCO_NAMESPACE

/** The Job's backoffLimit (3) plus one: how many pods it runs before the build fails (reference §8.3). */
export const JOB_ATTEMPTS = 4

/** What the MachineOSBuilds of 4.19-4.21 say on every failure, whatever the cause. */
const GENERIC_FAILURE = /^build failed\.?$/i

/**
 * Why a failed MachineOSBuild failed, from its Failed (or Interrupted) condition's message: 4.22 and the
 * 4.19 backports write the cause; earlier builders write only "Build Failed" (null: the cause is only
 * in the build log).
 */
export function failureCause(message: string | null | undefined): string | null {
  const m = (message ?? '').trim()
  return m === '' || GENERIC_FAILURE.test(m) ? null : m
}

/** Why a pod of a build's Job failed: its build container's end, or the pod's own reason (an eviction). */
function podFailure(pod: Pod): string {
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]
  const ended = statuses.find((c) => c.state?.terminated && c.state.terminated.exitCode !== 0)
  const t = ended?.state?.terminated
  if (t)
    return `container ${ended!.name} exited with code ${t.exitCode}${t.reason ? ` (${t.reason})` : ''}${t.message ? `: ${t.message.trim().split('\n').at(-1)}` : ''}`
  return pod.status?.message || pod.status?.reason || 'the pod failed'
}

/**
 * The attempts of a MachineOSBuild's Job, from its pods (`job-name=build-<mosb>`, one per attempt,
 * oldest first): the attempt under way or the last, and why each failed one failed. Undefined when the
 * Job has made no pod (yet, or any more).
 */
export function buildAttempts(mosb: string, pods: Pod[]): BuildAttempts | undefined {
  const job = `build-${mosb}`
  const mine = pods
    .filter((p) => p.metadata.labels?.['job-name'] === job && !p.metadata.deletionTimestamp)
    .sort(
      (a, b) =>
        compareText(a.metadata.creationTimestamp ?? '', b.metadata.creationTimestamp ?? '') ||
        compareText(a.metadata.name!, b.metadata.name!),
    )
  if (mine.length === 0) return undefined
  return {
    attempt: mine.length,
    failed: mine.filter((p) => p.status?.phase === 'Failed').map((p) => ({pod: p.metadata.name!, reason: podFailure(p)})),
    of: JOB_ATTEMPTS,
  }
}

/** The pool's ImageBuildDegraded condition (4.20+), when True. */
export function imageBuildDegraded(p: MachineConfigPool): ConditionView | null {
  const c = condition(p, 'ImageBuildDegraded')
  if (c?.status !== 'True') return null
  return {message: c.message || null, reason: c.reason || null, since: c.lastTransitionTime || null}
}

/**
 * A pool opted in by a MachineOSConfig (4.18+): its build is the MachineOSBuild of its rendered
 * config, its image the MachineOSConfig's current image; the image was built from the rendered config
 * when that build succeeded with that digest (what the node controller requires before rolling out).
 */
export function machineOSPoolView(p: MachineConfigPool, mosc: MachineOSConfig, mosbs: MachineOSBuild[], jobPods: Pod[] = []): PoolView {
  const rendered = renderedConfig(p)
  const own = buildsOf(mosbs, mosc)
  const current = currentBuild(mosbs, mosc, rendered)
  const info = current ? describeMachineOSBuild(current) : undefined
  const st = current ? mosbStatus(current) : undefined
  const waiting = condition(p, 'Updating')
  let build: PoolBuild
  if (current && st && info) {
    const state: BuildState = info.state === 'running' ? 'building' : info.state
    build = {
      hung: false,
      message: info.state === 'failed' ? info.reason : st.message,
      object: info,
      reason: st.reason ?? st.condition,
      since: st.since,
      state,
    }
    if (info.state === 'failed') build.cause = failureCause(st.message)
    if (info.state !== 'succeeded') build.attempts = buildAttempts(current.metadata.name!, jobPods) ?? null
  } else if (waiting?.status === 'True' && /waiting for OS image build/i.test(waiting.message ?? '')) {
    build = {
      hung: false,
      message: waiting.message ?? null,
      object: null,
      reason: n(waiting.reason),
      since: n(waiting.lastTransitionTime),
      state: 'pending',
    }
  } else {
    build = {hung: false, message: null, object: null, reason: null, since: null, state: 'none'}
  }

  const image = mosc.status?.currentImagePullSpec || undefined
  let match: {match: ImageMatch; evidence: string} | undefined
  if (image) {
    const builtIt = own.find((b) => b.status?.digestedImagePushSpec === image)
    if (current && info?.state === 'succeeded' && current.status?.digestedImagePushSpec === image) {
      match = {evidence: `MachineOSBuild ${current.metadata.name} built it from ${rendered}`, match: 'yes'}
    } else if (current && info && info.state !== 'succeeded') {
      match = {
        evidence: `the MachineOSBuild for ${rendered} (${current.metadata.name}) ${info.state === 'failed' ? 'failed' : `is ${info.state}`}; the image is from an earlier build`,
        match: 'no',
      }
    } else if (builtIt) {
      match = {
        evidence: `MachineOSBuild ${builtIt.metadata.name} built it from ${builtIt.spec?.machineConfig?.name ?? 'another rendered config'}, not from ${rendered}`,
        match: 'no',
      }
    } else {
      match = {evidence: 'no MachineOSBuild of this MachineOSConfig reports this image', match: 'unknown'}
    }
  }

  return {
    build,
    builder: 'job',
    image: n(image),
    imageDigest: image?.includes('@') ? digestOf(image) : null,
    imageEvidence: match?.evidence ?? null,
    imageMatchesConfig: match?.match ?? null,
    layered: true,
    machineOSConfig: {
      builds: own.map((b) => b.metadata.name!),
      currentImagePullSpec: n(mosc.status?.currentImagePullSpec),
      name: mosc.metadata.name!,
      renderedImagePushSpec: n(mosc.spec?.renderedImagePushSpec),
    },
    optIn: 'machineosconfig',
    imageBuildDegraded: imageBuildDegraded(p),
  }
}

/** Whether the pool's MachineOSBuild makes no progress: its Job's pods (src/lib/build/stall.ts). */
export function machineOSStall(p: ViewedPool, pods: BuildPods, now: number): Stall | undefined {
  const object = p.build.object
  if (!object || !p.renderedConfig || object.state === 'succeeded') return undefined
  const job = `build-${object.name}`
  const jobPods = (pods.jobPods ?? []).filter((x) => x.metadata.labels?.['job-name'] === job)
  return recognizeStall({
    build: {
      digestConfigMap: `digest-${object.name}`,
      generation: 'machineosconfig',
      machineOSConfig: p.machineOSConfig?.name,
      pods: jobPods,
      pool: p.name,
    },
    graceMs: DEFAULT_STALL_GRACE_MS,
    now,
  })
}

/** The problems of a pool opted in by a MachineOSConfig (4.18+), with the steps of that API. */
export function machineOSPoolProblems(p: ViewedPool): BuildProblem[] {
  const out: BuildProblem[] = []
  const add = (severity: BuildProblem['severity'], message: string, next: string | null): void => {
    out.push({message, next, severity})
  }

  const mosc = p.machineOSConfig!
  const rebuild = `\`oc mob build ${p.name} --rebuild\``
  const build = p.build.object
  const attempts = p.build.attempts
  const degraded = p.imageBuildDegraded
  if (p.build.state === 'failed' && build) {
    const job = `build-${build.name}`
    const log = `\`oc mob logs ${p.name}\` (or \`oc logs -n ${NS} job/${job} -c image-build\`)`
    const cause = p.build.cause
    const tries = attempts ? ` after ${attempts.attempt} of ${attempts.of} attempts` : ''
    const said = cause ?? p.build.message
    // The pool's ImageBuildDegraded says the same failure: one problem, which names both.
    const alsoDegraded = degraded ? `; the pool is ImageBuildDegraded (${degraded.reason ?? 'no reason'}) until a build succeeds` : ''
    add(
      'error',
      `MachineOSBuild ${build.name} of pool ${p.name} failed${tries}${said ? `: ${said}` : ''}${alsoDegraded}`,
      `${cause ? 'see the build log' : 'this OpenShift records no cause on the MachineOSBuild (only "Build Failed"): read it in the build log'} with ${log} (the Job and its pods are kept after a failure, until the next build of the MachineOSConfig deletes them); once the cause is fixed, build again with ${rebuild}`,
    )
  }

  if (attempts && attempts.failed.length > 0 && p.build.state !== 'failed') {
    const last = attempts.failed.at(-1)!
    add(
      'warning',
      `MachineOSBuild ${build?.name} of pool ${p.name} is on attempt ${attempts.attempt} of ${attempts.of}: ${attempts.failed.length} failed (last: pod ${last.pod}, ${last.reason})`,
      `read the failed attempt's log with \`oc logs -n ${NS} ${last.pod} -c image-build\` before the Job gives up`,
    )
  }

  if (degraded && !(p.build.state === 'failed' && build)) {
    add(
      'error',
      `pool ${p.name} is ImageBuildDegraded (${degraded.reason ?? 'no reason'})${degraded.message ? `: ${degraded.message}` : ''}`,
      `it clears when a build of the pool succeeds: fix the cause the build log gives (\`oc mob logs ${p.name}\`), then build again with ${rebuild}`,
    )
  }

  if (!p.image && p.build.state === 'none') {
    add(
      'warning',
      `pool ${p.name} has MachineOSConfig ${mosc.name} but no build of its rendered config ${p.renderedConfig ?? ''} yet`.trimEnd(),
      'the machine-os-builder creates a MachineOSBuild once the pool is not degraded: see `oc get machineosbuilds` and `oc get co machine-config`',
    )
  }

  if (p.imageMatchesConfig === 'no' && p.build.state !== 'building' && p.build.state !== 'pending' && p.build.state !== 'failed') {
    add(
      'warning',
      `the image of pool ${p.name} was not built from its rendered config ${p.renderedConfig}: ${p.imageEvidence}`,
      `build it with ${rebuild}`,
    )
  }

  return out
}

/** The secret the pool's builds push with: its MachineOSConfig's renderedImagePushSecret. */
export function machineOSPushSecret(mosc: MachineOSConfig): string | undefined {
  return mosc.spec?.renderedImagePushSecret?.name || undefined
}

/** How many of a pool's build events `status POOL` shows. */
export const SHOWN_EVENTS = 5

/**
 * The latest events about the pool's MachineOSBuilds (5.0+ builders record them), newest first: those
 * whose involved object is one of its builds, or named as the builder names them (`<mosc>-<32 hex>`),
 * so that the events of a failed build the next one deleted still show.
 */
export function machineOSBuildEvents(mosc: string, builds: string[], events: KubeEvent[], limit = SHOWN_EVENTS): BuildEvent[] {
  const ours = new Set(builds)
  // A MachineOSConfig's name is a DNS subdomain: only its dots mean something in a pattern.
  const hashed = new RegExp(`^${mosc.replaceAll('.', String.raw`\.`)}-[0-9a-f]{32}$`)
  const time = (e: KubeEvent): string | null =>
    e.series?.lastObservedTime || e.lastTimestamp || e.eventTime || e.firstTimestamp || e.metadata.creationTimestamp || null
  // Timestamps have whole seconds: within one, the later write (higher resourceVersion) is the newer.
  const rv = (e: KubeEvent): number => Number(e.metadata.resourceVersion) || 0
  return [...events]
    .sort((a, b) => compareText(time(b) ?? '', time(a) ?? '') || rv(b) - rv(a))
    .filter(
      (e) =>
        e.involvedObject?.kind === 'MachineOSBuild' && (ours.has(e.involvedObject.name ?? '') || hashed.test(e.involvedObject.name ?? '')),
    )
    .map((e) => ({
      build: e.involvedObject!.name!,
      count: e.series?.count ?? e.count ?? 1,
      message: e.message ?? '',
      reason: e.reason ?? '',
      time: time(e),
      type: e.type ?? 'Normal',
    }))
    .slice(0, limit)
}
