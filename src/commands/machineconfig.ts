import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {getPoolMachineConfig, type MachineConfigResult} from '../lib/build/render.js'

export default class MachineConfig extends BaseCommand<typeof MachineConfig> {
  static aliases = ['mc']

  static args = {pool: Args.string({description: 'The MachineConfigPool.', required: true})}

  static description = `Print the rendered MachineConfig that is, or will be, built into a pool's image.

While a build is under way, it is decoded from the build's mc-<rendered> ConfigMap (base64, gzip, JSON: the operator's encoding) and a note on stderr says so; otherwise it is the pool's rendered MachineConfig (spec.configuration.name) itself.

Output is the MachineConfig alone, as indented JSON (the default, and -o json) or YAML (-o yaml), so it can be piped to jq or saved. --config-only prints just .spec.config, the Ignition config the build applies to the image.`

  static examples = [
    {command: 'oc mob machineconfig layering', description: 'The whole rendered MachineConfig, as JSON.'},
    {command: 'oc mob mc layering --config-only | jq .storage.files[].path', description: 'The files the build writes.'},
    {command: 'oc mob mc layering -o yaml', description: 'As YAML.'},
  ]

  static flags = {
    'config-only': Flags.boolean({description: 'Print only .spec.config (the Ignition config).'}),
  }

  static summary = 'Print the rendered MachineConfig built into a pool\'s image.'

  async run(): Promise<MachineConfigResult> {
    const client = await this.client()
    const result = await getPoolMachineConfig(client, this.args.pool, {signal: this.abort.signal})
    if (result.source === 'live') {
      const what = result.buildState === 'failed' ? `the failed build of ${result.renderedConfig}` : `a build of ${result.renderedConfig} is under way`
      this.note(this.term.err.dim(`note: ${what}: decoded from ConfigMap ${result.configMap}`))
    }

    const data = this.flags['config-only'] ? (result.machineConfig.spec?.config ?? {}) : result.machineConfig
    // The default format is JSON, as `jq` would print it; -o yaml gives YAML.
    this.emit(data, () => JSON.stringify(data, null, 2))
    return result
  }
}
