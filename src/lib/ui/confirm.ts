/**
 * The confirmation every destructive command asks for: a yes/no prompt on a terminal (default no),
 * --yes to skip it, and without a terminal a refusal that names --yes instead of waiting for an
 * answer that cannot come.
 */
import {ExitCode, MobError} from '../errors.js'
import type {Term} from './term.js'

export interface ConfirmOptions {
  /** --yes was given. */
  yes?: boolean
  /** What would be done, for the refusal message ("delete 4 objects"). */
  action: string
  signal?: AbortSignal
}

export async function askToProceed(term: Term, question: string, opts: ConfirmOptions): Promise<boolean> {
  if (opts.yes) return true
  if (!term.canPrompt) {
    throw new MobError(`refusing to ${opts.action} without confirmation: there is no terminal to ask on`, {
      code: 'ConfirmationNeeded',
      exitCode: ExitCode.Invalid,
      next: 'check the list above and run the command again with --yes (or with --dry-run to only see what it would do)',
    })
  }

  return promptYesNo(question, opts.signal)
}

/**
 * A yes/no question on the terminal (on stderr, default no). Ctrl-C or the command's abort signal is
 * an interruption (exit 130), never an answer.
 */
export async function promptYesNo(question: string, signal?: AbortSignal): Promise<boolean> {
  const {confirm} = await import('@inquirer/prompts')
  try {
    return await confirm({default: false, message: question}, {output: process.stderr, signal})
  } catch (error) {
    const name = (error as Error).name
    if (name === 'ExitPromptError' || name === 'AbortPromptError' || signal?.aborted) {
      throw new MobError('interrupted; nothing was changed', {exitCode: ExitCode.Interrupted})
    }

    throw error
  }
}
