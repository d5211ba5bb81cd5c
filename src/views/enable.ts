/** What `oc mob enable` and `oc mob disable` say about their result. */
import type {ChalkInstance} from 'chalk'
import type {DisableResult, EnableResult} from '../lib/layering/enable.js'
import {actionVerb, objectRef} from '../lib/layering/types.js'

/** The spinner's last line once enable has followed the pool to its end (the image itself is in the result, below). */
export function enableDoneLine(pool: string, result: EnableResult): string {
  if (result.nodes && result.nodes.length > 0)
    return `pool ${pool}: ${result.nodes.length === 1 ? 'its node runs' : `its ${result.nodes.length} nodes run`} the image`
  return result.image ? `pool ${pool}: the image is built` : `pool ${pool} opted in`
}

export function enableText(pool: string, result: EnableResult, opts: {followed: boolean; table: boolean}): string {
  if (result.outcome === 'dry-run') {
    return result.change.action === 'unchanged'
      ? `dry run: pool ${pool} is opted in already; nothing would change`
      : `dry run: would patch machineconfigpool/${pool}: ${result.change.summary}\n${opts.table ? 'preflight checks passed; nothing was changed' : ''}`.trimEnd()
  }

  const lines = [result.outcome === 'already-enabled' ? `pool ${pool} was opted in already` : `pool ${pool} opted into on-cluster builds`]
  if (result.image) lines.push(`image: ${result.image}`)
  if (result.nodes)
    lines.push(
      result.nodes.length === 0
        ? `the pool has no nodes: add them with \`oc mob nodes add ${pool} NODE...\``
        : `nodes done: ${result.nodes.map((n) => n.name).join(', ')}`,
    )
  if (!opts.followed) lines.push(`follow it with \`oc mob status ${pool}\`, or next time use --wait`)
  return lines.join('\n')
}

export const disableQuestion = (pool: string): string => `Opt pool ${pool} out of on-cluster builds?`

export function disableText(pool: string, result: DisableResult): string {
  switch (result.outcome) {
    case 'not-enabled': {
      return `pool ${pool} is not opted in; nothing to do`
    }
    case 'dry-run': {
      return `dry run: would ${actionVerb(result.change)} ${objectRef(result.change)}: ${result.change.summary}; nothing was changed`
    }
    case 'cancelled': {
      return 'cancelled: nothing was changed'
    }
    default: {
      return `pool ${pool} opted out of on-cluster builds${result.cleanedUp ? '; the cluster has removed its build state' : ` (follow the cleanup with \`oc mob status ${pool}\`)`}`
    }
  }
}

/** A warning of disable (a node on a layered image, the builder going away), on stderr. */
export const disableWarning = (w: string, c: ChalkInstance): string => `${c.yellow('warning:')} ${w}`
