/** What `oc mob rollback` and `oc mob rollback node` show, ask and say about their result. */
import type {ChalkInstance} from 'chalk'
import type {NodeRollbackPlan, NodeRollbackResult} from '../lib/rollout/node.js'
import type {WaitProgress} from '../lib/rollout/nodes.js'
import {
  type ConfigMapPlan,
  isMachineOSPlan,
  type MachineOSRollbackPlan,
  type MachineOSRollbackResult,
  type PoolRollbackPlan,
  type PoolRollbackResult,
} from '../lib/layering/rollback.js'
import {shortDigest, table} from '../lib/ui/output.js'

export function poolPlanText(plan: PoolRollbackPlan, c: ChalkInstance): string {
  return isMachineOSPlan(plan) ? machineOSPlanText(plan, c) : configMapPlanText(plan, c)
}

function configMapPlanText(plan: ConfigMapPlan, c: ChalkInstance): string {
  const t = plan.target
  const lines = [
    `Roll back pool ${plan.pool} (rendered config ${plan.renderedConfig}):`,
    `  from ${plan.currentImage ?? '(no image)'}`,
    `  to   ${t.image}`,
    `       history entry ${t.index}: ${t.source} ${t.time}${t.renderedConfig ? ` for ${t.renderedConfig}` : ''}`,
    '',
    ...nodesText(plan, `reboots into ${shortDigest(t.image)}`, c),
  ]
  return lines.join('\n')
}

/** The nodes a pool rollback moves (what each runs now, what it does), the pace, and the plan's warnings. */
function nodesText(plan: PoolRollbackPlan | MachineOSRollbackPlan, after: string, c: ChalkInstance): string[] {
  const lines = [
    plan.nodes.length === 0
      ? `Pool ${plan.pool} has no nodes: nothing reboots.`
      : table(plan.nodes, [
          {get: (n) => n.name, header: 'NODE'},
          {get: (n) => shortDigest(n.currentImage), header: 'RUNS NOW'},
          {get: (n) => (n.reboots ? after : 'already runs it'), header: 'AFTER', paint: (s, n) => (n.reboots ? c.yellow(s) : s)},
        ]),
  ]
  if (plan.nodes.some((n) => n.reboots))
    lines.push(`(nodes are updated ${plan.maxUnavailable} at a time, as the pool's maxUnavailable says)`)
  for (const w of plan.warnings) lines.push(c.yellow(`warning: ${w}`))
  return lines
}

/** 4.18+: the spec restored, what the builder does with it, and the nodes. */
function machineOSPlanText(plan: MachineOSRollbackPlan, c: ChalkInstance): string {
  const t = plan.target
  const lines = [
    `Roll back pool ${plan.pool} by restoring the spec of MachineOSConfig ${plan.machineOSConfig} that built`,
    `  ${t.image}`,
    `  history entry ${t.index}: MachineOSBuild ${t.machineOSBuild ?? '(unknown)'}, ${t.source} ${t.time}${t.renderedConfig ? ` for ${t.renderedConfig}` : ''}`,
    `  the pool runs ${plan.currentImage ?? '(no image)'} now (MachineOSBuild ${plan.currentBuild ?? '(none)'})`,
  ]
  if (plan.imageCheck.status !== 'skipped') lines.push(`  registry: ${plan.imageCheck.answer}`)
  lines.push('')
  if (plan.expect === 'reuse') {
    lines.push(
      `No build: the machine-os-builder finds MachineOSBuild ${plan.earlierBuild} by its hash and reuses its image; the node controller rolls the nodes to it.`,
    )
  } else {
    lines.push(
      c.yellow('A NEW BUILD: restoring the spec builds the old custom content with today’s config, not the earlier image, because'),
      ...plan.reasons.map((r) => c.yellow(`  - ${r}`)),
    )
  }

  if (plan.diff) lines.push('', plan.diff.trimEnd())
  lines.push('', ...nodesText(plan, plan.expect === 'reuse' ? `reboots into ${shortDigest(t.image)}` : 'reboots into the new build', c))
  return lines.join('\n')
}

export function poolQuestion(name: string, plan: PoolRollbackPlan): string {
  if (isMachineOSPlan(plan))
    return `Restore this spec on MachineOSConfig ${plan.machineOSConfig}${plan.expect === 'build' ? ' (a new build)' : ''}?`
  const reboots = plan.nodes.filter((n) => n.reboots).length
  return `Point pool ${name} at this image${reboots > 0 ? ` and reboot ${reboots} node${reboots === 1 ? '' : 's'}` : ''}?`
}

export const poolProgressLine = (p: WaitProgress): string =>
  `${p.done} of ${p.total} node${p.total === 1 ? '' : 's'} run${p.total === 1 ? 's' : ''} the image${p.pending.length > 0 ? ` (waiting for ${p.pending.slice(0, 3).join(', ')}${p.pending.length > 3 ? ', …' : ''})` : ''}`

export function poolResultText(name: string, result: PoolRollbackResult, c: ChalkInstance): string {
  switch (result.outcome) {
    case 'dry-run': {
      return `${poolPlanText(result, c)}\n(dry run: nothing was changed)`
    }
    case 'already': {
      return isMachineOSPlan(result)
        ? `MachineOSConfig ${result.machineOSConfig} already has the spec that built ${result.target.image}; nothing to do.`
        : `Pool ${name} already runs ${result.target.image}; nothing to do.`
    }
    case 'declined': {
      return 'Nothing was changed.'
    }
    default: {
      if (isMachineOSPlan(result)) return machineOSDoneText(name, result as MachineOSRollbackResult)
      return [
        `Pool ${name} now points at ${result.target.image} (was ${result.currentImage ?? 'none'}).`,
        result.rolledOut
          ? `All ${result.rolledOut.total} node${result.rolledOut.total === 1 ? '' : 's'} run it.`
          : `The node controller rolls its nodes to it, ${result.maxUnavailable} at a time; follow with \`oc mob status ${name} --watch\`.`,
      ].join('\n')
    }
  }
}

function machineOSDoneText(name: string, result: MachineOSRollbackResult): string {
  const lines = [
    `MachineOSConfig ${result.machineOSConfig} has the spec of MachineOSBuild ${result.target.machineOSBuild ?? '(unknown)'} again.`,
  ]
  if (result.image) {
    lines.push(`The machine-os-builder points pool ${name} at ${result.image}.`)
    if (result.rolledOut) lines.push(`All ${result.rolledOut.total} node${result.rolledOut.total === 1 ? '' : 's'} run it.`)
  } else {
    lines.push(
      result.expect === 'reuse'
        ? `The machine-os-builder reuses ${result.target.image} and the node controller rolls the nodes to it, ${result.maxUnavailable} at a time; follow with \`oc mob status ${name} --watch\`.`
        : `The machine-os-builder builds it anew; follow with \`oc mob build ${name} --follow\`.`,
    )
  }

  return lines.join('\n')
}

export function nodePlanText(plan: NodeRollbackPlan, c: ChalkInstance): string {
  const cap = plan.capacity
  const lines = [`Node ${plan.node} (pool ${plan.pool ?? '(none)'}, image ${plan.currentImage ?? '(none)'}):`]
  if (plan.method === 'replace-machine' && plan.machine) {
    lines.push(
      `  delete machine ${plan.machine.namespace}/${plan.machine.name} and node ${plan.node}`,
      `  MachineSet ${plan.machine.machineSet} (${plan.machine.replicas} replica${plan.machine.replicas === 1 ? '' : 's'}) provisions a replacement from the non-layered OS image`,
      `  pool ${plan.pool}: ${cap.members} node${cap.members === 1 ? '' : 's'}, ${cap.unavailable} unavailable now, at most ${cap.maxUnavailable} may be`,
    )
  } else {
    lines.push(`  remove label ${plan.removeLabels.join(', ')}: the node moves to pool ${plan.newPool ?? '(none)'}`)
  }

  for (const w of plan.warnings) lines.push(c.yellow(`warning: ${w}`))
  return lines.join('\n')
}

/** The question, the refusal's action (no terminal), and the spinner's first line. */
export function nodeAsk(name: string, plan: NodeRollbackPlan): {action: string; question: string; start: string} {
  return plan.method === 'replace-machine'
    ? {
        action: `delete machine ${plan.machine?.name}`,
        question: `Delete machine ${plan.machine?.name} and node ${name}?`,
        start: `replacing node ${name}`,
      }
    : {action: `move node ${name}`, question: `Remove ${plan.removeLabels.join(', ')} from node ${name}?`, start: `moving node ${name}`}
}

export function nodeDoneLine(name: string, result: NodeRollbackResult): string {
  if (result.method !== 'replace-machine') return `node ${name} moved`
  return result.replacement
    ? `node ${result.replacement.node} replaces ${name}`
    : `machine ${result.machine?.name} and node ${name} deleted`
}

export function nodeResultText(name: string, result: NodeRollbackResult, c: ChalkInstance): string {
  if (result.outcome === 'dry-run') return `${nodePlanText(result, c)}\n(dry run: nothing was changed)`
  if (result.outcome === 'declined') return 'Nothing was changed.'
  if (result.method === 'replace-machine') {
    return result.replacement
      ? `Machine ${result.machine!.name} and node ${name} were deleted; machine ${result.replacement.machine} runs as node ${result.replacement.node} (Ready, pool worker).`
      : `Machine ${result.machine!.name} and node ${name} were deleted; MachineSet ${result.machine!.machineSet} provisions a replacement (\`oc get machines -n ${result.machine!.namespace} -w\`).`
  }

  return result.final
    ? `Node ${name} left pool ${result.pool} and runs ${result.final.currentConfig} without a layered image.`
    : `Node ${name} left pool ${result.pool} for pool ${result.newPool ?? '(none)'}; follow it with \`oc mob status ${result.newPool ?? ''}\`.`.replace(
        ' `.',
        '`.',
      )
}
