/**
 * The resources oc-mob talks to: where they live in the API and how they may be patched.
 */

export interface ResourceType {
  /** '' for the core group. */
  group: string
  version: string
  plural: string
  kind: string
  namespaced: boolean
  /** Built-in kinds accept strategic merge patch; custom resources answer 415 to it. */
  builtin: boolean
  hasStatus: boolean
}

function res(
  group: string,
  version: string,
  plural: string,
  kind: string,
  namespaced: boolean,
  builtin: boolean,
  hasStatus: boolean,
): ResourceType {
  return {builtin, group, hasStatus, kind, namespaced, plural, version}
}

export const MCO_GROUP = 'machineconfiguration.openshift.io'

export const R = {
  buildConfigs: res('build.openshift.io', 'v1', 'buildconfigs', 'BuildConfig', true, false, true),
  builds: res('build.openshift.io', 'v1', 'builds', 'Build', true, false, true),
  clusterOperators: res('config.openshift.io', 'v1', 'clusteroperators', 'ClusterOperator', false, false, true),
  configMaps: res('', 'v1', 'configmaps', 'ConfigMap', true, true, false),
  controllerConfigs: res(MCO_GROUP, 'v1', 'controllerconfigs', 'ControllerConfig', false, false, true),
  deployments: res('apps', 'v1', 'deployments', 'Deployment', true, true, true),
  events: res('', 'v1', 'events', 'Event', true, true, false),
  imageStreams: res('image.openshift.io', 'v1', 'imagestreams', 'ImageStream', true, false, true),
  jobs: res('batch', 'v1', 'jobs', 'Job', true, true, true),
  machineConfigPools: res(MCO_GROUP, 'v1', 'machineconfigpools', 'MachineConfigPool', false, false, true),
  machineConfigs: res(MCO_GROUP, 'v1', 'machineconfigs', 'MachineConfig', false, false, false),
  machineOSBuilds: res(MCO_GROUP, 'v1', 'machineosbuilds', 'MachineOSBuild', false, false, true),
  machineOSConfigs: res(MCO_GROUP, 'v1', 'machineosconfigs', 'MachineOSConfig', false, false, true),
  machineSets: res('machine.openshift.io', 'v1beta1', 'machinesets', 'MachineSet', true, false, true),
  machines: res('machine.openshift.io', 'v1beta1', 'machines', 'Machine', true, false, true),
  namespaces: res('', 'v1', 'namespaces', 'Namespace', false, true, true),
  nodes: res('', 'v1', 'nodes', 'Node', false, true, true),
  osImageStreams: res(MCO_GROUP, 'v1', 'osimagestreams', 'OSImageStream', false, false, true),
  pods: res('', 'v1', 'pods', 'Pod', true, true, true),
  secrets: res('', 'v1', 'secrets', 'Secret', true, true, false),
  selfSubjectAccessReviews: res('authorization.k8s.io', 'v1', 'selfsubjectaccessreviews', 'SelfSubjectAccessReview', false, true, false),
  serviceAccounts: res('', 'v1', 'serviceaccounts', 'ServiceAccount', true, true, false),
} as const satisfies Record<string, ResourceType>

/** `configmaps` or `machineconfigpools.machineconfiguration.openshift.io`, as the API server names resources. */
export function qualifiedName(r: ResourceType): string {
  return r.group ? `${r.plural}.${r.group}` : r.plural
}

/** The collection path, e.g. /api/v1/namespaces/ns/pods or /apis/g/v/plural. */
export function collectionPath(r: ResourceType, namespace?: string): string {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`
  if (r.namespaced && namespace) return `${base}/namespaces/${encodeURIComponent(namespace)}/${r.plural}`
  return `${base}/${r.plural}`
}

export function objectPath(r: ResourceType, name: string, namespace?: string, subresource?: string): string {
  if (r.namespaced && !namespace) throw new Error(`${r.kind} ${name}: a namespace is required`)
  const p = `${collectionPath(r, namespace)}/${encodeURIComponent(name)}`
  return subresource ? `${p}/${subresource}` : p
}

export type PatchType = 'json' | 'merge' | 'strategic'

export const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
}
