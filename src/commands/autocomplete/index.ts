// oclif's completion commands (@oclif/plugin-autocomplete), bundled with oc-mob's own commands rather
// than loaded as a plugin, so that the shipped CLI needs nothing outside its own script. The plugin's
// entry exports no commands, so its command modules are taken by path.
import AutocompleteCommand from '../../../node_modules/@oclif/plugin-autocomplete/lib/commands/autocomplete/index.js'
import {fromCommandLineOnly} from '../../lib/ui/args.js'

export default class Autocomplete extends AutocompleteCommand {
  static override args = fromCommandLineOnly(AutocompleteCommand.args)
}
