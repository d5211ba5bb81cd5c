/**
 * The entry of the shipped CLI: bin/run.js loads this module, which carries oclif (bundled with the
 * commands' shared code by scripts/build.mjs, so one set of files is parsed instead of thousands).
 */
export {execute} from '@oclif/core'
