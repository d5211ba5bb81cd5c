/**
 * `oc mob nodes add|remove POOL NODE...`: moving nodes into or out of a custom pool by its node
 * selector label (`node-role.kubernetes.io/<pool>` for pools made by setup), the seed's "Rolling
 * out" step 2. Before anything changes it says which nodes will be cordoned, drained and rebooted,
 * in which order (the node controller takes them by name, `maxUnavailable` at a time); it refuses
 * control-plane nodes, nodes of another custom pool, and — on 4.14/4.15, without --force — taking a
 * node off a layered image, which its daemon refuses to do.
 */
import {ExitCode, MobError} from '../errors.js'
import {confirmationNeeded} from '../ui/confirm.js'
import type {KubeClient} from '../kube/client.js'
import {R} from '../kube/resources.js'
import type {MachineConfigPool, Node} from '../kube/types.js'
import {nodeMcoState, poolOfNode} from '../mco/pool-state.js'
import {poolNotFound} from '../cluster/pools.js'
import {accessCheck} from './access.js'
import {followNodes, type NodeProgress} from '../rollout/follow-nodes.js'
import {machineOSPoolImages, type MachineOSBuild, type MachineOSConfig} from '../mco/machine-os.js'
import {detectBackend} from './generation.js'
import {throwIfFailed} from './preflight.js'

export interface NodesOptions {
  dryRun?: boolean
  yes?: boolean
  /** Remove nodes that run a layered image although their daemon cannot roll back (4.14/4.15). */
  force?: boolean
  /** Follow each node until it is done on its new pool's config. */
  wait?: boolean
  timeoutMs?: number
  signal?: AbortSignal
  confirm?: (plan: NodesPlan) => Promise<boolean>
  onPlan?: (plan: NodesPlan) => void
  onNode?: (p: NodeProgress) => void
}

export interface NodeChange {
  name: string
  /** Pool the node is in now, and the one it will be in. */
  from: string | null
  to: string | null
  /** False when the node is already where it should be. */
  changes: boolean
  /** The node runs a layered image now. */
  layeredImage: string | null
}

export interface NodesPlan {
  action: 'add' | 'remove'
  pool: string
  /** The labels added (or removed). */
  labels: Record<string, string>
  nodes: NodeChange[]
  /**
   * The order in which the cluster updates (cordons, drains and reboots) the changed nodes: one
   * batch at a time, at most maxUnavailable nodes per batch, by node name.
   */
  batches: string[][]
  /** The pool whose maxUnavailable applies, and its value. */
  rollout: {pool: string; maxUnavailable: number; paused: boolean}
  warnings: string[]
}

export interface NodesResult extends NodesPlan {
  outcome: 'applied' | 'cancelled' | 'dry-run' | 'unchanged'
  /** With --wait: where each changed node ended up. */
  progress: NodeProgress[] | null
}

const CONTROL_PLANE_LABELS = ['node-role.kubernetes.io/master', 'node-role.kubernetes.io/control-plane']

export function isControlPlane(node: Node): boolean {
  return CONTROL_PLANE_LABELS.some((l) => Object.hasOwn(node.metadata.labels ?? {}, l))
}

/** maxUnavailable of a pool for `total` nodes, as the node controller reads it (default 1, percentages rounded down, at least 1). */
export function maxUnavailable(pool: MachineConfigPool | undefined, total: number): number {
  const v = pool?.spec?.maxUnavailable
  if (v === undefined || v === null || v === '') return 1
  if (typeof v === 'number') return Math.max(v, 1)
  const m = /^(\d+)%$/.exec(v)
  if (m) return Math.max(Math.floor((Number(m[1]) * total) / 100), 1)
  return Math.max(Number(v) || 1, 1)
}

export function batches(names: string[], size: number): string[][] {
  const sorted = [...names].sort()
  const out: string[][] = []
  for (let i = 0; i < sorted.length; i += size) out.push(sorted.slice(i, i + size))
  return out
}

/** The labels a node needs to be selected by the pool: its nodeSelector's matchLabels. */
export function poolLabels(pool: MachineConfigPool): Record<string, string> {
  const labels = pool.spec?.nodeSelector?.matchLabels ?? {}
  if (Object.keys(labels).length === 0 || (pool.spec?.nodeSelector?.matchExpressions?.length ?? 0) > 0) {
    throw new MobError(
      `pool ${pool.metadata.name} selects its nodes with ${JSON.stringify(pool.spec?.nodeSelector ?? {})}, not with plain labels; oc-mob cannot tell which label to set`,
      {
        exitCode: ExitCode.Invalid,
        next: `label the nodes yourself (\`oc label node NODE KEY=VALUE\`)`,
      },
    )
  }

  return labels
}

function refuse(message: string, next: string, details: string[] = []): MobError {
  return new MobError(message, {details, exitCode: ExitCode.Invalid, next})
}

async function changeNodes(
  client: KubeClient,
  poolName: string,
  names: string[],
  action: 'add' | 'remove',
  opts: NodesOptions,
): Promise<NodesResult> {
  const backend = await detectBackend(client)
  const [pools, nodes] = await Promise.all([client.list<MachineConfigPool>(R.machineConfigPools), client.list<Node>(R.nodes)])
  // 4.18+: which pools a MachineOSConfig opts in, and their images (the pools carry no annotation).
  let images: Map<string, string | undefined> | undefined
  if (backend.generation === 'machineosconfig') {
    const [configs, builds] = await Promise.all([
      client.list<MachineOSConfig>(R.machineOSConfigs),
      client.list<MachineOSBuild>(R.machineOSBuilds),
    ])
    images = machineOSPoolImages(configs.items, builds.items, pools.items)
  }

  const imageOf = (p: MachineConfigPool): string | undefined => (images ? images.get(p.metadata.name!) : backend.poolImage(p))
  const waitsForImage = (p: MachineConfigPool): boolean => (images ? images.has(p.metadata.name!) : backend.waitsForImage(p))
  const pool = pools.items.find((p) => p.metadata.name === poolName)
  if (!pool) throw poolNotFound(poolName, pools.items)
  if (poolName === 'master')
    throw refuse('nodes are not moved into or out of the master pool by oc-mob', 'control-plane nodes stay in the master pool')
  const labels = poolLabels(pool)
  const wanted = [...new Set(names)]
  const missing = wanted.filter((n) => !nodes.items.some((x) => x.metadata.name === n))
  if (missing.length > 0) {
    throw new MobError(`node${missing.length === 1 ? '' : 's'} not found: ${missing.join(', ')}`, {
      code: 'NodeNotFound',
      exitCode: ExitCode.NotFound,
      next: 'see the nodes with `oc get nodes`',
    })
  }

  const selected = wanted.map((n) => nodes.items.find((x) => x.metadata.name === n)!)
  const controlPlane = selected.filter((n) => isControlPlane(n)).map((n) => n.metadata.name!)
  if (controlPlane.length > 0) {
    throw refuse(
      `refusing control-plane node${controlPlane.length === 1 ? '' : 's'} ${controlPlane.join(', ')}: control-plane nodes stay in the master pool`,
      'pick worker nodes (`oc get nodes -l node-role.kubernetes.io/worker`)',
    )
  }

  const relabel = (node: Node): Node => {
    const l = {...node.metadata.labels}
    for (const [k, v] of Object.entries(labels)) {
      if (action === 'add') l[k] = v
      else delete l[k]
    }

    return {...node, metadata: {...node.metadata, labels: l}}
  }

  const changes: NodeChange[] = selected.map((n) => {
    const from = poolOfNode(n, pools.items) ?? null
    const to = poolOfNode(relabel(n), pools.items) ?? null
    const s = nodeMcoState(n)
    return {
      changes:
        from !== to ||
        Object.entries(labels).some(([k, v]) =>
          action === 'add' ? n.metadata.labels?.[k] !== v : Object.hasOwn(n.metadata.labels ?? {}, k),
        ),
      from,
      layeredImage: s.currentImage ?? null,
      name: n.metadata.name!,
      to,
    }
  })

  if (action === 'add') {
    const elsewhere = changes.filter((c) => c.from && c.from !== poolName && c.from !== 'worker')
    if (elsewhere.length > 0) {
      throw refuse(
        `refusing node${elsewhere.length === 1 ? '' : 's'} of another custom pool: ${elsewhere.map((c) => `${c.name} (pool ${c.from})`).join(', ')}`,
        `remove ${elsewhere.length === 1 ? 'it' : 'them'} from ${elsewhere.length === 1 ? 'that pool' : 'those pools'} first: \`oc mob nodes remove ${elsewhere[0].from} ${elsewhere
          .filter((c) => c.from === elsewhere[0].from)
          .map((c) => c.name)
          .join(' ')}\``,
      )
    }
  } else {
    const outside = changes.filter((c) => c.from !== poolName)
    if (outside.length > 0) {
      throw refuse(
        `not in pool ${poolName}: ${outside.map((c) => `${c.name} (pool ${c.from ?? 'none'})`).join(', ')}`,
        `see the pool's nodes with \`oc mob status ${poolName}\``,
      )
    }
  }

  const moving = changes.filter((c) => c.changes)
  const warnings: string[] = []
  if (action === 'remove') {
    const layered = moving.filter((c) => c.layeredImage)
    if (layered.length > 0 && !backend.nodesCanRevert) {
      const which = layered.map((c) => c.name).join(', ')
      const text = `${which} run${layered.length === 1 ? 's' : ''} a layered image, and on 4.14/4.15 a node cannot roll back from a layered to a non-layered configuration: once out of pool ${poolName}, its daemon refuses and the node goes Degraded ("rolling back from a layered to non-layered configuration is not currently supported")`
      if (!opts.force) {
        throw refuse(
          `refusing to remove ${which} from pool ${poolName}: ${text}`,
          `take ${layered.length === 1 ? 'it' : 'them'} off the layered image with \`oc mob rollback node ${layered[0].name}\` (it replaces the machine), or pass --force to remove ${layered.length === 1 ? 'it' : 'them'} anyway and deal with the Degraded node${layered.length === 1 ? '' : 's'}`,
        )
      }

      warnings.push(`${text}; going ahead because of --force`)
    }

    const orphans = moving.filter((c) => !c.to)
    if (orphans.length > 0)
      warnings.push(
        `${orphans.map((c) => c.name).join(', ')} will belong to no pool afterwards (no pool selects ${orphans.length === 1 ? 'it' : 'them'}): the Machine Config Operator stops managing ${orphans.length === 1 ? 'it' : 'them'}`,
      )
  }

  // The pool that rolls the nodes: the target for add, the destination for remove.
  const rollPoolName = action === 'add' ? poolName : (moving.find((c) => c.to)?.to ?? 'worker')
  const rollPool = pools.items.find((p) => p.metadata.name === rollPoolName)
  const total = nodes.items.filter((n) => poolOfNode(n, pools.items) === rollPoolName).length + (action === 'add' ? moving.length : 0)
  const max = maxUnavailable(rollPool, total)
  if (rollPool?.spec?.paused) warnings.push(`pool ${rollPoolName} is paused: its nodes are not updated until it is unpaused`)
  if (action === 'add' && waitsForImage(pool) && !imageOf(pool)) {
    warnings.push(`pool ${poolName} is opted in but has no image yet: the nodes are updated once its build succeeds`)
  }

  const plan: NodesPlan = {
    action,
    batches: batches(
      moving.map((c) => c.name),
      max,
    ),
    labels,
    nodes: changes,
    pool: poolName,
    rollout: {maxUnavailable: max, paused: Boolean(rollPool?.spec?.paused), pool: rollPoolName},
    warnings,
  }
  const access = moving.map((c) => ({group: '', name: c.name, resource: 'nodes', verb: 'patch'}))
  if (access.length > 0)
    throwIfFailed(
      [await accessCheck(client, access, `${action === 'add' ? 'label' : 'unlabel'} the nodes`, opts.signal)],
      `cannot ${action} nodes`,
    )
  opts.onPlan?.(plan)
  if (moving.length === 0) return {...plan, outcome: 'unchanged', progress: null}
  if (opts.dryRun) return {...plan, outcome: 'dry-run', progress: null}
  if (!opts.yes) {
    if (!opts.confirm) {
      throw confirmationNeeded(
        `${action === 'add' ? 'adding' : 'removing'} nodes reboots them and there is no terminal to confirm on; nothing was changed`,
        're-run with --yes (or look first with --dry-run)',
      )
    }

    if (!(await opts.confirm(plan))) return {...plan, outcome: 'cancelled', progress: null}
  }

  const patch = {metadata: {labels: Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, action === 'add' ? v : null]))}}
  const labelled: string[] = []
  for (const c of moving) {
    try {
      if (opts.signal?.aborted) throw opts.signal.reason
      await client.patch<Node>(R.nodes, c.name, patch)
    } catch (error) {
      if ((error as MobError).exitCode !== ExitCode.Interrupted && !opts.signal?.aborted) throw error
      const rest = moving.filter((m) => !labelled.includes(m.name)).map((m) => m.name)
      throw new MobError(
        `interrupted: ${action === 'add' ? 'labelled' : 'unlabelled'} ${labelled.length > 0 ? labelled.join(', ') : 'no node'}; not done (or not known to be done): ${rest.join(', ')}`,
        {
          code: 'Interrupted',
          exitCode: ExitCode.Interrupted,
          next: `run \`oc mob nodes ${action} ${poolName} ${moving.map((m) => m.name).join(' ')}\` again: nodes already moved are left as they are`,
        },
      )
    }

    labelled.push(c.name)
  }

  let progress: NodeProgress[] | null = null
  if (opts.wait) {
    progress = await followNodes(
      client,
      moving.map((c) => c.name),
      {
        imageOf,
        next: `the nodes go on updating in the cluster: \`oc mob status ${rollPoolName}\``,
        onNode: opts.onNode,
        signal: opts.signal,
        timeoutMs: opts.timeoutMs,
        waitsForImage,
      },
    )
  }

  return {...plan, outcome: 'applied', progress}
}

export async function addNodes(client: KubeClient, pool: string, nodes: string[], opts: NodesOptions = {}): Promise<NodesResult> {
  return changeNodes(client, pool, nodes, 'add', opts)
}

export async function removeNodes(client: KubeClient, pool: string, nodes: string[], opts: NodesOptions = {}): Promise<NodesResult> {
  return changeNodes(client, pool, nodes, 'remove', opts)
}
