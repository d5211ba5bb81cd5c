// The kinds the emulator serves, with the facts discovery, routing, validation and tables need.

type OptionalGroup = 'image' | 'build' | 'machine' | 'machineOS' | 'machineConfig' | 'osImageStream'
type GenerationRule =
  | 'none' // metadata.generation is not maintained (ConfigMap, Pod, Node in 1.27–1.32)
  | 'spec' // set to 1 on create, bumped when .spec changes
  | 'spec+annotations' // Deployments: bumped when .spec or metadata.annotations change
  | 'content' // custom resources: bumped when anything outside metadata (and status, if a subresource) changes

export interface Column {
  name: string
  type: string
  format?: string
  description: string
  priority: number
  /** cell value; dates are rendered as ages by the table code when type is 'date' */
  value: (o: any) => unknown
}

export interface ResourceDef {
  group: string
  version: string
  plural: string
  singular: string
  kind: string
  namespaced: boolean
  shortNames?: string[]
  categories?: string[]
  verbs: string[]
  /** served subresources, e.g. ['status', 'log'] */
  subresources: string[]
  /** built into kube-apiserver (strategic merge patch allowed); false for custom resources */
  builtin: boolean
  generation: GenerationRule
  /** DELETE answers with the object (true) or with a Status Success (false) */
  returnDeletedObject: boolean
  /** field selectors beyond metadata.name/metadata.namespace */
  fields?: Record<string, (o: any) => string>
  optional?: OptionalGroup
  /** CRD file name in the shared CRD folder, for printer columns and pruning */
  crd?: string
  /** default table columns (after Name) when no CRD supplies printer columns */
  columns?: Column[]
  /** name validation: DNS-1123 subdomain (default) or label */
  nameRule?: 'subdomain' | 'label'
}

const ALL = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']
const age: Column = {
  name: 'Age',
  type: 'date',
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
  priority: 0,
  value: (o) => o.metadata?.creationTimestamp,
}

const str = (v: unknown) => (v === undefined || v === null ? '' : String(v))
const cond = (type: string) => (o: any) => o.status?.conditions?.find((c: any) => c?.type === type)?.status
const count = (v: unknown) => (v && typeof v === 'object' ? Object.keys(v).length : 0)

function podReady(o: any): string {
  const total = o.spec?.containers?.length ?? 0
  const ready = (o.status?.containerStatuses ?? []).filter((c: any) => c?.ready).length
  return `${ready}/${total}`
}
function podStatus(o: any): string {
  if (o.metadata?.deletionTimestamp) return 'Terminating'
  let reason = o.status?.reason || o.status?.phase || ''
  for (const c of o.status?.containerStatuses ?? []) {
    if (c?.state?.waiting?.reason) reason = c.state.waiting.reason
    else if (c?.state?.terminated?.reason) reason = c.state.terminated.reason
  }
  return reason
}
function podRestarts(o: any): number {
  return (o.status?.containerStatuses ?? []).reduce((n: number, c: any) => n + (Number(c?.restartCount) || 0), 0)
}
function nodeStatus(o: any): string {
  const ready = o.status?.conditions?.find((c: any) => c?.type === 'Ready')
  let s = ready?.status === 'True' ? 'Ready' : ready ? 'NotReady' : 'Unknown'
  if (o.spec?.unschedulable) s += ',SchedulingDisabled'
  return s
}
function nodeRoles(o: any): string {
  const roles = Object.keys(o.metadata?.labels ?? {})
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length))
    .filter(Boolean)
    .sort()
  return roles.length ? roles.join(',') : '<none>'
}
function internalIP(o: any): string {
  return o.status?.addresses?.find((a: any) => a?.type === 'InternalIP')?.address ?? '<none>'
}

const nameCol = (desc = 'Name must be unique within a namespace.'): Column => ({
  name: 'Name',
  type: 'string',
  format: 'name',
  description: desc,
  priority: 0,
  value: (o) => o.metadata?.name,
})
export const NAME_COLUMN = nameCol()

export const RESOURCES: ResourceDef[] = [
  // ---- core/v1 ----
  {
    group: '',
    version: 'v1',
    plural: 'namespaces',
    singular: 'namespace',
    kind: 'Namespace',
    namespaced: false,
    shortNames: ['ns'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    subresources: ['status'],
    builtin: true,
    generation: 'none',
    returnDeletedObject: true,
    nameRule: 'label',
    fields: {'status.phase': (o) => str(o.status?.phase)},
    columns: [
      {name: 'Status', type: 'string', description: 'The status of the namespace', priority: 0, value: (o) => o.status?.phase},
      age,
    ],
  },
  {
    group: '',
    version: 'v1',
    plural: 'configmaps',
    singular: 'configmap',
    kind: 'ConfigMap',
    namespaced: true,
    shortNames: ['cm'],
    verbs: ALL,
    subresources: [],
    builtin: true,
    generation: 'none',
    returnDeletedObject: false,
    columns: [
      {
        name: 'Data',
        type: 'string',
        description: 'Data contains the configuration data.',
        priority: 0,
        value: (o) => count(o.data) + count(o.binaryData),
      },
      age,
    ],
  },
  {
    group: '',
    version: 'v1',
    plural: 'secrets',
    singular: 'secret',
    kind: 'Secret',
    namespaced: true,
    verbs: ALL,
    subresources: [],
    builtin: true,
    generation: 'none',
    returnDeletedObject: false,
    fields: {type: (o) => str(o.type)},
    columns: [
      {
        name: 'Type',
        type: 'string',
        description: 'Used to facilitate programmatic handling of secret data.',
        priority: 0,
        value: (o) => o.type,
      },
      {name: 'Data', type: 'string', description: 'Data contains the secret data.', priority: 0, value: (o) => count(o.data)},
      age,
    ],
  },
  {
    group: '',
    version: 'v1',
    plural: 'pods',
    singular: 'pod',
    kind: 'Pod',
    namespaced: true,
    shortNames: ['po'],
    categories: ['all'],
    verbs: ALL,
    subresources: ['binding', 'log', 'status'],
    builtin: true,
    generation: 'none',
    returnDeletedObject: true,
    fields: {
      'spec.nodeName': (o) => str(o.spec?.nodeName),
      'spec.restartPolicy': (o) => str(o.spec?.restartPolicy),
      'spec.schedulerName': (o) => str(o.spec?.schedulerName),
      'spec.serviceAccountName': (o) => str(o.spec?.serviceAccountName),
      'status.phase': (o) => str(o.status?.phase),
      'status.podIP': (o) => str(o.status?.podIP),
      'status.nominatedNodeName': (o) => str(o.status?.nominatedNodeName),
    },
    columns: [
      {
        name: 'Ready',
        type: 'string',
        description: 'The aggregate readiness state of this pod for accepting traffic.',
        priority: 0,
        value: podReady,
      },
      {name: 'Status', type: 'string', description: 'The aggregate status of the containers in this pod.', priority: 0, value: podStatus},
      {
        name: 'Restarts',
        type: 'string',
        description: 'The number of times the containers in this pod have been restarted.',
        priority: 0,
        value: (o) => String(podRestarts(o)),
      },
      age,
      {name: 'IP', type: 'string', description: 'IP address allocated to the pod.', priority: 1, value: (o) => o.status?.podIP ?? '<none>'},
      {
        name: 'Node',
        type: 'string',
        description: 'Name of the Node this pod is bound to.',
        priority: 1,
        value: (o) => o.spec?.nodeName ?? '<none>',
      },
    ],
  },
  {
    group: '',
    version: 'v1',
    plural: 'nodes',
    singular: 'node',
    kind: 'Node',
    namespaced: false,
    shortNames: ['no'],
    verbs: ALL,
    subresources: ['status'],
    builtin: true,
    generation: 'none',
    returnDeletedObject: false,
    fields: {'spec.unschedulable': (o) => String(Boolean(o.spec?.unschedulable))},
    columns: [
      {name: 'Status', type: 'string', description: 'The status of the node', priority: 0, value: nodeStatus},
      {name: 'Roles', type: 'string', description: 'The roles of the node', priority: 0, value: nodeRoles},
      age,
      {
        name: 'Version',
        type: 'string',
        description: 'Kubelet Version reported by the node.',
        priority: 0,
        value: (o) => o.status?.nodeInfo?.kubeletVersion ?? '',
      },
      {name: 'Internal-IP', type: 'string', description: 'List of addresses reachable to the node.', priority: 1, value: internalIP},
    ],
  },
  {
    group: '',
    version: 'v1',
    plural: 'serviceaccounts',
    singular: 'serviceaccount',
    kind: 'ServiceAccount',
    namespaced: true,
    shortNames: ['sa'],
    verbs: ALL,
    subresources: ['token'],
    builtin: true,
    generation: 'none',
    returnDeletedObject: false,
    columns: [
      {
        name: 'Secrets',
        type: 'string',
        description:
          'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.',
        priority: 0,
        value: (o) => (o.secrets ?? []).length,
      },
      age,
    ],
  },
  {
    group: '',
    version: 'v1',
    plural: 'events',
    singular: 'event',
    kind: 'Event',
    namespaced: true,
    shortNames: ['ev'],
    verbs: ALL,
    subresources: [],
    builtin: true,
    generation: 'none',
    returnDeletedObject: false,
    fields: {
      'involvedObject.kind': (o) => str(o.involvedObject?.kind),
      'involvedObject.namespace': (o) => str(o.involvedObject?.namespace),
      'involvedObject.name': (o) => str(o.involvedObject?.name),
      'involvedObject.uid': (o) => str(o.involvedObject?.uid),
      'involvedObject.apiVersion': (o) => str(o.involvedObject?.apiVersion),
      'involvedObject.resourceVersion': (o) => str(o.involvedObject?.resourceVersion),
      'involvedObject.fieldPath': (o) => str(o.involvedObject?.fieldPath),
      reason: (o) => str(o.reason),
      reportingComponent: (o) => str(o.reportingComponent),
      source: (o) => str(o.source?.component),
      type: (o) => str(o.type),
    },
    columns: [
      {
        name: 'Last Seen',
        type: 'string',
        description: 'Time when this Event was last observed.',
        priority: 0,
        value: (o) => o.lastTimestamp ?? o.eventTime ?? o.metadata?.creationTimestamp,
      },
      {name: 'Type', type: 'string', description: 'Type of this event (Normal, Warning).', priority: 0, value: (o) => o.type},
      {
        name: 'Reason',
        type: 'string',
        description: 'This should be a short, machine understandable string.',
        priority: 0,
        value: (o) => o.reason,
      },
      {
        name: 'Object',
        type: 'string',
        description: 'The object that this event is about.',
        priority: 0,
        value: (o) => `${String(o.involvedObject?.kind ?? '').toLowerCase()}/${o.involvedObject?.name ?? ''}`,
      },
      {
        name: 'Message',
        type: 'string',
        description: 'A human-readable description of the status of this operation.',
        priority: 0,
        value: (o) => o.message,
      },
    ],
  },
  // ---- apps/v1, batch/v1 ----
  {
    group: 'apps',
    version: 'v1',
    plural: 'deployments',
    singular: 'deployment',
    kind: 'Deployment',
    namespaced: true,
    shortNames: ['deploy'],
    categories: ['all'],
    verbs: ALL,
    subresources: ['status'],
    builtin: true,
    generation: 'spec+annotations',
    returnDeletedObject: false,
    columns: [
      {
        name: 'Ready',
        type: 'string',
        description: 'Number of the pod with ready state',
        priority: 0,
        value: (o) => `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`,
      },
      {
        name: 'Up-to-date',
        type: 'string',
        description: 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.',
        priority: 0,
        value: (o) => o.status?.updatedReplicas ?? 0,
      },
      {
        name: 'Available',
        type: 'string',
        description: 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.',
        priority: 0,
        value: (o) => o.status?.availableReplicas ?? 0,
      },
      age,
    ],
  },
  {
    group: 'batch',
    version: 'v1',
    plural: 'jobs',
    singular: 'job',
    kind: 'Job',
    namespaced: true,
    categories: ['all'],
    verbs: ALL,
    subresources: ['status'],
    builtin: true,
    generation: 'spec',
    returnDeletedObject: false,
    fields: {'status.successful': (o) => String(o.status?.succeeded ?? 0)},
    columns: [
      {name: 'Status', type: 'string', description: 'Status of the job.', priority: 0, value: jobStatus},
      {
        name: 'Completions',
        type: 'string',
        description: 'The desired number of successfully finished pods the job should be run with.',
        priority: 0,
        value: (o) => `${o.status?.succeeded ?? 0}/${o.spec?.completions ?? 1}`,
      },
      {name: 'Duration', type: 'string', description: 'Time required to complete the job.', priority: 0, value: jobDuration},
      age,
    ],
  },
  // ---- authorization ----
  {
    group: 'authorization.k8s.io',
    version: 'v1',
    plural: 'selfsubjectaccessreviews',
    singular: 'selfsubjectaccessreview',
    kind: 'SelfSubjectAccessReview',
    namespaced: false,
    verbs: ['create'],
    subresources: [],
    builtin: true,
    generation: 'none',
    returnDeletedObject: false,
  },
  // ---- machineconfiguration.openshift.io/v1 (CRDs) ----
  {
    group: 'machineconfiguration.openshift.io',
    version: 'v1',
    plural: 'machineconfigpools',
    singular: 'machineconfigpool',
    kind: 'MachineConfigPool',
    namespaced: false,
    shortNames: ['mcp'],
    verbs: ALL,
    subresources: ['status'],
    builtin: false,
    generation: 'content',
    returnDeletedObject: false,
    crd: 'machineconfigpools.crd.yaml',
    columns: [
      {name: 'Config', type: 'string', description: '', priority: 0, value: (o) => o.status?.configuration?.name},
      {name: 'Updated', type: 'string', description: '', priority: 0, value: cond('Updated')},
      {name: 'Updating', type: 'string', description: '', priority: 0, value: cond('Updating')},
      {name: 'Degraded', type: 'string', description: '', priority: 0, value: cond('Degraded')},
      {
        name: 'MachineCount',
        type: 'number',
        description: 'Total number of machines in the machine config pool',
        priority: 0,
        value: (o) => o.status?.machineCount,
      },
      {
        name: 'ReadyMachineCount',
        type: 'number',
        description: 'Total number of ready machines targeted by the pool',
        priority: 0,
        value: (o) => o.status?.readyMachineCount,
      },
      {
        name: 'UpdatedMachineCount',
        type: 'number',
        description: 'Total number of machines targeted by the pool that have the CurrentMachineConfig as their config',
        priority: 0,
        value: (o) => o.status?.updatedMachineCount,
      },
      {
        name: 'DegradedMachineCount',
        type: 'number',
        description: 'Total number of machines marked degraded (or unreconcilable)',
        priority: 0,
        value: (o) => o.status?.degradedMachineCount,
      },
      age,
    ],
  },
  {
    group: 'machineconfiguration.openshift.io',
    version: 'v1',
    plural: 'machineconfigs',
    singular: 'machineconfig',
    kind: 'MachineConfig',
    namespaced: false,
    shortNames: ['mc'],
    verbs: ALL,
    subresources: [],
    builtin: false,
    generation: 'content',
    returnDeletedObject: false,
    crd: 'machineconfigs.crd.yaml',
    columns: [
      {
        name: 'GeneratedByController',
        type: 'string',
        description:
          'Version of the controller that generated the machineconfig. This will be empty if the machineconfig is not managed by a controller.',
        priority: 0,
        value: (o) => o.metadata?.annotations?.['machineconfiguration.openshift.io/generated-by-controller-version'],
      },
      {
        name: 'IgnitionVersion',
        type: 'string',
        description: 'Version of the Ignition Config defined in the machineconfig.',
        priority: 0,
        value: (o) => o.spec?.config?.ignition?.version,
      },
      age,
    ],
  },
  {
    group: 'machineconfiguration.openshift.io',
    version: 'v1',
    plural: 'controllerconfigs',
    singular: 'controllerconfig',
    kind: 'ControllerConfig',
    namespaced: false,
    verbs: ALL,
    subresources: ['status'],
    builtin: false,
    generation: 'content',
    returnDeletedObject: false,
    columns: [age],
  },
  {
    group: 'machineconfiguration.openshift.io',
    version: 'v1',
    plural: 'machineosconfigs',
    singular: 'machineosconfig',
    kind: 'MachineOSConfig',
    namespaced: false,
    verbs: ALL,
    subresources: ['status'],
    builtin: false,
    generation: 'content',
    returnDeletedObject: false,
    optional: 'machineOS',
    crd: 'machineosconfigs.crd.yaml',
    columns: [age],
  },
  {
    group: 'machineconfiguration.openshift.io',
    version: 'v1',
    plural: 'machineosbuilds',
    singular: 'machineosbuild',
    kind: 'MachineOSBuild',
    namespaced: false,
    verbs: ALL,
    subresources: ['status'],
    builtin: false,
    generation: 'content',
    returnDeletedObject: false,
    optional: 'machineOS',
    crd: 'machineosbuilds.crd.yaml',
    columns: [
      {name: 'Prepared', type: 'string', description: '', priority: 0, value: cond('Prepared')},
      {name: 'Building', type: 'string', description: '', priority: 0, value: cond('Building')},
      {name: 'Succeeded', type: 'string', description: '', priority: 0, value: cond('Succeeded')},
      {name: 'Interrupted', type: 'string', description: '', priority: 0, value: cond('Interrupted')},
      {name: 'Failed', type: 'string', description: '', priority: 0, value: cond('Failed')},
      age,
    ],
  },
  // OSImageStream (v1 from 5.0/4.23): off unless asked for (groups.osImageStream)
  {
    group: 'machineconfiguration.openshift.io',
    version: 'v1',
    plural: 'osimagestreams',
    singular: 'osimagestream',
    kind: 'OSImageStream',
    namespaced: false,
    verbs: ALL,
    subresources: ['status'],
    builtin: false,
    generation: 'content',
    returnDeletedObject: false,
    optional: 'osImageStream',
    crd: 'osimagestreams.crd.yaml',
    columns: [age],
  },
  // ---- image.openshift.io/v1 (aggregated in OpenShift) ----
  {
    group: 'image.openshift.io',
    version: 'v1',
    plural: 'imagestreams',
    singular: 'imagestream',
    kind: 'ImageStream',
    namespaced: true,
    shortNames: ['is'],
    categories: ['all'],
    verbs: ALL,
    subresources: ['status'],
    builtin: true,
    generation: 'spec',
    returnDeletedObject: true,
    optional: 'image',
    columns: [
      {
        name: 'Image Repository',
        type: 'string',
        description: '',
        priority: 0,
        value: (o) => o.status?.publicDockerImageRepository || o.status?.dockerImageRepository,
      },
      {name: 'Tags', type: 'string', description: '', priority: 0, value: (o) => (o.status?.tags ?? []).map((t: any) => t?.tag).join(',')},
      {name: 'Updated', type: 'string', description: '', priority: 0, value: () => ''},
    ],
  },
  // ---- build.openshift.io/v1 (aggregated in OpenShift) ----
  {
    group: 'build.openshift.io',
    version: 'v1',
    plural: 'builds',
    singular: 'build',
    kind: 'Build',
    namespaced: true,
    categories: ['all'],
    verbs: ALL,
    subresources: ['log', 'status'],
    builtin: true,
    generation: 'spec',
    returnDeletedObject: true,
    optional: 'build',
    fields: {status: (o) => str(o.status?.phase), podName: (o) => str(o.metadata?.annotations?.['openshift.io/build.pod-name'])},
    columns: [
      {name: 'Type', type: 'string', description: '', priority: 0, value: (o) => o.spec?.strategy?.type},
      {name: 'From', type: 'string', description: '', priority: 0, value: () => ''},
      {name: 'Status', type: 'string', description: '', priority: 0, value: (o) => o.status?.phase},
      {name: 'Started', type: 'date', description: '', priority: 0, value: (o) => o.status?.startTimestamp},
      {
        name: 'Duration',
        type: 'string',
        description: '',
        priority: 0,
        value: (o) => (o.status?.duration ? `${Math.round(o.status.duration / 1e9)}s` : ''),
      },
    ],
  },
  // ---- config.openshift.io/v1 (CRDs): the operators' health, e.g. machine-config ----
  {
    group: 'config.openshift.io',
    version: 'v1',
    plural: 'clusteroperators',
    singular: 'clusteroperator',
    kind: 'ClusterOperator',
    namespaced: false,
    shortNames: ['co'],
    verbs: ALL,
    subresources: ['status'],
    builtin: false,
    generation: 'content',
    returnDeletedObject: false,
    columns: [
      {
        name: 'Version',
        type: 'string',
        description: '',
        priority: 0,
        value: (o) => o.status?.versions?.find((v: any) => v?.name === 'operator')?.version,
      },
      {name: 'Available', type: 'string', description: '', priority: 0, value: cond('Available')},
      {name: 'Progressing', type: 'string', description: '', priority: 0, value: cond('Progressing')},
      {name: 'Degraded', type: 'string', description: '', priority: 0, value: cond('Degraded')},
      age,
    ],
  },
  // ---- machine.openshift.io/v1beta1 (CRDs) ----
  {
    group: 'machine.openshift.io',
    version: 'v1beta1',
    plural: 'machines',
    singular: 'machine',
    kind: 'Machine',
    namespaced: true,
    categories: ['machine-api'],
    verbs: ALL,
    subresources: ['status'],
    builtin: false,
    generation: 'content',
    returnDeletedObject: false,
    optional: 'machine',
    columns: [
      {name: 'Phase', type: 'string', description: 'Phase of machine', priority: 0, value: (o) => o.status?.phase},
      {
        name: 'Type',
        type: 'string',
        description: 'Type of instance',
        priority: 0,
        value: (o) => o.metadata?.labels?.['machine.openshift.io/instance-type'],
      },
      {
        name: 'Region',
        type: 'string',
        description: 'Region associated with machine',
        priority: 0,
        value: (o) => o.metadata?.labels?.['machine.openshift.io/region'],
      },
      {
        name: 'Zone',
        type: 'string',
        description: 'Zone associated with machine',
        priority: 0,
        value: (o) => o.metadata?.labels?.['machine.openshift.io/zone'],
      },
      age,
      {name: 'Node', type: 'string', description: 'Node associated with machine', priority: 1, value: (o) => o.status?.nodeRef?.name},
    ],
  },
  {
    group: 'machine.openshift.io',
    version: 'v1beta1',
    plural: 'machinesets',
    singular: 'machineset',
    kind: 'MachineSet',
    namespaced: true,
    categories: ['machine-api'],
    verbs: ALL,
    subresources: ['status'],
    builtin: false,
    generation: 'content',
    returnDeletedObject: false,
    optional: 'machine',
    columns: [
      {name: 'Desired', type: 'integer', description: 'Desired Replicas', priority: 0, value: (o) => o.spec?.replicas},
      {name: 'Current', type: 'integer', description: 'Current Replicas', priority: 0, value: (o) => o.status?.replicas},
      {name: 'Ready', type: 'integer', description: 'Ready Replicas', priority: 0, value: (o) => o.status?.readyReplicas},
      {
        name: 'Available',
        type: 'string',
        description: 'Observed number of available replicas',
        priority: 0,
        value: (o) => o.status?.availableReplicas,
      },
      age,
    ],
  },
]

function jobStatus(o: any): string {
  const c = (t: string) => o.status?.conditions?.some((x: any) => x?.type === t && x?.status === 'True')
  if (c('Complete')) return 'Complete'
  if (c('Failed')) return 'Failed'
  if (c('FailureTarget')) return 'FailureTarget'
  if (c('Suspended')) return 'Suspended'
  return 'Running'
}
function jobDuration(o: any): string {
  const start = o.status?.startTime
  if (!start) return ''
  const end = o.status?.completionTime ? Date.parse(o.status.completionTime) : Date.now()
  return humanDuration(end - Date.parse(start))
}

/** Go's k8s.io/apimachinery/pkg/util/duration.HumanDuration */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000)
  if (seconds < -1) return '<invalid>'
  if (seconds < 0) return '0s'
  if (seconds < 120) return `${seconds}s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`
  if (minutes < 180) return `${minutes}m`
  const hours = Math.floor(minutes / 60)
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`
  if (hours < 48) return `${hours}h`
  if (hours < 24 * 8) return hours % 24 === 0 ? `${hours / 24}d` : `${Math.floor(hours / 24)}d${hours % 24}h`
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365
    return dy === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${dy}d`
  }
  return `${Math.floor(hours / 24 / 365)}y`
}

export const apiVersionOf = (r: ResourceDef) => (r.group ? `${r.group}/${r.version}` : r.version)
/** "configmaps" or "machineconfigpools.machineconfiguration.openshift.io" (Go's GroupResource.String()) */
export const qualifiedResource = (r: ResourceDef) => (r.group ? `${r.plural}.${r.group}` : r.plural)
/** "ConfigMap" or "MachineConfigPool.machineconfiguration.openshift.io" (Go's GroupKind.String()) */
export const qualifiedKind = (r: ResourceDef) => (r.group ? `${r.kind}.${r.group}` : r.kind)

export interface ServedGroups {
  image: boolean
  build: boolean
  machine: boolean
  machineOS: boolean
  /** OSImageStream (5.0/4.23+; default off) */
  osImageStream?: boolean
  /** machineconfiguration.openshift.io as a whole (false: a cluster without the Machine Config Operator) */
  machineConfig?: boolean
}

/** The set of served resources, indexed for routing. */
export class Registry {
  readonly list: ResourceDef[]
  private byPath = new Map<string, ResourceDef>() // "group/version/plural"
  private byKind = new Map<string, ResourceDef>() // "apiVersion/Kind"

  constructor(groups: ServedGroups) {
    const mcoOff = groups.machineConfig === false
    this.list = RESOURCES.filter((r) => (!r.optional || groups[r.optional]) && !(mcoOff && r.group === 'machineconfiguration.openshift.io'))
    for (const r of this.list) {
      this.byPath.set(`${r.group}/${r.version}/${r.plural}`, r)
      this.byKind.set(`${apiVersionOf(r)}/${r.kind}`, r)
    }
  }

  find(group: string, version: string, plural: string): ResourceDef | undefined {
    return this.byPath.get(`${group}/${version}/${plural}`)
  }

  forKind(apiVersion: string, kind: string): ResourceDef | undefined {
    return this.byKind.get(`${apiVersion}/${kind}`)
  }

  /** group -> versions served (in preference order) */
  groups(): Map<string, string[]> {
    const m = new Map<string, string[]>()
    for (const r of this.list) {
      if (!r.group) continue
      const v = m.get(r.group) ?? []
      if (!v.includes(r.version)) v.push(r.version)
      m.set(r.group, v)
    }
    return m
  }

  inGroupVersion(group: string, version: string): ResourceDef[] {
    return this.list.filter((r) => r.group === group && r.version === version)
  }
}
