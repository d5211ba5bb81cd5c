import {Args} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {notAvailable} from '../lib/errors.js'

export default class Logs extends BaseCommand<typeof Logs> {
  static args = {pool: Args.string({description: 'The pool whose build logs to show.', required: false}),}

  static description = `Show the logs of a pool's current or most recent build, or of the machine-os-builder.

Not available yet in this version: it exits with code 10 and changes nothing.`

  static examples = ['oc mob logs layering -f', 'oc mob logs --builder']

  static summary = 'Show the build logs of a pool, or of the machine-os-builder.'

  async run(): Promise<void> {
    throw notAvailable('`oc mob logs`')
  }
}
