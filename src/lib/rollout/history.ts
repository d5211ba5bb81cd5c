/**
 * Per-pool history of the images oc-mob built or saw built, kept in one ConfigMap in the MCO
 * namespace (one key per pool, a JSON list, newest first), so that `rollback` can point a pool back
 * to an earlier good image. The 4.14 operator keeps no such record: the annotation only holds the
 * newest image.
 */
import {createHash} from 'node:crypto'
import {isStatus, type KubeClient} from '../kube/client.js'
import {R} from '../kube/resources.js'
import type {ConfigMap} from '../kube/types.js'
import {MCO_NAMESPACE} from '../mco/constants.js'

export const HISTORY_CONFIGMAP = 'oc-mob-image-history'
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by'
/** Entries kept per pool. */
export const HISTORY_LIMIT = 25

export interface HistoryEntry {
  /** Digested pullspec. */
  image: string
  renderedConfig: string
  /** ISO time the image was recorded on the pool. */
  time: string
  /** sha256 of the pool's custom Dockerfile at build time ('' when there was none). */
  customDockerfileHash: string
  /** How the entry came to be: built by oc-mob, joined (built by the cluster and followed), or rolled back to. */
  source: 'built' | 'joined' | 'observed' | 'rollback'
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
    return Array.isArray(list) ? list.filter((e): e is HistoryEntry => typeof e?.image === 'string' && typeof e?.renderedConfig === 'string') : []
  } catch {
    return []
  }
}

/** Add an entry at the head of the pool's history (an image already at the head is not repeated). */
export async function recordHistory(client: KubeClient, pool: string, entry: HistoryEntry): Promise<HistoryEntry[]> {
  const add = (current: HistoryEntry[]): HistoryEntry[] => {
    if (current[0]?.image === entry.image && current[0]?.renderedConfig === entry.renderedConfig) return current
    return [entry, ...current].slice(0, HISTORY_LIMIT)
  }

  for (let attempt = 0; attempt < 5; attempt++) {
    const cm = await client.find<ConfigMap>(R.configMaps, HISTORY_CONFIGMAP, MCO_NAMESPACE)
    if (!cm) {
      const list = add([])
      try {
        await client.create<ConfigMap>(R.configMaps, {
          data: {[pool]: JSON.stringify(list)},
          metadata: {labels: {[MANAGED_BY_LABEL]: 'oc-mob'}, name: HISTORY_CONFIGMAP, namespace: MCO_NAMESPACE},
        })
        return list
      } catch (error) {
        if (isStatus(error, 409)) continue
        throw error
      }
    }

    const current = parseHistory(cm.data?.[pool])
    const list = add(current)
    if (list === current) return current
    try {
      await client.replace<ConfigMap>(R.configMaps, {...cm, data: {...cm.data, [pool]: JSON.stringify(list)}})
      return list
    } catch (error) {
      if (!isStatus(error, 409)) throw error
    }
  }

  throw new Error(`could not record the image history of pool ${pool}: too many concurrent updates`)
}
