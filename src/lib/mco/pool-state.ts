/**
 * Reading the state of pools and nodes as the MCO records it: pure functions, no API calls.
 */
import type {Condition, LabelSelector, MachineConfigPool, Node} from '../kube/types.js'
import {LAYERING_ENABLED_LABEL, NEWEST_IMAGE_ANNOTATION, NODE_ANNOTATIONS} from './constants.js'

export type BuildState = 'building' | 'failed' | 'none' | 'pending' | 'succeeded'

export interface PoolBuild {
  state: BuildState
  /** The reason of the condition that decided the state (e.g. BuildFailed). */
  reason?: string
  message?: string
  /** When the deciding condition last changed. */
  since?: string
}

export function condition(pool: MachineConfigPool, type: string): Condition | undefined {
  return pool.status?.conditions?.find((c) => c.type === type)
}

export function conditionTrue(pool: MachineConfigPool, type: string): boolean {
  return condition(pool, type)?.status === 'True'
}

export function isLayered(pool: MachineConfigPool): boolean {
  return Object.hasOwn(pool.metadata.labels ?? {}, LAYERING_ENABLED_LABEL)
}

export function poolImage(pool: MachineConfigPool): string | undefined {
  return pool.metadata.annotations?.[NEWEST_IMAGE_ANNOTATION] || undefined
}

/**
 * The build state from the pool's Build* conditions. Failed wins over everything (the pool is stuck
 * until cleaned up), then building, then pending, then success.
 */
export function poolBuild(pool: MachineConfigPool): PoolBuild {
  const order: Array<[string, BuildState]> = [
    ['BuildFailed', 'failed'],
    ['Building', 'building'],
    ['BuildPending', 'pending'],
    ['BuildSuccess', 'succeeded'],
  ]
  for (const [type, state] of order) {
    const c = condition(pool, type)
    if (c?.status === 'True') return {message: c.message || undefined, reason: c.reason || undefined, since: c.lastTransitionTime, state}
  }

  return {state: 'none'}
}

export function renderedConfig(pool: MachineConfigPool): string | undefined {
  return pool.spec?.configuration?.name || undefined
}

export function matchesSelector(selector: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  // A nil selector matches nothing; an empty one matches everything (as for MachineConfigPools).
  if (!selector) return false
  const l = labels ?? {}
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (l[k] !== v) return false
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(l, e.key)
    switch (e.operator) {
      case 'In': {
        if (!has || !(e.values ?? []).includes(l[e.key])) return false
        break
      }

      case 'NotIn': {
        if (has && (e.values ?? []).includes(l[e.key])) return false
        break
      }

      case 'Exists': {
        if (!has) return false
        break
      }

      case 'DoesNotExist': {
        if (has) return false
        break
      }

      default: {
        return false
      }
    }
  }

  return true
}

/**
 * The pool a node belongs to. A node selected by `worker` and by one custom pool belongs to the
 * custom pool (the MCO's rule); masters belong to `master`.
 */
export function poolOfNode(node: Node, pools: MachineConfigPool[]): string | undefined {
  const matching = pools.filter((p) => matchesSelector(p.spec?.nodeSelector, node.metadata.labels)).map((p) => p.metadata.name!)
  if (matching.length === 0) return undefined
  if (matching.includes('master')) return 'master'
  const custom = matching.filter((n) => n !== 'worker')
  return custom.length > 0 ? custom.sort()[0] : 'worker'
}

export interface NodeMcoState {
  currentConfig?: string
  desiredConfig?: string
  currentImage?: string
  desiredImage?: string
  /** Done, Working, Degraded or Unreconcilable. */
  state?: string
  reason?: string
}

export function nodeMcoState(node: Node): NodeMcoState {
  const a = node.metadata.annotations ?? {}
  const v = (k: string): string | undefined => a[k] || undefined
  return {
    currentConfig: v(NODE_ANNOTATIONS.currentConfig),
    currentImage: v(NODE_ANNOTATIONS.currentImage),
    desiredConfig: v(NODE_ANNOTATIONS.desiredConfig),
    desiredImage: v(NODE_ANNOTATIONS.desiredImage),
    reason: v(NODE_ANNOTATIONS.reason),
    state: v(NODE_ANNOTATIONS.state),
  }
}

export function nodeReady(node: Node): boolean {
  return node.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True'
}

/** Human age of a timestamp, kubectl style (5s, 3m, 2h, 4d). */
export function age(since: string | undefined, now = Date.now()): string {
  if (!since) return ''
  const t = Date.parse(since)
  if (Number.isNaN(t)) return ''
  const s = Math.max(0, Math.floor((now - t) / 1000))
  if (s < 120) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 120) return `${m}m`
  const h = Math.floor(m / 60)
  if (h < 48) return `${h}h`
  return `${Math.floor(h / 24)}d`
}
