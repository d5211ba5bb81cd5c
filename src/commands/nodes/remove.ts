import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import * as help from '../../views/help/nodes-remove.js'
import {removeNodes, type NodesResult} from '../../lib/layering/nodes.js'
import {dryRunFlag, timeoutFlag, timeoutMs, waitFlag, yesFlag} from '../../flags.js'
import {promptYesNo} from '../../lib/ui/confirm.js'
import {renderNodeProgress, renderNodesPlan} from '../../views/layering.js'
import {nodesQuestion, nodesText} from '../../views/nodes.js'

export default class NodesRemove extends BaseCommand<typeof NodesRemove> {
  static args = {
    pool: Args.string({description: 'The pool the nodes leave.', required: true}),
    nodes: Args.string({description: 'Names of the nodes (one or more).', required: true}),
  }

  static description = help.description

  static examples = help.examples

  static flags = {
    'dry-run': dryRunFlag('Show the plan without changing anything.'),
    force: Flags.boolean({description: 'Remove nodes that run a layered image although they cannot roll back by themselves (4.14/4.15).'}),
    timeout: timeoutFlag('Stop waiting after this long (e.g. 30m).'),
    wait: waitFlag('Follow each node until it is done.'),
    yes: yesFlag(),
  }

  static strict = false

  static summary = 'Remove nodes from a pool (unlabel them), and follow their rollout.'

  async run(): Promise<NodesResult> {
    const {flags} = this
    // Every argument after the pool is a node name (the parse keeps them all: strict is off).
    const {argv} = await this.parse({args: NodesRemove.args, baseFlags: BaseCommand.baseFlags, flags: NodesRemove.flags, strict: false})
    const [pool, ...nodes] = argv as string[]
    const client = await this.client()
    const table = this.output === 'table'
    const result = await removeNodes(client, pool, nodes, {
      confirm: this.term.canPrompt ? async () => promptYesNo(nodesQuestion('remove', nodes.length), this.abort.signal) : undefined,
      dryRun: flags['dry-run'],
      force: flags.force,
      onNode: (p) => this.note(renderNodeProgress(p, this.term.err)),
      onPlan: (plan) => {
        if (table) this.log(renderNodesPlan(plan, this.term.out))
        else for (const w of plan.warnings) this.note(`warning: ${w}`)
      },
      signal: this.abort.signal,
      timeoutMs: timeoutMs(flags.timeout),
      wait: flags.wait,
      yes: flags.yes,
    })

    this.emit(result, () => nodesText('remove', result))
    return result
  }
}
