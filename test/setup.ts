// Loaded by mocha before any test (see .mocharc.json). In-process command runs read
// oclif.manifest.json whenever it exists, and then see the commands and flags of the last build
// instead of the sources' (and may load the bundle in dist/, with a second copy of oclif), so a
// manifest left by `npm run build` is removed, as bin/dev.js does. Tests of the shipped CLI build
// and pack it themselves.
//
// Every test gets an empty discovery cache of its own (OC_MOB_CACHE_DIR, inherited by the commands
// the test runs in-process or spawns): emulators reuse loopback ports, so a cache shared between
// tests would answer one test with what another test's cluster serves.
import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

rmSync(fileURLToPath(new URL('../oclif.manifest.json', import.meta.url)), {force: true})

const root = mkdtempSync(path.join(os.tmpdir(), 'oc-mob-test-cache-'))
let n = 0
const fresh = (): void => {
  process.env.OC_MOB_CACHE_DIR = path.join(root, String(n++))
}

fresh()
process.once('exit', () => rmSync(root, {force: true, recursive: true}))

// After each test as well as before: a file's `before` hooks then start with an empty cache too.
export const mochaHooks = {afterEach: fresh, beforeEach: fresh}
