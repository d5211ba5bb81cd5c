import {Args} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {notAvailable} from '../lib/errors.js'

export default class Dockerfile extends BaseCommand<typeof Dockerfile> {
  static args = {pool: Args.string({description: 'The MachineConfigPool.', required: true}),}

  static description = `Show the Dockerfile the cluster builds for a pool's current rendered config, at any time, and
export the whole build context so it can be reproduced with buildah.

Not available yet in this version: it exits with code 10 and changes nothing.`

  static examples = ['oc mob dockerfile layering', 'oc mob dockerfile layering --export ./ctx']

  static summary = 'Show the Dockerfile the cluster builds for a pool.'

  async run(): Promise<void> {
    throw notAvailable('`oc mob dockerfile`')
  }
}
