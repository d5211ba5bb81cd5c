/** The machine-os-builder and the logs of the pods in the operator's namespace. */
import type {KubeClient} from '../kube/client.js'
import {R} from '../kube/resources.js'
import type {Pod} from '../kube/types.js'
import {MACHINE_OS_BUILDER, MACHINE_OS_BUILDER_SELECTOR, MCO_NAMESPACE} from '../mco/constants.js'

/**
 * The last lines of a log in the operator's namespace (empty when it cannot be read): a pod
 * container's, or (`build`) an OpenShift Build's.
 */
export async function logTail(
  client: KubeClient,
  name: string,
  container: string | undefined,
  lines = 20,
  previous = false,
  build = false,
): Promise<string[]> {
  try {
    const text = await client.request<string>({
      accept: 'text/plain',
      method: 'GET',
      path: build
        ? `/apis/build.openshift.io/v1/namespaces/${MCO_NAMESPACE}/builds/${encodeURIComponent(name)}/log`
        : `/api/v1/namespaces/${MCO_NAMESPACE}/pods/${encodeURIComponent(name)}/log`,
      query: {container: build ? undefined : container, previous: previous || undefined, tailLines: lines},
    })
    return String(text ?? '')
      .split('\n')
      .filter((l) => l.length > 0)
      .slice(-lines)
  } catch {
    return []
  }
}

export interface BuilderHealth {
  running: boolean
  /** The pod and why it is failing (crash, exit code, CrashLoopBackOff). */
  failing?: {pod: string; why: string; restarted: boolean}
}

/** Whether a machine-os-builder pod runs, or crashes. */
export function builderHealth(pods: Pod[]): BuilderHealth {
  let running = false
  for (const p of pods) {
    if (p.metadata.deletionTimestamp) continue
    const st = p.status?.containerStatuses?.find((c) => c.name === MACHINE_OS_BUILDER) ?? p.status?.containerStatuses?.[0]
    const term = st?.state?.terminated
    const last = st?.lastState?.terminated
    if (term && term.exitCode !== 0)
      return {
        failing: {
          pod: p.metadata.name!,
          restarted: false,
          why: `its container exited with code ${term.exitCode}${term.reason ? ` (${term.reason})` : ''}`,
        },
        running: false,
      }
    if (st?.state?.waiting?.reason === 'CrashLoopBackOff' || (last && last.exitCode !== 0 && !st?.ready)) {
      return {
        failing: {
          pod: p.metadata.name!,
          restarted: true,
          why: `it keeps crashing (${st?.state?.waiting?.reason ?? 'restarted'}${last ? `, last exit code ${last.exitCode}` : ''})`,
        },
        running: false,
      }
    }

    if (p.status?.phase === 'Failed')
      return {failing: {pod: p.metadata.name!, restarted: false, why: p.status.message || 'the pod failed'}, running: false}
    if (p.status?.phase === 'Running' && (st?.ready ?? true)) running = true
  }

  return {running}
}

export const BUILDER_WATCH = {
  labelSelector: MACHINE_OS_BUILDER_SELECTOR,
  namespace: MCO_NAMESPACE,
  resource: R.pods,
} as const

export const BUILDER_DEPLOYMENT_WATCH = {
  fieldSelector: `metadata.name=${MACHINE_OS_BUILDER}`,
  namespace: MCO_NAMESPACE,
  resource: R.deployments,
} as const
