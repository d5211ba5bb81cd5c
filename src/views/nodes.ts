/** What `oc mob nodes add` and `oc mob nodes remove` ask and say about their result. */
import type {NodesResult} from '../lib/layering/nodes.js'

export const nodesQuestion = (action: 'add' | 'remove', count: number): string =>
  `${action === 'add' ? 'Add' : 'Remove'} ${count === 1 ? 'this node' : 'these nodes'} (they will be rebooted)?`

export function nodesText(action: 'add' | 'remove', result: NodesResult): string {
  switch (result.outcome) {
    case 'unchanged': {
      return `\nnothing to do: the nodes are ${action === 'add' ? 'in' : 'out of'} the pool already`
    }
    case 'dry-run': {
      return '\ndry run: nothing was changed'
    }
    case 'cancelled': {
      return '\ncancelled: nothing was changed'
    }
    default: {
      const moved = result.nodes.filter((n) => n.changes).map((n) => n.name)
      return `\n${action === 'add' ? 'labelled' : 'unlabelled'} ${moved.join(', ')}${result.progress ? '; all done' : `; follow the rollout with \`oc mob status ${result.rollout.pool}\` (or use --wait)`}`
    }
  }
}
