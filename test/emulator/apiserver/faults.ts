// Injectable faults, consulted before normal request handling.

export type PathMatch = string | RegExp

export interface Faults {
  /** answer the next `count` matching requests with a Status body of that code */
  failNext(match: {method?: string; path: PathMatch}, count: number, status: number, message?: string): void
  /** delay every matching request by `ms` (until clear()) */
  latency(match: {method?: string; path: PathMatch}, ms: number): void
  /** close the next `count` (default 1) matching watch streams after `events` events (bookmarks not counted) */
  cutWatchAfter(match: {path: PathMatch}, events: number, count?: number): void
  /** end the next `count` (default 1) matching log streams after `bytes` bytes */
  dropLogAfter(match: {path: PathMatch}, bytes: number, count?: number): void
  clear(): void
}

interface Failure {
  method?: string
  path: PathMatch
  remaining: number
  status: number
  message?: string
}
interface Delay {
  method?: string
  path: PathMatch
  ms: number
}
interface Cut {
  path: PathMatch
  n: number
  remaining: number
}

const pathMatches = (m: PathMatch, path: string) => (typeof m === 'string' ? m === path : (m.lastIndex = 0, m.test(path)))
const methodMatches = (m: string | undefined, method: string) => !m || m.toUpperCase() === method.toUpperCase()

export class FaultTable implements Faults {
  private failures: Failure[] = []
  private delays: Delay[] = []
  private watchCuts: Cut[] = []
  private logDrops: Cut[] = []

  failNext(match: {method?: string; path: PathMatch}, count: number, status: number, message?: string): void {
    this.failures.push({method: match.method, path: match.path, remaining: count, status, message})
  }
  latency(match: {method?: string; path: PathMatch}, ms: number): void {
    this.delays.push({method: match.method, path: match.path, ms})
  }
  cutWatchAfter(match: {path: PathMatch}, events: number, count = 1): void {
    this.watchCuts.push({path: match.path, n: events, remaining: count})
  }
  dropLogAfter(match: {path: PathMatch}, bytes: number, count = 1): void {
    this.logDrops.push({path: match.path, n: bytes, remaining: count})
  }
  clear(): void {
    this.failures = []
    this.delays = []
    this.watchCuts = []
    this.logDrops = []
  }

  takeFailure(method: string, path: string): {status: number; message?: string} | undefined {
    const f = this.failures.find((x) => x.remaining > 0 && methodMatches(x.method, method) && pathMatches(x.path, path))
    if (!f) return undefined
    f.remaining--
    this.failures = this.failures.filter((x) => x.remaining > 0)
    return {status: f.status, message: f.message}
  }
  delayFor(method: string, path: string): number {
    return this.delays.filter((d) => methodMatches(d.method, method) && pathMatches(d.path, path)).reduce((a, d) => a + d.ms, 0)
  }
  private take(list: Cut[], path: string): number | undefined {
    const c = list.find((x) => x.remaining > 0 && pathMatches(x.path, path))
    if (!c) return undefined
    c.remaining--
    return c.n
  }
  takeWatchCut(path: string): number | undefined {
    const n = this.take(this.watchCuts, path)
    this.watchCuts = this.watchCuts.filter((x) => x.remaining > 0)
    return n
  }
  takeLogDrop(path: string): number | undefined {
    const n = this.take(this.logDrops, path)
    this.logDrops = this.logDrops.filter((x) => x.remaining > 0)
    return n
  }
}
