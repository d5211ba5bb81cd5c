/**
 * `oc mob prune POOL --keep N`: old builds of a pool and their images removed. Only the
 * MachineOSConfig generation (4.18+) keeps builds to prune (machine-os/prune.ts); on 4.14/4.15 the
 * builder keeps no build objects after success and deletes no images, so there it is refused.
 */
import {machineOSConfigFor} from '../build/inputs.js'
import {readPool, requireMachineConfigApi} from '../cluster/pools.js'
import {ExitCode, MobError} from '../errors.js'
import type {KubeClient} from '../kube/client.js'
import {discover} from '../kube/discovery.js'
import {checkKeep, type PruneOptions, type PruneResult, pruneMachineOSPool} from './machine-os/prune.js'

export type {KeptBuild, PrunePlan, PruneResult} from './machine-os/prune.js'
export {checkKeep} from './machine-os/prune.js'

export async function prunePool(client: KubeClient, pool: string, opts: PruneOptions): Promise<PruneResult> {
  checkKeep(opts.keep)
  await requireMachineConfigApi(client)
  const machineOS = await machineOSConfigFor(client, pool)
  if (machineOS) return pruneMachineOSPool(client, machineOS.pool, machineOS.config, opts)
  await readPool(client, pool)
  if (!(await discover(client)).machineOS) {
    throw new MobError(
      `the cluster runs the OpenShift 4.14/4.15 generation of on-cluster builds (no MachineOSConfig API): its builder keeps one image per rendered config and no build objects, so \`oc mob prune\` has nothing to delete`,
      {
        code: 'GenerationUnsupported',
        exitCode: ExitCode.Unavailable,
        next: `delete old images in the registry with its own tools (e.g. \`skopeo delete docker://REGISTRY/REPO@DIGEST\`); \`oc mob status ${pool} --history\` lists the images the pool had`,
      },
    )
  }

  throw new MobError(`pool ${pool} has no MachineOSConfig: it has no MachineOSBuilds to prune`, {
    code: 'NotOptedIn',
    exitCode: ExitCode.Invalid,
    next: `opt it in with \`oc mob setup --pool ${pool}\`; \`oc mob status\` shows which pools have one`,
  })
}
