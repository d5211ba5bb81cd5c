/**
 * Each node's way through a rollout (queued, cordoned and updating, rebooting, done — or degraded),
 * followed by watching nodes and pools.
 */
import {ExitCode, MobError} from '../errors.js'
import type {KubeClient} from '../kube/client.js'
import {R} from '../kube/resources.js'
import type {MachineConfigPool, Node} from '../kube/types.js'
import {withTimeout} from '../kube/wait.js'
import {Seen, watchAll} from '../kube/watch-many.js'
import {nodeMcoState, nodeReady, poolOfNode} from '../mco/pool-state.js'
import {compareText} from '../order.js'

export type NodePhase = 'degraded' | 'done' | 'queued' | 'rebooting' | 'updating'

export interface NodeProgress {
  name: string
  /** The pool the node belongs to now. */
  pool: string | null
  phase: NodePhase
  message: string
  desiredConfig: string | null
  currentConfig: string | null
  desiredImage: string | null
  currentImage: string | null
}

export interface FollowNodesOptions {
  signal?: AbortSignal
  timeoutMs?: number
  /** The image the nodes of a pool should run (undefined: none yet, or not layered). */
  imageOf: (pool: MachineConfigPool) => string | undefined
  /** Whether the pool's nodes wait for an image (layered) before they are updated. */
  waitsForImage: (pool: MachineConfigPool) => boolean
  onNode?: (p: NodeProgress) => void
  /** What to tell the user when the wait is cut short. */
  next?: string
}

/** Where one node stands relative to the pool it belongs to. */
export function nodeProgress(
  node: Node,
  pools: MachineConfigPool[],
  opts: Pick<FollowNodesOptions, 'imageOf' | 'waitsForImage'>,
): NodeProgress {
  const s = nodeMcoState(node)
  const poolName = poolOfNode(node, pools)
  const pool = pools.find((p) => p.metadata.name === poolName)
  const base = {
    currentConfig: s.currentConfig ?? null,
    currentImage: s.currentImage ?? null,
    desiredConfig: s.desiredConfig ?? null,
    desiredImage: s.desiredImage ?? null,
    name: node.metadata.name!,
    pool: poolName ?? null,
  }
  if (s.state === 'Degraded' || s.state === 'Unreconcilable') {
    return {...base, message: `${s.state}: ${s.reason || 'no reason given'}`, phase: 'degraded'}
  }

  if (!pool) return {...base, message: 'the node belongs to no pool (no pool selects it)', phase: 'queued'}
  const target = pool.spec?.configuration?.name
  const image = opts.imageOf(pool)
  if (opts.waitsForImage(pool) && !image) {
    return {...base, message: `waiting for the image of pool ${poolName} to be built`, phase: 'queued'}
  }

  const wantImage = image ?? ''
  const desiredOk = s.desiredConfig === target && (s.desiredImage ?? '') === wantImage
  if (!desiredOk) {
    return {
      ...base,
      message: pool.spec?.paused
        ? `pool ${poolName} is paused`
        : `waiting for its turn (pool ${poolName}, maxUnavailable ${pool.spec?.maxUnavailable ?? 1})`,
      phase: 'queued',
    }
  }

  const currentOk = s.currentConfig === target && (s.currentImage ?? '') === wantImage
  if (currentOk && s.state === 'Done') {
    if (node.spec?.unschedulable || !nodeReady(node)) return {...base, message: 'coming back (uncordon)', phase: 'rebooting'}
    return {...base, message: image ? `on ${image}` : `on ${target}`, phase: 'done'}
  }

  if (!nodeReady(node)) return {...base, message: 'rebooting', phase: 'rebooting'}
  if (node.spec?.unschedulable)
    return {
      ...base,
      message: image ? `cordoned and drained; rebasing onto ${image}` : `cordoned and drained; applying ${target}`,
      phase: 'updating',
    }
  return {...base, message: s.state === 'Working' ? 'updating' : `update to ${target} requested`, phase: 'updating'}
}

/**
 * Follow nodes until each is done on its pool's config (and image), reporting every change of
 * phase. A node that goes Degraded ends the wait with exit code 8 and the daemon's reason.
 */
export async function followNodes(client: KubeClient, names: string[], opts: FollowNodesOptions): Promise<NodeProgress[]> {
  const want = new Set(names)
  const last = new Map<string, string>()
  return withTimeout(
    opts.signal,
    opts.timeoutMs,
    `node${names.length === 1 ? '' : 's'} ${names.join(', ')}`,
    opts.next ?? 'follow the nodes with `oc mob status POOL`',
    async (signal) => {
      const seen = new Seen<'nodes' | 'pools'>()
      for await (const t of watchAll(
        client,
        [
          {resource: R.nodes, source: 'nodes' as const},
          {resource: R.machineConfigPools, source: 'pools' as const},
        ],
        signal,
      )) {
        seen.apply(t)
        if (!seen.ready('nodes', 'pools')) continue
        const pools = seen.all<MachineConfigPool>('pools')
        const nodes = seen.all<Node>('nodes').filter((n) => want.has(n.metadata.name!))
        const progress = nodes.map((n) => nodeProgress(n, pools, opts)).sort((a, b) => compareText(a.name, b.name))
        for (const p of progress) {
          // Back from the reboot, the daemon still has to record the new config and uncordon.
          if (p.phase === 'updating' && last.get(p.name)?.startsWith('rebooting|')) {
            p.phase = 'rebooting'
            p.message = 'back up; the daemon finishes the update'
          }

          const key = `${p.phase}|${p.message}`
          if (last.get(p.name) !== key) {
            last.set(p.name, key)
            opts.onNode?.(p)
          }
        }

        const degraded = progress.find((p) => p.phase === 'degraded')
        if (degraded) {
          throw new MobError(`node ${degraded.name} is ${degraded.message}`, {
            code: 'NodeDegraded',
            exitCode: ExitCode.Failed,
            next: /layered to non-layered/.test(degraded.message)
              ? `on 4.14/4.15 a node cannot leave a layered image by itself: take it off its image with \`oc mob rollback node ${degraded.name}\` (it replaces the machine)`
              : `see the machine-config daemon's log on the node (\`oc logs -n openshift-machine-config-operator -c machine-config-daemon $(oc get pods -n openshift-machine-config-operator -o name --field-selector spec.nodeName=${degraded.name} -l k8s-app=machine-config-daemon)\`)`,
          })
        }

        if (progress.length === want.size && progress.every((p) => p.phase === 'done')) return progress
      }

      throw new MobError('the watch ended early', {exitCode: ExitCode.Unreachable})
    },
  )
}
