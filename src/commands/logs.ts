import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import * as help from '../views/help/logs.js'
import {ExitCode, MobError} from '../lib/errors.js'
import type {LogEvent, LogTarget, Outcome} from '../lib/logs/index.js'

export default class Logs extends BaseCommand<typeof Logs> {
  static args = {
    pool: Args.string({description: 'The pool whose build log to show (default: the only pool with a build).', required: false}),
  }

  static description = help.description

  static examples = help.examples

  static flags = {
    all: Flags.boolean({description: 'Every pool with a build, each line prefixed with "[pool] ".', exclusive: ['builder']}),
    builder: Flags.boolean({description: 'The machine-os-builder\'s log instead of a build\'s.'}),
    container: Flags.string({char: 'c', description: 'Container of the build pod: image-build (default) or wait-for-done.'}),
    follow: Flags.boolean({char: 'f', description: 'Follow the log until the build ends (Ctrl-C stops following; the build goes on).'}),
    tail: Flags.integer({description: 'Only the last N lines.', min: 0}),
    timestamps: Flags.boolean({description: 'Start each line with its RFC 3339 timestamp.'}),
  }

  static summary = 'Show the build log of a pool, or the machine-os-builder\'s.'

  async run(): Promise<void> {
    const {flags} = this
    const pool = this.args.pool
    if (this.output !== 'table') {
      throw new MobError(`-o ${this.output} is not supported by \`oc mob logs\`: a log is plain text`, {
        exitCode: ExitCode.Usage, next: `leave out -o (\`oc mob status${pool ? ` ${pool}` : ''} -o ${this.output}\` gives the build state as data)`,
      })
    }

    if (pool && (flags.all || flags.builder)) {
      throw new MobError(`a pool name cannot be combined with --${flags.all ? 'all' : 'builder'}`, {
        exitCode: ExitCode.Usage, next: flags.all ? `\`oc mob logs ${pool}\` or \`oc mob logs --all\`` : `\`oc mob logs ${pool}\` or \`oc mob logs --builder\``,
      })
    }

    // A closed pipe (`| head`) ends the command quietly, as it does for other tools.
    const pipe = new AbortController()
    const onStdoutError = (error: NodeJS.ErrnoException): void => {
      if (error.code === 'EPIPE') pipe.abort(error)
    }

    process.stdout.on('error', onStdoutError)
    const signal = AbortSignal.any([this.abort.signal, pipe.signal])
    const {showLogs} = await import('../lib/logs/index.js')
    const client = await this.client()
    let result
    try {
      result = await showLogs(client, {
        all: flags.all,
        builder: flags.builder,
        container: flags.container,
        follow: flags.follow,
        pool,
        signal,
        tail: flags.tail,
        timestamps: flags.timestamps,
      }, (text) => writeOut(text, signal), (event) => this.onEvent(event))
    } finally {
      process.stdout.removeListener('error', onStdoutError)
    }

    if (pipe.signal.aborted) return
    if (result.interrupted) {
      const builds = result.targets.map((t) => t.target).filter((t) => t.role === 'build')
      const pools = [...new Set(builds.map((t) => t.pool))]
      this.note(flags.builder
        ? 'interrupted: stopped reading the log; the machine-os-builder keeps running'
        : `interrupted: stopped ${flags.follow ? 'following' : 'reading'} the log; the build goes on in the cluster${pools.length === 1 ? ` (\`oc mob logs ${pools[0]} -f\` picks it up again, \`oc mob status ${pools[0]}\` shows where it stands)` : ' (`oc mob status` shows where it stands)'}`)
      this.exit(ExitCode.Interrupted)
    }
  }

  private label(t: LogTarget): string {
    if (t.kind === 'build') return `Build ${t.name}`
    return `${t.container ? `${t.container} of ` : ''}${t.role === 'builder' ? 'machine-os-builder pod' : 'build pod'} ${t.name}`
  }

  private onEvent(e: LogEvent): void {
    const c = this.term.err
    const tag = (t: LogTarget): string => (this.flags.all && t.pool ? `[${t.pool}] ` : '')
    switch (e.type) {
      case 'awaiting': {
        this.note(c.dim(`waiting for the build pod of pool ${e.pool} (${e.state})...`))
        break
      }

      case 'waiting': {
        this.note(c.dim(`${tag(e.target)}waiting for ${this.label(e.target)} to start (${e.why})...`))
        break
      }

      case 'stale': {
        const t = e.target
        this.note(c.yellow(`${tag(t)}note: ${t.name} is for rendered config ${t.rendered}, not pool ${t.pool}'s current rendered config ${t.poolRendered}`))
        break
      }

      case 'reconnect': {
        if (this.flags.debug) this.note(c.dim(`debug: ${tag(e.target)}${this.label(e.target)}: ${e.why}`))
        break
      }

      case 'skipped': {
        this.note(c.yellow(`${tag(e.target)}${e.why}`))
        break
      }

      case 'retry': {
        this.note(c.yellow(`${tag(e.target)}warning: ${e.message}`))
        break
      }

      case 'ended': {
        this.note(this.outcomeText(e.target, e.outcome))
        break
      }
    }
  }

  private outcomeText(t: LogTarget, o: Outcome): string {
    const c = this.term.err
    const prefix = this.flags.all && t.pool ? `[${t.pool}] ` : ''
    if (o.gone) {
      if (o.poolBuild?.state === 'succeeded') {
        return c.green(`${prefix}${this.label(t)} finished and the operator removed it: the build of pool ${t.pool} succeeded${o.poolBuild.image ? ` (image ${o.poolBuild.image})` : ''}`)
      }

      return c.dim(`${prefix}${t.kind === 'build' ? 'Build' : 'pod'} ${t.name} no longer exists${t.role === 'build' ? ` (the operator removes a successful build's objects); \`oc mob status ${t.pool}\` shows how the build ended` : ''}`)
    }

    if (t.kind === 'build') {
      const ok = o.phase === 'Complete'
      return (ok ? c.green : c.red)(`${prefix}Build ${t.name} ended: ${o.phase ?? 'unknown'}${o.reason ? ` (${o.reason})` : ''}`)
    }

    if (o.exitCode === undefined) return c.dim(`${prefix}${this.label(t)}: the log ended (pod ${o.phase ?? 'phase unknown'})`)
    const ok = o.exitCode === 0
    const lines = [(ok ? c.green : c.red)(`${prefix}${this.label(t)} ${ok ? 'finished' : 'failed'} (exit code ${o.exitCode}${o.reason ? `, ${o.reason}` : ''})`)]
    if (o.hung) {
      lines.push(c.yellow(`${prefix}wait-for-done keeps the pod Running after a failed image-build, so the operator will not mark the build failed: \`oc mob cleanup ${t.pool}\` cleans it up`))
    }

    return lines.join('\n')
  }
}

/**
 * Write to stdout; when its buffer is full (a pipe read slowly), the returned promise settles once it
 * drains, so the log is read from the cluster no faster than it is consumed and memory stays flat.
 */
function writeOut(text: string, signal: AbortSignal): Promise<void> | undefined {
  if (signal.aborted) return undefined
  if (process.stdout.write(text)) return undefined
  return new Promise((resolve) => {
    const done = (): void => {
      process.stdout.removeListener('drain', done)
      process.stdout.removeListener('close', done)
      process.stdout.removeListener('error', done)
      signal.removeEventListener('abort', done)
      resolve()
    }

    process.stdout.once('drain', done)
    process.stdout.once('close', done)
    process.stdout.once('error', done)
    signal.addEventListener('abort', done, {once: true})
  })
}
