/**
 * Nodes of a pool as rollouts see them: who is a member, who is unavailable, how many may be at once,
 * and waiting (by watch) until every member runs a given image or config.
 */
import {ExitCode, MobError} from '../errors.js'
import type {KubeClient} from '../kube/client.js'
import {R} from '../kube/resources.js'
import type {LabelSelector, MachineConfigPool, Node} from '../kube/types.js'
import {withTimeout} from '../kube/wait.js'
import {informer} from '../kube/watch.js'
import {matchesSelector, nodeMcoState, nodeReady, poolOfNode} from '../mco/pool-state.js'
import {compareText} from '../order.js'

/** maxUnavailable of a pool as the node controller reads it: a number or a percentage (rounded down), at least 1. */
export function maxUnavailable(pool: MachineConfigPool, total: number): number {
  const v = pool.spec?.maxUnavailable
  if (v === undefined || v === null || v === '') return 1
  if (typeof v === 'number') return Math.max(v, 1)
  const m = /^(\d+)%$/.exec(String(v).trim())
  if (m) return Math.max(Math.floor((Number(m[1]) * total) / 100), 1)
  return Math.max(Number(v) || 1, 1)
}

/** Unavailable as the node controller counts it: not ready, cordoned, updating, or not at its desired config and image. */
export function isUnavailable(node: Node): boolean {
  const s = nodeMcoState(node)
  return (
    !nodeReady(node) ||
    Boolean(node.spec?.unschedulable) ||
    s.state === 'Working' ||
    s.state === 'Degraded' ||
    s.state === 'Unreconcilable' ||
    (s.desiredConfig ?? '') !== (s.currentConfig ?? '') ||
    (s.desiredImage ?? '') !== (s.currentImage ?? '')
  )
}

export function membersOf(pool: string, nodes: Node[], pools: MachineConfigPool[]): Node[] {
  return nodes.filter((n) => poolOfNode(n, pools) === pool).sort((a, b) => compareText(a.metadata.name!, b.metadata.name!))
}

/** A label selector string for a pool's nodeSelector when it only has matchLabels (narrows the watch), else undefined. */
export function selectorString(sel: LabelSelector | undefined): string | undefined {
  if (!sel || (sel.matchExpressions?.length ?? 0) > 0) return undefined
  const parts = Object.entries(sel.matchLabels ?? {}).map(([k, v]) => (v === '' ? `${k}=` : `${k}=${v}`))
  return parts.length > 0 ? parts.join(',') : undefined
}

export interface WaitProgress {
  done: number
  total: number
  /** Names of nodes still on their way. */
  pending: string[]
}

/** A node of a pool a rollback moves: where it is now and whether it reboots. */
export interface RollbackNode {
  name: string
  currentImage: string | null
  /** The node moves to another image (reboots into it). */
  reboots: boolean
  state: string | null
}

/** The pool's nodes as a rollback plan lists them; `reboots` tells by a node's current image. */
export const rollbackNodes = (members: Node[], reboots: (currentImage: string) => boolean): RollbackNode[] =>
  members.map((n) => {
    const s = nodeMcoState(n)
    return {currentImage: s.currentImage ?? null, name: n.metadata.name!, reboots: reboots(s.currentImage ?? ''), state: s.state ?? null}
  })

/** What every rollback takes besides its target: a plan to show, a confirmation, and whether to wait for the nodes. */
export interface ConfirmAndWait<Plan, Progress = WaitProgress> {
  force?: boolean
  dryRun?: boolean
  confirm?: (plan: Plan) => Promise<boolean>
  /** Wait until the nodes run what was rolled back to. */
  wait?: boolean
  timeoutMs?: number
  signal?: AbortSignal
  onProgress?: (p: Progress) => void
}

/**
 * Watch the pool's nodes until every one is Done at `image` (empty: no image) — or fail at the first
 * Degraded node, with the daemon's reason. Membership is taken from the pool's nodeSelector.
 */
export async function waitForPoolImage(
  client: KubeClient,
  pool: MachineConfigPool,
  image: string,
  opts: {signal?: AbortSignal; timeoutMs?: number; onProgress?: (p: WaitProgress) => void},
): Promise<WaitProgress> {
  const name = pool.metadata.name!
  const nodes = new Map<string, Node>()
  let synced = false
  let last = ''
  const next = `the rollout goes on in the cluster; follow it with \`oc mob status ${name} --watch\``
  return withTimeout(opts.signal, opts.timeoutMs, `the nodes of pool ${name} to run ${image}`, next, async (signal) => {
    for await (const ev of informer<Node>(client, R.nodes, {labelSelector: selectorString(pool.spec?.nodeSelector), signal})) {
      if (ev.type === 'SYNCED') {
        synced = true
        for (const n of ev.objects) nodes.set(n.metadata.name!, n)
      } else if (ev.type === 'DELETED') nodes.delete(ev.object.metadata.name!)
      else nodes.set(ev.object.metadata.name!, ev.object)
      if (!synced) continue
      const members = [...nodes.values()].filter((n) => matchesSelector(pool.spec?.nodeSelector, n.metadata.labels))
      const degraded = members.find((n) => nodeMcoState(n).state === 'Degraded' || nodeMcoState(n).state === 'Unreconcilable')
      if (degraded) {
        const s = nodeMcoState(degraded)
        throw new MobError(`node ${degraded.metadata.name} of pool ${name} is ${s.state}: ${s.reason ?? 'no reason given'}`, {
          exitCode: ExitCode.Failed,
          next: `see \`oc mob status ${name}\`; the machine-config daemon's log on the node says more`,
        })
      }

      const done = members.filter((n) => {
        const s = nodeMcoState(n)
        return (
          s.state === 'Done' &&
          (s.currentImage ?? '') === image &&
          (s.desiredImage ?? '') === image &&
          nodeReady(n) &&
          !n.spec?.unschedulable
        )
      })
      const progress = {
        done: done.length,
        pending: members.filter((n) => !done.includes(n)).map((n) => n.metadata.name!),
        total: members.length,
      }
      const key = `${progress.done}/${progress.total}`
      if (key !== last) {
        last = key
        opts.onProgress?.(progress)
      }

      if (progress.done === progress.total) return progress
    }

    throw new MobError('the watch of the nodes ended early', {exitCode: ExitCode.Unreachable, next})
  })
}
