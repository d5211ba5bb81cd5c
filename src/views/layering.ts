/**
 * Text for people: preflight verdicts, plans with their diffs, node rollout plans and progress.
 * Pure functions from results to strings (colours come from the caller's chalk instance), used by
 * the setup, enable, disable and nodes commands.
 */
import type {ChalkInstance} from 'chalk'
import {stringify} from 'yaml'
import {lineCount} from '../lib/ui/output.js'
import type {KubeObject} from '../lib/kube/types.js'
import type {NodeProgress} from '../lib/rollout/follow-nodes.js'
import type {NodesPlan} from '../lib/layering/nodes.js'
import type {KeptSetting, SetupPlan} from '../lib/layering/setup.js'
import {type Check, objectRef, type PlanItem} from '../lib/layering/types.js'

export function renderCheck(c: Check, color: ChalkInstance): string {
  const mark = c.verdict === 'pass' ? color.green('✔') : c.verdict === 'warn' ? color.yellow('!') : color.red('✖')
  const lines = [`${mark} ${c.title}: ${c.message}`]
  for (const d of c.details ?? []) lines.push(`    ${d}`)
  if (c.fix && c.verdict !== 'pass') lines.push(`    ${color.bold('fix:')} ${c.fix}`)
  return lines.join('\n')
}

export function renderChecks(checks: Check[], color: ChalkInstance, opts: {onlyProblems?: boolean} = {}): string {
  return checks
    .filter((c) => !opts.onlyProblems || c.verdict !== 'pass')
    .map((c) => renderCheck(c, color))
    .join('\n')
}

/**
 * Setup's preflight section. On a re-run that changes nothing, the checks that pass are one line
 * (their names: each was shown in full when setup last wrote something); a warning or a failure is
 * always shown in full, with its fix, until it is fixed.
 */
export function preflightSection(checks: Check[], color: ChalkInstance, opts: {collapsePassed: boolean}): string {
  const passed = checks.filter((c) => c.verdict === 'pass')
  if (!opts.collapsePassed || passed.length === 0) return `Preflight checks:\n${renderChecks(checks, color)}`
  const others = checks.filter((c) => c.verdict !== 'pass')
  const count = passed.length === checks.length ? `all ${passed.length} checks pass` : `${passed.length} of ${checks.length} checks pass`
  return [
    `${color.green('✔')} preflight: ${count} (${passed.map((c) => c.title).join(', ')})`,
    ...others.map((c) => renderCheck(c, color)),
  ].join('\n')
}

const ACTION_TEXT: Record<PlanItem['action'], string> = {
  conflict: 'differs',
  create: 'create',
  delete: 'delete',
  unchanged: 'unchanged',
  update: 'update',
}

export function renderItem(item: PlanItem, color: ChalkInstance): string {
  const paint =
    item.action === 'create'
      ? color.green
      : item.action === 'update'
        ? color.yellow
        : item.action === 'conflict' || item.action === 'delete'
          ? color.red
          : color.dim
  const lines = [`  ${paint(ACTION_TEXT[item.action].padEnd(9))} ${objectRef(item)}: ${item.summary}`]
  if (item.diff && item.action !== 'unchanged') {
    for (const l of item.diff.split('\n')) {
      const p =
        l.startsWith('+') && !l.startsWith('+++')
          ? color.green
          : l.startsWith('-') && !l.startsWith('---')
            ? color.red
            : l.startsWith('@@')
              ? color.cyan
              : (s: string) => s
      lines.push(`      ${p(l)}`)
    }
  }

  return lines.join('\n')
}

export function renderSetupPlan(plan: SetupPlan, color: ChalkInstance, dryRun: boolean): string {
  const kept = (k: KeptSetting): string => (plan.kept.includes(k) ? color.dim(' (current, kept)') : '')
  const lines = [
    `Setup of on-cluster builds for pool ${color.bold(plan.pool)}${plan.newPool ? ' (new)' : ''}${dryRun ? ' (dry run)' : ''}:`,
    `  image:            ${plan.settings.finalImagePullspec}${plan.target.kind === 'imagestream' ? ` (ImageStream ${plan.target.imageStream})` : ''}${kept('finalImagePullspec')}`,
    `  base pull secret: ${plan.settings.baseImagePullSecret || "(the cluster's global pull secret)"}${kept('baseImagePullSecret')}`,
    `  push secret:      ${plan.settings.finalImagePushSecret}${kept('finalImagePushSecret')}`,
    `  builder:          ${plan.settings.imageBuilderType}${kept('imageBuilderType')}`,
    `  custom Dockerfile: ${plan.settings.customDockerfile === null ? '(none given; left as is)' : lineCount(plan.settings.customDockerfile)}`,
    `  opt in now:       ${plan.enable ? 'yes' : 'no'}`,
    '',
    'Plan:',
    ...plan.items.map((i) => renderItem(i, color)),
  ]
  if (plan.notes.length > 0) {
    lines.push('', 'Notes:')
    for (const n of plan.notes) lines.push(`  - ${n}`)
  }

  return lines.join('\n')
}

/** Objects as YAML documents (or a List in JSON), for --dry-run -o yaml|json. */
export function manifests(objects: KubeObject[], format: 'json' | 'yaml'): string {
  if (format === 'json') return JSON.stringify({apiVersion: 'v1', items: objects, kind: 'List'}, null, 2)
  return objects
    .map((o) => stringify(o, {lineWidth: 0}))
    .join('---\n')
    .trimEnd()
}

export function renderNodesPlan(plan: NodesPlan, color: ChalkInstance): string {
  const verb = plan.action === 'add' ? 'into' : 'out of'
  const lines: string[] = []
  const moving = plan.nodes.filter((n) => n.changes)
  const label = Object.entries(plan.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ')
  lines.push(
    `${plan.action === 'add' ? 'Add' : 'Remove'} label ${label} ${plan.action === 'add' ? 'to' : 'from'} ${moving.length} node${moving.length === 1 ? '' : 's'}, moving ${moving.length === 1 ? 'it' : 'them'} ${verb} pool ${color.bold(plan.pool)}:`,
  )
  for (const n of plan.nodes) {
    lines.push(
      n.changes
        ? `  ${n.name}: pool ${n.from ?? '(none)'} -> ${n.to ?? '(none)'}${n.layeredImage ? ` (runs layered image ${n.layeredImage})` : ''}`
        : `  ${n.name}: already ${plan.action === 'add' ? 'in' : 'out of'} pool ${plan.pool} (unchanged)`,
    )
  }

  if (moving.length > 0) {
    lines.push(
      '',
      `Each node is cordoned, drained and rebooted onto pool ${plan.rollout.pool}'s config, ${plan.rollout.maxUnavailable} at a time (maxUnavailable ${plan.rollout.maxUnavailable}), in this order:`,
    )
    for (const [i, b] of plan.batches.entries()) lines.push(`  ${i + 1}. ${b.join(', ')}`)
  }

  for (const w of plan.warnings) lines.push(`${color.yellow('warning:')} ${w}`)
  return lines.join('\n')
}

export function renderNodeProgress(p: NodeProgress, color: ChalkInstance): string {
  const paint = p.phase === 'done' ? color.green : p.phase === 'degraded' ? color.red : p.phase === 'queued' ? color.dim : color.yellow
  return `node ${p.name}: ${paint(p.phase)} — ${p.message}`
}
