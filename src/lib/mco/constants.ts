/**
 * Names, labels, annotations and keys of the Machine Config Operator's on-cluster build machinery
 * (OpenShift 4.14/4.15, the ConfigMap-and-label generation), exactly as the operator spells them.
 */

export const MCO_NAMESPACE = 'openshift-machine-config-operator'
export const OPENSHIFT_CONFIG_NAMESPACE = 'openshift-config'
export const GLOBAL_PULL_SECRET = 'pull-secret'

const P = 'machineconfiguration.openshift.io'

/** Pool label that opts a MachineConfigPool into on-cluster builds (key presence; value ignored). */
export const LAYERING_ENABLED_LABEL = `${P}/layering-enabled`

/** Pool annotation carrying the digested pullspec of the newest image built for the pool. */
export const NEWEST_IMAGE_ANNOTATION = `${P}/newestImageEquivalentConfig`

/** Node annotations written by the node controller and the machine-config daemon. */
export const NODE_ANNOTATIONS = {
  currentConfig: `${P}/currentConfig`,
  currentImage: `${P}/currentImage`,
  desiredConfig: `${P}/desiredConfig`,
  desiredImage: `${P}/desiredImage`,
  reason: `${P}/reason`,
  state: `${P}/state`,
} as const

/** Labels on every ephemeral build object (ConfigMaps, build pod, Build). */
export const BUILD_LABELS = {
  buildPod: `${P}/buildPod`,
  desiredConfig: `${P}/desiredConfig`,
  targetPool: `${P}/targetMachineConfigPool`,
} as const

/** Annotation on every ephemeral build object. */
export const BUILD_POOL_ANNOTATION = `${P}/pool`

/** ConfigMaps the administrator creates, and the release-managed one with the base OS image. */
export const ON_CLUSTER_BUILD_CONFIG = 'on-cluster-build-config'
export const CUSTOM_DOCKERFILE_CONFIG = 'on-cluster-build-custom-dockerfile'
export const OSIMAGEURL_CONFIG = 'machine-config-osimageurl'

export const BUILD_CONFIG_KEYS = {
  baseImagePullSecretName: 'baseImagePullSecretName',
  finalImagePullspec: 'finalImagePullspec',
  finalImagePushSecretName: 'finalImagePushSecretName',
  imageBuilderType: 'imageBuilderType',
} as const

export const OSIMAGEURL_KEYS = {
  baseOSContainerImage: 'baseOSContainerImage',
  baseOSExtensionsContainerImage: 'baseOSExtensionsContainerImage',
  osImageURL: 'osImageURL',
  releaseVersion: 'releaseVersion',
} as const

export const IMAGE_BUILDER_TYPES = ['openshift-image-builder', 'custom-pod-builder'] as const
export type ImageBuilderType = (typeof IMAGE_BUILDER_TYPES)[number]
/** What the 4.14/4.15 operator uses when the key is absent or empty (the code, not its comment). */
export const DEFAULT_IMAGE_BUILDER_TYPE: ImageBuilderType = 'openshift-image-builder'

/** The machine-os-builder Deployment and its pods. */
export const MACHINE_OS_BUILDER = 'machine-os-builder'
export const MACHINE_OS_BUILDER_SELECTOR = 'k8s-app=machine-os-builder'

/** Ephemeral object names, all keyed by the rendered MachineConfig name. */
export const buildNames = (rendered: string) => ({
  build: `build-${rendered}`,
  digest: `digest-${rendered}`,
  dockerfile: `dockerfile-${rendered}`,
  machineConfig: `mc-${rendered}`,
})

/** Pool condition types of the build state machine. */
export const BUILD_CONDITIONS = ['BuildPending', 'Building', 'BuildSuccess', 'BuildFailed'] as const
