/**
 * What the cluster's build objects say about a build: a 4.14 build pod or OpenShift Build, or a
 * MachineOSBuild (4.18+), in one shape. Shared by status, cleanup and rollback.
 */
import type {Build, Pod} from '../kube/types.js'
import {BUILD_LABELS, buildNames, DEFAULT_IMAGE_BUILDER_TYPE} from '../mco/constants.js'
import {type MachineOSBuild, mosbStatus} from '../mco/machine-os.js'

const n = <T>(v: T | undefined): T | null => v ?? null

/** How a pool's builds run: a build pod (custom-pod-builder), an OpenShift Build, or (4.18+) a Job of the machine-os-builder. */
export type Backend = 'build' | 'job' | 'pod'

export interface BuildObjectInfo {
  kind: 'Build' | 'MachineOSBuild' | 'Pod'
  name: string
  renderedConfig: string
  /** The pod's or Build's phase as the cluster reports it. */
  phase: string
  /** What it means: a hung 4.14 pod (Running, image-build failed) is failed. */
  state: 'failed' | 'pending' | 'running' | 'succeeded'
  hung: boolean
  /** Why it failed, when it did. */
  reason: string | null
  /** When it was created. */
  created: string | null
  /** Being deleted. */
  terminating: boolean
}

function hungMessage(pod: Pod): string | undefined {
  const st = pod.status?.containerStatuses?.find((c) => c.name === 'image-build')
  const t = st?.state?.terminated
  if (!t || t.exitCode === 0) return undefined
  return `container image-build exited with code ${t.exitCode}${t.reason ? ` (${t.reason})` : ''}`
}

/** What a build pod or Build object says about its build. */
export function describeBuildObject(o: Build | Pod, kind: 'Build' | 'Pod' = o.kind === 'Build' ? 'Build' : 'Pod'): BuildObjectInfo {
  const isBuild = kind === 'Build'
  const phase = o.status?.phase ?? (isBuild ? 'New' : 'Pending')
  const base = {
    created: n(o.metadata.creationTimestamp),
    kind: (isBuild ? 'Build' : 'Pod') as 'Build' | 'Pod',
    name: o.metadata.name!,
    phase,
    renderedConfig: o.metadata.labels?.[BUILD_LABELS.desiredConfig] ?? '',
    terminating: Boolean(o.metadata.deletionTimestamp),
  }
  if (isBuild) {
    const b = o as Build
    if (phase === 'Complete') return {...base, hung: false, reason: null, state: 'succeeded'}
    if (phase === 'Failed' || phase === 'Error' || phase === 'Cancelled') {
      return {
        ...base,
        hung: false,
        reason: `the Build is ${phase}${b.status?.message ? `: ${b.status.message}` : b.status?.reason ? `: ${b.status.reason}` : ''}`,
        state: 'failed',
      }
    }

    return {...base, hung: false, reason: null, state: phase === 'Running' ? 'running' : 'pending'}
  }

  const pod = o as Pod
  const hung = hungMessage(pod)
  if (phase === 'Succeeded') return {...base, hung: false, reason: null, state: 'succeeded'}
  if (phase === 'Failed')
    return {...base, hung: false, reason: hung ?? (pod.status?.message || pod.status?.reason || 'the build pod failed'), state: 'failed'}
  if (hung) return {...base, hung: phase === 'Running', reason: hung, state: 'failed'}
  return {...base, hung: false, reason: null, state: phase === 'Pending' ? 'pending' : 'running'}
}

/** The build objects of each pool (by the operator's labels), keyed by pool name. */
export function buildObjectsByPool(pods: Pod[], builds: Build[]): Map<string, BuildObjectInfo[]> {
  const out = new Map<string, BuildObjectInfo[]>()
  const all: Array<[Build | Pod, 'Build' | 'Pod']> = [
    ...pods.map((p): [Pod, 'Pod'] => [p, 'Pod']),
    ...builds.map((b): [Build, 'Build'] => [b, 'Build']),
  ]
  for (const [o, kind] of all) {
    const l = o.metadata.labels ?? {}
    const pool = l[BUILD_LABELS.targetPool]
    const rendered = l[BUILD_LABELS.desiredConfig]
    if (!Object.hasOwn(l, BUILD_LABELS.buildPod) || !pool || !rendered) continue
    if (o.metadata.name !== buildNames(rendered).build) continue
    const list = out.get(pool) ?? []
    list.push(describeBuildObject(o, kind))
    out.set(pool, list)
  }

  return out
}

export function backendOf(type: string | undefined): Backend {
  return (type?.trim() || DEFAULT_IMAGE_BUILDER_TYPE) === 'custom-pod-builder' ? 'pod' : 'build'
}

/** What a MachineOSBuild says about its build, in the shape of the other build objects. */
export function describeMachineOSBuild(b: MachineOSBuild): BuildObjectInfo {
  const st = mosbStatus(b)
  const failed = st.state === 'failed' || st.state === 'interrupted'
  const why = st.message && st.reason ? `${st.reason}: ${st.message}` : (st.message ?? st.reason)
  return {
    created: n(b.metadata.creationTimestamp),
    hung: false,
    kind: 'MachineOSBuild',
    name: b.metadata.name!,
    phase: st.condition ?? 'New',
    reason: failed ? `the MachineOSBuild is ${st.condition}${why ? ` (${why})` : ''}` : null,
    renderedConfig: b.spec?.machineConfig?.name ?? '',
    state: failed ? 'failed' : (st.state as 'pending' | 'running' | 'succeeded'),
    terminating: Boolean(b.metadata.deletionTimestamp),
  }
}
