import {Args} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {notAvailable} from '../lib/errors.js'

export default class Cleanup extends BaseCommand<typeof Cleanup> {
  static args = {pool: Args.string({description: 'The pool whose failed build to clean up.', required: false}),}

  static description = `Delete what a failed or abandoned build of a pool left behind and clear the pool's stuck build
conditions, so a new build can start, without removing and re-adding the layering label.

Not available yet in this version: it exits with code 10 and changes nothing.`

  static examples = ['oc mob cleanup layering', 'oc mob cleanup layering --dry-run']

  static summary = 'Clean up after a failed build, without toggling the pool label.'

  async run(): Promise<void> {
    throw notAvailable('`oc mob cleanup`')
  }
}
