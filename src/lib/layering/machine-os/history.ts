/**
 * 4.18+: what oc-mob's image history (cluster/history.ts) keeps of a pool's MachineOSBuilds. Each
 * successful build is recorded with its image; the MachineOSConfig spec that produced it is recorded
 * only while that build is provably the MachineOSConfig's current one (the current-machine-os-build
 * annotation names it, status.currentImagePullSpec is its image, and status.observedGeneration is the
 * spec's generation), because a MachineOSBuild does not carry the spec it was made from. Rollback
 * restores that spec (machine-os/rollback.ts).
 */
import {dockerfileHash, type Observation, recordObserved} from '../../cluster/history.js'
import type {KubeClient} from '../../kube/client.js'
import {R} from '../../kube/resources.js'
import {
  buildsOf,
  CURRENT_MOSB_ANNOTATION,
  type MachineOSBuild,
  type MachineOSConfig,
  machineOSConfigOf,
  mosbStatus,
} from '../../mco/machine-os.js'
import {compareText} from '../../order.js'

/** The NoArch custom Containerfile of a MachineOSConfig spec ('' when none). */
export function containerfileOf(spec: MachineOSConfig['spec']): string {
  return spec?.containerFile?.find((f) => (f.containerfileArch ?? 'NoArch') === 'NoArch')?.content ?? ''
}

/** Whether the MachineOSConfig's spec is the one its current build (named `build`) was made from. */
export function specProducedBuild(mosc: MachineOSConfig, build: MachineOSBuild): boolean {
  const image = build.status?.digestedImagePushSpec
  return (
    mosc.metadata.annotations?.[CURRENT_MOSB_ANNOTATION] === build.metadata.name &&
    Boolean(image) &&
    mosc.status?.currentImagePullSpec === image &&
    mosc.status?.observedGeneration !== undefined &&
    mosc.status.observedGeneration === mosc.metadata.generation
  )
}

/** The successful builds of a MachineOSConfig as history observations, oldest first (so the newest ends at the head). */
export function machineOSObservations(pool: string, mosc: MachineOSConfig, mosbs: MachineOSBuild[]): Observation[] {
  const out: Array<Observation & {order: string}> = []
  for (const b of buildsOf(mosbs, mosc)) {
    const image = b.status?.digestedImagePushSpec
    if (!image || mosbStatus(b).state !== 'succeeded' || b.metadata.deletionTimestamp) continue
    const o: Observation & {order: string} = {
      image,
      machineOSBuild: b.metadata.name!,
      order: b.status?.buildEnd ?? b.metadata.creationTimestamp ?? '',
      pool,
      renderedConfig: b.spec?.machineConfig?.name ?? '',
      time: b.status?.buildEnd ?? b.metadata.creationTimestamp,
    }
    if (specProducedBuild(mosc, b)) o.machineOSConfigSpec = mosc.spec
    out.push(o)
  }

  return out.sort((a, b) => compareText(a.order, b.order)).map(({order: _order, ...o}) => o)
}

/** The custom Containerfile's hash for an entry recorded with a spec. */
export const specDockerfileHash = (spec: MachineOSConfig['spec']): string => dockerfileHash(containerfileOf(spec) || undefined)

/**
 * Record the pool's successful MachineOSBuilds that its history does not know yet (and the spec of
 * the current one); quietly nothing when the history cannot be written (a reader without rights).
 */
export async function recordMachineOSHistory(
  client: KubeClient,
  pool: string,
  known?: {mosc?: MachineOSConfig; mosbs?: MachineOSBuild[]},
  signal?: AbortSignal,
): Promise<void> {
  try {
    const mosc = known?.mosc ?? machineOSConfigOf((await client.list<MachineOSConfig>(R.machineOSConfigs, {signal})).items, pool)
    if (!mosc) return
    const mosbs = known?.mosbs ?? (await client.list<MachineOSBuild>(R.machineOSBuilds, {signal})).items
    await recordObserved(client, machineOSObservations(pool, mosc, mosbs))
  } catch (error) {
    if (signal?.aborted) throw error
    // The history is a convenience of rollback: a user who may not write it still builds and reads.
  }
}
