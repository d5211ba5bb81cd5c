// A throw-away container registry on the loopback interface for the simulated
// cluster: Debian's docker-registry (CNCF distribution 2.8) with a generated
// config, plus a few helpers that talk the registry HTTP API directly so tests
// can inspect what builds pushed without needing skopeo.
import {spawn, type ChildProcess} from 'node:child_process'
import {createHash, randomBytes} from 'node:crypto'
import {closeSync, openSync} from 'node:fs'
import {mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import {execa} from 'execa'
import {which} from './tools.js'

export interface RegistryAuth {
  user: string
  password: string
}

export interface Registry {
  /** `127.0.0.1:PORT`, the registry part of image references. */
  host: string
  /** `http://127.0.0.1:PORT` */
  url: string
  /** Directory holding the config, the log and (under `data/`) the stored blobs. */
  dir: string
  /** Docker config JSON (`{"auths": {host: {auth}}}`) with the credentials, when auth is enabled. */
  authfile?: string
  auth?: RegistryAuth
  pid: number
  /** Kills the registry and waits until the process is reaped; removes `dir` unless it was given. */
  stop(): Promise<void>
}

export interface StartRegistryOptions {
  auth?: RegistryAuth
  /** Keep config and data here (created if missing, never removed); default: a fresh temp dir. */
  dir?: string
  /** Fixed port; default: a free one, retried on collision. */
  port?: number
  /** Manifest deletes enabled (default true); false makes the registry answer deletes with 405 UNSUPPORTED. */
  deletes?: boolean
}

const REGISTRY_BIN = '/usr/bin/docker-registry'

/** True when Debian's docker-registry is installed. */
export async function registryAvailable(): Promise<boolean> {
  return Boolean(await which('docker-registry'))
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const {port} = srv.address() as net.AddressInfo
      srv.close(() => resolve(port))
    })
  })
}

async function htpasswdLine(user: string, password: string): Promise<string> {
  if (!(await which('htpasswd'))) throw new Error('htpasswd not found (install the Debian package "apache2-utils")')
  const {stdout} = await execa('htpasswd', ['-Bbn', user, password])
  return stdout.trim() + '\n'
}

function registryConfig(dir: string, port: number, withAuth: boolean, deletes = true): string {
  const lines = [
    'version: 0.1',
    'log:',
    '  level: info',
    '  accesslog:',
    '    disabled: true',
    '  fields:',
    '    service: oc-mob-loopback-registry',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${JSON.stringify(path.join(dir, 'data'))}`,
    '  delete:',
    `    enabled: ${deletes}`,
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    `  secret: ${randomBytes(16).toString('hex')}`,
    '  headers:',
    '    X-Content-Type-Options: [nosniff]',
  ]
  if (withAuth) {
    lines.push('auth:', '  htpasswd:', '    realm: oc-mob', `    path: ${JSON.stringify(path.join(dir, 'htpasswd'))}`)
  }
  return lines.join('\n') + '\n'
}

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

async function tail(file: string, n = 15): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trimEnd().split('\n').slice(-n).join('\n')
  } catch {
    return ''
  }
}

/** Docker config JSON granting `auth` on `host` (an empty `auths` map without credentials). */
export function dockerConfigJson(host: string, auth?: RegistryAuth): string {
  const auths: Record<string, {auth: string}> = {}
  if (auth) auths[host] = {auth: Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}
  return JSON.stringify({auths}, null, 2) + '\n'
}

export async function startRegistry(opts: StartRegistryOptions = {}): Promise<Registry> {
  if (!(await registryAvailable())) throw new Error('docker-registry not found (install the Debian package "docker-registry")')
  const ownDir = !opts.dir
  const dir = opts.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'oc-mob-registry-')))
  try {
    await mkdir(path.join(dir, 'data'), {recursive: true})
    if (opts.auth) await writeFile(path.join(dir, 'htpasswd'), await htpasswdLine(opts.auth.user, opts.auth.password))
    const attempts = opts.port ? 1 : 8
    let lastError: Error | undefined
    for (let attempt = 0; attempt < attempts; attempt++) {
      const port = opts.port ?? (await freePort())
      const configPath = path.join(dir, 'config.yml')
      await writeFile(configPath, registryConfig(dir, port, Boolean(opts.auth), opts.deletes ?? true))
      const logPath = path.join(dir, 'registry.log')
      const logFd = openSync(logPath, 'a')
      let child: ChildProcess
      try {
        child = spawn(REGISTRY_BIN, ['serve', configPath], {stdio: ['ignore', logFd, logFd], env: {PATH: '/usr/sbin:/usr/bin:/sbin:/bin'}})
      } finally {
        closeSync(logFd)
      }
      const spawnError = new Promise<Error>((resolve) => child.once('error', resolve))
      const host = `127.0.0.1:${port}`
      const url = `http://${host}`
      const up = await waitUntilServing(url, child, spawnError, logPath)
      if (up === true) {
        let authfile: string | undefined
        if (opts.auth) {
          authfile = path.join(dir, 'auth.json')
          await writeFile(authfile, dockerConfigJson(host, opts.auth), {mode: 0o600})
        }
        let stopping: Promise<void> | undefined
        const stop = () =>
          (stopping ??= (async () => {
            if (child.exitCode === null && child.signalCode === null) {
              child.kill('SIGTERM')
              const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
              await waitExit(child)
              clearTimeout(timer)
            }
            if (ownDir) await rm(dir, {recursive: true, force: true})
          })())
        return {host, url, dir, authfile, auth: opts.auth, pid: child.pid!, stop}
      }
      // make sure a half-started registry is gone before retrying
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL')
        await waitExit(child)
      }
      const log = await tail(logPath)
      lastError = new Error(`docker-registry did not start on ${host}: ${up.message}${log ? `\n${log}` : ''}`)
      if (!/address already in use/.test(log)) break
    }
    throw lastError ?? new Error('docker-registry did not start')
  } catch (error) {
    if (ownDir) await rm(dir, {recursive: true, force: true})
    throw error
  }
}

async function waitUntilServing(
  url: string,
  child: ChildProcess,
  spawnError: Promise<Error>,
  logPath: string,
  timeoutMs = 15_000,
): Promise<true | Error> {
  let exited = false
  const onExit = () => (exited = true)
  child.once('exit', onExit)
  const deadline = Date.now() + timeoutMs
  const listening = `listening on ${new URL(url).host}`
  let bound = false
  try {
    while (Date.now() < deadline) {
      const failed = await Promise.race([spawnError, new Promise<undefined>((r) => setTimeout(() => r(undefined), 20))])
      if (failed) return failed
      if (exited || child.exitCode !== null) return new Error(`exited with ${child.exitCode ?? child.signalCode}`)
      // Only trust an answer once our own process says it bound the port: another
      // process may have taken the port between picking it and the registry starting.
      bound ||= (await readFile(logPath, 'utf8').catch(() => '')).includes(listening)
      if (!bound) continue
      try {
        const res = await fetch(`${url}/v2/`, {signal: AbortSignal.timeout(1000)})
        await res.arrayBuffer()
        // 200 without auth, 401 with htpasswd: either way it is the registry answering
        if ((res.status === 200 || res.status === 401) && res.headers.get('docker-distribution-api-version')) return true
      } catch {}
    }
    return new Error(`no answer from ${url}/v2/ within ${timeoutMs} ms`)
  } finally {
    child.off('exit', onExit)
  }
}

// ---------------------------------------------------------------------------
// Registry HTTP API (distribution spec) helpers

const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ')

type RegistryLike = Pick<Registry, 'url' | 'auth'>

function authHeaders(reg: RegistryLike): Record<string, string> {
  return reg.auth ? {authorization: `Basic ${Buffer.from(`${reg.auth.user}:${reg.auth.password}`).toString('base64')}`} : {}
}

async function registryFetch(reg: RegistryLike, pathOrUrl: string, init: RequestInit = {}): Promise<Response> {
  const target = /^https?:/.test(pathOrUrl) ? pathOrUrl : `${reg.url}${pathOrUrl}`
  return fetch(target, {...init, headers: {...authHeaders(reg), ...(init.headers as Record<string, string>)}})
}

async function failure(res: Response, what: string): Promise<Error> {
  const body = await res.text().catch(() => '')
  return new Error(`${what}: HTTP ${res.status}${body ? ` ${body.trim()}` : ''}`)
}

interface OciDescriptor {
  mediaType: string
  digest: string
  size: number
  annotations?: Record<string, string>
}

interface ImageManifest {
  schemaVersion: number
  mediaType?: string
  config: OciDescriptor
  layers: OciDescriptor[]
  annotations?: Record<string, string>
}

export interface ManifestInfo {
  /** `Docker-Content-Digest` of the manifest (the digest a push reports). */
  digest: string
  mediaType: string
  manifest: ImageManifest
  raw: Buffer
}

/** GETs a manifest by tag or digest (OCI or docker v2 schema 2). */
export async function getManifest(reg: RegistryLike, repo: string, reference: string): Promise<ManifestInfo> {
  const res = await registryFetch(reg, `/v2/${repo}/manifests/${reference}`, {headers: {accept: MANIFEST_ACCEPT}})
  if (!res.ok) throw await failure(res, `GET manifest ${repo}:${reference}`)
  const raw = Buffer.from(await res.arrayBuffer())
  const digest = res.headers.get('docker-content-digest') ?? `sha256:${createHash('sha256').update(raw).digest('hex')}`
  const manifest = JSON.parse(raw.toString('utf8')) as ImageManifest
  return {digest, mediaType: res.headers.get('content-type') ?? manifest.mediaType ?? '', manifest, raw}
}

/** Only the `Docker-Content-Digest` of a tag (HEAD request), or undefined when the tag does not exist. */
export async function manifestDigest(reg: RegistryLike, repo: string, reference: string): Promise<string | undefined> {
  const res = await registryFetch(reg, `/v2/${repo}/manifests/${reference}`, {method: 'HEAD', headers: {accept: MANIFEST_ACCEPT}})
  if (res.status === 404) return undefined
  if (!res.ok) throw await failure(res, `HEAD manifest ${repo}:${reference}`)
  return res.headers.get('docker-content-digest') ?? undefined
}

export async function getBlob(reg: RegistryLike, repo: string, digest: string): Promise<Buffer> {
  const res = await registryFetch(reg, `/v2/${repo}/blobs/${digest}`)
  if (!res.ok) throw await failure(res, `GET blob ${repo}@${digest}`)
  return Buffer.from(await res.arrayBuffer())
}

interface ImageConfig {
  architecture?: string
  os?: string
  config?: {Labels?: Record<string, string>; Env?: string[]; Cmd?: string[]; Entrypoint?: string[]; WorkingDir?: string}
  rootfs?: {type: string; diff_ids: string[]}
  history?: unknown[]
}

export interface ImageInfo extends ManifestInfo {
  config: ImageConfig
  labels: Record<string, string>
}

/** Manifest digest, config and labels of `repo:reference`. */
export async function inspectImage(reg: RegistryLike, repo: string, reference: string): Promise<ImageInfo> {
  const info = await getManifest(reg, repo, reference)
  if (!info.manifest.config) throw new Error(`${repo}:${reference} is an index (${info.mediaType}), not an image manifest`)
  const config = JSON.parse((await getBlob(reg, repo, info.manifest.config.digest)).toString('utf8')) as ImageConfig
  return {...info, config, labels: config.config?.Labels ?? {}}
}

/** Tags of a repository ([] when the repository does not exist). */
export async function listTags(reg: RegistryLike, repo: string): Promise<string[]> {
  const res = await registryFetch(reg, `/v2/${repo}/tags/list`)
  if (res.status === 404) return []
  if (!res.ok) throw await failure(res, `GET tags of ${repo}`)
  return ((await res.json()) as {tags?: string[] | null}).tags ?? []
}

async function blobExists(reg: RegistryLike, repo: string, digest: string): Promise<boolean> {
  const res = await registryFetch(reg, `/v2/${repo}/blobs/${digest}`, {method: 'HEAD'})
  return res.ok
}

/** Uploads a blob (monolithic upload); a blob already present is skipped. */
export async function putBlob(reg: RegistryLike, repo: string, data: Buffer, digest?: string): Promise<string> {
  const d = digest ?? `sha256:${createHash('sha256').update(data).digest('hex')}`
  if (await blobExists(reg, repo, d)) return d
  const start = await registryFetch(reg, `/v2/${repo}/blobs/uploads/`, {method: 'POST'})
  await start.arrayBuffer()
  if (start.status !== 202) throw await failure(start, `start blob upload to ${repo}`)
  const location = new URL(start.headers.get('location') ?? '', `${reg.url}/`)
  location.searchParams.set('digest', d)
  const put = await registryFetch(reg, location.toString(), {
    method: 'PUT',
    headers: {'content-type': 'application/octet-stream', 'content-length': String(data.length)},
    body: data,
  })
  await put.arrayBuffer()
  if (put.status !== 201) throw await failure(put, `upload blob ${d} to ${repo}`)
  return d
}

/** PUTs a manifest under `reference`, returning the registry's digest for it. */
export async function putManifest(reg: RegistryLike, repo: string, reference: string, raw: Buffer, mediaType: string): Promise<string> {
  const res = await registryFetch(reg, `/v2/${repo}/manifests/${reference}`, {
    method: 'PUT',
    headers: {'content-type': mediaType},
    body: raw,
  })
  await res.arrayBuffer()
  if (res.status !== 201) throw await failure(res, `PUT manifest ${repo}:${reference}`)
  return res.headers.get('docker-content-digest') ?? `sha256:${createHash('sha256').update(raw).digest('hex')}`
}

/**
 * Copies the single image of an OCI image layout directory (as written by
 * `buildah push IMAGE oci:DIR`) to `repo:tag`, byte for byte, so the digest is
 * the same on every registry it is copied to.
 */
export async function pushOciLayout(reg: RegistryLike, layoutDir: string, repo: string, tag: string): Promise<string> {
  const index = JSON.parse(await readFile(path.join(layoutDir, 'index.json'), 'utf8')) as {manifests: OciDescriptor[]}
  if (index.manifests.length !== 1) throw new Error(`${layoutDir}: expected one manifest in index.json, found ${index.manifests.length}`)
  const blobPath = (digest: string) => path.join(layoutDir, 'blobs', ...digest.split(':'))
  const desc = index.manifests[0]
  const raw = await readFile(blobPath(desc.digest))
  const manifest = JSON.parse(raw.toString('utf8')) as ImageManifest
  for (const blob of [manifest.config, ...manifest.layers]) {
    await putBlob(reg, repo, await readFile(blobPath(blob.digest)), blob.digest)
  }
  return putManifest(reg, repo, tag, raw, manifest.mediaType ?? desc.mediaType)
}

/** Splits `host:port/some/repo:tag` or `host/repo@sha256:...` into its parts. */
export function parseReference(ref: string): {host: string; repo: string; tag?: string; digest?: string} {
  const slash = ref.indexOf('/')
  if (slash < 0) throw new Error(`image reference ${ref} has no registry host`)
  const host = ref.slice(0, slash)
  let rest = ref.slice(slash + 1)
  let digest: string | undefined
  let tag: string | undefined
  const at = rest.indexOf('@')
  if (at >= 0) {
    digest = rest.slice(at + 1)
    rest = rest.slice(0, at)
  }
  const colon = rest.lastIndexOf(':')
  if (colon >= 0) {
    tag = rest.slice(colon + 1)
    rest = rest.slice(0, colon)
  }
  return {host, repo: rest, tag, digest}
}
