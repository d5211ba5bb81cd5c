import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import * as help from '../views/help/machineconfig.js'
import {getPoolMachineConfig, type MachineConfigResult} from '../lib/build/render.js'
import {sourceNote} from '../views/machineconfig.js'

export default class MachineConfig extends BaseCommand<typeof MachineConfig> {
  static aliases = ['mc']

  static args = {pool: Args.string({ignoreStdin: true, description: 'The MachineConfigPool.', required: true})}

  static description = help.description

  static examples = help.examples

  static flags = {
    'config-only': Flags.boolean({description: 'Print only .spec.config (the Ignition config).'}),
  }

  static summary = "Print the rendered MachineConfig built into a pool's image."

  async run(): Promise<MachineConfigResult> {
    const client = await this.client()
    const result = await getPoolMachineConfig(client, this.args.pool, {signal: this.abort.signal})
    const note = sourceNote(result, this.term.err)
    if (note) this.note(note)

    const data = this.flags['config-only'] ? (result.machineConfig.spec?.config ?? {}) : result.machineConfig
    // The default format is JSON, as `jq` would print it; -o yaml gives YAML.
    this.emit(data, () => JSON.stringify(data, null, 2))
    return result
  }
}
