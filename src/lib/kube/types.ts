/**
 * Plain shapes of the Kubernetes and OpenShift objects oc-mob reads and writes: only the fields it
 * uses, as JSON (dates are strings). The generated model classes of client-node are avoided on
 * purpose: they cost start-up time and turn dates into objects that have to be turned back.
 */

export interface ObjectMeta {
  name?: string
  generateName?: string
  namespace?: string
  uid?: string
  resourceVersion?: string
  generation?: number
  creationTimestamp?: string
  deletionTimestamp?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  ownerReferences?: Array<{apiVersion: string; kind: string; name: string; uid: string; controller?: boolean}>
  finalizers?: string[]
}

export interface KubeObject {
  apiVersion?: string
  kind?: string
  metadata: ObjectMeta
}

export interface KubeList<T> {
  apiVersion?: string
  kind?: string
  metadata: {resourceVersion?: string; continue?: string; remainingItemCount?: number}
  items: T[]
}

export interface Status {
  kind: 'Status'
  apiVersion?: string
  status?: 'Failure' | 'Success'
  message?: string
  reason?: string
  code?: number
  details?: {name?: string; group?: string; kind?: string; causes?: Array<{reason?: string; message?: string; field?: string}>}
}

export interface Condition {
  type: string
  status: 'True' | 'False' | 'Unknown'
  reason?: string
  message?: string
  lastTransitionTime?: string
}

export interface ObjectReference {
  apiVersion?: string
  kind?: string
  name?: string
  namespace?: string
  uid?: string
}

export interface LabelSelector {
  matchLabels?: Record<string, string>
  matchExpressions?: Array<{key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[]}>
}

export interface MachineConfigPool extends KubeObject {
  spec?: {
    machineConfigSelector?: LabelSelector
    nodeSelector?: LabelSelector
    paused?: boolean
    maxUnavailable?: number | string
    configuration?: {name?: string; source?: ObjectReference[]}
  }
  status?: {
    observedGeneration?: number
    configuration?: {name?: string; source?: ObjectReference[]}
    machineCount?: number
    updatedMachineCount?: number
    readyMachineCount?: number
    unavailableMachineCount?: number
    degradedMachineCount?: number
    conditions?: Condition[]
  }
}

export interface MachineConfig extends KubeObject {
  spec?: {
    osImageURL?: string
    baseOSExtensionsContainerImage?: string
    config?: Record<string, unknown>
    kernelArguments?: string[]
    extensions?: string[]
    fips?: boolean
    kernelType?: string
  }
}

export interface ConfigMap extends KubeObject {
  data?: Record<string, string>
  binaryData?: Record<string, string>
}

export interface Secret extends KubeObject {
  type?: string
  data?: Record<string, string>
  stringData?: Record<string, string>
}

export interface ContainerState {
  waiting?: {reason?: string; message?: string}
  running?: {startedAt?: string}
  terminated?: {exitCode: number; reason?: string; message?: string; startedAt?: string; finishedAt?: string}
}

export interface ContainerStatus {
  name: string
  ready?: boolean
  restartCount?: number
  image?: string
  state?: ContainerState
  lastState?: ContainerState
}

export interface Container {
  name: string
  image?: string
  command?: string[]
  args?: string[]
  env?: Array<{name: string; value?: string}>
  imagePullPolicy?: string
  securityContext?: Record<string, unknown>
  volumeMounts?: Array<{name: string; mountPath: string; readOnly?: boolean}>
}

export interface Volume {
  name: string
  configMap?: {name: string; items?: Array<{key: string; path: string}>}
  secret?: {secretName: string; items?: Array<{key: string; path: string}>}
  emptyDir?: {medium?: string}
}

export interface Pod extends KubeObject {
  spec?: {
    nodeName?: string
    restartPolicy?: string
    serviceAccountName?: string
    /** 4.20+: the build pod's image-build runs as an init container. */
    initContainers?: Container[]
    containers: Container[]
    volumes?: Volume[]
    nodeSelector?: Record<string, string>
  }
  status?: {
    phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown'
    reason?: string
    message?: string
    startTime?: string
    conditions?: Array<{type: string; status: string; reason?: string; message?: string}>
    containerStatuses?: ContainerStatus[]
    initContainerStatuses?: ContainerStatus[]
  }
}

export interface Node extends KubeObject {
  spec?: {unschedulable?: boolean; taints?: Array<{key: string; effect: string; value?: string}>}
  status?: {
    conditions?: Array<{type: string; status: string; reason?: string; message?: string}>
    addresses?: Array<{type: string; address: string}>
    nodeInfo?: {osImage?: string; kubeletVersion?: string}
  }
}

export interface Deployment extends KubeObject {
  spec?: {replicas?: number; selector?: LabelSelector}
  status?: {replicas?: number; readyReplicas?: number; availableReplicas?: number; updatedReplicas?: number; conditions?: Condition[]}
}

export interface Build extends KubeObject {
  spec?: Record<string, unknown>
  status?: {
    phase?: 'New' | 'Pending' | 'Running' | 'Complete' | 'Failed' | 'Error' | 'Cancelled'
    reason?: string
    message?: string
    outputDockerImageReference?: string
    output?: {to?: {imageDigest?: string}}
  }
}

export interface Machine extends KubeObject {
  spec?: Record<string, unknown>
  status?: {phase?: string; nodeRef?: {name: string}}
}

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'
  object: T
}

/** A core/v1 Event, as far as oc-mob reads one. */
export interface KubeEvent extends KubeObject {
  type?: string
  reason?: string
  message?: string
  count?: number
  firstTimestamp?: string
  lastTimestamp?: string
  eventTime?: string
  series?: {count?: number; lastObservedTime?: string}
  involvedObject?: {kind?: string; name?: string; namespace?: string; uid?: string}
}
