/** 4.18+: a pool opted in by a MachineOSConfig, its MachineOSBuilds and their Jobs. */
import {DEFAULT_STALL_GRACE_MS, recognizeStall, type Stall} from '../../build/stall.js'
import {describeMachineOSBuild} from '../../cluster/build-objects.js'
import {digestOf} from '../../cluster/history.js'
import type {MachineConfigPool} from '../../kube/types.js'
import {MCO_NAMESPACE} from '../../mco/constants.js'
import {buildsOf, currentBuild, type MachineOSBuild, type MachineOSConfig, mosbStatus, REBUILD_ANNOTATION} from '../../mco/machine-os.js'
import {type BuildState, condition, renderedConfig} from '../../mco/pool-state.js'
import type {BuildPods, BuildProblem, ImageMatch, PoolBuild, PoolView, ViewedPool} from '../pool-view.js'

const n = <T>(v: T | undefined): T | null => v ?? null
const NS = MCO_NAMESPACE

/**
 * A pool opted in by a MachineOSConfig (4.18+): its build is the MachineOSBuild of its rendered
 * config, its image the MachineOSConfig's current image; the image was built from the rendered config
 * when that build succeeded with that digest (what the node controller requires before rolling out).
 */
export function machineOSPoolView(p: MachineConfigPool, mosc: MachineOSConfig, mosbs: MachineOSBuild[]): PoolView {
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
  const rebuild = `\`oc annotate machineosconfig/${mosc.name} ${REBUILD_ANNOTATION}=\``
  const build = p.build.object
  if (p.build.state === 'failed' && build) {
    const job = `build-${build.name}`
    add(
      'error',
      `MachineOSBuild ${build.name} of pool ${p.name} failed${p.build.message ? `: ${p.build.message}` : ''}`,
      `read the build log with \`oc logs -n ${NS} job/${job} -c image-build\` (the Job and its objects are kept after a failure); once the cause is fixed, build again with ${rebuild}`,
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
