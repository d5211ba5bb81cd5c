// Loaded by mocha before any test (see .mocharc.json). In-process command runs read
// oclif.manifest.json whenever it exists, and then see the commands and flags of the last build
// instead of the sources' (and may load the bundle in dist/, with a second copy of oclif), so a
// manifest left by `npm run build` is removed, as bin/dev.js does. Tests of the shipped CLI build
// and pack it themselves.
import {rmSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {commandOutputs, fixtureSecretValues} from './outputs.js'

rmSync(fileURLToPath(new URL('../oclif.manifest.json', import.meta.url)), {force: true})

// After the whole run: no output of any command the tests ran (run and runBin of test/e2e/harness.ts)
// holds a secret value of the emulated cluster's fixture (tests check the secrets they make themselves).
export const mochaHooks = {
  afterAll(): void {
    if (commandOutputs.length === 0) return
    const all = commandOutputs.join('\n')
    const leaked = fixtureSecretValues().filter((v) => all.includes(v))
    if (leaked.length > 0)
      throw new Error(`${leaked.length} secret value${leaked.length === 1 ? '' : 's'} of the fixture appeared in a command's output`)
  },
}
