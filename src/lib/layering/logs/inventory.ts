/**
 * What `oc mob logs` chooses from, read with one request per kind, and what each generation's backend
 * answers about a pool's build log.
 */
import type {MobError} from '../../errors.js'
import type {KubeClient} from '../../kube/client.js'
import type {Build, MachineConfigPool, Pod} from '../../kube/types.js'
import type {MachineOSBuild, MachineOSConfig} from '../../mco/machine-os.js'
import type {LogTarget} from '../../logs/target.js'

/** Everything the choice depends on, read with one request per kind. */
export interface Inventory {
  pools: MachineConfigPool[]
  /** Build pods (buildPod label) in the operator's namespace, OpenShift's own build pods left out. */
  pods: Pod[]
  /** OpenShift Builds with the buildPod label (empty when the cluster does not serve Builds). */
  builds: Build[]
  /** imageBuilderType of on-cluster-build-config, the operator's default when absent or empty. */
  builderType: string
  /** 4.18+ (empty where the MachineOSConfig API is not served): MachineOSConfigs, MachineOSBuilds, and the pods of Jobs in the operator's namespace. */
  machineOS: {configs: MachineOSConfig[]; builds: MachineOSBuild[]; pods: Pod[]}
}

/** A build under way whose pod (or Build) does not exist yet: `-f` waits for it. */
export interface AwaitedBuild {
  pool: MachineConfigPool
  /** The state the wait starts in, as the cluster names it (BuildPending, Building, Prepared...). */
  state: string
  wait(client: KubeClient, signal?: AbortSignal): Promise<LogTarget>
}

/** A generation's answers about build logs. */
export interface PoolLogs {
  /** Whether the pool is opted in by this generation's mechanism. */
  optedIn(inv: Inventory, pool: MachineConfigPool): boolean
  /** Names of the pools with a build object of this generation. */
  poolsWithBuilds(inv: Inventory): string[]
  /** The log of the pool's current build, else its most recent one; undefined when it has no build object. */
  target(inv: Inventory, pool: MachineConfigPool, container?: string): LogTarget | undefined
  /** A build under way that has no build object yet (for -f), if any. */
  awaiting(inv: Inventory, pool: MachineConfigPool, container?: string): AwaitedBuild | undefined
  /** Why the pool has no build log, and what to do. */
  noBuild(inv: Inventory, pool: MachineConfigPool): MobError
}
