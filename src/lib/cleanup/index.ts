/**
 * Carrying out a cleanup plan (lib/layering/cleanup.ts makes it): remove what a failed or abandoned build left behind and unstick the pool, without
 * the seed's label toggle (remove layering-enabled, wait for the machine-os-builder to go, add it
 * back). The plan is shown and confirmed before anything changes; build pods are deleted first and
 * waited for (so a new build of the same rendered config can start at once), then the ConfigMaps and
 * secret copies, and last the pool's conditions are cleared, as onclustertesting's
 * clear-build-status does, so the cluster's BuildController sees a pool it may build again.
 */
import {ExitCode, MobError} from '../errors.js'
import type {KubeClient} from '../kube/client.js'
import {R, type ResourceType} from '../kube/resources.js'
import type {MachineConfigPool, ObjectReference} from '../kube/types.js'
import type {MachineOSBuild, MachineOSConfig} from '../mco/machine-os.js'
import {waitFor} from '../kube/watch.js'
import {applyConditions, removeConditions} from '../mco/conditions.js'
import type {SavedFiles} from './save.js'
import {type CleanupItem, type CleanupPlan, type KeptItem, type PlanOptions, type PoolFix, ref} from './types.js'

export interface CleanupOptions extends PlanOptions {
  dryRun?: boolean
  /** Also delete builds that are still running (they are stopped). */
  force?: boolean
  /** Save the Dockerfile, MachineConfig and logs of what is deleted here first. */
  saveDir?: string
  /** Asked with the plan before anything changes; false leaves everything as it is. */
  confirm?: (plan: CleanupPlan) => Promise<boolean>
  /** Progress for the person waiting. */
  onProgress?: (message: string) => void
  /** How long to wait for deleted build pods to be gone (default 2 minutes). */
  podGoneTimeoutMs?: number
}

export interface CleanupResult {
  outcome: 'cleaned' | 'declined' | 'dry-run' | 'nothing-to-do'
  scope: CleanupPlan['scope']
  /** What the plan found (with --dry-run and when declined: what would have been deleted). */
  items: CleanupItem[]
  kept: KeptItem[]
  pools: PoolFix[]
  /** `kind/name` of every object deleted. */
  deleted: string[]
  /** Objects that were not deleted after all, and why (replaced meanwhile, still terminating...). */
  notDeleted: Array<{object: string; reason: string}>
  saved: SavedFiles | null
}

const RESOURCES: Record<CleanupItem['kind'], ResourceType> = {
  Build: R.builds,
  ConfigMap: R.configMaps,
  Job: R.jobs,
  MachineOSBuild: R.machineOSBuilds,
  Pod: R.pods,
  Secret: R.secrets,
}

/** Delete exactly the object that was listed: a precondition on its uid refuses a same-named newcomer. */
async function deleteExactly(client: KubeClient, item: CleanupItem, signal?: AbortSignal): Promise<'changed' | 'deleted' | 'gone'> {
  // A Job's pods go with it (they are deleted by name too, for clusters where nothing collects them).
  const propagationPolicy = item.kind === 'Job' ? 'Background' : undefined
  return client.deleteExact(
    RESOURCES[item.kind],
    {name: item.name, namespace: item.namespace || undefined, uid: item.uid || undefined},
    {propagationPolicy, signal},
  )
}

export function runningError(plan: CleanupPlan): MobError {
  const pools = [...new Set(plan.running.map((i) => i.pool))].join(' ')
  return new MobError(
    `${plan.running.length === 1 ? 'a build is' : `${plan.running.length} builds are`} still running; cleanup would stop ${plan.running.length === 1 ? 'it' : 'them'}`,
    {
      code: 'BuildRunning',
      details: plan.running.map((i) => `${ref(i)} of pool ${i.pool} (${i.why})`),
      exitCode: ExitCode.Invalid,
      next: `wait for it (\`oc mob logs ${pools} -f\`), or stop it and clean up anyway with --force`,
    },
  )
}

const isBuildRef =
  (name: string) =>
  (r: ObjectReference): boolean =>
    (r.kind === 'Pod' || r.kind === 'Build') && r.name === name

/** Clear the pool's stuck build state as planned; every write re-reads the pool and retries on conflict. */
async function fixPool(client: KubeClient, fix: PoolFix, deleted: Set<string>, signal?: AbortSignal): Promise<void> {
  if (!fix.exists) return
  const clear = fix.clearAnnotation
  if (clear) {
    // Only while the build it names is still missing: the builder may have started a new one of that name meanwhile.
    const named = await client.find<MachineOSBuild>(R.machineOSBuilds, clear.value, undefined, signal)
    if (!named || deleted.has(named.metadata.uid ?? '')) {
      await client.update<MachineOSConfig>(R.machineOSConfigs, clear.machineOSConfig, (c) => {
        if (c.metadata.annotations?.[clear.annotation] !== clear.value) return false
        delete c.metadata.annotations[clear.annotation]
      })
    }
  }

  if (fix.removeConditions.length + fix.resetConditions.length + fix.removeRefs.length === 0) return
  if (fix.removeRefs.length > 0) {
    await client.update<MachineConfigPool>(R.machineConfigPools, fix.pool, (p) => {
      const source = p.spec?.configuration?.source
      if (!source) return false
      const kept = source.filter((r) => !fix.removeRefs.some((name) => isBuildRef(name)(r)))
      if (kept.length === source.length) return false
      p.spec!.configuration!.source = kept
    })
  }

  await client.update<MachineConfigPool>(
    R.machineConfigPools,
    fix.pool,
    (p) => {
      p.status ??= {}
      const before = JSON.stringify(p.status)
      p.status.conditions = removeConditions(p.status.conditions, fix.removeConditions)
      const reset = fix.resetConditions.filter((t) => p.status!.conditions!.some((c) => c.type === t && c.status === 'True'))
      if (reset.length > 0)
        p.status.conditions = applyConditions(
          p.status.conditions,
          reset.map((type) => ({status: 'False' as const, type})),
        )
      const source = p.status.configuration?.source
      if (source) p.status.configuration!.source = source.filter((r) => !fix.removeRefs.some((name) => isBuildRef(name)(r)))
      return JSON.stringify(p.status) !== before
    },
    {subresource: 'status'},
  )
}

/**
 * Carry out a plan that was shown and confirmed: build objects first, waited for until gone, then the
 * pools' stuck state. What was deleted and what was not goes into `result`.
 */
export async function executeCleanup(client: KubeClient, plan: CleanupPlan, opts: CleanupOptions, result: CleanupResult): Promise<void> {
  // Build objects first (a Job before its pods, so it makes no new attempt), so nothing reads the
  // ConfigMaps while they go; then wait until the pods are gone. 4.18+: the MachineOSBuild last, once
  // nothing of it is left for a new build of the same name to trip over.
  const deletedUids = new Set<string>()
  try {
    await deleteInOrder(client, plan, opts, result, deletedUids)
  } catch (error) {
    if (opts.signal?.aborted || (error as MobError).exitCode === ExitCode.Interrupted) throw interrupted(plan, result, opts)
    throw error
  }
}

/** Ctrl-C between (or during) the deletes: what is gone, what is left, and that a re-run finishes. */
function interrupted(plan: CleanupPlan, result: CleanupResult, opts: PlanOptions): MobError {
  const left = plan.items.map((i) => ref(i)).filter((r) => !result.deleted.includes(r))
  return new MobError(
    `interrupted: deleted ${result.deleted.length > 0 ? result.deleted.join(', ') : 'nothing'}; not deleted (or not known to be): ${left.length > 0 ? left.join(', ') : 'nothing'}${plan.pools.some((p) => p.exists) ? '; the pool state was not cleared' : ''}`,
    {
      code: 'Interrupted',
      exitCode: ExitCode.Interrupted,
      next: `run \`oc mob cleanup${opts.pool ? ` ${opts.pool}` : opts.all ? ' --all' : ''}\` again to finish: it starts from what is left`,
    },
  )
}

async function deleteInOrder(
  client: KubeClient,
  plan: CleanupPlan,
  opts: CleanupOptions,
  result: CleanupResult,
  deletedUids: Set<string>,
): Promise<void> {
  const order: Array<CleanupItem['kind']> = ['Job', 'Pod', 'Build', 'ConfigMap', 'Secret', 'MachineOSBuild']
  for (const kind of order) {
    if (opts.signal?.aborted) throw opts.signal.reason
    const batch = plan.items.filter((i) => i.kind === kind)
    if (batch.length === 0) continue
    opts.onProgress?.(`deleting ${batch.map((i) => ref(i)).join(', ')}`)
    const outcomes = await Promise.all(batch.map((i) => deleteExactly(client, i, opts.signal)))
    const waits: Array<Promise<void>> = []
    for (const [i, item] of batch.entries()) {
      if (outcomes[i] === 'changed') {
        result.notDeleted.push({object: ref(item), reason: 'it was replaced by a new object of the same name after it was listed'})
        continue
      }

      result.deleted.push(ref(item))
      if (outcomes[i] === 'deleted') deletedUids.add(item.uid)
      if (outcomes[i] === 'deleted' && item.kind === 'Pod') waits.push(waitGone(client, item, opts, result))
    }

    if (waits.length > 0) {
      opts.onProgress?.(`waiting for ${waits.length === 1 ? 'the build pod' : `${waits.length} build pods`} to terminate`)
      await Promise.all(waits)
    }
  }

  for (const fix of plan.pools) {
    if (!fix.exists) continue
    if (opts.signal?.aborted) throw opts.signal.reason
    opts.onProgress?.(`clearing the stuck build state of pool ${fix.pool}`)
    await fixPool(client, fix, deletedUids, opts.signal)
  }
}

async function waitGone(client: KubeClient, item: CleanupItem, opts: CleanupOptions, result: CleanupResult): Promise<void> {
  try {
    await waitFor(client, RESOURCES[item.kind], item.name, (o) => (!o || o.metadata.uid !== item.uid ? true : undefined), {
      namespace: item.namespace,
      signal: opts.signal,
      timeoutMs: opts.podGoneTimeoutMs ?? 120_000,
    })
  } catch (error) {
    if (opts.signal?.aborted) throw error
    result.notDeleted.push({object: ref(item), reason: `still terminating: ${(error as Error).message}`})
  }
}
