import {Args} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import * as help from '../../views/help/nodes-add.js'
import {addNodes, type NodesResult} from '../../lib/layering/nodes.js'
import {dryRunFlag, timeoutFlag, timeoutMs, waitFlag, yesFlag} from '../../flags.js'
import {promptYesNo} from '../../lib/ui/confirm.js'
import {renderNodeProgress, renderNodesPlan} from '../../views/layering.js'
import {nodesQuestion, nodesText} from '../../views/nodes.js'

export default class NodesAdd extends BaseCommand<typeof NodesAdd> {
  static args = {
    pool: Args.string({description: 'The pool the nodes join.', required: true}),
    nodes: Args.string({description: 'Names of the nodes (one or more).', required: true}),
  }

  static description = help.description

  static examples = help.examples

  static flags = {
    'dry-run': dryRunFlag('Show the plan without changing anything.'),
    timeout: timeoutFlag('Stop waiting after this long (e.g. 30m).'),
    wait: waitFlag('Follow each node until it is done.'),
    yes: yesFlag(),
  }

  static strict = false

  static summary = 'Add nodes to a pool (label them), and follow their rollout.'

  async run(): Promise<NodesResult> {
    const {flags} = this
    // Every argument after the pool is a node name (the parse keeps them all: strict is off).
    const {argv} = await this.parse({args: NodesAdd.args, baseFlags: BaseCommand.baseFlags, flags: NodesAdd.flags, strict: false})
    const [pool, ...nodes] = argv as string[]
    const client = await this.client()
    const table = this.output === 'table'
    const result = await addNodes(client, pool, nodes, {
      confirm: this.term.canPrompt ? async () => promptYesNo(nodesQuestion('add', nodes.length), this.abort.signal) : undefined,
      dryRun: flags['dry-run'],
      force: false,
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

    this.emit(result, () => nodesText('add', result))
    return result
  }
}
