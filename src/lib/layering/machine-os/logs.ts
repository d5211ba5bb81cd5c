/**
 * 4.18+ build logs: a pool with a MachineOSConfig builds in the pods of a Job, `build-<MachineOSBuild>`:
 * the MachineOSBuild of its rendered config first, otherwise its newest, and the Job's newest pod.
 */
import {ExitCode, MobError} from '../../errors.js'
import type {KubeClient} from '../../kube/client.js'
import {discover} from '../../kube/discovery.js'
import {R} from '../../kube/resources.js'
import type {MachineConfigPool, Pod} from '../../kube/types.js'
import {deadline} from '../../kube/wait.js'
import {informer} from '../../kube/watch.js'
import {IMAGE_BUILD_CONTAINER, type LogTarget, pickBuildObject} from '../../logs/target.js'
import {MCO_NAMESPACE} from '../../mco/constants.js'
import {
  buildsOf,
  currentBuild,
  jobOf,
  machineOSConfigOf,
  type MachineOSBuild,
  type MachineOSConfig,
  mosbStatus,
} from '../../mco/machine-os.js'
import {renderedConfig} from '../../mco/pool-state.js'
import type {Inventory, PoolLogs} from '../logs/inventory.js'

/** Kubernetes labels every pod of a Job with the Job's name. */
const JOB_NAME_LABEL = 'job-name'

/** The 4.18+ part of the inventory (empty where the MachineOSConfig API is not served). */
export async function readMachineOSBuilds(client: KubeClient, signal?: AbortSignal): Promise<Inventory['machineOS']> {
  if (!(await discover(client)).machineOS) return {builds: [], configs: [], pods: []}
  const [configs, mosbs, jobPods] = await Promise.all([
    client.list<MachineOSConfig>(R.machineOSConfigs, {signal}),
    client.list<MachineOSBuild>(R.machineOSBuilds, {signal}),
    client.list<Pod>(R.pods, {labelSelector: JOB_NAME_LABEL, namespace: MCO_NAMESPACE, signal}),
  ])
  return {builds: mosbs.items, configs: configs.items, pods: jobPods.items}
}

/** 4.18+: the MachineOSBuild whose log a pool shows (of its rendered config, else its newest), if any. */
export function machineOSBuildOf(inv: Inventory, pool: MachineConfigPool): MachineOSBuild | undefined {
  const config = machineOSConfigOf(inv.machineOS.configs, pool.metadata.name!)
  if (!config) return undefined
  return currentBuild(inv.machineOS.builds, config, renderedConfig(pool)) ?? buildsOf(inv.machineOS.builds, config)[0]
}

function machineOSTarget(inv: Inventory, pool: MachineConfigPool, container?: string): LogTarget | undefined {
  const mosb = machineOSBuildOf(inv, pool)
  if (!mosb) return undefined
  const job = jobOf(mosb)
  const pod = pickBuildObject(
    inv.machineOS.pods.filter((p) => p.metadata.labels?.[JOB_NAME_LABEL] === job),
    undefined,
  )
  if (!pod) return undefined
  return {
    container: container ?? IMAGE_BUILD_CONTAINER,
    kind: 'pod',
    machineOSBuild: mosb.metadata.name,
    name: pod.metadata.name!,
    namespace: MCO_NAMESPACE,
    pod,
    pool: pool.metadata.name,
    poolRendered: renderedConfig(pool),
    rendered: mosb.spec?.machineConfig?.name,
    role: 'build',
  }
}

/** 4.18+: why a pool with a MachineOSConfig has no build pod to read, and what to do. */
export function noMachineOSBuildError(inv: Inventory, pool: MachineConfigPool): MobError {
  const name = pool.metadata.name!
  const config = machineOSConfigOf(inv.machineOS.configs, name)!
  const mosc = config.metadata.name!
  const rebuild = `\`oc mob build ${name} --rebuild --follow\``
  const err = (message: string, next: string, code: string): MobError => new MobError(message, {code, exitCode: ExitCode.NotFound, next})
  const mosb = machineOSBuildOf(inv, pool)
  if (!mosb) {
    return err(
      `pool ${name} has MachineOSConfig ${mosc} but no MachineOSBuild yet, so there is no build log`,
      `the machine-os-builder creates one for the pool's rendered config once the pool is not degraded; \`oc mob status ${name}\` shows where it stands`,
      'NoBuild',
    )
  }

  const b = mosb.metadata.name!
  const job = jobOf(mosb)
  const st = mosbStatus(mosb)
  switch (st.state) {
    case 'succeeded': {
      const image = mosb.status?.digestedImagePushSpec
      return err(
        `MachineOSBuild ${b} of pool ${name} succeeded${image ? ` (image ${image})` : ''} and the machine-os-builder removed its Job ${job}: logs of successful builds are not kept`,
        `\`oc mob status ${name}\` shows the image and the rollout; ${rebuild} builds again`,
        'BuildPodRemoved',
      )
    }

    case 'failed':
    case 'interrupted': {
      return err(
        `MachineOSBuild ${b} of pool ${name} ${st.state === 'failed' ? 'failed' : 'was interrupted'}${st.message ? ` (${st.message})` : ''} and its Job ${job} has no pod left`,
        `\`oc get job -n ${MCO_NAMESPACE} ${job}\` shows what remains; once the cause is fixed, ${rebuild} builds again`,
        'BuildPodRemoved',
      )
    }

    default: {
      return err(
        `MachineOSBuild ${b} of pool ${name} is ${st.state} but its Job ${job} has no pod yet`,
        `\`oc mob logs ${name} -f\` waits for it; \`oc mob status ${name}\` shows where the build stands`,
        'BuildPodMissing',
      )
    }
  }
}

/** 4.18+: wait (watching) for the first pod of a MachineOSBuild's Job, and return it as the target. */
export async function waitForJobPod(
  client: KubeClient,
  base: Omit<LogTarget, 'name' | 'pod'>,
  job: string,
  signal?: AbortSignal,
): Promise<LogTarget> {
  const ac = deadline(signal, undefined)
  try {
    for await (const ev of informer<Pod>(client, R.pods, {labelSelector: `job-name=${job}`, namespace: MCO_NAMESPACE, signal: ac.signal})) {
      const objects = ev.type === 'SYNCED' ? ev.objects : ev.type === 'DELETED' ? [] : [ev.object]
      const pod = objects.find((x) => !x.metadata.deletionTimestamp)
      if (pod) return {...base, name: pod.metadata.name!, pod}
    }

    throw signal?.reason ?? new MobError('interrupted', {exitCode: ExitCode.Interrupted})
  } finally {
    ac.dispose()
  }
}

const hasConfig = (inv: Inventory, pool: MachineConfigPool): boolean =>
  Boolean(machineOSConfigOf(inv.machineOS.configs, pool.metadata.name!))

export const machineOSLogs: PoolLogs = {
  awaiting(inv, pool, container) {
    const mosb = machineOSBuildOf(inv, pool)
    if (!mosb || !['pending', 'running'].includes(mosbStatus(mosb).state)) return undefined
    return {
      pool,
      state: mosbStatus(mosb).condition ?? 'Prepared',
      wait: (client, signal) =>
        waitForJobPod(
          client,
          {
            container: container ?? IMAGE_BUILD_CONTAINER,
            kind: 'pod',
            machineOSBuild: mosb.metadata.name,
            namespace: MCO_NAMESPACE,
            pool: pool.metadata.name,
            poolRendered: renderedConfig(pool),
            rendered: mosb.spec?.machineConfig?.name,
            role: 'build',
          },
          jobOf(mosb),
          signal,
        ),
    }
  },
  noBuild: noMachineOSBuildError,
  optedIn: hasConfig,
  poolsWithBuilds: (inv) => inv.pools.filter((p) => machineOSTarget(inv, p)).map((p) => p.metadata.name!),
  target: (inv, pool, container) => (hasConfig(inv, pool) ? machineOSTarget(inv, pool, container) : undefined),
}
