// Simulated kubelet + scheduler for every Node of the cluster.
//
// - binds pending pods to a schedulable node (nodeSelector, NoSchedule taints,
//   cordon and readiness honoured; least-loaded node wins),
// - drives pod status Pending (ContainerCreating) -> Running -> Succeeded/Failed
//   with the usual conditions, restarting containers of restartPolicy Always pods,
// - runs each container one of three ways: a ContainerScript (logs + exit code),
//   an in-process ContainerProcess (e.g. the machine-os-builder), or for real on
//   the host through the OCI tooling (buildah inside the build pod's scripts),
// - serves /containerLogs over HTTPS on the port every Node advertises in
//   status.daemonEndpoints.kubeletEndpoint.Port.
//
// Simplifications: one process plays every node, so all nodes share one port
// and address; requests to the log endpoint are not authenticated; no image
// pulls, probes, resource accounting or drains; image pull failures, OOM kills
// and evictions happen when a ContainerScript asks for them.
import https from 'node:https'
import {createHash, randomBytes} from 'node:crypto'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {AddressInfo} from 'node:net'
import {Informer, type SimClient, type Obj, R, isNotFound, matchesSelector, now, sleep} from './client.js'
import type {Logger} from './loop.js'
import {KUBELET_CERT, KUBELET_KEY} from './kubelet-tls.js'

interface ScriptMatch {
  namespace?: string
  podName?: string | RegExp
  container?: string
}

/** A scripted container: prints `logLines` over `durationMs`, then exits (or hangs). */
export interface ContainerScript {
  match: ScriptMatch
  logLines: string[]
  exitCode: number
  durationMs?: number
  /** Keep running after the last line instead of exiting (until the pod is deleted). */
  hangAfter?: boolean
  /** The container's image cannot be pulled: it stays waiting (ErrImagePull, then ImagePullBackOff) with this message. */
  pullError?: string
  /** The reason of the terminated state instead of Completed/Error (e.g. OOMKilled, with exitCode 137). */
  terminatedReason?: string
  /** After the last line the node evicts the pod with this message (phase Failed, reason Evicted). */
  evict?: string
  /** Used for the first `times` containers it matches only (e.g. one failed attempt of a Job); default always. */
  times?: number
}

export interface ContainerContext {
  pod: Obj
  container: Obj
  client: SimClient
  log: (line: string) => void
  signal: AbortSignal
  /** A pod-wide in-memory emptyDir (file name -> content), shared by the pod's containers. */
  emptyDir: (volumeName: string) => Map<string, string>
  /** The value of an environment variable of the container (plain `value` entries only). */
  env: (name: string) => string | undefined
}

/** A container played by code in this process (the machine-os-builder, default build scripts). */
export interface ContainerProcess {
  match: ScriptMatch
  run: (ctx: ContainerContext) => Promise<number>
}

/** What the kubelet needs from the OCI tooling (emulator/oci/runner.ts) to run a container for real. */
export interface HostRunner {
  runOnHost: (
    spec: HostRunSpec,
    storage: any,
  ) => {output: NodeJS.ReadableStream; exited: Promise<{exitCode: number; signal?: string}>; kill: (signal?: string) => void}
  storage: {env: Record<string, string>}
  ocShimDir?: string
  /** Extra environment every real container gets. */
  env?: Record<string, string>
  /** Which pods run for real (default: build pods). */
  selects?: (pod: Obj, container: Obj) => boolean
}

interface HostRunSpec {
  command: string[]
  args?: string[]
  env: Record<string, string>
  workingDir?: string
  mounts: Array<{mountPath: string; files?: Record<string, Buffer | string>; emptyDir?: {shared: string}; readOnly?: boolean}>
  runAsUser?: number
  extraPath?: string[]
}

export interface KubeletOptions {
  client: SimClient
  log: Logger
  scripts?: ContainerScript[]
  processes?: ContainerProcess[]
  host?: HostRunner
  /** ContainerCreating time before containers start. */
  podStartMs?: number
  /** Back-off before a restartPolicy Always container is restarted. */
  restartMs?: number
  /** Pause between lines of a scripted container when it has no durationMs. */
  lineMs?: number
  /** How often an unschedulable pod is retried. */
  retryMs?: number
}

interface LogLine {
  ts: string
  text: string
}

interface ContainerRun {
  name: string
  image: string
  state: 'waiting' | 'running' | 'terminated'
  waitingReason: string
  waitingMessage?: string
  startedAt?: string
  finishedAt?: string
  exitCode?: number
  signal?: number
  reason?: string
  restartCount: number
  lastTerminated?: Obj
  containerID?: string
  logs: LogLine[]
  prevLogs?: LogLine[]
  partial: string
  followers: Set<(l: LogLine | null) => void>
  kill?: () => void
  /** Settles when the current run of the container ended. */
  exited?: Promise<void>
  /** The reason of the next terminated state, when a script sets one. */
  terminatedReason?: string
  /** The script this container plays (kept across restarts). */
  script?: ContainerScript
}

interface PodRun {
  uid: string
  namespace: string
  name: string
  node: string
  pod: Obj
  containers: Map<string, ContainerRun>
  abort: AbortController
  emptyDirs: Map<string, Map<string, string>>
  /** Host directories backing emptyDir volumes of containers run for real. */
  hostDirs: Map<string, string>
  podIP: string
  startTime: string
  transitions: Map<string, {status: string; at: string}>
  writes: Promise<void>
  stopped: boolean
  phase: string
  /** The node evicted the pod: its message. */
  evicted?: string
}

/** The script for a container, counting a use of one limited by `times`. */
function takeScript(scripts: ContainerScript[] | undefined, pod: Obj, container: string, pull: boolean): ContainerScript | undefined {
  const s = (scripts ?? []).find(
    (x) => (x.pullError !== undefined) === pull && (x.times === undefined || x.times > 0) && matches(x.match, pod, container),
  )
  if (s?.times !== undefined) s.times--
  return s
}

const matches = (m: ScriptMatch, pod: Obj, container: string): boolean => {
  if (m.namespace && m.namespace !== pod.metadata.namespace) return false
  if (m.container && m.container !== container) return false
  if (m.podName !== undefined) {
    if (typeof m.podName === 'string' ? m.podName !== pod.metadata.name : !m.podName.test(pod.metadata.name)) return false
  }
  return true
}

let lastStamp = ''

/** RFC 3339 with nanoseconds, as the kubelet prefixes lines with `timestamps=true`; never going back, like a real clock. */
function rfc3339Nano(d = new Date()): string {
  const ns = String(process.hrtime.bigint() % 1000000n).padStart(6, '0')
  let s = d.toISOString().replace(/\.(\d{3})Z$/, (_m, ms) => `.${ms}${ns}Z`)
  // hrtime's sub-millisecond digits wrap independently of the millisecond: keep the stamps increasing
  if (s <= lastStamp) s = lastStamp.replace(/\.(\d{9})Z$/, (_m, f) => `.${String(Math.min(Number(f) + 1, 999_999_999)).padStart(9, '0')}Z`)
  lastStamp = s
  return s
}

const hex = (s: string, n = 64) => createHash('sha256').update(s).digest('hex').slice(0, n)

export class Kubelet {
  private readonly client: SimClient
  private readonly pods: Informer
  private readonly nodes: Informer
  private readonly runs = new Map<string, PodRun>()
  private readonly byName = new Map<string, string>()
  private server?: https.Server
  port = 0
  private podCounter = 0
  private scheduleTimer?: NodeJS.Timeout
  private stopped = false

  constructor(private readonly opts: KubeletOptions) {
    this.client = opts.client
    const onError = (e: unknown) => opts.log(`kubelet: watch: ${(e as Error).message}`)
    this.pods = new Informer(this.client, R.pods, {onError})
    this.nodes = new Informer(this.client, R.nodes, {onError})
    this.pods.on((type, pod) => this.onPod(type, pod))
    this.nodes.on((type, node) => {
      if (type !== 'DELETED') void this.advertise(node).catch((e) => opts.log(`kubelet: ${e.message}`))
      this.scheduleSoon()
    })
  }

  /** Adds scripts/processes at run time (tests, the machine-os-builder). */
  addScripts(scripts: ContainerScript[]): void {
    this.opts.scripts = [...scripts, ...(this.opts.scripts ?? [])]
  }

  addProcess(p: ContainerProcess): void {
    this.opts.processes = [...(this.opts.processes ?? []), p]
  }

  async start(): Promise<void> {
    this.server = https.createServer({cert: KUBELET_CERT, key: KUBELET_KEY}, (req, res) => this.serve(req, res))
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve))
    this.port = (this.server.address() as AddressInfo).port
    await this.nodes.start()
    await Promise.all(this.nodes.list().map((n) => this.advertise(n)))
    await this.pods.start()
    this.scheduleSoon()
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.scheduleTimer) clearTimeout(this.scheduleTimer)
    for (const run of this.runs.values()) this.kill(run)
    await Promise.all([this.pods.stop(), this.nodes.stop()])
    await Promise.all([...this.runs.values()].flatMap((r) => [...r.containers.values()].map((c) => c.exited)))
    for (const run of this.runs.values()) await run.writes.catch(() => undefined)
    if (this.server) {
      this.server.closeAllConnections()
      await new Promise<void>((resolve) => this.server!.close(() => resolve()))
    }
  }

  private async advertise(node: Obj): Promise<void> {
    if (this.stopped || !this.port) return
    if (node.status?.daemonEndpoints?.kubeletEndpoint?.Port === this.port) return
    await this.client.patch(
      R.nodes,
      undefined,
      node.metadata.name,
      {status: {daemonEndpoints: {kubeletEndpoint: {Port: this.port}}}},
      'merge',
      'status',
    )
  }

  // ---------------------------------------------------------------- scheduling

  private scheduleSoon(delay = 0): void {
    if (this.stopped || this.scheduleTimer) return
    this.scheduleTimer = setTimeout(() => {
      this.scheduleTimer = undefined
      void this.schedule().catch((e) => {
        this.opts.log(`scheduler: ${e.message}`)
        this.scheduleSoon(this.opts.retryMs ?? 200)
      })
    }, delay)
  }

  private nodeFits(node: Obj, pod: Obj): string | undefined {
    if (node.spec?.unschedulable) return 'node(s) were unschedulable'
    const ready = (node.status?.conditions ?? []).find((c: Obj) => c.type === 'Ready')
    if (ready?.status !== 'True') return 'node(s) were not ready'
    const sel = pod.spec?.nodeSelector
    if (sel && !matchesSelector({matchLabels: sel}, node.metadata?.labels)) return "node(s) didn't match Pod's node affinity/selector"
    for (const t of node.spec?.taints ?? []) {
      if (t.effect !== 'NoSchedule' && t.effect !== 'NoExecute') continue
      const ok = (pod.spec?.tolerations ?? []).some(
        (tol: Obj) =>
          (tol.operator === 'Exists' ? !tol.key || tol.key === t.key : tol.key === t.key && (tol.value ?? '') === (t.value ?? '')) &&
          (!tol.effect || tol.effect === t.effect),
      )
      if (!ok) return `node(s) had untolerated taint {${t.key}: ${t.value ?? ''}}`
    }
    return undefined
  }

  private async schedule(): Promise<void> {
    let pending = false
    for (const pod of this.pods.list()) {
      if (pod.spec?.nodeName || pod.metadata?.deletionTimestamp) continue
      if (pod.status?.phase && pod.status.phase !== 'Pending') continue
      const load = new Map<string, number>()
      for (const p of this.pods.list()) {
        if (p.spec?.nodeName && !['Succeeded', 'Failed'].includes(p.status?.phase))
          load.set(p.spec.nodeName, (load.get(p.spec.nodeName) ?? 0) + 1)
      }
      const reasons = new Map<string, number>()
      const fit = this.nodes
        .list()
        .filter((n) => {
          const why = this.nodeFits(n, pod)
          if (why) reasons.set(why, (reasons.get(why) ?? 0) + 1)
          return !why
        })
        .sort((a, b) => (load.get(a.metadata.name) ?? 0) - (load.get(b.metadata.name) ?? 0) || (a.metadata.name < b.metadata.name ? -1 : 1))
      if (!fit.length) {
        pending = true
        const total = this.nodes.list().length
        const message = `0/${total} nodes are available: ${[...reasons].map(([r, n]) => `${n} ${r}`).join(', ')}. preemption: 0/${total} nodes are available: ${total} Preemption is not helpful for scheduling.`
        const cond = (pod.status?.conditions ?? []).find((c: Obj) => c.type === 'PodScheduled')
        if (cond?.message !== message) {
          this.opts.log(`scheduler: pod ${pod.metadata.namespace}/${pod.metadata.name} is unschedulable: ${message}`)
          await this.client
            .patch(
              R.pods,
              pod.metadata.namespace,
              pod.metadata.name,
              {
                status: {
                  phase: 'Pending',
                  conditions: [
                    {
                      type: 'PodScheduled',
                      status: 'False',
                      reason: 'Unschedulable',
                      message,
                      lastProbeTime: null,
                      lastTransitionTime: now(),
                    },
                  ],
                },
              },
              'merge',
              'status',
            )
            .catch(() => undefined)
        }
        continue
      }
      const node = fit[0].metadata.name
      try {
        await this.client.call('POST', `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}/binding`, {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: {name: pod.metadata.name, namespace: pod.metadata.namespace, uid: pod.metadata.uid},
          target: {apiVersion: 'v1', kind: 'Node', name: node},
        })
        this.opts.log(`scheduler: bound ${pod.metadata.namespace}/${pod.metadata.name} to ${node}`)
      } catch (e) {
        if (!isNotFound(e) && (e as any).status !== 409) throw e
      }
    }
    if (pending) this.scheduleSoon(Math.max(this.opts.retryMs ?? 200, 200))
  }

  // ------------------------------------------------------------------- pods

  private onPod(type: string, pod: Obj): void {
    const uid = pod.metadata?.uid
    const run = this.runs.get(uid)
    if (type === 'DELETED') {
      if (run) {
        this.kill(run)
        this.runs.delete(uid)
        if (this.byName.get(`${run.namespace}/${run.name}`) === uid) this.byName.delete(`${run.namespace}/${run.name}`)
      }
      this.scheduleSoon()
      return
    }
    if (pod.metadata?.deletionTimestamp) {
      if (run && !run.stopped) {
        this.kill(run)
        // the pod object goes once its containers have stopped
        const exited = Promise.all([...run.containers.values()].map((c) => c.exited))
        run.writes = run.writes.then(() => exited).then(() => this.finalDelete(pod))
      } else if (!run && pod.spec?.nodeName) void this.finalDelete(pod)
      return
    }
    if (!pod.spec?.nodeName) {
      this.scheduleSoon()
      return
    }
    if (run) {
      run.pod = pod
      return
    }
    if (['Succeeded', 'Failed'].includes(pod.status?.phase)) return
    this.startPod(pod)
  }

  private async finalDelete(pod: Obj): Promise<void> {
    try {
      await this.client.call('DELETE', `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`, {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        gracePeriodSeconds: 0,
        preconditions: {uid: pod.metadata.uid},
      })
    } catch (e) {
      if (!isNotFound(e) && (e as any).status !== 409) this.opts.log(`kubelet: delete ${pod.metadata.name}: ${(e as Error).message}`)
    }
  }

  private kill(run: PodRun): void {
    if (!run.stopped) {
      run.stopped = true
      run.abort.abort()
      for (const c of run.containers.values()) {
        if (c.state === 'running') c.kill?.()
        for (const f of c.followers) f(null)
        c.followers.clear()
      }
    }
    this.removeHostDirs(run)
  }

  /** Removes emptyDir host dirs once no container of the pod runs any more. */
  private removeHostDirs(run: PodRun): void {
    if (!run.hostDirs.size) return
    const dirs = [...run.hostDirs.values()]
    run.hostDirs.clear()
    const done = Promise.all([...run.containers.values()].map((c) => c.exited ?? Promise.resolve()))
    void done.then(() => {
      for (const d of dirs) rmSync(d, {recursive: true, force: true})
    })
  }

  private startPod(pod: Obj): void {
    const n = ++this.podCounter
    const run: PodRun = {
      uid: pod.metadata.uid,
      namespace: pod.metadata.namespace,
      name: pod.metadata.name,
      node: pod.spec.nodeName,
      pod,
      containers: new Map(),
      abort: new AbortController(),
      emptyDirs: new Map(),
      hostDirs: new Map(),
      podIP: `10.128.${2 + Math.floor(n / 250)}.${(n % 250) + 2}`,
      startTime: now(),
      transitions: new Map(),
      writes: Promise.resolve(),
      stopped: false,
      phase: 'Pending',
    }
    for (const c of pod.spec.containers ?? []) {
      run.containers.set(c.name, {
        name: c.name,
        image: c.image,
        state: 'waiting',
        waitingReason: 'ContainerCreating',
        restartCount: 0,
        logs: [],
        partial: '',
        followers: new Set(),
      })
    }
    this.runs.set(run.uid, run)
    this.byName.set(`${run.namespace}/${run.name}`, run.uid)
    this.pushStatus(run)
    void this.bootPod(run).catch((e) => this.opts.log(`kubelet: ${run.name}: ${e.message}`))
  }

  /** Waits for the pod's volumes to be mountable, then starts all containers together. */
  private async bootPod(run: PodRun): Promise<void> {
    await sleep(this.opts.podStartMs ?? 50, run.abort.signal)
    let warned = false
    while (!run.stopped) {
      const missing = await this.missingVolume(run.pod)
      if (!missing) break
      if (!warned) {
        warned = true
        this.opts.log(`kubelet: ${run.namespace}/${run.name}: MountVolume.SetUp failed: ${missing}`)
        await this.event(run.pod, 'Warning', 'FailedMount', `MountVolume.SetUp failed for volume ${missing}`)
      }
      await sleep(Math.max(this.opts.retryMs ?? 200, 100), run.abort.signal)
    }
    if (run.stopped) return
    for (const c of run.pod.spec.containers ?? []) void this.runContainer(run, c)
  }

  private async missingVolume(pod: Obj): Promise<string | undefined> {
    for (const v of pod.spec?.volumes ?? []) {
      if (v.configMap && !v.configMap.optional) {
        if (!(await this.client.get(R.configmaps, pod.metadata.namespace, v.configMap.name)))
          return `"${v.name}" : configmap "${v.configMap.name}" not found`
      }
      if (v.secret && !v.secret.optional) {
        if (!(await this.client.get(R.secrets, pod.metadata.namespace, v.secret.secretName)))
          return `"${v.name}" : secret "${v.secret.secretName}" not found`
      }
    }
    return undefined
  }

  private async event(pod: Obj, type: string, reason: string, message: string): Promise<void> {
    const ts = now()
    await this.client
      .create(R.events, pod.metadata.namespace, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: {name: `${pod.metadata.name}.${randomBytes(8).toString('hex')}`, namespace: pod.metadata.namespace},
        involvedObject: {apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, namespace: pod.metadata.namespace, uid: pod.metadata.uid},
        reason,
        message,
        type,
        source: {component: 'kubelet', host: pod.spec?.nodeName},
        firstTimestamp: ts,
        lastTimestamp: ts,
        count: 1,
        reportingComponent: 'kubelet',
        reportingInstance: pod.spec?.nodeName ?? '',
      })
      .catch(() => undefined)
  }

  private async runContainer(run: PodRun, spec: Obj): Promise<void> {
    const c = run.containers.get(spec.name)!
    const policy = run.pod.spec.restartPolicy ?? 'Always'
    const pullError = takeScript(this.opts.scripts, run.pod, spec.name, true)?.pullError
    if (pullError !== undefined) {
      // The kubelet retries the pull with a growing back-off; the container never starts.
      c.waitingReason = 'ErrImagePull'
      c.waitingMessage = pullError
      this.pushStatus(run)
      await sleep(Math.max(this.opts.retryMs ?? 200, 100), run.abort.signal)
      if (run.stopped || run.abort.signal.aborted) return
      c.waitingReason = 'ImagePullBackOff'
      c.waitingMessage = `Back-off pulling image "${c.image}"`
      this.pushStatus(run)
      return
    }
    for (;;) {
      if (run.stopped || run.evicted) return
      c.state = 'running'
      c.startedAt = now()
      c.containerID = `cri-o://${hex(`${run.uid}/${c.name}/${c.restartCount}`)}`
      c.partial = ''
      this.pushStatus(run)
      const exec = this.execute(run, spec, c).catch((e) => {
        this.append(c, `error: ${(e as Error).message}`)
        return 128
      })
      c.exited = exec.then(() => undefined)
      const exitCode = await exec
      if (c.partial) this.append(c, '')
      c.state = 'terminated'
      c.exitCode = exitCode
      c.finishedAt = now()
      c.reason = c.terminatedReason ?? (exitCode === 0 ? 'Completed' : 'Error')
      for (const f of c.followers) f(null)
      c.followers.clear()
      if (run.stopped) return
      if (run.evicted) {
        this.pushStatus(run)
        return
      }
      const restart = policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0)
      if (!restart) {
        this.pushStatus(run)
        return
      }
      c.lastTerminated = {
        terminated: {containerID: c.containerID, exitCode, reason: c.reason, startedAt: c.startedAt, finishedAt: c.finishedAt},
      }
      c.prevLogs = c.logs
      c.logs = []
      c.restartCount++
      c.state = 'waiting'
      c.waitingReason = 'CrashLoopBackOff'
      c.waitingMessage = `back-off 10s restarting failed container=${c.name} pod=${run.name}_${run.namespace}(${run.uid})`
      this.pushStatus(run)
      await sleep(this.opts.restartMs ?? 500, run.abort.signal)
    }
  }

  private append(c: ContainerRun, text: string): void {
    const l = {ts: rfc3339Nano(), text}
    c.logs.push(l)
    if (c.logs.length > 20000) c.logs.splice(0, c.logs.length - 20000)
    for (const f of c.followers) f(l)
  }

  private async execute(run: PodRun, spec: Obj, c: ContainerRun): Promise<number> {
    const pod = run.pod
    const signal = run.abort.signal
    const log = (line: string) => {
      for (const l of line.split('\n')) this.append(c, l)
    }
    const script = c.restartCount === 0 || !c.script ? takeScript(this.opts.scripts, pod, spec.name, false) : c.script
    c.script = script
    if (script) {
      c.terminatedReason = script.terminatedReason
      const code = await this.playScript(script, log, signal, c)
      if (script.evict === undefined || signal.aborted) return code
      this.evict(run, script.evict)
      return 137
    }
    const host = this.opts.host
    if (host && (host.selects ?? isBuildPod)(pod, spec)) return this.runOnHost(run, spec, c, host)
    const proc = (this.opts.processes ?? []).find((p) => matches(p.match, pod, spec.name))
    const env = (name: string) => (spec.env ?? []).find((e: Obj) => e.name === name)?.value
    const ctx: ContainerContext = {
      pod,
      container: spec,
      client: this.client,
      log,
      signal,
      env,
      emptyDir: (name) => {
        let d = run.emptyDirs.get(name)
        if (!d) run.emptyDirs.set(name, (d = new Map()))
        return d
      },
    }
    if (proc) {
      c.kill = () => undefined
      return proc.run(ctx)
    }
    // Unknown workloads: a long-running process that only says it started.
    log(`I${klogStamp()} 1 main.go:42] ${spec.name} started`)
    await sleep(1e9, signal)
    return 137
  }

  /** The node evicts the pod: every container is killed, the pod ends Failed with reason Evicted. */
  private evict(run: PodRun, message: string): void {
    if (run.evicted || run.stopped) return
    run.evicted = message
    this.opts.log(`kubelet: evicted ${run.namespace}/${run.name}: ${message}`)
    void this.event(run.pod, 'Warning', 'Evicted', message)
    run.abort.abort()
  }

  private async playScript(s: ContainerScript, log: (l: string) => void, signal: AbortSignal, c: ContainerRun): Promise<number> {
    c.kill = () => undefined
    const per = s.durationMs !== undefined ? s.durationMs / Math.max(s.logLines.length, 1) : (this.opts.lineMs ?? 5)
    for (const line of s.logLines) {
      if (signal.aborted) return 137
      log(line)
      await sleep(per, signal)
    }
    if (!s.logLines.length && s.durationMs) await sleep(s.durationMs, signal)
    if (s.hangAfter) {
      await sleep(1e9, signal)
      return 137
    }
    return signal.aborted ? 137 : s.exitCode
  }

  /** Runs the container's command on the host with its volumes, env and service account materialised. */
  private async runOnHost(run: PodRun, spec: Obj, c: ContainerRun, host: HostRunner): Promise<number> {
    const pod = run.pod
    const mounts: HostRunSpec['mounts'] = []
    for (const m of spec.volumeMounts ?? []) {
      const v = (pod.spec.volumes ?? []).find((x: Obj) => x.name === m.name)
      if (!v) continue
      if (v.emptyDir) {
        let dir = run.hostDirs.get(v.name)
        if (!dir) run.hostDirs.set(v.name, (dir = mkdtempSync(join(tmpdir(), 'oc-mob-emptydir-'))))
        mounts.push({mountPath: m.mountPath, emptyDir: {shared: dir}})
      } else if (v.configMap) {
        const cm = await this.client.get(R.configmaps, pod.metadata.namespace, v.configMap.name)
        const all: Record<string, Buffer | string> = {...(cm?.data ?? {})}
        for (const [kk, b] of Object.entries(cm?.binaryData ?? {})) all[kk] = Buffer.from(b as string, 'base64')
        mounts.push({mountPath: m.mountPath, files: pickItems(all, v.configMap.items)})
      } else if (v.secret) {
        const sec = await this.client.get(R.secrets, pod.metadata.namespace, v.secret.secretName)
        const all: Record<string, Buffer | string> = {}
        for (const [kk, b] of Object.entries(sec?.data ?? {})) all[kk] = Buffer.from(b as string, 'base64')
        mounts.push({mountPath: m.mountPath, files: pickItems(all, v.secret.items)})
      }
    }
    // The service account token mount every pod gets (simplified: the
    // simulation's own credentials stand in for the pod's service account).
    const saDir = '/var/run/secrets/kubernetes.io/serviceaccount'
    if (!mounts.some((m) => m.mountPath === saDir) && pod.spec.automountServiceAccountToken !== false) {
      const user = this.client.kc.getCurrentUser()
      const cluster = this.client.kc.getCurrentCluster()
      const opts: any = {headers: {}}
      await this.client.kc.applyToHTTPSOptions(opts)
      const token = String(opts.headers?.Authorization ?? '').replace(/^Bearer\s+/i, '') || user?.token || ''
      const ca = cluster?.caData ? Buffer.from(cluster.caData, 'base64').toString() : opts.ca ? String(opts.ca) : ''
      mounts.push({mountPath: saDir, files: {token, 'ca.crt': ca, 'service-ca.crt': ca, namespace: pod.metadata.namespace}})
    }
    // PATH, the buildah image's defaults and the storage bundle come from the runner
    const env: Record<string, string> = {
      HOSTNAME: pod.metadata.name,
      KUBERNETES_SERVICE_HOST: this.client.server.hostname.replace(/^\[|\]$/g, ''),
      KUBERNETES_SERVICE_PORT: this.client.server.port || '443',
      KUBERNETES_SERVICE_PORT_HTTPS: this.client.server.port || '443',
      ...(host.env ?? {}),
    }
    for (const e of spec.env ?? []) {
      if (e.value !== undefined) env[e.name] = e.value
      else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[e.name] = pod.metadata.name
      else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') env[e.name] = pod.metadata.namespace
    }
    const proc = host.runOnHost(
      {
        command: spec.command ?? [],
        args: spec.args,
        env,
        workingDir: spec.workingDir,
        mounts,
        runAsUser: spec.securityContext?.runAsUser,
        extraPath: host.ocShimDir ? [host.ocShimDir] : undefined,
      },
      host.storage,
    )
    c.kill = () => proc.kill('SIGKILL')
    proc.output.on('data', (chunk: Buffer | string) => {
      const text = c.partial + chunk.toString()
      const lines = text.split('\n')
      c.partial = lines.pop() ?? ''
      for (const l of lines) this.append(c, l)
    })
    const res = await proc.exited
    if (c.partial) {
      this.append(c, c.partial)
      c.partial = ''
    }
    return res.exitCode ?? 137
  }

  // ----------------------------------------------------------------- status

  private cond(run: PodRun, type: string, status: string, reason?: string, message?: string): Obj {
    const prev = run.transitions.get(type)
    if (!prev || prev.status !== status) run.transitions.set(type, {status, at: now()})
    const c: Obj = {type, status, lastProbeTime: null, lastTransitionTime: run.transitions.get(type)!.at}
    if (reason) c.reason = reason
    if (message) c.message = message
    return c
  }

  private statusOf(run: PodRun): Obj {
    const cs = [...run.containers.values()]
    const policy = run.pod.spec.restartPolicy ?? 'Always'
    let phase: string
    // As the kubelet's getPhase: a container that has never started keeps the pod Pending.
    if (run.evicted) phase = 'Failed'
    else if (cs.some((c) => c.state === 'waiting' && c.restartCount === 0 && !c.lastTerminated)) phase = 'Pending'
    else if (cs.every((c) => c.state === 'terminated') && policy !== 'Always')
      phase = cs.every((c) => c.exitCode === 0) ? 'Succeeded' : 'Failed'
    else phase = 'Running'
    run.phase = phase
    const notReady = cs.filter((c) => c.state !== 'running').map((c) => c.name)
    const ready = notReady.length === 0
    const notReadyMsg = `containers with unready status: [${notReady.join(' ')}]`
    const terminal = phase === 'Succeeded' || phase === 'Failed'
    const conditions = [
      this.cond(run, 'Initialized', 'True', terminal && phase === 'Succeeded' ? 'PodCompleted' : undefined),
      this.cond(
        run,
        'Ready',
        ready ? 'True' : 'False',
        ready ? undefined : terminal && phase === 'Succeeded' ? 'PodCompleted' : 'ContainersNotReady',
        ready || phase === 'Succeeded' ? undefined : notReadyMsg,
      ),
      this.cond(
        run,
        'ContainersReady',
        ready ? 'True' : 'False',
        ready ? undefined : terminal && phase === 'Succeeded' ? 'PodCompleted' : 'ContainersNotReady',
        ready || phase === 'Succeeded' ? undefined : notReadyMsg,
      ),
      this.cond(run, 'PodScheduled', 'True'),
    ]
    if (run.evicted) conditions.unshift(this.cond(run, 'DisruptionTarget', 'True', 'TerminationByKubelet', run.evicted))
    const containerStatuses = cs.map((c) => {
      const st: Obj = {
        name: c.name,
        image: c.image,
        imageID: c.state === 'waiting' && !c.containerID ? '' : `${String(c.image).replace(/[:@].*$/, '')}@sha256:${hex(String(c.image))}`,
        ready: c.state === 'running',
        started: c.state === 'running',
        restartCount: c.restartCount,
        lastState: c.lastTerminated ?? {},
      }
      if (c.containerID && c.state !== 'waiting') st.containerID = c.containerID
      if (c.state === 'waiting') st.state = {waiting: {reason: c.waitingReason, ...(c.waitingMessage ? {message: c.waitingMessage} : {})}}
      else if (c.state === 'running') st.state = {running: {startedAt: c.startedAt}}
      else
        st.state = {
          terminated: {
            containerID: c.containerID,
            exitCode: c.exitCode,
            reason: c.reason,
            startedAt: c.startedAt,
            finishedAt: c.finishedAt,
          },
        }
      return st
    })
    return {
      phase,
      ...(run.evicted ? {reason: 'Evicted', message: run.evicted} : {}),
      conditions,
      hostIP: '127.0.0.1',
      hostIPs: [{ip: '127.0.0.1'}],
      podIP: run.podIP,
      podIPs: [{ip: run.podIP}],
      startTime: run.startTime,
      qosClass: 'BestEffort',
      containerStatuses,
    }
  }

  /** Writes the pod status; writes of one pod are queued so they land in order. */
  private pushStatus(run: PodRun): void {
    const status = this.statusOf(run)
    run.writes = run.writes.then(async () => {
      if (this.stopped && run.stopped) return
      try {
        await this.client.patch(R.pods, run.namespace, run.name, {metadata: {uid: run.uid}, status}, 'merge', 'status')
      } catch (e) {
        if (!isNotFound(e) && (e as any).status !== 409) this.opts.log(`kubelet: status ${run.name}: ${(e as Error).message}`)
      }
    })
  }

  // ------------------------------------------------------------------- logs

  private serve(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): void {
    const url = new URL(req.url ?? '/', 'https://kubelet')
    const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)\/?$/.exec(url.pathname)
    const fail = (code: number, msg: string) => {
      res.writeHead(code, {'Content-Type': 'text/plain; charset=utf-8'})
      res.end(msg)
    }
    if (req.method !== 'GET' || !m) return fail(404, '404 page not found\n')
    const [ns, podName, container] = m.slice(1).map(decodeURIComponent)
    const pod = this.pods.get(podName, ns)
    const uid = this.byName.get(`${ns}/${podName}`)
    const run = uid ? this.runs.get(uid) : undefined
    if (!pod && !run) return fail(404, `pod "${podName}" not found`)
    const spec = (run?.pod ?? pod)!
    if (!(spec.spec?.containers ?? []).some((c: Obj) => c.name === container))
      return fail(400, `container ${container} is not valid for pod ${podName}`)
    const c = run?.containers.get(container)
    const q = url.searchParams
    const truthy = (v: string | null) => v === 'true' || v === '1'
    const previous = truthy(q.get('previous'))
    if (!c) return fail(400, `container "${container}" in pod "${podName}" is waiting to start: ContainerCreating`)
    if (previous) {
      if (!c.prevLogs) return fail(400, `previous terminated container "${container}" in pod "${podName}" not found`)
    } else if (c.state === 'waiting' && !c.containerID) {
      return fail(400, `container "${container}" in pod "${podName}" is waiting to start: ${c.waitingReason}`)
    }
    const timestamps = truthy(q.get('timestamps'))
    const tail = q.get('tailLines')
    const since = q.get('sinceSeconds')
    const limitBytes = q.get('limitBytes') ? Number(q.get('limitBytes')) : Infinity
    let lines = previous ? c.prevLogs! : c.logs
    if (since) {
      const from = Date.now() - Number(since) * 1000
      lines = lines.filter((l) => Date.parse(l.ts) >= from)
    }
    if (tail !== null && tail !== '' && Number(tail) >= 0) lines = Number(tail) === 0 ? [] : lines.slice(-Number(tail))
    res.writeHead(200, {'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked'})
    let sent = 0
    const write = (l: LogLine): boolean => {
      const s = (timestamps ? `${l.ts} ` : '') + l.text + '\n'
      if (sent + Buffer.byteLength(s) > limitBytes) {
        res.end(Buffer.from(s).subarray(0, Math.max(0, limitBytes - sent)))
        return false
      }
      sent += Buffer.byteLength(s)
      res.write(s)
      return true
    }
    for (const l of lines) if (!write(l)) return
    const follow = truthy(q.get('follow'))
    if (!follow || previous || c.state !== 'running' || run?.stopped) {
      res.end()
      return
    }
    const f = (l: LogLine | null) => {
      if (l === null || !write(l)) {
        c.followers.delete(f)
        if (!res.writableEnded) res.end()
      }
    }
    c.followers.add(f)
    res.on('close', () => c.followers.delete(f))
  }
}

function pickItems(all: Record<string, Buffer | string>, items?: Obj[]): Record<string, Buffer | string> {
  if (!items?.length) return all
  const out: Record<string, Buffer | string> = {}
  for (const it of items) if (all[it.key] !== undefined) out[it.path] = all[it.key]
  return out
}

const isBuildPod = (pod: Obj): boolean => Object.hasOwn(pod.metadata?.labels ?? {}, 'machineconfiguration.openshift.io/buildPod')

/** klog header time: MMDD HH:MM:SS.uuuuuu */
export function klogStamp(d = new Date()): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0')
  return `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds() * 1000, 6)}`
}
