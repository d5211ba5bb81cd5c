/**
 * The MachineOSConfig / MachineOSBuild API of OpenShift 4.18+ (machineconfiguration.openshift.io/v1),
 * read-only: which pools are opted in by a MachineOSConfig, the state of their builds, and the image
 * the node controller rolls out. Field names and condition types follow the v1 CRDs; how a pool's
 * current build is chosen follows the 4.19 node controller (the MachineOSBuild of the pool's current
 * rendered config, whose digest the MachineOSConfig reports as its current image).
 */
import type {Condition, KubeObject} from '../kube/types.js'
import {compareText} from '../order.js'

export interface MachineOSConfig extends KubeObject {
  spec?: {
    machineConfigPool?: {name?: string}
    imageBuilder?: {imageBuilderType?: string}
    baseImagePullSecret?: {name?: string}
    renderedImagePushSecret?: {name?: string}
    renderedImagePushSpec?: string
    containerFile?: Array<{containerfileArch?: string; content?: string}>
  }
  status?: {conditions?: Condition[]; currentImagePullSpec?: string; observedGeneration?: number}
}

export interface MachineOSBuild extends KubeObject {
  spec?: {machineConfig?: {name?: string}; machineOSConfig?: {name?: string}; renderedImagePushSpec?: string}
  status?: {
    conditions?: Condition[]
    builder?: {imageBuilderType?: string; job?: {name?: string; namespace?: string}}
    buildStart?: string
    buildEnd?: string
    digestedImagePushSpec?: string
  }
}

/** Annotation on a MachineOSConfig naming the MachineOSBuild the controller last started for it. */
export const CURRENT_MOSB_ANNOTATION = 'machineconfiguration.openshift.io/current-machine-os-build'
/** Annotation whose presence on a MachineOSConfig makes the controller rebuild its current build. */
export const REBUILD_ANNOTATION = 'machineconfiguration.openshift.io/rebuild'

export type MosbState = 'failed' | 'interrupted' | 'pending' | 'running' | 'succeeded'

export interface MosbStatus {
  state: MosbState
  /** The condition that says so (Prepared, Building, Succeeded, Failed, Interrupted), when one does. */
  condition: string | null
  reason: string | null
  message: string | null
  since: string | null
}

/**
 * A MachineOSBuild's state from its conditions. Each state sets all five, True for the current one;
 * the terminal ones (Failed, Interrupted, Succeeded) win. No True condition yet: pending.
 */
export function mosbStatus(b: MachineOSBuild): MosbStatus {
  const order: Array<[string, MosbState]> = [
    ['Failed', 'failed'],
    ['Interrupted', 'interrupted'],
    ['Succeeded', 'succeeded'],
    ['Building', 'running'],
    ['Prepared', 'pending'],
  ]
  const conditions = b.status?.conditions ?? []
  for (const [type, state] of order) {
    const c = conditions.find((x) => x.type === type && x.status === 'True')
    if (c)
      return {
        condition: type,
        message: c.message || null,
        reason: c.reason || null,
        since: c.lastTransitionTime || b.metadata.creationTimestamp || null,
        state,
      }
  }

  return {condition: null, message: null, reason: null, since: b.metadata.creationTimestamp ?? null, state: 'pending'}
}

/** The MachineOSConfig of a pool (the API allows one per pool, named like it). */
export function machineOSConfigOf(configs: MachineOSConfig[], pool: string): MachineOSConfig | undefined {
  return configs.find((c) => c.spec?.machineConfigPool?.name === pool)
}

/** The MachineOSBuilds made for a MachineOSConfig, newest first (by name within the same second). */
export function buildsOf(builds: MachineOSBuild[], config: MachineOSConfig): MachineOSBuild[] {
  const name = config.metadata.name
  return builds
    .filter(
      (b) => b.spec?.machineOSConfig?.name === name || b.metadata.labels?.['machineconfiguration.openshift.io/machine-os-config'] === name,
    )
    .sort(
      (a, b) =>
        compareText(b.metadata.creationTimestamp ?? '', a.metadata.creationTimestamp ?? '') ||
        compareText(a.metadata.name!, b.metadata.name!),
    )
}

/**
 * The build of the pool's current rendered config: the one the MachineOSConfig names as current when
 * it is for that config, otherwise the newest for that config.
 */
export function currentBuild(builds: MachineOSBuild[], config: MachineOSConfig, rendered: string | undefined): MachineOSBuild | undefined {
  if (!rendered) return undefined
  const forConfig = buildsOf(builds, config).filter((b) => b.spec?.machineConfig?.name === rendered)
  const named = config.metadata.annotations?.[CURRENT_MOSB_ANNOTATION]
  return forConfig.find((b) => b.metadata.name === named) ?? forConfig[0]
}

/** The build pod's Job of a MachineOSBuild (`build-<mosb>` in the operator's namespace). */
export function jobOf(b: MachineOSBuild): string {
  return b.status?.builder?.job?.name || `build-${b.metadata.name}`
}

/**
 * The pools a MachineOSConfig opts in, each with the image its nodes are given: the MachineOSConfig's
 * current image once the MachineOSBuild of the pool's rendered config succeeded with it (the node
 * controller's rule), undefined while it has none.
 */
export function machineOSPoolImages(
  configs: MachineOSConfig[],
  builds: MachineOSBuild[],
  pools: Array<{metadata: {name?: string}; spec?: {configuration?: {name?: string}}}>,
): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>()
  for (const pool of pools) {
    const config = machineOSConfigOf(configs, pool.metadata.name!)
    if (!config) continue
    const build = currentBuild(builds, config, pool.spec?.configuration?.name)
    const image = config.status?.currentImagePullSpec
    out.set(
      pool.metadata.name!,
      build && mosbStatus(build).state === 'succeeded' && image && build.status?.digestedImagePushSpec === image ? image : undefined,
    )
  }

  return out
}
