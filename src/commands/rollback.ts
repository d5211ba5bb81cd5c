import {Args} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {notAvailable} from '../lib/errors.js'

export default class Rollback extends BaseCommand<typeof Rollback> {
  static args = {target: Args.string({description: 'The pool (or `node`) to roll back.', required: true}),}

  static description = `Roll a pool back to a previous good image, or move a node off its layered image.

Not available yet in this version: it exits with code 10 and changes nothing.`

  static examples = ['oc mob rollback layering', 'oc mob rollback node worker-0 --replace-machine']

  static summary = 'Roll a pool back to a previous image, or take a node out of layering.'

  async run(): Promise<void> {
    throw notAvailable('`oc mob rollback`')
  }
}
