/**
 * A layered pool's push secret whose token expires within a week, or has expired, as a status
 * problem: read from the JWT's `exp` in the secret (no registry is asked, the token is never shown).
 */
import {heldTokens} from '../doctor/secrets.js'
import type {Secret} from '../kube/types.js'
import {MCO_NAMESPACE} from '../mco/constants.js'
import type {Problem} from './index.js'

const WEEK = 7 * 86_400

export function pushTokenProblems(pool: string, secretName: string, secret: Secret | undefined, now: number): Problem[] {
  if (!secret) return []
  const tokens = heldTokens(secret, now).filter((t) => t.secondsLeft < WEEK)
  return tokens.map((t) => {
    const whose = `the token for ${t.host} in push secret ${MCO_NAMESPACE}/${secretName}${t.serviceAccount ? ` (service account ${t.serviceAccount})` : ''}`
    const expired = t.secondsLeft <= 0
    return {
      message: expired
        ? `pool ${pool}: ${whose} expired ${t.left} ago (${t.expires}): builds cannot push`
        : `pool ${pool}: ${whose} expires in ${t.left} (${t.expires}): builds cannot push after that`,
      next: `replace it with a long-lived token: \`oc mob doctor ${pool} --fix\` (or put fresh credentials in ${secretName})`,
      node: null,
      pool,
      severity: expired ? 'error' : 'warning',
    }
  })
}
