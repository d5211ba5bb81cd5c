import {Args, Flags} from '@oclif/core'
import {NodesCommand} from '../../nodes-command.js'
import * as help from '../../views/help/nodes-remove.js'
import type {NodesResult} from '../../lib/layering/nodes.js'
import {dryRunFlag, timeoutFlag, waitFlag, yesFlag} from '../../flags.js'

export default class NodesRemove extends NodesCommand<typeof NodesRemove> {
  static args = {
    pool: Args.string({ignoreStdin: true, description: 'The pool the nodes leave.', required: true}),
    nodes: Args.string({ignoreStdin: true, description: 'Names of the nodes (one or more).', required: true}),
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
    return this.moveNodes('remove')
  }
}
