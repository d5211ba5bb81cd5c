#!/usr/bin/env node
// Runs the CLI from the TypeScript sources. oclif reads oclif.manifest.json whenever it exists, and
// then loads the bundled commands it lists from dist/ instead of the sources (with a second copy of
// oclif, and without the commands and flags added since the build), so a manifest left by
// `npm run build` is removed first.
import {execute} from '@oclif/core'
import {rmSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
rmSync(`${root}oclif.manifest.json`, {force: true})

await execute({development: true, dir: import.meta.url})
