/**
 * "Can I?" before "do it": every permission a command needs is asked of the API server with a
 * SelfSubjectAccessReview, so that a user without the rights learns all that is missing at once,
 * before anything has been changed.
 */
import {ExitCode} from '../errors.js'
import type {KubeClient} from '../kube/client.js'
import {R} from '../kube/resources.js'
import type {KubeObject} from '../kube/types.js'
import {type Access, type Check, describeAccess} from './types.js'

interface SelfSubjectAccessReview extends KubeObject {
  spec: {resourceAttributes: Access}
  status?: {allowed?: boolean; denied?: boolean; reason?: string}
}

/** The permissions (of `wanted`) the current user does not have. Duplicates are asked once. */
export async function deniedAccess(client: KubeClient, wanted: Access[], signal?: AbortSignal): Promise<Access[]> {
  const unique = new Map<string, Access>()
  for (const a of wanted) unique.set(JSON.stringify([a.verb, a.group, a.resource, a.subresource ?? '', a.namespace ?? '', a.name ?? '']), a)
  const answers = await Promise.all(
    [...unique.values()].map(async (a) => {
      const review = await client.create<SelfSubjectAccessReview>(
        R.selfSubjectAccessReviews,
        {
          metadata: {},
          spec: {
            resourceAttributes: {
              group: a.group,
              name: a.name,
              namespace: a.namespace,
              resource: a.resource,
              subresource: a.subresource,
              verb: a.verb,
            },
          },
        },
        {signal},
      )
      return {access: a, allowed: review?.status?.allowed === true}
    }),
  )
  return answers.filter((x) => !x.allowed).map((x) => x.access)
}

/** The `access` preflight check: pass, or fail listing every missing permission. */
export async function accessCheck(client: KubeClient, wanted: Access[], what: string, signal?: AbortSignal): Promise<Check> {
  const denied = await deniedAccess(client, wanted, signal)
  if (denied.length === 0) {
    return {id: 'access', message: `the current user may ${what}`, title: 'permissions', verdict: 'pass'}
  }

  return {
    details: denied.map((a) => `not allowed to ${describeAccess(a)}`),
    exitCode: ExitCode.Auth,
    fix: 'log in as a cluster administrator (`oc login`, or --context with an admin context) or ask one to grant these permissions',
    id: 'access',
    message: `the current user (context ${client.context}) may not ${what}: ${denied.length} permission${denied.length === 1 ? ' is' : 's are'} missing`,
    title: 'permissions',
    verdict: 'fail',
  }
}
