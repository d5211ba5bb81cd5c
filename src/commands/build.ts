import {Args} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {notAvailable} from '../lib/errors.js'

export default class Build extends BaseCommand<typeof Build> {
  static args = {pool: Args.string({description: 'The MachineConfigPool to build an image for.', required: true}),}

  static description = `Build the OS image for a pool's current rendered config, and follow the build to its end.

Does once, from this workstation, what the cluster's BuildController does: renders the Dockerfile,
encodes the rendered MachineConfig, creates the build pod with the operator's exact names and labels,
follows it, and on success records the digested image on the pool so the nodes roll to it.

Not available yet in this version: it exits with code 10 and changes nothing.`

  static examples = ['oc mob build layering', 'oc mob build layering --follow', 'oc mob build layering --local']

  static summary = 'Build the OS image of a pool now, and follow it.'

  async run(): Promise<void> {
    throw notAvailable('`oc mob build`')
  }
}
