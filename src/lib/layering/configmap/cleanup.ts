/**
 * 4.14/4.15: what a failed or abandoned build left behind, found strictly by the operator's build labels
 * and the names derived from the rendered config those labels name: the build pod or Build `build-<R>`,
 * the `mc-<R>` and `dockerfile-<R>` ConfigMaps, the unlabelled `digest-<R>` ConfigMap, and the
 * `<name>-canonical` secret copies the build config provably owns. Plus the pool's stuck state: the
 * Build* conditions, the Degraded/RenderDegraded a failed build caused, and build references.
 *
 * Nothing here deletes. Anything that looks like a build object but cannot be proven to be one is
 * listed as kept, with the reason.
 */
import type {KubeClient} from '../../kube/client.js'
import {R} from '../../kube/resources.js'
import type {Build, ConfigMap, MachineConfigPool, Pod, Secret} from '../../kube/types.js'
import {BUILD_CONDITIONS, BUILD_CONFIG_KEYS, BUILD_LABELS, buildNames, MCO_NAMESPACE, ON_CLUSTER_BUILD_CONFIG} from '../../mco/constants.js'
import {condition, isLayered, poolImage, renderedConfig} from '../../mco/pool-state.js'
import {type BuildObjectInfo, describeBuildObject} from '../../cluster/build-objects.js'
import {poolNotFound} from '../../cluster/pools.js'
import type {CleanupItem, CleanupPlan, CleanupRole, KeptItem, PlanOptions, PoolFix} from '../../cleanup/types.js'

const NS = MCO_NAMESPACE

type Labelled = Build | ConfigMap | Pod

const isBuildRef = (r: {kind?: string; name?: string}): boolean =>
  (r.kind === 'Pod' || r.kind === 'Build') && Boolean(r.name?.startsWith('build-'))

/** The build object references of a pool (spec and status), by name. */
export function buildRefs(pool: MachineConfigPool): string[] {
  const refs = [...(pool.spec?.configuration?.source ?? []), ...(pool.status?.configuration?.source ?? [])]
  return [...new Set(refs.filter((r) => isBuildRef(r)).map((r) => r.name!))]
}

/** A RenderDegraded (or Degraded) written because a build failed, not for another reason. */
function causedByBuild(c: {reason?: string; message?: string} | undefined): boolean {
  return Boolean(
    c &&
      ((c.message ?? '').startsWith('Failed to build configuration for pool') ||
        c.reason === 'BuildFailed' ||
        c.reason === 'RenderDegraded'),
  )
}

/**
 * An object carrying the operator's build labels: the pool and rendered config they name, and its role
 * when its name is one a build of that config uses (undefined: a look-alike). Undefined when the labels
 * do not name both.
 */
export function recognizeBuildObject(
  o: Labelled,
  kind: 'Build' | 'ConfigMap' | 'Pod',
): {pool: string; renderedConfig: string; role: CleanupRole | undefined} | undefined {
  const l = o.metadata.labels ?? {}
  const pool = l[BUILD_LABELS.targetPool]
  const r = l[BUILD_LABELS.desiredConfig]
  if (!Object.hasOwn(l, BUILD_LABELS.buildPod) || !pool || !r) return undefined
  return {pool, renderedConfig: r, role: roleOf(kind, o.metadata.name!, r)}
}

function roleOf(kind: 'Build' | 'ConfigMap' | 'Pod', name: string, rendered: string): CleanupRole | undefined {
  const names = buildNames(rendered)
  if (kind === 'Pod') return name === names.build ? 'build-pod' : undefined
  if (kind === 'Build') return name === names.build ? 'build' : undefined
  if (name === names.machineConfig) return 'machineconfig'
  if (name === names.dockerfile) return 'dockerfile'
  if (name === names.digest) return 'digest'
  return undefined
}

const ROLE_WHY: Record<CleanupRole, string> = {
  build: 'the OpenShift Build of the build',
  'build-pod': 'the build pod',
  'canonical-secret': 'canonical copy of a build config secret',
  digest: 'the digest the build published',
  dockerfile: 'the rendered Dockerfile of the build',
  machineconfig: 'the encoded MachineConfig of the build',
  'build-secret': "the builder's copy of a pull or push secret",
  ephemeral: 'an input or output of the build',
  job: 'the Job of the build',
  'job-pod': "an attempt of the build's Job",
  'machine-os-build': 'the MachineOSBuild',
}

function isUnfinished(info: BuildObjectInfo): boolean {
  return !info.terminating && (info.state === 'pending' || info.state === 'running')
}

/**
 * The 4.14/4.15 part of a cleanup plan: build pods, Builds, their ConfigMaps and the canonical secret
 * copies by the operator's labels, and the pools' stuck build state. `apis.build`: Builds are served.
 */
export async function planConfigMapCleanup(client: KubeClient, opts: PlanOptions, apis: {build: boolean}): Promise<CleanupPlan> {
  // Every pool's build objects are listed (one list per kind): a build running anywhere protects the shared secrets.
  const selector = BUILD_LABELS.buildPod
  const [pools, pods, cms, builds, config] = await Promise.all([
    client.list<MachineConfigPool>(R.machineConfigPools, {signal: opts.signal}),
    client.list<Pod>(R.pods, {labelSelector: selector, namespace: NS, signal: opts.signal}),
    client.list<ConfigMap>(R.configMaps, {labelSelector: selector, namespace: NS, signal: opts.signal}),
    apis.build
      ? client.list<Build>(R.builds, {labelSelector: selector, namespace: NS, signal: opts.signal})
      : Promise.resolve({items: [] as Build[], metadata: {}}),
    client.find<ConfigMap>(R.configMaps, ON_CLUSTER_BUILD_CONFIG, NS, opts.signal),
  ])
  const poolByName = new Map(pools.items.map((p) => [p.metadata.name!, p]))
  const inScope = (pool: string): boolean => opts.all === true || pool === opts.pool
  const items: CleanupItem[] = []
  const kept: KeptItem[] = []
  const allBuilds: Array<{pool: string; info: BuildObjectInfo}> = []
  const rendered = new Map<string, Set<string>>() // pool -> rendered configs seen
  const see = (pool: string, r: string): void => {
    const set = rendered.get(pool) ?? new Set<string>()
    set.add(r)
    rendered.set(pool, set)
  }

  const consider = (o: Labelled, kind: 'Build' | 'ConfigMap' | 'Pod'): void => {
    const name = o.metadata.name!
    const recognized = recognizeBuildObject(o, kind)
    if (!recognized) {
      if (opts.all)
        kept.push({
          kind,
          name,
          reason: `has the ${BUILD_LABELS.buildPod} label but not ${BUILD_LABELS.targetPool} and ${BUILD_LABELS.desiredConfig}: not provably a build object`,
        })
      return
    }

    const {pool, renderedConfig: r, role} = recognized
    const info = kind === 'ConfigMap' ? undefined : describeBuildObject(o as Build | Pod, kind)
    if (info && role) allBuilds.push({info, pool})
    if (!inScope(pool)) return
    if (!role) {
      kept.push({kind, name, reason: `carries the build labels of pool ${pool} but its name is not one a build of ${r} uses`})
      return
    }

    see(pool, r)
    items.push({
      build: info,
      kind,
      name,
      namespace: NS,
      pool,
      renderedConfig: r,
      role,
      uid: o.metadata.uid ?? '',
      why: `${ROLE_WHY[role]} of ${r}${info ? ` (${info.hung ? 'failed, pod hung' : info.state}${info.terminating ? ', being deleted' : ''})` : ''}`,
    })
  }

  for (const p of pods.items) consider(p, 'Pod')
  for (const b of builds.items) consider(b, 'Build')
  for (const c of cms.items) consider(c, 'ConfigMap')

  const scopePools = opts.all ? [...new Set([...poolByName.keys(), ...rendered.keys()])] : [opts.pool!]
  if (!opts.all && !poolByName.has(opts.pool!) && !rendered.has(opts.pool!)) throw poolNotFound(opts.pool!, pools.items, 'cleanup')

  // digest-<R> carries no labels (the build pod's `oc create configmap` makes it): found by name, for
  // every rendered config of the pool that a build object, a build reference or the pool itself names.
  const digestLookups: Array<{pool: string; r: string}> = []
  for (const name of scopePools) {
    const p = poolByName.get(name)
    const configs = new Set(rendered.get(name) ?? [])
    if (p) {
      for (const ref of buildRefs(p)) configs.add(ref.slice('build-'.length))
      const current = renderedConfig(p)
      if (current && (isLayered(p) || configs.size > 0)) configs.add(current)
    }

    // Only names that are provably the pool's: rendered-<pool>-<hash>.
    for (const r of configs) {
      if (r.startsWith(`rendered-${name}-`) && !items.some((i) => i.role === 'digest' && i.renderedConfig === r))
        digestLookups.push({pool: name, r})
    }
  }

  const digests = await Promise.all(digestLookups.map((d) => client.find<ConfigMap>(R.configMaps, buildNames(d.r).digest, NS, opts.signal)))
  const digestValues = new Map<string, string>(cms.items.filter((c) => c.data?.digest).map((c) => [c.metadata.name!, c.data!.digest]))
  for (const [i, cm] of digests.entries()) {
    if (!cm) continue
    const {pool, r} = digestLookups[i]
    const l = cm.metadata.labels ?? {}
    const keys = Object.keys(cm.data ?? {})
    if ((l[BUILD_LABELS.targetPool] && l[BUILD_LABELS.targetPool] !== pool) || keys.length !== 1 || keys[0] !== 'digest' || cm.binaryData) {
      kept.push({
        kind: 'ConfigMap',
        name: cm.metadata.name!,
        reason: 'named like a build digest but does not hold just a `digest` key (or belongs to another pool)',
      })
      continue
    }

    see(pool, r)
    digestValues.set(cm.metadata.name!, cm.data?.digest ?? '')
    items.push({
      kind: 'ConfigMap',
      name: cm.metadata.name!,
      namespace: NS,
      pool,
      renderedConfig: r,
      role: 'digest',
      uid: cm.metadata.uid ?? '',
      why: `${ROLE_WHY.digest} of ${r}`,
    })
  }

  // A build pod that succeeded but whose image the pool has not recorded yet is still finishing.
  const running: CleanupItem[] = []
  for (const item of items) {
    if (!item.build) continue
    if (isUnfinished(item.build)) {
      running.push(item)
      continue
    }

    if (item.build.state === 'succeeded' && !item.build.terminating) {
      const p = item.pool ? poolByName.get(item.pool) : undefined
      const digest = items.find((i) => i.role === 'digest' && i.renderedConfig === item.renderedConfig)
      const digestValue = digest ? digestValues.get(digest.name) : undefined
      const recorded =
        p && condition(p, 'BuildSuccess')?.status === 'True' && (!digestValue || (poolImage(p) ?? '').endsWith(digestValue.trim()))
      if (p && renderedConfig(p) === item.renderedConfig && !recorded) {
        item.why += '; its image is not recorded on the pool yet'
        running.push(item)
      }
    }
  }

  // The pools' stuck state.
  const fixes: PoolFix[] = []
  for (const name of scopePools) {
    const p = poolByName.get(name)
    const mine = items.filter((i) => i.pool === name)
    if (!p) {
      if (mine.length > 0)
        fixes.push({exists: false, pool: name, removeConditions: [], removeRefs: [], resetConditions: [], why: 'the pool no longer exists'})
      continue
    }

    const current = renderedConfig(p)
    const liveObject = allBuilds.find((b) => b.pool === name && b.info.renderedConfig === current && isUnfinished(b.info))
    const deleting = new Set(mine.filter((i) => i.build).map((i) => i.name))
    const failedObject = mine.some((i) => i.build?.state === 'failed' && i.renderedConfig === current)
    const failed = condition(p, 'BuildFailed')?.status === 'True' || failedObject
    const busy = condition(p, 'BuildPending')?.status === 'True' || condition(p, 'Building')?.status === 'True'
    const stale = busy && (!liveObject || deleting.has(liveObject.info.name))
    const existing = new Set(allBuilds.filter((b) => b.pool === name).map((b) => b.info.name))
    const removeRefs = buildRefs(p).filter((ref) => deleting.has(ref) || !existing.has(ref))
    const removeConditions =
      failed || stale
        ? (p.status?.conditions ?? []).filter((c) => (BUILD_CONDITIONS as readonly string[]).includes(c.type)).map((c) => c.type)
        : []
    const resetConditions: string[] = []
    if (failed) {
      const render = condition(p, 'RenderDegraded')
      const renderByBuild = render?.status === 'True' && causedByBuild(render)
      if (renderByBuild) resetConditions.push('RenderDegraded')
      const otherRender = render?.status === 'True' && !renderByBuild
      if (condition(p, 'Degraded')?.status === 'True' && condition(p, 'NodeDegraded')?.status !== 'True' && !otherRender)
        resetConditions.push('Degraded')
    }

    if (removeConditions.length === 0 && resetConditions.length === 0 && removeRefs.length === 0) continue
    const why = failed
      ? 'its last build failed (BuildFailed blocks new builds)'
      : stale && liveObject
        ? `its running build ${liveObject.info.name} is stopped (with --force)`
        : stale
          ? 'it says a build is pending or running, but no such build exists any more'
          : 'it references build objects that are gone'
    fixes.push({exists: true, pool: name, removeConditions, removeRefs, resetConditions, why})
  }

  // Canonical secret copies of the build config's secrets.
  if (config && !opts.keepSecrets) await planSecrets(client, config, allBuilds, items, kept, opts.signal)

  return {items, kept, pools: fixes, running, scope: {all: Boolean(opts.all), pool: opts.pool ?? null}}
}

async function planSecrets(
  client: KubeClient,
  config: ConfigMap,
  builds: Array<{pool: string; info: BuildObjectInfo}>,
  items: CleanupItem[],
  kept: KeptItem[],
  signal?: AbortSignal,
): Promise<void> {
  const named = [
    ...new Set(
      [BUILD_CONFIG_KEYS.baseImagePullSecretName, BUILD_CONFIG_KEYS.finalImagePushSecretName]
        .map((k) => config.data?.[k]?.trim())
        .filter((v): v is string => Boolean(v)),
    ),
  ]
  const busy = builds.find((b) => isUnfinished(b.info))
  for (const name of named) {
    if (name.endsWith('-canonical')) {
      const s = await client.find<Secret>(R.secrets, name, NS, signal)
      if (s)
        kept.push({
          kind: 'Secret',
          name,
          reason: `${ON_CLUSTER_BUILD_CONFIG} points at it: builds use it, and deleting it would break the next one`,
        })
      continue
    }

    const copy = `${name}-canonical`
    const [secret, base] = await Promise.all([
      client.find<Secret>(R.secrets, copy, NS, signal),
      client.find<Secret>(R.secrets, name, NS, signal),
    ])
    if (!secret) continue
    const keys = Object.keys(secret.data ?? {})
    if (secret.type !== 'kubernetes.io/dockerconfigjson' || keys.length !== 1 || keys[0] !== '.dockerconfigjson') {
      kept.push({kind: 'Secret', name: copy, reason: 'named like a canonical copy but is not one (type or keys differ)'})
      continue
    }

    if (!base) {
      kept.push({kind: 'Secret', name: copy, reason: `its source secret ${name} is missing, so it could not be made again`})
      continue
    }

    if (busy) {
      kept.push({
        kind: 'Secret',
        name: copy,
        reason: `${busy.info.kind.toLowerCase()} ${busy.info.name} of pool ${busy.pool} is running and may use it`,
      })
      continue
    }

    items.push({
      kind: 'Secret',
      name: copy,
      namespace: NS,
      pool: null,
      renderedConfig: null,
      role: 'canonical-secret',
      uid: secret.metadata.uid ?? '',
      why: `canonical copy of ${name} (named in ${ON_CLUSTER_BUILD_CONFIG}); the next build makes it again from ${name}`,
    })
  }
}

/** `pod/build-x`, `configmap/mc-x`: how objects are named in messages. */
