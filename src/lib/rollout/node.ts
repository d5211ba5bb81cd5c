/**
 * `oc mob rollback node NODE`: take one node off its layered image.
 *
 * --replace-machine is the seed's procedure for IPI clusters (delete the Machine named by the node's
 * `machine.openshift.io/machine` annotation and the Node; the MachineSet creates a fresh, non-layered
 * worker), with the checks the seed's script lacks: the machine API is served, the node really has
 * a Machine owned by a MachineSet that will replace it, and the pool keeps enough capacity.
 *
 * --remove-from-pool moves the node out of its layered pool by removing the label the pool's
 * nodeSelector matches. On the 4.14/4.15 generation (no MachineOSConfig API served) the daemon
 * refuses to leave a layered image and the node goes Degraded, so that needs --force.
 */
import {ExitCode, MobError, invalidInput as invalid} from '../errors.js'
import type {KubeClient} from '../kube/client.js'
import {discover} from '../kube/discovery.js'
import {R} from '../kube/resources.js'
import type {KubeObject, Machine, MachineConfigPool, Node} from '../kube/types.js'
import {withTimeout} from '../kube/wait.js'
import {informer, waitFor} from '../kube/watch.js'
import {matchesSelector, nodeMcoState, nodeReady, poolOfNode, renderedConfig} from '../mco/pool-state.js'
import {requireMachineConfigApi} from '../cluster/pools.js'
import {type ConfirmAndWait, isUnavailable, maxUnavailable, membersOf} from './nodes.js'

export const MACHINE_ANNOTATION = 'machine.openshift.io/machine'
export const ROLLBACK_UNSUPPORTED = 'rolling back from a layered to non-layered configuration is not currently supported'

export type NodeMethod = 'remove-from-pool' | 'replace-machine'

interface MachineSet extends KubeObject {
  spec?: {replicas?: number; selector?: {matchLabels?: Record<string, string>}}
}

export interface NodeRollbackPlan {
  node: string
  method: NodeMethod
  /** The pool the node is in now. */
  pool: string | null
  currentImage: string | null
  /** The cluster serves MachineOSConfig (4.18+), whose daemon can take a node off a layered image. */
  daemonCanRevert: boolean
  /** The pool's members and how many are unavailable now, and how many may be. */
  capacity: {members: number; unavailable: number; maxUnavailable: number}
  /** replace-machine: the Machine deleted and the MachineSet that replaces it. */
  machine: {namespace: string; name: string; machineSet: string; replicas: number} | null
  /** remove-from-pool: the node labels removed, and the pool the node then belongs to. */
  removeLabels: string[]
  newPool: string | null
  warnings: string[]
}

export interface NodeRollbackResult extends NodeRollbackPlan {
  outcome: 'declined' | 'done' | 'dry-run'
  /** replace-machine with wait: the new Machine and its Node. */
  replacement: {machine: string; node: string} | null
  /** remove-from-pool with wait: where the node ended up. */
  final: {state: string | null; currentConfig: string | null; currentImage: string | null} | null
}

export interface NodeRollbackOptions extends ConfirmAndWait<NodeRollbackPlan, string> {
  method: NodeMethod
}

function isControlPlane(node: Node): boolean {
  const l = node.metadata.labels ?? {}
  return Object.hasOwn(l, 'node-role.kubernetes.io/master') || Object.hasOwn(l, 'node-role.kubernetes.io/control-plane')
}

async function deleteExactly(client: KubeClient, r: typeof R.machines | typeof R.nodes, o: KubeObject): Promise<void> {
  const outcome = await client.deleteExact(r, {name: o.metadata.name!, namespace: o.metadata.namespace, uid: o.metadata.uid})
  if (outcome === 'changed') {
    throw new MobError(`${r.kind} ${o.metadata.name} changed while oc-mob was checking it (it was replaced); nothing more was deleted`, {
      exitCode: ExitCode.Failed,
      next: 'run the command again to check the new state',
    })
  }
}

export async function rollbackNode(client: KubeClient, nodeName: string, opts: NodeRollbackOptions): Promise<NodeRollbackResult> {
  await requireMachineConfigApi(client)
  const apis = await discover(client)
  if (opts.method === 'replace-machine' && !apis.machine) {
    throw new MobError(
      `the cluster at ${client.server} does not serve the machine API (machine.openshift.io/v1beta1): no MachineSet would replace node ${nodeName}`,
      {
        code: 'NoMachineAPI',
        exitCode: ExitCode.Unavailable,
        next: 'on clusters without the machine API (user-provisioned, bare metal) reinstall the node from the non-layered OS image by hand; on OpenShift 4.18 or later `--remove-from-pool` takes it off the image',
      },
    )
  }

  const [node, pools, nodes] = await Promise.all([
    client.find<Node>(R.nodes, nodeName, undefined, opts.signal),
    client.list<MachineConfigPool>(R.machineConfigPools, {signal: opts.signal}),
    client.list<Node>(R.nodes, {signal: opts.signal}),
  ])
  if (!node)
    throw new MobError(`node ${nodeName} not found`, {
      code: 'NodeNotFound',
      exitCode: ExitCode.NotFound,
      next: "list the nodes with `oc get nodes` (or a pool's with `oc mob status POOL`)",
    })
  const s = nodeMcoState(node)
  const poolName = poolOfNode(node, pools.items) ?? null
  const pool = pools.items.find((p) => p.metadata.name === poolName)
  const members = poolName ? membersOf(poolName, nodes.items, pools.items) : [node]
  const capacity = {
    maxUnavailable: pool ? maxUnavailable(pool, members.length) : 1,
    members: members.length,
    unavailable: members.filter((n) => isUnavailable(n)).length,
  }
  const onImage = Boolean(s.currentImage || s.desiredImage)
  const plan: NodeRollbackPlan = {
    capacity,
    currentImage: s.currentImage ?? null,
    daemonCanRevert: apis.machineOS,
    machine: null,
    method: opts.method,
    newPool: null,
    node: nodeName,
    pool: poolName,
    removeLabels: [],
    warnings: [],
  }
  if (isControlPlane(node)) {
    throw invalid(
      `node ${nodeName} is a control-plane node; oc-mob does not replace or move control-plane nodes`,
      'control-plane machines are replaced through the control-plane machine set, by hand',
    )
  }

  if (!onImage) {
    if (!opts.force) {
      throw invalid(
        `node ${nodeName} does not run a layered image (no currentImage or desiredImage annotation): there is nothing to roll back`,
        'add --force to go ahead anyway',
      )
    }

    plan.warnings.push(`node ${nodeName} does not run a layered image`)
  }

  return opts.method === 'replace-machine'
    ? replaceMachine(client, node, plan, opts)
    : removeFromPool(client, node, pool, pools.items, plan, opts)
}

async function replaceMachine(
  client: KubeClient,
  node: Node,
  plan: NodeRollbackPlan,
  opts: NodeRollbackOptions,
): Promise<NodeRollbackResult> {
  const name = node.metadata.name!
  const ref = node.metadata.annotations?.[MACHINE_ANNOTATION]
  if (!ref?.includes('/')) {
    throw invalid(
      `node ${name} has no ${MACHINE_ANNOTATION} annotation: no Machine manages it, so nothing would replace it`,
      'reinstall the node from the non-layered OS image by hand, or (on OpenShift 4.18 or later) use --remove-from-pool',
    )
  }

  const [namespace, machineName] = ref.split('/')
  const machine = await client.find<Machine>(R.machines, machineName, namespace, opts.signal)
  if (!machine) throw invalid(`Machine ${ref} named by node ${name} does not exist`, `check \`oc get machines -n ${namespace}\``)
  if (machine.metadata.deletionTimestamp)
    throw invalid(`Machine ${ref} is already being deleted`, `follow it with \`oc get machines -n ${namespace} -w\``)
  const owner = machine.metadata.ownerReferences?.find((o) => o.kind === 'MachineSet' && o.controller !== false)
  if (!owner) {
    throw invalid(
      `Machine ${ref} is not owned by a MachineSet: deleting it would not bring a replacement`,
      'replace the node by hand, or (on OpenShift 4.18 or later) use --remove-from-pool',
    )
  }

  const set = await client.find<MachineSet>(R.machineSets, owner.name, namespace, opts.signal)
  if (!set)
    throw invalid(
      `MachineSet ${namespace}/${owner.name} that owns Machine ${machineName} does not exist: nothing would replace it`,
      'replace the node by hand',
    )
  const replicas = set.spec?.replicas ?? 0
  if (replicas < 1)
    throw invalid(
      `MachineSet ${owner.name} is scaled to 0: nothing would replace the machine`,
      `scale it up first: \`oc scale machineset ${owner.name} -n ${namespace} --replicas=1\``,
    )
  plan.machine = {machineSet: owner.name, name: machineName, namespace, replicas}

  const {capacity} = plan
  const after = capacity.unavailable + (isUnavailable(node) ? 0 : 1)
  if (after > capacity.maxUnavailable) {
    const msg = `replacing ${name} would leave pool ${plan.pool} with ${after} of ${capacity.members} nodes unavailable, more than its maxUnavailable ${capacity.maxUnavailable}`
    if (!opts.force) throw invalid(msg, `wait until the pool's other nodes are available (\`oc mob status ${plan.pool}\`), or add --force`)
    plan.warnings.push(msg)
  }

  if (capacity.members === 1) plan.warnings.push(`${name} is the only node of pool ${plan.pool}`)
  plan.warnings.push(
    `the replacement joins as a new worker node (pool worker, a new name), without the layered image; to put it in pool ${plan.pool} again, label it node-role.kubernetes.io/${plan.pool}=`,
  )
  const result: NodeRollbackResult = {...plan, final: null, outcome: 'dry-run', replacement: null}
  if (opts.dryRun) return result
  if (opts.confirm && !(await opts.confirm(plan))) return {...result, outcome: 'declined'}

  // What existed before, to tell the replacement apart.
  const before = await client.list<Machine>(R.machines, {namespace, signal: opts.signal})
  const known = new Set(before.items.map((m) => m.metadata.name!))
  opts.onProgress?.(`deleting machine ${machineName} and node ${name}`)
  await deleteExactly(client, R.machines, machine)
  await deleteExactly(client, R.nodes, node)
  if (!opts.wait) return {...result, outcome: 'done'}

  opts.onProgress?.(`waiting for MachineSet ${owner.name} to provision a replacement`)
  const deadline = opts.timeoutMs === undefined ? undefined : Date.now() + opts.timeoutMs
  const remaining = (): number | undefined => (deadline === undefined ? undefined : Math.max(1, deadline - Date.now()))
  const next = `the MachineSet goes on in the cluster; follow it with \`oc get machines -n ${namespace} -w\``
  const replacement = await withTimeout(
    opts.signal,
    remaining(),
    `a replacement Machine from MachineSet ${owner.name}`,
    next,
    async (signal) => {
      for await (const ev of informer<Machine>(client, R.machines, {namespace, signal})) {
        const list = ev.type === 'SYNCED' ? ev.objects : ev.type === 'DELETED' ? [] : [ev.object]
        let found: {machine: string; node: string} | undefined
        for (const m of list) {
          if (known.has(m.metadata.name!) || m.metadata.deletionTimestamp) continue
          if (!m.metadata.ownerReferences?.some((o) => o.kind === 'MachineSet' && o.name === owner.name)) continue
          if (!matchesSelector({matchLabels: set.spec?.selector?.matchLabels ?? {}}, m.metadata.labels)) continue
          if (m.status?.nodeRef?.name) found = {machine: m.metadata.name!, node: m.status.nodeRef.name}
          else opts.onProgress?.(`machine ${m.metadata.name} is ${m.status?.phase ?? 'being created'}`)
        }

        if (found) return found
      }

      throw new MobError('the watch of the machines ended early', {exitCode: ExitCode.Unreachable, next})
    },
  )
  opts.onProgress?.(`machine ${replacement.machine} runs as node ${replacement.node}; waiting for it to be Ready`)
  const nodeName = replacement.node
  await waitFor<Node, true>(client, R.nodes, nodeName, (n) => (n && nodeReady(n) ? true : undefined), {
    description: `node ${nodeName} to be Ready`,
    next: `follow it with \`oc get node ${nodeName} -w\``,
    signal: opts.signal,
    timeoutMs: remaining(),
  })
  return {...result, outcome: 'done', replacement}
}

async function removeFromPool(
  client: KubeClient,
  node: Node,
  pool: MachineConfigPool | undefined,
  pools: MachineConfigPool[],
  plan: NodeRollbackPlan,
  opts: NodeRollbackOptions,
): Promise<NodeRollbackResult> {
  const name = node.metadata.name!
  if (!pool || pool.metadata.name === 'worker' || pool.metadata.name === 'master') {
    throw invalid(
      `node ${name} is in pool ${plan.pool ?? '(none)'}, not in a custom pool it could be moved out of`,
      plan.pool ? `see the pool's nodes with \`oc mob status ${plan.pool}\`` : "see the node's labels with `oc get node --show-labels`",
    )
  }

  const labels = node.metadata.labels ?? {}
  const keys = Object.keys(pool.spec?.nodeSelector?.matchLabels ?? {}).filter((k) => Object.hasOwn(labels, k))
  if (keys.length === 0) {
    throw invalid(
      `cannot tell which label puts node ${name} in pool ${pool.metadata.name}: its nodeSelector has no matchLabels the node carries`,
      `remove the label by hand (\`oc get mcp ${pool.metadata.name} -o jsonpath='{.spec.nodeSelector}'\` shows the selector)`,
    )
  }

  plan.removeLabels = keys
  const moved: Node = {
    ...node,
    metadata: {...node.metadata, labels: Object.fromEntries(Object.entries(labels).filter(([k]) => !keys.includes(k)))},
  }
  const newPool = poolOfNode(moved, pools) ?? null
  plan.newPool = newPool
  if (!newPool) {
    const msg = `without ${keys.join(', ')} node ${name} belongs to no pool: the machine-config controller would stop managing it`
    if (!opts.force) throw invalid(msg, 'add --force to go ahead anyway')
    plan.warnings.push(msg)
  }

  if (plan.currentImage && !plan.daemonCanRevert) {
    const msg = `on this cluster (the OpenShift 4.14/4.15 generation: the MachineOSConfig API is not served) the machine-config daemon cannot take a node off a layered image: node ${name} would go Degraded ("${ROLLBACK_UNSUPPORTED}") and stay on its image`
    if (!opts.force) {
      throw invalid(
        msg,
        `replace the node instead: \`oc mob rollback node ${name} --replace-machine\` (IPI clusters); --force moves it anyway`,
      )
    }

    plan.warnings.push(msg)
  } else if (plan.currentImage) {
    plan.warnings.push(`the daemon rebases node ${name} onto the non-layered OS image of pool ${newPool} (two reboots)`)
  }

  const result: NodeRollbackResult = {...plan, final: null, outcome: 'dry-run', replacement: null}
  if (opts.dryRun) return result
  if (opts.confirm && !(await opts.confirm(plan))) return {...result, outcome: 'declined'}
  opts.onProgress?.(`removing label${keys.length === 1 ? '' : 's'} ${keys.join(', ')} from node ${name}`)
  await client.update<Node>(R.nodes, name, (n) => {
    const l = n.metadata.labels ?? {}
    if (!keys.some((k) => Object.hasOwn(l, k))) return false
    for (const k of keys) delete l[k]
    n.metadata.labels = l
  })
  if (!opts.wait) return {...result, outcome: 'done'}

  const target = pools.find((p) => p.metadata.name === newPool)
  const config = target ? renderedConfig(target) : undefined
  opts.onProgress?.(`waiting for node ${name} to reach ${config ?? 'its new configuration'}`)
  const final = await waitFor<Node, NodeRollbackResult['final']>(
    client,
    R.nodes,
    name,
    (n) => {
      if (!n) throw new MobError(`node ${name} was deleted while waiting`, {exitCode: ExitCode.Failed})
      const st = nodeMcoState(n)
      if (st.state === 'Degraded' || st.state === 'Unreconcilable') {
        throw new MobError(`node ${name} is ${st.state}: ${st.reason ?? 'no reason given'}`, {
          exitCode: ExitCode.Failed,
          next: st.reason?.includes(ROLLBACK_UNSUPPORTED)
            ? `this OpenShift version cannot take the node off its image: replace it with \`oc mob rollback node ${name} --replace-machine\`, or put it back with \`oc label node ${name} ${keys.map((k) => `${k}=${labels[k]}`).join(' ')}\``
            : "see the machine-config daemon's log on the node",
        })
      }

      const done =
        st.state === 'Done' &&
        !st.currentImage &&
        !st.desiredImage &&
        (!config || (st.currentConfig === config && st.desiredConfig === config)) &&
        nodeReady(n)
      return done ? {currentConfig: st.currentConfig ?? null, currentImage: st.currentImage ?? null, state: st.state ?? null} : undefined
    },
    {
      description: `node ${name} to leave its image`,
      next: `follow it with \`oc mob status ${newPool ?? ''} --watch\``,
      signal: opts.signal,
      timeoutMs: opts.timeoutMs,
    },
  )
  return {...result, final, outcome: 'done'}
}
