/**
 * A pool's build and image for `status`, from the mechanism that opted it in: a MachineOSConfig
 * (4.18+), otherwise the layering-enabled label (4.14/4.15).
 */
import type {Stall} from '../build/stall.js'
import type {BuildObjectInfo} from '../cluster/build-objects.js'
import {type HistoryEntry, type Observation, teaches} from '../cluster/history.js'
import type {KubeEvent, MachineConfigPool} from '../kube/types.js'
import {configMapPoolView, configMapProblems, configMapStall} from './configmap/pool-status.js'
import {machineOSObservations} from './machine-os/history.js'
import {machineOSBuildEvents, machineOSPoolProblems, machineOSPoolView, machineOSStall} from './machine-os/pool-status.js'
import type {BuildEvent, BuildPods, BuildProblem, PoolContext, PoolView, ViewedPool} from './pool-view.js'

export type {
  BuildEvent,
  BuildPods,
  BuildProblem,
  ConditionView,
  ImageMatch,
  MachineOSConfigView,
  OSImageStreamView,
  PoolBuild,
  PoolContext,
  PoolView,
} from './pool-view.js'

export function poolView(p: MachineConfigPool, ctx: PoolContext): PoolView {
  return ctx.mosc ? machineOSPoolView(p, ctx.mosc, ctx.mosbs, ctx.jobPods) : configMapPoolView(p, ctx)
}

/** Whether the pool's current build makes no progress. */
export function poolStall(p: ViewedPool, pods: BuildPods, now: number): Stall | undefined {
  return p.optIn === 'machineosconfig' ? machineOSStall(p, pods, now) : configMapStall(p, pods, now)
}

/**
 * What is wrong with the pool's build and image, with the steps of its generation; `failedForCause`:
 * a stall already says why the build failed.
 */
export function buildProblems(p: ViewedPool, objects: BuildObjectInfo[], failedForCause: boolean): BuildProblem[] {
  if (p.optIn === 'machineosconfig') return failedForCause ? [] : machineOSPoolProblems(p)
  return p.layered ? configMapProblems(p, objects, failedForCause) : []
}

/**
 * 4.18+: the pool's successful MachineOSBuilds that its image history does not know yet (or knows
 * without the MachineOSConfig spec now known to have produced them), for rollback.
 */
export function historyObservations(pool: string, history: HistoryEntry[], ctx: Pick<PoolContext, 'mosbs' | 'mosc'>): Observation[] {
  return ctx.mosc ? machineOSObservations(pool, ctx.mosc, ctx.mosbs).filter((o) => teaches(history, o)) : []
}

/** 5.0+: the latest events about the pool's builds (MachineOSBuilds), newest first; none for a pool without a MachineOSConfig. */
export function poolBuildEvents(p: ViewedPool, events: KubeEvent[]): BuildEvent[] {
  const mosc = p.machineOSConfig
  return mosc ? machineOSBuildEvents(mosc.name, mosc.builds, events) : []
}
