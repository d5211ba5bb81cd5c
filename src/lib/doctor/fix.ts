/**
 * The fix for a push secret whose token rotates or expires: a long-lived token of the same service
 * account (TokenRequest), in a docker config secret of its own, and the pool's settings pointed at
 * it. Offered as the exact `oc` commands, or made by `oc mob doctor --fix` after confirmation.
 */
import {MCO_NAMESPACE} from '../mco/constants.js'
import {registriesIn} from '../registry/auth.js'
import type {ImageReference} from '../registry/reference.js'
import {isRotatingTokenSecret, type SecretInUse} from './secrets.js'
import type {TokenFix} from './types.js'

/** One year: what the MCO's documentation suggests for the builder's long-lived token. */
export const LONG_LIVED_SECONDS = 365 * 24 * 3600

export function tokenFixFor(opts: {name: string; final: ImageReference; push: SecretInUse}): {plan: TokenFix; text: string} | undefined {
  const {final, name, push} = opts
  if (!push.secret || push.problem || !isRotatingTokenSecret(push.secret)) return undefined
  const sa = push.secret.metadata.annotations?.['kubernetes.io/service-account.name'] ?? 'builder'
  const secret = `${name}-push-token`
  const registries = [...new Set([final.registry, ...registriesIn(push.auths ?? {})])]
  const file = `${secret}.json`
  const commands = [
    `oc registry login --registry ${final.registry} --auth-basic="${sa}:$(oc create token ${sa} -n ${MCO_NAMESPACE} --duration=8760h)" --to=${file}`,
    `oc create secret docker-registry ${secret} -n ${MCO_NAMESPACE} --from-file=.dockerconfigjson=${file}`,
    `oc mob setup --pool ${name} --push-secret ${secret} --force`,
    `rm ${file}`,
  ]
  return {
    plan: {commands, namespace: MCO_NAMESPACE, pool: name, registries, replaces: push.secret.metadata.name!, secret, serviceAccount: sa},
    text: `push with a long-lived token of service account ${sa}: \`oc mob doctor ${name} --fix\`, or by hand: ${commands.map((c) => `\`${c}\``).join('; ')}`,
  }
}
