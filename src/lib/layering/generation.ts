/**
 * Everything that depends on which generation of the cluster-side layering API the cluster runs,
 * behind one interface:
 *
 * - OpenShift 4.14/4.15: the `on-cluster-build-config` ConfigMap (+ `on-cluster-build-custom-dockerfile`)
 *   and the pool label `machineconfiguration.openshift.io/layering-enabled` (configmap.ts);
 * - OpenShift 4.18+: one MachineOSConfig per pool and MachineOSBuilds (machine-os.ts): setup, build,
 *   enable, disable, nodes, dockerfile and build --local use it.
 *
 * The generation is detected from API discovery, never from a version string.
 */
import type {BuildOptions, BuildResult} from './build-shapes.js'
import {machineOSConfigFor} from '../build/inputs.js'
import {buildLocallyFrom, type LocalBuildOptions, type LocalBuildResult} from '../build/local.js'
import {checkContextDir, type DockerfileOptions, type DockerfileResult, type LocalBuildInputs} from '../build/render.js'
import type {KubeClient} from '../kube/client.js'
import type {ReadCache} from '../kube/read-cache.js'
import {discover, discoveryVerified} from '../kube/discovery.js'
import {noMachineConfigApi} from '../cluster/pools.js'
import type {MachineConfigPool} from '../kube/types.js'
import {configMapBackend} from './configmap/backend.js'
import {runBuild as runConfigMapBuild} from './configmap/build.js'
import {machineOSConfigBackend} from './machine-os/backend.js'
import {buildWithMachineOSConfig} from './machine-os/build.js'
import type {Access, PlanItem} from './types.js'

/** How images are built: the build pod (`custom-pod-builder`) or an OpenShift Build. */
export type BuilderKind = 'build' | 'pod'

/** A pool's build settings, independent of where a generation stores them. */
export interface BuildSettings {
  pool: string
  /** Secret (in the MCO namespace) used to pull the base OS image and the custom Dockerfile's images. */
  baseImagePullSecret: string
  /** Secret (in the MCO namespace) used to push the built image. */
  finalImagePushSecret: string
  /** Where the built image goes; its tag is replaced by the rendered config name. */
  finalImagePullspec: string
  /** undefined: the key is absent and the generation's default applies. */
  builder?: BuilderKind
  /** The pool's custom Dockerfile; undefined: none (or leave as is). */
  customDockerfile?: string
}

/** One change a plan will make: what it is, the permissions it needs, and how to make it. */
export interface Step {
  item: PlanItem
  access: Access[]
  /** Makes the change. Never called for unchanged items or unforced conflicts. */
  run(): Promise<void>
  /**
   * Sends the exact write as a server-side dry run (dryRun=All), so the API server's schema and
   * validation rules judge it before anything is written; throws its refusal.
   */
  dryRun?(): Promise<void>
}

export interface BuildFollowEvent {
  phase: 'builder' | 'building' | 'failed' | 'pending' | 'retrying' | 'succeeded' | 'waiting'
  message: string
}

export interface FollowOptions {
  signal?: AbortSignal
  /** When the follow started (events older than this are history). */
  since?: number
  onEvent?: (e: BuildFollowEvent) => void
  /** How long image-build may be finished without its digest ConfigMap before the build counts as stuck. */
  stallGraceMs?: number
}

/** What a server-side dry run of a pool's settings object found. */
export interface SettingsDryRun {
  /** The object, e.g. `MachineOSConfig worker`. */
  subject: string
  /** Why the API server rejects it; undefined when it accepts it. */
  rejected?: string
  /** How to fix it. */
  fix: string
}

export interface LayeringBackend {
  /** `configmap` (4.14/4.15) or `machineosconfig` (4.18+). */
  readonly generation: 'configmap' | 'machineosconfig'
  /** A few words for people, e.g. "OpenShift 4.14/4.15 (on-cluster-build-config + pool label)". */
  readonly title: string
  /** Whether a node that runs a layered image can go back to plain configs by itself. */
  readonly nodesCanRevert: boolean
  /** The default builder when the settings do not name one, as the operator applies it. */
  readonly defaultBuilder: BuilderKind
  /** What holds a pool's build settings, as people name it (`MachineOSConfig`, `on-cluster-build-config`). */
  readonly settingsObject: string
  /**
   * `required`: the custom Dockerfile must end with `FROM configs AS final` (4.14/4.15); `last-stage`: its
   * last stage is the image built, and should build on the OS image (4.18+).
   */
  readonly finalStage: 'last-stage' | 'required'
  /** Whether the cluster deletes a pool's old images from the registry, so the push secret needs delete rights. */
  readonly prunesImages: boolean
  /** The command that changes a pool's custom Dockerfile (Containerfile). */
  editCustomDockerfile(pool: string): string
  /**
   * A server-side dry run of the pool's settings object as it stands (does the API server accept it?);
   * undefined where the generation keeps no object per pool.
   */
  dryRunSettings(client: KubeClient, pool: string, signal?: AbortSignal, reads?: ReadCache): Promise<SettingsDryRun | undefined>

  /**
   * The build settings in effect for a pool, or undefined when builds are not set up. `reads`: lists
   * already asked for in this run (before any write), shared with planSettings and isEnabled.
   */
  readSettings(client: KubeClient, pool: string, reads?: ReadCache): Promise<BuildSettings | undefined>
  /** The steps that make the cluster hold `settings` (unchanged / create / update / conflict). */
  planSettings(
    client: KubeClient,
    settings: BuildSettings,
    opts: {force?: boolean; dryRun?: boolean; reads?: ReadCache; resolvePullspec?: () => Promise<string>},
  ): Promise<Step[]>
  /**
   * What a person should know about planned changes (e.g. what does not take effect by itself);
   * optedIn/anyOptedIn: the pool / any pool was opted in before this change.
   */
  planNotes(items: PlanItem[], opts: {pool: string; optedIn: boolean; anyOptedIn: boolean}): string[]
  /** Whether the pool is opted into on-cluster builds. */
  isEnabled(client: KubeClient, pool: MachineConfigPool, reads?: ReadCache): Promise<boolean>
  /** The step that opts the pool in (or out). */
  planOptIn(client: KubeClient, pool: MachineConfigPool, enable: boolean, opts?: {dryRun?: boolean}): Promise<Step>
  /** The digested image the pool's nodes should run, if one has been built. */
  poolImage(pool: MachineConfigPool): string | undefined
  /** Whether the pool's nodes wait for an image before they are updated (the pool is opted in). */
  waitsForImage(pool: MachineConfigPool): boolean
  /**
   * Follow the cluster's build of the pool's current rendered config until it succeeds (resolves
   * with the image) or fails (throws a MobError with the reason and the build log's last lines).
   */
  followBuild(client: KubeClient, pool: string, opts: FollowOptions): Promise<string>
  /** Permissions the one-shot build needs besides reading. */
  readonly oneShotBuildAccess: Access[]
  /** Build the pool's image once from here, as the cluster's builder would (joins a build that exists). */
  oneShotBuild(
    client: KubeClient,
    pool: string,
    opts: Pick<BuildOptions, 'onEvent' | 'onRetry' | 'signal' | 'stallGraceMs' | 'timeoutMs'>,
  ): Promise<BuildResult>
  /** After opting out: wait until the cluster has cleaned up after the pool. */
  followOptOut(client: KubeClient, pool: string, opts: FollowOptions): Promise<void>
  /**
   * The Dockerfile (4.18+: Containerfile) the pool's next or running build uses, with its custom
   * part checked; on request compared with the running build's copy, and written with the rest of the
   * build context as the cluster's build receives it. Changes nothing in the cluster.
   */
  dockerfile(client: KubeClient, pool: string, opts: DockerfileOptions): Promise<DockerfileResult>
  /** What a build of the pool on this machine needs (`build --local`): the build context, the secrets, the tag. */
  localBuildInputs(client: KubeClient, pool: string, opts: {push: boolean; signal?: AbortSignal}): Promise<LocalBuildInputs>
}

/**
 * The backend for the cluster behind `client`, from API discovery: the MachineOSConfig one where that
 * API is served (4.18+), the ConfigMap one otherwise. Fails with exit code 10 when the cluster does not
 * serve the MachineConfig API.
 */
export async function detectBackend(client: KubeClient, opts: {readOnly?: boolean} = {}): Promise<LayeringBackend> {
  let d = await discover(client)
  // Before writing, a cached discovery is confirmed against the server's version (a read-only
  // command goes on with it: a new version drops the cache for the next run).
  if (!opts.readOnly && !(await discoveryVerified(client))) d = await discover(client)
  if (!d.machineConfig) throw noMachineConfigApi(client)
  return d.machineOS ? machineOSConfigBackend : configMapBackend
}

/** The Dockerfile or Containerfile of a pool's build, from the backend of the cluster's generation. */
export async function poolDockerfile(client: KubeClient, pool: string, opts: DockerfileOptions = {}): Promise<DockerfileResult> {
  // A directory that cannot take the context is refused before the cluster is asked anything.
  if (opts.exportDir) await checkContextDir(opts.exportDir, {force: opts.force})
  return (await detectBackend(client, {readOnly: true})).dockerfile(client, pool, opts)
}

/** Builds the pool's image on this machine, from the build context of the cluster's generation. */
export async function buildLocally(client: KubeClient, pool: string, opts: LocalBuildOptions): Promise<LocalBuildResult> {
  return buildLocallyFrom(async (o) => (await detectBackend(client, {readOnly: true})).localBuildInputs(client, pool, o), pool, opts)
}

/**
 * Builds the pool's image once from here (`oc mob build`): a pool with a MachineOSConfig (4.18+) through
 * the machine-os-builder, any other through the 4.14/4.15 build pod.
 */
export async function runBuild(client: KubeClient, pool: string, opts: BuildOptions = {}): Promise<BuildResult> {
  const machineOS = await machineOSConfigFor(client, pool)
  if (!machineOS) return runConfigMapBuild(client, pool, opts)
  opts.onEvent?.({message: `checking the build inputs of pool ${pool}`, phase: 'checking'})
  return buildWithMachineOSConfig(client, machineOS.pool, machineOS.config, opts)
}
export type {BuildOptions, BuildResult} from './build-shapes.js'
