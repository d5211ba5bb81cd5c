/**
 * OSImageStream (machineconfiguration.openshift.io/v1, served from 5.0/4.23): the cluster singleton
 * `cluster` lists the OS streams (rhel-9, rhel-10, ...) with their base images; a pool picks one with
 * `spec.osImageStream.name` (none: the default stream) and reports the one it was last updated to in
 * `status.osImageStream.name`. Pure: no I/O.
 */
import type {KubeObject, MachineConfigPool} from '../kube/types.js'

export const OS_IMAGE_STREAM_SINGLETON = 'cluster'

export interface OSImageStream extends KubeObject {
  spec?: {defaultStream?: string}
  status?: {
    defaultStream?: string
    availableStreams?: Array<{name?: string; osImage?: string; osExtensionsImage?: string}>
  }
}

/** A pool with the stream fields of 5.0/4.23 (the project's types predate them). */
export type PoolWithStream = MachineConfigPool & {spec?: {osImageStream?: {name?: string}}; status?: {osImageStream?: {name?: string}}}

/** The pool's stream: the one it asks for, the one it was last updated to, and that stream's base OS image. */
export function poolOSImageStream(
  pool: MachineConfigPool,
  cluster: OSImageStream | undefined,
): {requested: string | null; current: string | null; osImage: string | null} {
  const p = pool as PoolWithStream
  const requested = p.spec?.osImageStream?.name || null
  const current = p.status?.osImageStream?.name || null
  const name = current ?? requested ?? (cluster?.status?.defaultStream || cluster?.spec?.defaultStream || null)
  const stream = name ? cluster?.status?.availableStreams?.find((s) => s.name === name) : undefined
  return {current, osImage: stream?.osImage || null, requested}
}
