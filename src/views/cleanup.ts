/** What `oc mob cleanup` shows, asks and says about its result. */
import type {ChalkInstance} from 'chalk'
import type {CleanupPlan, CleanupResult} from '../lib/layering/cleanup.js'

const ref = (o: {kind: string; name: string}): string => `${o.kind.toLowerCase()}/${o.name}`

/** What cleanup reports but does not change (4.18+): a rebuild annotation not acted on, degradations... */
function notesLines(plan: Pick<CleanupPlan, 'pools'>): string[] {
  return plan.pools.flatMap((p) => (p.notes ?? []).map((note) => `  note   pool ${p.pool}: ${note}`))
}

function keptText(plan: Pick<CleanupPlan, 'kept'>): string {
  return plan.kept.map((k) => `  keep   ${k.kind.toLowerCase()}/${k.name}: ${k.reason}`).join('\n')
}

export function planText(plan: Pick<CleanupPlan, 'items' | 'kept' | 'pools' | 'scope'>, c: ChalkInstance): string {
  const lines = [
    `Cleanup of ${plan.scope.pool ? `pool ${plan.scope.pool}` : 'every pool'} (namespace openshift-machine-config-operator${plan.items.some((i) => i.kind === 'MachineOSBuild') ? '; MachineOSBuilds are cluster-wide' : ''}):`,
  ]
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

  if (plan.kept.length > 0) lines.push(keptText(plan))
  lines.push(...notesLines(plan))
  return lines.join('\n')
}

/** The question, and the refusal's action when there is no terminal to ask on. */
export function cleanupAsk(plan: CleanupPlan): {action: string; question: string} {
  const count = plan.items.length
  return {
    action: count > 0 ? `delete ${count} object${count === 1 ? '' : 's'}` : 'change the pool',
    question:
      count > 0
        ? `Delete ${count === 1 ? 'this object' : `these ${count} objects`}${plan.pools.some((p) => p.exists) ? ' and clear the build state shown' : ''}?`
        : 'Clear the build state shown?',
  }
}

export function resultText(result: CleanupResult, pool: string | undefined, c: ChalkInstance): string {
  switch (result.outcome) {
    case 'nothing-to-do': {
      const scope = pool ? `pool ${pool}` : 'any pool'
      return [
        `Nothing to clean up for ${scope}: no build objects left behind and no stuck build state.`,
        ...(result.kept.length > 0 ? [keptText(result)] : []),
        ...notesLines(result),
      ].join('\n')
    }

    case 'dry-run': {
      return `${planText(result, c)}\n(dry run: nothing was changed)`
    }
    case 'declined': {
      return 'Nothing was changed.'
    }
    default: {
      return doneText(result, c)
    }
  }
}

function doneText(result: CleanupResult, c: ChalkInstance): string {
  const lines = [
    `Deleted ${result.deleted.length} object${result.deleted.length === 1 ? '' : 's'}${result.deleted.length > 0 ? `: ${result.deleted.join(', ')}` : ''}.`,
  ]
  for (const x of result.notDeleted) lines.push(c.yellow(`Not deleted: ${x.object}: ${x.reason}`))
  for (const p of result.pools.filter((f) => f.exists)) {
    if (p.clearAnnotation || p.notes) {
      if (p.clearAnnotation)
        lines.push(
          `Pool ${p.pool}: MachineOSConfig ${p.clearAnnotation.machineOSConfig} no longer names ${p.clearAnnotation.value} as its current build.`,
        )
      if (result.deleted.length > 0 || p.clearAnnotation)
        lines.push(
          `Pool ${p.pool}: the machine-os-builder starts a new build by itself; follow it with \`oc mob build ${p.pool}\` or \`oc mob logs ${p.pool} -f\`.`,
        )
      continue
    }

    lines.push(
      `Pool ${p.pool}: build state cleared; start a new build with \`oc mob build ${p.pool}\` (the machine-os-builder starts one by itself when the pool has no image yet).`,
    )
  }

  lines.push(...notesLines(result).filter((l) => !l.includes('then the machine-os-builder starts')))

  if (result.saved)
    lines.push(
      `Saved ${result.saved.files.length} files under ${result.saved.dir}${result.saved.missing.length > 0 ? ` (not saved: ${result.saved.missing.map((m) => m.what).join('; ')})` : ''}.`,
    )
  return lines.join('\n')
}
