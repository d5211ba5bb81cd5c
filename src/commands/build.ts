import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import * as help from '../views/help/build.js'
import type {LocalBuildResult} from '../lib/build/local.js'
import {type BuildResult, buildLocally, runBuild} from '../lib/layering/generation.js'
import {dryRunFlag, stallTimeoutFlag, timeoutFlag, timeoutMs} from '../flags.js'
import {parseDuration} from '../lib/duration.js'
import {startProgress} from '../lib/ui/progress.js'
import * as view from '../views/build.js'

export default class Build extends BaseCommand<typeof Build> {
  static args = {
    pool: Args.string({ignoreStdin: true, description: 'The MachineConfigPool to build an image for.', required: true}),
  }

  static description = help.description

  static examples = help.examples

  static flags = {
    ...help.localFlags,
    'dry-run': dryRunFlag('Print the objects that would be created (secret values never shown); create nothing.', {exclusive: ['local']}),
    follow: Flags.boolean({char: 'f', description: 'Stream the build log while waiting.'}),
    rebuild: Flags.boolean({description: 'Build even if the pool already has an image for its rendered config, or after a failed build.'}),
    'stall-timeout': stallTimeoutFlag(),
    timeout: timeoutFlag('Stop waiting after this long (e.g. 30m); the build goes on in the cluster.'),
  }

  static summary = 'Build the OS image of a pool now, and follow it.'

  async run(): Promise<BuildResult | LocalBuildResult> {
    const {flags} = this
    if (flags.local) return this.runLocal()
    const timeout = timeoutMs(flags.timeout)
    const stallGraceMs = parseDuration(flags['stall-timeout'])
    const client = await this.client()
    const quiet = this.output !== 'table' || flags['dry-run']
    const progress = quiet ? undefined : await startProgress(this.term, `building pool ${this.args.pool}`)
    const warn = (text: string): void => (progress ? progress.log(`warning: ${text}`) : this.note(`warning: ${text}`))
    let result: BuildResult
    try {
      result = await runBuild(client, this.args.pool, {
        dryRun: flags['dry-run'],
        follow: flags.follow,
        onEvent: (e) => view.showBuildEvent(progress, e),
        onLog: flags.follow ? (text) => (progress ? progress.log(text.replace(/\n$/, '')) : process.stderr.write(text)) : undefined,
        onLogError: warn,
        onRetry: (message, lines) => warn(view.retryText(message, lines)),
        rebuild: flags.rebuild,
        signal: this.abort.signal,
        stallGraceMs,
        timeoutMs: timeout,
      })
    } catch (error) {
      // The error itself is printed next, with its details and next step.
      progress?.stop()
      throw error
    }

    if (result.outcome === 'dry-run') {
      this.log(view.dryRunText(result, this.output))
      return result
    }

    if (result.outcome === 'up-to-date') progress?.stop()
    else progress?.succeed(`built ${result.image}`)
    this.emit(result, () => (result.outcome === 'up-to-date' ? view.upToDateText(result) : view.builtText(result)))
    return result
  }

  private async runLocal(): Promise<LocalBuildResult> {
    const {flags} = this
    const client = await this.client()
    const progress = this.output === 'table' ? await startProgress(this.term, `building pool ${this.args.pool} on this machine`) : undefined
    let result: LocalBuildResult
    try {
      result = await buildLocally(client, this.args.pool, {
        contextDir: flags['context-dir'],
        engine: flags.engine,
        isolation: flags.isolation,
        onLine: (line) => (progress ? progress.log(line) : process.stderr.write(line + '\n')),
        onPhase: (_phase, text) => progress?.update(text),
        push: flags.push,
        signal: this.abort.signal,
        tag: flags.tag,
        tlsVerify: flags['tls-verify'],
      })
    } catch (error) {
      progress?.stop()
      throw error
    }

    progress?.succeed(view.localDoneLine(result))
    this.emit(result, () => view.localBuiltText(result))
    return result
  }
}
