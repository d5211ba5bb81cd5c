/**
 * `oc mob enable POOL` and `oc mob disable POOL`: the seed's "Building the image" and "Rolling out"
 * steps. Enable checks the build settings as setup does, opts the pool in, and can follow what the
 * cluster does next — the machine-os-builder starting (or why it cannot), the build, and the rollout
 * node by node — or run the one-shot build itself. Disable opts the pool out after saying what that
 * means for nodes already on a layered image, and can wait for the cluster's cleanup.
 */
import type {BuildEvent, BuildResult} from './build-shapes.js'
import {readOsImage} from '../build/inputs.js'
import {ExitCode} from '../errors.js'
import {confirmationNeeded} from '../ui/confirm.js'
import type {KubeClient} from '../kube/client.js'
import {discover} from '../kube/discovery.js'
import {R} from '../kube/resources.js'
import type {MachineConfigPool, Node, Secret} from '../kube/types.js'
import {waitFor} from '../kube/watch.js'
import {GLOBAL_PULL_SECRET, MCO_NAMESPACE, OPENSHIFT_CONFIG_NAMESPACE} from '../mco/constants.js'
import {nodeMcoState, poolBuild, poolOfNode} from '../mco/pool-state.js'
import {readPool} from '../cluster/pools.js'
import {accessCheck} from './access.js'
import {withTimeout} from '../kube/wait.js'
import {followNodes, type NodeProgress} from '../rollout/follow-nodes.js'
import {type BuildFollowEvent, detectBackend, type LayeringBackend} from './generation.js'
import {settingsChecks, throwIfFailed} from './preflight.js'
import type {Access, Check, PlanItem} from './types.js'

const NS = MCO_NAMESPACE

export interface EnableEvent {
  phase: BuildFollowEvent['phase'] | BuildEvent['phase'] | 'labelled' | 'rollout'
  message: string
}

export interface EnableOptions {
  dryRun?: boolean
  /** Follow the builder, the build and the rollout to their end. */
  wait?: boolean
  /** Run the one-shot build from here instead of waiting for the cluster's builder. */
  build?: boolean
  timeoutMs?: number
  /** How long image-build may be finished without its digest ConfigMap before the build counts as stuck. */
  stallGraceMs?: number
  signal?: AbortSignal
  onChecks?: (checks: Check[]) => void
  onEvent?: (e: EnableEvent) => void
  onNode?: (p: NodeProgress) => void
}

export interface EnableResult {
  pool: string
  generation: string
  checks: Check[]
  /** The opt-in change (the label), or unchanged when the pool was opted in already. */
  change: PlanItem
  outcome: 'already-enabled' | 'dry-run' | 'enabled'
  /** With --build: the one-shot build's result. */
  build: BuildResult | null
  /** The image the pool's nodes run (when followed or built). */
  image: string | null
  /** With --wait: where each node of the pool ended up. */
  nodes: NodeProgress[] | null
}

async function members(client: KubeClient, pool: string): Promise<string[]> {
  const [nodes, pools] = await Promise.all([client.list<Node>(R.nodes), client.list<MachineConfigPool>(R.machineConfigPools)])
  return nodes.items
    .filter((n) => poolOfNode(n, pools.items) === pool)
    .map((n) => n.metadata.name!)
    .sort()
}

/**
 * The preflight of a pool whose build settings are already in the cluster: the same checks setup
 * makes before writing them, plus the permissions `access` lists.
 */
export async function preflightPool(
  client: KubeClient,
  backend: LayeringBackend,
  pool: string,
  access: Access[],
  what: string,
  signal?: AbortSignal,
): Promise<Check[]> {
  const checks: Check[] = [
    {
      id: 'machineconfig-api',
      message: `the cluster serves the MachineConfig API: ${backend.title}`,
      title: 'MachineConfig API',
      verdict: 'pass',
    },
  ]
  const [settings, pools, global, osImage, d] = await Promise.all([
    backend.readSettings(client, pool),
    client.list<MachineConfigPool>(R.machineConfigPools),
    client.find<Secret>(R.secrets, GLOBAL_PULL_SECRET, OPENSHIFT_CONFIG_NAMESPACE),
    readOsImage(client).catch(() => undefined),
    discover(client),
  ])
  if (access.length > 0) checks.unshift(await accessCheck(client, access, what, signal))
  const machineOS = backend.generation === 'machineosconfig'
  if (!settings) {
    checks.push({
      exitCode: ExitCode.NotFound,
      fix: `run \`oc mob setup --pool ${pool}\``,
      id: 'build-config',
      message: machineOS
        ? `pool ${pool} has no MachineOSConfig: on OpenShift 4.18+ setup writes it, and that opts the pool in`
        : 'on-cluster builds are not set up: the build settings (on-cluster-build-config) are missing',
      title: 'build settings',
      verdict: 'fail',
    })
    return checks
  }

  const findSecret = async (name: string): Promise<Secret | undefined> => (name ? client.find<Secret>(R.secrets, name, NS) : undefined)
  const [pullSecret, pushSecret] = await Promise.all([findSecret(settings.baseImagePullSecret), findSecret(settings.finalImagePushSecret)])
  // 4.18+: a MachineOSConfig that names no base image pull secret pulls with the global one.
  const globalDefault = machineOS && !settings.baseImagePullSecret
  checks.push(
    ...settingsChecks({
      buildApi: d.build,
      defaultBuilder: backend.defaultBuilder,
      generation: backend.generation,
      globalPullSecret: global,
      osImage,
      pools: pools.items,
      pullSecret: globalDefault ? global : pullSecret,
      pullSecretOrigin: globalDefault ? "the cluster's global pull secret, used when the MachineOSConfig names none" : undefined,
      pushSecret,
      pushSecretConfigured: true,
      settings: globalDefault ? {...settings, baseImagePullSecret: `${OPENSHIFT_CONFIG_NAMESPACE}/${GLOBAL_PULL_SECRET}`} : settings,
    }),
  )
  return checks
}

export async function enablePool(client: KubeClient, poolName: string, opts: EnableOptions = {}): Promise<EnableResult> {
  // 4.18+: the pool's MachineOSConfig (written by setup) is the opt-in; enable checks it and follows.
  const backend = await detectBackend(client)
  const machineOS = backend.generation === 'machineosconfig'
  const pool = await readPool(client, poolName, 'enable')
  const step = await backend.planOptIn(client, pool, true)
  const checks = await preflightPool(
    client,
    backend,
    poolName,
    [...step.access, ...(opts.build ? backend.oneShotBuildAccess : [])],
    `opt pool ${poolName} in${opts.build ? ' and build its image' : ''}`,
    opts.signal,
  )
  opts.onChecks?.(checks)
  throwIfFailed(checks, `pool ${poolName} cannot be opted in`, {shown: Boolean(opts.onChecks)})
  const result: EnableResult = {
    build: null,
    change: step.item,
    checks,
    generation: backend.generation,
    image: null,
    nodes: null,
    outcome: step.item.action === 'unchanged' ? 'already-enabled' : 'enabled',
    pool: poolName,
  }
  if (opts.dryRun) return {...result, outcome: 'dry-run'}

  const since = Date.now()
  const emit = (phase: EnableEvent['phase'], message: string): void => opts.onEvent?.({message, phase})
  if (step.item.action !== 'unchanged') {
    await step.run()
    emit('labelled', `pool ${poolName}: ${step.item.summary}`)
  }

  if (opts.build) {
    // A pool created moments ago may not be rendered yet.
    await waitFor<MachineConfigPool, string>(
      client,
      R.machineConfigPools,
      poolName,
      (p) => {
        const name = p?.spec?.configuration?.name
        return name?.startsWith('rendered-') ? name : undefined
      },
      {
        description: `pool ${poolName} to get a rendered MachineConfig`,
        next: `check \`oc get mcp ${poolName}\``,
        signal: opts.signal,
        timeoutMs: 120_000,
      },
    )
    result.build = await backend.oneShotBuild(client, poolName, {
      onEvent: (e) => emit(e.phase, e.message),
      onRetry: (message) => emit('retrying', message),
      signal: opts.signal,
      stallGraceMs: opts.stallGraceMs,
      timeoutMs: opts.timeoutMs,
    })
    result.image = result.build.image ?? null
  } else if (opts.wait) {
    const next = `the build goes on in the cluster: follow it with \`oc mob status ${poolName}\` or \`oc mob logs ${poolName} -f\``
    result.image = await withTimeout(opts.signal, opts.timeoutMs, `the image of pool ${poolName}`, next, (signal) =>
      backend.followBuild(client, poolName, {onEvent: (e) => emit(e.phase, e.message), signal, since, stallGraceMs: opts.stallGraceMs}),
    )
  }

  if (opts.wait) {
    const names = await members(client, poolName)
    if (names.length === 0) {
      emit('rollout', `pool ${poolName} has no nodes: nothing rolls out`)
      result.nodes = []
    } else {
      emit('rollout', `rolling out to ${names.length} node${names.length === 1 ? '' : 's'}: ${names.join(', ')}`)
      // 4.18+: the image is the one the build just followed ended with (the pool carries no annotation).
      const built = result.image ?? undefined
      result.nodes = await followNodes(client, names, {
        imageOf: (p) => (machineOS ? built : backend.poolImage(p)),
        next: `the rollout goes on in the cluster: \`oc mob status ${poolName}\``,
        onNode: opts.onNode,
        signal: opts.signal,
        timeoutMs: opts.timeoutMs,
        waitsForImage: (p) => (machineOS ? true : backend.waitsForImage(p)),
      })
    }
  }

  return result
}

export interface DisableOptions {
  dryRun?: boolean
  wait?: boolean
  yes?: boolean
  timeoutMs?: number
  signal?: AbortSignal
  /** Ask to go on (after onWarnings); without it (and without yes) the change is refused. */
  confirm?: (warnings: string[]) => Promise<boolean>
  /** What opting out means for the pool's nodes and the builder, said before anything changes. */
  onWarnings?: (warnings: string[]) => void
  onEvent?: (e: EnableEvent) => void
}

export interface DisableResult {
  pool: string
  generation: string
  change: PlanItem
  warnings: string[]
  /** Nodes of the pool that run a layered image now. */
  layeredNodes: string[]
  outcome: 'cancelled' | 'disabled' | 'dry-run' | 'not-enabled'
  /** With --wait: the cluster removed the pool's build state (and the builder, if no pool is left). */
  cleanedUp: boolean | null
}

export async function disablePool(client: KubeClient, poolName: string, opts: DisableOptions = {}): Promise<DisableResult> {
  // 4.18+: opting out deletes the pool's MachineOSConfig.
  const backend = await detectBackend(client)
  const pool = await readPool(client, poolName, 'disable')
  const step = await backend.planOptIn(client, pool, false)
  const result: DisableResult = {
    change: step.item,
    cleanedUp: null,
    generation: backend.generation,
    layeredNodes: [],
    outcome: 'not-enabled',
    pool: poolName,
    warnings: [],
  }
  if (step.item.action === 'unchanged') return result

  const [nodes, pools] = await Promise.all([client.list<Node>(R.nodes), client.list<MachineConfigPool>(R.machineConfigPools)])
  result.layeredNodes = nodes.items
    .filter((n) => poolOfNode(n, pools.items) === poolName && (nodeMcoState(n).currentImage || nodeMcoState(n).desiredImage))
    .map((n) => n.metadata.name!)
    .sort()
  if (result.layeredNodes.length > 0 && !backend.nodesCanRevert) {
    result.warnings.push(
      `${result.layeredNodes.length} node${result.layeredNodes.length === 1 ? '' : 's'} of pool ${poolName} (${result.layeredNodes.join(', ')}) run${result.layeredNodes.length === 1 ? 's' : ''} a layered image. On 4.14/4.15 a node cannot roll back from a layered image by itself: once the pool is opted out, its daemon refuses ("rolling back from a layered to non-layered configuration is not currently supported") and the node goes Degraded. Take them off their image with \`oc mob rollback node NODE\` (or roll the pool to another image with \`oc mob rollback ${poolName}\`).`,
    )
  }

  const build = poolBuild(pool)
  if (build.state === 'pending' || build.state === 'building') {
    result.warnings.push(
      `a build of pool ${poolName} is ${build.state === 'pending' ? 'pending' : 'running'}: the cluster stops it and removes its objects`,
    )
  }

  const others = pools.items.filter((p) => p.metadata.name !== poolName)
  const otherLayered = (await Promise.all(others.map((p) => backend.isEnabled(client, p)))).filter(Boolean)
  if (otherLayered.length === 0)
    result.warnings.push('no other pool is opted in: the Machine Config Operator removes the machine-os-builder')

  const denied = await accessCheck(client, step.access, `opt pool ${poolName} out`, opts.signal)
  throwIfFailed([denied], `pool ${poolName} cannot be opted out`)
  opts.onWarnings?.(result.warnings)
  if (opts.dryRun) return {...result, outcome: 'dry-run'}
  if (!opts.yes) {
    if (!opts.confirm) {
      throw confirmationNeeded(
        `opting pool ${poolName} out needs confirmation and there is no terminal to ask on; nothing was changed`,
        're-run with --yes once you have read the warnings above',
      )
    }

    if (!(await opts.confirm(result.warnings))) return {...result, outcome: 'cancelled'}
  }

  await step.run()
  opts.onEvent?.({message: `pool ${poolName}: ${step.item.summary}`, phase: 'labelled'})
  result.outcome = 'disabled'
  if (opts.wait) {
    await withTimeout(
      opts.signal,
      opts.timeoutMs,
      `the cluster to clean up after pool ${poolName}`,
      `check \`oc mob status ${poolName}\``,
      (signal) => backend.followOptOut(client, poolName, {onEvent: (e) => opts.onEvent?.({message: e.message, phase: e.phase}), signal}),
    )
    result.cleanedUp = true
  }

  return result
}
