// Loaded by mocha before any test (see .mocharc.json). In-process command runs read
// oclif.manifest.json whenever it exists, and then load the bundled commands from dist/ (with a
// second copy of oclif) instead of the sources, so a manifest left by `npm run build` is removed,
// as bin/dev.js does. Tests of the shipped CLI build and pack it themselves.
import {rmSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

rmSync(fileURLToPath(new URL('../oclif.manifest.json', import.meta.url)), {force: true})
