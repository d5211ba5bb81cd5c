/**
 * A TCP proxy that makes the network between oc-mob and the emulated cluster unreliable on purpose.
 *
 * It forwards bytes, so TLS runs end to end between the client and the API server; the faults are
 * below TLS: a connection dropped after a while, latency on every chunk, a stall of all traffic, new
 * connections reset (a fraction of them), or a response cut off after some bytes. Loopback only,
 * bounded (connections at once, lifetime), and it stops by itself when its lifetime is over.
 */
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

export type FaultMode =
  | {kind: 'none'}
  /** Every connection is reset `minMs`..`maxMs` after it was opened. */
  | {kind: 'drop-after'; minMs: number; maxMs: number}
  /** Every chunk, either way, is delivered `ms` late (order kept). */
  | {kind: 'latency'; ms: number}
  /** All traffic, old and new connections, is held for `forMs` from the moment the mode is set. */
  | {kind: 'stall'; forMs: number}
  /**
   * A `fraction` of new connections is closed before the TLS handshake: evenly spread, the first
   * one since the mode was set included (its i-th connection is closed when floor(i·f) ≠ floor((i−1)·f)),
   * never two in a row for f ≤ ½. (A client on HTTP/2 opens one connection per command: without the
   * first one, whether its command met a reset would depend on what ran before.)
   */
  | {kind: 'reset-new'; fraction: number}
  /**
   * The first `count` connections whose answers reach `afterBytes` bytes (TLS records included) are
   * cut there: the bytes up to that point arrive, then the connection is reset.
   */
  | {kind: 'truncate'; afterBytes: number; count: number}

export interface FaultStats {
  connections: number
  resets: number
  drops: number
  truncated: number
}

export interface FaultProxy {
  readonly port: number
  readonly url: string
  readonly stats: FaultStats
  /** Change the fault for what comes next (a stall starts now). */
  setMode(mode: FaultMode): void
  /** Reset every open connection now, with whatever is still queued on it (answers in flight are lost). */
  dropAll(): void
  /** A copy of `kubeconfig` whose cluster server is this proxy (written next to a temp dir, removed on close). */
  kubeconfig(kubeconfig: string): string
  close(): Promise<void>
}

export interface FaultProxyOptions {
  /** The API server: `https://127.0.0.1:PORT` (loopback only). */
  target: string
  mode?: FaultMode
  /** Connections open at once; more are closed at once. Default 256. */
  maxConnections?: number
  /** The proxy closes itself after this long. Default 3 minutes. */
  lifetimeMs?: number
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1'])

/** Delivers chunks in order, each no earlier than its due time and not while the stall lasts. */
class Lane {
  private readonly queue: Array<{chunk: Buffer; due: number}> = []
  private timer?: NodeJS.Timeout
  constructor(
    private readonly out: net.Socket,
    private readonly stalledUntil: () => number,
  ) {}

  push(chunk: Buffer, delayMs: number): void {
    this.queue.push({chunk, due: Date.now() + delayMs})
    this.pump()
  }

  /** Deliver what is due now; returns the bytes written. */
  private pump(): void {
    if (this.timer) return
    const now = Date.now()
    while (this.queue.length > 0) {
      const wait = Math.max(this.queue[0].due, this.stalledUntil()) - now
      if (wait > 0) {
        this.timer = setTimeout(() => {
          this.timer = undefined
          this.pump()
        }, wait)
        return
      }

      const {chunk} = this.queue.shift()!
      if (!this.out.destroyed) this.out.write(chunk)
    }
  }

  /** Everything queued has been written. */
  get idle(): boolean {
    return this.queue.length === 0
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer)
    this.queue.length = 0
  }
}

export async function startFaultProxy(opts: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(opts.target)
  if (!LOOPBACK.has(target.hostname)) throw new Error(`the fault proxy only forwards to loopback, not ${target.hostname}`)
  const targetPort = Number(target.port)
  let mode: FaultMode = opts.mode ?? {kind: 'none'}
  let stalledUntil = 0
  let truncations = 0
  /** stats.connections when the mode was set */
  let modeSetAt = 0
  const stats: FaultStats = {connections: 0, drops: 0, resets: 0, truncated: 0}
  const open = new Set<net.Socket>()
  const timers = new Set<NodeJS.Timeout>()
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-mob-fault-proxy-'))

  const kill = (...sockets: net.Socket[]): void => {
    for (const s of sockets) if (!s.destroyed) s.resetAndDestroy()
  }

  const server = net.createServer((client) => {
    const index = stats.connections++ - modeSetAt
    const m = mode
    if (open.size / 2 >= (opts.maxConnections ?? 256)) {
      client.destroy()
      return
    }

    if (m.kind === 'reset-new' && Math.floor(index * m.fraction) !== Math.floor((index - 1) * m.fraction)) {
      stats.resets++
      // Closed before a byte of the handshake came back: what a flaky middlebox does.
      client.on('error', () => {})
      client.destroy()
      return
    }

    const upstream = net.connect({host: '127.0.0.1', port: targetPort})
    open.add(client)
    open.add(upstream)
    const delay = (): number => (mode.kind === 'latency' ? mode.ms : 0)
    const toServer = new Lane(upstream, () => stalledUntil)
    const toClient = new Lane(client, () => stalledUntil)
    let sent = 0
    let cut: number | undefined
    const end = (): void => {
      toServer.stop()
      toClient.stop()
      open.delete(client)
      open.delete(upstream)
    }

    client.on('data', (chunk: Buffer) => toServer.push(chunk, delay()))
    upstream.on('data', (chunk: Buffer) => {
      if (cut === undefined && mode.kind === 'truncate' && truncations < mode.count && sent + chunk.length >= mode.afterBytes) {
        cut = mode.afterBytes - sent
        truncations++
        stats.truncated++
        toClient.push(chunk.subarray(0, cut), delay())
        // Reset once the bytes before the cut have gone out.
        const finish = setInterval(() => {
          if (!toClient.idle && !client.destroyed) return
          clearInterval(finish)
          timers.delete(finish)
          kill(client, upstream)
        }, 5)
        timers.add(finish)
        return
      }

      if (cut !== undefined) return
      sent += chunk.length
      toClient.push(chunk, delay())
    })
    client.on('error', () => kill(upstream))
    upstream.on('error', () => kill(client))
    client.on('close', () => {
      end()
      upstream.destroy()
    })
    upstream.on('close', () => {
      end()
      // Let what is queued for the client go out before closing its side.
      const finish = setInterval(() => {
        if (!toClient.idle && !client.destroyed) return
        clearInterval(finish)
        timers.delete(finish)
        client.end()
      }, 5)
      timers.add(finish)
    })
    if (m.kind === 'drop-after') {
      const t = setTimeout(
        () => {
          timers.delete(t)
          if (client.destroyed) return
          stats.drops++
          kill(client, upstream)
        },
        m.minMs + Math.random() * (m.maxMs - m.minMs),
      )
      timers.add(t)
    }
  })
  server.maxConnections = (opts.maxConnections ?? 256) * 2
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const port = (server.address() as net.AddressInfo).port

  let closed: Promise<void> | undefined
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve) => {
      clearTimeout(lifetime)
      for (const t of timers) clearInterval(t)
      for (const s of open) s.destroy()
      server.close(() => resolve())
      fs.rmSync(tmp, {force: true, recursive: true})
    })
    return closed
  }

  const lifetime = setTimeout(() => void close(), opts.lifetimeMs ?? 180_000)
  lifetime.unref()

  return {
    close,
    dropAll() {
      for (const s of open) {
        stats.drops++
        kill(s)
      }
    },
    kubeconfig(kubeconfig: string): string {
      const text = fs.readFileSync(kubeconfig, 'utf8')
      const origin = `${target.protocol}//${target.host}`
      if (!text.includes(origin)) throw new Error(`${kubeconfig} does not name the server ${origin}`)
      const file = path.join(tmp, `kubeconfig-${path.basename(kubeconfig)}-${fs.readdirSync(tmp).length}`)
      fs.writeFileSync(file, text.replaceAll(origin, `${target.protocol}//${target.hostname}:${port}`), {mode: 0o600})
      return file
    },
    port,
    setMode(next: FaultMode) {
      mode = next
      modeSetAt = stats.connections
      truncations = 0
      stalledUntil = next.kind === 'stall' ? Date.now() + next.forMs : 0
    },
    stats,
    url: `${target.protocol}//127.0.0.1:${port}`,
  }
}
