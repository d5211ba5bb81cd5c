// The machine-os-builder of OpenShift 4.18+ (the OSBuildController of MCO 4.19, reference §8.5), for
// pools opted in by a MachineOSConfig; it acts while the machine-os-builder pod (which the operator
// stand-in deploys for such pools) runs. Kept to what oc-mob reads and drives:
// - a MachineOSConfig whose pool's rendered config has no MachineOSBuild gets one, named
//   <mosc>-<hash of the rendered config and the MachineOSConfig spec>, and becomes its current build
//   (annotation current-machine-os-build);
// - a MachineOSBuild without a state gets its Job's pod: build-<mosb>-<5 chars>, labelled
//   job-name=build-<mosb> (simplification: no Job object, one attempt, one container image-build);
// - the pod's image-build container decides the build: Building while it runs, Succeeded with the
//   digested pushspec (the MachineOSConfig then reports it as current, and the pod is removed as the
//   controller removes the Job) or Failed (the pod stays for its log);
// - the rebuild annotation deletes the current MachineOSBuild (and its pod), recreates it under the
//   same name and is removed.
import {createHash, randomBytes} from 'node:crypto'
import {type KubeClient, Informer, type Obj, isNotFound, now, R} from './client.js'
import type {ContainerProcess} from './kubelet.js'
import {type Logger, Loop} from './loop.js'
import {MCO_NS} from './names.js'

const P = 'machineconfiguration.openshift.io'
const MOS = {builds: R.machineosbuilds, configs: R.machineosconfigs}
const CURRENT = `${P}/current-machine-os-build`
const REBUILD = `${P}/rebuild`
const CONDITIONS = ['Prepared', 'Building', 'Failed', 'Interrupted', 'Succeeded'] as const
const MESSAGES: Record<string, string> = {Building: 'Image Build In Progress', Failed: 'Build Failed', Interrupted: 'Build Interrupted', Prepared: 'Build Prepared and Pending', Succeeded: 'Build Ready'}
const REASONS: Record<string, string> = {Building: 'Building', Failed: 'Failed', Interrupted: 'Interrupted', Prepared: 'Prepared', Succeeded: 'Ready'}

const md5 = (s: string): string => createHash('md5').update(s).digest('hex')
const jobName = (mosb: string): string => `build-${mosb}`
const repoOf = (spec: string): string => spec.replace(/@.*$/, '').replace(/:[^/:]*$/, '')

/**
 * All five conditions, True for the current state, as the controller writes them. Every condition has a
 * reason: the CRD requires one (at least one character), so a real API server refuses an empty one.
 */
export function mosbConditions(state: (typeof CONDITIONS)[number]): Obj[] {
  return CONDITIONS.map((type) => ({
    lastTransitionTime: now(), message: type === state ? MESSAGES[type] : '', reason: REASONS[type], status: type === state ? 'True' : 'False', type,
  }))
}

/** A buildEnd the CRD accepts: strictly after buildStart (timestamps have whole seconds, builds may not). */
export function buildEnd(buildStart: string | undefined): string {
  const end = now()
  if (!buildStart || Date.parse(end) > Date.parse(buildStart)) return end
  return new Date(Date.parse(buildStart) + 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

const stateOf = (b: Obj): string | undefined => (b.status?.conditions ?? []).find((c: Obj) => c.status === 'True')?.type

export class MachineOSController {
  private readonly configs: Informer
  private readonly builds: Informer
  private readonly pools: Informer
  private readonly pods: Informer
  private readonly builder: Informer
  private readonly loop: Loop

  constructor(
    private readonly client: KubeClient,
    private readonly log: Logger,
    opts: {retryMs?: number; resyncMs?: number} = {},
  ) {
    const onError = (e: unknown) => log(`machine-os: watch: ${(e as Error).message}`)
    this.configs = new Informer(client, MOS.configs, {onError})
    this.builds = new Informer(client, MOS.builds, {onError})
    this.pools = new Informer(client, R.pools, {onError})
    this.pods = new Informer(client, R.pods, {labelSelector: 'job-name', namespace: MCO_NS, onError})
    this.builder = new Informer(client, R.pods, {labelSelector: 'k8s-app=machine-os-builder', namespace: MCO_NS, onError})
    this.loop = new Loop('machine-os', () => this.pass(), {log, ...opts})
    for (const i of [this.configs, this.builds, this.pools, this.pods, this.builder]) i.on(() => this.loop.kick())
  }

  async start(): Promise<void> {
    await Promise.all([this.configs.start(), this.builds.start(), this.pools.start(), this.pods.start(), this.builder.start()])
    this.loop.start()
  }

  async stop(): Promise<void> {
    await this.loop.stop()
    await Promise.all([this.configs.stop(), this.builds.stop(), this.pools.stop(), this.pods.stop(), this.builder.stop()])
  }

  private async pass(): Promise<void> {
    // The controller runs inside the machine-os-builder, which the operator starts for layered pools.
    if (!this.builder.list().some((p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp)) return
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

      const mine = this.builds.list().filter((b) => b.spec?.machineOSConfig?.name === mosc.metadata.name && b.spec?.machineConfig?.name === rendered)
      if (mine.length === 0) {
        const name = `${mosc.metadata.name}-${md5(`${rendered}\n${JSON.stringify(mosc.spec)}`)}`
        await this.createBuild(mosc, name, rendered)
      }
    }

    for (const mosb of this.builds.list()) {
      if (mosb.metadata.deletionTimestamp) continue
      await this.advance(mosb)
    }
  }

  private async createBuild(mosc: Obj, name: string, rendered: string): Promise<void> {
    const pool = mosc.spec.machineConfigPool.name
    try {
      await this.client.create(MOS.builds, undefined, {
        apiVersion: `${P}/v1`, kind: 'MachineOSBuild',
        metadata: {
          finalizers: [], labels: {[`${P}/machine-os-config`]: mosc.metadata.name, [`${P}/rendered-machine-config`]: rendered, [`${P}/target-machine-config-pool`]: pool}, name,
          ownerReferences: [{apiVersion: `${P}/v1`, blockOwnerDeletion: true, controller: true, kind: 'MachineOSConfig', name: mosc.metadata.name, uid: mosc.metadata.uid}],
        },
        spec: {machineConfig: {name: rendered}, machineOSConfig: {name: mosc.metadata.name}, renderedImagePushSpec: `${repoOf(mosc.spec.renderedImagePushSpec)}:${name}`},
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
      for (const pod of this.pods.list().filter((p) => p.metadata.labels?.['job-name'] === jobName(current!))) {
        await this.client.delete(R.pods, MCO_NS, pod.metadata.name).catch(() => false)
      }

      await this.client.delete(MOS.builds, undefined, current!)
      await this.createBuild(mosc, current!, old.spec.machineConfig.name)
      this.log(`machine-os: rebuilding ${current} for MachineOSConfig ${mosc.metadata.name}`)
    }

    await this.client.patch(MOS.configs, undefined, mosc.metadata.name, {metadata: {annotations: {[REBUILD]: null}}})
  }

  private async advance(mosb: Obj): Promise<void> {
    const state = stateOf(mosb)
    if (state === 'Succeeded' || state === 'Failed' || state === 'Interrupted') return
    const name = mosb.metadata.name
    const pod = this.pods.list().find((p) => p.metadata.labels?.['job-name'] === jobName(name) && !p.metadata.deletionTimestamp)
    const setStatus = (status: Obj) => this.client.patch(MOS.builds, undefined, name, {status}, 'merge', 'status')
    if (!pod) {
      if (state) return
      await this.client.create(R.pods, MCO_NS, {
        apiVersion: 'v1', kind: 'Pod',
        metadata: {labels: {'batch.kubernetes.io/job-name': jobName(name), 'job-name': jobName(name)}, name: `${jobName(name)}-${randomBytes(3).toString('hex').slice(0, 5)}`, namespace: MCO_NS},
        spec: {containers: [{command: ['/bin/bash', '-c', 'buildah-build.sh'], image: 'quay.io/openshift/machine-config-operator:latest', name: 'image-build'}], restartPolicy: 'Never', serviceAccountName: 'machine-os-builder'},
      })
      await setStatus({builder: {imageBuilderType: 'Job', job: {group: 'batch', name: jobName(name), namespace: MCO_NS, resource: 'jobs'}}, buildStart: now(), conditions: mosbConditions('Prepared')})
      return
    }

    const st = (pod.status?.containerStatuses ?? []).find((c: Obj) => c.name === 'image-build')
    const ended = st?.state?.terminated
    if (!ended) {
      if (st?.state?.running && state !== 'Building') await setStatus({conditions: mosbConditions('Building')})
      return
    }

    if (ended.exitCode !== 0) {
      await setStatus({buildEnd: buildEnd(mosb.status?.buildStart), conditions: mosbConditions('Failed')})
      this.log(`machine-os: ${name} failed (exit code ${ended.exitCode})`)
      return
    }

    const image = `${repoOf(mosb.spec.renderedImagePushSpec)}@sha256:${createHash('sha256').update(`${name}/${mosb.metadata.uid}`).digest('hex')}`
    await setStatus({buildEnd: buildEnd(mosb.status?.buildStart), conditions: mosbConditions('Succeeded'), digestedImagePushSpec: image})
    const mosc = mosb.spec.machineOSConfig.name
    await this.client.patch(MOS.configs, undefined, mosc, {status: {currentImagePullSpec: image, observedGeneration: this.configs.get(mosc)?.metadata.generation ?? 1}}, 'merge', 'status')
    try {
      await this.client.delete(R.pods, MCO_NS, pod.metadata.name)
    } catch (e) {
      if (!isNotFound(e)) throw e
    }

    this.log(`machine-os: ${name} succeeded: ${image}`)
  }
}

/** The pods of the controller's Jobs: build-<mosb>-<5 hex>. */
export const JOB_POD = /^build-.+-[0-9a-f]{5}$/

/** image-build of a Job's pod, scripted: a few lines of a buildah build and push, then success. */
export function machineOSImageBuild(lineMs = 20): ContainerProcess {
  return {
    match: {container: 'image-build', namespace: MCO_NS, podName: JOB_POD},
    async run(ctx) {
      const job = ctx.pod.metadata.labels?.['job-name'] ?? ''
      for (const line of ['STEP 1/3: FROM quay.io/openshift-release-dev/ocp-v4.0-art-dev AS configs', 'STEP 2/3: RUN ostree container commit', `STEP 3/3: LABEL io.openshift.machineconfig.build=${job}`, 'Writing manifest to image destination', 'Pushed']) {
        if (ctx.signal.aborted) return 137
        ctx.log(line)
        await new Promise((r) => setTimeout(r, lineMs))
      }

      return 0
    },
  }
}
