/**
 * Cleanup of a pool opted in by a MachineOSConfig (OpenShift 4.18+): what keeps the machine-os-builder
 * from trying again after a failed or interrupted MachineOSBuild, found strictly by the builder's
 * labels and the names derived from the MachineOSBuild (reference §8.3-8.5, §12.2-12.3).
 *
 * What blocks the next try:
 * - the failed (or interrupted) MachineOSBuild itself: the builder names each build by a hash of the
 *   pool's rendered config, the MachineOSConfig spec and the base image, and while a build of that
 *   name exists and did not succeed it does not build again (it only deletes failed builds when a
 *   build of another name starts, or on the rebuild annotation);
 * - a Job `build-<mosb>` left behind by a deleted build: a new build of the same name finds "its" Job
 *   and waits for it instead of starting;
 * - a `current-machine-os-build` annotation naming a build that no longer exists (the pool then
 *   waits for an image that never comes, OCPBUGS-84150); clearing it also makes the builder look at
 *   the MachineOSConfig again, which starts the new build.
 * The MachineOSConfig itself, succeeded builds (their images are in use or reusable) and everything of
 * other pools are never touched. Reported, not changed: a `rebuild` annotation the builder has not
 * acted on, the pool's ImageBuildDegraded, degradations that stop the builder (NodeDegraded...), a
 * machine-os-builder that does not run.
 *
 * Pure: `planMachineOSPools` works on lists read once (`readMachineOSObjects`).
 */
import type {KubeClient} from '../../kube/client.js'
import {R} from '../../kube/resources.js'
import type {ConfigMap, KubeObject, MachineConfigPool, Pod, Secret} from '../../kube/types.js'
import {MACHINE_OS_BUILDER_SELECTOR, MCO_NAMESPACE} from '../../mco/constants.js'
import {
  buildsOf,
  CURRENT_MOSB_ANNOTATION,
  machineOSConfigOf,
  type MachineOSBuild,
  type MachineOSConfig,
  mosbStatus,
  REBUILD_ANNOTATION,
} from '../../mco/machine-os.js'
import {condition, renderedConfig} from '../../mco/pool-state.js'
import type {CleanupItem, KeptItem, PoolFix} from '../../cleanup/types.js'

const P = 'machineconfiguration.openshift.io'
const NS = MCO_NAMESPACE
export const MOS_LABELS = {
  build: `${P}/machine-os-build`,
  config: `${P}/machine-os-config`,
  layering: `${P}/on-cluster-layering`,
  pool: `${P}/target-machine-config-pool`,
} as const

export interface Job extends KubeObject {
  spec?: {backoffLimit?: number}
  status?: {
    active?: number
    failed?: number
    succeeded?: number
    conditions?: Array<{type: string; status: string; reason?: string; message?: string}>
  }
}

/** The ephemeral ConfigMaps and Secrets of a build, by name (reference §8.3). */
export function ephemeralNames(mosb: string): {configMaps: string[]; secrets: string[]} {
  return {
    configMaps: [
      `containerfile-${mosb}`,
      `mc-${mosb}`,
      `additionaltrustbundle-${mosb}`,
      `etc-policy-${mosb}`,
      `etc-registries-${mosb}`,
      `digest-${mosb}`,
    ],
    secrets: [`base-${mosb}`, `final-${mosb}`],
  }
}

export interface MachineOSObjects {
  pools: MachineConfigPool[]
  configs: MachineOSConfig[]
  builds: MachineOSBuild[]
  /** Jobs in the MCO namespace carrying the on-cluster-layering label. */
  jobs: Job[]
  /** Pods in the MCO namespace carrying a job-name label. */
  pods: Pod[]
  configMaps: ConfigMap[]
  secrets: Secret[]
  /** The machine-os-builder's pods. */
  builderPods: Pod[]
}

export async function readMachineOSObjects(
  client: KubeClient,
  pools: MachineConfigPool[],
  signal?: AbortSignal,
): Promise<MachineOSObjects> {
  const layering = {labelSelector: MOS_LABELS.layering, namespace: NS, signal}
  const [configs, builds, jobs, pods, configMaps, secrets, builderPods] = await Promise.all([
    client.list<MachineOSConfig>(R.machineOSConfigs, {signal}),
    client.list<MachineOSBuild>(R.machineOSBuilds, {signal}),
    client.list<Job>(R.jobs, layering),
    client.list<Pod>(R.pods, {labelSelector: 'job-name', namespace: NS, signal}),
    client.list<ConfigMap>(R.configMaps, layering),
    client.list<Secret>(R.secrets, layering),
    client.list<Pod>(R.pods, {labelSelector: MACHINE_OS_BUILDER_SELECTOR, namespace: NS, signal}),
  ])
  return {
    builderPods: builderPods.items,
    builds: builds.items,
    configMaps: configMaps.items,
    configs: configs.items,
    jobs: jobs.items,
    pods: pods.items,
    pools,
    secrets: secrets.items,
  }
}

const jobActive = (j: Job): boolean =>
  (j.status?.active ?? 0) > 0 &&
  !(j.status?.conditions ?? []).some((c) => (c.type === 'Failed' || c.type === 'Complete') && c.status === 'True')
const ownerUid = (o: KubeObject, kind: string): string | undefined => o.metadata.ownerReferences?.find((r) => r.kind === kind)?.uid

/** Degradations that stop the builder from making any new build (ImageBuildDegraded does not). */
const BLOCKING_DEGRADED = ['NodeDegraded', 'RenderDegraded', 'PinnedImageSetsDegraded', 'SynchronizerDegraded']

export interface MachineOSPlan {
  items: CleanupItem[]
  kept: KeptItem[]
  pools: PoolFix[]
  running: CleanupItem[]
}

/** What the cleanup of each named pool (each with a MachineOSConfig) deletes, clears and reports. */
export function planMachineOSPools(objs: MachineOSObjects, poolNames: string[], opts: {force?: boolean} = {}): MachineOSPlan {
  const out: MachineOSPlan = {items: [], kept: [], pools: [], running: []}
  const builderRuns = objs.builderPods.some((p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp)
  for (const poolName of poolNames) {
    const config = machineOSConfigOf(objs.configs, poolName)
    if (!config) continue
    const pool = objs.pools.find((p) => p.metadata.name === poolName)
    const mosc = config.metadata.name!
    const mine = (o: KubeObject): boolean =>
      o.metadata.labels?.[MOS_LABELS.pool] === poolName || o.metadata.labels?.[MOS_LABELS.config] === mosc
    const builds = buildsOf(objs.builds, config)
    const byName = new Map(builds.map((b) => [b.metadata.name!, b]))
    const item = (
      o: KubeObject,
      kind: CleanupItem['kind'],
      role: CleanupItem['role'],
      mosb: string,
      rendered: string | null,
      why: string,
    ): CleanupItem => ({
      kind,
      machineOSBuild: mosb,
      name: o.metadata.name!,
      namespace: o.metadata.namespace ?? '',
      pool: poolName,
      renderedConfig: rendered,
      role,
      uid: o.metadata.uid ?? '',
      why,
    })
    const items: CleanupItem[] = []
    const running: CleanupItem[] = []
    /** Builds whose objects go: the ones deleted here, and names of builds that no longer exist. */
    const targets = new Map<string, {rendered: string | null; gone: boolean; uid?: string}>()
    const notes: string[] = []

    // Jobs first: a Job owned by an earlier build of the same name is stale, whatever that build's state.
    const jobs = objs.jobs.filter((j) => mine(j))
    const staleJob = (j: Job, b: MachineOSBuild | undefined): boolean => {
      const owner = ownerUid(j, 'MachineOSBuild')
      return !b || Boolean(owner && b.metadata.uid && owner !== b.metadata.uid)
    }

    for (const b of builds) {
      if (b.metadata.deletionTimestamp) continue
      const st = mosbStatus(b)
      const name = b.metadata.name!
      const rendered = b.spec?.machineConfig?.name ?? null
      const job = jobs.find((j) => j.metadata.name === `build-${name}`)
      if (st.state === 'failed' || st.state === 'interrupted') {
        const message = st.message && st.message !== (st.state === 'failed' ? 'Build Failed' : 'Build Interrupted') ? `: ${st.message}` : ''
        items.push(
          item(
            b,
            'MachineOSBuild',
            'machine-os-build',
            name,
            rendered,
            `${st.condition}${message}; while it exists the builder does not build ${rendered ?? 'its rendered config'} again`,
          ),
        )
        targets.set(name, {gone: false, rendered, uid: b.metadata.uid})
        continue
      }

      if (st.state === 'succeeded') continue
      // Prepared or Building (or not started): a build under way, unless all it waits for is a stale Job.
      if (job && staleJob(job, b)) continue
      const it = item(
        b,
        'MachineOSBuild',
        'machine-os-build',
        name,
        rendered,
        `${st.condition ?? 'not started yet'}: the build is under way${opts.force ? ' (stopped: --force)' : ''}`,
      )
      running.push(it)
      if (opts.force) {
        items.push(it)
        targets.set(name, {gone: false, rendered, uid: b.metadata.uid})
      }
    }

    for (const j of jobs) {
      const name = j.metadata.name!
      const mosb = j.metadata.labels?.[MOS_LABELS.build] ?? name.replace(/^build-/, '')
      if (name !== `build-${mosb}`) {
        out.kept.push({kind: 'Job', name, reason: `carries the build labels of pool ${poolName} but is not named build-<MachineOSBuild>`})
        continue
      }

      const b = byName.get(mosb)
      const stale = staleJob(j, b)
      if (!targets.has(mosb) && !stale) continue
      const why = stale
        ? `the Job of MachineOSBuild ${mosb}, ${b ? 'from an earlier build of that name' : 'which no longer exists'}: a new build of that name would wait for it instead of starting`
        : `the Job of MachineOSBuild ${mosb}`
      const it = item(j, 'Job', 'job', mosb, j.metadata.labels?.[`${P}/rendered-machine-config`] ?? null, why)
      if (stale && jobActive(j)) {
        it.why += `; it still runs pods${opts.force ? ' (stopped: --force)' : ''}`
        running.push(it)
        if (!opts.force) continue
      }

      items.push(it)
      if (!targets.has(mosb)) targets.set(mosb, {gone: !b, rendered: it.renderedConfig})
    }

    // Orphaned ephemeral objects (their build is gone) go too.
    for (const o of [...objs.configMaps, ...objs.secrets]) {
      const mosb = o.metadata.labels?.[MOS_LABELS.build]
      if (!mine(o) || !mosb || byName.has(mosb) || targets.has(mosb)) continue
      targets.set(mosb, {gone: true, rendered: o.metadata.labels?.[`${P}/rendered-machine-config`] ?? null})
    }

    for (const [mosb, t] of targets) {
      const jobName = `build-${mosb}`
      const job = objs.jobs.find((j) => j.metadata.name === jobName)
      const deletingJob = items.some((i) => i.kind === 'Job' && i.name === jobName)
      if (job && !deletingJob) continue // its Job runs and is kept (no --force): its pods stay with it
      for (const pod of objs.pods.filter((p) => p.metadata.labels?.['job-name'] === jobName)) {
        if (!pod.metadata.name!.startsWith(`${jobName}-`)) {
          out.kept.push({
            kind: 'Pod',
            name: pod.metadata.name!,
            reason: `labelled job-name=${jobName} but not named like a pod of that Job`,
          })
          continue
        }

        items.push(item(pod, 'Pod', 'job-pod', mosb, t.rendered, `an attempt of Job ${jobName} (${pod.status?.phase ?? 'Pending'})`))
      }

      const names = ephemeralNames(mosb)
      for (const [kind, list, wanted] of [
        ['ConfigMap', objs.configMaps, names.configMaps],
        ['Secret', objs.secrets, names.secrets],
      ] as const) {
        for (const o of (list as KubeObject[]).filter((x) => x.metadata.labels?.[MOS_LABELS.build] === mosb && mine(x))) {
          if (!(wanted as readonly string[]).includes(o.metadata.name!)) {
            out.kept.push({
              kind,
              name: o.metadata.name!,
              reason: `carries the build labels of MachineOSBuild ${mosb} but its name is not one the builder uses`,
            })
            continue
          }

          items.push(
            item(
              o,
              kind,
              kind === 'Secret' ? 'build-secret' : 'ephemeral',
              mosb,
              t.rendered,
              kind === 'Secret'
                ? `the builder's copy of a pull or push secret for MachineOSBuild ${mosb} (made again by the next build)`
                : `an input or output of MachineOSBuild ${mosb}`,
            ),
          )
        }
      }
    }

    // The annotation naming the current build.
    const current = config.metadata.annotations?.[CURRENT_MOSB_ANNOTATION]
    let clearAnnotation: PoolFix['clearAnnotation']
    if (
      current &&
      (!byName.has(current) || (targets.has(current) && items.some((i) => i.kind === 'MachineOSBuild' && i.name === current)))
    ) {
      clearAnnotation = {
        annotation: CURRENT_MOSB_ANNOTATION,
        machineOSConfig: mosc,
        value: current,
        why: byName.has(current)
          ? `it names MachineOSBuild ${current}, deleted here`
          : `it names MachineOSBuild ${current}, which no longer exists (the pool would wait for its image)`,
      }
    }

    if (Object.hasOwn(config.metadata.annotations ?? {}, REBUILD_ANNOTATION)) {
      notes.push(
        `MachineOSConfig ${mosc} has the ${REBUILD_ANNOTATION} annotation, which the machine-os-builder removes when it acts on it: it has not acted on it${builderRuns ? '' : ' (the machine-os-builder is not running)'}; cleanup leaves it; to ask again, remove it (\`oc annotate machineosconfig/${mosc} ${REBUILD_ANNOTATION}-\`) and run \`oc mob build ${poolName} --rebuild\``,
      )
    }

    const degraded = pool ? condition(pool, 'ImageBuildDegraded') : undefined
    if (degraded?.status === 'True')
      notes.push(
        `the pool's ImageBuildDegraded is True (${degraded.message || degraded.reason || 'no message'}); the builder sets it back to False when the next build starts, it does not stop that build`,
      )
    for (const type of BLOCKING_DEGRADED) {
      const c = pool ? condition(pool, type) : undefined
      if (c?.status === 'True')
        notes.push(
          `the pool is ${type} (${c.message || c.reason || 'no message'}): the builder starts no build while it is; fix that first (\`oc mob status ${poolName}\`)`,
        )
    }

    if (!builderRuns) notes.push('the machine-os-builder is not running: nothing is built until it runs (`oc mob status` says why)')
    const failed = items.filter((i) => i.kind === 'MachineOSBuild')
    if (failed.length > 0 || clearAnnotation || items.some((i) => i.kind === 'Job')) {
      const current = pool ? renderedConfig(pool) : undefined
      notes.unshift(
        `then the machine-os-builder starts a new build of ${current ?? "the pool's rendered config"} by itself; MachineOSConfig ${mosc}, the pool's succeeded builds and their images stay`,
      )
    }

    out.items.push(...items)
    out.running.push(...running)
    const reasons: string[] = []
    if (failed.length > 0)
      reasons.push(
        `${failed.length === 1 ? 'a build' : `${failed.length} builds`} that did not succeed block${failed.length === 1 ? 's' : ''} new ones of the same name`,
      )
    if (items.some((i) => i.kind === 'Job' && !targets.get(i.machineOSBuild!)?.uid)) reasons.push('a Job of a deleted build is left')
    if (clearAnnotation) reasons.push(clearAnnotation.why)
    out.pools.push({
      clearAnnotation,
      exists: Boolean(pool),
      notes,
      pool: poolName,
      removeConditions: [],
      removeRefs: [],
      resetConditions: [],
      why: reasons.length > 0 ? reasons.join('; ') : 'nothing blocks a new build',
    })
  }

  return out
}
