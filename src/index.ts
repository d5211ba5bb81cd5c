/**
 * The CLI's entry: oclif's `execute` and the commands, listed explicitly (package.json's
 * oclif.commands uses the "explicit" strategy with this module's COMMANDS), as bin/dev.js and the
 * tests load them from the sources. The shipped CLI is one script, dist/index.js, that exports the
 * same with each command loaded on first use (scripts/build.mjs), and that bin/run.cjs loads with a
 * V8 code cache.
 *
 * Every module under src/commands is a command and is listed here; a unit test keeps the two in step.
 */
import type {Command} from '@oclif/core'
import Autocomplete from './commands/autocomplete/index.js'
import AutocompleteCreate from './commands/autocomplete/create.js'
import AutocompleteScript from './commands/autocomplete/script.js'
import Build from './commands/build.js'
import Cleanup from './commands/cleanup.js'
import CompletionNames from './commands/completion-names.js'
import Disable from './commands/disable.js'
import Doctor from './commands/doctor.js'
import Dockerfile from './commands/dockerfile.js'
import Enable from './commands/enable.js'
import Help from './commands/help.js'
import Logs from './commands/logs.js'
import MachineConfig from './commands/machineconfig.js'
import NodesAdd from './commands/nodes/add.js'
import NodesRemove from './commands/nodes/remove.js'
import Prune from './commands/prune.js'
import Rollback from './commands/rollback/index.js'
import RollbackNode from './commands/rollback/node.js'
import Setup from './commands/setup.js'
import Status from './commands/status.js'

export {execute} from '@oclif/core'
export {COMMAND_NOT_FOUND} from './hooks/command-not-found.js'
export {default as HELP} from './help.js'

/** Command IDs (topic and command joined by ":", as oclif names them) to command classes. */
export const COMMANDS: Record<string, typeof Command> = {
  autocomplete: Autocomplete,
  'autocomplete:create': AutocompleteCreate,
  'autocomplete:script': AutocompleteScript,
  build: Build,
  cleanup: Cleanup,
  'completion-names': CompletionNames,
  disable: Disable,
  doctor: Doctor,
  dockerfile: Dockerfile,
  enable: Enable,
  help: Help,
  logs: Logs,
  machineconfig: MachineConfig,
  'nodes:add': NodesAdd,
  'nodes:remove': NodesRemove,
  prune: Prune,
  rollback: Rollback,
  'rollback:node': RollbackNode,
  setup: Setup,
  status: Status,
}
