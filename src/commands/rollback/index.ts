import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {parseDuration} from '../build.js'
import {askToProceed} from '../../lib/ui/confirm.js'
import type {PoolRollbackPlan, PoolRollbackResult} from '../../lib/layering/rollback.js'
import {shortDigest, table} from '../../lib/ui/output.js'
import {startProgress} from '../../lib/ui/progress.js'

export default class Rollback extends BaseCommand<typeof Rollback> {
  static args = {pool: Args.string({description: 'The layered pool to roll back.', required: true})}

  static description = `Point a layered pool back at an earlier image, so its nodes reboot into it.

oc-mob keeps a history of every pool's images (ConfigMap oc-mob-image-history in
openshift-machine-config-operator): the ones \`oc mob build\` built or followed, the ones
\`oc mob status\` saw on the pool, and rollbacks. Without --to, the pool goes back to the newest
earlier image built from its current rendered config that was not itself rolled away from — for
example after a custom Dockerfile change produced a bad image. --to N picks entry N of
\`oc mob status POOL --history\` (0 is the newest), --to DIGEST an entry by (a prefix of) its digest.

The pool is pointed at the image the way onclustertesting's set-image does it: the
newestImageEquivalentConfig annotation, the Build* conditions cleared and BuildSuccess=True. The node
controller then rolls the pool's nodes to it, maxUnavailable at a time; each reboots. Which node
reboots into which image is shown first and confirmed (on a terminal; --yes otherwise).

Refused (exit 7, nothing changed) when there is no history to go back to, when a build of the pool is
running (it would replace the image again), and when the image was built from another rendered config
than the pool's (its nodes would run the other config's files); --force overrides the last two.

To take a single node off its layered image, see \`oc mob rollback node --help\`.`

  static examples = [
    {command: 'oc mob rollback layering', description: 'Back to the previous good image, after confirming.'},
    {command: 'oc mob rollback layering --to 2 --yes --wait', description: 'Back to entry 2 of the history, and wait for the nodes.'},
    {command: 'oc mob rollback layering --to sha256:3f2a9c1 --dry-run', description: 'Show what would happen.'},
  ]

  static flags = {
    'dry-run': Flags.boolean({description: 'Show the image and the nodes that would reboot; change nothing.'}),
    force: Flags.boolean({description: 'Roll back even while a build runs, or to an image of another rendered config.'}),
    timeout: Flags.string({description: 'With --wait: stop waiting after this long (e.g. 30m); the rollout goes on.', dependsOn: ['wait']}),
    to: Flags.string({description: 'The history entry to go back to: its number N (0 = newest) or (a prefix of) its digest.', helpValue: 'N|DIGEST'}),
    wait: Flags.boolean({description: 'Wait until every node of the pool runs the image.'}),
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation.'}),
  }

  static summary = 'Roll a pool back to a previous image from its history.'

  async run(): Promise<PoolRollbackResult> {
    const {flags} = this
    const name = this.args.pool
    const timeoutMs = flags.timeout ? parseDuration(flags.timeout) : undefined
    const client = await this.client()
    const {rollbackPool} = await import('../../lib/layering/rollback.js')
    const human = this.output === 'table'
    let progress: Awaited<ReturnType<typeof startProgress>> | undefined
    let result: PoolRollbackResult
    try {
      result = await rollbackPool(client, name, {
        confirm: async (plan) => {
          const text = this.renderPlan(plan)
          if (human) this.log(text)
          else if (!flags.yes) this.note(text)
          const reboots = plan.nodes.filter((n) => n.reboots).length
          const ok = await askToProceed(this.term, `Point pool ${name} at this image${reboots > 0 ? ` and reboot ${reboots} node${reboots === 1 ? '' : 's'}` : ''}?`, {
            action: `roll back pool ${name}`, signal: this.abort.signal, yes: flags.yes,
          })
          if (ok && flags.wait && human) progress = await startProgress(this.term, `pointing pool ${name} at the image`)
          return ok
        },
        dryRun: flags['dry-run'],
        force: flags.force,
        onProgress: (p) => {
          if (!progress) return
          progress.update(`${p.done} of ${p.total} nodes run the image${p.pending.length > 0 ? ` (waiting for ${p.pending.slice(0, 3).join(', ')}${p.pending.length > 3 ? ', …' : ''})` : ''}`)
        },
        signal: this.abort.signal,
        timeoutMs,
        to: flags.to,
        wait: flags.wait,
      })
    } catch (error) {
      progress?.fail('rollback did not finish')
      throw error
    }

    if (result.outcome === 'dry-run') {
      this.emit(result, () => `${this.renderPlan(result)}\n(dry run: nothing was changed)`)
      return result
    }

    if (result.outcome === 'already') {
      this.emit(result, () => `Pool ${name} already runs ${result.target.image}; nothing to do.`)
      return result
    }

    if (result.outcome === 'declined') {
      this.emit(result, () => 'Nothing was changed.')
      return result
    }

    if (result.rolledOut) progress?.succeed(`all ${result.rolledOut.total} nodes of pool ${name} run the image`)
    else progress?.stop()
    this.emit(result, () => [
      `Pool ${name} now points at ${result.target.image} (was ${result.currentImage ?? 'none'}).`,
      result.rolledOut
        ? `All ${result.rolledOut.total} node${result.rolledOut.total === 1 ? '' : 's'} run it.`
        : `The node controller rolls its nodes to it, ${result.maxUnavailable} at a time; follow with \`oc mob status ${name} --watch\`.`,
    ].join('\n'))
    return result
  }

  private renderPlan(plan: PoolRollbackPlan): string {
    const c = this.term.out
    const t = plan.target
    const lines = [
      `Roll back pool ${plan.pool} (rendered config ${plan.renderedConfig}):`,
      `  from ${plan.currentImage ?? '(no image)'}`,
      `  to   ${t.image}`,
      `       history entry ${t.index}: ${t.source} ${t.time}${t.renderedConfig ? ` for ${t.renderedConfig}` : ''}`,
      '',
      plan.nodes.length === 0 ? `Pool ${plan.pool} has no nodes: nothing reboots.` : table(plan.nodes, [
        {get: (n) => n.name, header: 'NODE'},
        {get: (n) => shortDigest(n.currentImage), header: 'RUNS NOW'},
        {get: (n) => (n.reboots ? `reboots into ${shortDigest(t.image)}` : 'already runs it'), header: 'AFTER', paint: (s, n) => (n.reboots ? c.yellow(s) : s)},
      ]),
    ]
    if (plan.nodes.some((n) => n.reboots)) lines.push(`(nodes are updated ${plan.maxUnavailable} at a time, as the pool's maxUnavailable says)`)
    for (const w of plan.warnings) lines.push(c.yellow(`warning: ${w}`))
    return lines.join('\n')
  }
}
