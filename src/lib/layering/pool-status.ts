/**
 * A pool's build and image for `status`, from the mechanism that opted it in: a MachineOSConfig
 * (4.18+), otherwise the layering-enabled label (4.14/4.15).
 */
import type {Stall} from '../build/stall.js'
import type {BuildObjectInfo} from '../cluster/build-objects.js'
import type {MachineConfigPool} from '../kube/types.js'
import {configMapPoolView, configMapProblems, configMapStall} from './configmap/pool-status.js'
import {machineOSPoolProblems, machineOSPoolView, machineOSStall} from './machine-os/pool-status.js'
import type {BuildPods, BuildProblem, PoolContext, PoolView, ViewedPool} from './pool-view.js'

export type {BuildPods, BuildProblem, ImageMatch, MachineOSConfigView, PoolBuild, PoolContext, PoolView} from './pool-view.js'

export function poolView(p: MachineConfigPool, ctx: PoolContext): PoolView {
  return ctx.mosc ? machineOSPoolView(p, ctx.mosc, ctx.mosbs) : configMapPoolView(p, ctx)
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
