/**
 * Pool build conditions, written the way the BuildController writes them (setMCPBuildConditions):
 * only conditions that change are rewritten, and a condition's lastTransitionTime moves only when
 * its status changes.
 */
import type {Condition} from '../kube/types.js'

export interface ConditionUpdate {
  type: string
  status: 'False' | 'True'
  reason?: string
  message?: string
}

export function applyConditions(current: Condition[] | undefined, updates: ConditionUpdate[], now = new Date()): Condition[] {
  const out = [...(current ?? [])]
  const stamp = now.toISOString().replace(/\.\d+Z$/, 'Z')
  for (const u of updates) {
    const i = out.findIndex((c) => c.type === u.type)
    const prev = i >= 0 ? out[i] : undefined
    const next: Condition = {
      lastTransitionTime: prev && prev.status === u.status ? prev.lastTransitionTime : stamp,
      message: u.message ?? '',
      reason: u.reason ?? '',
      status: u.status,
      type: u.type,
    }
    if (prev && prev.status === next.status && (prev.reason ?? '') === next.reason && (prev.message ?? '') === next.message) continue
    if (i >= 0) out[i] = next
    else out.push(next)
  }

  return out
}

export function removeConditions(current: Condition[] | undefined, types: readonly string[]): Condition[] {
  return (current ?? []).filter((c) => !types.includes(c.type))
}

/** markBuildPendingWithObjectRef */
export const BUILD_PENDING: ConditionUpdate[] = [
  {reason: 'BuildPending', status: 'True', type: 'BuildPending'},
  {status: 'False', type: 'Building'},
  {status: 'False', type: 'BuildSuccess'},
  {status: 'False', type: 'BuildFailed'},
]

/** markBuildInProgress */
export const BUILD_RUNNING: ConditionUpdate[] = [
  {status: 'False', type: 'BuildPending'},
  {reason: 'BuildRunning', status: 'True', type: 'Building'},
  {status: 'False', type: 'BuildSuccess'},
  {status: 'False', type: 'BuildFailed'},
]

/** markBuildSucceeded (BuildPending is left as it is) */
export const BUILD_SUCCEEDED: ConditionUpdate[] = [
  {status: 'False', type: 'Building'},
  {reason: 'BuildSucceeded', status: 'True', type: 'BuildSuccess'},
  {status: 'False', type: 'BuildFailed'},
  {status: 'False', type: 'Degraded'},
]

/** markBuildFailed, with the Degraded and RenderDegraded side effects of syncFailingStatus */
export function buildFailed(pool: string): ConditionUpdate[] {
  return [
    {status: 'False', type: 'BuildPending'},
    {status: 'False', type: 'Building'},
    {status: 'False', type: 'BuildSuccess'},
    {reason: 'BuildFailed', status: 'True', type: 'BuildFailed'},
    {status: 'True', type: 'Degraded'},
    {message: `Failed to build configuration for pool ${pool}: build failed`, status: 'True', type: 'RenderDegraded'},
  ]
}
