/**
 * The OpenShift 4.14/4.15 generation of on-cluster builds: build settings in the ConfigMap
 * `on-cluster-build-config` (one for all pools) and the pool's entry in
 * `on-cluster-build-custom-dockerfile`; a pool opts in with the label
 * `machineconfiguration.openshift.io/layering-enabled`; build state in the pool's Build* conditions
 * and the image in its `newestImageEquivalentConfig` annotation.
 */
import {hungFailure, runBuild} from './build.js'
import {gatherInputs} from '../../build/inputs.js'
import {BUILD_CONTAINERS} from '../../build/objects.js'
import {CONTEXT_FILES, type LocalBuildInputs, renderPoolDockerfile} from '../../build/render.js'
import {StallGuard} from '../../build/stall-watch.js'
import {dockerfileHash, recordHistory} from '../../cluster/history.js'
import {ExitCode, MobError} from '../../errors.js'
import {lineCount} from '../../ui/output.js'
import type {KubeClient} from '../../kube/client.js'
import {discover} from '../../kube/discovery.js'
import {R} from '../../kube/resources.js'
import type {ConfigMap, Condition, KubeObject, MachineConfigPool, Pod} from '../../kube/types.js'
import {
  BUILD_CONDITIONS,
  BUILD_CONFIG_KEYS,
  BUILD_LABELS,
  buildNames,
  CUSTOM_DOCKERFILE_CONFIG,
  type ImageBuilderType,
  LAYERING_ENABLED_LABEL,
  MCO_NAMESPACE,
  NEWEST_IMAGE_ANNOTATION,
  ON_CLUSTER_BUILD_CONFIG,
} from '../../mco/constants.js'
import {conditionTrue, isLayered, poolBuild, poolImage, renderedConfig} from '../../mco/pool-state.js'
import {unifiedDiff, yamlOf} from '../diff.js'
import {BUILDER_DEPLOYMENT_WATCH, BUILDER_WATCH, builderHealth, logTail} from '../../cluster/builder.js'
import {Seen, watchAll, type WatchSpec} from '../../kube/watch-many.js'
import type {BuilderKind, BuildFollowEvent, BuildSettings, FollowOptions, LayeringBackend, Step} from '../generation.js'
import type {Access, PlanItem} from '../types.js'
import {otherSettings, replaceStep, unchangedStep} from '../steps.js'
import {compareText} from '../../order.js'

const NS = MCO_NAMESPACE

export const BUILDER_TYPES: Record<BuilderKind, ImageBuilderType> = {build: 'openshift-image-builder', pod: 'custom-pod-builder'}

export function builderKind(type: string | undefined): BuilderKind | undefined {
  if (type === 'custom-pod-builder') return 'pod'
  if (type === 'openshift-image-builder') return 'build'
  return undefined
}

/** The operator rewrites a secret name to `<name>-canonical` after converting a legacy secret: both mean the same. */
export function sameSecretName(current: string | undefined, wanted: string): boolean {
  return current === wanted || current === `${wanted}-canonical`
}

const cmAccess = (verb: string, name?: string): Access => ({group: '', name, namespace: NS, resource: 'configmaps', verb})

function configData(s: BuildSettings): Record<string, string> {
  const data: Record<string, string> = {
    [BUILD_CONFIG_KEYS.baseImagePullSecretName]: s.baseImagePullSecret,
    [BUILD_CONFIG_KEYS.finalImagePullspec]: s.finalImagePullspec,
    [BUILD_CONFIG_KEYS.finalImagePushSecretName]: s.finalImagePushSecret,
  }
  if (s.builder) data[BUILD_CONFIG_KEYS.imageBuilderType] = BUILDER_TYPES[s.builder]
  return data
}

/** The current data with the wanted values written in; names that only differ by `-canonical` are kept. */
function mergedConfig(current: Record<string, string>, wanted: Record<string, string>): Record<string, string> {
  const out = {...current}
  for (const [k, v] of Object.entries(wanted)) {
    const secretKey = k === BUILD_CONFIG_KEYS.baseImagePullSecretName || k === BUILD_CONFIG_KEYS.finalImagePushSecretName
    if (secretKey && sameSecretName(current[k], v)) continue
    out[k] = v
  }

  return out
}

function sorted(data: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(data).sort(([a], [b]) => compareText(a, b)))
}

function configMap(name: string, data: Record<string, string>): ConfigMap {
  return {apiVersion: 'v1', data: sorted(data), kind: 'ConfigMap', metadata: {name, namespace: NS}}
}

async function planBuildConfig(
  client: KubeClient,
  s: BuildSettings,
  opts: {force?: boolean; resolvePullspec?: () => Promise<string>},
): Promise<Step> {
  const current = await client.find<ConfigMap>(R.configMaps, ON_CLUSTER_BUILD_CONFIG, NS)
  const wanted = configData(s)
  const what = `${BUILD_CONFIG_KEYS.finalImagePullspec}=${s.finalImagePullspec}, ${BUILD_CONFIG_KEYS.baseImagePullSecretName}=${s.baseImagePullSecret}, ${BUILD_CONFIG_KEYS.finalImagePushSecretName}=${s.finalImagePushSecret}${s.builder ? `, ${BUILD_CONFIG_KEYS.imageBuilderType}=${BUILDER_TYPES[s.builder]}` : ''}`
  const resolved = async (): Promise<Record<string, string>> => {
    if (!opts.resolvePullspec) return wanted
    return {...wanted, [BUILD_CONFIG_KEYS.finalImagePullspec]: await opts.resolvePullspec()}
  }

  if (!current) {
    const manifest = configMap(ON_CLUSTER_BUILD_CONFIG, wanted)
    return {
      access: [cmAccess('create')],
      item: {action: 'create', kind: 'ConfigMap', manifest, name: ON_CLUSTER_BUILD_CONFIG, namespace: NS, summary: `create with ${what}`},
      async run() {
        await client.create<ConfigMap>(R.configMaps, configMap(ON_CLUSTER_BUILD_CONFIG, await resolved()))
      },
    }
  }

  const before = current.data ?? {}
  const after = mergedConfig(before, wanted)
  const diff = unifiedDiff(`configmap/${ON_CLUSTER_BUILD_CONFIG}`, yamlOf({data: sorted(before)}), yamlOf({data: sorted(after)}))
  const manifest = {...current, data: sorted(after), metadata: {name: ON_CLUSTER_BUILD_CONFIG, namespace: NS}}
  if (!diff) {
    return unchangedStep({
      kind: 'ConfigMap',
      manifest,
      name: ON_CLUSTER_BUILD_CONFIG,
      namespace: NS,
      summary: 'already holds these settings',
    })
  }

  return replaceStep(
    Boolean(opts.force),
    {diff, kind: 'ConfigMap', manifest, name: ON_CLUSTER_BUILD_CONFIG, namespace: NS},
    otherSettings(what),
    [cmAccess('update', ON_CLUSTER_BUILD_CONFIG)],
    async () => {
      const values = await resolved()
      await client.update<ConfigMap>(
        R.configMaps,
        ON_CLUSTER_BUILD_CONFIG,
        (cm) => {
          cm.data = mergedConfig(cm.data ?? {}, values)
        },
        {namespace: NS},
      )
    },
  )
}

async function planCustomDockerfile(client: KubeClient, s: BuildSettings, opts: {force?: boolean}): Promise<Step | undefined> {
  if (s.customDockerfile === undefined) return undefined
  const current = await client.find<ConfigMap>(R.configMaps, CUSTOM_DOCKERFILE_CONFIG, NS)
  const content = s.customDockerfile
  const lines = lineCount(content)
  if (!current) {
    return {
      access: [cmAccess('create')],
      item: {
        action: 'create',
        kind: 'ConfigMap',
        manifest: configMap(CUSTOM_DOCKERFILE_CONFIG, {[s.pool]: content}),
        name: CUSTOM_DOCKERFILE_CONFIG,
        namespace: NS,
        summary: `create with the custom Dockerfile of pool ${s.pool} (${lines})`,
      },
      async run() {
        await client.create<ConfigMap>(R.configMaps, configMap(CUSTOM_DOCKERFILE_CONFIG, {[s.pool]: content}))
      },
    }
  }

  const existing = current.data?.[s.pool]
  const manifest = {
    ...current,
    data: sorted({...current.data, [s.pool]: content}),
    metadata: {name: CUSTOM_DOCKERFILE_CONFIG, namespace: NS},
  }
  if (existing === content) {
    return unchangedStep({
      kind: 'ConfigMap',
      manifest,
      name: CUSTOM_DOCKERFILE_CONFIG,
      namespace: NS,
      summary: `already holds this custom Dockerfile for pool ${s.pool}`,
    })
  }

  const others = Object.keys(current.data ?? {}).filter((k) => k !== s.pool)
  const keep = others.length > 0 ? `; the entries of ${others.join(', ')} are kept` : ''
  const run = async (): Promise<void> => {
    // A merge patch of one key: other pools' entries stay exactly as they are.
    await client.patch<ConfigMap>(R.configMaps, CUSTOM_DOCKERFILE_CONFIG, {data: {[s.pool]: content}}, {namespace: NS})
  }

  if (!existing) {
    return {
      access: [cmAccess('patch', CUSTOM_DOCKERFILE_CONFIG)],
      item: {
        action: 'update',
        kind: 'ConfigMap',
        manifest,
        name: CUSTOM_DOCKERFILE_CONFIG,
        namespace: NS,
        summary: `add the entry ${s.pool} (${lines})${keep}`,
      },
      run,
    }
  }

  const diff = unifiedDiff(
    `configmap/${CUSTOM_DOCKERFILE_CONFIG} key ${s.pool}`,
    existing.endsWith('\n') ? existing : existing + '\n',
    content.endsWith('\n') ? content : content + '\n',
  )
  return replaceStep(
    Boolean(opts.force),
    {diff, kind: 'ConfigMap', manifest, name: CUSTOM_DOCKERFILE_CONFIG, namespace: NS},
    {forced: `replace the entry ${s.pool}${keep}`, refused: `the entry ${s.pool} holds another Dockerfile (replaced only with --force)`},
    [cmAccess('patch', CUSTOM_DOCKERFILE_CONFIG)],
    run,
  )
}

function buildCondition(pool: MachineConfigPool): Condition | undefined {
  return pool.status?.conditions?.find((c) => (BUILD_CONDITIONS as readonly string[]).includes(c.type) && c.status === 'True')
}

async function failedBuildDetails(client: KubeClient, rendered: string | undefined): Promise<string[]> {
  if (!rendered) return []
  const lines = await logTail(client, buildNames(rendered).build, BUILD_CONTAINERS.imageBuild)
  return lines.length > 0 ? ['last lines of the build log:', ...lines.map((l) => `  ${l}`)] : []
}

type Source = 'build' | 'co' | 'deployment' | 'events' | 'pods' | 'pool'

interface EventObject extends KubeObject {
  reason?: string
  message?: string
  lastTimestamp?: string
  eventTime?: string
  firstTimestamp?: string
}

interface ClusterOperator extends KubeObject {
  status?: {conditions?: Condition[]}
}

const BUILDER_FAILED_REASON = 'MachineOSBuilderFailed'

type Say = (phase: BuildFollowEvent['phase'], message: string) => void

interface FollowContext {
  emit: Say
  guard: StallGuard
  recent: (t: string | undefined) => boolean
  seen: Seen<Source>
  specs: Array<WatchSpec<Source>>
  stallGraceMs?: number
}

/** followBuild's wait: the pool, its build pod and the builder, until the image or a failure. */
async function followUntil(client: KubeClient, poolName: string, ctx: FollowContext): Promise<string> {
  const {emit: say, guard, recent, seen, specs} = ctx
  for await (const t of watchAll(client, specs, guard.signal)) {
    seen.apply(t)
    if (!seen.ready(...specs.map((s) => s.source))) continue
    const pool = seen.one<MachineConfigPool>('pool', poolName)
    if (!pool) throw new MobError(`pool ${poolName} was deleted`, {exitCode: ExitCode.NotFound})
    const rendered = renderedConfig(pool)
    guard.watch(rendered ?? '', {
      builder: true,
      digestConfigMap: rendered ? buildNames(rendered).digest : 'digest-',
      generation: 'configmap',
      graceMs: ctx.stallGraceMs,
      pods: rendered ? {fieldSelector: `metadata.name=${buildNames(rendered).build}`} : undefined,
      pool: poolName,
    })
    const build = poolBuild(pool)
    const image = poolImage(pool)

    // 1. The outcome recorded on the pool.
    if (build.state === 'succeeded' && image && !conditionTrue(pool, 'Building') && !conditionTrue(pool, 'BuildPending')) {
      await recordFollowed(client, poolName, image, rendered)
      say('succeeded', `built ${image}`)
      return image
    }

    if (build.state === 'failed') {
      throw new MobError(
        `the build of pool ${poolName} failed${rendered ? ` (build-${rendered})` : ''}${build.message ? `: ${build.message}` : ''}`,
        {
          code: 'BuildFailed',
          details: await failedBuildDetails(client, rendered),
          exitCode: ExitCode.Failed,
          next: `read the log with \`oc mob logs ${poolName}\`; clean up with \`oc mob cleanup ${poolName}\`, or build again with \`oc mob build ${poolName} --rebuild\``,
        },
      )
    }

    // 2. The build pod: the 4.14 hang (image-build failed, the pod stays Running) is a failure now.
    const buildPod = rendered ? seen.one<Pod>('build', buildNames(rendered).build) : undefined
    const hung = buildPod ? hungFailure(buildPod) : undefined
    if (hung) {
      throw new MobError(
        `the build of pool ${poolName} failed: ${hung} (the pod stays Running: the 4.14 wait-for-done container waits forever after a failed build, so the cluster never records the failure)`,
        {
          code: 'BuildFailed',
          details: await failedBuildDetails(client, rendered),
          exitCode: ExitCode.Failed,
          next: `read the log with \`oc mob logs ${poolName}\`; clean up with \`oc mob cleanup ${poolName}\`, or build again with \`oc mob build ${poolName} --rebuild\``,
        },
      )
    }

    if (build.state === 'building') {
      say('building', `building the image for ${rendered} (pod ${rendered ? buildNames(rendered).build : '?'})`)
      continue
    }

    if (build.state === 'pending') {
      say('pending', `build ${rendered ? buildNames(rendered).build : ''} pending`)
      continue
    }

    // 3. No build yet: the machine-os-builder must start (or says why it cannot).
    const co = seen.one<ClusterOperator>('co', 'machine-config')
    const degraded = co?.status?.conditions?.find((c) => c.type === 'Degraded' && c.status === 'True' && c.reason === BUILDER_FAILED_REASON)
    const event = seen.all<EventObject>('events').find((e) => recent(e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp))
    if ((degraded && recent(degraded.lastTransitionTime)) || event) {
      const message = degraded?.message || event?.message || 'the operator could not start the machine-os-builder'
      throw new MobError(`the Machine Config Operator cannot start the machine-os-builder: ${message}`, {
        code: BUILDER_FAILED_REASON,
        exitCode: ExitCode.Failed,
        next: `fix the build settings (\`oc mob setup\`, or \`oc get configmap ${ON_CLUSTER_BUILD_CONFIG} -n ${NS} -o yaml\`); the operator retries by itself — see \`oc get co machine-config\``,
      })
    }

    const health = builderHealth(seen.all<Pod>('pods'))
    if (health.failing) {
      let lines = await logTail(client, health.failing.pod, undefined, 20, health.failing.restarted)
      if (lines.length === 0 && health.failing.restarted) lines = await logTail(client, health.failing.pod, undefined, 20)
      throw new MobError(`the machine-os-builder (pod ${health.failing.pod}) is failing: ${health.failing.why}`, {
        code: 'BuilderFailed',
        details: lines.length > 0 ? ['last lines of its log:', ...lines.map((l) => `  ${l}`)] : [],
        exitCode: ExitCode.Failed,
        next: `read its log with \`oc mob logs --builder\` (or \`oc logs -n ${NS} -l k8s-app=machine-os-builder\`)`,
      })
    }

    if (health.running) {
      say('waiting', `machine-os-builder running; waiting for it to start the build of ${rendered ?? 'the pool'}`)
    } else if (seen.all('deployment').length > 0) {
      say('builder', 'machine-os-builder starting')
    } else {
      say('builder', 'waiting for the Machine Config Operator to start the machine-os-builder')
    }
  }

  throw new MobError('the watch ended early', {exitCode: ExitCode.Unreachable})
}

/** A local build of a 4.14/4.15 pool: the context the build pod gets (Dockerfile, machineconfig.json.gz) and the build config's secrets. */
async function configMapLocalInputs(client: KubeClient, pool: string, opts: {push: boolean}): Promise<LocalBuildInputs> {
  const i = await gatherInputs(client, pool, {push: opts.push})
  return {
    buildFile: CONTEXT_FILES.dockerfile,
    files: [
      {content: i.dockerfile, path: CONTEXT_FILES.dockerfile},
      {content: i.encodedMachineConfig, path: CONTEXT_FILES.machineConfig},
    ],
    poolName: pool,
    pullSecret: i.pullSecret,
    pullSecretName: i.config.baseImagePullSecretName,
    pushSecret: i.pushSecret,
    pushSecretName: i.config.finalImagePushSecretName,
    rendered: i.rendered,
    tag: i.tag,
  }
}

/**
 * A build the cluster ran and oc-mob followed to its end goes into the image history as joined, with
 * the rendered config it was built from, so `status` can say the image matches the config. Best
 * effort: the build succeeded whether or not the history could be written.
 */
async function recordFollowed(client: KubeClient, pool: string, image: string, rendered: string | undefined): Promise<void> {
  try {
    const custom = await client.find<ConfigMap>(R.configMaps, CUSTOM_DOCKERFILE_CONFIG, NS)
    await recordHistory(client, pool, {
      customDockerfileHash: dockerfileHash(custom?.data?.[pool] || undefined),
      image,
      renderedConfig: rendered ?? '',
      source: 'joined',
      time: new Date().toISOString(),
    })
  } catch {
    // `status` records the image as observed later.
  }
}

export const configMapBackend: LayeringBackend = {
  defaultBuilder: 'build',
  dockerfile: renderPoolDockerfile,
  generation: 'configmap',
  localBuildInputs: configMapLocalInputs,
  nodesCanRevert: false,
  title: 'OpenShift 4.14/4.15 (on-cluster-build-config ConfigMap and the layering-enabled pool label)',
  settingsObject: 'on-cluster-build-config',
  finalStage: 'required',
  prunesImages: false,

  editCustomDockerfile: () => `\`oc edit configmap ${CUSTOM_DOCKERFILE_CONFIG} -n ${NS}\``,

  // The ConfigMaps hold data only: the API server has nothing to reject in them.
  dryRunSettings: async () => undefined,

  async followBuild(client: KubeClient, poolName: string, opts: FollowOptions): Promise<string> {
    const since = opts.since ?? Date.now()
    const emit = opts.onEvent ?? (() => {})
    const {config} = await discover(client)
    const specs = [
      {fieldSelector: `metadata.name=${poolName}`, resource: R.machineConfigPools, source: 'pool' as Source},
      {...BUILDER_WATCH, source: 'pods' as Source},
      {...BUILDER_DEPLOYMENT_WATCH, source: 'deployment' as Source},
      {fieldSelector: `reason=${BUILDER_FAILED_REASON}`, namespace: NS, resource: R.events, source: 'events' as Source},
      {
        labelSelector: `${BUILD_LABELS.buildPod},${BUILD_LABELS.targetPool}=${poolName}`,
        namespace: NS,
        resource: R.pods,
        source: 'build' as Source,
      },
      ...(config ? [{fieldSelector: 'metadata.name=machine-config', resource: R.clusterOperators, source: 'co' as Source}] : []),
    ]
    const seen = new Seen<Source>()
    let said = ''
    const say = (phase: Parameters<NonNullable<FollowOptions['onEvent']>>[0]['phase'], message: string): void => {
      if (said === `${phase}|${message}`) return
      said = `${phase}|${message}`
      emit({message, phase})
    }

    const recent = (t: string | undefined): boolean => Boolean(t) && Date.parse(t!) >= since - 2000
    // A build pod, or the machine-os-builder, that cannot make progress ends the wait with its cause.
    const guard = new StallGuard(client, opts.signal)
    try {
      return await followUntil(client, poolName, {emit: say, guard, recent, seen, specs, stallGraceMs: opts.stallGraceMs})
    } catch (error) {
      throw guard.error ?? error
    } finally {
      await guard.close()
    }
  },

  async followOptOut(client: KubeClient, poolName: string, opts: FollowOptions): Promise<void> {
    const emit = opts.onEvent ?? (() => {})
    const specs = [
      {resource: R.machineConfigPools, source: 'pools' as const},
      {...BUILDER_DEPLOYMENT_WATCH, source: 'deployment' as const},
    ]
    const seen = new Seen<'deployment' | 'pools'>()
    let said = ''
    for await (const t of watchAll(client, specs, opts.signal)) {
      seen.apply(t)
      if (!seen.ready('pools', 'deployment')) continue
      const pools = seen.all<MachineConfigPool>('pools')
      const pool = pools.find((p) => p.metadata.name === poolName)
      const leftovers: string[] = []
      if (pool) {
        if (poolImage(pool)) leftovers.push(`annotation ${NEWEST_IMAGE_ANNOTATION}`)
        const cond = buildCondition(pool) ?? pool.status?.conditions?.find((c) => (BUILD_CONDITIONS as readonly string[]).includes(c.type))
        if (cond) leftovers.push('Build* conditions')
      }

      const stillLayered = pools.filter((p) => isLayered(p)).map((p) => p.metadata.name!)
      const builder = seen.all('deployment').length > 0
      if (builder && stillLayered.length === 0) leftovers.push('the machine-os-builder deployment')
      const text = leftovers.length > 0 ? `waiting for the cluster to remove ${leftovers.join(', ')}` : ''
      if (text && text !== said) {
        said = text
        emit({message: text, phase: 'waiting'})
      }

      if (leftovers.length === 0) return
    }

    throw new MobError('the watch ended early', {exitCode: ExitCode.Unreachable})
  },

  oneShotBuild(client, pool, opts) {
    return runBuild(client, pool, opts)
  },

  oneShotBuildAccess: [
    {group: '', namespace: NS, resource: 'pods', verb: 'create'},
    {group: '', namespace: NS, resource: 'configmaps', verb: 'create'},
    {group: 'machineconfiguration.openshift.io', resource: 'machineconfigpools', subresource: 'status', verb: 'update'},
  ],

  async isEnabled(_client: KubeClient, pool: MachineConfigPool): Promise<boolean> {
    return isLayered(pool)
  },

  async planOptIn(client: KubeClient, pool: MachineConfigPool, enable: boolean): Promise<Step> {
    const name = pool.metadata.name!
    const on = isLayered(pool)
    const label = `${LAYERING_ENABLED_LABEL}=`
    const manifest: KubeObject = {
      apiVersion: 'machineconfiguration.openshift.io/v1',
      kind: 'MachineConfigPool',
      metadata: {labels: {...pool.metadata.labels, [LAYERING_ENABLED_LABEL]: ''}, name},
    }
    if (!enable) delete manifest.metadata.labels![LAYERING_ENABLED_LABEL]
    if (on === enable) {
      return unchangedStep({
        kind: 'MachineConfigPool',
        manifest,
        name,
        summary: enable ? `already labelled ${label}` : `has no ${LAYERING_ENABLED_LABEL} label`,
      })
    }

    return {
      access: [{group: 'machineconfiguration.openshift.io', name, resource: 'machineconfigpools', verb: 'patch'}],
      item: {
        action: 'update',
        kind: 'MachineConfigPool',
        manifest,
        name,
        summary: enable ? `add the label ${label} (opts the pool into on-cluster builds)` : `remove the label ${LAYERING_ENABLED_LABEL}`,
      },
      async run() {
        // A JSON merge patch of the one label: nothing else on the pool is touched.
        await client.patch<MachineConfigPool>(R.machineConfigPools, name, {
          metadata: {labels: {[LAYERING_ENABLED_LABEL]: enable ? '' : null}},
        })
      },
    }
  },

  async planSettings(client: KubeClient, settings: BuildSettings, opts): Promise<Step[]> {
    const steps: Step[] = [await planBuildConfig(client, settings, opts)]
    const custom = await planCustomDockerfile(client, settings, opts)
    if (custom) steps.push(custom)
    return steps
  },

  planNotes(items: PlanItem[], opts: {pool: string; optedIn: boolean; anyOptedIn: boolean}): string[] {
    const notes: string[] = []
    const changing = (name: string): PlanItem | undefined =>
      items.find(
        (i) => i.kind === 'ConfigMap' && i.name === name && (i.action === 'update' || i.action === 'conflict' || i.action === 'create'),
      )
    const config = changing(ON_CLUSTER_BUILD_CONFIG)
    if (config && config.action !== 'create' && opts.anyOptedIn && config.diff?.includes(BUILD_CONFIG_KEYS.imageBuilderType)) {
      notes.push(
        `the 4.14 machine-os-builder reads ${BUILD_CONFIG_KEYS.imageBuilderType} only when it starts: the new builder type applies once it restarts (opt the last pool out and in again, or delete its pod)`,
      )
    }

    if (changing(CUSTOM_DOCKERFILE_CONFIG) && opts.optedIn) {
      notes.push(
        `a new custom Dockerfile does not start a build by itself on 4.14/4.15: build it with \`oc mob build ${opts.pool} --rebuild\``,
      )
    }

    return notes
  },

  poolImage(pool: MachineConfigPool): string | undefined {
    return poolImage(pool)
  },

  waitsForImage(pool: MachineConfigPool): boolean {
    return isLayered(pool)
  },

  async readSettings(client: KubeClient, pool: string): Promise<BuildSettings | undefined> {
    const [cm, custom] = await Promise.all([
      client.find<ConfigMap>(R.configMaps, ON_CLUSTER_BUILD_CONFIG, NS),
      client.find<ConfigMap>(R.configMaps, CUSTOM_DOCKERFILE_CONFIG, NS),
    ])
    if (!cm) return undefined
    const d = cm.data ?? {}
    return {
      baseImagePullSecret: d[BUILD_CONFIG_KEYS.baseImagePullSecretName]?.trim() ?? '',
      builder: builderKind(d[BUILD_CONFIG_KEYS.imageBuilderType]?.trim()),
      customDockerfile: custom?.data?.[pool] || undefined,
      finalImagePullspec: d[BUILD_CONFIG_KEYS.finalImagePullspec]?.trim() ?? '',
      finalImagePushSecret: d[BUILD_CONFIG_KEYS.finalImagePushSecretName]?.trim() ?? '',
      pool,
    }
  },
}
