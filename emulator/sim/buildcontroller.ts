// BuildController of the 4.14 machine-os-builder (PodBuildController flavour):
// decides when a layered pool needs an image, prepares mc-/dockerfile-
// ConfigMaps, starts the build-<R> pod, maps the pod's phase onto the pool's
// Build* conditions and, on success, records the digested pullspec.
//
// It is an ordinary API client; it runs inside the simulated machine-os-builder
// pod (see operator.ts), so it lives and dies with that pod.
import {ApiError, Informer, type SimClient, type Obj, R, isAlreadyExists, isNotFound, now} from './client.js'
import {BUILDAH_BUILD_SH, WAIT_SH, encodeMachineConfig, renderDockerfile} from './assets.js'
import {
  BASE_PULL_SECRET_KEY,
  BUILDAH_IMAGE,
  BUILD_CONDITIONS,
  BUILD_POD_LABEL,
  CUSTOM_DOCKERFILE_CONFIG,
  DESIRED_CONFIG_LABEL,
  FINAL_PULLSPEC_KEY,
  FINAL_PUSH_SECRET_KEY,
  LAYERING_LABEL,
  MCO_NS,
  MOB_SA,
  NEWEST_IMAGE_ANNOTATION,
  ON_CLUSTER_BUILD_CONFIG,
  OSIMAGEURL_CONFIG,
  POOL_ANNOTATION,
  TARGET_POOL_LABEL,
  buildPodName,
  digestConfigMapName,
  dockerfileConfigMapName,
  mcConfigMapName,
} from './names.js'

type Klog = (level: 'I' | 'W' | 'E', file: string, msg: string) => void

export const isLayered = (pool: Obj): boolean => Object.hasOwn(pool.metadata?.labels ?? {}, LAYERING_LABEL)

const condition = (pool: Obj, type: string): Obj | undefined => (pool.status?.conditions ?? []).find((c: Obj) => c.type === type)

export const isTrue = (pool: Obj, type: string): boolean => condition(pool, type)?.status === 'True'

/** Sets one condition in a conditions array; the transition time changes only with the status. */
export function setCondition(conds: Obj[], type: string, status: 'True' | 'False', reason = '', message = ''): Obj[] {
  const i = conds.findIndex((c) => c.type === type)
  const prev = i >= 0 ? conds[i] : undefined
  const next = {
    lastTransitionTime: prev && prev.status === status ? prev.lastTransitionTime : now(),
    message,
    reason,
    status,
    type,
  }
  if (i >= 0) conds[i] = next
  else conds.push(next)
  return conds
}

/** The docker reference without tag or digest: `host[:port]/path`. */
function repoOf(pullspec: string): string {
  let s = pullspec.split('@')[0]
  const slash = s.lastIndexOf('/')
  const colon = s.lastIndexOf(':')
  if (colon > slash) s = s.slice(0, colon)
  return s
}

const REF_RE =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/

const isNamedReference = (s: string): boolean => REF_RE.test(s)

export interface BuildConfig {
  baseImagePullSecretName: string
  finalImagePushSecretName: string
  finalImagePullspec: string
  imageBuilderType: string
}

/**
 * Validation of on-cluster-build-config and its secrets, with the operator's
 * error texts. Returns the problem or undefined.
 */
export async function validateOnClusterBuildConfig(client: SimClient): Promise<string | undefined> {
  const cm = await client.get(R.configmaps, MCO_NS, ON_CLUSTER_BUILD_CONFIG)
  if (!cm) return `${ON_CLUSTER_BUILD_CONFIG} ConfigMap missing, did you create it?`
  const data = cm.data ?? {}
  for (const key of [BASE_PULL_SECRET_KEY, FINAL_PUSH_SECRET_KEY, FINAL_PULLSPEC_KEY]) {
    if (!data[key]) return `missing required key "${key}" in configmap ${ON_CLUSTER_BUILD_CONFIG}`
  }
  for (const key of [BASE_PULL_SECRET_KEY, FINAL_PUSH_SECRET_KEY]) {
    const name = data[key]
    const secret = await client.get(R.secrets, MCO_NS, name)
    if (!secret) return `secret ${name} from ${ON_CLUSTER_BUILD_CONFIG} is not found. Did you use the right secret name?`
    const problem = checkSecret(secret)
    if (problem) return `could not validate secret ${name}: ${problem}`
  }
  if (!isNamedReference(data[FINAL_PULLSPEC_KEY])) return `invalid image pullspec "${data[FINAL_PULLSPEC_KEY]}" in ${FINAL_PULLSPEC_KEY}`
  const t = data.imageBuilderType
  if (t && t !== 'openshift-image-builder' && t !== 'custom-pod-builder') {
    return `invalid image builder type "${t}", valid types: [openshift-image-builder custom-pod-builder]`
  }
  return undefined
}

function secretKey(secret: Obj): string | undefined {
  if (secret.type === 'kubernetes.io/dockerconfigjson') return '.dockerconfigjson'
  if (secret.type === 'kubernetes.io/dockercfg') return '.dockercfg'
  return undefined
}

function checkSecret(secret: Obj): string | undefined {
  const key = secretKey(secret)
  if (!key) return `unknown secret type ${secret.type}`
  if (!secret.data?.[key]) return `key "${key}" missing or empty`
  return undefined
}

export interface BuildControllerOptions {
  client: SimClient
  klog: Klog
  /** Enqueue delay after pool updates (the real controller uses 5 s). */
  updateDelayMs?: number
  retryMs?: number
}

/**
 * The 4.14 BuildController, driving build pods (custom-pod-builder). When the
 * config asks for openshift-image-builder it still builds with a pod: the
 * simulation does not run OpenShift Builds (simplification).
 */
export class BuildController {
  private readonly client: SimClient
  private readonly pools: Informer
  private readonly pods: Informer
  private readonly queues = new Map<string, Promise<void>>()
  private stopped = false
  private readonly timers = new Set<NodeJS.Timeout>()

  constructor(private readonly opts: BuildControllerOptions) {
    this.client = opts.client
    const onError = (e: unknown) => opts.klog('W', 'reflector.go:535', `watch error: ${(e as Error).message}`)
    this.pools = new Informer(this.client, R.pools, {onError})
    this.pods = new Informer(this.client, R.pods, {namespace: MCO_NS, labelSelector: BUILD_POD_LABEL, onError})
    this.pools.on((type, pool, old) => {
      if (type === 'DELETED') {
        opts.klog('I', 'build_controller.go:484', `MachineConfigPool ${pool.metadata.name} deleted`)
        return
      }
      if (type === 'MODIFIED' && old) this.enqueue(pool.metadata.name, () => this.onPoolUpdate(old, pool))
      else this.enqueue(pool.metadata.name, () => this.syncPool(pool.metadata.name))
    })
    this.pods.on((type, pod) => {
      if (type === 'DELETED') return
      const labels = pod.metadata?.labels ?? {}
      if (!(BUILD_POD_LABEL in labels && TARGET_POOL_LABEL in labels && DESIRED_CONFIG_LABEL in labels)) return
      this.enqueue(labels[TARGET_POOL_LABEL], () => this.podUpdated(pod))
    })
  }

  async start(): Promise<void> {
    await Promise.all([this.pools.start(), this.pods.start()])
  }

  /**
   * Graceful shutdown (SIGTERM): no new events, work already queued (e.g. an
   * opt-out cleanup) may finish within `graceMs`.
   */
  async stop(graceMs = 2000): Promise<void> {
    await Promise.all([this.pools.stop(), this.pods.stop()])
    for (const t of this.timers) clearTimeout(t)
    const drained = Promise.all([...this.queues.values()].map((q) => q.catch(() => undefined)))
    let timer: NodeJS.Timeout | undefined
    await Promise.race([drained, new Promise((r) => (timer = setTimeout(r, graceMs)))])
    clearTimeout(timer)
    this.stopped = true
  }

  /** Work for one pool runs in order; a failed item is retried a few times. */
  private enqueue(pool: string, work: () => Promise<void>, attempt = 0): void {
    if (this.stopped) return
    const prev = this.queues.get(pool) ?? Promise.resolve()
    const next = prev.then(async () => {
      if (this.stopped) return
      try {
        await work()
      } catch (e) {
        if (this.stopped) return
        this.opts.klog('E', 'build_controller.go:374', `Error syncing machineconfigpool ${pool}: ${(e as Error).message}`)
        if (attempt < 5) {
          const t = setTimeout(
            () => {
              this.timers.delete(t)
              this.enqueue(pool, work, attempt + 1)
            },
            (this.opts.retryMs ?? 100) * 2 ** attempt,
          )
          this.timers.add(t)
        }
      }
    })
    this.queues.set(pool, next)
  }

  // ------------------------------------------------------------ pool events

  private async onPoolUpdate(old: Obj, cur: Obj): Promise<void> {
    if (isLayered(old) && !isLayered(cur)) {
      await this.finalizeOptOut(cur.metadata.name)
      return
    }
    const pool = (await this.client.get(R.pools, undefined, cur.metadata.name)) ?? cur
    if (await this.shouldWeDoABuild(old, pool)) await this.startBuild(pool)
  }

  /** Queued sync: compares the pool with itself, so only a missing image can start a build. */
  private async syncPool(name: string): Promise<void> {
    const pool = await this.client.get(R.pools, undefined, name)
    if (!pool || !isLayered(pool)) return
    if (isTrue(pool, 'Degraded') || isTrue(pool, 'RenderDegraded')) return
    if (isTrue(pool, 'BuildPending') || isTrue(pool, 'Building') || isTrue(pool, 'BuildSuccess')) return
    if (await this.shouldWeDoABuild(pool, pool)) await this.startBuild(pool)
  }

  private hasBuildRef(pool: Obj, rendered: string): boolean {
    const refs = [...(pool.spec?.configuration?.source ?? []), ...(pool.status?.configuration?.source ?? [])]
    return refs.some((r: Obj) => r.kind !== 'MachineConfig' && r.name === buildPodName(rendered))
  }

  private async shouldWeDoABuild(old: Obj, pool: Obj): Promise<boolean> {
    if (!isLayered(pool)) return false
    const rendered = pool.spec?.configuration?.name
    if (!rendered) return false
    if (this.hasBuildRef(pool, rendered)) return false
    if (['Degraded', 'RenderDegraded', 'NodeDegraded'].some((t) => isTrue(pool, t))) return false
    if (['Building', 'BuildPending', 'BuildFailed'].some((t) => isTrue(pool, t))) return false
    const changed = old.spec?.configuration?.name !== rendered
    if (!changed && pool.metadata?.annotations?.[NEWEST_IMAGE_ANNOTATION]) return false
    if (await this.client.get(R.pods, MCO_NS, buildPodName(rendered))) return false
    return true
  }

  // ------------------------------------------------------------ build start

  /** Reads on-cluster-build-config, canonicalising legacy .dockercfg secrets. */
  private async getOnClusterBuildConfig(): Promise<BuildConfig> {
    const problem = await validateOnClusterBuildConfig(this.client)
    if (problem) throw new Error(problem)
    const cm = (await this.client.get(R.configmaps, MCO_NS, ON_CLUSTER_BUILD_CONFIG))!
    const data = {...cm.data}
    let rewritten = false
    for (const key of [BASE_PULL_SECRET_KEY, FINAL_PUSH_SECRET_KEY]) {
      const canonical = await this.canonicalize(data[key])
      if (canonical !== data[key]) {
        data[key] = canonical
        rewritten = true
      }
    }
    if (rewritten) {
      await this.client.update(R.configmaps, MCO_NS, ON_CLUSTER_BUILD_CONFIG, (o) => {
        o.data = {...o.data, [BASE_PULL_SECRET_KEY]: data[BASE_PULL_SECRET_KEY], [FINAL_PUSH_SECRET_KEY]: data[FINAL_PUSH_SECRET_KEY]}
      })
    }
    return {
      baseImagePullSecretName: data[BASE_PULL_SECRET_KEY],
      finalImagePushSecretName: data[FINAL_PUSH_SECRET_KEY],
      finalImagePullspec: data[FINAL_PULLSPEC_KEY],
      imageBuilderType: data.imageBuilderType || 'openshift-image-builder',
    }
  }

  /**
   * A secret without a top-level "auths" key (legacy .dockercfg) is copied to
   * <name>-canonical as {"auths": <legacy>} of type dockerconfigjson; returns
   * the name to use.
   */
  private async canonicalize(name: string): Promise<string> {
    const secret = await this.client.get(R.secrets, MCO_NS, name)
    if (!secret) throw new Error(`secret ${name} from ${ON_CLUSTER_BUILD_CONFIG} is not found. Did you use the right secret name?`)
    const key = secretKey(secret)!
    const parsed = JSON.parse(Buffer.from(secret.data[key], 'base64').toString('utf8'))
    if (parsed && typeof parsed === 'object' && 'auths' in parsed) return name
    const canonicalName = `${name}-canonical`
    const data = {'.dockerconfigjson': Buffer.from(JSON.stringify({auths: parsed})).toString('base64')}
    const existing = await this.client.get(R.secrets, MCO_NS, canonicalName)
    if (existing) {
      await this.client.update(R.secrets, MCO_NS, canonicalName, (o) => {
        o.type = 'kubernetes.io/dockerconfigjson'
        o.data = data
      })
    } else {
      await this.client.create(R.secrets, MCO_NS, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {name: canonicalName, namespace: MCO_NS},
        type: 'kubernetes.io/dockerconfigjson',
        data,
      })
    }
    this.opts.klog('I', 'helpers.go:213', `Converted legacy secret ${name} to ${canonicalName}`)
    return canonicalName
  }

  private async startBuild(pool: Obj): Promise<void> {
    const poolName = pool.metadata.name
    const rendered: string = pool.spec.configuration.name
    const osImageURL = await this.client.get(R.configmaps, MCO_NS, OSIMAGEURL_CONFIG)
    if (!osImageURL) throw new Error(`could not get ${OSIMAGEURL_CONFIG}: configmaps "${OSIMAGEURL_CONFIG}" not found`)
    const cfg = await this.getOnClusterBuildConfig()
    const custom = await this.client.get(R.configmaps, MCO_NS, CUSTOM_DOCKERFILE_CONFIG)
    if (!rendered.startsWith('rendered-')) throw new Error(`${rendered} is not a rendered MachineConfig`)
    const mc = await this.client.get(R.machineconfigs, undefined, rendered)
    if (!mc) throw new Error(`machineconfigs.machineconfiguration.openshift.io "${rendered}" not found`)

    const tag = `${repoOf(cfg.finalImagePullspec)}:${rendered}`
    const baseImage = osImageURL.data?.baseOSContainerImage ?? ''
    const meta = (name: string): Obj => ({
      name,
      namespace: MCO_NS,
      labels: {[BUILD_POD_LABEL]: '', [TARGET_POOL_LABEL]: poolName, [DESIRED_CONFIG_LABEL]: rendered},
      annotations: {[POOL_ANNOTATION]: ''},
    })
    this.opts.klog('I', 'build_controller.go:702', `Starting build for pool ${poolName}`)
    this.opts.klog('I', 'build_controller.go:703', `Build pod name: ${buildPodName(rendered)}`)
    this.opts.klog('I', 'build_controller.go:704', `Final image will be pushed to "${tag}", using secret "${cfg.finalImagePushSecretName}"`)

    // The operator creates these with a plain Create. Objects that already
    // exist (another client, e.g. oc-mob's one-shot build, got there first)
    // are reused instead of failing the sync (simplification).
    const createCM = async (name: string, data: Record<string, string>) => {
      try {
        await this.client.create(R.configmaps, MCO_NS, {apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(name), data})
      } catch (e) {
        if (!isAlreadyExists(e))
          throw new Error(`could not load rendered MachineConfig ${rendered} into configmap: ${(e as Error).message}`)
      }
    }
    await createCM(mcConfigMapName(rendered), {'machineconfig.json.gz': encodeMachineConfig(mc)})
    await createCM(dockerfileConfigMapName(rendered), {
      Dockerfile: renderDockerfile({
        baseImage,
        extensionsImage: osImageURL.data?.baseOSExtensionsContainerImage,
        renderedConfig: rendered,
        pool: poolName,
        releaseVersion: osImageURL.data?.releaseVersion ?? '',
        customDockerfile: custom?.data?.[poolName],
      }),
    })
    let pod = await this.client.get(R.pods, MCO_NS, buildPodName(rendered))
    if (pod) {
      const l = pod.metadata.labels ?? {}
      if (!(BUILD_POD_LABEL in l && TARGET_POOL_LABEL in l && DESIRED_CONFIG_LABEL in l)) {
        throw new Error(`pod ${buildPodName(rendered)} exists but is not a build pod`)
      }
      this.opts.klog('I', 'pod_build_controller.go:262', `Build pod ${pod.metadata.name} already exists, reusing it`)
    } else {
      try {
        pod = await this.client.create(
          R.pods,
          MCO_NS,
          buildPod({poolName, rendered, tag, baseImage, cfg, meta: meta(buildPodName(rendered))}),
        )
      } catch (e) {
        if (!isAlreadyExists(e)) throw e
        pod = await this.client.get(R.pods, MCO_NS, buildPodName(rendered))
      }
    }
    if (pod) await this.markBuildPendingWithObjectRef(poolName, pod)
  }

  // ------------------------------------------------------------ pod updates

  private async podUpdated(podEvent: Obj): Promise<void> {
    const poolName = podEvent.metadata.labels[TARGET_POOL_LABEL]
    const pod = await this.client.get(R.pods, MCO_NS, podEvent.metadata.name)
    if (!pod || pod.metadata.uid !== podEvent.metadata.uid) return
    const pool = await this.client.get(R.pools, undefined, poolName)
    if (!pool) return
    const phase = pod.status?.phase ?? 'Pending'
    this.opts.klog('I', 'build_controller.go:512', `Build pod (${pod.metadata.name}) is ${phase}`)
    switch (phase) {
      case 'Pending':
        if (!isTrue(pool, 'BuildPending')) await this.markBuildPendingWithObjectRef(poolName, pod)
        break
      case 'Running':
        if (!isTrue(pool, 'Building')) await this.markBuildInProgress(poolName)
        break
      case 'Succeeded':
        if (!isTrue(pool, 'BuildSuccess')) await this.markBuildSucceeded(poolName, pod)
        break
      case 'Failed':
        if (!isTrue(pool, 'BuildFailed')) await this.markBuildFailed(poolName)
        break
    }
  }

  private async setBuildConditions(poolName: string, set: (conds: Obj[]) => void, extra?: (p: Obj) => void): Promise<void> {
    await this.client.update(
      R.pools,
      undefined,
      poolName,
      (p) => {
        p.status ??= {}
        const conds: Obj[] = structuredClone(p.status.conditions ?? [])
        set(conds)
        extra?.(p)
        const before = JSON.stringify((p.status.conditions ?? []).map(stripTime))
        const after = JSON.stringify(conds.map(stripTime))
        if (before === after && !extra) return false
        p.status.conditions = conds
      },
      {status: true},
    )
  }

  private async markBuildPendingWithObjectRef(poolName: string, pod: Obj): Promise<void> {
    const ref = {kind: 'Pod', name: pod.metadata.name, namespace: pod.metadata.namespace, uid: pod.metadata.uid}
    const addRef = (conf: Obj | undefined): Obj => {
      const c: Obj = conf ? structuredClone(conf) : {}
      c.source ??= []
      if (!c.source.some((r: Obj) => r.kind === ref.kind && r.name === ref.name)) c.source.push(ref)
      return c
    }
    await this.client.update(R.pools, undefined, poolName, (p) => {
      const has = (p.spec?.configuration?.source ?? []).some((r: Obj) => r.kind === 'Pod' && r.name === ref.name)
      if (has) return false
      p.spec.configuration = addRef(p.spec.configuration)
    })
    await this.setBuildConditions(
      poolName,
      (c) => {
        setCondition(c, 'BuildPending', 'True', 'BuildPending', `Build ${pod.metadata.name} is pending`)
        setCondition(c, 'Building', 'False')
        setCondition(c, 'BuildSuccess', 'False')
        setCondition(c, 'BuildFailed', 'False')
      },
      (p) => {
        p.status.configuration = addRef(p.status.configuration ?? {name: p.spec?.configuration?.name})
      },
    )
  }

  private async markBuildInProgress(poolName: string): Promise<void> {
    await this.setBuildConditions(poolName, (c) => {
      setCondition(c, 'BuildPending', 'False')
      setCondition(c, 'Building', 'True', 'BuildRunning', 'Image build in progress')
      setCondition(c, 'BuildSuccess', 'False')
      setCondition(c, 'BuildFailed', 'False')
    })
  }

  private async markBuildSucceeded(poolName: string, pod: Obj): Promise<void> {
    const rendered = pod.metadata.labels[DESIRED_CONFIG_LABEL]
    const cm = await this.client.get(R.configmaps, MCO_NS, ON_CLUSTER_BUILD_CONFIG)
    const digestCM = await this.client.get(R.configmaps, MCO_NS, digestConfigMapName(rendered))
    const digest = digestCM?.data?.digest?.trim()
    if (!digest) throw new Error(`could not get digest configmap ${digestConfigMapName(rendered)}: not found yet`)
    const pullspec = `${repoOf(cm?.data?.[FINAL_PULLSPEC_KEY] ?? '')}@${digest}`
    await this.postBuildCleanup(rendered, false)
    await this.client.update(R.pools, undefined, poolName, (p) => {
      p.metadata.annotations = {...p.metadata.annotations, [NEWEST_IMAGE_ANNOTATION]: pullspec}
      if (p.spec?.configuration?.source)
        p.spec.configuration.source = p.spec.configuration.source.filter(
          (r: Obj) => !(r.kind === 'Pod' && r.name === buildPodName(rendered)),
        )
    })
    await this.setBuildConditions(
      poolName,
      (c) => {
        setCondition(c, 'Building', 'False')
        setCondition(c, 'BuildSuccess', 'True', 'BuildSucceeded', `Build ${buildPodName(rendered)} succeeded: ${pullspec}`)
        setCondition(c, 'BuildFailed', 'False')
        setCondition(c, 'Degraded', 'False')
        setCondition(c, 'RenderDegraded', 'False')
      },
      (p) => {
        if (p.status.configuration?.source)
          p.status.configuration.source = p.status.configuration.source.filter(
            (r: Obj) => !(r.kind === 'Pod' && r.name === buildPodName(rendered)),
          )
      },
    )
    this.opts.klog('I', 'build_controller.go:821', `Build ${buildPodName(rendered)} for pool ${poolName} succeeded, image: ${pullspec}`)
  }

  private async markBuildFailed(poolName: string): Promise<void> {
    await this.setBuildConditions(poolName, (c) => {
      setCondition(c, 'BuildPending', 'False')
      setCondition(c, 'Building', 'False')
      setCondition(c, 'BuildSuccess', 'False')
      setCondition(c, 'BuildFailed', 'True', 'BuildFailed', 'Image build failed')
      setCondition(c, 'Degraded', 'True', 'RenderDegraded', `Failed to build configuration for pool ${poolName}: build failed`)
      setCondition(c, 'RenderDegraded', 'True', 'BuildFailed', `Failed to build configuration for pool ${poolName}: build failed`)
    })
    this.opts.klog('E', 'build_controller.go:855', `Build for pool ${poolName} failed; leaving build objects in place for inspection`)
  }

  /** Deletes build-<R> (+ digest-<R>), mc-<R> and dockerfile-<R>. */
  private async postBuildCleanup(rendered: string, ignoreMissing: boolean): Promise<void> {
    const del = async (kind: typeof R.pods, name: string) => {
      const gone = !(await this.client.delete(kind, MCO_NS, name))
      if (gone && !ignoreMissing && kind === R.pods) throw new ApiError(404, 'NotFound', `pods "${name}" not found`)
    }
    await del(R.pods, buildPodName(rendered)).catch((e) => {
      if (!(ignoreMissing || isNotFound(e))) throw e
    })
    await this.client.delete(R.configmaps, MCO_NS, digestConfigMapName(rendered))
    await this.client.delete(R.configmaps, MCO_NS, mcConfigMapName(rendered))
    await this.client.delete(R.configmaps, MCO_NS, dockerfileConfigMapName(rendered))
  }

  /** The pool lost its layering label: clean up and forget the image. */
  private async finalizeOptOut(poolName: string): Promise<void> {
    const pool = await this.client.get(R.pools, undefined, poolName)
    if (!pool) return
    const refs = [...(pool.spec?.configuration?.source ?? []), ...(pool.status?.configuration?.source ?? [])]
    const rendered = new Set<string>([pool.spec?.configuration?.name].filter(Boolean))
    for (const r of refs) if (r.kind === 'Pod' && r.name?.startsWith('build-')) rendered.add(r.name.slice('build-'.length))
    for (const r of rendered) await this.postBuildCleanup(r, true)
    await this.client.update(R.pools, undefined, poolName, (p) => {
      if (p.metadata.annotations) delete p.metadata.annotations[NEWEST_IMAGE_ANNOTATION]
      if (p.spec?.configuration?.source) p.spec.configuration.source = p.spec.configuration.source.filter((r: Obj) => r.kind !== 'Pod')
    })
    await this.client.update(
      R.pools,
      undefined,
      poolName,
      (p) => {
        if (p.status?.configuration?.source)
          p.status.configuration.source = p.status.configuration.source.filter((r: Obj) => r.kind !== 'Pod')
        if (p.status?.conditions)
          p.status.conditions = p.status.conditions.filter((c: Obj) => !(BUILD_CONDITIONS as readonly string[]).includes(c.type))
      },
      {status: true},
    )
    this.opts.klog('I', 'build_controller.go:602', `Pool ${poolName} opted out of layering; build objects removed`)
  }
}

const stripTime = (c: Obj) => ({type: c.type, status: c.status, reason: c.reason, message: c.message})

export interface BuildPodInputs {
  poolName: string
  rendered: string
  tag: string
  baseImage: string
  cfg: BuildConfig
  meta: Obj
}

/** The build-<R> pod exactly as the 4.14 PodBuildController creates it. */
export function buildPod(i: BuildPodInputs): Obj {
  const env = [
    {name: 'DIGEST_CONFIGMAP_NAME', value: digestConfigMapName(i.rendered)},
    {name: 'HOME', value: '/home/build'},
    {name: 'TAG', value: i.tag},
    {name: 'BASE_IMAGE_PULL_CREDS', value: '/tmp/base-image-pull-creds/config.json'},
    {name: 'FINAL_IMAGE_PUSH_CREDS', value: '/tmp/final-image-push-creds/config.json'},
  ]
  const volumeMounts = [
    {name: 'machineconfig', mountPath: '/tmp/machineconfig'},
    {name: 'dockerfile', mountPath: '/tmp/dockerfile'},
    {name: 'base-image-pull-creds', mountPath: '/tmp/base-image-pull-creds'},
    {name: 'final-image-push-creds', mountPath: '/tmp/final-image-push-creds'},
    {name: 'done', mountPath: '/tmp/done'},
  ]
  const securityContext = {runAsUser: 1000, runAsGroup: 1000}
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: i.meta,
    spec: {
      restartPolicy: 'Never',
      serviceAccountName: MOB_SA,
      containers: [
        {
          name: 'image-build',
          image: BUILDAH_IMAGE,
          command: ['/bin/bash', '-c', BUILDAH_BUILD_SH],
          env,
          imagePullPolicy: 'Always',
          securityContext,
          volumeMounts,
        },
        {
          name: 'wait-for-done',
          image: i.baseImage,
          command: ['/bin/bash', '-c', WAIT_SH],
          env,
          imagePullPolicy: 'Always',
          securityContext,
          volumeMounts,
        },
      ],
      volumes: [
        {name: 'machineconfig', configMap: {name: mcConfigMapName(i.rendered)}},
        {name: 'dockerfile', configMap: {name: dockerfileConfigMapName(i.rendered)}},
        {
          name: 'base-image-pull-creds',
          secret: {secretName: i.cfg.baseImagePullSecretName, items: [{key: '.dockerconfigjson', path: 'config.json'}]},
        },
        {
          name: 'final-image-push-creds',
          secret: {secretName: i.cfg.finalImagePushSecretName, items: [{key: '.dockerconfigjson', path: 'config.json'}]},
        },
        {name: 'done', emptyDir: {medium: 'Memory'}},
      ],
    },
  }
}
