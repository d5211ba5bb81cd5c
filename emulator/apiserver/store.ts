// The emulator's "etcd": immutable (frozen) objects with their JSON text cached, one global
// monotonically increasing resourceVersion, a bounded per-resource event history for watches,
// and per-resource watcher sets (fan-out is linear in the number of watchers of that resource).
import type {ResourceDef} from './resources.js'

export interface Entry {
  readonly key: string
  readonly obj: any
  readonly json: string
  readonly rv: number
}

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED'

export interface StoreEvent {
  type: EventType
  rv: number
  /** object after the change (for DELETED: the last state, carrying the deletion's resourceVersion) */
  obj: any
  json: string
  /** object before the change (MODIFIED/DELETED) */
  prev?: any
  key: string
}

export interface WatchSink {
  deliver(ev: StoreEvent): void
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o)
    for (const v of Object.values(o as any)) deepFreeze(v)
  }
  return o
}

const keyOf = (ns: string | undefined, name: string) => (ns ? `${ns}/${name}` : name)

export class Collection {
  readonly items = new Map<string, Entry>()
  private sortedCache: Entry[] | null = []
  readonly history: StoreEvent[] = []
  private historyStart = 0
  /** resourceVersion of the newest event dropped from the history (0: nothing dropped yet) */
  droppedRV = 0
  readonly watchers = new Set<WatchSink>()

  constructor(
    readonly res: ResourceDef,
    private readonly historySize: number,
  ) {}

  sorted(): Entry[] {
    if (!this.sortedCache) {
      this.sortedCache = [...this.items.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    }
    return this.sortedCache
  }

  record(ev: StoreEvent) {
    this.sortedCache = null
    this.history.push(ev)
    if (this.history.length - this.historyStart > this.historySize) {
      this.droppedRV = this.history[this.historyStart].rv
      this.historyStart++
      if (this.historyStart > 1024 && this.historyStart > this.history.length / 2) {
        this.history.splice(0, this.historyStart)
        this.historyStart = 0
      }
    }
    for (const w of this.watchers) {
      // one watcher's broken connection must not keep the event from the others (the controllers among them)
      try {
        w.deliver(ev)
      } catch {
        // that watch ends with its connection
      }
    }
  }

  /** drops the history up to `rv` (compaction): a watch from an older resourceVersion is then refused */
  compact(rv: number) {
    this.droppedRV = Math.max(this.droppedRV, rv)
    while (this.historyStart < this.history.length && this.history[this.historyStart].rv <= rv) this.historyStart++
    if (this.historyStart > 0 && this.historyStart >= this.history.length / 2) {
      this.history.splice(0, this.historyStart)
      this.historyStart = 0
    }
  }

  /** events with rv > since, or undefined when `since` is older than the retained window */
  eventsSince(since: number): StoreEvent[] | undefined {
    if (since < this.droppedRV) return undefined
    const out: StoreEvent[] = []
    for (let i = this.history.length - 1; i >= this.historyStart; i--) {
      const ev = this.history[i]
      if (ev.rv <= since) break
      out.push(ev)
    }
    return out.reverse()
  }

  /** the resourceVersion the "too old" message reports as the oldest available */
  oldestAvailable(currentRV: number): number {
    const first = this.history[this.historyStart]
    return Math.max(first ? first.rv - 1 : currentRV, this.droppedRV)
  }
}

export class Store {
  rv = 0
  private readonly collections = new Map<ResourceDef, Collection>()

  constructor(private readonly historySize: number) {}

  collection(res: ResourceDef): Collection {
    let c = this.collections.get(res)
    if (!c) {
      c = new Collection(res, this.historySize)
      if (this.compactedRV) c.compact(this.compactedRV)
      this.collections.set(res, c)
    }
    return c
  }

  get(res: ResourceDef, ns: string | undefined, name: string): Entry | undefined {
    return this.collection(res).items.get(keyOf(res.namespaced ? ns : undefined, name))
  }

  /** sorted entries, optionally of one namespace */
  list(res: ResourceDef, ns?: string): Entry[] {
    const all = this.collection(res).sorted()
    if (!res.namespaced || !ns) return all
    const prefix = `${ns}/`
    return all.filter((e) => e.key.startsWith(prefix))
  }

  /**
   * Stores `obj` (which must not be used by the caller afterwards): assigns the next resourceVersion,
   * freezes it and notifies watchers.
   */
  put(res: ResourceDef, obj: any): Entry {
    const c = this.collection(res)
    const key = keyOf(res.namespaced ? obj.metadata.namespace : undefined, obj.metadata.name)
    const prev = c.items.get(key)
    const rv = ++this.rv
    obj.metadata.resourceVersion = String(rv)
    deepFreeze(obj)
    const json = JSON.stringify(obj)
    const entry: Entry = {key, obj, json, rv}
    c.items.set(key, entry)
    c.record({type: prev ? 'MODIFIED' : 'ADDED', rv, obj, json, prev: prev?.obj, key})
    return entry
  }

  remove(res: ResourceDef, ns: string | undefined, name: string): Entry | undefined {
    const c = this.collection(res)
    const key = keyOf(res.namespaced ? ns : undefined, name)
    const prev = c.items.get(key)
    if (!prev) return undefined
    c.items.delete(key)
    const rv = ++this.rv
    const obj = JSON.parse(prev.json)
    obj.metadata.resourceVersion = String(rv)
    deepFreeze(obj)
    const json = JSON.stringify(obj)
    c.record({type: 'DELETED', rv, obj, json, prev: prev.obj, key})
    return {key, obj, json, rv}
  }

  /** the newest compacted resourceVersion (0: none yet) */
  compactedRV = 0
  private mark = 0

  /** compacts every resource's history up to `rv` (default: now), as etcd's compaction does */
  compact(rv = this.rv) {
    this.compactedRV = Math.max(this.compactedRV, rv)
    for (const c of this.collections.values()) c.compact(this.compactedRV)
  }

  /**
   * One period of kube-apiserver's etcd compaction (every 5 minutes by default): revisions older than the
   * one seen at the previous period go, so a watch resumed from before then gets 410 Gone.
   */
  compactionTick() {
    if (this.mark > 0) this.compact(this.mark)
    this.mark = this.rv
  }

  all(): Iterable<[ResourceDef, Collection]> {
    return this.collections.entries()
  }
}
