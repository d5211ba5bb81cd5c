// A level-triggered reconcile loop: informers "kick" it, it runs one pass at a
// time, re-runs if kicked while busy, retries after errors and resyncs
// periodically (the simulated equivalent of a workqueue with a resync period).
export type Logger = (line: string) => void

export class Loop {
  private running = false
  private dirty = false
  private timer?: NodeJS.Timeout
  private resync?: NodeJS.Timeout
  private stopped = false
  private current?: Promise<void>
  private idleWaiters: Array<() => void> = []
  private started = false

  constructor(
    private readonly name: string,
    private readonly pass: () => Promise<void>,
    private readonly opts: {log: Logger; retryMs?: number; resyncMs?: number},
  ) {
    if (opts.resyncMs) {
      this.resync = setInterval(() => this.kick(), opts.resyncMs)
      this.resync.unref?.()
    }
  }

  /** Enables the loop (kicks before this only mark it dirty) and runs a first pass. */
  start(): void {
    this.started = true
    this.kick()
  }

  kick(delayMs = 0): void {
    if (this.stopped) return
    if (!this.started) {
      this.dirty = true
      return
    }
    if (this.running) {
      this.dirty = true
      return
    }
    if (this.timer) {
      if (delayMs > 0) return
      clearTimeout(this.timer)
    }
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.current = this.run()
    }, delayMs)
  }

  private async run(): Promise<void> {
    if (this.stopped) return
    this.running = true
    this.dirty = false
    let failed = false
    try {
      await this.pass()
    } catch (e) {
      failed = true
      if (!this.stopped) this.opts.log(`${this.name}: ${(e as Error).message ?? e}`)
    } finally {
      this.running = false
    }
    if (this.stopped) return
    if (this.dirty) this.kick()
    else if (failed) this.kick(this.opts.retryMs ?? 200)
    else {
      const w = this.idleWaiters
      this.idleWaiters = []
      for (const f of w) f()
    }
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    if (this.resync) clearInterval(this.resync)
    await this.current?.catch(() => undefined)
  }
}
