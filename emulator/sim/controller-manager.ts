// The kube-controller-manager duties the simulated cluster needs, as an ordinary API client:
// - the garbage collector: an object whose owners (ownerReferences) are all gone is deleted (background
//   propagation); an owner deleted in the foreground (finalizer foregroundDeletion) loses its dependents
//   first, then the finalizer; a reference to a missing owner beside a live one is dropped;
// - the node lifecycle controller: node.kubernetes.io/not-ready:NoSchedule while a Node's Ready condition
//   is False (node.kubernetes.io/unreachable:NoSchedule while Unknown or missing), removed once it is True.
import {Informer, type Obj, R, type ResourceKind, type SimClient} from './client.js'
import {type Logger, Loop} from './loop.js'

const JOBS: ResourceKind = {group: 'batch', version: 'v1', plural: 'jobs', namespaced: true}
const NOT_READY = 'node.kubernetes.io/not-ready'
const UNREACHABLE = 'node.kubernetes.io/unreachable'
const FOREGROUND = 'foregroundDeletion'

const apiVersionOf = (k: ResourceKind) => (k.group ? `${k.group}/${k.version}` : k.version)

/** the kinds watched as dependents and as owners, by `apiVersion/Kind` */
function watchedKinds(machineOS: boolean): Map<string, ResourceKind> {
  const m = new Map<string, ResourceKind>([
    [`v1/Pod`, R.pods],
    [`v1/ConfigMap`, R.configmaps],
    [`v1/Secret`, R.secrets],
    [`batch/v1/Job`, JOBS],
    [`apps/v1/Deployment`, R.deployments],
    [`${apiVersionOf(R.pools)}/MachineConfigPool`, R.pools],
  ])
  if (machineOS) {
    m.set(`${apiVersionOf(R.machineosconfigs)}/MachineOSConfig`, R.machineosconfigs)
    m.set(`${apiVersionOf(R.machineosbuilds)}/MachineOSBuild`, R.machineosbuilds)
  }
  return m
}

/** the taint the node lifecycle controller wants on a node: none when Ready is True; null before any report */
export function wantedTaint(node: Obj): string | undefined | null {
  const ready = (node.status?.conditions ?? []).find((c: Obj) => c?.type === 'Ready')
  if (!ready) return null
  if (ready.status === 'True') return undefined
  return ready.status === 'False' ? NOT_READY : UNREACHABLE
}

export class ControllerManager {
  private readonly informers = new Map<string, Informer>()
  private readonly nodes: Informer
  private readonly gc: Loop
  private readonly lifecycle: Loop

  constructor(
    private readonly client: SimClient,
    private readonly log: Logger,
    opts: {retryMs?: number; resyncMs?: number; machineOS?: boolean} = {},
  ) {
    const onError = (e: unknown) => log(`controller-manager: watch: ${(e as Error).message}`)
    for (const [key, kind] of watchedKinds(opts.machineOS === true)) this.informers.set(key, new Informer(client, kind, {onError}))
    this.nodes = new Informer(client, R.nodes, {onError})
    this.gc = new Loop('garbage-collector', () => this.collect(), {log, ...opts})
    this.lifecycle = new Loop('node-lifecycle-controller', () => this.taintNodes(), {log, ...opts})
    for (const i of this.informers.values()) i.on(() => this.gc.kick())
    this.nodes.on(() => this.lifecycle.kick())
  }

  async start(): Promise<void> {
    await Promise.all([...this.informers.values(), this.nodes].map((i) => i.start()))
    this.gc.start()
    this.lifecycle.start()
  }

  async stop(): Promise<void> {
    await Promise.all([this.gc.stop(), this.lifecycle.stop()])
    await Promise.all([...this.informers.values(), this.nodes].map((i) => i.stop()))
  }

  // ---------------------------------------------------------------- garbage collector

  /** whether the owner a reference names exists with that uid (undefined: a kind not watched, so unknown) */
  private ownerExists(ref: Obj, namespace: string | undefined): boolean | undefined {
    const inf = this.informers.get(`${ref.apiVersion}/${ref.kind}`)
    if (!inf) return undefined
    const owner = inf.get(ref.name, inf.kind.namespaced ? namespace : undefined)
    return owner?.metadata?.uid === ref.uid
  }

  private async collect(): Promise<void> {
    const all = [...this.informers.values()].flatMap((inf) => inf.list().map((o) => ({inf, o})))
    const byUid = new Map(all.map(({inf, o}) => [o.metadata.uid as string, {inf, o}]))
    // foreground: dependents of a marked owner go first; the finalizer goes once none blocks it
    for (const {inf, o} of all) {
      if (!o.metadata.deletionTimestamp || !(o.metadata.finalizers ?? []).includes(FOREGROUND)) continue
      const deps = all.filter(({o: d}) => (d.metadata.ownerReferences ?? []).some((r: Obj) => r.uid === o.metadata.uid))
      for (const {inf: di, o: d} of deps) {
        if (d.metadata.deletionTimestamp) continue
        await this.remove(di, d, 'Foreground')
      }
      const blocking = deps.filter(({o: d}) =>
        (d.metadata.ownerReferences ?? []).some((r: Obj) => r.uid === o.metadata.uid && r.blockOwnerDeletion === true),
      )
      if (blocking.length) continue
      await this.client.update(inf.kind, o.metadata.namespace, o.metadata.name, (cur) => {
        if (cur.metadata.uid !== o.metadata.uid) return false
        cur.metadata.finalizers = (cur.metadata.finalizers ?? []).filter((f: string) => f !== FOREGROUND)
      })
      this.log(`garbage-collector: ${o.kind} ${o.metadata.name}: dependents gone, ${FOREGROUND} removed`)
    }
    // background: an object whose every owner is gone goes; a missing owner beside a live one is dropped
    for (const {inf, o} of all) {
      const refs: Obj[] = o.metadata.ownerReferences ?? []
      if (!refs.length || o.metadata.deletionTimestamp) continue
      const gone: Obj[] = []
      for (const r of refs) {
        if (byUid.has(r.uid) || this.ownerExists(r, o.metadata.namespace) !== false) continue
        // the caches may lag behind a new owner: ask the server before acting
        const kind = this.informers.get(`${r.apiVersion}/${r.kind}`)!.kind
        const live = await this.client.get(kind, kind.namespaced ? o.metadata.namespace : undefined, r.name)
        if (live?.metadata?.uid !== r.uid) gone.push(r)
      }
      if (!gone.length) continue
      if (gone.length === refs.length) {
        await this.remove(inf, o, 'Background')
        continue
      }
      const left = refs.filter((r) => !gone.includes(r))
      await this.client.update(inf.kind, o.metadata.namespace, o.metadata.name, (cur) => {
        if (cur.metadata.uid !== o.metadata.uid) return false
        cur.metadata.ownerReferences = left
      })
    }
  }

  private async remove(inf: Informer, o: Obj, propagationPolicy: 'Background' | 'Foreground'): Promise<void> {
    const body = {kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy, preconditions: {uid: o.metadata.uid}}
    try {
      if (await this.client.delete(inf.kind, o.metadata.namespace, o.metadata.name, body))
        this.log(
          `garbage-collector: deleted ${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name} (owner gone)`,
        )
    } catch (e) {
      // a newer object of the same name (precondition failed) is not this dependent
      if (!String((e as Error).message).includes('Precondition failed')) throw e
    }
  }

  // ---------------------------------------------------------------- node lifecycle

  private async taintNodes(): Promise<void> {
    for (const node of this.nodes.list()) {
      const want = wantedTaint(node)
      if (want === null) continue
      const taints: Obj[] = node.spec?.taints ?? []
      const ours = (t: Obj) => (t.key === NOT_READY || t.key === UNREACHABLE) && t.effect === 'NoSchedule'
      const has = taints.filter(ours).map((t) => t.key)
      if (has.length === (want ? 1 : 0) && (!want || has[0] === want)) continue
      await this.client.update(R.nodes, undefined, node.metadata.name, (cur) => {
        const now = wantedTaint(cur)
        if (now === null) return false
        const rest = (cur.spec?.taints ?? []).filter((t: Obj) => !ours(t))
        cur.spec = {...cur.spec, taints: now ? [...rest, {key: now, effect: 'NoSchedule'}] : rest}
        if (!cur.spec.taints.length) delete cur.spec.taints
      })
      this.log(`node-lifecycle-controller: node ${node.metadata.name}: ${want ? `tainted ${want}:NoSchedule` : 'ready, taint removed'}`)
    }
  }
}
