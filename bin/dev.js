#!/usr/bin/env node
// Runs the CLI from the TypeScript sources. oclif reads oclif.manifest.json whenever it exists; a
// manifest left by `npm run build` that is older than the sources would hide new commands and
// flags, so it is removed first.
import {execute} from '@oclif/core'
import {readdirSync, rmSync, statSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
try {
  const built = statSync(`${root}oclif.manifest.json`).mtimeMs
  const newest = readdirSync(`${root}src`, {recursive: true})
    .reduce((t, f) => Math.max(t, statSync(`${root}src/${f}`).mtimeMs), 0)
  if (newest > built) rmSync(`${root}oclif.manifest.json`, {force: true})
} catch {
  // No manifest: nothing to do.
}

await execute({development: true, dir: import.meta.url})
