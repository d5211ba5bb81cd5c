/**
 * `oc mob doctor --fix`: after confirmation, for each pool whose push secret rotates or expires,
 * request a long-lived token of the same service account, store it in a docker config secret of its
 * own, and point the pool's build settings at that secret. The token goes from the API server into
 * the secret and nowhere else.
 */
import {ExitCode, MobError} from '../errors.js'
import {isStatus, type KubeClient} from '../kube/client.js'
import {objectPath, R} from '../kube/resources.js'
import type {Secret} from '../kube/types.js'
import {detectBackend} from '../layering/generation.js'
import {askToProceed} from '../ui/confirm.js'
import type {Term} from '../ui/term.js'
import {LONG_LIVED_SECONDS} from './fix.js'
import type {TokenFix} from './types.js'

interface TokenRequest {
  apiVersion: string
  kind: string
  spec: {expirationSeconds: number; audiences?: string[]}
  status?: {token?: string; expirationTimestamp?: string}
}

export async function applyFixes(
  client: KubeClient,
  fixes: TokenFix[],
  opts: {term: Term; yes?: boolean; signal?: AbortSignal; note: (text: string) => void; describe: (fix: TokenFix) => string},
): Promise<void> {
  if (fixes.length === 0) {
    opts.note('--fix: nothing to fix (no push secret rotates or expires)')
    return
  }

  for (const fix of fixes) {
    opts.note(opts.describe(fix))
    if (
      !(await askToProceed(opts.term, `Create secret ${fix.secret} and switch pool ${fix.pool} to it?`, {
        action: `create secret ${fix.secret} and change pool ${fix.pool}'s push secret`,
        signal: opts.signal,
        yes: opts.yes,
      }))
    ) {
      opts.note(`pool ${fix.pool}: left as it is`)
      continue
    }

    await applyFix(client, fix, opts.signal)
    opts.note(`pool ${fix.pool}: now pushes with ${fix.namespace}/${fix.secret} (a token valid for one year)`)
  }
}

export async function applyFix(client: KubeClient, fix: TokenFix, signal?: AbortSignal): Promise<void> {
  const backend = await detectBackend(client)
  const settings = await backend.readSettings(client, fix.pool)
  if (!settings)
    throw new MobError(`pool ${fix.pool} has no build settings any more`, {
      exitCode: ExitCode.Invalid,
      next: `run \`oc mob setup --pool ${fix.pool}\``,
    })
  const answer = await client
    .request<TokenRequest>({
      body: {apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {expirationSeconds: LONG_LIVED_SECONDS}},
      method: 'POST',
      path: objectPath(R.serviceAccounts, fix.serviceAccount, fix.namespace, 'token'),
      signal,
    })
    .catch((error: unknown) => {
      if (!isStatus(error, 404)) throw error
      throw new MobError(`service account ${fix.namespace}/${fix.serviceAccount}, whose token ${fix.replaces} holds, does not exist`, {
        exitCode: ExitCode.NotFound,
        next: `pick a push secret of a service account that exists (\`oc get sa -n ${fix.namespace}\`) and run \`oc mob setup --pool ${fix.pool} --push-secret SECRET --force\``,
      })
    })
  const token = answer?.status?.token
  if (!token)
    throw new MobError(`the API server returned no token for service account ${fix.namespace}/${fix.serviceAccount}`, {
      exitCode: ExitCode.Failed,
      next: `create it by hand: \`oc create token ${fix.serviceAccount} -n ${fix.namespace} --duration=8760h\``,
    })
  const auth = Buffer.from(`${fix.serviceAccount}:${token}`).toString('base64')
  const config = JSON.stringify({auths: Object.fromEntries(fix.registries.map((h) => [h, {auth}]))})
  const secret: Secret = {
    data: {'.dockerconfigjson': Buffer.from(config).toString('base64')},
    metadata: {annotations: {'oc-mob/long-lived-token-of': fix.serviceAccount}, name: fix.secret, namespace: fix.namespace},
    type: 'kubernetes.io/dockerconfigjson',
  }
  const existing = await client.find<Secret>(R.secrets, fix.secret, fix.namespace, signal)
  await (existing
    ? client.replace(R.secrets, {...secret, metadata: {...secret.metadata, resourceVersion: existing.metadata.resourceVersion}}, {signal})
    : client.create(R.secrets, secret, {signal}))
  const steps = await backend.planSettings(client, {...settings, finalImagePushSecret: fix.secret}, {force: true})
  for (const step of steps) if (step.item.action !== 'unchanged') await step.run()
}
