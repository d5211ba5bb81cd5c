import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {addNodes, type NodesResult} from '../../lib/layering/nodes.js'
import {renderNodeProgress, renderNodesPlan} from '../../lib/layering/render.js'
import {parseDuration} from '../build.js'
import {promptYesNo} from '../../lib/ui/confirm.js'

export default class NodesAdd extends BaseCommand<typeof NodesAdd> {
  static args = {
    pool: Args.string({description: 'The pool the nodes join.', required: true}),
    nodes: Args.string({description: 'Names of the nodes (one or more).', required: true}),
  }

  static description = `Add nodes to a custom MachineConfigPool.

Sets the pool's node selector label (node-role.kubernetes.io/POOL= for pools made by setup) on each
node. Before changing anything it shows which nodes will be cordoned, drained and rebooted, and in
which order: the cluster updates them by name, maxUnavailable at a time. Control-plane nodes and
nodes of another custom pool are refused. --wait follows each node until it runs the pool's config
(and image, for an opted-in pool).`

  static examples = [
    {command: 'oc mob nodes add layering worker-0', description: 'Show the plan, confirm, label.'},
    {command: 'oc mob nodes add layering worker-0 worker-1 --yes --wait', description: 'Label both and follow their rollout.'},
  ]

  static flags = {
    'dry-run': Flags.boolean({description: 'Show the plan without changing anything.'}),
    timeout: Flags.string({description: 'Stop waiting after this long (e.g. 30m).'}),
    wait: Flags.boolean({char: 'w', description: 'Follow each node until it is done.'}),
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation.'}),
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
      confirm: this.term.canPrompt ? async () => promptYesNo(`Add ${nodes.length === 1 ? 'this node' : 'these nodes'} (they will be rebooted)?`, this.abort.signal) : undefined,
      dryRun: flags['dry-run'],
      force: false,
      onNode: (p) => this.note(renderNodeProgress(p, this.term.err)),
      onPlan: (plan) => {
        if (table) this.log(renderNodesPlan(plan, this.term.out))
        else for (const w of plan.warnings) this.note(`warning: ${w}`)
      },
      signal: this.abort.signal,
      timeoutMs: flags.timeout ? parseDuration(flags.timeout) : undefined,
      wait: flags.wait,
      yes: flags.yes,
    })

    this.emit(result, () => {
      switch (result.outcome) {
        case 'unchanged': { return '\nnothing to do: the nodes are in the pool already' }
        case 'dry-run': { return '\ndry run: nothing was changed' }
        case 'cancelled': { return '\ncancelled: nothing was changed' }
        default: {
          const moved = result.nodes.filter((n) => n.changes).map((n) => n.name)
          return `\nlabelled ${moved.join(', ')}${result.progress ? '; all done' : `; follow the rollout with \`oc mob status ${result.rollout.pool}\` (or use --wait)`}`
        }
      }
    })
    return result
  }
}
