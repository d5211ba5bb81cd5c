import {Args} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import * as help from '../views/help/disable.js'
import {dryRunFlag, timeoutFlag, timeoutMs, waitFlag, yesFlag} from '../flags.js'
import {type DisableResult, disablePool} from '../lib/layering/enable.js'
import {promptYesNo} from '../lib/ui/confirm.js'
import {startProgress} from '../lib/ui/progress.js'
import {disableQuestion, disableText, disableWarning} from '../views/enable.js'

export default class Disable extends BaseCommand<typeof Disable> {
  static args = {pool: Args.string({ignoreStdin: true, description: 'The MachineConfigPool to opt out.', required: true})}

  static description = help.description

  static examples = help.examples

  static flags = {
    'dry-run': dryRunFlag('Show the change and its warnings without making it.'),
    timeout: timeoutFlag('Stop waiting after this long (e.g. 10m).'),
    wait: waitFlag('Wait until the cluster has cleaned up after the pool.'),
    yes: yesFlag(),
  }

  static summary = 'Opt a MachineConfigPool out of on-cluster builds.'

  async run(): Promise<DisableResult> {
    const {flags} = this
    const pool = this.args.pool
    const client = await this.client()
    let progress: Awaited<ReturnType<typeof startProgress>> | undefined
    let starting: ReturnType<typeof startProgress> | undefined
    let result: DisableResult
    try {
      result = await disablePool(client, pool, {
        confirm: this.term.canPrompt ? async () => promptYesNo(disableQuestion(pool), this.abort.signal) : undefined,
        dryRun: flags['dry-run'],
        onWarnings: (warnings) => {
          for (const w of warnings) this.note(disableWarning(w, this.term.err))
        },
        onEvent: (e) => {
          if (!flags.wait) return
          starting ??= startProgress(this.term, e.message).then((p) => {
            progress = p
            return p
          })
          starting.then(
            (p) => p.update(e.message),
            () => undefined,
          )
        },
        signal: this.abort.signal,
        timeoutMs: timeoutMs(flags.timeout),
        wait: flags.wait,
        yes: flags.yes,
      })
    } catch (error) {
      await starting
      progress?.stop()
      throw error
    }

    await starting
    progress?.succeed(`pool ${pool}: the cluster has cleaned up`)
    this.emit(result, () => disableText(pool, result))
    return result
  }
}
