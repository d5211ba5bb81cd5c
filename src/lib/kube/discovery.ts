/**
 * Which of the API groups oc-mob cares about the cluster serves: from discovery, never inferred from a
 * version string.
 *
 * Asked once per run (kept on the client) and cached on disk between runs the way kubectl caches
 * discovery: under `~/.kube/cache/discovery/<host>_<port>/` (`$OC_MOB_CACHE_DIR/discovery/...` when
 * set), for six hours. A cached answer costs no round trip: the server's /version is asked alongside
 * the command's own first reads, and a new server version drops the cache (`discoveryVerified` says
 * whether the answer used still holds). A 404 for a whole resource type (the server no longer serves
 * it) drops it too. Without a cache, the group list, the MachineConfig group's resources and the
 * version are asked at once: one round trip.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type {KubeClient} from './client.js'
import {MCO_GROUP} from './resources.js'

export interface Discovery {
  /** group/version strings the cluster serves, e.g. `image.openshift.io/v1`. */
  groupVersions: Set<string>
  /** machineconfiguration.openshift.io/v1 (pools and machine configs). */
  machineConfig: boolean
  /** MachineOSConfig / MachineOSBuild (the newer layering API). */
  machineOS: boolean
  /** OSImageStream in machineconfiguration.openshift.io/v1 (5.0/4.23+): the OS streams pools choose from. */
  osImageStream: boolean
  /** image.openshift.io/v1 (ImageStreams: the internal registry). */
  image: boolean
  /** build.openshift.io/v1 (OpenShift Builds: the image-builder backend). */
  build: boolean
  /** machine.openshift.io/v1beta1 (Machines and MachineSets). */
  machine: boolean
  /** config.openshift.io/v1 (ClusterOperators). */
  config: boolean
}

interface APIGroupList {
  groups?: Array<{name: string; versions?: Array<{groupVersion: string}>}>
}

interface APIResourceList {
  resources?: Array<{name: string}>
}

interface VersionInfo {
  gitVersion?: string
}

/** What is kept on disk. */
interface CacheFile {
  serverVersion: string
  groupVersions: string[]
  machineOS: boolean
  /** Absent in caches written before it was asked (such a cache is not used). */
  osImageStream?: boolean
  /** epoch ms */
  fetchedAt: number
}

/** As long as kubectl keeps its discovery cache. */
export const DISCOVERY_TTL_MS = 6 * 60 * 60 * 1000
const FILE = 'oc-mob-discovery.json'

interface Entry {
  found: Promise<Discovery>
  /** true when the answer in `found` holds for the server as it is now. */
  verified: Promise<boolean>
}

const entries = new WeakMap<KubeClient, Entry>()

/** The folder kubectl would use for this server: the host and port, characters other than word, '.', '/' as '_'. */
export function discoveryCacheDir(server: string, env: NodeJS.ProcessEnv = process.env): string {
  const root = env.OC_MOB_CACHE_DIR || path.join(os.homedir(), '.kube', 'cache')
  const host = new URL(server).host.replaceAll(/[^\w/.]/g, '_')
  return path.join(root, 'discovery', host)
}

function cacheFile(client: KubeClient): string {
  return path.join(discoveryCacheDir(client.server), FILE)
}

function readCache(client: KubeClient, now = Date.now()): CacheFile | undefined {
  try {
    const c = JSON.parse(fs.readFileSync(cacheFile(client), 'utf8')) as CacheFile
    if (!Array.isArray(c.groupVersions) || typeof c.serverVersion !== 'string' || typeof c.fetchedAt !== 'number') return undefined
    // Written before OSImageStream was asked: what the cluster serves is asked again once.
    if (typeof c.osImageStream !== 'boolean') return undefined
    if (now - c.fetchedAt > DISCOVERY_TTL_MS || c.fetchedAt > now + 60_000) return undefined
    return c
  } catch {
    return undefined
  }
}

function writeCache(client: KubeClient, c: CacheFile): void {
  writeCacheFile(cacheFile(client), JSON.stringify(c))
}

/**
 * Writes a file of the on-disk cache whole or not at all (a temp file renamed over it). A cache that
 * cannot be written (read-only home) only costs the next run a round trip, so failures are ignored.
 */
export function writeCacheFile(file: string, text: string): void {
  try {
    fs.mkdirSync(path.dirname(file), {mode: 0o750, recursive: true})
    const tmp = `${file}.${process.pid}.tmp`
    fs.writeFileSync(tmp, text, {mode: 0o640})
    fs.renameSync(tmp, file)
  } catch {
    // Nothing to do.
  }
}

/** Forget the cached discovery of the client's server (on disk and for the rest of this run). */
export function forgetDiscovery(client: KubeClient): void {
  entries.delete(client)
  try {
    fs.rmSync(cacheFile(client), {force: true})
  } catch {
    // Nothing to do.
  }
}

function fromGroupVersions(gvs: Set<string>, machineOS: boolean, osImageStream = false): Discovery {
  const machineConfig = gvs.has(`${MCO_GROUP}/v1`)
  return {
    build: gvs.has('build.openshift.io/v1'),
    config: gvs.has('config.openshift.io/v1'),
    groupVersions: gvs,
    image: gvs.has('image.openshift.io/v1'),
    machine: gvs.has('machine.openshift.io/v1beta1'),
    machineConfig,
    machineOS: machineConfig && machineOS,
    osImageStream: machineConfig && osImageStream,
  }
}

/** The three discovery reads at once (one round trip), written to the cache. */
async function fromServer(client: KubeClient): Promise<Discovery> {
  const [list, resources, version] = await Promise.all([
    client.request<APIGroupList>({method: 'GET', path: '/apis'}),
    // 404 where the group is not served: the group list says so too.
    client.request<APIResourceList>({method: 'GET', path: `/apis/${MCO_GROUP}/v1`}).catch((error: unknown) => {
      if ((error as {status?: number}).status === 404) return {resources: []} as APIResourceList
      throw error
    }),
    client.request<VersionInfo>({method: 'GET', path: '/version'}).catch(() => undefined),
  ])
  const gvs = new Set<string>()
  for (const g of list.groups ?? []) for (const v of g.versions ?? []) gvs.add(v.groupVersion)
  const machineOS = (resources.resources ?? []).some((r) => r.name === 'machineosconfigs')
  const osImageStream = (resources.resources ?? []).some((r) => r.name === 'osimagestreams')
  if (version?.gitVersion) {
    writeCache(client, {fetchedAt: Date.now(), groupVersions: [...gvs], machineOS, osImageStream, serverVersion: version.gitVersion})
  }

  return fromGroupVersions(gvs, machineOS, osImageStream)
}

function watchForGoneResources(client: KubeClient): void {
  client.onResourceNotFound = () => forgetDiscovery(client)
}

export function discover(client: KubeClient): Promise<Discovery> {
  let entry = entries.get(client)
  if (!entry) {
    entry = start(client)
    entries.set(client, entry)
    const e = entry
    e.found.catch(() => {
      if (entries.get(client) === e) entries.delete(client)
    })
  }

  return entry.found
}

function start(client: KubeClient): Entry {
  const cached = readCache(client)
  if (!cached) {
    const found = fromServer(client)
    return {found, verified: found.then(() => true)}
  }

  watchForGoneResources(client)
  const found = Promise.resolve(fromGroupVersions(new Set(cached.groupVersions), cached.machineOS, cached.osImageStream))
  const verified = client.request<VersionInfo>({method: 'GET', path: '/version'}).then(
    (v) => {
      if (!v?.gitVersion || v.gitVersion === cached.serverVersion) return true
      // Another server version: what it serves is asked again, for this run and the next.
      forgetDiscovery(client)
      return false
    },
    // No answer to /version: the command's own requests report why; the cache stands.
    () => true,
  )
  // Nobody may ask; the check must not be an unhandled rejection either way.
  verified.catch(() => undefined)
  return {found, verified}
}

/**
 * Whether the discovery this run used still holds: false when the cached answer was for another
 * server version (the cache is then dropped, and `discover` asks the server again).
 */
export function discoveryVerified(client: KubeClient): Promise<boolean> {
  const entry = entries.get(client)
  return entry ? entry.verified : Promise.resolve(true)
}
