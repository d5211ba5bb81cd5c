// The simulated OpenShift 4.14 cluster: kubelet, Machine Config Operator pieces
// (render controller, operator, machine-os-builder/BuildController, node
// controller, daemons) and the machine API, all as API clients of whatever API
// server the kubeconfig points at.
import {execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import YAML from 'yaml'
import {SimClient, type Obj, R} from './client.js'
import type {Logger} from './loop.js'
import type {Emulator, EmulatorOptions} from '../index.js'
import {type ContainerProcess, type ContainerScript, type HostRunner, Kubelet} from './kubelet.js'
import {RenderController} from './render.js'
import {DeploymentController, Operator, machineOSBuilderProcess} from './operator.js'
import {Daemons, NodeController} from './nodes.js'
import {MachineAPI} from './machineapi.js'
import {ControllerManager} from './controller-manager.js'
import {MachineOSController, machineOSImageBuild} from './machineos.js'
import {scriptedImageBuild, scriptedWaitForDone} from './scripts.js'
import {MCO_NS, OSIMAGEURL_CONFIG} from './names.js'
import {OSImageStreamController} from './osimagestream.js'
import {releaseFeatures} from '../generation.js'

interface SimulationDelays {
  /** ContainerCreating time of every pod (default 300 ms). */
  podStartMs?: number
  /** Cordon-to-Done time of a node update (default 2000 ms). */
  rebootMs?: number
  /** Machine provisioning time before its Node appears (default 2000 ms). */
  machineReplaceMs?: number
  /** Duration of a scripted image-build (default 3000 ms). */
  buildMs?: number
  /** wait-for-done's poll interval in scripted mode (default 1000 ms, like `sleep 1`). */
  pollMs?: number
  /** Back-off before restarting a crashed restartPolicy Always container (default 1000 ms). */
  restartMs?: number
  /** Retry delay after a failed controller pass (default 500 ms). */
  retryMs?: number
  /** Periodic resync of the controllers (default 5000 ms). */
  resyncMs?: number
  /** Pause between lines of a ContainerScript without durationMs (default 20 ms). */
  lineMs?: number
}

interface RegistryHandle {
  host: string
  url?: string
  authfile?: string
  stop?: () => Promise<void> | void
}

interface StorageHandle {
  dir?: string
  env: Record<string, string>
  trustRegistry?: (host: string) => Promise<void>
  cleanup?: () => Promise<void> | void
}

export interface SimulationOptions {
  kubeconfig: string
  mode?: BuildMode
  delays?: SimulationDelays
  /** Scripts that take precedence over everything else (tests: failing builds, hangs). */
  scripts?: ContainerScript[]
  /** Extra in-process containers. */
  processes?: ContainerProcess[]
  /**
   * Real mode: use this registry / buildah storage instead of starting new ones. Scripted mode: the
   * registry (e.g. the token-registry stand-in) in which the machine-os-builder checks that a build's
   * image still exists before reusing it, and deletes the images of deleted builds.
   */
  registry?: RegistryHandle & {auth?: {user: string; password: string}}
  storage?: StorageHandle
  log?: Logger
  /**
   * Leave out controllers, e.g. `{operator: false}` for a cluster whose machine-os-builder never
   * starts (the operator is down or degraded): builds then only happen when someone drives them.
   */
  controllers?: {operator?: boolean; nodes?: boolean; machineAPI?: boolean; machineOS?: boolean; controllerManager?: boolean}
  /**
   * The release of the 4.19 generation played (default '4.19'; generation.ts `releaseFeatures`): '4.22'
   * writes the cause of a failed build, '5.0' also events on MachineOSBuilds and OSImageStreams
   * (startCluster then serves the OSImageStream API).
   */
  release?: string
}

export interface Simulation {
  mode: 'real' | 'scripted'
  /** Why the simulation runs scripted (missing tools), when it does. */
  why?: string
  registry?: RegistryHandle
  /** Real mode: the base OS image pushed to the loopback registry. */
  baseImage?: string
  kubelet: Kubelet
  client: SimClient
  /** Adds container scripts while running (they take precedence). */
  addScripts(scripts: ContainerScript[]): void
  stop(): Promise<void>
}

const onPath = (cmd: string): boolean => {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], {stdio: 'ignore'})
    return true
  } catch {
    return false
  }
}

/** The OCI tooling, loaded only when real mode is wanted. */
export interface OciTools {
  registry: typeof import('../oci/registry.js')
  storage: typeof import('../oci/storage.js')
  base: typeof import('../oci/base-image.js')
  runner: typeof import('../oci/runner.js')
}

export type BuildMode = 'auto' | 'real' | 'scripted'

/**
 * The build mode `OC_MOB_SIM_BUILDS` asks for (`scripted`, `real` or `auto`, the default): it decides
 * every simulation started in `auto` mode — `npm run demo`, `npm run cluster:sim` and the tests'.
 */
export function buildModeFromEnv(env: NodeJS.ProcessEnv = process.env): BuildMode {
  const v = (env.OC_MOB_SIM_BUILDS ?? '').trim().toLowerCase()
  if (v === '' || v === 'auto') return 'auto'
  if (v === 'real' || v === 'scripted') return v
  throw new Error(`OC_MOB_SIM_BUILDS=${env.OC_MOB_SIM_BUILDS} is not a build mode: use scripted, real or auto`)
}

/** Whether real builds can run here, and if not, why (naming the Debian packages). */
export async function realModeAvailable(): Promise<{ok: boolean; why?: string; oci?: OciTools}> {
  if (buildModeFromEnv() === 'scripted') return {ok: false, why: 'OC_MOB_SIM_BUILDS=scripted asks for scripted builds'}
  const missing: string[] = []
  if (!onPath('buildah')) missing.push('buildah')
  if (!onPath('docker-registry')) missing.push('docker-registry')
  if (missing.length) return {ok: false, why: `missing Debian package(s): ${missing.join(', ')} (apt-get install ${missing.join(' ')})`}
  let oci: OciTools
  try {
    const [registry, storage, base, runner] = await Promise.all([
      import('../oci/registry.js'),
      import('../oci/storage.js'),
      import('../oci/base-image.js'),
      import('../oci/runner.js'),
    ])
    oci = {registry, storage, base, runner}
  } catch (e) {
    return {ok: false, why: `the OCI tooling (emulator/oci) could not be loaded: ${(e as Error).message}`}
  }
  const r = await oci.runner.hostRunnerAvailable().catch((e) => ({ok: false, why: (e as Error).message}))
  if (!r.ok) return {ok: false, why: `the host runner is not available: ${r.why}`}
  return {ok: true, oci}
}

export async function startSimulation(opts: SimulationOptions): Promise<Simulation> {
  const d = opts.delays ?? {}
  const log: Logger = opts.log ?? (() => undefined)
  const client = SimClient.fromFile(opts.kubeconfig)
  // A test or script that asks for one mode gets it; `auto` is what OC_MOB_SIM_BUILDS says.
  const requested = opts.mode === undefined || opts.mode === 'auto' ? buildModeFromEnv() : opts.mode
  let mode: 'real' | 'scripted' = 'scripted'
  let why: string | undefined
  let oci: OciTools | undefined
  if (requested !== 'scripted') {
    const avail = await realModeAvailable()
    if (avail.ok) {
      mode = 'real'
      oci = avail.oci
    } else if (requested === 'real') {
      client.close()
      throw new Error(`real mode is not available: ${avail.why}`)
    } else why = avail.why
  } else why = opts.mode === 'scripted' ? 'scripted mode was requested' : 'OC_MOB_SIM_BUILDS=scripted'

  const cleanups: Array<() => Promise<void> | void> = []
  let registry: RegistryHandle | undefined
  let baseImage: string | undefined
  let host: HostRunner | undefined
  try {
    if (mode === 'real' && oci) {
      registry = opts.registry
      if (!registry) {
        const r = await oci.registry.startRegistry({})
        registry = r
        cleanups.push(() => r.stop())
      }
      let storage = opts.storage as import('../oci/storage.js').BuildahStorage | undefined
      if (!storage) {
        const s = await oci.storage.createBuildahStorage({registries: [registry.host]})
        storage = s
        cleanups.push(() => s.cleanup())
      } else await storage.trustRegistry?.(registry.host)
      const base = await oci.base.buildBaseImage({registry: registry as any, storage})
      baseImage = base.pullspec
      log(`sim: base OS image ${baseImage} (${base.cached ? 'cached' : 'built'} in ${base.elapsedMs} ms)`)
      await useLoopbackBaseImage(client, baseImage, registry)
      host = {runOnHost: oci.runner.runOnHost, storage, ocShimDir: oci.runner.ocShimDir}
    }

    // machineOS: the 4.18+ machine-os-builder for MachineOSConfig pools (off unless asked for).
    const on = {machineAPI: true, machineOS: false, nodes: true, operator: true, controllerManager: true, ...opts.controllers}
    const processes: ContainerProcess[] = [
      machineOSBuilderProcess({client, log, retryMs: d.retryMs ?? 500}),
      ...(opts.processes ?? []),
      ...(on.machineOS ? [machineOSImageBuild(d.lineMs ?? 20)] : []),
    ]
    if (mode === 'scripted') {
      processes.push(scriptedImageBuild({buildMs: d.buildMs ?? 3000}), scriptedWaitForDone({pollMs: d.pollMs ?? 1000}))
    }
    const kubelet = new Kubelet({
      client,
      log,
      scripts: [...(opts.scripts ?? [])],
      processes,
      host,
      podStartMs: d.podStartMs ?? 300,
      restartMs: d.restartMs ?? 1000,
      lineMs: d.lineMs ?? 20,
      retryMs: d.retryMs ?? 500,
    })
    const loopOpts = {retryMs: d.retryMs ?? 500, resyncMs: d.resyncMs ?? 5000}
    const parts: Array<{start(): Promise<void>; stop(): Promise<void>}> = [
      // garbage collection and node taints: the kube-controller-manager's part of a real cluster
      ...(on.controllerManager ? [new ControllerManager(client, log, {...loopOpts, machineOS: on.machineOS})] : []),
      kubelet,
      new RenderController(client, log, loopOpts),
      ...(on.operator ? [new Operator(client, log, {...loopOpts, machineOS: on.machineOS})] : []),
      new DeploymentController(client, log, loopOpts),
      ...(on.nodes
        ? [
            new NodeController(client, log, {...loopOpts, machineOS: on.machineOS}),
            new Daemons({client, log, rebootMs: d.rebootMs ?? 2000, revertFromImage: on.machineOS}),
          ]
        : []),
      ...(on.machineAPI ? [new MachineAPI(client, log, {...loopOpts, machineReplaceMs: d.machineReplaceMs ?? 2000})] : []),
      ...(on.machineOS
        ? [new MachineOSController(client, log, {...loopOpts, registry: mode === 'real' ? registry : opts.registry, release: opts.release})]
        : []),
      ...(releaseFeatures(opts.release).osImageStream
        ? [new OSImageStreamController(client, log, {...loopOpts, release: opts.release})]
        : []),
    ]
    const started: typeof parts = []
    try {
      for (const p of parts) {
        await p.start()
        started.push(p)
      }
    } catch (e) {
      for (const p of started.reverse()) await p.stop().catch(() => undefined)
      throw e
    }
    log(`sim: running (${mode}${why ? `: ${why}` : ''}), kubelet on 127.0.0.1:${kubelet.port}`)
    let stopped = false
    return {
      mode,
      why: mode === 'scripted' ? why : undefined,
      registry,
      baseImage,
      kubelet,
      client,
      addScripts: (s) => kubelet.addScripts(s),
      async stop() {
        if (stopped) return
        stopped = true
        for (const p of [...started].reverse()) await p.stop().catch((e) => log(`sim: stop: ${(e as Error).message}`))
        client.close()
        for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined)
      },
    }
  } catch (e) {
    client.close()
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined)
    throw e
  }
}

/**
 * Real mode: builds pull the base OS image from the loopback registry, so the
 * release's osimageurl ConfigMap is pointed at it (the extensions image too:
 * the template pulls it in an unused stage, and quay.io is out of reach).
 * Registry credentials, if the registry has any, join the global pull secret.
 */
async function useLoopbackBaseImage(client: SimClient, baseImage: string, registry: RegistryHandle): Promise<void> {
  await client.patch(R.configmaps, MCO_NS, OSIMAGEURL_CONFIG, {
    data: {baseOSContainerImage: baseImage, baseOSExtensionsContainerImage: baseImage},
  })
  {
    // A real cluster's global pull secret holds credentials for the registry its release images come
    // from; the loopback registry plays that registry, so it gets an entry too (an open registry
    // accepts and ignores credentials).
    const auths = registry.authfile
      ? (JSON.parse(readFileSync(registry.authfile, 'utf8')).auths ?? {})
      : {[registry.host]: {auth: Buffer.from('release-puller:simulated').toString('base64')}}
    await client.update(R.secrets, 'openshift-config', 'pull-secret', (s) => {
      const cur = JSON.parse(Buffer.from(s.data?.['.dockerconfigjson'] ?? 'e30=', 'base64').toString('utf8'))
      cur.auths = {...cur.auths, ...auths}
      s.data = {...s.data, '.dockerconfigjson': Buffer.from(JSON.stringify(cur)).toString('base64')}
    })
  }
}

const DEFAULT_FIXTURE = fileURLToPath(new URL('../fixtures/default.yaml', import.meta.url))

/** The objects of a multi-document YAML fixture. */
export function loadFixture(path = DEFAULT_FIXTURE): Obj[] {
  return YAML.parseAllDocuments(readFileSync(path, 'utf8'))
    .map((doc) => doc.toJSON())
    .filter((o: unknown): o is Obj => !!o && typeof o === 'object')
}

export interface ClusterOptions extends Omit<SimulationOptions, 'kubeconfig'> {
  /** Extra objects loaded after the fixture. */
  objects?: Obj[]
  /** Fixture file (default: fixtures/default.yaml). */
  fixture?: string
  /** Options passed through to startEmulator. */
  emulator?: EmulatorOptions
}

export interface Cluster {
  /** The API server (startEmulator's handle). */
  emulator: Emulator
  sim: Simulation
  kubeconfig: string
  client: SimClient
  stop(): Promise<void>
}

/** Starts the emulated API server with the default fixture, and the simulation against it. */
export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  // Loaded on demand: the simulation alone also runs against a real kube-apiserver (sim-cli.ts).
  const {startEmulator} = await import('../index.js')
  const objects = [...loadFixture(opts.fixture), ...(opts.objects ?? [])]
  // OpenShift 4.14 serves no MachineOSConfig/MachineOSBuild API (unless a test asks for it).
  const groups = {machineOS: false, osImageStream: releaseFeatures(opts.release).osImageStream, ...opts.emulator?.groups}
  // the simulation's controller-manager collects garbage, as on a real cluster (unless it is left out)
  const garbageCollector = opts.controllers?.controllerManager === false
  const emulator = await startEmulator({objects, garbageCollector, ...opts.emulator, groups})
  let sim: Simulation
  try {
    sim = await startSimulation({...opts, kubeconfig: emulator.kubeconfig})
  } catch (e) {
    await emulator.close()
    throw e
  }
  return {
    emulator,
    sim,
    kubeconfig: emulator.kubeconfig,
    client: sim.client,
    async stop() {
      await sim.stop()
      await emulator.close()
    },
  }
}
