import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {ExitCode, MobError} from '../../lib/errors.js'
import {askToProceed} from '../../lib/ui/confirm.js'
import type {NodeRollbackPlan, NodeRollbackResult} from '../../lib/rollout/node.js'
import {startProgress} from '../../lib/ui/progress.js'
import {parseDuration} from '../build.js'

export default class RollbackNode extends BaseCommand<typeof RollbackNode> {
  static args = {node: Args.string({description: 'The node to take off its layered image.', required: true})}

  static description = `Take one node off its layered image: replace its machine, or move it out of its layered pool.

--replace-machine (IPI clusters with the machine API): deletes the node's Machine (the
machine.openshift.io/machine annotation names it) and the Node, so that its MachineSet provisions a
fresh worker from the non-layered OS image — the seed's procedure for OpenShift 4.14, with checks
first: the machine API is served, the node has a Machine owned by a MachineSet with replicas, the
node is not a control-plane node, and its pool keeps enough nodes available (maxUnavailable). The
replacement is a new node in pool worker; --wait waits until it is Ready.

--remove-from-pool: removes the label the pool's nodeSelector matches (node-role.kubernetes.io/POOL),
so the node goes back to its previous pool (usually worker). Only OpenShift 4.18 and later (the
MachineOSConfig API is served) can roll a node back from a layered image; on the 4.14/4.15
generation the node goes Degraded ("rolling back from a layered to non-layered configuration is not
currently supported"), so there this needs --force. --wait waits until the node is Done without an
image (or fails at once if it goes Degraded).

What would happen is shown first and confirmed (on a terminal; --yes otherwise).`

  static examples = [
    {command: 'oc mob rollback node ip-10-0-1-23.ec2.internal --replace-machine --wait', description: 'Replace the machine and wait for the new node.'},
    {command: 'oc mob rollback node worker-2 --remove-from-pool', description: 'Move the node back to the worker pool (OpenShift 4.18+).'},
    {command: 'oc mob rollback node worker-2 --replace-machine --dry-run', description: 'Only show the checks and what would be deleted.'},
  ]

  static flags = {
    'dry-run': Flags.boolean({description: 'Run the checks and show what would happen; change nothing.'}),
    force: Flags.boolean({description: 'Go ahead despite a failed check that can be overridden (capacity, the 4.14 daemon, a node without an image).'}),
    'remove-from-pool': Flags.boolean({description: 'Move the node out of its layered pool (remove its node-role label).', exclusive: ['replace-machine']}),
    'replace-machine': Flags.boolean({description: 'Delete the node\'s Machine and Node so that the MachineSet replaces them.', exclusive: ['remove-from-pool']}),
    timeout: Flags.string({description: 'With --wait: stop waiting after this long (e.g. 30m).', dependsOn: ['wait']}),
    wait: Flags.boolean({description: 'Wait for the replacement node to be Ready, or for the moved node to be Done.'}),
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation.'}),
  }

  static summary = 'Take a node off its layered image (replace its machine, or move it out of the pool).'

  async run(): Promise<NodeRollbackResult> {
    const {flags} = this
    const name = this.args.node
    if (!flags['replace-machine'] && !flags['remove-from-pool']) {
      throw new MobError('say how: --replace-machine or --remove-from-pool', {
        exitCode: ExitCode.Usage, next: `\`oc mob rollback node ${name} --replace-machine\` (IPI clusters) or \`--remove-from-pool\` (OpenShift 4.18+); see --help`,
      })
    }

    const timeoutMs = flags.timeout ? parseDuration(flags.timeout) : undefined
    const method = flags['replace-machine'] ? 'replace-machine' as const : 'remove-from-pool' as const
    const client = await this.client()
    const {rollbackNode} = await import('../../lib/rollout/node.js')
    const human = this.output === 'table'
    let progress: Awaited<ReturnType<typeof startProgress>> | undefined
    let result: NodeRollbackResult
    try {
      result = await rollbackNode(client, name, {
        confirm: async (plan) => {
          const text = this.renderPlan(plan)
          if (human) this.log(text)
          else if (!flags.yes) this.note(text)
          const question = method === 'replace-machine'
            ? `Delete machine ${plan.machine?.name} and node ${name}?`
            : `Remove ${plan.removeLabels.join(', ')} from node ${name}?`
          const ok = await askToProceed(this.term, question, {action: method === 'replace-machine' ? `delete machine ${plan.machine?.name}` : `move node ${name}`, signal: this.abort.signal, yes: flags.yes})
          if (ok && human) progress = await startProgress(this.term, method === 'replace-machine' ? `replacing node ${name}` : `moving node ${name}`)
          return ok
        },
        dryRun: flags['dry-run'],
        force: flags.force,
        method,
        onProgress: (m) => progress?.update(m),
        signal: this.abort.signal,
        timeoutMs,
        wait: flags.wait,
      })
    } catch (error) {
      progress?.fail(error instanceof MobError ? error.message.split(':')[0] : 'failed')
      throw error
    }

    if (result.outcome === 'dry-run') {
      this.emit(result, () => `${this.renderPlan(result)}\n(dry run: nothing was changed)`)
      return result
    }

    if (result.outcome === 'declined') {
      this.emit(result, () => 'Nothing was changed.')
      return result
    }

    progress?.succeed(method === 'replace-machine' ? (result.replacement ? `node ${result.replacement.node} replaces ${name}` : `machine ${result.machine?.name} and node ${name} deleted`) : `node ${name} moved`)
    this.emit(result, () => {
      if (method === 'replace-machine') {
        return result.replacement
          ? `Machine ${result.machine!.name} and node ${name} were deleted; machine ${result.replacement.machine} runs as node ${result.replacement.node} (Ready, pool worker).`
          : `Machine ${result.machine!.name} and node ${name} were deleted; MachineSet ${result.machine!.machineSet} provisions a replacement (\`oc get machines -n ${result.machine!.namespace} -w\`).`
      }

      return result.final
        ? `Node ${name} left pool ${result.pool} and runs ${result.final.currentConfig} without a layered image.`
        : `Node ${name} left pool ${result.pool} for pool ${result.newPool ?? '(none)'}; follow it with \`oc mob status ${result.newPool ?? ''}\`.`.replace(' `.', '`.')
    })
    return result
  }

  private renderPlan(plan: NodeRollbackPlan): string {
    const c = this.term.out
    const cap = plan.capacity
    const lines = [`Node ${plan.node} (pool ${plan.pool ?? '(none)'}, image ${plan.currentImage ?? '(none)'}):`]
    if (plan.method === 'replace-machine' && plan.machine) {
      lines.push(
        `  delete machine ${plan.machine.namespace}/${plan.machine.name} and node ${plan.node}`,
        `  MachineSet ${plan.machine.machineSet} (${plan.machine.replicas} replica${plan.machine.replicas === 1 ? '' : 's'}) provisions a replacement from the non-layered OS image`,
        `  pool ${plan.pool}: ${cap.members} node${cap.members === 1 ? '' : 's'}, ${cap.unavailable} unavailable now, at most ${cap.maxUnavailable} may be`,
      )
    } else {
      lines.push(`  remove label ${plan.removeLabels.join(', ')}: the node moves to pool ${plan.newPool ?? '(none)'}`)
    }

    for (const w of plan.warnings) lines.push(c.yellow(`warning: ${w}`))
    return lines.join('\n')
  }
}
