import {Args} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {notAvailable} from '../lib/errors.js'

export default class Enable extends BaseCommand<typeof Enable> {
  static args = {pool: Args.string({description: 'The MachineConfigPool to opt in.', required: true}),}

  static description = `Opt a MachineConfigPool into on-cluster builds.

Runs the same preflight checks as setup, then adds the label
machineconfiguration.openshift.io/layering-enabled to the pool, which makes the Machine Config
Operator start the machine-os-builder and build an image for the pool.

Not available yet in this version: it exits with code 10 and changes nothing.`

  static examples = ['oc mob enable layering', 'oc mob enable layering --wait']

  static summary = 'Opt a MachineConfigPool into on-cluster builds.'

  async run(): Promise<void> {
    throw notAvailable('`oc mob enable`')
  }
}
