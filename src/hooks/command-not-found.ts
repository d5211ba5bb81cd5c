/**
 * oclif's command_not_found hook: an unknown command, or a flag given before the command (`oc` and
 * `kubectl` hand a plugin its arguments as typed, and `kubectl mob --context x status` puts the flag
 * first), is a usage error in the house style with the command that was meant.
 */
import type {Hook} from '@oclif/core'
import {ExitCode} from '../lib/errors.js'
import {closest} from '../lib/ui/suggest.js'
import {detectTerm} from '../lib/ui/term.js'

/** Command IDs and aliases as typed: `nodes add`, not `nodes:add`. */
function typedIds(commands: ReadonlyArray<{aliases?: string[]; hidden?: boolean; id: string}>): string[] {
  return commands
    .filter((c) => !c.hidden)
    .flatMap((c) => [c.id, ...(c.aliases ?? [])])
    .map((id) => id.replaceAll(':', ' '))
}

/** What to say for `oc mob ID ARGV...` when ID is no command: the error and the next step. */
export function notFound(id: string, argv: readonly string[], ids: readonly string[]): {message: string; next: string} {
  const typed = id.replaceAll(':', ' ')
  if (typed.startsWith('-')) {
    const words = [typed, ...argv]
    for (let i = 1; i < words.length; i++) {
      const two = `${words[i]} ${words[i + 1] ?? ''}`
      const command = ids.includes(two) ? two : ids.includes(words[i]) ? words[i] : undefined
      if (!command) continue
      const taken = command.split(' ').length
      const rest = [...words.slice(0, i), ...words.slice(i + taken)]
      return {
        message: `flags go after the command: ${typed} comes before "${command}"`,
        next: `oc mob ${command} ${rest.join(' ')}`,
      }
    }

    return {
      message: `${typed} is a flag, and no command was given`,
      next: 'give a command first (`oc mob --help` lists them), then its flags',
    }
  }

  const meant = closest(typed, ids)
  return {
    message: `unknown command "${typed}"`,
    next: meant ? `did you mean \`oc mob ${meant}\`? (\`oc mob --help\` lists the commands)` : '`oc mob --help` lists the commands',
  }
}

export const COMMAND_NOT_FOUND: Hook<'command_not_found'> = async function (opts) {
  const {message, next} = notFound(opts.id, opts.argv ?? [], typedIds(opts.config.commands))
  const term = detectTerm()
  process.stderr.write(`${term.err.red('error:')} ${message}\n${term.err.bold('next:')} ${next}\n`)
  this.exit(ExitCode.Usage)
}
