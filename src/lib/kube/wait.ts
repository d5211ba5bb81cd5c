/** The one deadline for waiting: a caller's abort signal and a timeout, each turned into oc-mob's error. */
import {ExitCode, MobError} from '../errors.js'

/** Runs `body` with a signal that also aborts after `timeoutMs`, turning that into a timeout error. */
export async function withTimeout<T>(
  signal: AbortSignal | undefined, timeoutMs: number | undefined, what: string, next: string,
  body: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const ac = new AbortController()
  const onAbort = (): void => ac.abort(signal?.reason ?? new MobError('interrupted', {exitCode: ExitCode.Interrupted}))
  signal?.addEventListener('abort', onAbort, {once: true})
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => ac.abort(new MobError(`timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${what}`, {
    exitCode: ExitCode.Timeout, next,
  })), timeoutMs)
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
    if (timer) clearTimeout(timer)
    signal?.removeEventListener('abort', onAbort)
  }
}
