/**
 * oclif's help, fitted to how oc-mob's texts are written: descriptions are wrapped in the sources, so
 * their paragraphs are joined before help wraps them to the terminal's width; usage is the command,
 * its arguments and [FLAGS] (the flags are listed below it) instead of a list of every flag with
 * oclif's markers for exclusive and dependent ones; only the last argument of a command that takes
 * several values is shown with "..."; the summary, the help's first line, is not repeated in its
 * description.
 */
import {type Command, CommandHelp, Help} from '@oclif/core'

/** Joins the lines of each paragraph; blank lines, list items and indented lines keep their breaks. */
export function unwrapParagraphs(text: string): string {
  const out: string[] = []
  for (const line of text.split('\n')) {
    const prev = out.at(-1)
    const starts = line.trim() === '' || /^\s/.test(line) || /^([-*•]|\d+\.|\$)\s/.test(line)
    if (prev === undefined || prev.trim() === '' || starts || /^\s/.test(prev)) out.push(line)
    else out[out.length - 1] = `${prev} ${line}`
  }

  return out.join('\n')
}

class MobCommandHelp extends CommandHelp {
  protected args(args: Command.Arg.Any[]): [string, string | undefined][] | undefined {
    const rows = super.args(args)
    return rows?.map(([name, description], i) => [i < rows.length - 1 ? name.replace(/\.\.\.$/, '') : name, description])
  }

  /** The description alone: the summary is the first line of the help already. */
  protected description(): string | undefined {
    return this.command.description ? this.wrap(this.command.description) : undefined
  }

  protected defaultUsage(): string {
    const args = Object.values(this.command.args ?? {}).filter((a) => !a.hidden)
    const words = args.map((a, i) => {
      const name = a.name.toUpperCase() + (this.command.strict === false && i === args.length - 1 ? '...' : '')
      return a.required ? name : `[${name}]`
    })
    return [this.command.id.replaceAll(':', ' '), ...words, '[FLAGS]'].join(' ')
  }
}

export default class MobHelp extends Help {
  protected CommandHelpClass = MobCommandHelp

  protected formatCommand(command: Command.Loadable): string {
    const flags = Object.fromEntries(
      Object.entries(command.flags ?? {}).map(([name, flag]) => [
        name,
        {...flag, description: flag.description && unwrapParagraphs(flag.description)},
      ]),
    )
    return super.formatCommand({
      ...command,
      description: command.description && unwrapParagraphs(command.description),
      flags,
    } as Command.Loadable)
  }
}
