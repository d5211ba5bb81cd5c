/**
 * Which of the API groups oc-mob cares about the cluster serves. Asked once per run (cached on the
 * client), from discovery — never inferred from a version string.
 */
import type {KubeClient} from './client.js'
import {MCO_GROUP} from './resources.js'

export interface Discovery {
  /** group/version strings the cluster serves, e.g. `image.openshift.io/v1`. */
  groupVersions: Set<string>
  /** machineconfiguration.openshift.io/v1 (pools and machine configs). */
  machineConfig: boolean
  /** MachineOSConfig / MachineOSBuild (the newer layering API). */
  machineOS: boolean
  /** image.openshift.io/v1 (ImageStreams: the internal registry). */
  image: boolean
  /** build.openshift.io/v1 (OpenShift Builds: the image-builder backend). */
  build: boolean
  /** machine.openshift.io/v1beta1 (Machines and MachineSets). */
  machine: boolean
  /** config.openshift.io/v1 (ClusterOperators). */
  config: boolean
}

interface APIGroupList {
  groups?: Array<{name: string; versions?: Array<{groupVersion: string}>}>
}

interface APIResourceList {
  resources?: Array<{name: string}>
}

const cache = new WeakMap<KubeClient, Promise<Discovery>>()

export function discover(client: KubeClient): Promise<Discovery> {
  let found = cache.get(client)
  if (!found) {
    found = doDiscover(client)
    cache.set(client, found)
    found.catch(() => cache.delete(client))
  }

  return found
}

async function doDiscover(client: KubeClient): Promise<Discovery> {
  const list = await client.request<APIGroupList>({method: 'GET', path: '/apis'})
  const gvs = new Set<string>()
  for (const g of list.groups ?? []) for (const v of g.versions ?? []) gvs.add(v.groupVersion)
  const machineConfig = gvs.has(`${MCO_GROUP}/v1`)
  let machineOS = false
  if (machineConfig) {
    const resources = await client.request<APIResourceList>({method: 'GET', path: `/apis/${MCO_GROUP}/v1`})
    machineOS = (resources.resources ?? []).some((r) => r.name === 'machineosconfigs')
  }

  return {
    build: gvs.has('build.openshift.io/v1'),
    config: gvs.has('config.openshift.io/v1'),
    groupVersions: gvs,
    image: gvs.has('image.openshift.io/v1'),
    machine: gvs.has('machine.openshift.io/v1beta1'),
    machineConfig,
    machineOS,
  }
}
