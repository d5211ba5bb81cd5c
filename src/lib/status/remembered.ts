/**
 * The names of the push secrets the last `status` of a server read, remembered beside the discovery
 * cache (names only, never values), so the next run reads them at once, in the same round trip as
 * its lists, instead of after them. A name that changed since is read after the lists as before.
 */
import fs from 'node:fs'
import path from 'node:path'
import {discoveryCacheDir, writeCacheFile} from '../kube/discovery.js'

const FILE = 'oc-mob-status-secrets.json'

/** The key of a status view: one pool, or all of them (''). */
type View = string

const fileOf = (server: string): string => path.join(discoveryCacheDir(server), FILE)

function readAll(server: string): Record<View, string[]> {
  try {
    const parsed = JSON.parse(fs.readFileSync(fileOf(server), 'utf8')) as unknown
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return {}
    const out: Record<View, string[]> = {}
    for (const [k, v] of Object.entries(parsed)) if (Array.isArray(v) && v.every((n) => typeof n === 'string')) out[k] = v as string[]
    return out
  } catch {
    return {}
  }
}

/** The push secret names the last status of this view read (empty when none is remembered). */
export function rememberedPushSecrets(server: string, pool: string | undefined): string[] {
  return readAll(server)[pool ?? ''] ?? []
}

/** Remember the names this view read. */
export function rememberPushSecrets(server: string, pool: string | undefined, names: string[]): void {
  const all = readAll(server)
  const key = pool ?? ''
  const sorted = [...names].sort()
  if (JSON.stringify(all[key] ?? []) === JSON.stringify(sorted)) return
  all[key] = sorted
  // Only the views of the most recent pools: the file stays small.
  const keep = Object.fromEntries(Object.entries(all).slice(-20))
  writeCacheFile(fileOf(server), JSON.stringify(keep))
}
