/**
 * End-to-end harness: start the emulated API server on loopback, run oc-mob's real commands against
 * it (in-process with @oclif/test's runCommand, or as a child process through bin/), and read the
 * cluster's state back over HTTPS.
 */
import {runCommand} from '@oclif/test'
import {execa} from 'execa'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {packedCli} from '../../bench/packed.js'
import {startEmulator as startBareEmulator, type Emulator, type EmulatorOptions} from '../../emulator/index.js'
import {type Cluster, type ClusterOptions, startCluster as startSimCluster} from '../../emulator/sim/index.js'
import {R as SR} from '../../emulator/sim/client.js'
import {commandOutputs} from '../outputs.js'
import {resubmitWritesDryRun} from './dry-run.js'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

/**
 * The emulated API server alone (no simulation), recording writes: when the test closes it, every write oc-mob
 * made is first re-submitted as a server-side dry run with strict field validation (`dry-run.ts`), and a
 * refusal fails the test (after the server is closed). `checkWrites: false` leaves that out, for a test of
 * the check itself.
 */
export async function startEmulator(opts: EmulatorOptions & {checkWrites?: boolean} = {}): Promise<Emulator> {
  const {checkWrites = true, ...rest} = opts
  const emu = await startBareEmulator({...rest, recordWrites: rest.recordWrites || checkWrites})
  if (checkWrites) checkWritesOnClose(emu)
  return emu
}

/** `emulator/sim`'s `startCluster` (the API server and the controllers), its writes checked as startEmulator's are. */
export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const cluster = await startSimCluster({...opts, emulator: {...opts.emulator, recordWrites: true}})
  checkWritesOnClose(cluster.emulator)
  return cluster
}

/** close() re-submits oc-mob's writes as a dry run first (faults cleared), and throws what the server refuses. */
function checkWritesOnClose(emu: Emulator): void {
  const close = emu.close.bind(emu)
  let checked = false
  emu.close = async () => {
    if (checked) return close()
    checked = true
    let refused: string[] = []
    try {
      emu.faults.clear()
      refused = (await resubmitWritesDryRun(emu)).refused
    } finally {
      await close()
    }

    if (refused.length > 0) throw new Error(`writes of oc-mob the API server refuses as a dry run:\n${refused.join('\n')}`)
  }
}

export interface RunResult {
  stdout: string
  stderr: string
  /** 0 on success. */
  exitCode: number
  error?: Error
}

/** Run a command in-process (fast). */
export async function run(args: string[]): Promise<RunResult> {
  const {error, stderr, stdout} = await runCommand(args, {root: ROOT})
  const exit = (error as {oclif?: {exit?: number}} | undefined)?.oclif?.exit
  commandOutputs.push(stdout, stderr)
  return {error, exitCode: error ? (exit ?? 1) : 0, stderr, stdout}
}

/**
 * The executable users run: bin/run.cjs of the CLI as `npm pack` ships it (bundled), packed once per
 * test process. Set OC_MOB_TEST_SOURCES=1 to run bin/dev.js (the TypeScript sources) instead.
 */
export function cliPath(): string {
  return process.env.OC_MOB_TEST_SOURCES ? path.join(ROOT, 'bin', 'dev.js') : packedCli()
}

/**
 * Run the CLI as a separate process, as a user would (real exit code, real stdout/stderr streams),
 * stopped after `timeoutMs` (a stopped run says so at the end of its stderr).
 */
export async function runBin(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 60_000): Promise<RunResult> {
  const r = await execa(process.execPath, [cliPath(), ...args], {
    cwd: ROOT,
    env: {NO_COLOR: undefined, FORCE_COLOR: undefined, ...env},
    extendEnv: true,
    reject: false,
    timeout: timeoutMs,
  })
  commandOutputs.push(String(r.stdout), String(r.stderr))
  const stopped = r.timedOut ? `\n(still running after ${timeoutMs / 1000} s: stopped)` : ''
  return {exitCode: r.exitCode ?? 1, stderr: String(r.stderr) + stopped, stdout: String(r.stdout)}
}

/** `oc mob status -o json`'s top-level keys, in the documented order (README); with a pool, `nodes` follows `pools`. */
export const STATUS_JSON_KEYS = ['context', 'server', 'machineOSBuilder', 'pools', 'buildConfig', 'machineOSConfigApi', 'problems']

// --------------------------------------------------------------- fixture builders

export const MCO_NS = 'openshift-machine-config-operator'

export function namespace(name: string) {
  return {apiVersion: 'v1', kind: 'Namespace', metadata: {name}}
}

export function pool(
  name: string,
  opts: {
    layered?: boolean
    rendered?: string
    image?: string
    conditions?: Array<[string, string, string?, string?]>
    counts?: [number, number]
  } = {},
) {
  const [total, updated] = opts.counts ?? [0, 0]
  return {
    apiVersion: 'machineconfiguration.openshift.io/v1',
    kind: 'MachineConfigPool',
    metadata: {
      annotations: opts.image ? {'machineconfiguration.openshift.io/newestImageEquivalentConfig': opts.image} : {},
      labels: opts.layered ? {'machineconfiguration.openshift.io/layering-enabled': ''} : {},
      name,
    },
    spec: {
      configuration: {name: opts.rendered ?? `rendered-${name}-0123456789abcdef0123456789abcdef`},
      machineConfigSelector: {matchLabels: {'machineconfiguration.openshift.io/role': name}},
      nodeSelector: {matchLabels: {[`node-role.kubernetes.io/${name}`]: ''}},
    },
    status: {
      conditions: (opts.conditions ?? [['Updated', 'True']]).map(([type, status, reason, message]) => ({
        lastTransitionTime: new Date().toISOString(),
        message: message ?? '',
        reason: reason ?? '',
        status,
        type,
      })),
      configuration: {name: opts.rendered ?? `rendered-${name}-0123456789abcdef0123456789abcdef`},
      degradedMachineCount: 0,
      machineCount: total,
      readyMachineCount: updated,
      unavailableMachineCount: 0,
      updatedMachineCount: updated,
    },
  }
}

export function node(name: string, roles: string[], ann: Record<string, string> = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      annotations: {'machineconfiguration.openshift.io/state': 'Done', ...ann},
      labels: Object.fromEntries([...roles.map((r) => [`node-role.kubernetes.io/${r}`, '']), ['kubernetes.io/hostname', name]]),
      name,
    },
    status: {addresses: [{address: '127.0.0.1', type: 'InternalIP'}], conditions: [{status: 'True', type: 'Ready'}]},
  }
}

export function basicCluster() {
  return [
    namespace(MCO_NS),
    namespace('openshift-config'),
    pool('master', {counts: [1, 1]}),
    pool('worker', {counts: [1, 1]}),
    node('master-0', ['master', 'control-plane'], {
      'machineconfiguration.openshift.io/currentConfig': 'rendered-master-0123456789abcdef0123456789abcdef',
      'machineconfiguration.openshift.io/desiredConfig': 'rendered-master-0123456789abcdef0123456789abcdef',
    }),
    node('worker-0', ['worker'], {
      'machineconfiguration.openshift.io/currentConfig': 'rendered-worker-0123456789abcdef0123456789abcdef',
      'machineconfiguration.openshift.io/desiredConfig': 'rendered-worker-0123456789abcdef0123456789abcdef',
    }),
  ]
}

/**
 * 4.18+: opt pool `worker` in on a simulated cluster as an administrator would: a push secret `push` with
 * credentials for the registry of `pushSpec`, and the MachineOSConfig that builds with it (`containerFile`:
 * its entries, if any). The machine-os-builder starts the first build at once.
 */
export async function optInWithMachineOSConfig(
  cluster: Cluster,
  opts: {pushSpec?: string; auth?: string; containerFile?: Array<{containerfileArch: string; content: string}>} = {},
): Promise<void> {
  const b64 = (s: string): string => Buffer.from(s).toString('base64')
  const pushSpec = opts.pushSpec ?? 'quay.io/org/os:latest'
  const host = pushSpec.split('/')[0]
  await cluster.client.create(SR.secrets, MCO_NS, {
    data: {'.dockerconfigjson': b64(JSON.stringify({auths: {[host]: {auth: b64(opts.auth ?? 'robot:token')}}}))},
    metadata: {name: 'push', namespace: MCO_NS},
    type: 'kubernetes.io/dockerconfigjson',
  })
  await cluster.client.create(SR.machineosconfigs, undefined, {
    apiVersion: 'machineconfiguration.openshift.io/v1',
    kind: 'MachineOSConfig',
    metadata: {name: 'worker'},
    spec: {
      ...(opts.containerFile ? {containerFile: opts.containerFile} : {}),
      imageBuilder: {imageBuilderType: 'Job'},
      machineConfigPool: {name: 'worker'},
      renderedImagePushSecret: {name: 'push'},
      renderedImagePushSpec: pushSpec,
    },
  })
}
