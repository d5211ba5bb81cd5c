import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import * as help from '../views/help/cleanup.js'
import type {CleanupPlan, CleanupResult} from '../lib/cleanup/index.js'
import {ExitCode, MobError} from '../lib/errors.js'
import {askToProceed} from '../lib/ui/confirm.js'
import {startProgress} from '../lib/ui/progress.js'

const ref = (o: {kind: string; name: string}): string => `${o.kind.toLowerCase()}/${o.name}`

export default class Cleanup extends BaseCommand<typeof Cleanup> {
  static args = {pool: Args.string({description: 'The pool whose failed or abandoned build to clean up.', required: false})}

  static description = help.description

  static examples = help.examples

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
