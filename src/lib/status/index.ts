import type {KubeClient} from '../kube/client.js'
import {discover, discoveryVerified} from '../kube/discovery.js'
import {R, type ResourceType} from '../kube/resources.js'
import type {
  Build,
  Condition,
  ConfigMap,
  Deployment,
  KubeEvent,
  KubeList,
  KubeObject,
  MachineConfigPool,
  Node,
  Pod,
  Secret,
} from '../kube/types.js'
import type {WatchOptions} from '../kube/watch.js'
import {deadline} from '../kube/wait.js'
import {Seen, watchAll} from '../kube/watch-many.js'
import {
  BUILD_CONFIG_KEYS,
  BUILD_LABELS,
  MACHINE_OS_BUILDER,
  MACHINE_OS_BUILDER_SELECTOR,
  MCO_NAMESPACE,
  ON_CLUSTER_BUILD_CONFIG,
} from '../mco/constants.js'
import {condition, isLayered, nodeMcoState, nodeReady, poolOfNode, renderedConfig} from '../mco/pool-state.js'
import {recognizeStall, type Stall} from '../build/stall.js'
import {machineOSConfigOf, type MachineOSBuild, type MachineOSConfig} from '../mco/machine-os.js'
import {OS_IMAGE_STREAM_SINGLETON, type OSImageStream, poolOSImageStream} from '../mco/os-image-stream.js'
import {HISTORY_CONFIGMAP, type HistoryEntry, type Observation, parseHistoryConfigMap, recordObserved} from '../cluster/history.js'
import {type Backend, type BuildObjectInfo, backendOf, buildObjectsByPool} from '../cluster/build-objects.js'
import {poolNotFound, requireMachineConfigApi} from '../cluster/pools.js'
import {selectorString} from '../rollout/nodes.js'
import {
  type BuildEvent,
  buildProblems,
  type ConditionView,
  historyObservations,
  type ImageMatch,
  type OSImageStreamView,
  poolBuildEvents,
  type MachineOSConfigView,
  type PoolBuild,
  type PoolContext,
  poolStall,
  poolView,
} from '../layering/pool-status.js'
import {pushSecretOf} from '../layering/push-secret.js'
import {pushTokenProblems} from './push-token.js'
import {rememberedPushSecrets, rememberPushSecrets} from './remembered.js'
import {compareText} from '../order.js'

export type {BuildEvent, ImageMatch} from '../layering/pool-status.js'
export interface PoolStatus {
  name: string
  /** Opted into on-cluster builds (the layering-enabled label, or a MachineOSConfig on 4.18+). */
  layered: boolean
  /** How: the pool label (4.14/4.15) or a MachineOSConfig (4.18+); null when not layered. */
  optIn: 'label' | 'machineosconfig' | null
  /** The pool's MachineOSConfig (4.18+), when it has one. */
  machineOSConfig: MachineOSConfigView | null
  paused: boolean
  /** The rendered MachineConfig the pool targets (spec.configuration.name). */
  renderedConfig: string | null
  /** The rendered MachineConfig all of the pool's nodes have reached (status.configuration.name). */
  currentConfig: string | null
  build: PoolBuild
  /** Digested pullspec: the newestImageEquivalentConfig annotation, or the MachineOSConfig's currentImagePullSpec. */
  image: string | null
  /** `sha256:…` of the image. */
  imageDigest: string | null
  /** Whether the image was built from the current rendered config (null: no image or not layered). */
  imageMatchesConfig: ImageMatch | null
  /** What the answer above rests on. */
  imageEvidence: string | null
  /** How the pool's builds run: a build pod (custom-pod-builder), an OpenShift Build (openshift-image-builder), or a Job (4.18+). */
  builder: Backend | null
  nodes: {total: number; updated: number; updating: number; ready: number; unavailable: number; degraded: number}
  updated: boolean
  updating: boolean
  degraded: boolean
  /** 4.20+, a MachineOSConfig pool: its ImageBuildDegraded condition when True, else null. */
  imageBuildDegraded?: ConditionView | null
  /** 4.14/4.15, a labelled pool: build ConfigMaps of its rendered config that no build pod or Build goes with. */
  orphanedConfigMaps?: string[]
  /** 4.14/4.15, a labelled pool: it has an image but none of its Build* conditions. */
  buildConditionsLost?: boolean
  /** 5.0/4.23+ (where OSImageStream is served): the pool's OS stream and that stream's base image. */
  osImageStream?: OSImageStreamView
  /** `status POOL`, 5.0+: the latest events about the pool's MachineOSBuilds, newest first. */
  events?: BuildEvent[]
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

export interface BuilderPod {
  name: string
  phase: string
  ready: boolean
  restarts: number
  /** Why a container is waiting or last ended (CrashLoopBackOff, Error...), when it is not running. */
  reason: string | null
}

export interface BuilderStatus {
  /** The machine-os-builder Deployment exists. */
  deployed: boolean
  /** At least one of its pods is Running and ready. */
  running: boolean
  pods: BuilderPod[]
  /** At least one pool is layered, so the operator should run it. */
  expected: boolean
  /** Container restarts over all its pods. */
  restarts: number
  /** The machine-config ClusterOperator's Degraded condition (null when config.openshift.io is not served). */
  operator: {degraded: boolean; reason: string | null; message: string | null} | null
}

export interface BuildConfigStatus {
  /** on-cluster-build-config exists. */
  present: boolean
  /** imageBuilderType as written (null when absent or empty). */
  imageBuilderType: string | null
  /** What the 4.14 operator does with it: custom-pod-builder = pod, otherwise (the default) an OpenShift Build. */
  backend: Backend | null
  finalImagePullspec: string | null
}

export interface Problem {
  severity: 'error' | 'warning'
  pool: string | null
  node: string | null
  message: string
  next: string | null
}

export interface HistoryRow extends HistoryEntry {
  /** The number `oc mob rollback POOL --to N` takes. */
  index: number
  /** The pool's image now. */
  current: boolean
}

export interface StatusResult {
  context: string
  server: string
  machineOSBuilder: BuilderStatus
  pools: PoolStatus[]
  /** Present when one pool was asked for. */
  nodes?: NodeStatus[]
  buildConfig: BuildConfigStatus
  /** The cluster serves the MachineOSConfig API (4.18+): pools opt in with a MachineOSConfig, not on-cluster-build-config. */
  machineOSConfigApi: boolean
  /** What is wrong, worst first, each with what to do about it. */
  problems: Problem[]
  /** With --history: the pool's image history, newest first. */
  history?: HistoryRow[]
}

export interface ClusterOperator extends KubeObject {
  status?: {conditions?: Condition[]}
}

/** Everything status reads, as the API server returned it. */
export interface StatusSnapshot {
  context: string
  server: string
  apis: {build: boolean; config: boolean; machineOS: boolean; osImageStream?: boolean}
  pools: MachineConfigPool[]
  deployments: Deployment[]
  builderPods: Pod[]
  /** 4.18+: the pods of the machine-os-builder's Jobs (labelled job-name; only read where MachineOSBuilds are served). */
  jobPods?: Pod[]
  buildPods: Pod[]
  /** 4.14/4.15: the ConfigMaps carrying the build label (mc-<R>, dockerfile-<R>). */
  buildConfigMaps?: ConfigMap[]
  builds: Build[]
  buildConfig?: ConfigMap
  history?: ConfigMap
  clusterOperator?: ClusterOperator
  /** Only read when one pool was asked for. */
  nodes?: Node[]
  /** Only read when the cluster serves the MachineOSConfig API. */
  machineOSConfigs: MachineOSConfig[]
  machineOSBuilds: MachineOSBuild[]
  /** With a pool, where MachineOSBuilds are served: the events about MachineOSBuilds (5.0+ record them). */
  events?: KubeEvent[]
  /** Where OSImageStream is served: the `cluster` singleton. */
  osImageStream?: OSImageStream
  /** The push secrets of the pools shown, read by name apart from the lists (none when they may not be read). */
  pushSecrets?: Secret[]
}

export interface StatusOptions {
  /** The time a build is judged at (default now): for the missing-digest grace. */
  now?: number
  pool?: string
  /** Include the pool's image history (needs a pool). */
  history?: boolean
  signal?: AbortSignal
}

const n = <T>(v: T | undefined): T | null => v ?? null

const NS = MCO_NAMESPACE

// ------------------------------------------------------------------------------ pure parts

function buildConfigStatus(cm: ConfigMap | undefined): BuildConfigStatus {
  if (!cm) return {backend: null, finalImagePullspec: null, imageBuilderType: null, present: false}
  const type = cm.data?.[BUILD_CONFIG_KEYS.imageBuilderType]?.trim() || undefined
  return {
    backend: backendOf(type),
    finalImagePullspec: cm.data?.[BUILD_CONFIG_KEYS.finalImagePullspec]?.trim() || null,
    imageBuilderType: n(type),
    present: true,
  }
}

function poolStatus(p: MachineConfigPool, ctx: PoolContext, stream?: {cluster: OSImageStream | undefined}): PoolStatus {
  const view = poolView(p, ctx)
  const flag = (t: string): boolean => condition(p, t)?.status === 'True'
  const total = p.status?.machineCount ?? 0
  const updated = p.status?.updatedMachineCount ?? 0
  const degraded = p.status?.degradedMachineCount ?? 0
  const out = {
    build: view.build,
    builder: view.builder,
    currentConfig: n(p.status?.configuration?.name),
    degraded: flag('Degraded'),
    image: view.image,
    imageDigest: view.imageDigest,
    imageEvidence: view.imageEvidence,
    imageMatchesConfig: view.imageMatchesConfig,
    layered: view.layered,
    name: p.metadata.name!,
    nodes: {
      degraded,
      ready: p.status?.readyMachineCount ?? 0,
      total,
      unavailable: p.status?.unavailableMachineCount ?? 0,
      updated,
      updating: Math.max(0, total - updated - degraded),
    },
    paused: Boolean(p.spec?.paused),
    renderedConfig: n(renderedConfig(p)),
    updated: flag('Updated'),
    updating: flag('Updating'),
    // Added later: after the documented keys, so that their order stays as it was.
    optIn: view.optIn,
    machineOSConfig: view.machineOSConfig,
  } as PoolStatus
  // Each only where it applies: the JSON of other pools stays as it was.
  if (view.imageBuildDegraded !== undefined) out.imageBuildDegraded = view.imageBuildDegraded
  if (view.orphanedConfigMaps !== undefined) out.orphanedConfigMaps = view.orphanedConfigMaps
  if (view.buildConditionsLost !== undefined) out.buildConditionsLost = view.buildConditionsLost
  if (stream) out.osImageStream = poolOSImageStream(p, stream.cluster)
  return out
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

function builderStatus(snap: StatusSnapshot, expected: boolean): BuilderStatus {
  const pods: BuilderPod[] = snap.builderPods.map((p) => {
    const statuses = p.status?.containerStatuses ?? []
    const restarts = statuses.reduce((sum, c) => sum + (c.restartCount ?? 0), 0)
    const waiting = statuses.find((c) => c.state?.waiting?.reason)?.state?.waiting?.reason
    const ended = statuses.find((c) => c.state?.terminated)?.state?.terminated?.reason
    return {
      name: p.metadata.name!,
      phase: p.status?.phase ?? 'Unknown',
      ready: p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
      reason: n(waiting ?? ended),
      restarts,
    }
  })
  let operator: BuilderStatus['operator'] = null
  if (snap.apis.config && snap.clusterOperator) {
    const d = snap.clusterOperator.status?.conditions?.find((c) => c.type === 'Degraded')
    operator = {degraded: d?.status === 'True', message: d?.message || null, reason: d?.reason || null}
  }

  return {
    deployed: snap.deployments.some((d) => d.metadata.name === MACHINE_OS_BUILDER),
    expected,
    operator,
    pods,
    restarts: pods.reduce((sum, p) => sum + p.restarts, 0),
    running: pods.some((p) => p.phase === 'Running' && p.ready),
  }
}

const ROLLBACK_REFUSED = 'rolling back from a layered to non-layered configuration is not currently supported'

function degradedNodeNext(node: string, reason: string): string {
  if (reason.includes(ROLLBACK_REFUSED)) {
    return `this OpenShift version cannot take a node off a layered image: put it back in its layered pool, or replace it with \`oc mob rollback node ${node} --replace-machine\``
  }

  return `find its machine-config-daemon pod with \`oc get pods -n ${NS} -o wide --field-selector spec.nodeName=${node}\` and read \`oc logs -n ${NS} <pod> -c machine-config-daemon\``
}

/** `Node a is reporting: "x", Node b is reporting: "y"` (the pool's NodeDegraded message) as pairs. */
export function parseNodeDegraded(message: string | undefined): Array<{node: string; reason: string}> {
  const out: Array<{node: string; reason: string}> = []
  for (const m of (message ?? '').matchAll(/Node (\S+) is reporting: "((?:[^"\\]|\\.)*)"/g)) {
    out.push({node: m[1], reason: m[2].replaceAll(String.raw`\"`, '"').replaceAll('\\\\', '\\')})
  }

  return out
}

/** A stall as a problem: its message with the cluster's own words, and its next step. */
function stallProblem(stall: Stall, pool: string | null): Problem {
  const who = stall.cause === 'Unschedulable' ? 'the scheduler says' : 'the kubelet says'
  return {
    message: `${stall.message}${stall.detail ? ` (${who}: ${stall.detail})` : ''}`,
    next: stall.next,
    node: null,
    pool,
    severity: stall.kind === 'retrying' ? 'warning' : 'error',
  }
}

function poolProblems(
  p: PoolStatus,
  raw: MachineConfigPool,
  objects: BuildObjectInfo[],
  nodes: NodeStatus[] | undefined,
  stall: Stall | undefined,
): Problem[] {
  const out: Problem[] = []
  const add = (severity: Problem['severity'], message: string, next: string | null, node: string | null = null): void => {
    out.push({message, next, node, pool: p.name, severity})
  }

  const name = p.name
  // A build that makes no progress, with its cause; a failure for such a cause replaces the plain "failed".
  if (stall) out.push(stallProblem(stall, name))
  for (const b of buildProblems(p, objects, stall?.kind === 'failed')) out.push({...b, node: null, pool: name})

  const render = condition(raw, 'RenderDegraded')
  if (
    render?.status === 'True' &&
    !(render.message ?? '').startsWith('Failed to build configuration for pool') &&
    render.reason !== 'BuildFailed'
  ) {
    add(
      'error',
      `pool ${name} cannot render its configuration: ${render.message || render.reason || 'RenderDegraded'}`,
      `see \`oc describe mcp ${name}\``,
    )
  }

  const degradedNodes = nodes
    ? nodes.filter((x) => x.state === 'Degraded' || x.state === 'Unreconcilable').map((x) => ({node: x.name, reason: x.reason ?? x.state!}))
    : condition(raw, 'NodeDegraded')?.status === 'True'
      ? parseNodeDegraded(condition(raw, 'NodeDegraded')?.message)
      : []
  for (const d of degradedNodes)
    add('error', `node ${d.node} of pool ${name} is degraded: ${d.reason}`, degradedNodeNext(d.node, d.reason), d.node)
  if (!nodes && p.nodes.degraded > 0 && degradedNodes.length === 0) {
    add(
      'error',
      `pool ${name} has ${p.nodes.degraded} degraded node${p.nodes.degraded === 1 ? '' : 's'}`,
      `see which with \`oc mob status ${name}\``,
    )
  }

  return out
}

function builderProblems(
  b: BuilderStatus,
  layered: string[],
  labelled: string[],
  config: BuildConfigStatus,
  stall: Stall | undefined,
): Problem[] {
  const out: Problem[] = []
  const add = (severity: Problem['severity'], message: string, next: string | null): void => {
    out.push({message, next, node: null, pool: null, severity})
  }

  if (b.operator?.degraded && b.operator.reason === 'MachineOSBuilderFailed') {
    add(
      'error',
      `the Machine Config Operator cannot start the machine-os-builder: ${b.operator.message ?? 'MachineOSBuilderFailed'}`,
      'fix the build configuration it names (`oc mob setup` repairs it), then check `oc get co machine-config`',
    )
  } else if (b.operator?.degraded) {
    add(
      'warning',
      `the machine-config ClusterOperator is Degraded (${b.operator.reason ?? 'no reason'}): ${b.operator.message ?? ''}`.trimEnd(),
      'see `oc describe co machine-config`',
    )
  }

  const are = (names: string[]): string =>
    `pool${names.length === 1 ? '' : 's'} ${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} layered`
  const pools = are(layered)
  if (labelled.length > 0 && !config.present) {
    add(
      'error',
      `${are(labelled)} but ${ON_CLUSTER_BUILD_CONFIG} is missing: the operator will not start the machine-os-builder and no build can run`,
      'create the build configuration with `oc mob setup`',
    )
  } else if (b.expected && !b.deployed && !(b.operator?.degraded && b.operator.reason === 'MachineOSBuilderFailed')) {
    add(
      'warning',
      `the machine-os-builder is not deployed although ${pools}`,
      `the operator starts it after checking ${labelled.length > 0 ? 'on-cluster-build-config' : 'each MachineOSConfig (its pool, secrets and pushspec)'}; see \`oc get co machine-config\` and \`oc logs -n openshift-machine-config-operator deployment/machine-config-operator\``,
    )
  }

  // A builder pod that cannot start has no log to read: the scheduler's (or kubelet's) words instead.
  if (stall) out.push({...stallProblem(stall, null), severity: b.expected ? 'error' : 'warning'})
  for (const pod of b.pods) {
    if ((pod.phase === 'Running' && pod.ready) || pod.name === stall?.pod) continue
    add(
      b.expected ? 'error' : 'warning',
      `machine-os-builder pod ${pod.name} is ${pod.phase}${pod.reason ? ` (${pod.reason})` : ''}${pod.restarts > 0 ? `, ${pod.restarts} restart${pod.restarts === 1 ? '' : 's'}` : ''}`,
      'read its log with `oc mob logs --builder`',
    )
  }

  return out
}

export interface Computed {
  result: StatusResult
  /** Images seen on pools that their history does not know (recorded as `observed`). */
  observations: Observation[]
}

/** The status from a snapshot: no API calls. */
export function computeStatus(snap: StatusSnapshot, opts: StatusOptions = {}): Computed {
  const sorted = [...snap.pools].sort((a, b) => compareText(a.metadata.name!, b.metadata.name!))
  const histories = parseHistoryConfigMap(snap.history)
  const objects = buildObjectsByPool(snap.buildPods, snap.builds)
  const buildConfig = buildConfigStatus(snap.buildConfig)
  const mosc = (p: MachineConfigPool): MachineOSConfig | undefined => machineOSConfigOf(snap.machineOSConfigs, p.metadata.name!)
  // Pools the label opts in (4.14/4.15) need on-cluster-build-config; a MachineOSConfig carries its own settings.
  const labelled = sorted.filter((p) => isLayered(p) && !mosc(p)).map((p) => p.metadata.name!)
  const layeredNames = sorted.filter((p) => isLayered(p) || mosc(p)).map((p) => p.metadata.name!)
  const wanted = opts.pool ? sorted.filter((p) => p.metadata.name === opts.pool) : sorted
  if (opts.pool && wanted.length === 0) throw poolNotFound(opts.pool, sorted)
  const now = opts.now ?? Date.now()
  const stream = snap.apis.osImageStream ? {cluster: snap.osImageStream} : undefined
  const pools = wanted.map((p) =>
    poolStatus(
      p,
      {
        backend: buildConfig.backend,
        buildConfigMaps: snap.buildConfigMaps,
        history: histories[p.metadata.name!] ?? [],
        jobPods: snap.jobPods,
        mosbs: snap.machineOSBuilds,
        mosc: mosc(p),
        now,
        objects: objects.get(p.metadata.name!) ?? [],
      },
      stream,
    ),
  )
  if (opts.pool && snap.events) for (const p of pools) if (p.machineOSConfig) p.events = poolBuildEvents(p, snap.events)
  const builder = builderStatus(snap, layeredNames.length > 0)

  let nodes: NodeStatus[] | undefined
  if (opts.pool) {
    nodes = (snap.nodes ?? [])
      .map((node) => nodeStatus(node, sorted))
      .filter((s) => s.pool === opts.pool)
      .sort((a, b) => compareText(a.name, b.name))
  }

  const problems: Problem[] = [
    ...builderProblems(builder, layeredNames, labelled, buildConfig, recognizeStall({builderPods: snap.builderPods, now})),
  ]
  for (const [i, p] of pools.entries()) {
    problems.push(...poolProblems(p, wanted[i], objects.get(p.name) ?? [], nodes, poolStall(p, snap, now)))
    const push = pushSecretOf(p, mosc(wanted[i]), snap.buildConfig)
    if (push)
      problems.push(
        ...pushTokenProblems(
          p.name,
          push,
          snap.pushSecrets?.find((x) => x.metadata.name === push),
          now,
        ),
      )
  }

  problems.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1))

  // Key order is part of the documented -o json shape: context, server, machineOSBuilder, pools, nodes, then the later additions.
  const result = {
    context: snap.context,
    server: snap.server, // eslint-disable-line perfectionist/sort-objects
    machineOSBuilder: builder, // eslint-disable-line perfectionist/sort-objects
    pools,
  } as StatusResult
  if (nodes) result.nodes = nodes
  result.buildConfig = buildConfig
  result.machineOSConfigApi = snap.apis.machineOS
  result.problems = problems
  if (opts.history && opts.pool) {
    const image = pools[0]?.image
    result.history = (histories[opts.pool] ?? []).map((e, index) => ({...e, current: e.image === image, index}))
  }

  const observations: Observation[] = []
  for (const [i, p] of pools.entries()) {
    const raw = wanted[i]
    if (p.optIn === 'machineosconfig') {
      observations.push(...historyObservations(p.name, histories[p.name] ?? [], {mosbs: snap.machineOSBuilds, mosc: mosc(raw)}))
      continue
    }

    if (p.optIn !== 'label' || !p.image || !p.renderedConfig) continue
    if ((histories[p.name] ?? []).some((e) => e.image === p.image)) continue
    // Only when nothing says the image belongs to an earlier config: the build succeeded and no newer build is under way.
    const quiet = condition(raw, 'BuildSuccess')?.status === 'True' && p.build.state === 'succeeded' && !p.build.object
    if (quiet) observations.push({image: p.image, pool: p.name, renderedConfig: p.renderedConfig})
  }

  return {observations, result}
}

// ------------------------------------------------------------------------------ reading

/**
 * Like Promise.all (the requests run concurrently), but when several fail the error reported is the
 * first in the given order, not whichever answer arrived first: the same failure gives the same message.
 */
async function settleInOrder<T extends readonly unknown[]>(promises: T): Promise<{-readonly [K in keyof T]: Awaited<T[K]>}> {
  const settled = await Promise.allSettled(promises)
  for (const s of settled) if (s.status === 'rejected') throw s.reason
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as {-readonly [K in keyof T]: Awaited<T[K]>}
}

/** The lists and objects status reads, each with its selector; shared by the one-shot read and the watch. */
function sources(
  apis: StatusSnapshot['apis'],
  pool: string | undefined,
): Array<{key: keyof StatusSnapshot; r: ResourceType; opts: WatchOptions}> {
  const list: Array<{key: keyof StatusSnapshot; r: ResourceType; opts: WatchOptions}> = [
    {key: 'pools', opts: {}, r: R.machineConfigPools},
    {key: 'deployments', opts: {fieldSelector: `metadata.name=${MACHINE_OS_BUILDER}`, namespace: NS}, r: R.deployments},
    {key: 'builderPods', opts: {labelSelector: MACHINE_OS_BUILDER_SELECTOR, namespace: NS}, r: R.pods},
    {key: 'buildPods', opts: {labelSelector: BUILD_LABELS.buildPod, namespace: NS}, r: R.pods},
    {key: 'buildConfigMaps', opts: {labelSelector: BUILD_LABELS.buildPod, namespace: NS}, r: R.configMaps},
    {key: 'buildConfig', opts: {fieldSelector: `metadata.name=${ON_CLUSTER_BUILD_CONFIG}`, namespace: NS}, r: R.configMaps},
    {key: 'history', opts: {fieldSelector: `metadata.name=${HISTORY_CONFIGMAP}`, namespace: NS}, r: R.configMaps},
  ]
  if (apis.build) list.push({key: 'builds', opts: {labelSelector: BUILD_LABELS.buildPod, namespace: NS}, r: R.builds})
  if (apis.machineOS) {
    list.push(
      {key: 'machineOSConfigs', opts: {}, r: R.machineOSConfigs},
      {key: 'machineOSBuilds', opts: {}, r: R.machineOSBuilds},
      {key: 'jobPods', opts: {labelSelector: 'job-name', namespace: NS}, r: R.pods},
    )
    // A pool's build events only for `status POOL`: one list, every namespace (those of a cluster-scoped object land in default).
    if (pool) list.push({key: 'events', opts: {fieldSelector: 'involvedObject.kind=MachineOSBuild'}, r: R.events})
  }

  if (apis.osImageStream) {
    list.push({key: 'osImageStream', opts: {fieldSelector: `metadata.name=${OS_IMAGE_STREAM_SINGLETON}`}, r: R.osImageStreams})
  }

  if (apis.config) list.push({key: 'clusterOperator', opts: {fieldSelector: 'metadata.name=machine-config'}, r: R.clusterOperators})
  if (pool) list.push({key: 'nodes', opts: {}, r: R.nodes})
  return list
}

const SINGLE: ReadonlySet<keyof StatusSnapshot> = new Set(['buildConfig', 'clusterOperator', 'history', 'osImageStream'])

function emptySnapshot(client: KubeClient, apis: StatusSnapshot['apis'], pool: string | undefined): StatusSnapshot {
  return {
    apis,
    builderPods: [],
    buildPods: [],
    builds: [],
    context: client.context,
    deployments: [],
    machineOSBuilds: [],
    machineOSConfigs: [],
    nodes: pool ? [] : undefined,
    pools: [],
    server: client.server,
  }
}

function assign(snap: StatusSnapshot, key: keyof StatusSnapshot, items: KubeObject[]): void {
  const s = snap as unknown as Record<string, unknown>
  s[key] = SINGLE.has(key) ? items[0] : items
}

async function apisOf(client: KubeClient): Promise<StatusSnapshot['apis']> {
  await requireMachineConfigApi(client)
  const d = await discover(client)
  return {build: d.build, config: d.config, machineOS: d.machineOS, osImageStream: d.osImageStream}
}

/** The selector of a pool's nodes by the usual convention, guessed before the pool is read: `node-role.kubernetes.io/<pool>=`. */
const usualNodeSelector = (pool: string): string => `node-role.kubernetes.io/${pool}=`

/** The APIs every supported cluster serves beside the MachineConfig API: none of the optional ones. */
const NO_OPTIONAL_APIS: StatusSnapshot['apis'] = {build: false, config: false, machineOS: false, osImageStream: false}

/**
 * One read of everything status shows: one request per kind, never one per node, all sent at once
 * (one round trip). The reads every cluster answers go out beside discovery, so a first run without
 * the discovery cache waits one round trip more only for the optional APIs' lists. With a pool, its
 * nodes are listed at the same time by the usual selector of a pool's nodes; only a pool that selects
 * its nodes otherwise costs a second list, by its own selector. Either list holds every node of the
 * pool; which pool a node belongs to is then decided with all the pools, as always.
 */
export async function collectStatus(client: KubeClient, opts: StatusOptions = {}): Promise<StatusSnapshot> {
  const reads = new Map<keyof StatusSnapshot, Promise<KubeList<KubeObject>>>()
  const read = (s: {key: keyof StatusSnapshot; r: ResourceType; opts: WatchOptions}): void => {
    const listed = client.list<KubeObject>(s.r, {...s.opts, signal: opts.signal})
    // Events only add to the picture: without the right to list them, status still answers.
    const r = s.key === 'events' ? listed.catch(() => ({items: [] as KubeObject[], metadata: {}})) : listed
    r.catch(() => undefined) // awaited below, unless discovery fails first
    reads.set(s.key, r)
  }

  const guess = opts.pool ? usualNodeSelector(opts.pool) : undefined
  const nodesRead =
    guess === undefined
      ? undefined
      : client.list<Node>(R.nodes, {labelSelector: guess, signal: opts.signal}).catch((error: unknown) => error as Error)
  for (const s of sources(NO_OPTIONAL_APIS, opts.pool)) if (s.key !== 'nodes') read(s)
  const apis = await apisOf(client)
  const src = sources(apis, opts.pool).filter((s) => s.key !== 'nodes')
  for (const s of src) if (!reads.has(s.key)) read(s)
  const [lists, nodes, current] = await Promise.all([
    settleInOrder(src.map((s) => reads.get(s.key)!)),
    nodesRead,
    discoveryVerified(client),
  ])
  // The cached discovery was for another server version: read again with what the server serves now.
  if (!current) return collectStatus(client, opts)
  const snap = emptySnapshot(client, apis, opts.pool)
  for (const [i, s] of src.entries()) assign(snap, s.key, lists[i].items)
  if (opts.pool) {
    if (nodes instanceof Error) throw nodes
    const pool = snap.pools.find((p) => p.metadata.name === opts.pool)
    const own = pool ? selectorString(pool.spec?.nodeSelector) : guess
    snap.nodes = own === guess ? nodes!.items : (await client.list<Node>(R.nodes, {labelSelector: own, signal: opts.signal})).items
  }

  return snap
}

/** The push secrets of the pools `opts` shows (layered pools only), by name. */
function pushSecretNames(snap: StatusSnapshot, opts: StatusOptions): string[] {
  const names = new Set<string>()
  for (const p of snap.pools) {
    if (opts.pool && p.metadata.name !== opts.pool) continue
    // As computeStatus tells them: a MachineOSConfig opts a pool in (4.18+), otherwise the label.
    const mosc = machineOSConfigOf(snap.machineOSConfigs, p.metadata.name!)
    const name = pushSecretOf({layered: Boolean(mosc) || isLayered(p), optIn: mosc ? 'machineosconfig' : 'label'}, mosc, snap.buildConfig)
    if (name) names.add(name)
  }

  return [...names]
}

/** The secrets by name; one that cannot be read (missing, or not allowed) is left out: status still answers. */
async function readPushSecrets(client: KubeClient, names: string[], signal?: AbortSignal): Promise<Secret[]> {
  const found = await Promise.all(names.map((name) => client.find<Secret>(R.secrets, name, NS, signal).catch(() => undefined)))
  return found.filter((s): s is Secret => s !== undefined)
}

async function recordQuietly(client: KubeClient, observations: Observation[]): Promise<string[]> {
  try {
    return await recordObserved(client, observations)
  } catch {
    // Status is a read: without the right to write the history ConfigMap it still answers.
    return []
  }
}

export async function getStatus(client: KubeClient, opts: StatusOptions = {}): Promise<StatusResult> {
  // The push secrets the last run read are read alongside the lists; only new names wait for them.
  const remembered = rememberedPushSecrets(client.server, opts.pool)
  const early = readPushSecrets(client, remembered, opts.signal)
  const snap = await collectStatus(client, opts)
  const names = pushSecretNames(snap, opts)
  const late = readPushSecrets(
    client,
    names.filter((n) => !remembered.includes(n)),
    opts.signal,
  )
  snap.pushSecrets = [...(await early).filter((s) => names.includes(s.metadata.name!)), ...(await late)]
  rememberPushSecrets(client.server, opts.pool, names)
  const first = computeStatus(snap, opts)
  if (first.observations.length === 0) return first.result
  const written = await recordQuietly(client, first.observations)
  if (written.length === 0 || !opts.history) return first.result
  snap.history = await client.find<ConfigMap>(R.configMaps, HISTORY_CONFIGMAP, NS)
  return computeStatus(snap, opts).result
}

/**
 * Keep the status current from watches (no polling): `onChange` gets the first status once every
 * list is read, then a new one whenever something it shows changed. Runs until the signal aborts.
 */
export async function watchStatus(client: KubeClient, opts: StatusOptions, onChange: (s: StatusResult) => void): Promise<void> {
  const apis = await apisOf(client)
  const src = sources(apis, opts.pool)
  const keys = src.map((s) => s.key)
  const seen = new Seen<keyof StatusSnapshot>()
  const ac = deadline(opts.signal, undefined, undefined, () => undefined)
  let last = ''
  let timer: NodeJS.Timeout | undefined
  const attempted = new Set<string>()
  let failure: unknown
  // Push secrets are read once by name (not watched): each new name read, then the status computed again.
  const secrets = new Map<string, Secret | undefined>()

  const emit = (): void => {
    if (timer) clearTimeout(timer)
    timer = undefined
    if (ac.signal.aborted) return
    const snap = emptySnapshot(client, apis, opts.pool)
    for (const key of keys) assign(snap, key, seen.all(key))
    const unread = pushSecretNames(snap, opts).filter((name) => !secrets.has(name))
    for (const name of unread) secrets.set(name, undefined)
    if (unread.length > 0) {
      void readPushSecrets(client, unread, ac.signal).then((found) => {
        for (const s of found) secrets.set(s.metadata.name!, s)
        if (found.length > 0) emit()
      })
    }

    snap.pushSecrets = [...secrets.values()].filter((s): s is Secret => s !== undefined)
    let computed: Computed
    try {
      computed = computeStatus(snap, opts)
    } catch (error) {
      failure = error
      ac.abort()
      return
    }

    const key = (o: Observation): string => `${o.pool} ${o.image}${o.machineOSConfigSpec ? ' spec' : ''}`
    const fresh = computed.observations.filter((o) => !attempted.has(key(o)))
    for (const o of fresh) attempted.add(key(o))
    if (fresh.length > 0) void recordQuietly(client, fresh)
    const text = JSON.stringify(computed.result)
    if (text === last) return
    last = text
    onChange(computed.result)
  }

  try {
    const specs = src.map((s) => ({...s.opts, resource: s.r, source: s.key}))
    for await (const t of watchAll(client, specs, ac.signal)) {
      seen.apply(t)
      if (!seen.ready(...keys)) continue
      // The first full picture at once; later changes gathered for 50 ms (a rollout changes many objects together).
      if (t.event.type === 'SYNCED') emit()
      else timer ??= setTimeout(emit, 50)
    }
  } catch (error) {
    if (!ac.signal.aborted) throw error
  } finally {
    if (timer) clearTimeout(timer)
    ac.dispose()
  }

  if (failure) throw failure
}
