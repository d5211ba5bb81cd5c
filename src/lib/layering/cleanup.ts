/**
 * `oc mob cleanup`: remove what a failed or abandoned build left behind and unstick the pool, without
 * the seed's label toggle. Each generation plans its own leftovers (configmap/cleanup.ts,
 * machine-os/cleanup.ts) and saves its own evidence; lib/cleanup carries the plan out.
 */
import {type CleanupOptions, type CleanupResult, executeCleanup, runningError} from '../cleanup/index.js'
import type {SavedFiles} from '../cleanup/save.js'
import {type CleanupPlan, type CleanupRole, isEmpty, type PlanOptions} from '../cleanup/types.js'
import {poolNotFound, requireMachineConfigApi} from '../cluster/pools.js'
import type {KubeClient} from '../kube/client.js'
import {discover} from '../kube/discovery.js'
import {R} from '../kube/resources.js'
import type {MachineConfigPool} from '../kube/types.js'
import {planConfigMapCleanup} from './configmap/cleanup.js'
import {saveEvidence} from './configmap/save.js'
import {type MachineOSPlan, planMachineOSPools, readMachineOSObjects} from './machine-os/cleanup.js'
import {saveMachineOSEvidence} from './machine-os/save.js'
import {compareText} from '../order.js'

export type {CleanupOptions, CleanupResult} from '../cleanup/index.js'
export type {CleanupPlan} from '../cleanup/types.js'

export async function planCleanup(client: KubeClient, opts: PlanOptions): Promise<CleanupPlan> {
  await requireMachineConfigApi(client)
  const apis = await discover(client)
  // 4.18+: pools with a MachineOSConfig are cleaned up after their MachineOSBuilds (machine-os/cleanup.ts).
  let machineOS: MachineOSPlan | undefined
  let machineOSPools = new Set<string>()
  if (apis.machineOS) {
    const poolList = await client.list<MachineConfigPool>(R.machineConfigPools, {signal: opts.signal})
    const objs = await readMachineOSObjects(client, poolList.items, opts.signal)
    machineOSPools = new Set(
      objs.configs.map((c) => c.spec?.machineConfigPool?.name ?? '').filter((name) => name && (opts.all || name === opts.pool)),
    )
    machineOS = planMachineOSPools(objs, [...machineOSPools].sort(), {force: opts.force})
    if (opts.pool && !opts.all && machineOSPools.has(opts.pool)) {
      if (!poolList.items.some((p) => p.metadata.name === opts.pool)) throw poolNotFound(opts.pool, poolList.items, 'cleanup')
      return {...machineOS, scope: {all: false, pool: opts.pool}}
    }
  }

  const plan = await planConfigMapCleanup(client, opts, apis)
  if (machineOS) {
    plan.items.push(...machineOS.items)
    plan.kept.push(...machineOS.kept)
    plan.running.push(...machineOS.running)
    plan.pools.push(
      ...machineOS.pools.filter((f) => f.clearAnnotation || (f.notes ?? []).length > 0 || machineOS!.items.some((i) => i.pool === f.pool)),
    )
  }

  const order: CleanupRole[] = [
    'build-pod',
    'build',
    'machineconfig',
    'dockerfile',
    'digest',
    'canonical-secret',
    'job',
    'job-pod',
    'ephemeral',
    'build-secret',
    'machine-os-build',
  ]
  plan.items.sort(
    (a, b) =>
      Number(a.pool === null) - Number(b.pool === null) ||
      compareText(a.pool ?? '', b.pool ?? '') ||
      order.indexOf(a.role) - order.indexOf(b.role) ||
      compareText(a.name, b.name),
  )
  return plan
}

/** Save the evidence of what is about to be deleted, each generation's build objects by its own saver. */
async function saveAll(client: KubeClient, plan: CleanupPlan, dir: string, signal?: AbortSignal): Promise<SavedFiles> {
  const meta = {context: client.context, server: client.server}
  const legacy = plan.items.filter((i) => !i.machineOSBuild)
  const mosb = plan.items.filter((i) => i.machineOSBuild)
  const saved = legacy.length > 0 || mosb.length === 0 ? await saveEvidence(client, dir, legacy, meta, signal) : undefined
  const mos = mosb.length > 0 ? await saveMachineOSEvidence(client, dir, mosb, meta, signal) : undefined
  return saved && mos
    ? {dir: saved.dir, files: [...saved.files, ...mos.files], missing: [...saved.missing, ...mos.missing]}
    : (saved ?? mos)!
}

export async function cleanup(client: KubeClient, opts: CleanupOptions): Promise<CleanupResult> {
  const plan = await planCleanup(client, opts)
  const result: CleanupResult = {
    deleted: [],
    items: plan.items,
    kept: plan.kept,
    notDeleted: [],
    outcome: 'nothing-to-do',
    pools: plan.pools,
    saved: null,
    scope: plan.scope,
  }
  if (plan.running.length > 0 && !opts.force) throw runningError(plan)
  if (isEmpty(plan)) return result
  if (opts.dryRun) return {...result, outcome: 'dry-run'}
  if (opts.confirm && !(await opts.confirm(plan))) return {...result, outcome: 'declined'}
  if (opts.saveDir) {
    opts.onProgress?.(`saving the build objects' Dockerfile, MachineConfig and logs to ${opts.saveDir}`)
    result.saved = await saveAll(client, plan, opts.saveDir, opts.signal)
  }

  await executeCleanup(client, plan, opts, result)
  return {...result, outcome: 'cleaned'}
}
