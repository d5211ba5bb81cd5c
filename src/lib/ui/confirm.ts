/**
 * Every question oc-mob asks on a terminal, in one place: the yes/no confirmation of destructive
 * commands (default no, --yes skips it), setup's questions (the Prompter), and the one refusal when
 * there is no terminal to ask on: `ConfirmationNeeded`, exit 2 (a flag is missing: --yes), never a
 * wait for an answer that cannot come.
 *
 * @inquirer/prompts reads stdin and draws on stderr, so stdout stays clean for the command's result.
 * Ctrl-C or the command's abort signal during a question is an interruption (exit 130), never an answer.
 */
import {ExitCode, MobError} from '../errors.js'
import type {Term} from './term.js'

/** What the setup wizard asks through: @inquirer/prompts on a terminal, a script in tests. */
export interface Choice<T> {
  name: string
  value: T
  description?: string
}

export interface Prompter {
  select<T>(q: {message: string; choices: Array<Choice<T>>; default?: T}): Promise<T>
  input(q: {message: string; default?: string; validate?: (value: string) => string | true}): Promise<string>
  confirm(q: {message: string; default?: boolean}): Promise<boolean>
}

export interface ConfirmOptions {
  /** --yes was given. */
  yes?: boolean
  /** What would be done, for the refusal message ("delete 4 objects"). */
  action: string
  signal?: AbortSignal
}

/** The error for a change that needs confirmation when there is no terminal to confirm on. */
export function confirmationNeeded(message: string, next: string): MobError {
  return new MobError(message, {code: 'ConfirmationNeeded', exitCode: ExitCode.Usage, next})
}

export async function askToProceed(term: Term, question: string, opts: ConfirmOptions): Promise<boolean> {
  if (opts.yes) return true
  if (!term.canPrompt) {
    throw confirmationNeeded(
      `refusing to ${opts.action} without confirmation: there is no terminal to ask on`,
      'check the list above and run the command again with --yes (or with --dry-run to only see what it would do)',
    )
  }

  return promptYesNo(question, opts.signal)
}

function interrupted(error: unknown, signal?: AbortSignal): never {
  const name = (error as Error | undefined)?.name
  if (name === 'ExitPromptError' || name === 'AbortPromptError' || name === 'CancelPromptError' || signal?.aborted) {
    throw new MobError('interrupted; nothing was changed', {exitCode: ExitCode.Interrupted})
  }

  throw error
}

/** A yes/no question on the terminal (on stderr, default no). */
export async function promptYesNo(question: string, signal?: AbortSignal): Promise<boolean> {
  const {confirm} = await import('@inquirer/prompts')
  return confirm({default: false, message: question}, {output: process.stderr, signal}).catch((error: unknown) =>
    interrupted(error, signal),
  )
}

/** The terminal Prompter that setup's questions go through. */
export async function terminalPrompter(signal?: AbortSignal, output: NodeJS.WritableStream = process.stderr): Promise<Prompter> {
  const {confirm, input, select} = await import('@inquirer/prompts')
  const context = {output, signal}
  return {
    async confirm(q) {
      return confirm({default: q.default, message: q.message}, context).catch(interrupted)
    },
    async input(q) {
      return input({default: q.default, message: q.message, validate: q.validate}, context).catch(interrupted)
    },
    async select(q) {
      return select(
        {
          choices: q.choices.map((c) => ({description: c.description, name: c.name, value: c.value})),
          default: q.default,
          loop: false,
          message: q.message,
          pageSize: 12,
        },
        context,
      ).catch(interrupted)
    },
  }
}
