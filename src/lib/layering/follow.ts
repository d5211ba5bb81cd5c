/**
 * Following what the cluster does after a change, by watching (never polling): several informers
 * merged into one stream of events, the machine-os-builder's health, and each node's way through
 * a rollout (queued, cordoned and updating, rebooting, done — or degraded).
 */
import {ExitCode, MobError} from '../errors.js'
import type {KubeClient} from '../kube/client.js'
import {R, type ResourceType} from '../kube/resources.js'
import type {KubeObject, MachineConfigPool, Node, Pod} from '../kube/types.js'
import {informer, type InformerEvent} from '../kube/watch.js'
import {MACHINE_OS_BUILDER, MACHINE_OS_BUILDER_SELECTOR, MCO_NAMESPACE} from '../mco/constants.js'
import {nodeMcoState, nodeReady, poolOfNode} from '../mco/pool-state.js'

export interface Tagged<K extends string = string> {
  source: K
  event: InformerEvent<KubeObject>
}

export interface WatchSpec<K extends string = string> {
  source: K
  resource: ResourceType
  namespace?: string
  labelSelector?: string
  fieldSelector?: string
}

/**
 * Several informers as one stream, each event tagged with its source. Every source is listed first
 * (ADDED... then SYNCED), then live events arrive as they happen. Stops when `signal` aborts or the
 * consumer stops; an informer that fails ends the stream with its error.
 */
export async function* watchAll<K extends string>(client: KubeClient, specs: Array<WatchSpec<K>>, signal?: AbortSignal): AsyncGenerator<Tagged<K>> {
  const ac = new AbortController()
  const onAbort = (): void => ac.abort(signal?.reason)
  signal?.addEventListener('abort', onAbort, {once: true})
  const queue: Array<Tagged<K>> = []
  let failure: unknown
  let wake: (() => void) | undefined
  const poke = (): void => {
    const w = wake
    wake = undefined
    w?.()
  }

  ac.signal.addEventListener('abort', poke, {once: true})
  const pumps = specs.map(async (spec) => {
    try {
      for await (const event of informer<KubeObject>(client, spec.resource, {
        fieldSelector: spec.fieldSelector, labelSelector: spec.labelSelector, namespace: spec.namespace, signal: ac.signal,
      })) {
        queue.push({event, source: spec.source})
        poke()
      }
    } catch (error) {
      if (!ac.signal.aborted) {
        failure ??= error
        poke()
      }
    }
  })
  try {
    while (!ac.signal.aborted) {
      if (failure) throw failure
      const next = queue.shift()
      if (next) {
        yield next
        continue
      }

      await new Promise<void>((resolve) => {
        wake = resolve
      })
    }

    if (signal?.aborted) throw signal.reason ?? new MobError('interrupted', {exitCode: ExitCode.Interrupted})
  } finally {
    signal?.removeEventListener('abort', onAbort)
    ac.abort()
    await Promise.allSettled(pumps)
  }
}

/** A keyed cache of what the merged watch has seen, per source. */
export class Seen<K extends string = string> {
  private readonly maps = new Map<K, Map<string, KubeObject>>()
  private readonly synced = new Set<K>()

  apply(t: Tagged<K>): void {
    let m = this.maps.get(t.source)
    if (!m) {
      m = new Map()
      this.maps.set(t.source, m)
    }

    const ev = t.event
    if (ev.type === 'SYNCED') {
      this.synced.add(t.source)
      return
    }

    const k = `${ev.object.metadata.namespace ?? ''}/${ev.object.metadata.name}`
    if (ev.type === 'DELETED') m.delete(k)
    else m.set(k, ev.object)
  }

  /** True once every source in `sources` has been listed. */
  ready(...sources: K[]): boolean {
    return sources.every((s) => this.synced.has(s))
  }

  all<T extends KubeObject>(source: K): T[] {
    return [...(this.maps.get(source)?.values() ?? [])] as T[]
  }

  one<T extends KubeObject>(source: K, name: string): T | undefined {
    return this.all<T>(source).find((o) => o.metadata.name === name)
  }
}

/** Runs `body` with a signal that also aborts after `timeoutMs`, turning that into a timeout error. */
export async function withTimeout<T>(
  signal: AbortSignal | undefined, timeoutMs: number | undefined, what: string, next: string,
  body: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const ac = new AbortController()
  const onAbort = (): void => ac.abort(signal?.reason ?? new MobError('interrupted', {exitCode: ExitCode.Interrupted}))
  signal?.addEventListener('abort', onAbort, {once: true})
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => ac.abort(new MobError(`timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${what}`, {
    exitCode: ExitCode.Timeout, next,
  })), timeoutMs)
  try {
    return await body(ac.signal)
  } catch (error) {
    if (ac.signal.aborted && ac.signal.reason instanceof MobError) {
      const reason = ac.signal.reason
      if (reason.exitCode === ExitCode.Interrupted) {
        throw new MobError(`interrupted while waiting for ${what}; the cluster goes on by itself`, {exitCode: ExitCode.Interrupted, next})
      }

      throw reason
    }

    throw error
  } finally {
    if (timer) clearTimeout(timer)
    signal?.removeEventListener('abort', onAbort)
  }
}

/** The last lines of a container's log (empty when it cannot be read). */
export async function logTail(client: KubeClient, pod: string, container: string | undefined, lines = 20, previous = false): Promise<string[]> {
  try {
    const text = await client.request<string>({
      accept: 'text/plain',
      method: 'GET',
      path: `/api/v1/namespaces/${MCO_NAMESPACE}/pods/${encodeURIComponent(pod)}/log`,
      query: {container, previous: previous || undefined, tailLines: lines},
    })
    return String(text ?? '').split('\n').filter((l) => l.length > 0).slice(-lines)
  } catch {
    return []
  }
}

// ------------------------------------------------------------------ the machine-os-builder

export interface BuilderHealth {
  running: boolean
  /** The pod and why it is failing (crash, exit code, CrashLoopBackOff). */
  failing?: {pod: string; why: string; restarted: boolean}
}

/** Whether a machine-os-builder pod runs, or crashes. */
export function builderHealth(pods: Pod[]): BuilderHealth {
  let running = false
  for (const p of pods) {
    if (p.metadata.deletionTimestamp) continue
    const st = p.status?.containerStatuses?.find((c) => c.name === MACHINE_OS_BUILDER) ?? p.status?.containerStatuses?.[0]
    const term = st?.state?.terminated
    const last = st?.lastState?.terminated
    if (term && term.exitCode !== 0) return {failing: {pod: p.metadata.name!, restarted: false, why: `its container exited with code ${term.exitCode}${term.reason ? ` (${term.reason})` : ''}`}, running: false}
    if (st?.state?.waiting?.reason === 'CrashLoopBackOff' || (last && last.exitCode !== 0 && !st?.ready)) {
      return {failing: {pod: p.metadata.name!, restarted: true, why: `it keeps crashing (${st?.state?.waiting?.reason ?? 'restarted'}${last ? `, last exit code ${last.exitCode}` : ''})`}, running: false}
    }

    if (p.status?.phase === 'Failed') return {failing: {pod: p.metadata.name!, restarted: false, why: p.status.message || 'the pod failed'}, running: false}
    if (p.status?.phase === 'Running' && (st?.ready ?? true)) running = true
  }

  return {running}
}

export const BUILDER_WATCH = {
  labelSelector: MACHINE_OS_BUILDER_SELECTOR, namespace: MCO_NAMESPACE, resource: R.pods,
} as const

export const BUILDER_DEPLOYMENT_WATCH = {
  fieldSelector: `metadata.name=${MACHINE_OS_BUILDER}`, namespace: MCO_NAMESPACE, resource: R.deployments,
} as const

// ------------------------------------------------------------------ nodes

export type NodePhase = 'degraded' | 'done' | 'queued' | 'rebooting' | 'updating'

export interface NodeProgress {
  name: string
  /** The pool the node belongs to now. */
  pool: string | null
  phase: NodePhase
  message: string
  desiredConfig: string | null
  currentConfig: string | null
  desiredImage: string | null
  currentImage: string | null
}

export interface FollowNodesOptions {
  signal?: AbortSignal
  timeoutMs?: number
  /** The image the nodes of a pool should run (undefined: none yet, or not layered). */
  imageOf: (pool: MachineConfigPool) => string | undefined
  /** Whether the pool's nodes wait for an image (layered) before they are updated. */
  waitsForImage: (pool: MachineConfigPool) => boolean
  onNode?: (p: NodeProgress) => void
  /** What to tell the user when the wait is cut short. */
  next?: string
}

/** Where one node stands relative to the pool it belongs to. */
export function nodeProgress(node: Node, pools: MachineConfigPool[], opts: Pick<FollowNodesOptions, 'imageOf' | 'waitsForImage'>): NodeProgress {
  const s = nodeMcoState(node)
  const poolName = poolOfNode(node, pools)
  const pool = pools.find((p) => p.metadata.name === poolName)
  const base = {
    currentConfig: s.currentConfig ?? null, currentImage: s.currentImage ?? null, desiredConfig: s.desiredConfig ?? null,
    desiredImage: s.desiredImage ?? null, name: node.metadata.name!, pool: poolName ?? null,
  }
  if (s.state === 'Degraded' || s.state === 'Unreconcilable') {
    return {...base, message: `${s.state}: ${s.reason || 'no reason given'}`, phase: 'degraded'}
  }

  if (!pool) return {...base, message: 'the node belongs to no pool (no pool selects it)', phase: 'queued'}
  const target = pool.spec?.configuration?.name
  const image = opts.imageOf(pool)
  if (opts.waitsForImage(pool) && !image) {
    return {...base, message: `waiting for the image of pool ${poolName} to be built`, phase: 'queued'}
  }

  const wantImage = image ?? ''
  const desiredOk = s.desiredConfig === target && (s.desiredImage ?? '') === wantImage
  if (!desiredOk) {
    return {...base, message: pool.spec?.paused ? `pool ${poolName} is paused` : `waiting for its turn (pool ${poolName}, maxUnavailable ${pool.spec?.maxUnavailable ?? 1})`, phase: 'queued'}
  }

  const currentOk = s.currentConfig === target && (s.currentImage ?? '') === wantImage
  if (currentOk && s.state === 'Done') {
    if (node.spec?.unschedulable || !nodeReady(node)) return {...base, message: 'coming back (uncordon)', phase: 'rebooting'}
    return {...base, message: image ? `on ${image}` : `on ${target}`, phase: 'done'}
  }

  if (!nodeReady(node)) return {...base, message: 'rebooting', phase: 'rebooting'}
  if (node.spec?.unschedulable) return {...base, message: image ? `cordoned and drained; rebasing onto ${image}` : `cordoned and drained; applying ${target}`, phase: 'updating'}
  return {...base, message: s.state === 'Working' ? 'updating' : `update to ${target} requested`, phase: 'updating'}
}

/**
 * Follow nodes until each is done on its pool's config (and image), reporting every change of
 * phase. A node that goes Degraded ends the wait with exit code 8 and the daemon's reason.
 */
export async function followNodes(client: KubeClient, names: string[], opts: FollowNodesOptions): Promise<NodeProgress[]> {
  const want = new Set(names)
  const last = new Map<string, string>()
  return withTimeout(opts.signal, opts.timeoutMs, `node${names.length === 1 ? '' : 's'} ${names.join(', ')}`, opts.next ?? 'follow the nodes with `oc mob status POOL`', async (signal) => {
    const seen = new Seen<'nodes' | 'pools'>()
    for await (const t of watchAll(client, [{resource: R.nodes, source: 'nodes' as const}, {resource: R.machineConfigPools, source: 'pools' as const}], signal)) {
      seen.apply(t)
      if (!seen.ready('nodes', 'pools')) continue
      const pools = seen.all<MachineConfigPool>('pools')
      const nodes = seen.all<Node>('nodes').filter((n) => want.has(n.metadata.name!))
      const progress = nodes.map((n) => nodeProgress(n, pools, opts)).sort((a, b) => a.name.localeCompare(b.name))
      for (const p of progress) {
        // Back from the reboot, the daemon still has to record the new config and uncordon.
        if (p.phase === 'updating' && last.get(p.name)?.startsWith('rebooting|')) {
          p.phase = 'rebooting'
          p.message = 'back up; the daemon finishes the update'
        }

        const key = `${p.phase}|${p.message}`
        if (last.get(p.name) !== key) {
          last.set(p.name, key)
          opts.onNode?.(p)
        }
      }

      const degraded = progress.find((p) => p.phase === 'degraded')
      if (degraded) {
        throw new MobError(`node ${degraded.name} is ${degraded.message}`, {
          code: 'NodeDegraded', exitCode: ExitCode.Failed,
          next: /layered to non-layered/.test(degraded.message)
            ? `on 4.14/4.15 a node cannot leave a layered image by itself: take it off its image with \`oc mob rollback node ${degraded.name}\` (it replaces the machine)`
            : `see the machine-config daemon's log on the node (\`oc logs -n openshift-machine-config-operator -c machine-config-daemon $(oc get pods -n openshift-machine-config-operator -o name --field-selector spec.nodeName=${degraded.name} -l k8s-app=machine-config-daemon)\`)`,
        })
      }

      if (progress.length === want.size && progress.every((p) => p.phase === 'done')) return progress
    }

    throw new MobError('the watch ended early', {exitCode: ExitCode.Unreachable})
  })
}
