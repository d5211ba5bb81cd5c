import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import * as help from '../../views/help/rollback-node.js'
import {ExitCode, MobError} from '../../lib/errors.js'
import {dryRunFlag, timeoutFlag, timeoutMs, waitFlag, yesFlag} from '../../flags.js'
import type {NodeRollbackResult} from '../../lib/rollout/node.js'
import {askToProceed} from '../../lib/ui/confirm.js'
import {startProgress} from '../../lib/ui/progress.js'
import {nodeAsk, nodeDoneLine, nodePlanText, nodeResultText} from '../../views/rollback.js'

export default class RollbackNode extends BaseCommand<typeof RollbackNode> {
  static args = {node: Args.string({ignoreStdin: true, description: 'The node to take off its layered image.', required: true})}

  static description = help.description

  static examples = help.examples

  static flags = {
    'dry-run': dryRunFlag('Run the checks and show what would happen; change nothing.'),
    force: Flags.boolean({
      description: 'Go ahead despite a failed check that can be overridden (capacity, the 4.14 daemon, a node without an image).',
    }),
    'remove-from-pool': Flags.boolean({
      description: 'Move the node out of its layered pool (remove its node-role label).',
      exclusive: ['replace-machine'],
    }),
    'replace-machine': Flags.boolean({
      description: "Delete the node's Machine and Node so that the MachineSet replaces them.",
      exclusive: ['remove-from-pool'],
    }),
    timeout: timeoutFlag('With --wait: stop waiting after this long (e.g. 30m).', {dependsOn: ['wait']}),
    wait: waitFlag('Wait for the replacement node to be Ready, or for the moved node to be Done.', {short: false}),
    yes: yesFlag(),
  }

  static summary = 'Take a node off its layered image (replace its machine, or move it out of the pool).'

  async run(): Promise<NodeRollbackResult> {
    const {flags} = this
    const name = this.args.node
    if (!flags['replace-machine'] && !flags['remove-from-pool']) {
      throw new MobError('say how: --replace-machine or --remove-from-pool', {
        exitCode: ExitCode.Usage,
        next: `\`oc mob rollback node ${name} --replace-machine\` (IPI clusters) or \`--remove-from-pool\` (OpenShift 4.18+); see --help`,
      })
    }

    const timeout = timeoutMs(flags.timeout)
    const method = flags['replace-machine'] ? ('replace-machine' as const) : ('remove-from-pool' as const)
    const client = await this.client()
    const {rollbackNode} = await import('../../lib/rollout/node.js')
    const human = this.output === 'table'
    let progress: Awaited<ReturnType<typeof startProgress>> | undefined
    let result: NodeRollbackResult
    try {
      result = await rollbackNode(client, name, {
        confirm: async (plan) => {
          const text = nodePlanText(plan, this.term.out)
          if (human) this.log(text)
          else if (!flags.yes) this.note(text)
          const ask = nodeAsk(name, plan)
          const ok = await askToProceed(this.term, ask.question, {action: ask.action, signal: this.abort.signal, yes: flags.yes})
          if (ok && human) progress = await startProgress(this.term, ask.start)
          return ok
        },
        dryRun: flags['dry-run'],
        force: flags.force,
        method,
        onProgress: (m) => progress?.update(m),
        signal: this.abort.signal,
        timeoutMs: timeout,
        wait: flags.wait,
      })
    } catch (error) {
      progress?.stop()
      throw error
    }

    if (result.outcome === 'done') progress?.succeed(nodeDoneLine(name, result))
    this.emit(result, () => nodeResultText(name, result, this.term.out))
    return result
  }
}
