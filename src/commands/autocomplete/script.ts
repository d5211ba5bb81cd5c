// oclif's completion commands (@oclif/plugin-autocomplete), bundled with oc-mob's own commands rather
// than loaded as a plugin, so that the shipped CLI needs nothing outside its own script. The plugin's
// entry exports no commands, so its command modules are taken by path.
import ScriptCommand from '../../../node_modules/@oclif/plugin-autocomplete/lib/commands/autocomplete/script.js'
import {fromCommandLineOnly} from '../../lib/ui/args.js'

export default class AutocompleteScript extends ScriptCommand {
  static override args = fromCommandLineOnly(ScriptCommand.args)
}
