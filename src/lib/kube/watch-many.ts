/**
 * Several informers merged into one stream of tagged events, and a cache of what it has seen: the one
 * way oc-mob follows more than one kind of object at a time. Each informer resumes its watch and
 * re-lists after 410 Gone by itself (watch.ts).
 */
import {ExitCode, MobError} from '../errors.js'
import type {KubeClient} from './client.js'
import type {ResourceType} from './resources.js'
import type {KubeObject} from './types.js'
import {deadline} from './wait.js'
import {informer, type InformerEvent} from './watch.js'

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
export async function* watchAll<K extends string>(
  client: KubeClient,
  specs: Array<WatchSpec<K>>,
  signal?: AbortSignal,
): AsyncGenerator<Tagged<K>> {
  const ac = deadline(signal, undefined)
  const queue: Array<Tagged<K>> = []
  let failure: unknown
  let wake: (() => void) | undefined
  const poke = (): void => {
    const w = wake
    wake = undefined
    w?.()
  }

  // A signal per informer: on one shared signal every list and watch request of every source adds an
  // abort listener at the same time (Node warns of a leak past 10). `ac` aborts them all with one listener.
  // A signal that had fired before the first event was asked for fires no 'abort' event: the
  // informers then stop before their first request, instead of watching on with no one to stop them.
  const stops = specs.map(() => new AbortController())
  const stopAll = (): void => {
    for (const stop of stops) stop.abort()
    poke()
  }

  if (ac.signal.aborted) stopAll()
  else ac.signal.addEventListener('abort', stopAll, {once: true})
  const pumps = specs.map(async (spec, i) => {
    try {
      for await (const event of informer<KubeObject>(client, spec.resource, {
        fieldSelector: spec.fieldSelector,
        labelSelector: spec.labelSelector,
        namespace: spec.namespace,
        signal: stops[i].signal,
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
    ac.dispose()
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
