import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {MobError} from '../lib/errors.js'
import {type DisableResult, disablePool} from '../lib/layering/enable.js'
import {actionVerb, objectRef} from '../lib/layering/types.js'
import {startProgress} from '../lib/ui/progress.js'
import {parseDuration} from './build.js'
import {promptYesNo} from '../lib/ui/confirm.js'

export default class Disable extends BaseCommand<typeof Disable> {
  static args = {pool: Args.string({description: 'The MachineConfigPool to opt out.', required: true})}

  static description = `Opt a MachineConfigPool out of on-cluster builds.

Removes the label machineconfiguration.openshift.io/layering-enabled from the pool. The cluster then
stops and removes the pool's build objects, drops its image annotation and Build* conditions, and
removes the machine-os-builder when no opted-in pool remains; --wait waits for that.

On OpenShift 4.14/4.15 a node that already runs a layered image cannot roll back by itself: its
machine-config daemon refuses and the node goes Degraded. The command says which nodes that concerns
and asks for confirmation (--yes skips it); see \`oc mob rollback node\`.

On OpenShift 4.18+ it deletes the pool's MachineOSConfig instead: the machine-os-builder deletes its
MachineOSBuilds and the nodes return to the plain OS image (they can on that generation); --wait
waits until the MachineOSConfig is gone.`

  static examples = [
    {command: 'oc mob disable layering', description: 'Show the warnings, confirm, opt out.'},
    {command: 'oc mob disable layering --yes --wait', description: 'Opt out and wait for the cluster\'s cleanup.'},
  ]

  static flags = {
    'dry-run': Flags.boolean({description: 'Show the change and its warnings without making it.'}),
    timeout: Flags.string({description: 'Stop waiting after this long (e.g. 10m).'}),
    wait: Flags.boolean({char: 'w', description: 'Wait until the cluster has cleaned up after the pool.'}),
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation.'}),
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
        confirm: this.term.canPrompt ? async () => promptYesNo(`Opt pool ${pool} out of on-cluster builds?`, this.abort.signal) : undefined,
        dryRun: flags['dry-run'],
        onWarnings: (warnings) => {
          for (const w of warnings) this.note(`${this.term.err.yellow('warning:')} ${w}`)
        },
        onEvent: (e) => {
          if (!flags.wait) return
          starting ??= startProgress(this.term, e.message).then((p) => {
            progress = p
            return p
          })
          starting.then((p) => p.update(e.message), () => undefined)
        },
        signal: this.abort.signal,
        timeoutMs: flags.timeout ? parseDuration(flags.timeout) : undefined,
        wait: flags.wait,
        yes: flags.yes,
      })
    } catch (error) {
      await starting
      progress?.fail(error instanceof MobError ? error.message.split(':')[0] : 'failed')
      throw error
    }

    await starting
    progress?.succeed(`pool ${pool}: the cluster has cleaned up`)
    this.emit(result, () => {
      switch (result.outcome) {
        case 'not-enabled': { return `pool ${pool} is not opted in; nothing to do` }
        case 'dry-run': { return `dry run: would ${actionVerb(result.change)} ${objectRef(result.change)}: ${result.change.summary}; nothing was changed` }
        case 'cancelled': { return 'cancelled: nothing was changed' }
        default: { return `pool ${pool} opted out of on-cluster builds${result.cleanedUp ? '; the cluster has removed its build state' : ` (follow the cleanup with \`oc mob status ${pool}\`)`}` }
      }
    })
    return result
  }
}
