/** The one deadline for waiting: a caller's abort signal and a timeout, each turned into oc-mob's error. */
import {ExitCode, MobError} from '../errors.js'

export interface Deadline {
  /** Aborts when the parent signal does (with its reason) or when the time is up (with the timeout's error). */
  signal: AbortSignal
  /** Abort now, with a reason of the caller's. */
  abort(reason?: unknown): void
  /** Stop the timer and let go of the parent signal; aborts `signal` unless `keep`. */
  dispose(keep?: boolean): void
}

/**
 * The one way oc-mob bounds a wait: a signal that follows the caller's `parent` and, after
 * `timeoutMs` (undefined: never), aborts with `onTimeout()`.
 */
export function deadline(
  parent: AbortSignal | undefined,
  timeoutMs: number | undefined,
  onTimeout: () => unknown = () => undefined,
  parentReason?: () => unknown,
): Deadline {
  const ac = new AbortController()
  const onAbort = (): void => ac.abort(parentReason ? parentReason() : parent?.reason)
  if (parent?.aborted) onAbort()
  else parent?.addEventListener('abort', onAbort, {once: true})
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => ac.abort(onTimeout()), timeoutMs)
  return {
    abort: (reason) => ac.abort(reason),
    dispose(keep = false) {
      if (timer) clearTimeout(timer)
      parent?.removeEventListener('abort', onAbort)
      if (!keep) ac.abort()
    },
    signal: ac.signal,
  }
}

/** Runs `body` with a signal that also aborts after `timeoutMs`, turning that into a timeout error. */
export async function withTimeout<T>(
  signal: AbortSignal | undefined,
  timeoutMs: number | undefined,
  what: string,
  next: string,
  body: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const ac = deadline(
    signal,
    timeoutMs,
    () => new MobError(`timed out after ${Math.round(timeoutMs! / 1000)}s waiting for ${what}`, {exitCode: ExitCode.Timeout, next}),
    () => signal?.reason ?? new MobError('interrupted', {exitCode: ExitCode.Interrupted}),
  )
  try {
    return await body(ac.signal)
  } catch (error) {
    if (ac.signal.aborted && ac.signal.reason instanceof MobError) {
      const reason = ac.signal.reason
      if (reason.exitCode === ExitCode.Interrupted) {
        throw new MobError(`interrupted while waiting for ${what}; the cluster goes on by itself`, {exitCode: ExitCode.Interrupted, next})
      }

      throw reason
    }

    throw error
  } finally {
    ac.dispose(true)
  }
}
