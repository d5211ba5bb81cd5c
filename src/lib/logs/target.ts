/**
 * What a log is read from: a pod's container or an OpenShift Build, chosen by the pool's layering
 * backend (lib/layering) or the machine-os-builder's pod; and the choice among build objects.
 */
import {ExitCode, MobError} from '../errors.js'
import type {KubeClient} from '../kube/client.js'
import {R} from '../kube/resources.js'
import type {Build, KubeObject, Pod} from '../kube/types.js'
import {buildNames, MACHINE_OS_BUILDER_SELECTOR, MCO_NAMESPACE} from '../mco/constants.js'
import {compareText} from '../order.js'

/** The containers of the operator's build pod (4.14/4.15). */
export const IMAGE_BUILD_CONTAINER = 'image-build'
export const WAIT_FOR_DONE_CONTAINER = 'wait-for-done'

/** Label OpenShift puts on the pods it runs for a Build: those are read through builds/log instead. */
export const OPENSHIFT_BUILD_NAME_LABEL = 'openshift.io/build.name'

export interface LogTarget {
  /** `pod`: pods/log of one container; `build`: builds/log of an OpenShift Build. */
  kind: 'build' | 'pod'
  /** `build`: a pool's image build; `builder`: the machine-os-builder. */
  role: 'build' | 'builder'
  name: string
  namespace: string
  /** Pods only: the container whose log is read. */
  container?: string
  /** The pool the build is for (not set for the machine-os-builder). */
  pool?: string
  /** The rendered MachineConfig the build is for (its desiredConfig label). */
  rendered?: string
  /** The rendered MachineConfig the pool targets now (spec.configuration.name). */
  poolRendered?: string
  /** The object as it was when it was chosen. */
  pod?: Pod
  build?: Build
  /** 4.18+: the MachineOSBuild whose Job's pod this is. */
  machineOSBuild?: string
}

/** True when the target builds another rendered config than the one its pool targets now. */
export function isStale(t: LogTarget): boolean {
  return t.role === 'build' && Boolean(t.rendered) && Boolean(t.poolRendered) && t.rendered !== t.poolRendered
}

/** `build-<rendered>` when it is there, otherwise the most recently created object. */
export function pickBuildObject<T extends KubeObject>(objects: T[], rendered: string | undefined): T | undefined {
  if (rendered) {
    const current = objects.find((o) => o.metadata.name === buildNames(rendered).build)
    if (current) return current
  }

  return [...objects].sort((a, b) => {
    const ta = Date.parse(a.metadata.creationTimestamp ?? '') || 0
    const tb = Date.parse(b.metadata.creationTimestamp ?? '') || 0
    return tb - ta || compareText(b.metadata.name ?? '', a.metadata.name ?? '')
  })[0]
}

export function severalPoolsError(pools: string[]): MobError {
  return new MobError(`several pools have builds: ${pools.join(', ')}; name one`, {
    code: 'SeveralPools',
    exitCode: ExitCode.Usage,
    next: `run \`oc mob logs ${pools[0]}\`, or \`oc mob logs --all\` for all of them (each line prefixed with its pool)`,
  })
}

/** The machine-os-builder pod: the newest running one, otherwise the newest. */
export async function builderTarget(client: KubeClient, container?: string, signal?: AbortSignal): Promise<LogTarget> {
  const pods = (
    await client.list<Pod>(R.pods, {labelSelector: MACHINE_OS_BUILDER_SELECTOR, namespace: MCO_NAMESPACE, signal})
  ).items.filter((p) => !p.metadata.deletionTimestamp)
  const running = pods.filter((p) => p.status?.phase === 'Running')
  const pod = pickBuildObject(running.length > 0 ? running : pods, undefined)
  if (!pod) {
    throw new MobError(`the machine-os-builder is not running: no pod labelled ${MACHINE_OS_BUILDER_SELECTOR} in ${MCO_NAMESPACE}`, {
      code: 'BuilderNotRunning',
      exitCode: ExitCode.NotFound,
      next: 'the operator runs it while at least one pool is opted into on-cluster builds (`oc mob enable <pool>`); `oc mob status` shows why it is not running',
    })
  }

  return {
    container: container ?? pod.spec?.containers?.[0]?.name,
    kind: 'pod',
    name: pod.metadata.name!,
    namespace: MCO_NAMESPACE,
    pod,
    role: 'builder',
  }
}
