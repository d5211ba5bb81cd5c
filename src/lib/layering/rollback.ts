/**
 * `oc mob rollback POOL`, by the mechanism that opted the pool in. A pool opted in by the label
 * (4.14/4.15) is pointed back at an earlier image of oc-mob's history (configmap/rollback.ts). A pool
 * with a MachineOSConfig (4.18+) takes its image from its MachineOSBuilds, which oc-mob does not yet
 * roll back: that is refused with the steps that work (exit 10) before anything is read or changed.
 */
import {requireMachineConfigApi} from '../cluster/pools.js'
import {ExitCode, MobError} from '../errors.js'
import type {KubeClient} from '../kube/client.js'
import {machineOSConfigFor} from '../build/inputs.js'
import {REBUILD_ANNOTATION} from '../mco/machine-os.js'
import {type PoolRollbackOptions, type PoolRollbackResult, rollbackConfigMapPool} from './configmap/rollback.js'

export type {PoolRollbackPlan, PoolRollbackResult} from './configmap/rollback.js'

export async function rollbackPool(client: KubeClient, pool: string, opts: PoolRollbackOptions = {}): Promise<PoolRollbackResult> {
  await requireMachineConfigApi(client)
  const machineOS = await machineOSConfigFor(client, pool)
  if (!machineOS) return rollbackConfigMapPool(client, pool, opts)
  const mosc = machineOS.config.metadata.name!
  throw new MobError(
    `pool ${pool} is built by the machine-os-builder from MachineOSConfig ${mosc} (OpenShift 4.18+), which \`oc mob rollback\` does not drive`,
    {
      code: 'GenerationUnsupported',
      exitCode: ExitCode.Unavailable,
      next: `build it in the cluster with \`oc mob build ${pool} --rebuild\` (the ${REBUILD_ANNOTATION} annotation), follow it with \`oc mob logs ${pool} -f\`; its Containerfile is in \`oc get machineosconfig ${mosc} -o yaml\``,
    },
  )
}
