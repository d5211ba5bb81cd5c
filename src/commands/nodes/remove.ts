import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {removeNodes, type NodesResult} from '../../lib/layering/nodes.js'
import {renderNodeProgress, renderNodesPlan} from '../../lib/layering/render.js'
import {parseDuration} from '../build.js'
import {promptYesNo} from '../../lib/ui/confirm.js'

export default class NodesRemove extends BaseCommand<typeof NodesRemove> {
  static args = {
    pool: Args.string({description: 'The pool the nodes leave.', required: true}),
    nodes: Args.string({description: 'Names of the nodes (one or more).', required: true}),
  }

  static description = `Remove nodes from a custom MachineConfigPool.

Removes the pool's node selector label from each node, which moves it back to the worker pool; the
plan shows which nodes will be cordoned, drained and rebooted, in which order (maxUnavailable of
the worker pool). On OpenShift 4.14/4.15 a node that runs a layered image cannot roll back to a
non-layered configuration: its daemon refuses and the node goes Degraded. Such nodes are refused
unless --force is given (see \`oc mob rollback node NODE\` for the way back). On OpenShift 4.18+
(MachineOSConfig pools) nodes return to the plain image by themselves, so no --force is needed.`

  static examples = [
    {command: 'oc mob nodes remove layering worker-1', description: 'Show the plan, confirm, unlabel.'},
    {command: 'oc mob nodes remove layering worker-1 --force --yes', description: 'Also for a node on a layered image (it will go Degraded on 4.14).'},
  ]

  static flags = {
    'dry-run': Flags.boolean({description: 'Show the plan without changing anything.'}),
    force: Flags.boolean({description: 'Remove nodes that run a layered image although they cannot roll back by themselves (4.14/4.15).'}),
    timeout: Flags.string({description: 'Stop waiting after this long (e.g. 30m).'}),
    wait: Flags.boolean({char: 'w', description: 'Follow each node until it is done.'}),
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation.'}),
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
      confirm: this.term.canPrompt ? async () => promptYesNo(`Remove ${nodes.length === 1 ? 'this node' : 'these nodes'} (they will be rebooted)?`, this.abort.signal) : undefined,
      dryRun: flags['dry-run'],
      force: flags.force,
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
        case 'unchanged': { return '\nnothing to do: the nodes are out of the pool already' }
        case 'dry-run': { return '\ndry run: nothing was changed' }
        case 'cancelled': { return '\ncancelled: nothing was changed' }
        default: {
          const moved = result.nodes.filter((n) => n.changes).map((n) => n.name)
          return `\nunlabelled ${moved.join(', ')}${result.progress ? '; all done' : `; follow the rollout with \`oc mob status ${result.rollout.pool}\` (or use --wait)`}`
        }
      }
    })
    return result
  }
}
