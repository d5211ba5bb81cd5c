// The machine-os-builder of OpenShift 4.18+ (the OSBuildController of MCO 4.19, reference §8.5), for
// pools opted in by a MachineOSConfig; it acts while the machine-os-builder pod (which the operator
// stand-in deploys for such pools) runs. Kept to what oc-mob reads and drives:
// - a MachineOSConfig whose pool's rendered config has no MachineOSBuild gets one, named
//   <mosc>-<hash of the rendered config and the MachineOSConfig spec>, and becomes its current build
//   (annotation current-machine-os-build);
// - a MachineOSBuild without a state gets its Job's input ConfigMaps (machineos-inputs.ts) and its
//   Job's pod: build-<mosb>-<5 chars>, labelled job-name=build-<mosb> (simplification: no Job
//   object, one container image-build); the inputs go when the build succeeds or is rebuilt;
// - the pods decide the build as the Job's counts do (backoffLimit 3): Building while a pod runs or
//   after a failed one; a failed pod is followed by the next attempt, up to 4 pods, the last failure
//   makes it Failed (the pods stay for their logs); a pod that succeeds makes it Succeeded with the
//   digested pushspec (the MachineOSConfig then reports it as current, and the pods are removed as
//   the controller removes the Job);
// - the rebuild annotation deletes the current MachineOSBuild (and its pod), recreates it under the
//   same name and is removed.
// Closer to 4.19+ (reference §8.5, §12.2-12.4), each in a function of its own below:
// - the Job build-<mosb> exists as an object (backoffLimit 3, owned by the MachineOSBuild, its pods
//   owned by it) and carries the counts of its pods in its status;
// - a MachineOSConfig sync follows the controller: the build its current-machine-os-build annotation
//   names ends the sync; otherwise the MachineOSBuild of the hashed name is created, or reused when it
//   succeeded and its image still exists (else deleted and built again), or left alone when it failed
//   (a failed build of the same name blocks new ones until it is deleted or rebuilt);
// - starting a build deletes the other MachineOSBuilds of the MachineOSConfig that did not succeed;
// - the pool's ImageBuildDegraded condition: False (Building) when a build starts, True (BuildFailed)
//   when it fails, False (BuildSuccess) when it succeeds;
// - by release (opts.release, reference §12.2): from 4.22 a failed build's message carries the cause
//   (its last failed pod's end), before only "Build Failed"; from 5.0 the builder records events on
//   the MachineOSBuild (BuildPreparing, JobCreated, BuildBuilding, JobFailed, BuildFailed,
//   BuildDegraded, JobCompleted, BuildCompleted, RebuildRequested; the messages are the simulation's);
// - a deleted MachineOSBuild takes its Job, pods and labelled ephemeral objects with it, and (real
//   mode, images in the loopback registry only) its image is deleted from the registry unless a node's
//   currentImage/desiredImage uses it.
import {createHash, randomBytes} from 'node:crypto'
import {type SimClient, Informer, type Obj, isNotFound, now, R, type ResourceKind} from './client.js'
import type {ContainerProcess} from './kubelet.js'
import {type Logger, Loop} from './loop.js'
import {createMachineOSInputs, deleteMachineOSInputs} from './machineos-inputs.js'
import {MCO_NS} from './names.js'
import {type ReleaseFeatures, releaseFeatures} from '../generation.js'

const P = 'machineconfiguration.openshift.io'
const MOS = {builds: R.machineosbuilds, configs: R.machineosconfigs}
const CURRENT = `${P}/current-machine-os-build`
const REBUILD = `${P}/rebuild`
const CONDITIONS = ['Prepared', 'Building', 'Failed', 'Interrupted', 'Succeeded'] as const
const MESSAGES: Record<string, string> = {
  Building: 'Image Build In Progress',
  Failed: 'Build Failed',
  Interrupted: 'Build Interrupted',
  Prepared: 'Build Prepared and Pending',
  Succeeded: 'Build Ready',
}
const REASONS: Record<string, string> = {
  Building: 'Building',
  Failed: 'Failed',
  Interrupted: 'Interrupted',
  Prepared: 'Prepared',
  Succeeded: 'Ready',
}

const md5 = (s: string): string => createHash('md5').update(s).digest('hex')
const jobName = (mosb: string): string => `build-${mosb}`
/** The Job's backoffLimit (3) plus one: how many pods it runs before it fails. */
const JOB_ATTEMPTS = 4
const JOBS: ResourceKind = {group: 'batch', namespaced: true, plural: 'jobs', version: 'v1'}
const repoOf = (spec: string): string => spec.replace(/@.*$/, '').replace(/:[^/:]*$/, '')

/**
 * All five conditions, True for the current state, as the controller writes them. Every condition has a
 * reason: the CRD requires one (at least one character), so a real API server refuses an empty one.
 */
export function mosbConditions(state: (typeof CONDITIONS)[number]): Obj[] {
  return CONDITIONS.map((type) => ({
    lastTransitionTime: now(),
    message: type === state ? MESSAGES[type] : '',
    reason: REASONS[type],
    status: type === state ? 'True' : 'False',
    type,
  }))
}

/** A buildEnd the CRD accepts: strictly after buildStart (timestamps have whole seconds, builds may not). */
export function buildEnd(buildStart: string | undefined): string {
  const end = now()
  if (!buildStart || Date.parse(end) > Date.parse(buildStart)) return end
  return new Date(Date.parse(buildStart) + 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

const stateOf = (b: Obj): string | undefined => (b.status?.conditions ?? []).find((c: Obj) => c.status === 'True')?.type

/** An end time strictly after `start` (the CRD requires buildEnd > buildStart; timestamps have whole seconds). */
function endAfter(start: string | undefined, at: string = now()): string {
  const s = Date.parse(start ?? '')
  if (Number.isNaN(s) || Date.parse(at) > s) return at
  return new Date(s + 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** The labels the controller puts on a build's Job and ephemeral objects (reference §8.3). */
function ephemeralLabels(mosb: Obj): Record<string, string> {
  const l = mosb.metadata.labels ?? {}
  return {
    [`${P}/ephemeral-build-object`]: '',
    [`${P}/machine-os-build`]: mosb.metadata.name,
    [`${P}/machine-os-config`]: mosb.spec.machineOSConfig.name,
    [`${P}/on-cluster-layering`]: '',
    [`${P}/rendered-machine-config`]: mosb.spec.machineConfig.name,
    [`${P}/target-machine-config-pool`]: l[`${P}/target-machine-config-pool`] ?? '',
  }
}

/** Whether a node of the pool runs or is to run the image (the pruner keeps such images). */
function imageInUse(image: string | undefined, nodes: Obj[]): boolean {
  if (!image) return false
  return nodes.some(
    (n) => n.metadata.annotations?.[`${P}/currentImage`] === image || n.metadata.annotations?.[`${P}/desiredImage`] === image,
  )
}

/** A registry the simulation can reach (real mode: the loopback registry). */
export interface SimRegistry {
  host: string
  url?: string
  auth?: {user: string; password: string}
}

function registryRef(
  reg: SimRegistry | undefined,
  image: string,
): {url: string; repo: string; ref: string; headers: Record<string, string>} | undefined {
  if (!reg?.url) return undefined
  const m = /^([^/]+)\/(.+?)(?:@(sha256:[0-9a-f]{64})|:([^/:@]+))$/.exec(image)
  if (!m || m[1] !== reg.host) return undefined
  const headers: Record<string, string> = {
    accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
  }
  if (reg.auth) headers.authorization = `Basic ${Buffer.from(`${reg.auth.user}:${reg.auth.password}`).toString('base64')}`
  return {headers, ref: m[3] ?? m[4], repo: m[2], url: reg.url}
}

/**
 * Whether the image exists in the registry: only images in the simulation's own registry can be
 * looked at; any other is taken to exist (scripted mode has no registry, so nothing is ever gone).
 */
async function imageExists(reg: SimRegistry | undefined, image: string): Promise<boolean> {
  const r = registryRef(reg, image)
  if (!r) return true
  const res = await fetch(`${r.url}/v2/${r.repo}/manifests/${r.ref}`, {headers: r.headers, method: 'HEAD'})
  return res.ok
}

/** Delete the image from the simulation's registry, as the pruner does; 'kept' when it is not there to delete. */
async function pruneImage(reg: SimRegistry | undefined, image: string): Promise<'deleted' | 'kept' | 'missing' | 'refused'> {
  const r = registryRef(reg, image)
  if (!r) return 'kept'
  let ref = r.ref
  if (!ref.startsWith('sha256:')) {
    const head = await fetch(`${r.url}/v2/${r.repo}/manifests/${ref}`, {headers: r.headers, method: 'HEAD'})
    if (!head.ok) return 'missing'
    ref = head.headers.get('docker-content-digest') ?? ref
  }

  const res = await fetch(`${r.url}/v2/${r.repo}/manifests/${ref}`, {headers: r.headers, method: 'DELETE'})
  // The pruner only logs a refusal (a registry without deletes answers 405) or a missing image.
  return res.ok ? 'deleted' : res.status === 404 ? 'missing' : 'refused'
}

export class MachineOSController {
  private readonly configs: Informer
  private readonly builds: Informer
  private readonly pools: Informer
  private readonly pods: Informer
  private readonly jobs: Informer
  private readonly nodes: Informer
  private readonly builder: Informer
  private readonly loop: Loop
  /** Pods created per MachineOSBuild uid: a new attempt waits until the pod informer has seen the last one. */
  private readonly created = new Map<string, number>()
  /** The MachineOSBuilds seen at the last pass, by uid: those gone since are cleaned up after. */
  private known = new Map<string, Obj>()
  private readonly registry?: SimRegistry
  private readonly features: ReleaseFeatures

  constructor(
    private readonly client: SimClient,
    private readonly log: Logger,
    opts: {retryMs?: number; resyncMs?: number; registry?: SimRegistry; release?: string} = {},
  ) {
    const onError = (e: unknown) => log(`machine-os: watch: ${(e as Error).message}`)
    this.registry = opts.registry
    this.features = releaseFeatures(opts.release)
    this.configs = new Informer(client, MOS.configs, {onError})
    this.builds = new Informer(client, MOS.builds, {onError})
    this.pools = new Informer(client, R.pools, {onError})
    this.pods = new Informer(client, R.pods, {labelSelector: 'job-name', namespace: MCO_NS, onError})
    this.jobs = new Informer(client, JOBS, {labelSelector: `${P}/on-cluster-layering`, namespace: MCO_NS, onError})
    this.nodes = new Informer(client, R.nodes, {onError})
    this.builder = new Informer(client, R.pods, {labelSelector: 'k8s-app=machine-os-builder', namespace: MCO_NS, onError})
    this.loop = new Loop('machine-os', () => this.pass(), {log, ...opts})
    for (const i of this.informers()) i.on(() => this.loop.kick())
  }

  private informers(): Informer[] {
    return [this.configs, this.builds, this.pools, this.pods, this.jobs, this.nodes, this.builder]
  }

  async start(): Promise<void> {
    await Promise.all(this.informers().map((i) => i.start()))
    this.loop.start()
  }

  async stop(): Promise<void> {
    await this.loop.stop()
    await Promise.all(this.informers().map((i) => i.stop()))
  }

  private async pass(): Promise<void> {
    // The controller runs inside the machine-os-builder, which the operator starts for layered pools.
    if (!this.builder.list().some((p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp)) return
    await this.collectDeleted()
    for (const mosc of this.configs.list()) {
      if (mosc.metadata.deletionTimestamp) continue
      const pool = this.pools.get(mosc.spec?.machineConfigPool?.name)
      const rendered = pool?.spec?.configuration?.name
      if (!rendered) continue
      const annotations = mosc.metadata.annotations ?? {}
      if (Object.hasOwn(annotations, REBUILD)) {
        await this.rebuild(mosc, annotations[CURRENT])
        continue
      }

      await this.syncConfig(mosc, rendered)
    }

    for (const mosb of this.builds.list()) {
      if (mosb.metadata.deletionTimestamp) continue
      await this.advance(mosb)
    }
  }

  /** The name the controller gives the build of (rendered config, MachineOSConfig spec). */
  private wantedName(mosc: Obj, rendered: string): string {
    return `${mosc.metadata.name}-${md5(`${rendered}\n${JSON.stringify(mosc.spec)}`)}`
  }

  /**
   * syncMachineOSConfig + createNewMachineOSBuildOrReuseExisting: the build the annotation names ends
   * the sync; the hashed build is created when missing, reused when it succeeded and its image still
   * exists (deleted and built again when the image is gone), and a failed one is left as it is.
   */
  private async syncConfig(mosc: Obj, rendered: string): Promise<void> {
    const name = this.wantedName(mosc, rendered)
    const existing = this.builds.get(name)
    if (!existing) {
      await this.createBuild(mosc, name, rendered)
      return
    }

    if (mosc.metadata.annotations?.[CURRENT] === name || existing.metadata.deletionTimestamp) return
    const state = stateOf(existing)
    if (state === 'Succeeded' && existing.status?.digestedImagePushSpec) {
      if (await imageExists(this.registry, existing.status.digestedImagePushSpec)) {
        await this.deleteOtherBuilds(existing)
        await this.client.patch(MOS.configs, undefined, mosc.metadata.name, {metadata: {annotations: {[CURRENT]: name}}})
        await this.client.patch(
          MOS.configs,
          undefined,
          mosc.metadata.name,
          {status: {currentImagePullSpec: existing.status.digestedImagePushSpec, observedGeneration: mosc.metadata.generation ?? 1}},
          'merge',
          'status',
        )
        this.log(`machine-os: reusing MachineOSBuild ${name} (its image ${existing.status.digestedImagePushSpec} still exists)`)
        return
      }

      this.log(`machine-os: the image of MachineOSBuild ${name} no longer exists: building it again`)
      await this.client.delete(MOS.builds, undefined, name)
      await this.createBuild(mosc, name, rendered)
      return
    }

    // Prepared or Building: it becomes the current build; Failed or Interrupted: nothing happens.
    if (state === 'Prepared' || state === 'Building' || !state) {
      await this.client.patch(MOS.configs, undefined, mosc.metadata.name, {metadata: {annotations: {[CURRENT]: name}}})
    }
  }

  private async createBuild(mosc: Obj, name: string, rendered: string): Promise<void> {
    const pool = mosc.spec.machineConfigPool.name
    try {
      await this.client.create(MOS.builds, undefined, {
        apiVersion: `${P}/v1`,
        kind: 'MachineOSBuild',
        metadata: {
          finalizers: [],
          labels: {
            [`${P}/machine-os-config`]: mosc.metadata.name,
            [`${P}/rendered-machine-config`]: rendered,
            [`${P}/target-machine-config-pool`]: pool,
          },
          name,
          ownerReferences: [
            {
              apiVersion: `${P}/v1`,
              blockOwnerDeletion: true,
              controller: true,
              kind: 'MachineOSConfig',
              name: mosc.metadata.name,
              uid: mosc.metadata.uid,
            },
          ],
        },
        spec: {
          machineConfig: {name: rendered},
          machineOSConfig: {name: mosc.metadata.name},
          renderedImagePushSpec: `${repoOf(mosc.spec.renderedImagePushSpec)}:${name}`,
        },
      })
      this.log(`machine-os: created MachineOSBuild ${name} for pool ${pool} (${rendered})`)
    } catch (e) {
      if (!/already exists/i.test((e as Error).message)) throw e
    }

    await this.client.patch(MOS.configs, undefined, mosc.metadata.name, {metadata: {annotations: {[CURRENT]: name}}})
  }

  private async rebuild(mosc: Obj, current: string | undefined): Promise<void> {
    const old = current ? this.builds.get(current) : undefined
    if (old) {
      await this.client.delete(MOS.builds, undefined, current!)
      await this.cleanBuild(old)
      await deleteMachineOSInputs(this.client, current!)
      await this.createBuild(mosc, current!, old.spec.machineConfig.name)
      const fresh = await this.client.get(MOS.builds, undefined, current!)
      if (fresh) await this.event(fresh, 'Normal', 'RebuildRequested', `Rebuild requested for MachineOSConfig ${mosc.metadata.name}`)
      this.log(`machine-os: rebuilding ${current} for MachineOSConfig ${mosc.metadata.name}`)
    }

    await this.client.patch(MOS.configs, undefined, mosc.metadata.name, {metadata: {annotations: {[REBUILD]: null}}})
  }

  /** deleteOtherBuildsForMachineOSConfig: every other build of the MachineOSConfig that did not succeed goes. */
  private async deleteOtherBuilds(mosb: Obj): Promise<void> {
    const mosc = mosb.spec.machineOSConfig.name
    for (const other of this.builds.list()) {
      if (other.metadata.name === mosb.metadata.name || other.spec?.machineOSConfig?.name !== mosc || stateOf(other) === 'Succeeded')
        continue
      if (other.metadata.deletionTimestamp) continue
      await this.client.delete(MOS.builds, undefined, other.metadata.name)
      await this.cleanBuild(other)
      this.log(
        `machine-os: deleted MachineOSBuild ${other.metadata.name} (${stateOf(other) ?? 'new'}): MachineOSBuild ${mosb.metadata.name} of MachineOSConfig ${mosc} starts`,
      )
    }
  }

  /** MachineOSBuilds deleted since the last pass (by anyone): their objects and (real mode) images go. */
  private async collectDeleted(): Promise<void> {
    const now = new Map(this.builds.list().map((b) => [b.metadata.uid as string, b]))
    const gone = [...this.known.values()].filter((b) => !now.has(b.metadata.uid))
    this.known = now
    for (const b of gone) {
      await this.cleanBuild(b)
      await this.pruneBuildImage(b)
    }
  }

  /** The Job of a deleted build, its pods, and the labelled ephemeral objects (never a same-named newer build's). */
  private async cleanBuild(mosb: Obj): Promise<void> {
    const name = mosb.metadata.name
    const newer = this.builds.list().find((b) => b.metadata.name === name && b.metadata.uid !== mosb.metadata.uid)
    const job = this.jobs.get(jobName(name), MCO_NS)
    const ownedByIt = (o: Obj, uid: string): boolean => (o.metadata.ownerReferences ?? []).some((r: Obj) => r.uid === uid)
    if (job && ownedByIt(job, mosb.metadata.uid)) {
      for (const pod of this.pods.list().filter((p) => ownedByIt(p, job.metadata.uid)))
        await this.client.delete(R.pods, MCO_NS, pod.metadata.name)
      await this.client.delete(JOBS, MCO_NS, job.metadata.name)
    } else if (!job) {
      // Pods of an earlier Job whose object is gone already (what the garbage collector removes: owned by a Job that no longer exists).
      const jobs = new Set(this.jobs.list().map((j) => j.metadata.uid))
      const orphan = (p: Obj): boolean => (p.metadata.ownerReferences ?? []).some((r: Obj) => r.kind === 'Job' && !jobs.has(r.uid))
      for (const pod of this.pods.list().filter((p) => p.metadata.labels?.['job-name'] === jobName(name) && orphan(p))) {
        await this.client.delete(R.pods, MCO_NS, pod.metadata.name)
      }
    }

    this.created.delete(mosb.metadata.uid)
    if (newer) return
    // The builder's own objects only: labelled for the build and named as it names them.
    const selector = `${P}/machine-os-build=${name}`
    const names = new Set([
      ...['containerfile', 'mc', 'additionaltrustbundle', 'etc-policy', 'etc-registries', 'digest', 'base', 'final'].map(
        (x) => `${x}-${name}`,
      ),
    ])
    for (const kind of [R.configmaps, R.secrets]) {
      for (const o of (await this.client.list(kind, MCO_NS, selector)).items)
        if (names.has(o.metadata.name)) await this.client.delete(kind, MCO_NS, o.metadata.name)
    }

    await this.client.delete(R.configmaps, MCO_NS, `digest-${name}`)
  }

  /** deleteMOSBImage: the image goes unless a node of the pool runs or is to run it (real mode only). */
  private async pruneBuildImage(mosb: Obj): Promise<void> {
    const image = mosb.status?.digestedImagePushSpec
    if (!image || !this.registry) return
    if (imageInUse(image, this.nodes.list())) {
      this.log(`machine-os: image ${image} of deleted MachineOSBuild ${mosb.metadata.name} is used by a node: kept`)
      return
    }

    try {
      this.log(`machine-os: image ${image} of deleted MachineOSBuild ${mosb.metadata.name}: ${await pruneImage(this.registry, image)}`)
    } catch (e) {
      this.log(`machine-os: could not delete image ${image}: ${(e as Error).message}`)
    }
  }

  /**
   * 5.0+: an event on the MachineOSBuild. It is cluster-scoped, so the event goes to namespace
   * default, as the event recorder puts those of cluster-scoped objects.
   */
  private async event(mosb: Obj, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    if (!this.features.buildEvents) return
    const ts = now()
    await this.client
      .create(R.events, 'default', {
        apiVersion: 'v1',
        count: 1,
        firstTimestamp: ts,
        involvedObject: {apiVersion: `${P}/v1`, kind: 'MachineOSBuild', name: mosb.metadata.name, uid: mosb.metadata.uid},
        kind: 'Event',
        lastTimestamp: ts,
        message,
        metadata: {name: `${mosb.metadata.name}.${randomBytes(8).toString('hex')}`, namespace: 'default'},
        reason,
        reportingComponent: 'machineosbuilder',
        source: {component: 'machineosbuilder'},
        type,
      })
      .catch((e: Error) => this.log(`machine-os: event ${reason}: ${e.message}`))
  }

  /** ImageBuildDegraded on the pool, with the controller's reasons and messages. */
  private async setBuildDegraded(mosb: Obj, state: 'Building' | 'Failed' | 'Succeeded', cause?: string): Promise<void> {
    const pool = mosb.metadata.labels?.[`${P}/target-machine-config-pool`]
    if (!pool) return
    const want =
      state === 'Failed'
        ? {
            message: `Failed to build OS image for pool ${pool} (MachineOSBuild: ${mosb.metadata.name}): ${cause ?? 'Failed: Build Failed'}`,
            reason: 'BuildFailed',
            status: 'True',
          }
        : state === 'Succeeded'
          ? {message: `Build succeeded for pool ${pool}`, reason: 'BuildSuccess', status: 'False'}
          : {message: `Build started for pool ${pool}`, reason: 'Building', status: 'False'}
    await this.client.update(
      R.pools,
      undefined,
      pool,
      (p) => {
        p.status ??= {}
        const conditions: Obj[] = p.status.conditions ?? []
        const cur = conditions.find((c) => c.type === 'ImageBuildDegraded')
        if (state === 'Building' && cur?.status === 'False') return false
        if (cur && cur.status === want.status && cur.reason === want.reason && cur.message === want.message) return false
        const next = {
          lastTransitionTime: cur && cur.status === want.status ? cur.lastTransitionTime : now(),
          type: 'ImageBuildDegraded',
          ...want,
        }
        p.status.conditions = cur ? conditions.map((c) => (c === cur ? next : c)) : [...conditions, next]
      },
      {status: true},
    )
  }

  /** The Job object of a build: backoffLimit 3, owned by the MachineOSBuild. */
  private async ensureJob(mosb: Obj): Promise<Obj | undefined> {
    const name = jobName(mosb.metadata.name)
    const existing = await this.client.get(JOBS, MCO_NS, name)
    if (existing) {
      if ((existing.metadata.ownerReferences ?? []).some((r: Obj) => r.uid === mosb.metadata.uid)) return existing
      // A Job left from an earlier build of the same name: the controller sees "the build exists" and waits.
      this.log(`machine-os: ${mosb.metadata.name}: Job ${name} of an earlier build still exists; no build starts until it is deleted`)
      return undefined
    }

    return this.client.create(JOBS, MCO_NS, {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        annotations: {[`${P}/machine-os-build`]: mosb.metadata.name, [`${P}/machine-os-config`]: mosb.spec.machineOSConfig.name},
        labels: ephemeralLabels(mosb),
        name,
        namespace: MCO_NS,
        ownerReferences: [
          {apiVersion: `${P}/v1`, controller: true, kind: 'MachineOSBuild', name: mosb.metadata.name, uid: mosb.metadata.uid},
        ],
      },
      spec: {
        backoffLimit: JOB_ATTEMPTS - 1,
        completions: 1,
        parallelism: 1,
        template: {
          spec: {
            containers: [
              {
                command: ['/bin/bash', '-c', 'buildah-build.sh'],
                image: 'quay.io/openshift/machine-config-operator:latest',
                name: 'image-build',
              },
            ],
            restartPolicy: 'Never',
            serviceAccountName: 'machine-os-builder',
          },
        },
      },
    })
  }

  /** The Job's counts of its pods, as the Job controller keeps them. */
  private async syncJobStatus(job: Obj, pods: Obj[]): Promise<void> {
    const failed = pods.filter((p) => p.status?.phase === 'Failed').length
    const succeeded = pods.filter((p) => p.status?.phase === 'Succeeded').length
    const active = pods.length - failed - succeeded
    const st = job.status ?? {}
    const done = succeeded > 0 ? 'Complete' : failed >= JOB_ATTEMPTS ? 'Failed' : undefined
    if (
      (st.active ?? 0) === active &&
      (st.failed ?? 0) === failed &&
      (st.succeeded ?? 0) === succeeded &&
      Boolean(done) === (st.conditions ?? []).length > 0
    )
      return
    const status: Obj = {active, failed, startTime: st.startTime ?? now(), succeeded}
    if (done) {
      status.conditions = [
        done === 'Failed'
          ? {
              lastProbeTime: now(),
              lastTransitionTime: now(),
              message: 'Job has reached the specified backoff limit',
              reason: 'BackoffLimitExceeded',
              status: 'True',
              type: 'Failed',
            }
          : {
              lastProbeTime: now(),
              lastTransitionTime: now(),
              message: 'Reached expected number of succeeded pods',
              reason: 'CompletionsReached',
              status: 'True',
              type: 'Complete',
            },
      ]
      if (done === 'Complete') status.completionTime = endAfter(status.startTime)
    }

    await this.client.patch(JOBS, MCO_NS, job.metadata.name, {status}, 'merge', 'status').catch((e: Error) => {
      if (!isNotFound(e)) throw e
    })
  }

  private async advance(mosb: Obj): Promise<void> {
    const state = stateOf(mosb)
    if (state === 'Succeeded' || state === 'Failed' || state === 'Interrupted') return
    const name = mosb.metadata.name
    // Only the Job of this MachineOSBuild (a same-named earlier one may linger in the cache) and its pods.
    const cached = this.jobs.get(jobName(name), MCO_NS)
    const job = cached && (cached.metadata.ownerReferences ?? []).some((r: Obj) => r.uid === mosb.metadata.uid) ? cached : undefined
    const ours = (p: Obj): boolean => Boolean(job) && (p.metadata.ownerReferences ?? []).some((r: Obj) => r.uid === job!.metadata.uid)
    const pods = this.pods
      .list()
      .filter((p) => p.metadata.labels?.['job-name'] === jobName(name) && !p.metadata.deletionTimestamp && ours(p))
    const setStatus = (status: Obj) => this.client.patch(MOS.builds, undefined, name, {status}, 'merge', 'status')
    const failed = pods.filter((p) => p.status?.phase === 'Failed')
    const succeeded = pods.find((p) => p.status?.phase === 'Succeeded')
    const active = pods.filter((p) => p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded')
    if (job) await this.syncJobStatus(job, pods)
    if (!succeeded && active.length === 0) {
      if (failed.length >= JOB_ATTEMPTS) {
        // 4.22+: the cause (the last attempt's end) instead of the bare "Build Failed".
        const message = this.features.failureCause ? `${MESSAGES.Failed}: ${podFailure(failed.at(-1)!)}` : MESSAGES.Failed
        const conditions = mosbConditions('Failed').map((c) => (c.type === 'Failed' ? {...c, message} : c))
        await setStatus({buildEnd: endAfter(mosb.status?.buildStart), conditions})
        await this.setBuildDegraded(mosb, 'Failed', `${REASONS.Failed}: ${message}`)
        await this.event(mosb, 'Warning', 'JobFailed', `Job ${jobName(name)} failed: ${failed.length} of ${JOB_ATTEMPTS} attempts failed`)
        await this.event(mosb, 'Warning', 'BuildFailed', message)
        await this.event(
          mosb,
          'Warning',
          'BuildDegraded',
          `Pool ${mosb.metadata.labels?.[`${P}/target-machine-config-pool`] ?? ''} is ImageBuildDegraded`,
        )
        this.log(`machine-os: ${name} failed (${failed.length} failed pods)`)
        return
      }

      // The next attempt, once the informer has seen every pod created so far.
      if ((this.created.get(mosb.metadata.uid) ?? 0) > pods.length) return
      if (failed.length > 0) {
        // A Job's back-off (10 s, 20 s, 40 s, ...) puts its attempts in different seconds on a cluster, and
        // clients order attempts by creationTimestamp: the next one waits for the next second at least.
        this.created.set(mosb.metadata.uid, pods.length + 1)
        const previous = Math.max(...pods.map((p) => Date.parse(p.metadata.creationTimestamp ?? '') || 0))
        const wait = previous + 1000 - Date.now()
        if (wait > 0) await new Promise((r) => setTimeout(r, wait))
      }

      if (!state && pods.length === 0) await this.deleteOtherBuilds(mosb)
      // Before the Job: its input ConfigMaps (containerfile-<mosb>, mc-<mosb>, ...).
      const config = this.configs.get(mosb.spec.machineOSConfig.name)
      if (!state && config) await createMachineOSInputs(this.client, config, mosb)
      const owner = await this.ensureJob(mosb)
      if (!owner) return
      await this.client.create(R.pods, MCO_NS, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          labels: {'batch.kubernetes.io/job-name': jobName(name), 'job-name': jobName(name)},
          name: `${jobName(name)}-${randomBytes(3).toString('hex').slice(0, 5)}`,
          namespace: MCO_NS,
          ownerReferences: [
            {
              apiVersion: 'batch/v1',
              blockOwnerDeletion: true,
              controller: true,
              kind: 'Job',
              name: owner.metadata.name,
              uid: owner.metadata.uid,
            },
          ],
        },
        spec: {
          containers: [
            {
              command: ['/bin/bash', '-c', 'buildah-build.sh'],
              image: 'quay.io/openshift/machine-config-operator:latest',
              name: 'image-build',
            },
          ],
          restartPolicy: 'Never',
          serviceAccountName: 'machine-os-builder',
        },
      })
      this.created.set(mosb.metadata.uid, pods.length + 1)
      if (failed.length > 0) this.log(`machine-os: ${name}: attempt ${failed.length + 1} of ${JOB_ATTEMPTS}`)
      if (!state) {
        await setStatus({
          builder: {imageBuilderType: 'Job', job: {group: 'batch', name: jobName(name), namespace: MCO_NS, resource: 'jobs'}},
          buildStart: now(),
          conditions: mosbConditions('Prepared'),
        })
        await this.setBuildDegraded(mosb, 'Building')
        await this.event(
          mosb,
          'Normal',
          'BuildPreparing',
          `Build ${name} prepared for pool ${mosb.metadata.labels?.[`${P}/target-machine-config-pool`] ?? ''}`,
        )
        await this.event(mosb, 'Normal', 'JobCreated', `Created Job ${jobName(name)}`)
      }

      return
    }

    if (!succeeded) {
      const running = active.some((p) => p.status?.phase === 'Running')
      if ((running || failed.length > 0) && state !== 'Building') {
        await setStatus({conditions: mosbConditions('Building')})
        await this.event(mosb, 'Normal', 'BuildBuilding', `Build ${name} is building`)
      }
      return
    }

    const image = `${repoOf(mosb.spec.renderedImagePushSpec)}@sha256:${createHash('sha256').update(`${name}/${mosb.metadata.uid}`).digest('hex')}`
    await setStatus({buildEnd: endAfter(mosb.status?.buildStart), conditions: mosbConditions('Succeeded'), digestedImagePushSpec: image})
    const mosc = mosb.spec.machineOSConfig.name
    await this.client.patch(
      MOS.configs,
      undefined,
      mosc,
      {status: {currentImagePullSpec: image, observedGeneration: this.configs.get(mosc)?.metadata.generation ?? 1}},
      'merge',
      'status',
    )
    await this.setBuildDegraded(mosb, 'Succeeded')
    await this.event(mosb, 'Normal', 'JobCompleted', `Job ${jobName(name)} completed`)
    await this.event(mosb, 'Normal', 'BuildCompleted', `Build ${name} completed: ${image}`)
    // The controller deletes the Job, and with it every pod of it.
    for (const pod of pods) {
      try {
        await this.client.delete(R.pods, MCO_NS, pod.metadata.name)
      } catch (e) {
        if (!isNotFound(e)) throw e
      }
    }

    await deleteMachineOSInputs(this.client, name)
    if (job) await this.client.delete(JOBS, MCO_NS, job.metadata.name)
    this.created.delete(mosb.metadata.uid)
    this.log(`machine-os: ${name} succeeded: ${image}`)
  }
}

/** Why a pod of a build's Job failed: its image-build container's end, or the pod's reason (an eviction). */
function podFailure(pod: Obj): string {
  const c = (pod.status?.containerStatuses ?? []).find((x: Obj) => x.state?.terminated && x.state.terminated.exitCode !== 0)
  const t = c?.state?.terminated
  if (t) return `pod ${pod.metadata.name}: container ${c.name} exited with code ${t.exitCode}${t.reason ? ` (${t.reason})` : ''}`
  return `pod ${pod.metadata.name}: ${pod.status?.message || pod.status?.reason || 'failed'}`
}

/** The pods of the controller's Jobs: build-<mosb>-<5 hex>. */
export const JOB_POD = /^build-.+-[0-9a-f]{5}$/

/** image-build of a Job's pod, scripted: a few lines of a buildah build and push, then success. */
export function machineOSImageBuild(lineMs = 20): ContainerProcess {
  return {
    match: {container: 'image-build', namespace: MCO_NS, podName: JOB_POD},
    async run(ctx) {
      const job = ctx.pod.metadata.labels?.['job-name'] ?? ''
      for (const line of [
        'STEP 1/3: FROM quay.io/openshift-release-dev/ocp-v4.0-art-dev AS configs',
        'STEP 2/3: RUN ostree container commit',
        `STEP 3/3: LABEL io.openshift.machineconfig.build=${job}`,
        'Writing manifest to image destination',
        'Pushed',
      ]) {
        if (ctx.signal.aborted) return 137
        ctx.log(line)
        await new Promise((r) => setTimeout(r, lineMs))
      }

      return 0
    },
  }
}
