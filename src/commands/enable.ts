import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {MobError} from '../lib/errors.js'
import {type EnableResult, enablePool} from '../lib/layering/enable.js'
import {renderChecks, renderNodeProgress} from '../lib/layering/render.js'
import {startProgress} from '../lib/ui/progress.js'
import {parseDuration} from './build.js'

export default class Enable extends BaseCommand<typeof Enable> {
  static args = {pool: Args.string({description: 'The MachineConfigPool to opt in.', required: true})}

  static description = `Opt a MachineConfigPool into on-cluster builds.

Runs the same preflight checks as setup on the build settings in the cluster (permissions, secrets
and their registry credentials, the global pull secret, the pullspec, degraded pools, the custom
Dockerfile), then adds the label machineconfiguration.openshift.io/layering-enabled to the pool (a
JSON merge patch of that label only). The Machine Config Operator then starts the
machine-os-builder, which builds the pool's image; nodes of the pool roll onto it.

--wait follows all of it: the machine-os-builder starting (or, if it cannot, why: the operator's
MachineOSBuilderFailed status, or the builder's own log), the build (a failed build shows the end of
its log), and the rollout, node by node. --build runs the build from this workstation (as
\`oc mob build\` does) instead of waiting for the cluster's builder.

On OpenShift 4.18+ the pool's MachineOSConfig, which \`oc mob setup\` writes, is the opt-in: enable
checks it the same way and, with --wait, follows the MachineOSBuild of the pool's rendered config
and the rollout; a pool without one is told to run setup (exit 6).

A build that cannot make progress ends --wait with exit code 8, its cause and what to do (the build is
left as it is): the machine-os-builder or the build pod unschedulable (the scheduler's message is
shown), an image that cannot be pulled, an evicted or OOMKilled build, or a digest ConfigMap that does
not appear within --stall-timeout after image-build finished. On 4.18+ a failed attempt that the Job
retries is reported ("attempt 2 of 4") and the wait goes on.`

  static examples = [
    {command: 'oc mob enable layering', description: 'Opt in and return.'},
    {command: 'oc mob enable layering --wait', description: 'Opt in and follow the builder, the build and the rollout.'},
    {command: 'oc mob enable layering --build --wait', description: 'Opt in, build from here, then follow the rollout.'},
  ]

  static flags = {
    build: Flags.boolean({description: 'Run the one-shot build from here (like `oc mob build`) instead of waiting for the cluster\'s builder.'}),
    'dry-run': Flags.boolean({description: 'Run the checks and show the change without making it.'}),
    'stall-timeout': Flags.string({default: '60s', description: 'How long image-build may be finished without its digest ConfigMap appearing before the build counts as stuck.'}),
    timeout: Flags.string({description: 'Stop waiting after this long (e.g. 30m); the cluster goes on.'}),
    wait: Flags.boolean({char: 'w', description: 'Follow the builder, the build and the rollout to their end.'}),
  }

  static summary = 'Opt a MachineConfigPool into on-cluster builds.'

  async run(): Promise<EnableResult> {
    const {flags} = this
    const pool = this.args.pool
    const timeoutMs = flags.timeout ? parseDuration(flags.timeout) : undefined
    const stallGraceMs = parseDuration(flags['stall-timeout'])
    const client = await this.client()
    const table = this.output === 'table'
    const following = (flags.wait || flags.build) && !flags['dry-run']
    const progress = following ? await startProgress(this.term, `opting pool ${pool} in`) : undefined
    let result: EnableResult
    try {
      result = await enablePool(client, pool, {
        build: flags.build,
        dryRun: flags['dry-run'],
        onChecks: (checks) => {
          const text = renderChecks(checks, this.term.err, {onlyProblems: true})
          if (text) (progress ? progress.log(text) : this.note(text))
        },
        onEvent: (e) => {
          if (e.phase === 'retrying') {
            if (progress) progress.log(`warning: ${e.message}`)
            else this.note(`warning: ${e.message}`)
            return
          }

          if (!progress) return
          // Milestones stay on screen above the spinner; without a spinner every change is a line anyway.
          const milestone = e.phase === 'labelled' || e.phase === 'rollout' || e.phase === 'succeeded' || e.phase === 'joined' || e.phase === 'creating'
          if (milestone && this.term.interactive) progress.log(e.message)
          progress.update(e.message)
        },
        onNode: (p) => progress?.log(renderNodeProgress(p, this.term.err)),
        signal: this.abort.signal,
        stallGraceMs,
        timeoutMs,
        wait: flags.wait,
      })
    } catch (error) {
      progress?.fail(error instanceof MobError ? error.message.split(':')[0] : 'failed')
      throw error
    }

    progress?.succeed(result.nodes && result.nodes.length > 0 ? `pool ${pool}: ${result.nodes.length} node${result.nodes.length === 1 ? '' : 's'} on ${result.image}` : result.image ? `pool ${pool}: image ${result.image}` : `pool ${pool} opted in`)
    this.emit(result, () => {
      if (result.outcome === 'dry-run') {
        return result.change.action === 'unchanged'
          ? `dry run: pool ${pool} is opted in already; nothing would change`
          : `dry run: would patch machineconfigpool/${pool}: ${result.change.summary}\n${table ? 'preflight checks passed; nothing was changed' : ''}`.trimEnd()
      }

      const lines = [result.outcome === 'already-enabled' ? `pool ${pool} was opted in already` : `pool ${pool} opted into on-cluster builds`]
      if (result.image) lines.push(`image: ${result.image}`)
      if (result.nodes) lines.push(result.nodes.length === 0 ? 'the pool has no nodes' : `nodes done: ${result.nodes.map((n) => n.name).join(', ')}`)
      if (!flags.wait && !flags.build) lines.push(`follow it with \`oc mob status ${pool}\`, or next time use --wait`)
      return lines.join('\n')
    })
    return result
  }
}
