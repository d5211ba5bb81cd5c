import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import * as help from '../../views/help/rollback.js'
import {dryRunFlag, registryCaFlag, timeoutFlag, timeoutMs, waitFlag, yesFlag} from '../../flags.js'
import type {PoolRollbackResult} from '../../lib/layering/rollback.js'
import {askToProceed} from '../../lib/ui/confirm.js'
import {startProgress} from '../../lib/ui/progress.js'
import {poolPlanText, poolProgressLine, poolQuestion, poolResultText} from '../../views/rollback.js'

export default class Rollback extends BaseCommand<typeof Rollback> {
  static args = {pool: Args.string({ignoreStdin: true, description: 'The layered pool to roll back.', required: true})}

  static description = help.description

  static examples = help.examples

  static flags = {
    'dry-run': dryRunFlag('Show the image and the nodes that would reboot; change nothing.'),
    force: Flags.boolean({
      description:
        'Roll back even while a build runs, or to an image of another rendered config; 4.18+: without the registry check, or anew when the image is gone.',
    }),
    'registry-ca': registryCaFlag(),
    timeout: timeoutFlag('With --wait: stop waiting after this long (e.g. 30m); the rollout goes on.', {dependsOn: ['wait']}),
    to: Flags.string({
      description: 'The history entry to go back to: its number N (0 = newest) or (a prefix of) its digest.',
      helpValue: 'N|DIGEST',
    }),
    wait: waitFlag('Wait until every node of the pool runs the image.', {short: false}),
    yes: yesFlag(),
  }

  static summary = 'Roll a pool back to a previous image from its history.'

  async run(): Promise<PoolRollbackResult> {
    const {flags} = this
    const name = this.args.pool
    const timeout = timeoutMs(flags.timeout)
    const cas = flags['registry-ca'] ? (await import('../../lib/registry/http.js')).trustedCAsFrom(flags['registry-ca']) : undefined
    const client = await this.client()
    const {rollbackPool} = await import('../../lib/layering/rollback.js')
    const human = this.output === 'table'
    let progress: Awaited<ReturnType<typeof startProgress>> | undefined
    let result: PoolRollbackResult
    try {
      result = await rollbackPool(client, name, {
        cas,
        confirm: async (plan) => {
          const text = poolPlanText(plan, this.term.out)
          if (human) this.log(text)
          else if (!flags.yes) this.note(text)
          const ok = await askToProceed(this.term, poolQuestion(name, plan), {
            action: `roll back pool ${name}`,
            signal: this.abort.signal,
            yes: flags.yes,
          })
          if (ok && flags.wait && human) progress = await startProgress(this.term, `pointing pool ${name} at the image`)
          return ok
        },
        dryRun: flags['dry-run'],
        force: flags.force,
        onProgress: (p) => progress?.update(poolProgressLine(p)),
        signal: this.abort.signal,
        timeoutMs: timeout,
        to: flags.to,
        wait: flags.wait,
      })
    } catch (error) {
      progress?.fail('rollback did not finish')
      throw error
    }

    if (result.outcome === 'rolled-back') {
      if (result.rolledOut)
        progress?.succeed(
          `${result.rolledOut.total === 1 ? 'the node' : `all ${result.rolledOut.total} nodes`} of pool ${name} run${result.rolledOut.total === 1 ? 's' : ''} the image`,
        )
      else progress?.stop()
    }

    this.emit(result, () => poolResultText(name, result, this.term.out))
    return result
  }
}
