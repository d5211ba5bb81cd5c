import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import * as help from '../views/help/enable.js'
import {dryRunFlag, stallTimeoutFlag, timeoutFlag, timeoutMs, waitFlag} from '../flags.js'
import {parseDuration} from '../lib/duration.js'
import {type EnableResult, enablePool} from '../lib/layering/enable.js'
import {startProgress} from '../lib/ui/progress.js'
import {enableDoneLine, enableText} from '../views/enable.js'
import {renderChecks, renderNodeProgress} from '../views/layering.js'

export default class Enable extends BaseCommand<typeof Enable> {
  static args = {pool: Args.string({ignoreStdin: true, description: 'The MachineConfigPool to opt in.', required: true})}

  static description = help.description

  static examples = help.examples

  static flags = {
    build: Flags.boolean({
      description: "Run the one-shot build from here (like `oc mob build`) instead of waiting for the cluster's builder.",
    }),
    'dry-run': dryRunFlag('Run the checks and show the change without making it.'),
    'stall-timeout': stallTimeoutFlag(),
    timeout: timeoutFlag('Stop waiting after this long (e.g. 30m); the cluster goes on.'),
    wait: waitFlag('Follow the builder, the build and the rollout to their end.'),
  }

  static summary = 'Opt a MachineConfigPool into on-cluster builds.'

  async run(): Promise<EnableResult> {
    const {flags} = this
    const pool = this.args.pool
    const timeout = timeoutMs(flags.timeout)
    const stallGraceMs = parseDuration(flags['stall-timeout'])
    const client = await this.client()
    const table = this.output === 'table'
    const following = (flags.wait || flags.build) && !flags['dry-run']
    const progress = following ? await startProgress(this.term, `opting pool ${pool} in`) : undefined
    let result: EnableResult
    try {
      result = await enablePool(client, pool, {
        build: flags.build,
        dryRun: flags['dry-run'],
        onChecks: (checks) => {
          const text = renderChecks(checks, this.term.err, {onlyProblems: true})
          if (text) progress ? progress.log(text) : this.note(text)
        },
        onEvent: (e) => {
          if (e.phase === 'retrying') {
            if (progress) progress.log(`warning: ${e.message}`)
            else this.note(`warning: ${e.message}`)
            return
          }

          if (!progress) return
          // Milestones stay on screen above the spinner; without a spinner every change is a line anyway.
          const milestone =
            e.phase === 'labelled' || e.phase === 'rollout' || e.phase === 'succeeded' || e.phase === 'joined' || e.phase === 'creating'
          if (milestone && this.term.interactive) progress.log(e.message)
          progress.update(e.message)
        },
        onNode: (p) => progress?.log(renderNodeProgress(p, this.term.err)),
        signal: this.abort.signal,
        stallGraceMs,
        timeoutMs: timeout,
        wait: flags.wait,
      })
    } catch (error) {
      progress?.stop()
      throw error
    }

    progress?.succeed(enableDoneLine(pool, result))
    this.emit(result, () => enableText(pool, result, {followed: flags.wait || flags.build, table}))
    return result
  }
}
