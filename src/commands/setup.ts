import {Args} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {notAvailable} from '../lib/errors.js'

export default class Setup extends BaseCommand<typeof Setup> {
  static args = {}

  static description = `Set up on-cluster OS image builds, interactively or from flags.

Creates or checks everything a build needs, after preflight checks and a plan you confirm: the
final image pullspec (an ImageStream in the MCO namespace or an external registry), the base image
pull secret and the final image push secret in the MCO namespace, the on-cluster-build-config
ConfigMap, the layered MachineConfigPool and, optionally, its custom Dockerfile.

Not available yet in this version: it exits with code 10 and changes nothing.`

  static examples = ['oc mob setup', 'oc mob setup --pool layering --imagestream os-image --clone-global-pull-secret --yes']

  static summary = 'Set up on-cluster builds: build config, secrets, pool, custom Dockerfile.'

  async run(): Promise<void> {
    throw notAvailable('`oc mob setup`')
  }
}
