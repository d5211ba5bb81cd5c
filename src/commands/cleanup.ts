import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import * as help from '../views/help/cleanup.js'
import {dryRunFlag, yesFlag} from '../flags.js'
import type {CleanupPlan, CleanupResult} from '../lib/layering/cleanup.js'
import {ExitCode, MobError} from '../lib/errors.js'
import {askToProceed} from '../lib/ui/confirm.js'
import {startProgress} from '../lib/ui/progress.js'
import {cleanupAsk, planText, resultText} from '../views/cleanup.js'

export default class Cleanup extends BaseCommand<typeof Cleanup> {
  static args = {
    pool: Args.string({ignoreStdin: true, description: 'The pool whose failed or abandoned build to clean up.', required: false}),
  }

  static description = help.description

  static examples = help.examples

  static flags = {
    all: Flags.boolean({description: 'Every pool (including build objects of pools that no longer exist).'}),
    'dry-run': dryRunFlag('Show what would be deleted and cleared; change nothing.'),
    force: Flags.boolean({description: 'Also delete builds that are still running (stops them; 4.18+: their MachineOSBuild and Job).'}),
    'keep-secrets': Flags.boolean({description: 'Leave the <name>-canonical secret copies alone.'}),
    save: Flags.string({
      description:
        "Save the Dockerfile, MachineConfig and build logs of what is deleted into this directory first (4.18+: also the MachineOSBuild, MachineOSConfig and Job, every attempt's log and the events).",
      helpValue: 'DIR',
    }),
    yes: yesFlag(),
  }

  static summary = 'Clean up after a failed build, without toggling the pool label.'

  async run(): Promise<CleanupResult> {
    const {flags} = this
    const pool = this.args.pool
    if (!pool && !flags.all)
      throw new MobError('which pool? name one, or use --all', {
        exitCode: ExitCode.Usage,
        next: 'run `oc mob cleanup POOL` (`oc mob status` lists them)',
      })
    if (pool && flags.all)
      throw new MobError('a pool name cannot be combined with --all', {
        exitCode: ExitCode.Usage,
        next: `run \`oc mob cleanup ${pool}\` or \`oc mob cleanup --all\``,
      })
    const client = await this.client()
    const human = this.output === 'table'
    let shown = false
    const progress = human && !flags['dry-run'] ? await startProgress(this.term, 'cleaning up') : undefined
    const show = (plan: CleanupPlan): void => {
      if (shown) return
      shown = true
      progress?.stop()
      const text = planText(plan, this.term.out)
      if (human) this.log(text)
      else this.note(text)
    }

    let result: CleanupResult
    try {
      const {cleanup} = await import('../lib/layering/cleanup.js')
      result = await cleanup(client, {
        all: flags.all,
        confirm: async (plan) => {
          if (human || !flags.yes) show(plan)
          const {action, question} = cleanupAsk(plan)
          return askToProceed(this.term, question, {action, signal: this.abort.signal, yes: flags.yes})
        },
        dryRun: flags['dry-run'],
        force: flags.force,
        keepSecrets: flags['keep-secrets'],
        onProgress: (m) => (progress ? progress.update(m) : undefined),
        pool,
        saveDir: flags.save,
        signal: this.abort.signal,
      })
    } catch (error) {
      progress?.stop()
      throw error
    }

    progress?.stop()
    this.emit(result, () => resultText(result, pool, this.term.out))
    return result
  }
}
