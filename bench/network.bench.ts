/**
 * Over a slow link: every API request answered 50 ms (and 150 ms) late by the emulator's latency
 * fault, as from a workstation behind a VPN. What decides the wait there is the number of sequential
 * round trips, not local CPU. Each command is spawned as users run it (the packed CLI), against:
 *
 * - the floor: one `kubectl get mcp -o json` (kubectl's discovery cache warm, as on any workstation);
 * - the kubectl commands an administrator would run one after another for the same answer (KUBECTL
 *   below, written down per command), their wall times added up.
 *
 * For each command the critical path is printed: the sequential round trips before its first output
 * (stdout or stderr), counted from the emulator's request log (each request's arrival and answer,
 * on this process's clock): a request that arrived after another's answer went out is one step
 * further along. Goals at 50 ms: status at most 1.3x the floor, status POOL at most 1.5x, and no
 * command more than three round trips before its first output. The runs are warm (a first run
 * before them wrote the discovery and code caches, as every run after a user's first has); status
 * without the discovery cache is reported beside them.
 *
 * A new connection's TCP and TLS handshakes cost two more round trips (the emulator's connectLatency),
 * for kubectl and oc-mob alike: both open one HTTP/2 connection and send every request on it, but
 * oc-mob opens its own while it loads (src/boot/early-connect.ts). Status without that early
 * connection is measured beside it.
 *
 * `npx tsx bench/network.bench.ts [--quick]` (quick: 500 nodes, 50 ms only, one run each, no kubectl sequences).
 */
import {spawn} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import type {Emulator} from '../emulator/index.js'
import {startEmulator, startFakeKubelet} from '../emulator/index.js'
import {runBuild} from '../src/lib/layering/generation.js'
import {KubeClient} from '../src/lib/kube/client.js'
import {loadKubeconfig} from '../src/lib/kube/kubeconfig.js'
import {R} from '../src/lib/kube/resources.js'
import {packedCli} from './packed.js'
import {type BenchResult, standalone} from './run.js'
import {kubectlFor} from './kubectl.js'
import {cluster as statusCluster} from './status.bench.js'
import {doctorCluster} from './doctor.bench.js'
import {buildFixture, finishBuildPod} from './build.bench.js'
import {LOGS_POD, LOGS_POOL, logsObjects} from './logs.bench.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const NS = 'openshift-machine-config-operator'
const now = (): number => performance.timeOrigin + performance.now()

interface Run {
  ms: number
  /** ms from spawn to the first byte on stdout or stderr */
  firstMs: number
  /** sequential round trips answered before the first output */
  trips: number
  /** requests answered before the first output */
  requests: number
}

/** The longest chain of requests each sent after the previous one's answer: the round trips waited for in turn. */
export function criticalPath(requests: Array<{at: number; answeredAt?: number}>, until = Number.POSITIVE_INFINITY): number {
  const done = requests.filter((r) => r.answeredAt !== undefined && r.answeredAt <= until).sort((a, b) => a.at - b.at)
  const depth: number[] = []
  for (const [i, r] of done.entries()) {
    let d = 0
    for (let j = 0; j < i; j++) if (done[j].answeredAt! <= r.at) d = Math.max(d, depth[j])
    depth.push(d + 1)
  }

  return Math.max(0, ...depth)
}

function spawnOnce(emu: Emulator, cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  emu.resetRequests()
  return new Promise((resolve, reject) => {
    const started = now()
    let first = 0
    let err = ''
    const child = spawn(cmd, args, {cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe']})
    const mark = (): void => {
      first ||= now()
    }

    child.stdout.on('data', mark)
    child.stderr.on('data', (d) => {
      mark()
      err += String(d)
    })
    child.on('exit', (code) => {
      const end = now()
      if (code !== 0) {
        reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.slice(0, 800)}`))
        return
      }

      first ||= end
      const answered = emu.requests.filter((r) => r.answeredAt !== undefined && r.answeredAt <= first)
      resolve({firstMs: first - started, ms: end - started, requests: answered.length, trips: criticalPath(emu.requests, first)})
    })
  })
}

/**
 * The answer delay of the run that counts round trips. Requests sent together leave a loaded machine
 * up to tens of milliseconds apart (new connections, TLS); with answers this late, one sent after
 * another's answer really waited for it.
 */
const COUNT_MS = 400

/** Every request answered `ms` late; new connections also pay their handshakes' round trips, unless `connect` is false. */
function setLatency(emu: Emulator, ms: number, connect = true): void {
  emu.faults.clear()
  emu.faults.latency({path: /./}, ms)
  if (connect) emu.faults.connectLatency(ms)
}

/**
 * One warm-up run (it fills the caches), then `runs` runs at `latency`: the medians; then one run at
 * COUNT_MS for the round trips and requests before the first output.
 */
async function measure(emu: Emulator, cmd: string, args: string[], env: NodeJS.ProcessEnv, runs: number, latency: number): Promise<Run> {
  await spawnOnce(emu, cmd, args, env)
  const all: Run[] = []
  for (let i = 0; i < runs; i++) all.push(await spawnOnce(emu, cmd, args, env))
  const med = (f: (r: Run) => number): number => all.map(f).sort((a, b) => a - b)[Math.floor(all.length / 2)]
  // Handshakes are not played here: they hold no request back, only the first one's start.
  setLatency(emu, COUNT_MS, false)
  try {
    const counted = await spawnOnce(emu, cmd, args, env)
    return {firstMs: med((r) => r.firstMs), ms: med((r) => r.ms), requests: counted.requests, trips: counted.trips}
  } finally {
    setLatency(emu, latency)
  }
}

/** A kubectl sequence: each command run in turn (as an administrator types them), wall times and round trips added. */
async function sequence(
  emu: Emulator,
  kubectl: string,
  cmds: string[][],
  env: NodeJS.ProcessEnv,
  runs: number,
  latency: number,
): Promise<Run> {
  const total: Run = {firstMs: 0, ms: 0, requests: 0, trips: 0}
  for (const c of cmds) {
    const r = await measure(emu, kubectl, c, env, runs, latency)
    total.ms += r.ms
    total.trips += r.trips
    total.requests += r.requests
  }

  total.firstMs = total.ms
  return total
}

interface Case {
  name: string
  args: string[]
  /** What an administrator runs for the same answer with kubectl. */
  kubectl: string[][]
  /** At 50 ms: the most this command may take, as a multiple of the floor. */
  goal?: number
  /** Added to the command's environment. */
  env?: NodeJS.ProcessEnv
}

const round = (x: number): number => Math.round(x * 10) / 10

/** The rows of one command at one latency. */
function rows(latency: number, c: Case, mine: Run, floor: Run | undefined, admin: Run | undefined): BenchResult[] {
  const at = `@${latency} ms`
  const out: BenchResult[] = []
  const goal = latency === 50 ? c.goal : undefined
  out.push({
    baseline: floor ? 'kubectl get mcp -o json' : undefined,
    name: `${c.name} ${at}`,
    ok: floor && goal ? mine.ms / floor.ms <= goal : undefined,
    ratio: floor ? Math.round((mine.ms / floor.ms) * 100) / 100 : undefined,
    target: floor && goal ? `<= ${goal}x floor` : undefined,
    unit: 'ms',
    value: round(mine.ms),
  })
  if (admin) {
    out.push({
      baseline: `${c.kubectl.length} kubectl commands: ${admin.trips} round trips`,
      name: `${c.name} ${at} vs the kubectl sequence`,
      ratio: Math.round((mine.ms / admin.ms) * 100) / 100,
      unit: 'ms',
      value: round(admin.ms),
    })
  }

  out.push({
    baseline: `first output at ${round(mine.firstMs)} ms, ${mine.requests} requests`,
    name: `${c.name} ${at}: round trips before first output`,
    ok: latency === 50 ? mine.trips <= 3 : undefined,
    target: latency === 50 ? '<= 3' : undefined,
    unit: 'RT',
    value: mine.trips,
  })
  return out
}

async function commands(emu: Emulator, cases: Case[], latencies: number[], runs: number, quick: boolean): Promise<BenchResult[]> {
  const cli = packedCli()
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-mob-bench-net-'))
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    KUBECONFIG: emu.kubeconfig,
    NO_COLOR: '1',
    XDG_CACHE_HOME: path.join(home, '.cache'),
  }
  delete env.OC_MOB_CACHE_DIR
  const k = await kubectlFor(emu)
  const out: BenchResult[] = []
  try {
    for (const latency of latencies) {
      setLatency(emu, latency)
      const floor = 'skipped' in k ? undefined : await measure(emu, k.path, ['get', 'mcp', '-o', 'json'], env, runs, latency)
      if (floor) {
        out.push({
          baseline: `${floor.trips} round trip(s)`,
          name: `floor: kubectl get mcp -o json @${latency} ms`,
          unit: 'ms',
          value: round(floor.ms),
        })
      }

      for (const c of cases) {
        const mine = await measure(emu, process.execPath, [cli, ...c.args], {...env, ...c.env}, runs, latency)
        // Quick mode (CI) leaves out the administrator's sequences: the floor is enough to keep the bench alive.
        const admin =
          'skipped' in k || quick || c.kubectl.length === 0 ? undefined : await sequence(emu, k.path, c.kubectl, env, runs, latency)
        out.push(...rows(latency, c, mine, floor, admin))
      }
    }
  } finally {
    emu.faults.clear()
    fs.rmSync(home, {force: true, recursive: true})
  }

  return out
}

/** Status without the discovery cache: what a user's first run against a cluster waits for. */
async function coldStatus(emu: Emulator, latency: number): Promise<BenchResult> {
  const once = async (ms: number): Promise<Run> => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-mob-bench-net-'))
    const env: NodeJS.ProcessEnv = {...process.env, HOME: home, KUBECONFIG: emu.kubeconfig, NO_COLOR: '1'}
    delete env.OC_MOB_CACHE_DIR
    setLatency(emu, ms)
    try {
      return await spawnOnce(emu, process.execPath, [packedCli(), 'status'], env)
    } finally {
      emu.faults.clear()
      fs.rmSync(home, {force: true, recursive: true})
    }
  }

  const r = await once(latency)
  const counted = await once(COUNT_MS)
  return {
    baseline: `${counted.trips} round trips before first output`,
    name: `oc mob status, discovery not cached (first run) @${latency} ms`,
    unit: 'ms',
    value: round(r.ms),
  }
}

const STATUS_CASES: Case[] = [
  {
    args: ['status'],
    goal: 1.3,
    // Pools, the build pods, the build config, the builder, the operator.
    kubectl: [
      ['get', 'mcp', '-o', 'json'],
      ['get', 'pods', '-n', NS, '-l', 'machineconfiguration.openshift.io/buildPod', '-o', 'json'],
      ['get', 'configmap', 'on-cluster-build-config', '-n', NS, '-o', 'json'],
      ['get', 'deployment', 'machine-os-builder', '-n', NS, '-o', 'json'],
      ['get', 'co', 'machine-config', '-o', 'json'],
    ],
    name: 'oc mob status (5,000 nodes, 50 pools)',
  },
  {
    args: ['status'],
    env: {OC_MOB_NO_EARLY_CONNECT: '1'},
    kubectl: [],
    name: 'oc mob status, no early connection',
  },
  {
    args: ['status', 'pool-0'],
    goal: 1.5,
    kubectl: [
      ['get', 'mcp', 'pool-0', '-o', 'json'],
      ['get', 'nodes', '-l', 'node-role.kubernetes.io/pool-0', '-o', 'json'],
    ],
    name: 'oc mob status pool-0',
  },
  {
    args: ['status', '-o', 'json'],
    goal: 1.3,
    kubectl: [
      ['get', 'mcp', '-o', 'json'],
      ['get', 'pods', '-n', NS, '-l', 'machineconfiguration.openshift.io/buildPod', '-o', 'json'],
      ['get', 'configmap', 'on-cluster-build-config', '-n', NS, '-o', 'json'],
      ['get', 'deployment', 'machine-os-builder', '-n', NS, '-o', 'json'],
      ['get', 'co', 'machine-config', '-o', 'json'],
    ],
    name: 'oc mob status -o json',
  },
]

const DEMO_CASES: Case[] = [
  {
    args: ['dockerfile', 'worker'],
    // The pool's rendered config and its MachineOSConfig (the Containerfile), the base image.
    kubectl: [
      ['get', 'mcp', 'worker', '-o', 'json'],
      ['get', 'machineosconfig', 'worker', '-o', 'json'],
      ['get', 'configmap', 'machine-config-osimageurl', '-n', NS, '-o', 'json'],
    ],
    name: 'oc mob dockerfile worker',
  },
  {
    args: ['setup', '--pool', 'layering', '--imagestream', 'os-image', '--dry-run'],
    // What exists, then each object created with the server's dry run.
    kubectl: [
      ['get', 'mcp', '-o', 'json'],
      ['get', 'machineosconfigs', '-o', 'json'],
      ['get', 'imagestream', 'os-image', '-n', NS, '--ignore-not-found'],
      ['get', 'serviceaccount', 'builder', '-n', NS, '-o', 'json'],
      ['get', 'secrets', '-n', NS, '-o', 'name'],
    ],
    name: 'oc mob setup --dry-run',
  },
  {
    args: ['doctor'],
    kubectl: [
      ['get', 'co', 'machine-config', '-o', 'json'],
      ['get', 'mcp', '-o', 'json'],
      ['get', 'machineosconfigs', '-o', 'json'],
      ['get', 'secret', 'push-creds', '-n', NS, '-o', 'json'],
      ['get', 'configmap', 'machine-config-osimageurl', '-n', NS, '-o', 'json'],
      ['get', 'pods', '-n', NS, '-l', 'k8s-app=machine-os-builder', '-o', 'json'],
      ['auth', 'can-i', 'create', 'machineosconfigs'],
    ],
    name: 'oc mob doctor',
  },
]

/** `oc mob logs POOL` until the first byte of the build's log, against `kubectl get pods` then `kubectl logs`. */
async function logs(latencies: number[], runs: number, quick: boolean): Promise<BenchResult[]> {
  const kubelet = await startFakeKubelet()
  const emu = await startEmulator({objects: logsObjects(kubelet)})
  try {
    kubelet.setLog(NS, LOGS_POD, 'image-build', 'STEP 1/1: FROM scratch\n')
    kubelet.endLog(NS, LOGS_POD, 'image-build')
    return await commands(
      emu,
      [
        {
          args: ['logs', LOGS_POOL],
          kubectl: [
            ['get', 'pods', '-n', NS, '-l', `machineconfiguration.openshift.io/targetMachineConfigPool=${LOGS_POOL}`, '-o', 'name'],
            ['logs', '-n', NS, `pod/${LOGS_POD}`, '-c', 'image-build'],
          ],
          name: 'oc mob logs POOL (first byte)',
        },
      ],
      latencies,
      runs,
      quick,
    )
  } finally {
    await emu.close()
    await kubelet.close()
  }
}

/**
 * `oc mob build` noticing its build pod succeeded, in-process: from the pod turning Succeeded to
 * success reported (the digest read), with the round trips in between, and to the build returning
 * (ephemeral objects removed, image recorded); against a `kubectl wait` for the same pod phase, already waiting when it turns.
 */
async function buildNoticed(latencies: number[], rounds: number): Promise<BenchResult[]> {
  const {objects, rendered} = buildFixture()
  const emu = await startEmulator({groups: {machineOS: false}, objects})
  const client = new KubeClient(loadKubeconfig({kubeconfig: emu.kubeconfig}))
  const k = await kubectlFor(emu)
  const out: BenchResult[] = []
  try {
    await client.patch(R.machineConfigPools, 'worker', {metadata: {labels: {'machineconfiguration.openshift.io/layering-enabled': ''}}})
    const name = `build-${rendered}`
    for (const latency of [...latencies, COUNT_MS]) {
      const mine: number[] = []
      const trips: number[] = []
      const theirs: number[] = []
      const returned: number[] = []
      for (let i = 0; i < (latency === COUNT_MS ? 1 : rounds); i++) {
        let succeededAt = 0
        let waiter: Promise<number> | undefined
        emu.faults.clear()
        const kubelet = (async () => {
          succeededAt = await finishBuildPod(client, emu, rendered, i, now, async () => {
            if (!('skipped' in k) && latency !== COUNT_MS) {
              // kubectl already waiting for the same phase, as an administrator would leave it running.
              const child = spawn(k.path, ['wait', '--for=jsonpath={.status.phase}=Succeeded', `pod/${name}`, '-n', NS, '--timeout=60s'], {
                env: {...process.env, KUBECONFIG: emu.kubeconfig},
                stdio: 'ignore',
              })
              waiter = new Promise((resolve) => child.on('exit', () => resolve(now())))
              await new Promise((r) => setTimeout(r, 1500))
            }

            emu.faults.latency({path: /./}, latency)
            emu.resetRequests()
          })
        })()
        let done = 0
        await runBuild(client, 'worker', {
          onEvent: (e) => {
            if (e.phase === 'succeeded') done = now()
          },
          rebuild: true,
        })
        returned.push(now() - succeededAt)
        await kubelet
        // The build's own requests after the pod turned (not this benchmark's status write, nor kubectl's).
        const after = emu.requests.filter((r) => r.at >= succeededAt && !(r.method === 'PUT' && r.path.endsWith('/status')))
        trips.push(criticalPath(after, done))
        mine.push(done - succeededAt)
        if (waiter) theirs.push((await waiter) - succeededAt)
        emu.faults.clear()
      }

      const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
      if (latency === COUNT_MS) {
        out.push({
          name: 'build pod Succeeded -> success reported: round trips',
          ok: trips[0] <= 3,
          target: '<= 3',
          unit: 'RT',
          value: trips[0],
        })
        continue
      }

      out.push({
        baseline: theirs.length > 0 ? `kubectl wait: ${round(med(theirs))} ms` : undefined,
        name: `build pod Succeeded -> oc mob build reports success @${latency} ms`,
        ratio: theirs.length > 0 ? Math.round((med(mine) / med(theirs)) * 100) / 100 : undefined,
        unit: 'ms',
        value: round(med(mine)),
      })
      out.push({
        name: `build pod Succeeded -> build returns (objects removed, image recorded) @${latency} ms`,
        unit: 'ms',
        value: round(med(returned)),
      })
    }
  } finally {
    emu.faults.clear()
    await emu.close()
  }

  return out
}

export async function run(opts: {quick: boolean}): Promise<BenchResult[]> {
  const latencies = opts.quick ? [50] : [50, 150]
  const runs = opts.quick ? 1 : 9
  const results: BenchResult[] = []
  const big = await statusCluster(opts.quick ? 500 : 5000)
  try {
    results.push(...(await commands(big, STATUS_CASES, latencies, runs, opts.quick)), await coldStatus(big, 50))
  } finally {
    await big.close()
  }

  const {emu, reg} = await doctorCluster()
  try {
    results.push(...(await commands(emu, DEMO_CASES, latencies, runs, opts.quick)))
  } finally {
    await emu.close()
    await reg.stop()
  }

  results.push(...(await logs(latencies, runs, opts.quick)), ...(await buildNoticed(latencies, opts.quick ? 1 : 5)))
  return results
}

await standalone(import.meta.url, run)
