/**
 * What every oc-mob command shares: the cluster flags (--kubeconfig, --context, -o, --debug), the
 * terminal decisions (colour, spinners), Ctrl-C handling, and turning errors into a message, a next
 * step and a documented exit code — never a stack trace unless --debug.
 */
import {Command, Errors, Flags, type Interfaces} from '@oclif/core'
import {ExitCode, isMobError, MobError} from './lib/errors.js'
import type {KubeClient} from './lib/kube/client.js'
import {formatData, loadYamlWriter} from './lib/ui/output.js'
import {usageError} from './lib/ui/suggest.js'
import {detectTerm, type OutputFormat, type Term} from './lib/ui/term.js'

export type MobFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>
export type MobArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

const INTERRUPTED_NEXT = (id: string | undefined): string =>
  `run \`oc mob ${(id ?? '').replaceAll(':', ' ')}\` again to finish: it starts from what is already in place (\`oc mob status\` shows where things stand)`

export abstract class BaseCommand<T extends typeof Command> extends Command {
  static baseFlags = {
    context: Flags.string({
      description: 'The kubeconfig context to use (default: the current context).',
      helpGroup: 'CLUSTER',
    }),
    debug: Flags.boolean({
      description: 'Show the HTTP requests made and, on failure, the stack trace.',
      helpGroup: 'GLOBAL',
    }),
    kubeconfig: Flags.string({
      description: 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).',
      helpGroup: 'CLUSTER',
    }),
    'request-timeout': Flags.string({
      default: '30s',
      description:
        'How long to wait for the API server to answer one request (e.g. 10s, 1m; 0 waits without limit). Watches and log streams are not cut by it; they resume when the server goes silent.',
      helpGroup: 'CLUSTER',
    }),
    output: Flags.option({
      char: 'o',
      default: 'table' as const,
      description: 'Output format (wide: a table with every value in full, e.g. whole image references).',
      helpGroup: 'GLOBAL',
      options: ['table', 'wide', 'json', 'yaml'] as const,
    })(),
  }

  protected flags!: MobFlags<T>
  protected args!: MobArgs<T>
  protected term!: Term
  /** Aborted on Ctrl-C: long waits stop and the command says how to pick up again. */
  protected readonly abort = new AbortController()
  private clientInstance?: KubeClient
  private onSigint?: () => void
  private interrupts = 0

  public async init(): Promise<void> {
    await super.init()
    const ctor = this.ctor as typeof BaseCommand
    const {args, flags} = await this.parse({
      args: ctor.args,
      baseFlags: (BaseCommand as typeof BaseCommand).baseFlags,
      enableJsonFlag: false,
      flags: ctor.flags,
      strict: ctor.strict,
    })
    this.flags = flags as MobFlags<T>
    this.args = args as MobArgs<T>
    this.term = detectTerm({output: this.output})
    if (this.output === 'yaml') await loadYamlWriter()
    // The first Ctrl-C aborts: requests in flight are cancelled, waits stop, and the command says
    // how to pick up again (exit 130). A second one ends the process at once. The listener stays
    // registered between the two: with no listener of its own left, a library's exit hook (ora's
    // cursor restore) would re-raise SIGINT and kill the process before it says anything.
    this.onSigint = () => {
      this.interrupts++
      if (this.interrupts === 1) {
        this.abort.abort(new MobError('interrupted', {exitCode: ExitCode.Interrupted}))
        return
      }

      process.stderr.write('\ninterrupted again: stopping now\n')
      process.exit(ExitCode.Interrupted)
    }

    process.on('SIGINT', this.onSigint)
  }

  protected get output(): OutputFormat {
    const out = (this.flags as {output?: OutputFormat | 'wide'} | undefined)?.output ?? 'table'
    return out === 'wide' ? 'table' : out
  }

  /** -o wide: the table with every value in full. */
  protected get wide(): boolean {
    return (this.flags as {output?: string} | undefined)?.output === 'wide'
  }

  /** The cluster client, created on first use (so commands that fail early never load kubeconfig). */
  protected async client(): Promise<KubeClient> {
    if (!this.clientInstance) {
      const {KubeClient} = await import('./lib/kube/client.js')
      const {parseDuration} = await import('./lib/duration.js')
      const flags = this.flags as {context?: string; debug?: boolean; kubeconfig?: string; 'request-timeout'?: string}
      const requestTimeoutMs = parseDuration(flags['request-timeout'] ?? '30s')
      const debug = flags.debug ? (line: string) => process.stderr.write(this.term.err.dim(`debug: ${line}`) + '\n') : undefined
      // How the CLI was loaded (bin/run.cjs; nothing when running from the sources).
      const codeCache = (globalThis as {[k: symbol]: unknown})[Symbol.for('oc-mob.code-cache')]
      if (debug && typeof codeCache === 'string') debug((await import('./views/debug.js')).codeCacheLine(codeCache))
      this.clientInstance = KubeClient.fromFlags(
        {context: flags.context, kubeconfig: flags.kubeconfig},
        {
          debug,
          requestTimeoutMs,
          // Ctrl-C cancels every request of the command, also those made without a signal of their own.
          signal: this.abort.signal,
        },
      )
    }

    return this.clientInstance
  }

  /** Print a result: JSON or YAML as asked, otherwise the command's own rendering. */
  protected emit(data: unknown, render: () => string): void {
    const out = this.output
    this.log(out === 'table' ? render() : formatData(data, out))
  }

  /** A note for the person at the terminal; never on stdout, so -o json stays parseable. */
  protected note(text: string): void {
    process.stderr.write(text + '\n')
  }

  protected async finally(err: Error | undefined): Promise<void> {
    if (this.onSigint) process.removeListener('SIGINT', this.onSigint)
    return super.finally(err)
  }

  protected async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<void> {
    // oclif's own exits (this.exit) and flag-parsing errors keep their behaviour and exit codes.
    if (err instanceof Errors.ExitError) throw err
    const debug = Boolean((this.flags as {debug?: boolean} | undefined)?.debug) || process.argv.includes('--debug')
    const term = this.term ?? detectTerm()
    const red = term.err.red
    if (isMobError(err)) {
      const lines = [`${red('error:')} ${err.message}`]
      for (const d of err.details) lines.push(`  ${d}`)
      // A bare interrupt (Ctrl-C between two requests) still says how to go on.
      const next = err.next ?? (err.exitCode === ExitCode.Interrupted ? INTERRUPTED_NEXT(this.id) : undefined)
      if (next) lines.push(`${term.err.bold('next:')} ${next}`)
      if (debug && err.stack) lines.push(term.err.dim(err.stack))
      process.stderr.write(lines.join('\n') + '\n')
      this.exit(err.exitCode)
    }

    if (err instanceof Errors.CLIError) {
      // Usage errors (bad flags, missing arguments): oclif words them well; no stack trace.
      const {message, next} = usageError(
        err,
        (this.id ?? '').replaceAll(':', ' '),
        Object.keys({...this.ctor.baseFlags, ...this.ctor.flags}),
      )
      process.stderr.write(`${red('error:')} ${message}\n${term.err.bold('next:')} ${next}\n`)
      this.exit(err.oclif?.exit ?? ExitCode.Usage)
    }

    const lines = [`${red('error:')} unexpected failure: ${err.message}`]
    if (debug) lines.push(term.err.dim(err.stack ?? String(err)))
    else lines.push(`${term.err.bold('next:')} run the command again with --debug and report the output`)
    process.stderr.write(lines.join('\n') + '\n')
    this.exit(ExitCode.Internal)
  }
}
