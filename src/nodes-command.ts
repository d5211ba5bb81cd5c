/**
 * What `nodes add` and `nodes remove` share: every argument after the pool is a node name, the plan
 * shown before anything changes, a question on a terminal, each node followed to its end.
 */
import type {Command} from '@oclif/core'
import {BaseCommand} from './base-command.js'
import {timeoutMs} from './flags.js'
import {addNodes, type NodesResult, removeNodes} from './lib/layering/nodes.js'
import {promptYesNo} from './lib/ui/confirm.js'
import {renderNodeProgress, renderNodesPlan} from './views/layering.js'
import {nodesQuestion, nodesText} from './views/nodes.js'

interface NodesFlags {
  'dry-run'?: boolean
  force?: boolean
  timeout?: string
  wait?: boolean
  yes?: boolean
}

export abstract class NodesCommand<T extends typeof Command> extends BaseCommand<T> {
  protected async moveNodes(action: 'add' | 'remove'): Promise<NodesResult> {
    const flags = this.flags as NodesFlags
    const ctor = this.ctor as typeof BaseCommand
    // Every argument after the pool is a node name (the parse keeps them all: strict is off).
    const {argv} = await this.parse({args: ctor.args, baseFlags: BaseCommand.baseFlags, flags: ctor.flags, strict: false})
    const [pool, ...nodes] = argv as string[]
    const client = await this.client()
    const table = this.output === 'table'
    const result = await (action === 'add' ? addNodes : removeNodes)(client, pool, nodes, {
      confirm: this.term.canPrompt ? async () => promptYesNo(nodesQuestion(action, nodes.length), this.abort.signal) : undefined,
      dryRun: flags['dry-run'],
      force: Boolean(flags.force),
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

    this.emit(result, () => nodesText(action, result))
    return result
  }
}
