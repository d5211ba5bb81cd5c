// oclif's help command (@oclif/plugin-help), bundled with oc-mob's own commands rather than loaded as
// a plugin, so that the shipped CLI needs nothing outside its own script. Taken by path, as the
// completion commands are (see autocomplete/index.ts).
export {default} from '../../node_modules/@oclif/plugin-help/lib/commands/help.js'
