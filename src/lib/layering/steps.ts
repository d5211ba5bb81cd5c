/** The plan steps every settings object shares, whichever generation writes it. */
import type {Step} from './generation.js'
import type {Access, PlanItem} from './types.js'

/** An object already as wanted: shown in the plan, nothing to do. */
export const unchangedStep = (item: Omit<PlanItem, 'action'>): Step => ({access: [], item: {...item, action: 'unchanged'}, async run() {}})

/**
 * An object that holds other settings than the wanted ones: replaced with --force (`forced` says how),
 * otherwise a conflict the plan shows (`refused` says why) and that is never run.
 */
export function replaceStep(
  force: boolean,
  item: Omit<PlanItem, 'action' | 'summary'>,
  summary: {forced: string; refused: string},
  access: Access[],
  run: () => Promise<void>,
): Step {
  return {access, item: {...item, action: force ? 'update' : 'conflict', summary: force ? summary.forced : summary.refused}, run}
}

/** The summaries of a settings object that exists with other settings. */
export const otherSettings = (what: string): {forced: string; refused: string} => ({
  forced: `overwrite with ${what}`,
  refused: 'exists with other settings (overwritten only with --force)',
})
