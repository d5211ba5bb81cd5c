/**
 * Per-pool history of the images oc-mob built or saw built, kept in one ConfigMap in the MCO
 * namespace (one key per pool, a JSON list, newest first), so that `rollback` can point a pool back
 * to an earlier good image. The 4.14 operator keeps no such record: the annotation only holds the
 * newest image.
 *
 * Entries come from `oc mob build` (built, joined), from `oc mob status` and `oc mob rollback` when
 * they see an image on a pool that the history does not know yet (observed), and from
 * `oc mob rollback` itself (rollback, naming the image it replaced).
 */
import {createHash} from 'node:crypto'
import {ExitCode, MobError} from '../errors.js'
import {isStatus, type KubeClient} from '../kube/client.js'
import {R} from '../kube/resources.js'
import type {ConfigMap} from '../kube/types.js'
import {MCO_NAMESPACE} from '../mco/constants.js'
import type {MachineOSConfig} from '../mco/machine-os.js'

export const HISTORY_CONFIGMAP = 'oc-mob-image-history'
const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by'
/** Entries kept per pool. */
export const HISTORY_LIMIT = 25

export interface HistoryEntry {
  /** Digested pullspec. */
  image: string
  /** The rendered config the image was built from ('' when that is not known). */
  renderedConfig: string
  /** ISO time the image was recorded on the pool. */
  time: string
  /** sha256 of the pool's custom Dockerfile at build time ('' when there was none or it is not known). */
  customDockerfileHash: string
  /** How the entry came to be: built by oc-mob, joined (built by the cluster and followed), seen on the pool, or rolled back to. */
  source: 'built' | 'joined' | 'observed' | 'rollback'
  /** For rollback entries: the image the pool had before, which the rollback moved away from. */
  replaced?: string
  /** 4.18+: the MachineOSBuild that built the image. */
  machineOSBuild?: string
  /**
   * 4.18+: the MachineOSConfig spec the image was built from, recorded while that build was the
   * MachineOSConfig's current one (absent when oc-mob never saw it so).
   */
  machineOSConfigSpec?: MachineOSConfig['spec']
}

export function dockerfileHash(custom: string | undefined): string {
  return custom ? createHash('sha256').update(custom).digest('hex') : ''
}

export async function readHistory(client: KubeClient, pool: string): Promise<HistoryEntry[]> {
  const cm = await client.find<ConfigMap>(R.configMaps, HISTORY_CONFIGMAP, MCO_NAMESPACE)
  return parseHistory(cm?.data?.[pool])
}

export function parseHistory(text: string | undefined): HistoryEntry[] {
  if (!text) return []
  try {
    const list = JSON.parse(text) as unknown
    return Array.isArray(list)
      ? list.filter((e): e is HistoryEntry => typeof e?.image === 'string' && typeof e?.renderedConfig === 'string')
      : []
  } catch {
    return []
  }
}

/** Every pool's history from the ConfigMap (an absent ConfigMap is an empty history). */
export function parseHistoryConfigMap(cm: ConfigMap | undefined): Record<string, HistoryEntry[]> {
  const out: Record<string, HistoryEntry[]> = {}
  for (const [pool, text] of Object.entries(cm?.data ?? {})) out[pool] = parseHistory(text)
  return out
}

/** The list with the entry added at its head (an image already at the head is not repeated). */
export function addEntry(current: HistoryEntry[], entry: HistoryEntry): HistoryEntry[] {
  const head = current[0]
  if (head?.image === entry.image && head?.renderedConfig === entry.renderedConfig) {
    // A build recorded right after someone observed its image upgrades the weaker record.
    if (head.source === 'observed' && entry.source !== 'observed') return [entry, ...current.slice(1)]
    if (entry.source !== 'rollback') return current
  }

  return [entry, ...current].slice(0, HISTORY_LIMIT)
}

/**
 * One read-modify-write of the history ConfigMap for several pools at once, retried on conflict;
 * created (labelled as oc-mob's) when missing. Returns the new lists of the pools written.
 */
async function updateHistory(
  client: KubeClient,
  change: (all: Record<string, HistoryEntry[]>) => string[],
): Promise<{all: Record<string, HistoryEntry[]>; changed: string[]}> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const cm = await client.find<ConfigMap>(R.configMaps, HISTORY_CONFIGMAP, MCO_NAMESPACE)
    const all = parseHistoryConfigMap(cm)
    const changed = change(all)
    if (changed.length === 0) return {all, changed}
    const data: Record<string, string> = {...cm?.data}
    for (const pool of changed) data[pool] = JSON.stringify(all[pool])
    try {
      if (cm) await client.replace<ConfigMap>(R.configMaps, {...cm, data})
      else {
        await client.create<ConfigMap>(R.configMaps, {
          data,
          metadata: {labels: {[MANAGED_BY_LABEL]: 'oc-mob'}, name: HISTORY_CONFIGMAP, namespace: MCO_NAMESPACE},
        })
      }

      return {all, changed}
    } catch (error) {
      if (!isStatus(error, 409)) throw error
    }
  }

  throw new MobError(`could not record the image history: too many concurrent updates of ConfigMap ${HISTORY_CONFIGMAP}`, {
    code: 'HistoryConflict',
    exitCode: ExitCode.Failed,
    next: `something else keeps changing ${HISTORY_CONFIGMAP} in ${MCO_NAMESPACE}; run the command again`,
  })
}

/** Add an entry at the head of the pool's history (an image already at the head is not repeated). */
export async function recordHistory(client: KubeClient, pool: string, entry: HistoryEntry): Promise<HistoryEntry[]> {
  const {all} = await updateHistory(client, (lists) => {
    const current = lists[pool] ?? []
    const next = addEntry(current, entry)
    if (next === current) return []
    lists[pool] = next
    return [pool]
  })
  return all[pool] ?? []
}

export interface Observation {
  pool: string
  image: string
  renderedConfig: string
  /** 4.18+: the MachineOSBuild that built it. */
  machineOSBuild?: string
  /** 4.18+: the MachineOSConfig spec known to have produced it. */
  machineOSConfigSpec?: MachineOSConfig['spec']
  /** When it was built (default: now). */
  time?: string
  /** How it was seen (default observed). */
  source?: HistoryEntry['source']
}

/** Whether recording the observation would add to the pool's history: a new image, or what an entry of it lacks. */
export function teaches(entries: HistoryEntry[], o: Observation): boolean {
  const same = entries.filter((e) => e.image === o.image)
  if (same.length === 0) return true
  return same.some(
    (e) =>
      (o.machineOSConfigSpec !== undefined && e.machineOSConfigSpec === undefined) ||
      (o.machineOSBuild !== undefined && e.machineOSBuild === undefined),
  )
}

/**
 * Record images seen on pools that their history does not know yet, as `observed` entries, in one
 * write. Images already in a pool's history are left alone, except that a MachineOSConfig spec or
 * MachineOSBuild learnt since is added to their entries. Returns the pools written.
 */
export async function recordObserved(client: KubeClient, seen: Observation[], now = new Date()): Promise<string[]> {
  if (seen.length === 0) return []
  const {changed: written} = await updateHistory(client, (all) => {
    const changed = new Set<string>()
    for (const pool of new Set(seen.map((o) => o.pool))) {
      const current = all[pool] ?? []
      const next = withObservations(
        current,
        seen.filter((o) => o.pool === pool),
        now,
      )
      if (next === current) continue
      all[pool] = next
      changed.add(pool)
    }

    return [...changed]
  })
  return written
}

/**
 * A pool's history with observations of it added (the same list when they teach it nothing): new
 * images at the head, in the order given; what an entry of a known image lacks filled in.
 */
export function withObservations(entries: HistoryEntry[], seen: Observation[], now = new Date()): HistoryEntry[] {
  let list = entries
  for (const o of seen) {
    if (!teaches(list, o)) continue
    if (list.some((e) => e.image === o.image)) {
      list = list.map((e) =>
        e.image === o.image && teaches([e], o)
          ? {
              ...e,
              machineOSBuild: e.machineOSBuild ?? o.machineOSBuild,
              machineOSConfigSpec: e.machineOSConfigSpec ?? o.machineOSConfigSpec,
              renderedConfig: e.renderedConfig || o.renderedConfig,
            }
          : e,
      )
      continue
    }

    const entry: HistoryEntry = {
      customDockerfileHash: '',
      image: o.image,
      renderedConfig: o.renderedConfig,
      source: o.source ?? 'observed',
      time: o.time ?? now.toISOString(),
    }
    if (o.machineOSBuild) entry.machineOSBuild = o.machineOSBuild
    if (o.machineOSConfigSpec) entry.machineOSConfigSpec = o.machineOSConfigSpec
    list = addEntry(list, entry)
  }

  return list
}

/** Images a rollback moved away from: not offered again as the default target. */
export function rolledBackFrom(entries: HistoryEntry[]): Set<string> {
  return new Set(entries.filter((e) => e.source === 'rollback' && e.replaced).map((e) => e.replaced!))
}

/**
 * The default rollback target: the newest entry for the rendered config that is not the current
 * image and was not itself rolled away from. Returns its index in the list.
 */
export function previousGood(entries: HistoryEntry[], renderedConfig: string, currentImage: string | undefined): number | undefined {
  const bad = rolledBackFrom(entries)
  const i = entries.findIndex((e) => e.renderedConfig === renderedConfig && e.image !== currentImage && !bad.has(e.image))
  return i >= 0 ? i : undefined
}

/** The digest part of a pullspec (`sha256:…`), or the whole text when it has none. */
export function digestOf(image: string): string {
  const at = image.lastIndexOf('@')
  return at >= 0 ? image.slice(at + 1) : image
}

/**
 * Find a history entry from what a user typed: N (the entry N places back, as `oc mob status POOL
 * --history` numbers them, 0 = the newest; at most six digits), a full digested pullspec, a digest
 * (`sha256:…`) or at least 7 leading hex digits of one. Several entries of the same image are one match (the newest).
 */
export function findEntry(entries: HistoryEntry[], ref: string, pool: string): number {
  const text = ref.trim()
  // Up to six digits is a place in the history; seven or more are the start of a digest that happens
  // to have no letter in it (about 1 in 100 ten-character prefixes), as `--to` takes either.
  if (/^\d{1,6}$/.test(text)) {
    const n = Number(text)
    if (n >= entries.length) {
      throw new MobError(
        `the history has ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'} (0 to ${entries.length - 1}); there is no entry ${n}`,
        {
          exitCode: ExitCode.Invalid,
          next: `list them with \`oc mob status ${pool} --history\``,
        },
      )
    }

    return n
  }

  const hex = text.replace(/^sha256:/, '')
  const matches = (e: HistoryEntry): boolean => {
    if (e.image === text) return true
    const digest = digestOf(e.image)
    if (digest === text) return true
    return /^[0-9a-f]{7,64}$/.test(hex) && digest.startsWith(`sha256:${hex}`)
  }

  const images = new Set(entries.filter((e) => matches(e)).map((e) => e.image))
  if (images.size === 0) {
    throw new MobError(`no image in the history matches "${ref}"`, {
      exitCode: ExitCode.Invalid,
      next: `list the history with \`oc mob status ${pool} --history\` and use an entry number or a digest from it`,
    })
  }

  if (images.size > 1) {
    throw new MobError(`"${ref}" matches ${images.size} different images in the history`, {
      details: [...images].map((i) => `- ${i}`),
      exitCode: ExitCode.Invalid,
      next: 'give more digits, or the entry number',
    })
  }

  return entries.findIndex((e) => matches(e))
}
