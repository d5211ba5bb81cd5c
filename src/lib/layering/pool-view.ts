/**
 * The shapes of a pool's build and image as `status` shows them, whichever mechanism opted the pool
 * in. Each backend fills them (configmap/pool-status.ts, machine-os/pool-status.ts); pool-status.ts
 * picks the backend.
 */
import type {Backend, BuildObjectInfo} from '../cluster/build-objects.js'
import type {HistoryEntry} from '../cluster/history.js'
import type {ConfigMap, Pod} from '../kube/types.js'
import type {MachineOSBuild, MachineOSConfig} from '../mco/machine-os.js'
import type {BuildState} from '../mco/pool-state.js'

export type ImageMatch = 'no' | 'unknown' | 'yes'

export interface PoolBuild {
  state: BuildState
  reason: string | null
  message: string | null
  since: string | null
  /** The 4.14 hang: image-build failed but the pod stays Running (the conditions still say Building). */
  hung: boolean
  /** The build object of the current rendered config, when there is one. */
  object: BuildObjectInfo | null
  /**
   * 4.18+, a failed build: why, as the MachineOSBuild records it (4.22 and the 4.19 backports); null when
   * it says only "Build Failed" (then the cause is only in the build log).
   */
  cause?: string | null
  /** 4.18+, a build under way or failed: its Job's attempts (backoffLimit 3: up to four pods). */
  attempts?: BuildAttempts | null
}

/** The pods a MachineOSBuild's Job ran: one per attempt. */
export interface BuildAttempts {
  /** The attempt under way, or the last one. */
  attempt: number
  /** How many the Job makes before it gives up (backoffLimit + 1). */
  of: number
  /** The attempts that failed, oldest first. */
  failed: Array<{pod: string; reason: string}>
}

/** A condition as status shows it. */
export interface ConditionView {
  reason: string | null
  message: string | null
  since: string | null
}

/** 5.0/4.23+: the OS stream the pool's images are based on. */
export interface OSImageStreamView {
  /** What the pool asks for (spec.osImageStream.name); null: the cluster's default. */
  requested: string | null
  /** What the pool was last updated to (status.osImageStream.name). */
  current: string | null
  /** The base OS image of that stream (the `cluster` OSImageStream's availableStreams). */
  osImage: string | null
}

/** An event about one of the pool's MachineOSBuilds (5.0+ record them). */
export interface BuildEvent {
  build: string
  type: string
  reason: string
  message: string
  /** When it last happened. */
  time: string | null
  count: number
}

export interface MachineOSConfigView {
  name: string
  /** Where images are pushed (spec.renderedImagePushSpec); each build is tagged with its MachineOSBuild's name. */
  renderedImagePushSpec: string | null
  /** The image it reports as current (status.currentImagePullSpec). */
  currentImagePullSpec: string | null
  /** Its MachineOSBuilds, newest first. */
  builds: string[]
}

/** What differs by generation in a pool's status. */
export interface PoolView {
  build: PoolBuild
  /** How the pool's builds run: a build pod (custom-pod-builder), an OpenShift Build (openshift-image-builder), or a Job (4.18+). */
  builder: Backend | null
  /** Digested pullspec: the newestImageEquivalentConfig annotation, or the MachineOSConfig's currentImagePullSpec. */
  image: string | null
  /** `sha256:…` of the image. */
  imageDigest: string | null
  /** What imageMatchesConfig rests on. */
  imageEvidence: string | null
  /** Whether the image was built from the current rendered config (null: no image or not layered). */
  imageMatchesConfig: ImageMatch | null
  layered: boolean
  /** What opted the pool in: the layering-enabled label (4.14/4.15) or a MachineOSConfig (4.18+). */
  optIn: 'label' | 'machineosconfig' | null
  machineOSConfig: MachineOSConfigView | null
  /** 4.20+: the pool's ImageBuildDegraded condition, when True. */
  imageBuildDegraded?: ConditionView | null
  /** 4.14/4.15: the pool's build ConfigMaps of its rendered config that no build object goes with (an interrupted build left them). */
  orphanedConfigMaps?: string[]
  /** 4.14/4.15: the pool has an image but none of the Build* conditions the node controller needs to roll it out. */
  buildConditionsLost?: boolean
}

/** What a pool's view is computed from. */
export interface PoolContext {
  /** The pool's 4.14/4.15 build pods and Builds. */
  objects: BuildObjectInfo[]
  /** oc-mob's image history of the pool. */
  history: HistoryEntry[]
  /** How on-cluster-build-config says builds run (4.14/4.15). */
  backend: Backend | null
  /** The pool's MachineOSConfig (4.18+) and every MachineOSBuild. */
  mosc?: MachineOSConfig
  mosbs: MachineOSBuild[]
  /** 4.18+: the pods of the machine-os-builder's Jobs. */
  jobPods?: Pod[]
  /** 4.14/4.15: the build ConfigMaps (labelled buildPod) of the operator's namespace. */
  buildConfigMaps?: ConfigMap[]
  /** When the pool is judged (for the grace of a build being set up). */
  now?: number
}

/** A pool as status shows it, as far as the judgement of its build needs. */
export type ViewedPool = PoolView & {name: string; renderedConfig: string | null}

/** The pods a stalled build is recognised from. */
export interface BuildPods {
  /** 4.14/4.15 build pods. */
  buildPods: Pod[]
  /** 4.18+: the pods of the machine-os-builder's Jobs. */
  jobPods?: Pod[]
}

/** Something wrong with a pool's build, and what to do about it. */
export interface BuildProblem {
  severity: 'error' | 'warning'
  message: string
  next: string | null
}
