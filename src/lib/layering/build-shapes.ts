/** What a one-shot build of a pool takes and gives, whichever generation builds it. */
import {ExitCode, MobError} from '../errors.js'
import type {KubeObject} from '../kube/types.js'

export type BuildPhase = 'checking' | 'creating' | 'failed' | 'joined' | 'pending' | 'running' | 'succeeded'

export interface BuildEvent {
  phase: BuildPhase
  message: string
}

export interface BuildOptions {
  /** Build even though the pool already has an image for its rendered config (or after a failure). */
  rebuild?: boolean
  /** Print what would be created; create nothing. */
  dryRun?: boolean
  /** Stream the image-build container's log through onLog while waiting. */
  follow?: boolean
  timeoutMs?: number
  signal?: AbortSignal
  onEvent?: (e: BuildEvent) => void
  onLog?: (text: string) => void
  /** Log lines shown with a failure when the log was not followed (default 20). */
  failureTailLines?: number
  /** How long image-build may be done without its digest ConfigMap before the build counts as stuck (default 60 s). */
  stallGraceMs?: number
  /** The followed log could not be read (the build is still followed to its end). */
  onLogError?: (message: string) => void
  /** 4.18+: an attempt of the build's Job failed and the Job tries again. */
  onRetry?: (message: string, lastLines: string[]) => void
}

export interface BuildResult {
  pool: string
  renderedConfig: string
  buildName: string
  outcome: 'dry-run' | 'succeeded' | 'up-to-date'
  /** True when an existing build was followed instead of starting one. */
  joined: boolean
  /** The pushed tag: finalImagePullspec with the rendered config as tag. */
  tag: string
  /** Digested pullspec, as recorded in newestImageEquivalentConfig. */
  image?: string
  digest?: string
  durationMs: number
  /** With dryRun: every object that would be created (no secret values). */
  objects?: KubeObject[]
  /** 4.18+: the MachineOSConfig the machine-os-builder built the pool from (buildName is its MachineOSBuild). */
  machineOSConfig?: string
}

/** What to tell the user when the followed build log could not be read. */
export function logReadFailure(error: unknown, pool: string): string {
  const why = error instanceof Error ? error.message : String(error)
  return `the build log could not be read (${why}); the build is still followed to its end — read the log with \`oc mob logs ${pool}\``
}

/** The build ended but its log stream did not reach the end in time. */
export function logCutShort(pool: string): string {
  return `the build log shown may be incomplete (its stream did not reach the end); read the whole log with \`oc mob logs ${pool}\``
}

/**
 * The error for a build wait that was cut short (`signal` aborted): a stalled build as it is (reported
 * as failed first), a timeout or Ctrl-C as "the build goes on in the cluster" with how to re-attach.
 */
export function buildWaitEnded(signal: AbortSignal, build: string, next: string, onFailed: (message: string) => void): MobError {
  const reason = signal.reason as MobError | undefined
  if (reason?.code === 'BuildStalled') {
    onFailed(reason.message)
    return reason
  }

  const what = reason?.exitCode === ExitCode.Timeout ? reason.message : 'interrupted'
  return new MobError(`${what}: ${build} goes on in the cluster`, {exitCode: reason?.exitCode ?? ExitCode.Interrupted, next})
}

/**
 * Let a followed build log end by itself (its container has ended), but never hang on it: after 5 s it
 * is cut. True when it had to be cut, so the log shown may be incomplete.
 */
export async function settleLog(done: Promise<unknown>, ac: AbortController): Promise<boolean> {
  let cut = false
  const t = setTimeout(() => {
    cut = true
    ac.abort()
  }, 5000)
  await done
  clearTimeout(t)
  return cut
}
