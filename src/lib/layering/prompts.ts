/**
 * The terminal Prompter: @inquirer/prompts on stdin, drawing on stderr so that stdout stays clean
 * for the command's result. Ctrl-C during a question ends the command as interrupted (exit 130).
 */
import {ExitCode, MobError} from '../errors.js'
import type {Prompter} from './wizard.js'

function interrupted(error: unknown): never {
  const name = (error as Error | undefined)?.name
  if (name === 'ExitPromptError' || name === 'AbortPromptError' || name === 'CancelPromptError') {
    throw new MobError('interrupted; nothing was changed', {exitCode: ExitCode.Interrupted})
  }

  throw error
}

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
      return select({choices: q.choices.map((c) => ({description: c.description, name: c.name, value: c.value})), default: q.default, loop: false, message: q.message, pageSize: 12}, context).catch(interrupted)
    },
  }
}
