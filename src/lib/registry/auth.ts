/**
 * Docker config credentials in Kubernetes secrets: which secret types and keys hold them, and
 * whether they hold credentials for a given registry. Values are never returned for display.
 */
import type {Secret} from '../kube/types.js'

export const DOCKER_CONFIG_JSON = 'kubernetes.io/dockerconfigjson'
export const DOCKER_CFG = 'kubernetes.io/dockercfg'

export interface AuthEntry {
  auth?: string
  username?: string
  password?: string
  identitytoken?: string
  registrytoken?: string
}

export type AuthMap = Record<string, AuthEntry>

export interface ParsedDockerSecret {
  type: typeof DOCKER_CFG | typeof DOCKER_CONFIG_JSON
  key: '.dockercfg' | '.dockerconfigjson'
  auths: AuthMap
  /** A .dockerconfigjson without a top-level "auths" (legacy content) that the operator canonicalises. */
  legacyContent: boolean
}

export class DockerSecretError extends Error {}

/** The data key the operator reads for each docker secret type. */
export function dockerSecretKey(type: string | undefined): '.dockercfg' | '.dockerconfigjson' | undefined {
  if (type === DOCKER_CONFIG_JSON) return '.dockerconfigjson'
  if (type === DOCKER_CFG) return '.dockercfg'
  return undefined
}

export function parseDockerSecret(secret: Secret): ParsedDockerSecret {
  const name = secret.metadata.name
  const key = dockerSecretKey(secret.type)
  if (!key) {
    throw new DockerSecretError(`secret ${name} has type ${secret.type ?? '(none)'}; it must be ${DOCKER_CONFIG_JSON} or ${DOCKER_CFG}`)
  }

  const raw = secret.data?.[key]
  if (!raw) throw new DockerSecretError(`secret ${name} (type ${secret.type}) has no ${key} data`)
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64').toString('utf8'))
  } catch {
    throw new DockerSecretError(`secret ${name}: the ${key} data is not valid JSON`)
  }

  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new DockerSecretError(`secret ${name}: the ${key} data is not a JSON object`)
  }

  const obj = parsed as Record<string, unknown>
  if (key === '.dockerconfigjson' && obj.auths && typeof obj.auths === 'object') {
    return {auths: obj.auths as AuthMap, key, legacyContent: false, type: DOCKER_CONFIG_JSON}
  }

  // .dockercfg content (and legacy .dockerconfigjson content) is the auths map itself.
  return {
    auths: obj as AuthMap,
    key,
    legacyContent: key === '.dockerconfigjson',
    type: key === '.dockercfg' ? DOCKER_CFG : DOCKER_CONFIG_JSON,
  }
}

const DOCKER_HUB = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com'])

/** The host[:port] (and path) an auths key stands for: scheme and trailing /v1/ or /v2/ removed. */
function normaliseKey(key: string): {host: string; path: string} {
  let k = key.trim().replace(/^[a-z]+:\/\//i, '')
  k = k.replace(/\/v[12]\/?$/, '').replace(/\/+$/, '')
  const slash = k.indexOf('/')
  const host = (slash < 0 ? k : k.slice(0, slash)).toLowerCase()
  return {host: DOCKER_HUB.has(host) ? 'docker.io' : host, path: slash < 0 ? '' : k.slice(slash + 1)}
}

function usable(e: AuthEntry | undefined): boolean {
  if (!e || typeof e !== 'object') return false
  if (e.auth) {
    const decoded = Buffer.from(e.auth, 'base64').toString('utf8')
    return decoded.includes(':') && decoded.length > 1
  }

  return Boolean((e.username && e.password) || e.identitytoken || e.registrytoken)
}

/**
 * The auths key whose credentials apply to `registry` (host[:port]) and `repository`, the way
 * container tools look them up: the longest matching key, most specific path first.
 */
export function findCredentials(auths: AuthMap, registry: string, repository = ''): string | undefined {
  const want = normaliseKey(registry).host
  let best: {key: string; len: number} | undefined
  for (const [key, entry] of Object.entries(auths)) {
    if (!usable(entry)) continue
    const k = normaliseKey(key)
    if (k.host !== want) continue
    if (k.path && !(repository === k.path || repository.startsWith(k.path + '/'))) continue
    if (!best || k.path.length > best.len) best = {key, len: k.path.length}
  }

  return best?.key
}

/** Registries named in a secret (for messages; never credentials). */
export function registriesIn(auths: AuthMap): string[] {
  return Object.keys(auths)
    .map((k) => normaliseKey(k).host + (normaliseKey(k).path ? `/${normaliseKey(k).path}` : ''))
    .sort()
}

/** `{"auths": {...}}` as the operator writes into a `<name>-canonical` secret. */
export function canonicalDockerConfig(auths: AuthMap): string {
  return JSON.stringify({auths})
}

/** What an auths entry logs in with (for registry requests only; never for display). */
export interface Credentials {
  username?: string
  password?: string
  /** An OAuth2 refresh token (docker's `identitytoken`). */
  identityToken?: string
  /** A bearer token sent as is (docker's `registrytoken`). */
  registryToken?: string
}

export function credentialsOf(entry: AuthEntry): Credentials | undefined {
  if (!usable(entry)) return undefined
  if (entry.identitytoken) return {identityToken: entry.identitytoken, username: entry.username}
  if (entry.registrytoken) return {registryToken: entry.registrytoken}
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    return {password: decoded.slice(colon + 1), username: decoded.slice(0, colon)}
  }

  return {password: entry.password, username: entry.username}
}

/**
 * The registry credentials of a docker config file (`~/.docker/config.json`, podman's `auth.json`, or
 * what `oc registry login --to` writes) as the `.dockerconfigjson` of a secret: `{"auths": {...}}` with
 * only the entries that hold credentials. Credential stores and helpers keep theirs outside the file,
 * so a file that only names them is refused with that reason. Never returns anything for display.
 */
export function dockerConfigFromFile(text: string, file: string): {json: string; registries: string[]} {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new DockerSecretError(`${file} is not a docker config file: it is not valid JSON`)
  }

  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new DockerSecretError(`${file} is not a docker config file: it is not a JSON object`)
  }

  const obj = parsed as Record<string, unknown>
  const auths = (obj.auths && typeof obj.auths === 'object' ? obj.auths : {}) as AuthMap
  const usableAuths = Object.fromEntries(Object.entries(auths).filter(([, e]) => usable(e)))
  if (Object.keys(usableAuths).length === 0) {
    const store = obj.credsStore || (obj.credHelpers && Object.keys(obj.credHelpers).length > 0)
    throw new DockerSecretError(
      store
        ? `${file} keeps its credentials in a credential store (${obj.credsStore ? `credsStore ${String(obj.credsStore)}` : 'credHelpers'}), not in the file`
        : `${file} holds no registry credentials (no "auths" entry with auth, username and password, or a token)`,
    )
  }

  return {json: canonicalDockerConfig(usableAuths), registries: registriesIn(usableAuths)}
}
