// Injectable faults, consulted before normal request handling.

export type PathMatch = string | RegExp

export interface Faults {
  /** answer the next `count` matching requests with a Status body of that code */
  failNext(match: {method?: string; path: PathMatch}, count: number, status: number, message?: string): void
  /** delay every matching request by `ms` (until clear()) */
  latency(match: {method?: string; path: PathMatch}, ms: number): void
  /**
   * A network `rttMs` away (until clear()): each new connection's TLS handshake starts two round
   * trips late, as TCP's handshake and TLS 1.3's first flight cost a client over a real link.
   * Requests are not delayed by it: latency() plays their round trip.
   */
  connectLatency(rttMs: number): void
  /** the delay before a new connection's TLS handshake starts */
  connectDelay(): number
  /** close the next `count` (default 1) matching watch streams after `events` events (bookmarks not counted) */
  cutWatchAfter(match: {path: PathMatch}, events: number, count?: number): void
  /** end the next `count` (default 1) matching log streams after `bytes` bytes */
  dropLogAfter(match: {path: PathMatch}, bytes: number, count?: number): void
  /**
   * Play a hung API server (only when listening on loopback): TCP connections are accepted but get
   * no TLS handshake (`handshake: false`, the default) or complete it and then get no answer
   * (`handshake: true`); requests on open connections get no answer; open watches send nothing.
   * Ends by itself after `forMs` (default 30 s) or with resume()/clear(): connections held without
   * a handshake are then dropped, held requests are answered, held watch events delivered.
   */
  pause(opts?: {handshake?: boolean; forMs?: number}): void
  resume(): void
  /** the pause in effect, if any */
  pauseState(): PauseState | undefined
  /**
   * The next `count` (default 1) matching watch streams go silent after `events` events (bookmarks
   * not counted): no more events or bookmarks, the connection left open, until it ends by itself
   * after `forMs` (default 30 s).
   */
  silenceWatchAfter(match: {path: PathMatch}, events: number, opts?: {count?: number; forMs?: number}): void
  clear(): void
}

export interface PauseState {
  handshake: boolean
  /** resolves when the pause ends */
  ended: Promise<void>
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
  forMs?: number
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/

const pathMatches = (m: PathMatch, path: string): boolean => {
  if (typeof m === 'string') return m === path
  m.lastIndex = 0 // a global or sticky pattern would otherwise go on from its last match
  return m.test(path)
}
const methodMatches = (m: string | undefined, method: string) => !m || m.toUpperCase() === method.toUpperCase()

export class FaultTable implements Faults {
  private failures: Failure[] = []
  private delays: Delay[] = []
  private watchCuts: Cut[] = []
  private logDrops: Cut[] = []
  private watchSilences: Cut[] = []
  private connectRtt = 0
  private paused?: PauseState & {end: () => void; timer: NodeJS.Timeout}
  /** the address the server listens on (pause() is refused unless it is loopback) */
  listenAddress?: string

  failNext(match: {method?: string; path: PathMatch}, count: number, status: number, message?: string): void {
    this.failures.push({method: match.method, path: match.path, remaining: count, status, message})
  }
  latency(match: {method?: string; path: PathMatch}, ms: number): void {
    this.delays.push({method: match.method, path: match.path, ms})
  }
  connectLatency(rttMs: number): void {
    this.connectRtt = rttMs
  }
  connectDelay(): number {
    return 2 * this.connectRtt
  }
  cutWatchAfter(match: {path: PathMatch}, events: number, count = 1): void {
    this.watchCuts.push({path: match.path, n: events, remaining: count})
  }
  dropLogAfter(match: {path: PathMatch}, bytes: number, count = 1): void {
    this.logDrops.push({path: match.path, n: bytes, remaining: count})
  }
  silenceWatchAfter(match: {path: PathMatch}, events: number, opts: {count?: number; forMs?: number} = {}): void {
    this.watchSilences.push({path: match.path, n: events, remaining: opts.count ?? 1, forMs: opts.forMs ?? 30_000})
  }
  pause(opts: {handshake?: boolean; forMs?: number} = {}): void {
    if (!this.listenAddress || !LOOPBACK.test(this.listenAddress)) {
      throw new Error(`pause() plays a hung server only on loopback; this emulator listens on ${this.listenAddress ?? 'nothing yet'}`)
    }
    this.resume()
    let end!: () => void
    const ended = new Promise<void>((resolve) => {
      end = resolve
    })
    const timer = setTimeout(() => this.resume(), opts.forMs ?? 30_000)
    timer.unref()
    this.paused = {handshake: opts.handshake ?? false, ended, end, timer}
  }
  resume(): void {
    const p = this.paused
    if (!p) return
    this.paused = undefined
    clearTimeout(p.timer)
    p.end()
  }
  /** the pause in effect, if any */
  pauseState(): PauseState | undefined {
    return this.paused
  }
  clear(): void {
    this.failures = []
    this.delays = []
    this.connectRtt = 0
    this.watchCuts = []
    this.logDrops = []
    this.watchSilences = []
    this.resume()
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
  takeWatchSilence(path: string): {after: number; forMs: number} | undefined {
    const c = this.watchSilences.find((x) => x.remaining > 0 && pathMatches(x.path, path))
    if (!c) return undefined
    c.remaining--
    this.watchSilences = this.watchSilences.filter((x) => x.remaining > 0)
    return {after: c.n, forMs: c.forMs ?? 30_000}
  }
  takeLogDrop(path: string): number | undefined {
    const n = this.take(this.logDrops, path)
    this.logDrops = this.logDrops.filter((x) => x.remaining > 0)
    return n
  }
}
