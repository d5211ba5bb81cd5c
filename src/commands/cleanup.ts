import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import type {CleanupPlan, CleanupResult} from '../lib/cleanup/index.js'
import {ExitCode, MobError} from '../lib/errors.js'
import {askToProceed} from '../lib/ui/confirm.js'
import {startProgress} from '../lib/ui/progress.js'

const ref = (o: {kind: string; name: string}): string => `${o.kind.toLowerCase()}/${o.name}`

export default class Cleanup extends BaseCommand<typeof Cleanup> {
  static args = {pool: Args.string({description: 'The pool whose failed or abandoned build to clean up.', required: false})}

  static description = `Delete what a failed or abandoned build of a pool left behind and clear the pool's stuck build
conditions, so a new build can start, without removing and re-adding the layering label.

What it deletes, found strictly by the operator's build labels of the pool and the names derived from
the rendered config they name (openshift-machine-config-operator namespace):
  - the build pod or OpenShift Build build-<rendered>
  - the ConfigMaps mc-<rendered>, dockerfile-<rendered> and digest-<rendered>
  - <name>-canonical secret copies when on-cluster-build-config names <name> (the next build makes
    them again); a copy the build config points at itself is kept, as builds need it
Then on the pool: the Build* conditions are removed (as onclustertesting's clear-build-status does),
the Degraded and RenderDegraded a failed build caused are set back to False, and build references
in spec/status configuration.source are dropped. The build config, the custom Dockerfile ConfigMap,
the pull and push secrets and everything of other pools are never touched.

The list is shown first and confirmed (on a terminal; --yes otherwise). A build that is still
running is refused unless --force (a build pod that stays Running after image-build failed, the 4.14
hang, counts as failed). --save DIR first saves the Dockerfile, the decoded MachineConfig, the
digest and the logs of every container (and their previous run) of what is deleted.

When the pool has no image yet, the cluster's machine-os-builder starts a new build by itself once
the conditions are cleared; otherwise run \`oc mob build POOL\`.

OpenShift 4.18+ (a pool with a MachineOSConfig): a MachineOSBuild that failed or was interrupted
keeps the machine-os-builder from building the same config again, and the next build deletes it with
its evidence. Cleanup deletes that MachineOSBuild, its Job build-<mosb> and the Job's pods, and its
ephemeral ConfigMaps and secret copies (found by the builder's labels of the pool); a Job left behind
by a deleted build (it would stop a new build of that name); and clears a current-machine-os-build
annotation naming a build that no longer exists. The builder then starts a new build by itself. The
MachineOSConfig, succeeded builds and their images are never touched. A rebuild annotation the
builder has not acted on, the pool's ImageBuildDegraded and degradations that stop the builder are
reported. --save DIR first keeps the MachineOSBuild, MachineOSConfig and Job (YAML and conditions),
the log of every attempt of the Job, the events, the Containerfile and the MachineConfig.`

  static examples = [
    {command: 'oc mob cleanup layering', description: 'Show what is left of the failed build, confirm, clean up.'},
    {command: 'oc mob cleanup layering --dry-run', description: 'Only show it.'},
    {command: 'oc mob cleanup layering --save ./build-failure --yes', description: 'Keep the evidence for a bug report, then clean up without asking.'},
    {command: 'oc mob cleanup --all', description: 'Every pool.'},
  ]

  static flags = {
    all: Flags.boolean({description: 'Every pool (including build objects of pools that no longer exist).'}),
    'dry-run': Flags.boolean({description: 'Show what would be deleted and cleared; change nothing.'}),
    force: Flags.boolean({description: 'Also delete builds that are still running (stops them; 4.18+: their MachineOSBuild and Job).'}),
    'keep-secrets': Flags.boolean({description: 'Leave the <name>-canonical secret copies alone.'}),
    save: Flags.string({description: 'Save the Dockerfile, MachineConfig and build logs of what is deleted into this directory first (4.18+: also the MachineOSBuild, MachineOSConfig and Job, every attempt\'s log and the events).', helpValue: 'DIR'}),
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation.'}),
  }

  static summary = 'Clean up after a failed build, without toggling the pool label.'

  async run(): Promise<CleanupResult> {
    const {flags} = this
    const pool = this.args.pool
    if (!pool && !flags.all) throw new MobError('which pool? name one, or use --all', {exitCode: ExitCode.Usage, next: 'run `oc mob cleanup POOL` (`oc mob status` lists them)'})
    if (pool && flags.all) throw new MobError('a pool name cannot be combined with --all', {exitCode: ExitCode.Usage, next: `run \`oc mob cleanup ${pool}\` or \`oc mob cleanup --all\``})
    const client = await this.client()
    const human = this.output === 'table'
    let shown = false
    const progress = human && !flags['dry-run'] ? await startProgress(this.term, 'cleaning up') : undefined
    const show = (plan: CleanupPlan): void => {
      if (shown) return
      shown = true
      progress?.stop()
      const text = this.renderPlan(plan)
      if (human) this.log(text)
      else this.note(text)
    }

    let result: CleanupResult
    try {
      const {cleanup} = await import('../lib/cleanup/index.js')
      result = await cleanup(client, {
        all: flags.all,
        confirm: async (plan) => {
          if (human || !flags.yes) show(plan)
          const count = plan.items.length
          const ok = await askToProceed(this.term, count > 0
            ? `Delete ${count === 1 ? 'this object' : `these ${count} objects`}${plan.pools.some((p) => p.exists) ? ' and clear the build state shown' : ''}?`
            : 'Clear the build state shown?', {action: count > 0 ? `delete ${count} object${count === 1 ? '' : 's'}` : 'change the pool', signal: this.abort.signal, yes: flags.yes})
          return ok
        },
        dryRun: flags['dry-run'],
        force: flags.force,
        keepSecrets: flags['keep-secrets'],
        onProgress: (m) => (progress ? progress.update(m) : undefined),
        pool,
        saveDir: flags.save,
        signal: this.abort.signal,
      })
    } catch (error) {
      progress?.stop()
      throw error
    }

    progress?.stop()
    const scope = pool ? `pool ${pool}` : 'any pool'
    if (result.outcome === 'nothing-to-do') {
      this.emit(result, () => [`Nothing to clean up for ${scope}: no build objects left behind and no stuck build state.`, ...result.kept.length > 0 ? [this.renderKept(result)] : [], ...this.renderNotes(result)].join('\n'))
      return result
    }

    if (result.outcome === 'dry-run') {
      this.emit(result, () => `${this.renderPlan(result)}\n(dry run: nothing was changed)`)
      return result
    }

    if (result.outcome === 'declined') {
      this.emit(result, () => 'Nothing was changed.')
      return result
    }

    this.emit(result, () => {
      const lines = [`Deleted ${result.deleted.length} object${result.deleted.length === 1 ? '' : 's'}${result.deleted.length > 0 ? `: ${result.deleted.join(', ')}` : ''}.`]
      for (const x of result.notDeleted) lines.push(this.term.out.yellow(`Not deleted: ${x.object}: ${x.reason}`))
      for (const p of result.pools.filter((f) => f.exists)) {
        if (p.clearAnnotation || p.notes) {
          if (p.clearAnnotation) lines.push(`Pool ${p.pool}: MachineOSConfig ${p.clearAnnotation.machineOSConfig} no longer names ${p.clearAnnotation.value} as its current build.`)
          if (result.deleted.length > 0 || p.clearAnnotation) lines.push(`Pool ${p.pool}: the machine-os-builder starts a new build by itself; follow it with \`oc mob build ${p.pool}\` or \`oc mob logs ${p.pool} -f\`.`)
          continue
        }

        lines.push(`Pool ${p.pool}: build state cleared; start a new build with \`oc mob build ${p.pool}\` (the machine-os-builder starts one by itself when the pool has no image yet).`)
      }

      lines.push(...this.renderNotes(result).filter((l) => !l.includes('then the machine-os-builder starts')))

      if (result.saved) lines.push(`Saved ${result.saved.files.length} files under ${result.saved.dir}${result.saved.missing.length > 0 ? ` (not saved: ${result.saved.missing.map((m) => m.what).join('; ')})` : ''}.`)
      return lines.join('\n')
    })
    return result
  }

  /** What cleanup reports but does not change (4.18+): a rebuild annotation not acted on, degradations... */
  private renderNotes(plan: Pick<CleanupPlan, 'pools'>): string[] {
    return plan.pools.flatMap((p) => (p.notes ?? []).map((note) => `  note   pool ${p.pool}: ${note}`))
  }

  private renderKept(plan: Pick<CleanupPlan, 'kept'>): string {
    return plan.kept.map((k) => `  keep   ${k.kind.toLowerCase()}/${k.name}: ${k.reason}`).join('\n')
  }

  private renderPlan(plan: Pick<CleanupPlan, 'items' | 'kept' | 'pools' | 'scope'>): string {
    const c = this.term.out
    const lines = [`Cleanup of ${plan.scope.pool ? `pool ${plan.scope.pool}` : 'every pool'} (namespace openshift-machine-config-operator${plan.items.some((i) => i.kind === 'MachineOSBuild') ? '; MachineOSBuilds are cluster-wide' : ''}):`]
    const width = Math.max(0, ...plan.items.map((i) => ref(i).length))
    for (const i of plan.items) lines.push(`  ${c.red('delete')} ${ref(i).padEnd(width)}   ${i.why}`)
    for (const p of plan.pools) {
      if (!p.exists) {
        lines.push(`  pool ${p.pool}: ${p.why}`)
        continue
      }

      if (p.clearAnnotation) {
        const a = p.clearAnnotation
        lines.push(`  ${c.yellow('clear')}  machineosconfig/${a.machineOSConfig} annotation ${a.annotation}=${a.value} (${a.why})`)
      }

      if (p.removeConditions.length + p.resetConditions.length + p.removeRefs.length === 0) continue

      const what: string[] = []
      if (p.removeConditions.length > 0) what.push(`remove conditions ${p.removeConditions.join(', ')}`)
      if (p.resetConditions.length > 0) what.push(`set ${p.resetConditions.join(', ')} to False`)
      if (p.removeRefs.length > 0) what.push(`drop build reference${p.removeRefs.length === 1 ? '' : 's'} ${p.removeRefs.join(', ')}`)
      lines.push(`  ${c.yellow('clear')}  pool ${p.pool}: ${what.join('; ')} (${p.why})`)
    }

    if (plan.kept.length > 0) lines.push(this.renderKept(plan))
    lines.push(...this.renderNotes(plan))
    return lines.join('\n')
  }
}
