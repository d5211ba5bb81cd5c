// Node controller (picks nodes to update per pool, honouring maxUnavailable and
// paused, gating layered pools on a finished image build), the pool status
// sync (machine counts, Updated/Updating/NodeDegraded/Degraded), and the
// machine-config-daemon of every node (Working + cordon -> "reboot" -> Done).
import {Informer, type SimClient, type Obj, R, matchesSelector, now, sleep} from './client.js'
import {type Logger, Loop} from './loop.js'
import {isLayered, isTrue, setCondition} from './buildcontroller.js'
import {
  NEWEST_IMAGE_ANNOTATION,
  NODE_CURRENT_CONFIG,
  NODE_CURRENT_IMAGE,
  NODE_DESIRED_CONFIG,
  NODE_DESIRED_DRAIN,
  NODE_DESIRED_IMAGE,
  NODE_LAST_APPLIED_DRAIN,
  NODE_REASON,
  NODE_STATE,
  rolloutReasonUnsupported,
} from './names.js'

const ann = (o: Obj, k: string): string => o.metadata?.annotations?.[k] ?? ''

/**
 * The pool a node belongs to: master wins, then a single custom pool, then
 * worker (a node matching two custom pools belongs to none).
 */
function poolForNode(node: Obj, pools: Obj[]): Obj | undefined {
  const matching = pools.filter((p) => !p.metadata.deletionTimestamp && matchesSelector(p.spec?.nodeSelector, node.metadata?.labels))
  const master = matching.find((p) => p.metadata.name === 'master')
  if (master) return master
  const custom = matching.filter((p) => p.metadata.name !== 'worker')
  if (custom.length === 1) return custom[0]
  if (custom.length > 1) return undefined
  return matching.find((p) => p.metadata.name === 'worker')
}

const isNodeReady = (n: Obj) => (n.status?.conditions ?? []).some((c: Obj) => c.type === 'Ready' && c.status === 'True')

/** The image a layered pool's nodes should run, or undefined while its build is not done. */
function poolImage(pool: Obj): string | undefined {
  return isLayered(pool) ? ann(pool, NEWEST_IMAGE_ANNOTATION) || undefined : undefined
}

function isDoneAt(node: Obj, pool: Obj, image = poolImage(pool) ?? ''): boolean {
  const target = pool.spec?.configuration?.name
  return (
    ann(node, NODE_CURRENT_CONFIG) === target &&
    ann(node, NODE_DESIRED_CONFIG) === target &&
    ann(node, NODE_STATE) === 'Done' &&
    ann(node, NODE_CURRENT_IMAGE) === image &&
    ann(node, NODE_DESIRED_IMAGE) === image
  )
}

function isUnavailable(node: Obj): boolean {
  return (
    !isNodeReady(node) ||
    !!node.spec?.unschedulable ||
    ann(node, NODE_DESIRED_CONFIG) !== ann(node, NODE_CURRENT_CONFIG) ||
    ann(node, NODE_DESIRED_IMAGE) !== ann(node, NODE_CURRENT_IMAGE) ||
    ann(node, NODE_STATE) === 'Working'
  )
}

function maxUnavailable(pool: Obj, total: number): number {
  const v = pool.spec?.maxUnavailable
  if (v === undefined || v === null || v === '') return 1
  if (typeof v === 'number') return Math.max(v, 1)
  const m = /^(\d+)%$/.exec(String(v))
  if (m) return Math.max(Math.floor((Number(m[1]) * total) / 100), 1)
  return Math.max(Number(v) || 1, 1)
}

export class NodeController {
  private readonly pools: Informer
  private readonly nodes: Informer
  /** 4.18+ (opts.machineOS): MachineOSConfigs and MachineOSBuilds decide the image of their pools. */
  private readonly configs?: Informer
  private readonly builds?: Informer
  private readonly loop: Loop
  private readonly waiting = new Map<string, string>()
  private readonly written = new Map<string, {config: string; image: string}>()

  constructor(
    private readonly client: SimClient,
    private readonly log: Logger,
    opts: {retryMs?: number; resyncMs?: number; machineOS?: boolean} = {},
  ) {
    const onError = (e: unknown) => log(`node-controller: watch: ${(e as Error).message}`)
    this.pools = new Informer(client, R.pools, {onError})
    this.nodes = new Informer(client, R.nodes, {onError})
    if (opts.machineOS) {
      this.configs = new Informer(client, R.machineosconfigs, {onError})
      this.builds = new Informer(client, R.machineosbuilds, {onError})
    }
    this.loop = new Loop('node-controller', () => this.pass(), {log, ...opts})
    for (const i of [this.pools, this.nodes, this.configs, this.builds]) i?.on(() => this.loop.kick())
  }

  async start(): Promise<void> {
    await Promise.all([this.pools.start(), this.nodes.start(), this.configs?.start(), this.builds?.start()])
    this.loop.start()
  }

  async stop(): Promise<void> {
    await this.loop.stop()
    await Promise.all([this.pools.stop(), this.nodes.stop(), this.configs?.stop(), this.builds?.stop()])
  }

  /**
   * 4.18+: pools with a MachineOSConfig, and the image their nodes should run (the MachineOSConfig's
   * current image, once the MachineOSBuild of the pool's rendered config succeeded with it) or why
   * they wait. Empty where the MachineOSConfig API is not served.
   */
  private machineOS = new Map<string, {image?: string; why?: string}>()

  private readMachineOS(): Map<string, {image?: string; why?: string}> {
    const out = new Map<string, {image?: string; why?: string}>()
    const configs = this.configs?.list() ?? []
    const builds = this.builds?.list() ?? []
    for (const c of configs) {
      const pool = this.pools.get(c.spec?.machineConfigPool?.name)
      if (!pool) continue
      const rendered = pool.spec?.configuration?.name
      // The build of the rendered config the MachineOSConfig names as current (several specs may have built for one config).
      const image = c.status?.currentImagePullSpec
      const named = c.metadata.annotations?.['machineconfiguration.openshift.io/current-machine-os-build']
      const forConfig = builds.filter((x) => x.spec?.machineOSConfig?.name === c.metadata.name && x.spec?.machineConfig?.name === rendered)
      const b =
        forConfig.find((x) => x.metadata.name === named) ??
        forConfig.find((x) => image && x.status?.digestedImagePushSpec === image) ??
        forConfig[0]
      const succeeded = b && (b.status?.conditions ?? []).some((x: Obj) => x.type === 'Succeeded' && x.status === 'True')
      out.set(
        pool.metadata.name,
        succeeded && image && b.status?.digestedImagePushSpec === image
          ? {image}
          : {why: `Pool is waiting for OS image build to complete${b ? ` (mosb: ${b.metadata.name})` : ''}`},
      )
    }
    return out
  }

  private imageFor(pool: Obj): string | undefined {
    const mos = this.machineOS.get(pool.metadata.name)
    return mos ? mos.image : poolImage(pool)
  }

  private async pass(): Promise<void> {
    this.machineOS = this.readMachineOS()
    const pools = this.pools.list()
    // overlay our own recent writes the cache may not show yet
    const nodes = this.nodes.list().map((n) => {
      const w = this.written.get(n.metadata.name)
      if (!w) return n
      const a = n.metadata.annotations ?? {}
      if (a[NODE_DESIRED_CONFIG] === w.config && (a[NODE_DESIRED_IMAGE] ?? '') === w.image) {
        this.written.delete(n.metadata.name)
        return n
      }
      const copy = structuredClone(n)
      copy.metadata.annotations = {...a, [NODE_DESIRED_CONFIG]: w.config, [NODE_DESIRED_IMAGE]: w.image}
      if (!w.image) delete copy.metadata.annotations[NODE_DESIRED_IMAGE]
      return copy
    })
    for (const pool of pools) {
      if (pool.metadata.deletionTimestamp) continue
      const members = nodes.filter((n) => poolForNode(n, pools)?.metadata.name === pool.metadata.name)
      await this.rollout(pool, members)
      await this.syncStatus(pool, members)
    }
  }

  private gate(pool: Obj): string | undefined {
    const mos = this.machineOS.get(pool.metadata.name)
    if (mos) return mos.why
    if (!isLayered(pool)) return undefined
    if (!ann(pool, NEWEST_IMAGE_ANNOTATION)) return `Image annotation ${NEWEST_IMAGE_ANNOTATION} is not set`
    if (isTrue(pool, 'BuildPending')) return 'Image build pending'
    if (isTrue(pool, 'Building')) return 'Image build in progress'
    if (isTrue(pool, 'BuildFailed')) return 'Image build failed'
    if (!isTrue(pool, 'BuildSuccess')) return 'Image is not ready yet'
    return undefined
  }

  private async rollout(pool: Obj, members: Obj[]): Promise<void> {
    const name = pool.metadata.name
    const target = pool.spec?.configuration?.name
    if (!target || pool.spec?.paused) return
    const why = this.gate(pool)
    if (why) {
      if (this.waiting.get(name) !== why) {
        this.waiting.set(name, why)
        this.log(`node-controller: pool ${name}: ${why}`)
      }
      return
    }
    this.waiting.delete(name)
    const image = this.imageFor(pool)
    const needs = (n: Obj) => ann(n, NODE_DESIRED_CONFIG) !== target || ann(n, NODE_DESIRED_IMAGE) !== (image ?? '')
    const candidates = members.filter(needs).sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1))
    if (!candidates.length) return
    const unavailable = members.filter(isUnavailable).length
    let capacity = maxUnavailable(pool, members.length) - unavailable
    for (const n of candidates) {
      if (capacity <= 0) break
      if (isUnavailable(n) && ann(n, NODE_STATE) === 'Working') continue
      const annotations: Record<string, string | null> = {[NODE_DESIRED_CONFIG]: target}
      annotations[NODE_DESIRED_IMAGE] = image ?? null
      await this.client.patch(R.nodes, undefined, n.metadata.name, {metadata: {annotations}})
      this.written.set(n.metadata.name, {config: target, image: image ?? ''})
      this.log(
        `node-controller: pool ${name}: ${image ? 'SetDesiredConfigAndOSImage' : 'SetDesiredConfig'} ${n.metadata.name} -> ${target}${image ? ` ${image}` : ''}`,
      )
      if (!isUnavailable(n)) capacity--
    }
  }

  private async syncStatus(pool: Obj, members: Obj[]): Promise<void> {
    const target = pool.spec?.configuration?.name
    const updated = members.filter((n) => isDoneAt(n, pool, this.imageFor(pool) ?? ''))
    const degraded = members.filter((n) => ['Degraded', 'Unreconcilable'].includes(ann(n, NODE_STATE)))
    const unavailable = members.filter(isUnavailable)
    const ready = updated.filter((n) => !isUnavailable(n))
    const allUpdated = updated.length === members.length
    const cur = pool.status ?? {}
    const conds: Obj[] = structuredClone(cur.conditions ?? [])
    if (target) {
      if (allUpdated && !degraded.length) {
        setCondition(conds, 'Updated', 'True', '', `All nodes are updated with ${target}`)
        setCondition(conds, 'Updating', 'False')
      } else {
        setCondition(conds, 'Updated', 'False')
        setCondition(conds, 'Updating', 'True', '', `All nodes are updating to ${target}`)
      }
    }
    if (degraded.length) {
      const msg = degraded.map((n) => `Node ${n.metadata.name} is reporting: "${ann(n, NODE_REASON)}"`).join(', ')
      setCondition(conds, 'NodeDegraded', 'True', `${degraded.length} nodes are reporting degraded status on sync`, msg)
    } else setCondition(conds, 'NodeDegraded', 'False')
    const render = conds.find((c) => c.type === 'RenderDegraded')
    if (!render) setCondition(conds, 'RenderDegraded', 'False')
    const anyDegraded = degraded.length > 0 || render?.status === 'True'
    const degradedCond = conds.find((c) => c.type === 'Degraded')
    if (anyDegraded) {
      if (degradedCond?.status !== 'True') setCondition(conds, 'Degraded', 'True')
    } else setCondition(conds, 'Degraded', 'False')
    const next: Obj = {
      machineCount: members.length,
      updatedMachineCount: updated.length,
      readyMachineCount: ready.length,
      unavailableMachineCount: unavailable.length,
      degradedMachineCount: degraded.length,
      observedGeneration: pool.metadata.generation ?? cur.observedGeneration ?? 1,
    }
    const strip = (cs: Obj[]) => JSON.stringify(cs.map((c) => [c.type, c.status, c.reason, c.message]).sort())
    const configChange = allUpdated && target && cur.configuration?.name !== target
    const same = Object.entries(next).every(([k, v]) => cur[k] === v) && strip(cur.conditions ?? []) === strip(conds) && !configChange
    if (same) return
    await this.client.update(
      R.pools,
      undefined,
      pool.metadata.name,
      (p) => {
        p.status ??= {}
        Object.assign(p.status, next)
        // only this controller's conditions change; the build conditions and
        // RenderDegraded are whatever their writers left in the latest object
        const merged: Obj[] = structuredClone(p.status.conditions ?? [])
        for (const t of ['Updated', 'Updating', 'NodeDegraded']) {
          const mine = conds.find((c) => c.type === t)
          if (!mine) continue
          const i = merged.findIndex((c) => c.type === t)
          if (i >= 0) merged[i] = mine
          else merged.push(mine)
        }
        if (!merged.some((c) => c.type === 'RenderDegraded')) setCondition(merged, 'RenderDegraded', 'False')
        const renderDegraded = merged.find((c) => c.type === 'RenderDegraded')?.status === 'True'
        const d = merged.find((c) => c.type === 'Degraded')
        if (degraded.length || renderDegraded) {
          if (d?.status !== 'True') setCondition(merged, 'Degraded', 'True')
        } else setCondition(merged, 'Degraded', 'False')
        p.status.conditions = merged
        if (allUpdated && p.spec?.configuration?.name === target && target) p.status.configuration = structuredClone(p.spec.configuration)
      },
      {status: true},
    )
  }
}

export interface DaemonOptions {
  client: SimClient
  log: Logger
  /** Time between cordon and the node coming back on the new config. */
  rebootMs?: number
  /**
   * 4.18+: a node whose desiredImage goes away reverts to the rendered config's OS image (two reboots);
   * 4.14 refuses and marks the node Degraded.
   */
  revertFromImage?: boolean
}

/** The machine-config-daemon of every node. */
export class Daemons {
  private readonly nodes: Informer
  private readonly busy = new Set<string>()
  private readonly ac = new AbortController()
  private readonly work = new Set<Promise<void>>()

  constructor(private readonly opts: DaemonOptions) {
    this.nodes = new Informer(opts.client, R.nodes, {onError: (e) => opts.log(`daemon: watch: ${(e as Error).message}`)})
    this.nodes.on((type, node) => {
      if (type !== 'DELETED') this.consider(node)
    })
  }

  async start(): Promise<void> {
    await this.nodes.start()
    for (const n of this.nodes.list()) this.consider(n)
  }

  async stop(): Promise<void> {
    this.ac.abort()
    await this.nodes.stop()
    await Promise.all([...this.work])
  }

  private consider(node: Obj): void {
    const name = node.metadata.name
    if (this.busy.has(name) || this.ac.signal.aborted) return
    const desired = ann(node, NODE_DESIRED_CONFIG)
    if (!desired) return
    const current = ann(node, NODE_CURRENT_CONFIG)
    const desiredImage = ann(node, NODE_DESIRED_IMAGE)
    const currentImage = ann(node, NODE_CURRENT_IMAGE)
    const state = ann(node, NODE_STATE)
    const inSync = desired === current && desiredImage === currentImage
    if (inSync && state === 'Done') return
    if (!inSync && !desiredImage && currentImage && !this.opts.revertFromImage) {
      // 4.14 refuses to go back from an image to plain configs.
      if (state === 'Degraded' && ann(node, NODE_REASON) === rolloutReasonUnsupported) return
    }
    this.busy.add(name)
    const p = this.update(node)
      .catch((e) => this.opts.log(`daemon ${name}: ${(e as Error).message}`))
      .finally(() => {
        this.busy.delete(name)
        this.work.delete(p)
        const latest = this.nodes.get(name)
        if (latest && !this.ac.signal.aborted) this.consider(latest)
      })
    this.work.add(p)
  }

  private async patchNode(name: string, annotations: Record<string, string | null>, spec?: Obj): Promise<void> {
    await this.opts.client.patch(R.nodes, undefined, name, {metadata: {annotations}, ...(spec ? {spec} : {})}, 'strategic')
  }

  private async setReady(name: string, ready: boolean): Promise<void> {
    const node = await this.opts.client.get(R.nodes, undefined, name)
    if (!node) return
    const conds: Obj[] = (node.status?.conditions ?? []).map((c: Obj) =>
      c.type === 'Ready'
        ? ready
          ? {
              ...c,
              status: 'True',
              reason: 'KubeletReady',
              message: 'kubelet is posting ready status',
              lastTransitionTime: now(),
              lastHeartbeatTime: now(),
            }
          : {
              ...c,
              status: 'Unknown',
              reason: 'NodeStatusUnknown',
              message: 'Kubelet stopped posting node status.',
              lastTransitionTime: now(),
              lastHeartbeatTime: now(),
            }
        : c,
    )
    const status: Obj = {conditions: conds}
    if (ready) status.nodeInfo = {...node.status?.nodeInfo, bootID: crypto.randomUUID()}
    await this.opts.client.patch(R.nodes, undefined, name, {status}, 'merge', 'status')
  }

  private async update(cached: Obj): Promise<void> {
    const name = cached.metadata.name
    // the cache may lag behind our own last write: act on the current object
    const node = await this.opts.client.get(R.nodes, undefined, name)
    if (!node) return
    const log = (m: string) => this.opts.log(`machine-config-daemon[${name}]: ${m}`)
    const desired = ann(node, NODE_DESIRED_CONFIG)
    const desiredImage = ann(node, NODE_DESIRED_IMAGE)
    const current = ann(node, NODE_CURRENT_CONFIG)
    const currentImage = ann(node, NODE_CURRENT_IMAGE)
    if (!desired) return
    if (desired === current && desiredImage === currentImage) {
      if (ann(node, NODE_STATE) !== 'Done') await this.patchNode(name, {[NODE_STATE]: 'Done', [NODE_REASON]: ''})
      return
    }
    const revert = !desiredImage && Boolean(currentImage) && this.opts.revertFromImage === true
    if (
      !revert &&
      !desiredImage &&
      currentImage &&
      ann(node, NODE_STATE) === 'Degraded' &&
      ann(node, NODE_REASON) === rolloutReasonUnsupported
    )
      return
    if (!revert && !desiredImage && currentImage) {
      log(`Marking Degraded due to: ${rolloutReasonUnsupported}`)
      await this.patchNode(name, {[NODE_STATE]: 'Degraded', [NODE_REASON]: rolloutReasonUnsupported})
      return
    }
    const mc = await this.opts.client.get(R.machineconfigs, undefined, desired)
    if (!mc) {
      const reason = `machineconfig.machineconfiguration.openshift.io "${desired}" not found`
      log(`Marking Degraded due to: ${reason}`)
      await this.patchNode(name, {[NODE_STATE]: 'Degraded', [NODE_REASON]: reason})
      return
    }
    log(
      desiredImage
        ? `Starting update from ${current} to ${desired} with image ${desiredImage}`
        : `Starting update from ${current} to ${desired}`,
    )
    await this.patchNode(name, {[NODE_STATE]: 'Working', [NODE_REASON]: '', [NODE_DESIRED_DRAIN]: `drain-${desired}`})
    await this.patchNode(name, {[NODE_LAST_APPLIED_DRAIN]: `drain-${desired}`}, {unschedulable: true})
    log('Node has been successfully cordoned and drained')
    if (desiredImage)
      log(`Executing rebase to ${desiredImage}: rpm-ostree rebase --experimental ostree-unverified-registry:${desiredImage}`)
    else if (revert) log(`Reverting from layered image ${currentImage}: rebasing to the OS image of ${desired}`)
    else log('Writing files and units for the new config')
    const reboot = this.opts.rebootMs ?? 100
    await sleep(reboot / 2, this.ac.signal)
    if (this.ac.signal.aborted) return
    log(desiredImage ? `Node will reboot into image ${desiredImage} / MachineConfig ${desired}` : `Rebooting node for ${desired}`)
    // a revert reboots twice: into the plain OS image, then once more after its revert service re-applies the config
    for (let i = 0; i < (revert ? 2 : 1); i++) {
      await this.setReady(name, false)
      await sleep(reboot / 2, this.ac.signal)
      if (this.ac.signal.aborted) return
      await this.setReady(name, true)
    }
    await this.patchNode(
      name,
      {
        [NODE_CURRENT_CONFIG]: desired,
        [NODE_CURRENT_IMAGE]: desiredImage || null,
        [NODE_STATE]: 'Done',
        [NODE_REASON]: '',
        [NODE_DESIRED_DRAIN]: `uncordon-${desired}`,
        [NODE_LAST_APPLIED_DRAIN]: `uncordon-${desired}`,
      },
      {unschedulable: null},
    )
    log(`Update completed for config ${desired}${desiredImage ? ` and image ${desiredImage}` : ''}; node uncordoned`)
  }
}
