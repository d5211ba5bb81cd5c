import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import * as help from '../views/help/prune.js'
import {dryRunFlag, registryCaFlag, yesFlag} from '../flags.js'
import type {PrunePlan, PruneResult} from '../lib/layering/prune.js'
import {askToProceed} from '../lib/ui/confirm.js'
import {planText, pruneAsk, resultText} from '../views/prune.js'

export default class Prune extends BaseCommand<typeof Prune> {
  static args = {
    pool: Args.string({ignoreStdin: true, description: 'The pool (with a MachineOSConfig) whose old builds to delete.', required: true}),
  }

  static description = help.description

  static examples = help.examples

  static flags = {
    'dry-run': dryRunFlag('Show which builds would be deleted and whether the registry deletes images; change nothing.'),
    keep: Flags.integer({
      description: 'How many of the newest successful MachineOSBuilds to keep (at least 1).',
      helpValue: 'N',
      required: true,
    }),
    'registry-ca': registryCaFlag(),
    yes: yesFlag(),
  }

  static summary = "Delete a pool's old successful MachineOSBuilds and, through the builder, their images."

  async run(): Promise<PruneResult> {
    const {flags} = this
    const name = this.args.pool
    const human = this.output === 'table'
    const {checkKeep, prunePool} = await import('../lib/layering/prune.js')
    checkKeep(flags.keep)
    const client = await this.client()
    const cas = flags['registry-ca'] ? (await import('../lib/registry/http.js')).trustedCAsFrom(flags['registry-ca']) : undefined
    const result = await prunePool(client, name, {
      cas,
      confirm: async (plan: PrunePlan) => {
        const text = planText(plan, this.term.out)
        if (human) this.log(text)
        else if (!flags.yes) this.note(text)
        const {action, question} = pruneAsk(plan)
        return askToProceed(this.term, question, {action, signal: this.abort.signal, yes: flags.yes})
      },
      dryRun: flags['dry-run'],
      keep: flags.keep,
      signal: this.abort.signal,
    })
    this.emit(result, () => resultText(result, this.term.out))
    return result
  }
}
