/** What `oc mob logs` says on stderr around the log: waiting, notes, warnings, and how each log ended. */
import type {ChalkInstance} from 'chalk'
import type {LogEvent, LogTarget, Outcome} from '../lib/layering/logs/index.js'

export interface LogViewOptions {
  /** --all: lines are prefixed with "[pool] ". */
  all?: boolean
  /** --debug: reconnects are shown. */
  debug?: boolean
}

function label(t: LogTarget): string {
  if (t.kind === 'build') return `Build ${t.name}`
  return `${t.container ? `${t.container} of ` : ''}${t.role === 'builder' ? 'machine-os-builder pod' : 'build pod'} ${t.name}`
}

/** The note an event gives, if any. */
export function eventText(e: LogEvent, opts: LogViewOptions, c: ChalkInstance): string | undefined {
  const tag = (t: LogTarget): string => (opts.all && t.pool ? `[${t.pool}] ` : '')
  switch (e.type) {
    case 'awaiting': {
      return c.dim(`waiting for the build pod of pool ${e.pool} (${e.state})...`)
    }
    case 'waiting': {
      return c.dim(`${tag(e.target)}waiting for ${label(e.target)} to start (${e.why})...`)
    }
    case 'stale': {
      const t = e.target
      return c.yellow(
        `${tag(t)}note: ${t.name} is for rendered config ${t.rendered}, not pool ${t.pool}'s current rendered config ${t.poolRendered}`,
      )
    }

    case 'reconnect': {
      return opts.debug ? c.dim(`debug: ${tag(e.target)}${label(e.target)}: ${e.why}`) : undefined
    }
    case 'skipped': {
      return c.yellow(`${tag(e.target)}${e.why}`)
    }
    case 'retry': {
      return c.yellow(`${tag(e.target)}warning: ${e.message}`)
    }
    case 'ended': {
      return outcomeText(e.target, e.outcome, opts, c)
    }
  }
}

function outcomeText(t: LogTarget, o: Outcome, opts: LogViewOptions, c: ChalkInstance): string {
  const prefix = opts.all && t.pool ? `[${t.pool}] ` : ''
  if (o.gone) {
    if (o.poolBuild?.state === 'succeeded') {
      return c.green(
        `${prefix}${label(t)} finished and the operator removed it: the build of pool ${t.pool} succeeded${o.poolBuild.image ? ` (image ${o.poolBuild.image})` : ''}`,
      )
    }

    return c.dim(
      `${prefix}${t.kind === 'build' ? 'Build' : 'pod'} ${t.name} no longer exists${t.role === 'build' ? ` (the operator removes a successful build's objects); \`oc mob status ${t.pool}\` shows how the build ended` : ''}`,
    )
  }

  if (t.kind === 'build') {
    const ok = o.phase === 'Complete'
    return (ok ? c.green : c.red)(`${prefix}Build ${t.name} ended: ${o.phase ?? 'unknown'}${o.reason ? ` (${o.reason})` : ''}`)
  }

  if (o.exitCode === undefined) return c.dim(`${prefix}${label(t)}: the log ended (pod ${o.phase ?? 'phase unknown'})`)
  const ok = o.exitCode === 0
  const lines = [
    (ok ? c.green : c.red)(
      `${prefix}${label(t)} ${ok ? 'finished' : 'failed'} (exit code ${o.exitCode}${o.reason ? `, ${o.reason}` : ''})`,
    ),
  ]
  if (o.hung) {
    lines.push(
      c.yellow(
        `${prefix}wait-for-done keeps the pod Running after a failed image-build, so the operator will not mark the build failed: \`oc mob cleanup ${t.pool}\` cleans it up`,
      ),
    )
  }

  return lines.join('\n')
}

/** Ctrl-C while reading or following: what goes on, and how to pick it up again. */
export function interruptedText(opts: {builder?: boolean; follow?: boolean; pools: Array<string | undefined>}): string {
  if (opts.builder) return 'interrupted: stopped reading the log; the machine-os-builder keeps running'
  const {pools} = opts
  return `interrupted: stopped ${opts.follow ? 'following' : 'reading'} the log; the build goes on in the cluster${pools.length === 1 ? ` (\`oc mob logs ${pools[0]} -f\` picks it up again, \`oc mob status ${pools[0]}\` shows where it stands)` : ' (`oc mob status` shows where it stands)'}`
}
