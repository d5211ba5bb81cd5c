// Loaded by mocha before any test (see .mocharc.json). In-process command runs read
// oclif.manifest.json whenever it exists; one left by `npm run build` that is older than the sources
// would hide new commands and flags from the tests, so it is removed (as bin/dev.js does).
import {readdirSync, rmSync, statSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
try {
  const built = statSync(`${root}oclif.manifest.json`).mtimeMs
  const newest = readdirSync(`${root}src`, {recursive: true}).reduce((t, f) => Math.max(t, statSync(`${root}src/${f}`).mtimeMs), 0)
  if (newest > built) rmSync(`${root}oclif.manifest.json`, {force: true})
} catch {
  // No manifest.
}
