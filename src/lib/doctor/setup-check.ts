/**
 * Doctor's registry logins in setup's preflight: with the secrets setup is about to configure, the
 * same needs (`poolNeeds`) and probes (`registryChecks`) as `oc mob doctor`, as preflight checks. A
 * registry this machine cannot reach is a warning (the cluster may reach it), and the in-cluster
 * registry is left to doctor (it needs its route). Secrets that are missing or unusable are the
 * secret checks' to report, so their logins are not tried.
 */
import type {RegistryCheckInput} from '../layering/registry-check.js'
import {isInternalRegistry} from '../layering/preflight.js'
import type {Check} from '../layering/types.js'
import {GLOBAL_PULL_SECRET, MCO_NAMESPACE, OPENSHIFT_CONFIG_NAMESPACE} from '../mco/constants.js'
import {type ImageReference, parseReference} from '../registry/reference.js'
import {DEFAULT_CAS, DEFAULT_TIMEOUT_MS} from './index.js'
import {poolNeeds, registryChecks} from './needs.js'
import {secretInUse} from './secrets.js'
import type {DoctorCheck} from './types.js'

function ref(spec: string | undefined): ImageReference | undefined {
  try {
    return spec ? parseReference(spec) : undefined
  } catch {
    return undefined
  }
}

const VERDICT = {fail: 'fail', ok: 'pass', warn: 'warn'} as const
const TITLE: Record<string, string> = {
  'registry:delete': 'registry delete (pruning)',
  'registry:pull:base': 'registry pull (base image)',
  'registry:pull:nodes': 'registry pull (nodes)',
  'registry:push': 'registry push',
}

/** A row of doctor as a preflight check whose message stands alone (it is the error when it is the one failure). */
function asPreflightCheck(c: DoctorCheck): Check {
  const answer = c.answer && !c.cause.includes(c.answer) ? ` [${c.answer}]` : ''
  return {
    ...(c.login ? {details: [`login: ${c.login}`]} : {}),
    ...(c.next ? {fix: c.next} : {}),
    id: c.id,
    message: `${c.subject}: ${c.cause}${answer}`,
    title: TITLE[c.id] ?? 'registry',
    verdict: VERDICT[c.status],
  }
}

export async function setupRegistryChecks(input: RegistryCheckInput, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Check[]> {
  const final = ref(input.finalPullspec)
  if (!final || final.digest) return [] // the pullspec check says why
  const global = secretInUse('global', GLOBAL_PULL_SECRET, OPENSHIFT_CONFIG_NAMESPACE, input.globalPullSecret)
  const pull = input.pullSecretName
    ? secretInUse('base', input.pullSecretName, MCO_NAMESPACE, input.pullSecret)
    : {...global, label: 'global pull secret (the base image pull secret by default)', role: 'base' as const}
  const push = secretInUse('push', input.pushSecretName, MCO_NAMESPACE, input.pushSecret)
  const needs = poolNeeds({base: ref(input.baseImage), final, global, prunes: input.prunes, pull, push}).filter(
    (n) => !n.secret.problem && !isInternalRegistry(n.image.registry),
  )
  const checks = await registryChecks(needs, {addresses: {}, cas: DEFAULT_CAS, signal: input.signal, timeoutMs, unreachable: 'warn'})
  return checks.map((c) => asPreflightCheck(c))
}
