/**
 * The lookups every command starts with: the MachineConfig API must be served, and a named pool must
 * exist (or the error lists the pools there are).
 */
import {ExitCode, MobError} from '../errors.js'
import type {KubeClient} from '../kube/client.js'
import {discover} from '../kube/discovery.js'
import {R} from '../kube/resources.js'
import type {MachineConfigPool} from '../kube/types.js'

export function noMachineConfigApi(client: KubeClient): MobError {
  return new MobError(`the cluster at ${client.server} does not serve the MachineConfig API (machineconfiguration.openshift.io/v1)`, {
    code: 'NoMachineConfigApi',
    exitCode: ExitCode.Unavailable,
    next: 'on-cluster builds need an OpenShift cluster (4.14 or later) with the Machine Config Operator; check --context',
  })
}

export async function requireMachineConfigApi(client: KubeClient): Promise<void> {
  if (!(await discover(client)).machineConfig) throw noMachineConfigApi(client)
}

/**
 * The error for a pool that does not exist, listing the pools there are; `command` is the oc-mob
 * command the next step suggests running with one of them (a custom pool first: it is the likely typo).
 * Without it, the next step says to run the same command again with one of them.
 */
export function poolNotFound(name: string, pools: MachineConfigPool[], command?: string): MobError {
  const names = pools.map((p) => p.metadata.name!).sort()
  const example = names.find((n) => n !== 'master' && n !== 'worker') ?? names[0]
  const again = command
    ? `run \`oc mob ${command} ${example}\` with one of them`
    : 'run the command again with one of them (`oc mob status` shows each with its state)'
  return new MobError(`pool ${name} not found; pools are: ${names.length > 0 ? names.join(', ') : '(none)'}`, {
    code: 'PoolNotFound',
    exitCode: ExitCode.NotFound,
    next: example ? `${again}, or create the pool with \`oc mob setup\`` : 'create a pool with `oc mob setup`',
  })
}

/** The named pool, or a PoolNotFound error listing the pools there are. */
export async function readPool(client: KubeClient, name: string, command?: string): Promise<MachineConfigPool> {
  const pool = await client.find<MachineConfigPool>(R.machineConfigPools, name)
  if (pool) return pool
  const all = await client.list<MachineConfigPool>(R.machineConfigPools)
  throw poolNotFound(name, all.items, command)
}
