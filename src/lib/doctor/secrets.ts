/**
 * The secrets a pool's builds and nodes use, read and parsed once: which registries each covers, the
 * credentials for a registry (for the logins only), and the expiry of the service-account tokens in
 * them. Values never leave this module except as credentials handed to a registry login.
 */
import type {KubeClient} from '../kube/client.js'
import {R} from '../kube/resources.js'
import type {KubeObject, Secret} from '../kube/types.js'
import {GLOBAL_PULL_SECRET, OPENSHIFT_CONFIG_NAMESPACE} from '../mco/constants.js'
import {
  type AuthMap,
  type Credentials,
  credentialsOf,
  DockerSecretError,
  findCredentials,
  parseDockerSecret,
  type ParsedDockerSecret,
  registriesIn,
} from '../registry/auth.js'
import {humanDuration, tokenExpiry} from '../registry/challenge.js'
import type {DoctorCheck} from './types.js'

export type SecretRole = 'base' | 'global' | 'internal' | 'push'

export interface SecretInUse {
  role: SecretRole
  /** e.g. `base image pull secret global-pull-secret-copy`. */
  label: string
  /** Where it lives, e.g. `openshift-machine-config-operator/my-push`. */
  ref: string
  secret?: Secret
  auths?: AuthMap
  parsed?: ParsedDockerSecret
  /** Why it cannot be used (missing, wrong type, not JSON). */
  problem?: string
}

export interface ControllerConfig extends KubeObject {
  spec?: {internalRegistryPullSecret?: string; infra?: {status?: {controlPlaneTopology?: string}}}
}

const ROLE_TITLE: Record<SecretRole, string> = {
  base: 'base image pull secret',
  global: 'global pull secret',
  internal: 'internal-registry pull secret',
  push: 'push secret',
}

export async function readSecret(
  client: KubeClient,
  role: SecretRole,
  name: string,
  namespace: string,
  signal?: AbortSignal,
): Promise<SecretInUse> {
  return secretInUse(role, name, namespace, name ? await client.find<Secret>(R.secrets, name, namespace, signal) : undefined)
}

/** A secret as it was read (`secret` undefined: it does not exist), parsed for the checks. */
export function secretInUse(role: SecretRole, name: string, namespace: string, secret: Secret | undefined): SecretInUse {
  const use: SecretInUse = {label: `${ROLE_TITLE[role]} ${name}`, ref: `${namespace}/${name}`, role}
  if (!name) return {...use, label: ROLE_TITLE[role], problem: `no ${ROLE_TITLE[role]} is set`}
  use.secret = secret
  if (!use.secret) return {...use, problem: `secret ${name} does not exist in ${namespace}`}
  try {
    use.parsed = parseDockerSecret(use.secret)
    use.auths = use.parsed.auths
  } catch (error) {
    if (!(error instanceof DockerSecretError)) throw error
    use.problem = error.message
  }

  return use
}

/** The internal registry's pull secret as the operator hands it to nodes (ControllerConfig), when there is one. */
export function internalPullSecret(cc: ControllerConfig | undefined): SecretInUse | undefined {
  const raw = cc?.spec?.internalRegistryPullSecret
  if (!raw) return undefined
  const use: SecretInUse = {
    label: 'internal-registry pull secret',
    ref: 'ControllerConfig machine-config-controller .spec.internalRegistryPullSecret',
    role: 'internal',
  }
  try {
    const parsed = JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as {auths?: AuthMap}
    use.auths = parsed.auths && typeof parsed.auths === 'object' ? parsed.auths : (parsed as AuthMap)
  } catch {
    use.problem = 'its content is not a valid docker config (JSON)'
  }

  return use
}

export function globalPullSecret(client: KubeClient, signal?: AbortSignal): Promise<SecretInUse> {
  return readSecret(client, 'global', GLOBAL_PULL_SECRET, OPENSHIFT_CONFIG_NAMESPACE, signal)
}

/** The credentials `use` holds for a registry (and repository), or undefined. */
export function credentialsIn(auths: AuthMap | undefined, host: string, repository: string): Credentials | undefined {
  if (!auths) return undefined
  const key = findCredentials(auths, host, repository)
  return key ? credentialsOf(auths[key]) : undefined
}

/** The row for one secret: usable, and which registries it covers; or why not. */
export function secretCheck(use: SecretInUse, fixHint: string): DoctorCheck {
  const id = `secret:${use.role}`
  if (use.problem) {
    return {cause: use.problem, id, next: fixHint, section: 'secrets', status: 'fail', subject: `${use.label} (${use.ref})`}
  }

  const hosts = registriesIn(use.auths ?? {})
  const kind = use.parsed
    ? `${use.parsed.type}${use.parsed.legacyContent || use.parsed.key === '.dockercfg' ? ' (legacy content: the operator canonicalises it)' : ''}`
    : 'docker config'
  return {
    cause: `${kind}; credentials for ${hosts.length > 0 ? hosts.join(', ') : '(no registry)'}`,
    id,
    section: 'secrets',
    status: hosts.length > 0 ? 'ok' : 'warn',
    subject: `${use.label} (${use.ref})`,
    ...(hosts.length > 0 ? {} : {next: `add registry credentials to ${use.ref}`}),
  }
}

const DAY = 86_400

/** Is this one of the builder service account's dockercfg secrets (rotated by the cluster)? */
export function isRotatingTokenSecret(secret: Secret | undefined): boolean {
  if (!secret) return false
  const a = secret.metadata.annotations ?? {}
  return (secret.metadata.name ?? '').includes('-dockercfg-') || Boolean(a['openshift.io/internal-registry-auth-token.service-account'])
}

export interface TokenFinding {
  check: DoctorCheck
  /** The service account the token belongs to, when it is one. */
  serviceAccount?: string
  /** The finding calls for a long-lived token. */
  wantsLongLived: boolean
}

/** Expiry of the tokens `use` holds for `hosts` (JWT `exp`; the token itself is never shown). */
export function tokenChecks(
  use: SecretInUse,
  hosts: Array<{host: string; repository: string}>,
  fixText: string,
  now = Date.now(),
): TokenFinding[] {
  const out: TokenFinding[] = []
  const seen = new Set<string>()
  for (const {host, repository} of hosts) {
    const key = use.auths ? findCredentials(use.auths, host, repository) : undefined
    if (!key || seen.has(key)) continue
    seen.add(key)
    const c = credentialsOf(use.auths![key])
    const token = c?.password ?? c?.identityToken ?? c?.registryToken ?? ''
    const exp = tokenExpiry(token, now)
    const rotating = isRotatingTokenSecret(use.secret)
    const sa = exp.subject?.startsWith('system:serviceaccount:')
      ? exp.subject.split(':').slice(2).join('/')
      : use.secret?.metadata.annotations?.['kubernetes.io/service-account.name']
    const subject = `${use.label}: token for ${host}`
    const id = `token:${use.role}`
    if (!exp.jwt && !rotating) continue
    if (exp.secondsLeft !== undefined && exp.secondsLeft <= 0) {
      out.push({
        check: {
          cause: `the token${sa ? ` of service account ${sa}` : ''} expired ${humanDuration(-exp.secondsLeft)} ago (${exp.expires})`,
          id,
          next: fixText,
          section: 'tokens',
          status: 'fail',
          subject,
        },
        serviceAccount: sa,
        wantsLongLived: true,
      })
    } else if (exp.secondsLeft !== undefined && exp.secondsLeft < DAY) {
      out.push({
        check: {
          cause: `the token${sa ? ` of service account ${sa}` : ''} expires in ${humanDuration(exp.secondsLeft)} (${exp.expires})${rotating ? '; builder-dockercfg-* tokens are rotated about hourly and copies of them go stale' : ''}`,
          id,
          next: fixText,
          section: 'tokens',
          status: 'warn',
          subject,
        },
        serviceAccount: sa,
        wantsLongLived: true,
      })
    } else if (rotating && use.role === 'push') {
      out.push({
        check: {
          cause: `${use.secret?.metadata.name} is a service-account token secret that the cluster rotates; the copies the builder makes of it go stale and pushes start failing${exp.expires ? ` (this token expires ${exp.expires})` : ''}`,
          id,
          next: fixText,
          section: 'tokens',
          status: 'warn',
          subject,
        },
        serviceAccount: sa ?? 'builder',
        wantsLongLived: true,
      })
    } else {
      out.push({
        check: {
          cause: exp.expires ? `expires in ${humanDuration(exp.secondsLeft!)} (${exp.expires})` : 'a token without an expiry',
          id,
          section: 'tokens',
          status: 'ok',
          subject,
        },
        serviceAccount: sa,
        wantsLongLived: false,
      })
    }
  }

  return out
}

export interface HeldToken {
  /** The registry the token is for. */
  host: string
  /** When it expires (ISO 8601). */
  expires: string
  /** Seconds left (negative once expired). */
  secondsLeft: number
  /** The time left (or since it expired) for people, e.g. `3d 4h`. */
  left: string
  /** `namespace/name` of the service account it belongs to, when it is one's. */
  serviceAccount?: string
}

/** The tokens with an expiry (JWT `exp`) that a docker config secret holds, one per registry; never the tokens themselves. */
export function heldTokens(secret: Secret, now = Date.now()): HeldToken[] {
  let auths: AuthMap
  try {
    auths = parseDockerSecret(secret).auths
  } catch (error) {
    if (error instanceof DockerSecretError) return []
    throw error
  }

  const out: HeldToken[] = []
  for (const host of Object.keys(auths)) {
    const c = credentialsOf(auths[host])
    const exp = tokenExpiry(c?.password ?? c?.identityToken ?? c?.registryToken ?? '', now)
    if (exp.expires === undefined || exp.secondsLeft === undefined) continue
    const sa = exp.subject?.startsWith('system:serviceaccount:') ? exp.subject.split(':').slice(2).join('/') : undefined
    out.push({
      expires: exp.expires,
      host,
      left: humanDuration(exp.secondsLeft),
      secondsLeft: exp.secondsLeft,
      ...(sa ? {serviceAccount: sa} : {}),
    })
  }

  return out
}
