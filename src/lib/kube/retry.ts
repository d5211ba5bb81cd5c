/**
 * Which failures are worth another try, and waiting between tries. Safe calls (reads and
 * watches) are retried; a write only once, after reading that it was not applied (lost-write.ts).
 */
import {MobError} from '../errors.js'

const RETRY_STATUS = new Set([429, 500, 502, 503, 504])
// A reset, a refused connection (a restarting server or proxy) and an answer cut off midway are worth
// a few more tries; an unknown host will not get better in a second. A request that ran out of its
// --request-timeout (code RequestTimeout) is not retried either: its time is spent.
const TRANSIENT = /connection was reset|connection refused|connection timed out|connection was closed|was cut off|temporary DNS failure/

export function isRetryable(error: unknown): boolean {
  const status = (error as {status?: number}).status
  if (typeof status === 'number') return RETRY_STATUS.has(status)
  if (error instanceof MobError) return error.code === 'Unreachable' && TRANSIENT.test(error.message)
  return false
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason ?? new Error('aborted'))
      return
    }

    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal!.reason ?? new Error('aborted'))
    }

    signal?.addEventListener('abort', onAbort, {once: true})
  })
}

/** Exponential backoff with jitter, capped. */
export function backoff(attempt: number, baseMs = 250, capMs = 10_000): number {
  const exp = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(exp / 2 + (Math.random() * exp) / 2)
}
