/**
 * What the terminal can show: colour and spinners only for people at a terminal; plain, stable text
 * for pipes, scripts, NO_COLOR and machine-readable output.
 */
import {Chalk, type ChalkInstance} from 'chalk'

export type OutputFormat = 'json' | 'table' | 'yaml'

export interface TermOptions {
  output?: OutputFormat
  env?: NodeJS.ProcessEnv
  stdin?: {isTTY?: boolean}
  stdout?: {isTTY?: boolean}
  stderr?: {isTTY?: boolean}
}

export interface Term {
  /** Colours for what goes to stdout. */
  out: ChalkInstance
  /** Colours for what goes to stderr (errors, progress). */
  err: ChalkInstance
  /** Animated spinners on stderr. */
  interactive: boolean
  /** A person can answer prompts (stdin and stdout are terminals). */
  canPrompt: boolean
}

function isSet(v: string | undefined): boolean {
  return v !== undefined && v !== ''
}

export function detectTerm(opts: TermOptions = {}): Term {
  const env = opts.env ?? process.env
  const stdin = opts.stdin ?? process.stdin
  const out = opts.stdout ?? process.stdout
  const err = opts.stderr ?? process.stderr
  // https://no-color.org: NO_COLOR set and non-empty disables colour, whatever else says.
  const noColor = isSet(env.NO_COLOR) || env.TERM === 'dumb'
  const forced = isSet(env.FORCE_COLOR) && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false'
  const machine = opts.output === 'json' || opts.output === 'yaml'
  const outColor = !noColor && !machine && (Boolean(out.isTTY) || forced)
  const errColor = !noColor && (Boolean(err.isTTY) || forced)
  return {
    canPrompt: Boolean(stdin.isTTY) && Boolean(out.isTTY),
    err: new Chalk({level: errColor ? 1 : 0}),
    interactive: !noColor && Boolean(err.isTTY) && env.CI !== 'true',
    out: new Chalk({level: outColor ? 1 : 0}),
  }
}
