import {Args} from '@oclif/core'
import {NodesCommand} from '../../nodes-command.js'
import * as help from '../../views/help/nodes-add.js'
import type {NodesResult} from '../../lib/layering/nodes.js'
import {dryRunFlag, timeoutFlag, waitFlag, yesFlag} from '../../flags.js'

export default class NodesAdd extends NodesCommand<typeof NodesAdd> {
  static args = {
    pool: Args.string({ignoreStdin: true, description: 'The pool the nodes join.', required: true}),
    nodes: Args.string({ignoreStdin: true, description: 'Names of the nodes (one or more).', required: true}),
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
    return this.moveNodes('add')
  }
}
