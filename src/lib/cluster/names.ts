/**
 * Names for shell completion: the pools, nodes and MachineOSBuilds of the cluster, and the contexts
 * of the kubeconfig. Completion must never get in the way: a name list, or nothing.
 */
import type {KubeClient} from '../kube/client.js'
import {discover} from '../kube/discovery.js'
import {R} from '../kube/resources.js'

export const NAME_KINDS = ['pools', 'nodes', 'machineosbuilds'] as const
export type NameKind = (typeof NAME_KINDS)[number]

/** The sorted names of one kind (MachineOSBuilds: none where the cluster does not serve them). */
export async function listNames(client: KubeClient, kind: NameKind, signal?: AbortSignal): Promise<string[]> {
  const r = kind === 'pools' ? R.machineConfigPools : kind === 'nodes' ? R.nodes : R.machineOSBuilds
  if (kind === 'machineosbuilds' && !(await discover(client)).machineOS) return []
  const list = await client.list(r, {signal})
  return list.items.map((o) => o.metadata.name!).sort()
}
