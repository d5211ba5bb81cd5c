/** What `oc mob prune` shows, asks and says about its result. */
import type {ChalkInstance} from 'chalk'
import type {KeptBuild, PrunePlan, PruneResult} from '../lib/layering/prune.js'
import {shortDigest} from '../lib/ui/output.js'

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`

function keptWhy(k: KeptBuild, keep: number): string {
  if (k.why === 'newest') return `one of the newest ${keep}`
  if (k.why === 'current') return "the MachineOSConfig's current build"
  return `its image is used by node${k.nodes.length === 1 ? '' : 's'} ${k.nodes.join(', ')}`
}

/** What the registry will do with the images of the deleted builds. */
function registryLine(plan: PrunePlan, c: ChalkInstance): string {
  const r = plan.registry
  const where = `registry ${r.repository}`
  switch (r.status) {
    case 'ok': {
      return `The machine-os-builder deletes their images from ${where} (deletes are permitted: ${r.answer}).`
    }
    case 'unsupported': {
      return c.yellow(`Their images will NOT really be deleted: ${where} has deletes disabled (${r.answer}); only the MachineOSBuilds go.`)
    }
    case 'denied': {
      return c.yellow(
        `Their images will NOT really be deleted: the push secret may not delete from ${where} (${r.answer}); only the MachineOSBuilds go.`,
      )
    }
    default: {
      return c.yellow(`Whether their images are deleted from ${where} is not known: ${r.answer}.`)
    }
  }
}

export function planText(plan: PrunePlan, c: ChalkInstance): string {
  const lines = [`Prune pool ${plan.pool} (MachineOSConfig ${plan.machineOSConfig}), keeping the newest ${plan.keep}:`]
  for (const b of plan.remove)
    lines.push(
      `  ${c.red('delete')} machineosbuild/${b.name}   ${shortDigest(b.image)}   built ${b.finished ?? '?'} for ${b.renderedConfig ?? '?'}`,
    )
  for (const k of plan.kept) lines.push(`  keep   machineosbuild/${k.name}   ${shortDigest(k.image)}   ${keptWhy(k, plan.keep)}`)
  if (plan.remove.length > 0) lines.push('', registryLine(plan, c))
  return lines.join('\n')
}

export function pruneAsk(plan: PrunePlan): {action: string; question: string} {
  return {
    action: `delete ${plural(plan.remove.length, 'MachineOSBuild')} of pool ${plan.pool}`,
    question: `Delete ${plural(plan.remove.length, 'MachineOSBuild')}${plan.imagesDeleted ? ' and their images' : ''}?`,
  }
}

export function resultText(result: PruneResult, c: ChalkInstance): string {
  switch (result.outcome) {
    case 'nothing': {
      return `${planText(result, c)}\nNothing to prune: pool ${result.pool} has no successful MachineOSBuild that may go.`
    }
    case 'dry-run': {
      return `${planText(result, c)}\n(dry run: nothing was changed)`
    }
    case 'declined': {
      return 'Nothing was changed.'
    }
    default: {
      const lines = [
        `Deleted ${plural(result.deleted.length, 'MachineOSBuild')} of pool ${result.pool}: ${result.deleted.join(', ') || '-'}.`,
      ]
      if (result.skipped.length > 0) lines.push(`Already gone or replaced, left alone: ${result.skipped.join(', ')}.`)
      const kept = result.kept.filter((k) => k.why !== 'newest')
      for (const k of kept) lines.push(`Kept ${k.name}: ${keptWhy(k, result.keep)}.`)
      lines.push(
        result.imagesDeleted
          ? 'The machine-os-builder deletes their images from the registry (it keeps any a node uses).'
          : 'Their images stay in the registry (see above): delete them with the registry’s own tools.',
      )
      return lines.join('\n')
    }
  }
}
