#!/usr/bin/env node
// Runs the CLI from the TypeScript sources. oclif reads oclif.manifest.json whenever it exists, and
// then lists the commands and flags of the last build instead of the sources' (and may load the
// bundle in dist/, with a second copy of oclif), so a manifest left by `npm run build` is removed
// first.
import {execute} from '@oclif/core'
import {rmSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
rmSync(`${root}oclif.manifest.json`, {force: true})

await execute({development: true, dir: import.meta.url})
