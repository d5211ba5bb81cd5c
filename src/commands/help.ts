// oclif's help command (@oclif/plugin-help), bundled with oc-mob's own commands rather than loaded as
// a plugin, so that the shipped CLI needs nothing outside its own script. Taken by path, as the
// completion commands are (see autocomplete/index.ts).
import HelpCommand from '../../node_modules/@oclif/plugin-help/lib/commands/help.js'
import {fromCommandLineOnly} from '../lib/ui/args.js'

export default class Help extends HelpCommand {
  static override args = fromCommandLineOnly(HelpCommand.args)
}
