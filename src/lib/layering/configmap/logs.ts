/**
 * 4.14/4.15 build logs: the operator's build pod (`build-<rendered>`, containers image-build and
 * wait-for-done) or, with the image builder, the OpenShift Build; found by the operator's labels in its
 * namespace, the pool's current build first, otherwise its most recent one.
 */
import {ExitCode, MobError} from '../../errors.js'
import {isStatus, type KubeClient} from '../../kube/client.js'
import {R} from '../../kube/resources.js'
import type {Build, ConfigMap, KubeObject, MachineConfigPool, Pod} from '../../kube/types.js'
import {deadline} from '../../kube/wait.js'
import {informer} from '../../kube/watch.js'
import {IMAGE_BUILD_CONTAINER, type LogTarget, OPENSHIFT_BUILD_NAME_LABEL, pickBuildObject} from '../../logs/target.js'
import {BUILD_CONFIG_KEYS, BUILD_LABELS, DEFAULT_IMAGE_BUILDER_TYPE, MCO_NAMESPACE, ON_CLUSTER_BUILD_CONFIG} from '../../mco/constants.js'
import {isLayered, poolBuild, poolImage, renderedConfig} from '../../mco/pool-state.js'
import type {Inventory, PoolLogs} from '../logs/inventory.js'

/** The 4.14/4.15 part of the inventory: build pods, Builds, and which builder the cluster uses. */
export async function readConfigMapBuilds(
  client: KubeClient,
  signal?: AbortSignal,
): Promise<Pick<Inventory, 'builderType' | 'builds' | 'pods'>> {
  const [pods, config] = await Promise.all([
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

  return {builderType, builds, pods: pods.items.filter((p) => !Object.hasOwn(p.metadata.labels ?? {}, OPENSHIFT_BUILD_NAME_LABEL))}
}

const poolOf = (o: KubeObject): string | undefined => o.metadata.labels?.[BUILD_LABELS.targetPool] || undefined
const renderedOf = (o: KubeObject): string | undefined => o.metadata.labels?.[BUILD_LABELS.desiredConfig] || undefined

function poolsWithBuilds(inv: Inventory): string[] {
  const names = new Set<string>()
  for (const o of [...inv.pods, ...inv.builds]) {
    const p = poolOf(o)
    if (p) names.add(p)
  }

  return [...names]
}

/**
 * The build target of one pool, or undefined when it has no build object. The OpenShift Build is
 * used when the cluster builds with the image builder and a Build exists; otherwise the pod.
 */
function buildTarget(inv: Inventory, pool: MachineConfigPool, container?: string): LogTarget | undefined {
  const name = pool.metadata.name!
  const current = renderedConfig(pool)
  if (inv.builderType === DEFAULT_IMAGE_BUILDER_TYPE) {
    const build = pickBuildObject(
      inv.builds.filter((b) => poolOf(b) === name),
      current,
    )
    if (build) {
      return {
        build,
        kind: 'build',
        name: build.metadata.name!,
        namespace: MCO_NAMESPACE,
        pool: name,
        poolRendered: current,
        rendered: renderedOf(build),
        role: 'build',
      }
    }
  }

  const pod = pickBuildObject(
    inv.pods.filter((p) => poolOf(p) === name),
    current,
  )
  if (!pod) return undefined
  return {
    container: container ?? IMAGE_BUILD_CONTAINER,
    kind: 'pod',
    name: pod.metadata.name!,
    namespace: MCO_NAMESPACE,
    pod,
    pool: name,
    poolRendered: current,
    rendered: renderedOf(pod),
    role: 'build',
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
  const err = (message: string, next: string, code = 'NoBuild'): MobError =>
    new MobError(message, {code, exitCode: ExitCode.NotFound, next})
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
        `the build of pool ${name} succeeded${image ? ` (image ${image})` : ''} and its build pod is gone: the objects of a successful build are removed when it ends (by the operator, or by oc mob build), so its log is not kept`,
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

    case 'pending':
    case 'building': {
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

/** A pool opted in by the label whose build is pending or running. */
export function inProgress(pool: MachineConfigPool): boolean {
  return isLayered(pool) && ['building', 'pending'].includes(poolBuild(pool).state)
}

/**
 * Wait (watching, not polling) for the build pod — or, with the image-builder backend, the Build —
 * of a pool whose build is pending but whose build object does not exist yet.
 */
export async function waitForBuildObject(
  client: KubeClient,
  pool: string,
  rendered: string | undefined,
  builderType: string,
  container: string | undefined,
  signal?: AbortSignal,
): Promise<LogTarget> {
  const ac = deadline(signal, undefined)
  const labelSelector = [
    BUILD_LABELS.buildPod,
    `${BUILD_LABELS.targetPool}=${pool}`,
    ...(rendered ? [`${BUILD_LABELS.desiredConfig}=${rendered}`] : []),
  ].join(',')
  const first = async <T extends Pod | Build>(kind: 'build' | 'pod'): Promise<LogTarget> => {
    for await (const ev of informer<T>(client, kind === 'pod' ? R.pods : R.builds, {
      labelSelector,
      namespace: MCO_NAMESPACE,
      signal: ac.signal,
    })) {
      const objects = ev.type === 'SYNCED' ? ev.objects : ev.type === 'DELETED' ? [] : [ev.object]
      const o = objects.find((x) => !x.metadata.deletionTimestamp && !Object.hasOwn(x.metadata.labels ?? {}, OPENSHIFT_BUILD_NAME_LABEL))
      if (!o) continue
      return {
        ...(kind === 'pod' ? {container: container ?? IMAGE_BUILD_CONTAINER, pod: o as Pod} : {build: o as Build}),
        kind,
        name: o.metadata.name!,
        namespace: MCO_NAMESPACE,
        pool,
        poolRendered: rendered,
        rendered: o.metadata.labels?.[BUILD_LABELS.desiredConfig],
        role: 'build',
      }
    }

    throw ac.signal.reason ?? new MobError('interrupted', {exitCode: ExitCode.Interrupted})
  }

  try {
    const waits = [first<Pod>('pod')]
    // A cluster that does not serve Builds answers the Build watch with 404: then only the pod counts.
    if (builderType === DEFAULT_IMAGE_BUILDER_TYPE)
      waits.push(first<Build>('build').catch(async (error) => (ac.signal.aborted ? Promise.reject(error) : new Promise<never>(() => {}))))
    return await Promise.race(waits)
  } catch (error) {
    if (signal?.aborted) throw signal.reason ?? error
    throw error
  } finally {
    ac.dispose()
  }
}

export const configMapLogs: PoolLogs = {
  awaiting(inv, pool, container) {
    if (!inProgress(pool)) return undefined
    const state =
      pool.status?.conditions?.find((c) => c.status === 'True' && (c.type === 'BuildPending' || c.type === 'Building'))?.type ??
      'BuildPending'
    return {
      pool,
      state,
      wait: (client, signal) => waitForBuildObject(client, pool.metadata.name!, renderedConfig(pool), inv.builderType, container, signal),
    }
  },
  noBuild: (_inv, pool) => noBuildError(pool),
  optedIn: (_inv, pool) => isLayered(pool),
  poolsWithBuilds,
  target: buildTarget,
}
