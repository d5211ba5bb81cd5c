/**
 * The shape of a cleanup: what a failed or abandoned build left behind, planned by each generation's
 * backend (lib/layering/configmap/cleanup.ts, lib/layering/machine-os/cleanup.ts), shown, and then
 * carried out by lib/cleanup/index.ts.
 */
import type {BuildObjectInfo} from '../cluster/build-objects.js'

export type CleanupRole =
  | 'build'
  | 'build-pod'
  | 'canonical-secret'
  | 'digest'
  | 'dockerfile'
  | 'machineconfig'
  // 4.18+ (MachineOSConfig pools): the build, its Job and the Job's pods, its ephemeral ConfigMaps and secret copies.
  | 'build-secret'
  | 'ephemeral'
  | 'job'
  | 'job-pod'
  | 'machine-os-build'

export interface CleanupItem {
  kind: 'Build' | 'ConfigMap' | 'Job' | 'MachineOSBuild' | 'Pod' | 'Secret'
  name: string
  namespace: string
  uid: string
  role: CleanupRole
  /** The pool whose build it belongs to (null for the canonical secrets, which belong to the build config). */
  pool: string | null
  renderedConfig: string | null
  /** Build pods and Builds: what they say about the build. */
  build?: BuildObjectInfo
  /** Why it is in the list, in a few words. */
  why: string
  /** 4.18+: the MachineOSBuild it belongs to. */
  machineOSBuild?: string
}

export interface KeptItem {
  kind: string
  name: string
  reason: string
}

export interface PoolFix {
  pool: string
  /** The pool still exists (objects of a deleted pool can be cleaned up, but there is no pool to fix). */
  exists: boolean
  /** Build* conditions removed (as onclustertesting's clear-build-status does). */
  removeConditions: string[]
  /** Conditions the failed build set, reset to False (Degraded, RenderDegraded). */
  resetConditions: string[]
  /** Build object references removed from spec/status configuration.source. */
  removeRefs: string[]
  /** Why the pool needs fixing. */
  why: string
  /** 4.18+: an annotation removed from the pool's MachineOSConfig (a current-machine-os-build naming a build that is gone). */
  clearAnnotation?: {machineOSConfig: string; annotation: string; value: string; why: string}
  /** 4.18+: what the person should know that cleanup does not change (a rebuild annotation not acted on...). */
  notes?: string[]
}

export interface CleanupPlan {
  scope: {pool: string | null; all: boolean}
  /** What would be deleted, build objects first. */
  items: CleanupItem[]
  /** Look-alikes and shared objects left alone, with the reason. */
  kept: KeptItem[]
  pools: PoolFix[]
  /** Items that are builds still running (cleanup refuses them unless forced). */
  running: CleanupItem[]
}

export interface PlanOptions {
  pool?: string
  all?: boolean
  /** 4.18+: also plan to delete builds that are still running (cleanup stops them). */
  force?: boolean
  /** Leave the canonical secret copies alone. */
  keepSecrets?: boolean
  signal?: AbortSignal
}

export function ref(o: {kind: string; name: string}): string {
  return `${o.kind.toLowerCase()}/${o.name}`
}

export function isEmpty(plan: CleanupPlan): boolean {
  return (
    plan.items.length === 0 &&
    plan.pools.every((p) => p.removeConditions.length + p.resetConditions.length + p.removeRefs.length === 0 && !p.clearAnnotation)
  )
}
