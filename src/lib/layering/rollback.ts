/**
 * `oc mob rollback POOL`, by the mechanism that opted the pool in. A pool opted in by the label
 * (4.14/4.15) is pointed back at an earlier image of oc-mob's history (configmap/rollback.ts). A pool
 * with a MachineOSConfig (4.18+) gets back the MachineOSConfig spec that produced an earlier build,
 * so that the machine-os-builder reuses that build's image (machine-os/rollback.ts).
 */
import {requireMachineConfigApi} from '../cluster/pools.js'
import {readHistory} from '../cluster/history.js'
import type {KubeClient} from '../kube/client.js'
import {machineOSConfigFor} from '../build/inputs.js'
import {
  type PoolRollbackOptions as ConfigMapOptions,
  type PoolRollbackResult as ConfigMapResult,
  rollbackConfigMapPool,
} from './configmap/rollback.js'
import {type MachineOSRollbackOptions, type MachineOSRollbackResult, rollbackMachineOSPool} from './machine-os/rollback.js'
import type {PoolRollbackPlan as ConfigMapPlan} from './configmap/rollback.js'
import type {MachineOSRollbackPlan} from './machine-os/rollback.js'

export type {MachineOSRollbackPlan, MachineOSRollbackResult} from './machine-os/rollback.js'
export type {ConfigMapPlan, ConfigMapResult}

export type PoolRollbackPlan = ConfigMapPlan | MachineOSRollbackPlan
export type PoolRollbackResult = ConfigMapResult | MachineOSRollbackResult

export type PoolRollbackOptions = Omit<ConfigMapOptions, 'confirm'> &
  Omit<MachineOSRollbackOptions, 'confirm'> & {confirm?: (plan: PoolRollbackPlan) => Promise<boolean>}

/** Whether a plan is of a MachineOSConfig pool (4.18+). */
export const isMachineOSPlan = (plan: PoolRollbackPlan): plan is MachineOSRollbackPlan => 'machineOSConfig' in plan

export async function rollbackPool(client: KubeClient, pool: string, opts: PoolRollbackOptions = {}): Promise<PoolRollbackResult> {
  await requireMachineConfigApi(client)
  const machineOS = await machineOSConfigFor(client, pool)
  if (!machineOS) return rollbackConfigMapPool(client, pool, opts)
  return rollbackMachineOSPool(client, machineOS.pool, machineOS.config, await readHistory(client, pool), opts)
}
