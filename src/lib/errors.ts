/**
 * The one error type for failures a user can act on, and the exit codes the CLI documents.
 *
 * Library code throws MobError with a message that says what was wrong and a `next` step that says
 * what to do about it. Commands never format errors themselves: the base command prints
 * `error: <message>` and `next: <step>` on stderr and exits with `exitCode`. A stack trace is only
 * ever printed with --debug.
 */

export const ExitCode = {
  /** Everything worked. */
  Ok: 0,
  /** An unexpected internal error (a bug): run again with --debug and report the stack trace. */
  Internal: 1,
  /** Bad flags or arguments; also a change that needs confirmation without a terminal to ask on (--yes is missing). */
  Usage: 2,
  /** No usable kubeconfig or context. */
  Config: 3,
  /** The API server could not be reached (connection refused, DNS, TLS, timeout). */
  Unreachable: 4,
  /** Credentials rejected (401) or the action is not permitted (403). */
  Auth: 5,
  /** A named object does not exist (pool, node, config map, secret...). */
  NotFound: 6,
  /** Input or cluster state failed a check; nothing was changed. */
  Invalid: 7,
  /** The operation ran and failed in the cluster (a failed build, a degraded node). */
  Failed: 8,
  /** Gave up waiting; the operation may still be going on in the cluster. */
  Timeout: 9,
  /** The command or feature is not available (not built yet, or the cluster does not serve the API). */
  Unavailable: 10,
  /** Interrupted (Ctrl-C). */
  Interrupted: 130,
} as const

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]

export interface MobErrorOptions {
  /** What the user should do next, as a command or a short sentence. */
  next?: string
  exitCode?: ExitCodeValue
  /** A short machine-readable code, stable across releases (shown in -o json errors). */
  code?: string
  cause?: unknown
  /** Extra lines printed under the message (e.g. the last lines of a build log). */
  details?: string[]
}

export class MobError extends Error {
  readonly next?: string
  readonly exitCode: ExitCodeValue
  readonly code: string
  readonly details: string[]

  constructor(message: string, opts: MobErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : {cause: opts.cause})
    this.name = 'MobError'
    this.next = opts.next
    this.exitCode = opts.exitCode ?? ExitCode.Failed
    this.code = opts.code ?? codeFor(this.exitCode)
    this.details = opts.details ?? []
  }
}

function codeFor(exit: ExitCodeValue): string {
  for (const [k, v] of Object.entries(ExitCode)) if (v === exit) return k
  return 'Failed'
}

/** Input the cluster or the user gave that failed a check (exit 7, Invalid; nothing was changed), with what to do about it. */
export function invalidInput(message: string, next?: string, opts: {code?: string; details?: string[]} = {}): MobError {
  return new MobError(message, {...opts, exitCode: ExitCode.Invalid, next})
}

export function isMobError(e: unknown): e is MobError {
  return e instanceof MobError
}
