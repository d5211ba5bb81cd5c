/** What `oc mob setup` says once it has run (the checks and the plan are in layering.ts). */
import type {ChalkInstance} from 'chalk'
import type {SetupResult} from '../lib/layering/setup.js'

export function setupText(result: SetupResult, color: ChalkInstance): string {
  switch (result.outcome) {
    case 'dry-run': {
      const conflicts = result.items.filter((i) => i.action === 'conflict').length
      return `\ndry run: nothing was changed${conflicts > 0 ? ` (${conflicts} object${conflicts === 1 ? '' : 's'} differ: a real run needs --force)` : ''}`
    }

    case 'unchanged': {
      return `\nnothing to do: everything is set up already${result.optedIn ? '' : ` (opt the pool in with \`oc mob enable ${result.pool}\`)`}`
    }

    case 'cancelled': {
      return '\ncancelled: nothing was changed'
    }

    default: {
      return [
        '',
        ...result.applied.map((a) => `${color.green('✔')} ${a}`),
        '',
        result.enable
          ? `pool ${result.pool} is opted in: follow the build with \`oc mob status ${result.pool}\` or \`oc mob logs ${result.pool} -f\``
          : result.optedIn
            ? `pool ${result.pool} was opted in already`
            : `next: opt the pool in with \`oc mob enable ${result.pool} --wait\` (or build once with \`oc mob enable ${result.pool} --build\`)`,
      ].join('\n')
    }
  }
}

/** The objects a dry run would write, for -o json|yaml. */
export const setupObjects = (result: SetupResult) =>
  result.items.filter((i) => (i.action === 'create' || i.action === 'update') && i.manifest).map((i) => i.manifest!)
