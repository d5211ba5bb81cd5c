// Names, labels and annotations of the OpenShift 4.14 on-cluster build flow,
// as the Machine Config Operator writes them.
export const MCO_NS = 'openshift-machine-config-operator'
export const MACHINE_API_NS = 'openshift-machine-api'
const MCO_PREFIX = 'machineconfiguration.openshift.io'

export const LAYERING_LABEL = `${MCO_PREFIX}/layering-enabled`
export const ROLE_LABEL = `${MCO_PREFIX}/role`
export const BUILD_POD_LABEL = `${MCO_PREFIX}/buildPod`
export const TARGET_POOL_LABEL = `${MCO_PREFIX}/targetMachineConfigPool`
export const DESIRED_CONFIG_LABEL = `${MCO_PREFIX}/desiredConfig`
export const POOL_ANNOTATION = `${MCO_PREFIX}/pool`
export const NEWEST_IMAGE_ANNOTATION = `${MCO_PREFIX}/newestImageEquivalentConfig`
export const GENERATED_BY_ANNOTATION = `${MCO_PREFIX}/generated-by-controller-version`
export const RELEASE_IMAGE_VERSION_ANNOTATION = `${MCO_PREFIX}/release-image-version`

export const NODE_CURRENT_CONFIG = `${MCO_PREFIX}/currentConfig`
export const NODE_DESIRED_CONFIG = `${MCO_PREFIX}/desiredConfig`
export const NODE_CURRENT_IMAGE = `${MCO_PREFIX}/currentImage`
export const NODE_DESIRED_IMAGE = `${MCO_PREFIX}/desiredImage`
export const NODE_STATE = `${MCO_PREFIX}/state`
export const NODE_REASON = `${MCO_PREFIX}/reason`
export const NODE_DESIRED_DRAIN = `${MCO_PREFIX}/desiredDrain`
export const NODE_LAST_APPLIED_DRAIN = `${MCO_PREFIX}/lastAppliedDrain`
export const MACHINE_ANNOTATION = 'machine.openshift.io/machine'

export const ON_CLUSTER_BUILD_CONFIG = 'on-cluster-build-config'
export const CUSTOM_DOCKERFILE_CONFIG = 'on-cluster-build-custom-dockerfile'
export const OSIMAGEURL_CONFIG = 'machine-config-osimageurl'
export const BASE_PULL_SECRET_KEY = 'baseImagePullSecretName'
export const FINAL_PUSH_SECRET_KEY = 'finalImagePushSecretName'
export const FINAL_PULLSPEC_KEY = 'finalImagePullspec'

export const MOB_NAME = 'machine-os-builder'
export const MOB_SA = 'machine-os-builder'
export const BUILDAH_IMAGE = 'quay.io/buildah/stable:latest'
export const MCO_IMAGE =
  'quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:5b7cd4d5a0aa6b3d6ac5b5ac0a7b7d3f1a0c4b0d3e9e6fa1c35c1e2e1f2b8d9a'
export const CONTROLLER_VERSION = '5e1e3bd6c34d31c7c0cdbd43d9f9b7e6f0b06b8c'
export const RELEASE_VERSION = '4.14.12'

export const rolloutReasonUnsupported = 'rolling back from a layered to non-layered configuration is not currently supported'

export const buildPodName = (rendered: string) => `build-${rendered}`
export const mcConfigMapName = (rendered: string) => `mc-${rendered}`
export const dockerfileConfigMapName = (rendered: string) => `dockerfile-${rendered}`
export const digestConfigMapName = (rendered: string) => `digest-${rendered}`

export const BUILD_CONDITIONS = ['BuildPending', 'Building', 'BuildSuccess', 'BuildFailed'] as const
