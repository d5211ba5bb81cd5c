/**
 * What oc-mob needs of each registry (pull the base image, nodes pull the built image, push it,
 * delete for pruning), each proved with a real login using the secret that will be used for it. All
 * probes run at once; each request is time-boxed, so one registry that does not answer only fails its
 * own rows.
 */
import type {Action} from '../registry/challenge.js'
import type {TrustedCAs} from '../registry/http.js'
import {type ProbeResult, RegistrySession} from '../registry/session.js'
import {isInternalRegistry} from '../layering/preflight.js'
import type {ImageReference} from '../registry/reference.js'
import {credentialsIn, type SecretInUse} from './secrets.js'
import type {DoctorCheck, DoctorStatus} from './types.js'

export interface Need {
  action: Action
  image: ImageReference
  /** Why, for people: "the base OS image". */
  purpose: string
  secret: SecretInUse
}

export interface ProbeOptions {
  timeoutMs: number
  cas: TrustedCAs
  addresses: Record<string, string>
  signal?: AbortSignal
  /** What a registry that cannot be reached from here is (default fail; setup: warn, the cluster may reach it). */
  unreachable?: DoctorStatus
}

/**
 * What a pool's builds and nodes need of the registries, each with the secret that will be used: pull
 * the base image (base image pull secret), pull the built image's repository as nodes do (the global
 * pull secret, with the internal registry's where the image lives there), push to it (push secret),
 * and delete from it where the generation prunes.
 */
export function poolNeeds(o: {
  base?: ImageReference
  final: ImageReference
  pull: SecretInUse
  push: SecretInUse
  global: SecretInUse
  internal?: SecretInUse
  prunes: boolean
}): Need[] {
  const {final, global, internal} = o
  const nodesSee: SecretInUse =
    internal && isInternalRegistry(final.registry) && !internal.problem
      ? {
          ...global,
          auths: {...global.auths, ...internal.auths},
          label: 'global pull secret + internal-registry pull secret (as nodes see them)',
          problem: global.problem,
        }
      : {...global, label: 'global pull secret (as nodes see it)'}
  // The tag of the final pullspec is replaced by each build's: the repository is what matters.
  const repo = {...final, digest: undefined, tag: undefined}
  const needs: Need[] = []
  if (o.base) needs.push({action: 'pull', image: o.base, purpose: 'the base OS image', secret: o.pull})
  needs.push({action: 'pull', image: repo, purpose: 'the built image, as nodes pull it', secret: nodesSee})
  needs.push({action: 'push', image: repo, purpose: 'the built image', secret: o.push})
  if (o.prunes && !isInternalRegistry(final.registry))
    needs.push({action: 'delete', image: repo, purpose: 'pruning old images', secret: o.push})
  return needs
}

const VERB: Record<Action, string> = {delete: 'delete from', pull: 'pull', push: 'push to'}

function verdict(
  need: Need,
  r: ProbeResult,
  hasCreds: boolean,
  unreachable: DoctorStatus = 'fail',
): {status: DoctorStatus; cause: string; next?: string} {
  const {image, secret} = need
  const host = image.registry
  const where = `${host}/${image.repository}`
  const noCreds = hasCreds ? '' : ` (${secret.label} has no credentials for ${host}, so this was tried anonymously)`
  const addCreds = `add credentials for ${host} with ${need.action} rights to ${secret.ref}`
  if (r.status === 'unreachable') {
    if (isInternalRegistry(host)) {
      return {
        cause: `the in-cluster registry is not reachable from here: ${r.answer}`,
        next: `expose its route (\`oc patch configs.imageregistry.operator.openshift.io/cluster --type=merge -p '{"spec":{"defaultRoute":true}}'\`) and run again with --registry-address ${host}=$(oc get route default-route -n openshift-image-registry -o jsonpath='{.spec.host}')`,
        status: 'warn',
      }
    }

    return {
      cause: `not reachable: ${r.answer}`,
      next: r.answer.includes('TLS')
        ? `give the registry's CA with --registry-ca FILE (nodes and builds trust it through the cluster's additional trust bundle)`
        : `check that ${host} is up and reachable from here (proxy, firewall, DNS)`,
      status: unreachable,
    }
  }

  if (r.status === 'ok') {
    const ok: Record<Action, string> = {
      delete: 'deletes are permitted and enabled: pruning can remove old images',
      pull: `may pull ${where}`,
      push: `may push to ${where} (an upload was opened and cancelled; nothing was pushed)`,
    }
    return {
      cause: ok[need.action] + noCreds,
      status: hasCreds ? 'ok' : 'warn',
      ...(hasCreds ? {} : {next: `fine while ${host} allows anonymous ${need.action}; otherwise ${addCreds}`}),
    }
  }

  if (r.status === 'missing') {
    if (need.action === 'pull' && (image.digest || image.tag)) {
      return {
        cause: `${where}@${image.digest ?? image.tag} does not exist (or is hidden from these credentials)${noCreds}`,
        next: 'check the image reference and the credentials',
        status: 'fail',
      }
    }

    return {
      cause: `may pull from ${host}; the repository ${image.repository} does not exist yet (the first push creates it)${noCreds}`,
      status: 'ok',
    }
  }

  if (r.status === 'unsupported') {
    return {
      cause: `the registry has deletes disabled: pruning deletes nothing and images accumulate`,
      next: `enable deletes on ${host} (distribution: storage.delete.enabled: true), or prune it by hand`,
      status: 'warn',
    }
  }

  const refused = r.status === 'denied'
  const cause = refused ? `refused${noCreds}` : 'the registry answered with an error'
  if (need.action === 'delete') {
    return {
      cause: `${cause}: pruning will fail (the builder only logs it) and images accumulate`,
      next: refused ? `${addCreds}, or prune by hand` : `check ${host}`,
      status: 'warn',
    }
  }

  return {cause, next: refused ? addCreds : `check ${host}`, status: 'fail'}
}

export async function registryChecks(needs: Need[], opts: ProbeOptions): Promise<DoctorCheck[]> {
  const sessions = new Map<string, RegistrySession>()
  const done = new Map<string, Promise<DoctorCheck>>()
  for (const need of needs) {
    const {image, secret} = need
    const key = JSON.stringify([need.action, image.registry, image.repository, image.digest ?? image.tag ?? '', secret.ref, secret.label])
    if (done.has(key)) continue
    const subject = `${VERB[need.action]} ${image.registry}/${image.repository} (${need.purpose}) with ${secret.label}`
    const id = `registry:${need.action}${need.action === 'pull' && need.purpose.startsWith('the base') ? ':base' : need.action === 'pull' ? ':nodes' : ''}`
    if (secret.problem) {
      done.set(
        key,
        Promise.resolve({
          cause: `not tried: ${secret.ref} is not usable (${secret.problem})`,
          id,
          next: `fix ${secret.ref} first`,
          section: 'registries',
          status: 'fail',
          subject,
        }),
      )
      continue
    }

    const creds = credentialsIn(secret.auths, image.registry, image.repository)
    const sessionKey = JSON.stringify([image.registry, secret.ref, secret.label, image.repository])
    let session = sessions.get(sessionKey)
    if (!session) {
      session = new RegistrySession(image.registry, creds, {
        address: opts.addresses[image.registry],
        cas: opts.cas,
        signal: opts.signal,
        timeoutMs: opts.timeoutMs,
      })
      sessions.set(sessionKey, session)
    }

    const s = session
    done.set(
      key,
      (async () => {
        const r =
          need.action === 'pull'
            ? await s.pull(image.repository, image.digest ?? image.tag)
            : need.action === 'push'
              ? await s.push(image.repository)
              : await s.delete(image.repository)
        return {
          ...verdict(need, r, Boolean(creds), opts.unreachable),
          answer: r.answer,
          id,
          login: r.login,
          section: 'registries' as const,
          subject,
        }
      })(),
    )
  }

  return Promise.all(done.values())
}
