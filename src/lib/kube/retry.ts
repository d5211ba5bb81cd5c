/**
 * Which failures are worth another try, and waiting between tries. Only safe calls (reads and
 * watches) are retried; writes are retried only through conflict-checked re-reads.
 */
import {MobError} from '../errors.js'

const RETRY_STATUS = new Set([429, 500, 502, 503, 504])
// A refused connection or an unknown host will not get better in a second: fail fast on those. A
// request that ran out of its --request-timeout (code RequestTimeout) is not retried either: its
// time is spent.
const TRANSIENT = /connection was reset|connection timed out|connection was closed|temporary DNS failure/

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
