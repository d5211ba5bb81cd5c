/**
 * Which log to show: a pool's build pod (or OpenShift Build), the machine-os-builder's pod, or —
 * when there is nothing to show — why not, and what to do about it.
 *
 * Build objects are found by the operator's labels in its namespace, never by guessing: the pool's
 * current build (`build-<spec.configuration.name>`) first, otherwise the pool's most recent one. A pool
 * with a MachineOSConfig (4.18+) builds in the pods of a Job, `build-<MachineOSBuild>`: the
 * MachineOSBuild of its rendered config first, otherwise its newest, and the Job's newest pod.
 */
import {ExitCode, MobError} from '../errors.js'
import {poolNotFound} from '../cluster/pools.js'
import {isStatus, type KubeClient} from '../kube/client.js'
import {discover} from '../kube/discovery.js'
import {R} from '../kube/resources.js'
import type {Build, ConfigMap, KubeObject, MachineConfigPool, Pod} from '../kube/types.js'
import {
  BUILD_CONFIG_KEYS, BUILD_LABELS, buildNames, DEFAULT_IMAGE_BUILDER_TYPE, MACHINE_OS_BUILDER_SELECTOR,
  MCO_NAMESPACE, ON_CLUSTER_BUILD_CONFIG,
} from '../mco/constants.js'
import {buildsOf, currentBuild, jobOf, machineOSConfigOf, type MachineOSBuild, type MachineOSConfig, mosbStatus} from '../mco/machine-os.js'
import {isLayered, poolBuild, poolImage, renderedConfig} from '../mco/pool-state.js'

/** The containers of the operator's build pod (4.14/4.15). */
export const IMAGE_BUILD_CONTAINER = 'image-build'
export const WAIT_FOR_DONE_CONTAINER = 'wait-for-done'

/** Label OpenShift puts on the pods it runs for a Build: those are read through builds/log instead. */
const OPENSHIFT_BUILD_NAME_LABEL = 'openshift.io/build.name'

export interface LogTarget {
  /** `pod`: pods/log of one container; `build`: builds/log of an OpenShift Build. */
  kind: 'build' | 'pod'
  /** `build`: a pool's image build; `builder`: the machine-os-builder. */
  role: 'build' | 'builder'
  name: string
  namespace: string
  /** Pods only: the container whose log is read. */
  container?: string
  /** The pool the build is for (not set for the machine-os-builder). */
  pool?: string
  /** The rendered MachineConfig the build is for (its desiredConfig label). */
  rendered?: string
  /** The rendered MachineConfig the pool targets now (spec.configuration.name). */
  poolRendered?: string
  /** The object as it was when it was chosen. */
  pod?: Pod
  build?: Build
  /** 4.18+: the MachineOSBuild whose Job's pod this is. */
  machineOSBuild?: string
}

/** True when the target builds another rendered config than the one its pool targets now. */
export function isStale(t: LogTarget): boolean {
  return t.role === 'build' && Boolean(t.rendered) && Boolean(t.poolRendered) && t.rendered !== t.poolRendered
}

/** Everything the choice depends on, read with one request per kind. */
export interface Inventory {
  pools: MachineConfigPool[]
  /** Build pods (buildPod label) in the operator's namespace, OpenShift's own build pods left out. */
  pods: Pod[]
  /** OpenShift Builds with the buildPod label (empty when the cluster does not serve Builds). */
  builds: Build[]
  /** imageBuilderType of on-cluster-build-config, the operator's default when absent or empty. */
  builderType: string
  /** 4.18+ (empty where the MachineOSConfig API is not served): MachineOSConfigs, MachineOSBuilds, and the pods of Jobs in the operator's namespace. */
  machineOS: {configs: MachineOSConfig[]; builds: MachineOSBuild[]; pods: Pod[]}
}

/** Kubernetes labels every pod of a Job with the Job's name. */
const JOB_NAME_LABEL = 'job-name'

export async function readInventory(client: KubeClient, signal?: AbortSignal): Promise<Inventory> {
  const [pools, pods, config] = await Promise.all([
    client.list<MachineConfigPool>(R.machineConfigPools, {signal}),
    client.list<Pod>(R.pods, {labelSelector: BUILD_LABELS.buildPod, namespace: MCO_NAMESPACE, signal}),
    client.find<ConfigMap>(R.configMaps, ON_CLUSTER_BUILD_CONFIG, MCO_NAMESPACE, signal),
  ])
  const builderType = config?.data?.[BUILD_CONFIG_KEYS.imageBuilderType] || DEFAULT_IMAGE_BUILDER_TYPE
  // Builds only matter to the image-builder backend; a cluster without build.openshift.io answers 404.
  let builds: Build[] = []
  if (builderType === DEFAULT_IMAGE_BUILDER_TYPE) {
    try {
      builds = (await client.list<Build>(R.builds, {labelSelector: BUILD_LABELS.buildPod, namespace: MCO_NAMESPACE, signal})).items
    } catch (error) {
      if (!isStatus(error, 404)) throw error
    }
  }

  const machineOS: Inventory['machineOS'] = {builds: [], configs: [], pods: []}
  if ((await discover(client)).machineOS) {
    const [configs, mosbs, jobPods] = await Promise.all([
      client.list<MachineOSConfig>(R.machineOSConfigs, {signal}),
      client.list<MachineOSBuild>(R.machineOSBuilds, {signal}),
      client.list<Pod>(R.pods, {labelSelector: JOB_NAME_LABEL, namespace: MCO_NAMESPACE, signal}),
    ])
    Object.assign(machineOS, {builds: mosbs.items, configs: configs.items, pods: jobPods.items})
  }

  return {
    builderType,
    builds,
    machineOS,
    pods: pods.items.filter((p) => !Object.hasOwn(p.metadata.labels ?? {}, OPENSHIFT_BUILD_NAME_LABEL)),
    pools: pools.items,
  }
}

/** 4.18+: the MachineOSBuild whose log a pool shows (of its rendered config, else its newest), if any. */
export function machineOSBuildOf(inv: Inventory, pool: MachineConfigPool): MachineOSBuild | undefined {
  const config = machineOSConfigOf(inv.machineOS.configs, pool.metadata.name!)
  if (!config) return undefined
  return currentBuild(inv.machineOS.builds, config, renderedConfig(pool)) ?? buildsOf(inv.machineOS.builds, config)[0]
}

/** A pool is opted in by the label (4.14/4.15) or by a MachineOSConfig (4.18+). */
export function optedIn(inv: Inventory, pool: MachineConfigPool): boolean {
  return isLayered(pool) || Boolean(machineOSConfigOf(inv.machineOS.configs, pool.metadata.name!))
}

function machineOSTarget(inv: Inventory, pool: MachineConfigPool, container?: string): LogTarget | undefined {
  const mosb = machineOSBuildOf(inv, pool)
  if (!mosb) return undefined
  const job = jobOf(mosb)
  const pod = pickBuildObject(inv.machineOS.pods.filter((p) => p.metadata.labels?.[JOB_NAME_LABEL] === job), undefined)
  if (!pod) return undefined
  return {
    container: container ?? IMAGE_BUILD_CONTAINER, kind: 'pod', machineOSBuild: mosb.metadata.name, name: pod.metadata.name!, namespace: MCO_NAMESPACE,
    pod, pool: pool.metadata.name, poolRendered: renderedConfig(pool), rendered: mosb.spec?.machineConfig?.name, role: 'build',
  }
}

const poolOf = (o: KubeObject): string | undefined => o.metadata.labels?.[BUILD_LABELS.targetPool] || undefined
const renderedOf = (o: KubeObject): string | undefined => o.metadata.labels?.[BUILD_LABELS.desiredConfig] || undefined

/** `build-<rendered>` when it is there, otherwise the most recently created object. */
export function pickBuildObject<T extends KubeObject>(objects: T[], rendered: string | undefined): T | undefined {
  if (rendered) {
    const current = objects.find((o) => o.metadata.name === buildNames(rendered).build)
    if (current) return current
  }

  return [...objects].sort((a, b) => {
    const ta = Date.parse(a.metadata.creationTimestamp ?? '') || 0
    const tb = Date.parse(b.metadata.creationTimestamp ?? '') || 0
    return tb - ta || (b.metadata.name ?? '').localeCompare(a.metadata.name ?? '')
  })[0]
}

/** Pools that have a build pod or Build (or, 4.18+, a build Job's pod), sorted by name. */
export function poolsWithBuilds(inv: Inventory): string[] {
  const names = new Set<string>()
  for (const o of [...inv.pods, ...inv.builds]) {
    const p = poolOf(o)
    if (p) names.add(p)
  }

  for (const pool of inv.pools) if (machineOSTarget(inv, pool)) names.add(pool.metadata.name!)
  return [...names].sort()
}

/**
 * The build target of one pool, or undefined when it has no build object. The OpenShift Build is
 * used when the cluster builds with the image builder and a Build exists; otherwise the pod.
 */
export function buildTarget(inv: Inventory, pool: MachineConfigPool, container?: string): LogTarget | undefined {
  if (machineOSConfigOf(inv.machineOS.configs, pool.metadata.name!)) return machineOSTarget(inv, pool, container)
  const name = pool.metadata.name!
  const current = renderedConfig(pool)
  if (inv.builderType === DEFAULT_IMAGE_BUILDER_TYPE) {
    const build = pickBuildObject(inv.builds.filter((b) => poolOf(b) === name), current)
    if (build) {
      return {
        build, kind: 'build', name: build.metadata.name!, namespace: MCO_NAMESPACE, pool: name,
        poolRendered: current, rendered: renderedOf(build), role: 'build',
      }
    }
  }

  const pod = pickBuildObject(inv.pods.filter((p) => poolOf(p) === name), current)
  if (!pod) return undefined
  return {
    container: container ?? IMAGE_BUILD_CONTAINER, kind: 'pod', name: pod.metadata.name!, namespace: MCO_NAMESPACE,
    pod, pool: name, poolRendered: current, rendered: renderedOf(pod), role: 'build',
  }
}

/**
 * Why a pool has no build pod or Build, from what the operator recorded on the pool, as an error
 * (exit 6) that says what happened and what to do.
 */
export function noBuildError(pool: MachineConfigPool): MobError {
  const name = pool.metadata.name!
  const rendered = renderedConfig(pool)
  const build = poolBuild(pool)
  const image = poolImage(pool)
  const err = (message: string, next: string, code = 'NoBuild'): MobError => new MobError(message, {code, exitCode: ExitCode.NotFound, next})
  if (!isLayered(pool)) {
    return err(
      `pool ${name} is not opted into on-cluster builds, so it has no build logs`,
      `opt it in with \`oc mob enable ${name}\`, then \`oc mob build ${name}\` runs a build and follows its log`,
      'NotLayered',
    )
  }

  switch (build.state) {
    case 'succeeded': {
      return err(
        `the build of pool ${name} succeeded${image ? ` (image ${image})` : ''} and the Machine Config Operator removed its build pod: logs of successful builds are not kept`,
        `\`oc mob status ${name}\` shows the image and the rollout; \`oc mob build ${name}\` runs a new build and follows its log`,
        'BuildPodRemoved',
      )
    }

    case 'failed': {
      return err(
        `the build of pool ${name} failed${build.message ? ` (${build.message})` : ''} and its build pod no longer exists`,
        `\`oc mob cleanup ${name}\` clears the failed build; then \`oc mob build ${name}\` runs a new one and follows its log`,
        'BuildPodRemoved',
      )
    }

    case 'pending': case 'building': {
      return err(
        `a build of pool ${name} is ${build.state === 'pending' ? 'pending' : 'running'} but its build pod does not exist (yet)`,
        `\`oc mob logs ${name} -f\` waits for it; \`oc mob status ${name}\` shows where the build stands`,
        'BuildPodMissing',
      )
    }

    default: {
      return err(
        `no build has been started for pool ${name}${rendered ? ` and its rendered config ${rendered}` : ''}`,
        `start one with \`oc mob build ${name}\` (it follows the build's log)`,
      )
    }
  }
}

/** 4.18+: why a pool with a MachineOSConfig has no build pod to read, and what to do. */
export function noMachineOSBuildError(inv: Inventory, pool: MachineConfigPool): MobError {
  const name = pool.metadata.name!
  const config = machineOSConfigOf(inv.machineOS.configs, name)!
  const mosc = config.metadata.name!
  const rebuild = `\`oc annotate machineosconfig/${mosc} machineconfiguration.openshift.io/rebuild=\``
  const err = (message: string, next: string, code: string): MobError => new MobError(message, {code, exitCode: ExitCode.NotFound, next})
  const mosb = machineOSBuildOf(inv, pool)
  if (!mosb) {
    return err(`pool ${name} has MachineOSConfig ${mosc} but no MachineOSBuild yet, so there is no build log`,
      `the machine-os-builder creates one for the pool's rendered config once the pool is not degraded; \`oc mob status ${name}\` shows where it stands`, 'NoBuild')
  }

  const b = mosb.metadata.name!
  const job = jobOf(mosb)
  const st = mosbStatus(mosb)
  switch (st.state) {
    case 'succeeded': {
      const image = mosb.status?.digestedImagePushSpec
      return err(`MachineOSBuild ${b} of pool ${name} succeeded${image ? ` (image ${image})` : ''} and the machine-os-builder removed its Job ${job}: logs of successful builds are not kept`,
        `\`oc mob status ${name}\` shows the image and the rollout; ${rebuild} builds again`, 'BuildPodRemoved')
    }

    case 'failed': case 'interrupted': {
      return err(`MachineOSBuild ${b} of pool ${name} ${st.state === 'failed' ? 'failed' : 'was interrupted'}${st.message ? ` (${st.message})` : ''} and its Job ${job} has no pod left`,
        `\`oc get job -n ${MCO_NAMESPACE} ${job}\` shows what remains; once the cause is fixed, ${rebuild} builds again`, 'BuildPodRemoved')
    }

    default: {
      return err(`MachineOSBuild ${b} of pool ${name} is ${st.state} but its Job ${job} has no pod yet`,
        `\`oc mob logs ${name} -f\` waits for it; \`oc mob status ${name}\` shows where the build stands`, 'BuildPodMissing')
    }
  }
}

export function noBuildsAnywhereError(inv: Inventory): MobError {
  const layered = inv.pools.filter((p) => optedIn(inv, p)).map((p) => p.metadata.name!).sort()
  return new MobError(`no pool has a build pod or Build in ${MCO_NAMESPACE}${layered.length > 0 ? ` (pools opted into on-cluster builds: ${layered.join(', ')})` : ' and no pool is opted into on-cluster builds'}`, {
    code: 'NoBuild',
    exitCode: ExitCode.NotFound,
    next: layered.length > 0
      ? `\`oc mob build ${layered[0]}\` runs a build and follows its log; \`oc mob logs --builder\` shows the machine-os-builder's log`
      : 'opt a pool in with `oc mob enable <pool>`, then `oc mob build <pool>` runs a build and follows its log',
  })
}

export function severalPoolsError(pools: string[]): MobError {
  return new MobError(`several pools have builds: ${pools.join(', ')}; name one`, {
    code: 'SeveralPools',
    exitCode: ExitCode.Usage,
    next: `run \`oc mob logs ${pools[0]}\`, or \`oc mob logs --all\` for all of them (each line prefixed with its pool)`,
  })
}

/** The machine-os-builder pod: the newest running one, otherwise the newest. */
export async function builderTarget(client: KubeClient, container?: string, signal?: AbortSignal): Promise<LogTarget> {
  const pods = (await client.list<Pod>(R.pods, {labelSelector: MACHINE_OS_BUILDER_SELECTOR, namespace: MCO_NAMESPACE, signal})).items
    .filter((p) => !p.metadata.deletionTimestamp)
  const running = pods.filter((p) => p.status?.phase === 'Running')
  const pod = pickBuildObject(running.length > 0 ? running : pods, undefined)
  if (!pod) {
    throw new MobError(`the machine-os-builder is not running: no pod labelled ${MACHINE_OS_BUILDER_SELECTOR} in ${MCO_NAMESPACE}`, {
      code: 'BuilderNotRunning',
      exitCode: ExitCode.NotFound,
      next: 'the operator runs it while at least one pool is opted into on-cluster builds (`oc mob enable <pool>`); `oc mob status` shows why it is not running',
    })
  }

  return {container: container ?? pod.spec?.containers?.[0]?.name, kind: 'pod', name: pod.metadata.name!, namespace: MCO_NAMESPACE, pod, role: 'builder'}
}

export interface Selection {
  targets: LogTarget[]
  /** Pools with no build object yet whose build is pending or running: `-f` waits for the object. */
  awaiting: MachineConfigPool[]
  /** 4.18+: MachineOSBuilds under way whose Job has no pod yet: `-f` waits for the pod. */
  awaitingJobs?: Array<{pool: MachineConfigPool; machineOSBuild: MachineOSBuild}>
}

export interface SelectOptions {
  pool?: string
  all?: boolean
  container?: string
  follow?: boolean
}

/** Choose the build log(s) to show, or throw the error that explains why there is none. */
export function selectBuilds(inv: Inventory, opts: SelectOptions): Selection {
  if (opts.pool) {
    const pool = inv.pools.find((p) => p.metadata.name === opts.pool)
    if (!pool) throw poolNotFound(opts.pool, inv.pools, 'logs')
    const target = buildTarget(inv, pool, opts.container)
    if (target) return {awaiting: [], targets: [target]}
    if (machineOSConfigOf(inv.machineOS.configs, pool.metadata.name!)) {
      const mosb = machineOSBuildOf(inv, pool)
      if (opts.follow && mosb && ['pending', 'running'].includes(mosbStatus(mosb).state)) return {awaiting: [], awaitingJobs: [{machineOSBuild: mosb, pool}], targets: []}
      throw noMachineOSBuildError(inv, pool)
    }

    if (opts.follow && isLayered(pool) && ['building', 'pending'].includes(poolBuild(pool).state)) return {awaiting: [pool], targets: []}
    throw noBuildError(pool)
  }

  const names = poolsWithBuilds(inv)
  if (names.length === 0) {
    // One pool opted in: explain that pool (its build succeeded, was never started...).
    const layered = inv.pools.filter((p) => optedIn(inv, p))
    if (layered.length === 1 && !opts.all) return selectBuilds(inv, {...opts, pool: layered[0].metadata.name})
    throw noBuildsAnywhereError(inv)
  }

  if (names.length > 1 && !opts.all) throw severalPoolsError(names)
  const targets: LogTarget[] = []
  for (const name of names) {
    const pool = inv.pools.find((p) => p.metadata.name === name)
    // A build object whose pool was deleted still has a log worth showing.
    const t = buildTarget(inv, pool ?? {metadata: {name}}, opts.container)
    if (t) targets.push(t)
  }

  return {awaiting: [], targets}
}
