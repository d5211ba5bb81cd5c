/**
 * Where everything stands: pools, their builds and images, the machine-os-builder, and (for one
 * pool) each node. One list request per kind, whatever the size of the cluster.
 */
import {ExitCode, MobError} from './errors.js'
import type {KubeClient} from './kube/client.js'
import {discover} from './kube/discovery.js'
import {R} from './kube/resources.js'
import type {Deployment, MachineConfigPool, Node, Pod} from './kube/types.js'
import {MACHINE_OS_BUILDER, MACHINE_OS_BUILDER_SELECTOR, MCO_NAMESPACE} from './mco/constants.js'
import {
  type BuildState, isLayered, nodeMcoState, nodeReady, poolBuild, poolImage, poolOfNode, renderedConfig,
} from './mco/pool-state.js'

export interface PoolStatus {
  name: string
  /** Opted into on-cluster builds (has the layering-enabled label). */
  layered: boolean
  paused: boolean
  /** The rendered MachineConfig the pool targets (spec.configuration.name). */
  renderedConfig: string | null
  /** The rendered MachineConfig all of the pool's nodes have reached (status.configuration.name). */
  currentConfig: string | null
  build: {state: BuildState; reason: string | null; message: string | null; since: string | null}
  /** Digested pullspec from the newestImageEquivalentConfig annotation. */
  image: string | null
  nodes: {total: number; updated: number; ready: number; unavailable: number; degraded: number}
  updated: boolean
  updating: boolean
  degraded: boolean
}

export interface NodeStatus {
  name: string
  pool: string | null
  ready: boolean
  schedulable: boolean
  state: string | null
  reason: string | null
  desiredConfig: string | null
  currentConfig: string | null
  desiredImage: string | null
  currentImage: string | null
}

export interface BuilderStatus {
  /** The machine-os-builder Deployment exists. */
  deployed: boolean
  /** At least one of its pods is Running and ready. */
  running: boolean
  pods: Array<{name: string; phase: string; ready: boolean}>
}

export interface StatusResult {
  context: string
  server: string
  machineOSBuilder: BuilderStatus
  pools: PoolStatus[]
  /** Present when one pool was asked for. */
  nodes?: NodeStatus[]
}

const n = (v: string | undefined): string | null => v ?? null

function poolStatus(p: MachineConfigPool): PoolStatus {
  const build = poolBuild(p)
  const cond = (t: string): boolean => p.status?.conditions?.some((c) => c.type === t && c.status === 'True') ?? false
  return {
    build: {message: n(build.message), reason: n(build.reason), since: n(build.since), state: build.state},
    currentConfig: n(p.status?.configuration?.name),
    degraded: cond('Degraded'),
    image: n(poolImage(p)),
    layered: isLayered(p),
    name: p.metadata.name!,
    nodes: {
      degraded: p.status?.degradedMachineCount ?? 0,
      ready: p.status?.readyMachineCount ?? 0,
      total: p.status?.machineCount ?? 0,
      unavailable: p.status?.unavailableMachineCount ?? 0,
      updated: p.status?.updatedMachineCount ?? 0,
    },
    paused: Boolean(p.spec?.paused),
    renderedConfig: n(renderedConfig(p)),
    updated: cond('Updated'),
    updating: cond('Updating'),
  }
}

function nodeStatus(node: Node, pools: MachineConfigPool[]): NodeStatus {
  const s = nodeMcoState(node)
  return {
    currentConfig: n(s.currentConfig),
    currentImage: n(s.currentImage),
    desiredConfig: n(s.desiredConfig),
    desiredImage: n(s.desiredImage),
    name: node.metadata.name!,
    pool: n(poolOfNode(node, pools)),
    reason: n(s.reason),
    ready: nodeReady(node),
    schedulable: !node.spec?.unschedulable,
    state: n(s.state),
  }
}

export async function requireMachineConfigApi(client: KubeClient): Promise<void> {
  const d = await discover(client)
  if (!d.machineConfig) {
    throw new MobError(`the cluster at ${client.server} does not serve machineconfiguration.openshift.io/v1`, {
      exitCode: ExitCode.Unavailable,
      next: 'oc-mob needs an OpenShift cluster (4.14 or later) with the Machine Config Operator; check --context',
    })
  }
}

export function poolNotFound(name: string, pools: MachineConfigPool[]): MobError {
  const names = pools.map((p) => p.metadata.name).sort()
  return new MobError(`pool ${name} not found; pools are: ${names.length > 0 ? names.join(', ') : '(none)'}`, {
    code: 'PoolNotFound',
    exitCode: ExitCode.NotFound,
    next: names.length > 0 ? `run \`oc mob status ${names[0]}\` with one of them, or create the pool with \`oc mob setup\`` : 'create a pool with `oc mob setup`',
  })
}

async function builderStatus(client: KubeClient): Promise<BuilderStatus> {
  const [deployments, pods] = await Promise.all([
    client.list<Deployment>(R.deployments, {fieldSelector: `metadata.name=${MACHINE_OS_BUILDER}`, namespace: MCO_NAMESPACE}),
    client.list<Pod>(R.pods, {labelSelector: MACHINE_OS_BUILDER_SELECTOR, namespace: MCO_NAMESPACE}),
  ])
  const podRows = pods.items.map((p) => ({
    name: p.metadata.name!,
    phase: p.status?.phase ?? 'Unknown',
    ready: p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
  }))
  return {
    deployed: deployments.items.length > 0,
    pods: podRows,
    running: podRows.some((p) => p.phase === 'Running' && p.ready),
  }
}

/**
 * Like Promise.all (the requests run concurrently), but when several fail the error reported is the
 * first in the given order, not whichever answer arrived first: the same failure gives the same message.
 */
async function settleInOrder<T extends readonly unknown[]>(promises: T): Promise<{-readonly [K in keyof T]: Awaited<T[K]>}> {
  const settled = await Promise.allSettled(promises)
  for (const s of settled) if (s.status === 'rejected') throw s.reason
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as {-readonly [K in keyof T]: Awaited<T[K]>}
}

export async function getStatus(client: KubeClient, opts: {pool?: string} = {}): Promise<StatusResult> {
  await requireMachineConfigApi(client)
  const [pools, builder, nodes] = await settleInOrder([
    client.list<MachineConfigPool>(R.machineConfigPools),
    builderStatus(client),
    opts.pool ? client.list<Node>(R.nodes) : Promise.resolve(undefined),
  ] as const)
  const sorted = pools.items.sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!))
  // Key order is part of the documented -o json shape: context, server, machineOSBuilder, pools, nodes.
  const result: StatusResult = {
    context: client.context,
    server: client.server, // eslint-disable-line perfectionist/sort-objects
    machineOSBuilder: builder, // eslint-disable-line perfectionist/sort-objects
    pools: sorted.map((p) => poolStatus(p)),
  }
  if (opts.pool) {
    const pool = sorted.find((p) => p.metadata.name === opts.pool)
    if (!pool) throw poolNotFound(opts.pool, sorted)
    result.pools = [poolStatus(pool)]
    result.nodes = nodes!.items
      .map((node) => nodeStatus(node, sorted))
      .filter((s) => s.pool === opts.pool)
      .sort((a, b) => a.name.localeCompare(b.name))
  }

  return result
}
