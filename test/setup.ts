// Loaded by mocha before any test (see .mocharc.json). In-process command runs read
// oclif.manifest.json whenever it exists, and then see the commands and flags of the last build
// instead of the sources' (and may load the bundle in dist/, with a second copy of oclif), so a
// manifest left by `npm run build` is removed, as bin/dev.js does. Tests of the shipped CLI build
// and pack it themselves.
import {rmSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

rmSync(fileURLToPath(new URL('../oclif.manifest.json', import.meta.url)), {force: true})
