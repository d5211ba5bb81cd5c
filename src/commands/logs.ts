import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import * as help from '../views/help/logs.js'
import {ExitCode, MobError} from '../lib/errors.js'
import type {LogsResult} from '../lib/layering/logs/index.js'
import {writeOut} from '../lib/ui/output.js'
import {eventText, interruptedText} from '../views/logs.js'

export default class Logs extends BaseCommand<typeof Logs> {
  static args = {
    pool: Args.string({
      ignoreStdin: true,
      description: 'The pool whose build log to show (default: the only pool with a build).',
      required: false,
    }),
  }

  // A log is plain text: -o is not offered (and refused with a pointer to status when typed).
  static baseFlags: typeof BaseCommand.baseFlags = {...BaseCommand.baseFlags, output: {...BaseCommand.baseFlags.output, hidden: true}}

  static description = help.description

  static examples = help.examples

  static flags = {
    all: Flags.boolean({description: 'Every pool with a build, each line prefixed with "[pool] ".', exclusive: ['builder']}),
    builder: Flags.boolean({description: "The machine-os-builder's log instead of a build's."}),
    container: Flags.string({char: 'c', description: 'Container of the build pod: image-build (default) or wait-for-done.'}),
    follow: Flags.boolean({char: 'f', description: 'Follow the log until the build ends (Ctrl-C stops following; the build goes on).'}),
    tail: Flags.integer({description: 'Only the last N lines.', min: 0}),
    timestamps: Flags.boolean({description: 'Start each line with its RFC 3339 timestamp.'}),
  }

  static summary = "Show the build log of a pool, or the machine-os-builder's."

  async run(): Promise<void> {
    const {flags} = this
    const pool = this.args.pool
    if (this.output !== 'table') {
      throw new MobError(`-o ${this.output} is not supported by \`oc mob logs\`: a log is plain text`, {
        exitCode: ExitCode.Usage,
        next: `leave out -o (\`oc mob status${pool ? ` ${pool}` : ''} -o ${this.output}\` gives the build state as data)`,
      })
    }

    if (pool && (flags.all || flags.builder)) {
      throw new MobError(`a pool name cannot be combined with --${flags.all ? 'all' : 'builder'}`, {
        exitCode: ExitCode.Usage,
        next: flags.all ? `\`oc mob logs ${pool}\` or \`oc mob logs --all\`` : `\`oc mob logs ${pool}\` or \`oc mob logs --builder\``,
      })
    }

    // A closed pipe (`| head`) ends the command quietly, as it does for other tools.
    const pipe = new AbortController()
    const onStdoutError = (error: NodeJS.ErrnoException): void => {
      if (error.code === 'EPIPE') pipe.abort(error)
    }

    process.stdout.on('error', onStdoutError)
    const signal = AbortSignal.any([this.abort.signal, pipe.signal])
    const {showLogs} = await import('../lib/layering/logs/index.js')
    const client = await this.client()
    let result: LogsResult
    try {
      result = await showLogs(
        client,
        {
          all: flags.all,
          builder: flags.builder,
          container: flags.container,
          follow: flags.follow,
          pool,
          signal,
          tail: flags.tail,
          timestamps: flags.timestamps,
        },
        (text) => writeOut(text, signal),
        (event) => {
          const text = eventText(event, {all: flags.all, debug: flags.debug}, this.term.err)
          if (text !== undefined) this.note(text)
        },
      )
    } finally {
      process.stdout.removeListener('error', onStdoutError)
    }

    if (pipe.signal.aborted) return
    if (result.interrupted) {
      const builds = result.targets.map((t) => t.target).filter((t) => t.role === 'build')
      const pools = [...new Set(builds.map((t) => t.pool))]
      this.note(interruptedText({builder: flags.builder, follow: flags.follow, pools}))
      this.exit(ExitCode.Interrupted)
    }
  }
}
