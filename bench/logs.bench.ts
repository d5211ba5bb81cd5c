// `oc mob logs` benchmark: `npx tsx bench/logs.bench.ts [--quick]`
// Serves a 100 MB build log (10 MB with --quick) through the emulated API server and a fake kubelet,
// then follows it with `oc mob logs <pool> -f` as a separate process and, as the baseline, with
// `kubectl logs -f` against the same emulator: throughput (first byte to end of stream) and the
// client's peak RSS.
import {spawn} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {packedCli} from './packed.js'
import {type FakeKubelet, startEmulator, startFakeKubelet} from '../emulator/index.js'
import {type BenchResult, standalone} from './run.js'
import {kubectlFor} from './kubectl.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const MCO_NS = 'openshift-machine-config-operator'
export const LOGS_POOL = 'layered'
const POOL = LOGS_POOL
const RENDERED = 'rendered-layered-5b3e1d0c8f7a69e2d4c1b0a9f8e7d6c5'
export const LOGS_POD = `build-${RENDERED}`
const POD = LOGS_POD
const MB = 1024 * 1024

/** buildah-like lines (60 to 140 bytes) until `bytes` is reached. */
export function buildLog(bytes: number): {text: string; lines: number} {
  const parts: string[] = []
  let size = 0
  let i = 0
  const hex = (n: number) => ((n * 2_654_435_761) >>> 0).toString(16).padStart(8, '0').repeat(8)
  while (size < bytes) {
    const kind = i % 4
    const line =
      kind === 0
        ? `STEP ${i}/999999: RUN rpm-ostree install --idempotent package-${i % 997} && ostree container commit\n`
        : kind === 1
          ? `Copying blob sha256:${hex(i)}\n`
          : kind === 2
            ? `time="2026-11-23T10:00:00Z" level=info msg="writing layer ${i}" size=${(i * 31) % 99_999}\n`
            : `--> ${hex(i).slice(0, 11)}\n`
    parts.push(line)
    size += line.length
    i++
  }

  return {lines: parts.length, text: parts.join('')}
}

interface Measured {
  bytes: number
  lines: number
  /** ms from spawn to exit */
  wallMs: number
  /** ms from the first byte on stdout to exit */
  streamMs: number
  peakRssKiB?: number
  exitCode: number | null
  stderr: string
}

/** Run a command, count its stdout, and read its peak RSS (/usr/bin/time -v, else /proc sampling). */
async function measure(cmd: string, args: string[]): Promise<Measured> {
  const useTime = existsSync('/usr/bin/time')
  const argv = useTime ? (['/usr/bin/time', ['-v', cmd, ...args]] as const) : ([cmd, args] as const)
  const start = performance.now()
  const child = spawn(argv[0], [...argv[1]], {cwd: ROOT, env: {...process.env, NO_COLOR: '1'}, stdio: ['ignore', 'pipe', 'pipe']})
  let bytes = 0
  let lines = 0
  let first = 0
  let stderr = ''
  let hwm = 0
  child.stdout.on('data', (b: Buffer) => {
    if (!first) first = performance.now()
    bytes += b.length
    for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, i + 1)) lines++
  })
  child.stderr.on('data', (b: Buffer) => {
    stderr += b.toString()
  })
  const sampler = useTime
    ? undefined
    : setInterval(() => {
        try {
          const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))
          if (m) hwm = Math.max(hwm, Number(m[1]))
        } catch {
          // exited
        }
      }, 10)
  const exitCode = await new Promise<number | null>((resolve) => {
    child.on('close', (code) => resolve(code))
  })
  const end = performance.now()
  if (sampler) clearInterval(sampler)
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)
  return {
    bytes,
    exitCode,
    lines,
    peakRssKiB: rss ? Number(rss[1]) : hwm || undefined,
    stderr,
    streamMs: end - (first || end),
    wallMs: end - start,
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

const round = (x: number) => Math.round(x * 10) / 10

/**
 * The CLI as it is installed: bin/run.cjs of the packed package (bench/packed.ts). (bin/dev.js would
 * measure the TypeScript loader.)
 */
function installedCli(): {bin: string; label: string; cleanup: () => void} {
  return {bin: packedCli(), cleanup() {}, label: 'packed bin/run.cjs'}
}

/** A layered pool whose build pod ran on the fake kubelet's node (also used by bench/network.bench.ts). */
export function logsObjects(kubelet: FakeKubelet): unknown[] {
  return [
    {apiVersion: 'v1', kind: 'Namespace', metadata: {name: MCO_NS}},
    kubelet.nodeObject('node-1'),
    {
      apiVersion: 'machineconfiguration.openshift.io/v1',
      kind: 'MachineConfigPool',
      metadata: {labels: {'machineconfiguration.openshift.io/layering-enabled': ''}, name: POOL},
      spec: {
        configuration: {name: RENDERED},
        machineConfigSelector: {},
        nodeSelector: {matchLabels: {'node-role.kubernetes.io/layered': ''}},
      },
      status: {conditions: [{status: 'True', type: 'Building'}], configuration: {name: RENDERED}},
    },
    {
      apiVersion: 'v1',
      data: {imageBuilderType: 'custom-pod-builder'},
      kind: 'ConfigMap',
      metadata: {name: 'on-cluster-build-config', namespace: MCO_NS},
    },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        labels: {
          'machineconfiguration.openshift.io/buildPod': '',
          'machineconfiguration.openshift.io/desiredConfig': RENDERED,
          'machineconfiguration.openshift.io/targetMachineConfigPool': POOL,
        },
        name: POD,
        namespace: MCO_NS,
      },
      spec: {
        containers: [
          {image: 'quay.io/buildah/stable:latest', name: 'image-build'},
          {image: 'base', name: 'wait-for-done'},
        ],
        nodeName: 'node-1',
      },
      status: {
        containerStatuses: ['image-build', 'wait-for-done'].map((name) => ({
          name,
          state: {terminated: {exitCode: 0, reason: 'Completed'}},
        })),
        phase: 'Succeeded',
      },
    },
  ]
}

export async function run(opts: {quick: boolean}): Promise<BenchResult[]> {
  const size = (opts.quick ? 10 : 100) * MB
  const runs = opts.quick ? 1 : 3
  const log = buildLog(size)
  const kubelet = await startFakeKubelet()
  const em = await startEmulator({objects: logsObjects(kubelet)})
  const cli = installedCli()
  const ocMob = [cli.bin, 'logs', POOL, '-f', '--kubeconfig', em.kubeconfig]
  // The real kubectl binary (bench/kubectl.ts), not a dispatcher in front of it.
  const baseline = await kubectlFor(em)
  const kubectl = 'skipped' in baseline ? undefined : baseline.path
  const results: BenchResult[] = []
  try {
    const check = (what: string, m: Measured, expected = log) => {
      if (m.exitCode !== 0 || m.bytes !== expected.text.length || m.lines !== expected.lines) {
        throw new Error(
          `${what}: exit ${m.exitCode}, ${m.bytes} of ${expected.text.length} bytes, ${m.lines} of ${expected.lines} lines\n${m.stderr.slice(-2000)}`,
        )
      }
    }

    // The same command on a one-line log: what start-up alone costs.
    const tiny = {lines: 1, text: 'STEP 1/1: FROM scratch\n'}
    kubelet.setLog(MCO_NS, POD, 'image-build', tiny.text)
    kubelet.endLog(MCO_NS, POD, 'image-build')
    const startup = await measure(process.execPath, ocMob)
    check('oc mob logs (one line)', startup, tiny)
    kubelet.setLog(MCO_NS, POD, 'image-build', log.text)
    kubelet.endLog(MCO_NS, POD, 'image-build')

    const mine: Measured[] = []
    for (let i = 0; i < runs; i++) {
      const m = await measure(process.execPath, ocMob)
      check('oc mob logs', m)
      mine.push(m)
    }

    const base: Measured[] = []
    if (kubectl) {
      for (let i = 0; i < runs; i++) {
        const m = await measure(kubectl, ['logs', '-f', '-n', MCO_NS, `pod/${POD}`, '-c', 'image-build', '--kubeconfig', em.kubeconfig])
        check('kubectl logs', m)
        base.push(m)
      }
    }

    const mbps = (ms: Measured[]) => median(ms.map((m) => m.bytes / MB / (m.streamMs / 1000)))
    const rss = (ms: Measured[]) => Math.max(...ms.map((m) => m.peakRssKiB ?? 0)) / 1024
    const mine$ = mbps(mine)
    const label = `${cli.label}, ${size / MB} MB`
    if (base.length > 0) {
      const base$ = mbps(base)
      const ratio = mine$ / base$
      results.push(
        {
          baseline: `kubectl logs -f: ${round(base$)} MB/s`,
          name: `oc mob logs -f throughput (${label})`,
          ok: ratio >= 0.8,
          ratio: Math.round(ratio * 100) / 100,
          target: '>= 0.8 x kubectl',
          unit: 'MB/s',
          value: round(mine$),
        },
        {name: 'kubectl logs -f throughput (baseline)', unit: 'MB/s', value: round(base$)},
      )
    } else {
      results.push({
        baseline: 'skipped' in baseline ? baseline.skipped : 'no kubectl baseline',
        name: `oc mob logs -f throughput (${label})`,
        unit: 'MB/s',
        value: round(mine$),
      })
    }

    results.push(
      {name: 'oc mob logs -f wall time (start-up included, median)', unit: 'ms', value: Math.round(median(mine.map((m) => m.wallMs)))},
      {name: `oc mob logs -f peak RSS (${size / MB} MB log)`, ok: rss(mine) < 100, target: '< 100 MB', unit: 'MB', value: round(rss(mine))},
      {name: 'oc mob logs -f peak RSS (one-line log: start-up alone)', unit: 'MB', value: round((startup.peakRssKiB ?? 0) / 1024)},
      {
        name: `oc mob logs -f peak RSS added by streaming ${size / MB} MB`,
        ok: rss(mine) - (startup.peakRssKiB ?? 0) / 1024 < 50,
        target: '< 50 MB (flat)',
        unit: 'MB',
        value: round(rss(mine) - (startup.peakRssKiB ?? 0) / 1024),
      },
    )
    if (base.length > 0) {
      results.push(
        {name: 'kubectl logs -f wall time (median)', unit: 'ms', value: Math.round(median(base.map((m) => m.wallMs)))},
        {name: 'kubectl logs -f peak RSS', unit: 'MB', value: round(rss(base))},
      )
    }
  } finally {
    cli.cleanup()
    await em.close()
    await kubelet.close()
  }

  return results
}

await standalone(import.meta.url, run)
