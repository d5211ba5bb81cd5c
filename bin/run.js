#!/usr/bin/env node
// The shipped entry point (oc-mob, kubectl-mob). `--version` and `--help` are answered from files
// written at build time, without loading oclif; everything else runs the bundled CLI in dist/.
import {existsSync, readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {fileURLToPath} from 'node:url'

const args = process.argv.slice(2)
const fast = process.env.OC_MOB_NO_FAST_PATH === undefined

function answer(text) {
  process.stdout.write(text)
  process.exit(0)
}

if (fast && args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  answer(`${pkg.name}/${pkg.version} ${process.platform}-${process.arch} node-${process.version}\n`)
}

// Pre-rendered help is 80 columns wide, as oclif renders it for pipes: used for pipes and terminals
// of 80 to 99 columns; oclif renders it for other widths.
const cols = process.stdout.isTTY ? (process.stdout.columns ?? 80) : 80
if (fast && cols >= 80 && cols < 100 && !process.env.OCLIF_COLUMNS) {
  const isHelp = (a) => a === '--help' || a === '-h'
  let id
  if (args.length === 1 && (isHelp(args[0]) || args[0] === 'help')) id = 'index'
  else if (args.length >= 2 && args[0] === 'help' && args.slice(1).every((a) => /^[a-z][\w-]*$/.test(a))) id = args.slice(1).join(' ')
  else if (args.length >= 2 && isHelp(args.at(-1)) && args.slice(0, -1).every((a) => /^[a-z][\w-]*$/.test(a)))
    id = args.slice(0, -1).join(' ')
  if (id) {
    try {
      answer(readFileSync(new URL(`../dist/help/${id}.txt`, import.meta.url), 'utf8'))
    } catch {
      // Not pre-rendered (an unknown command, or an arguments list): oclif answers.
    }
  }
}

// The bundled CLI, one script compiled with the code cache of this command's last run (see
// src/boot/compile-cache.ts); the cache is written after a successful run when there was none.
if (!existsSync(new URL('../dist/boot.js', import.meta.url))) {
  // A checkout installed or linked before it was built: say so instead of a module-not-found trace.
  const dir = fileURLToPath(new URL('..', import.meta.url))
  process.stderr.write(
    `error: oc-mob in ${dir} is not built (dist/ is missing)\nnext: run \`npm ci && npm run build\` in ${dir}, or install a packed release (npm pack, then npm install -g ./oc-mob-*.tgz)\n`,
  )
  process.exit(10) // ExitCode.Unavailable: not built yet
}

const {BUILD_ID, cacheKey, defaultCacheDir, loadBundle} = createRequire(import.meta.url)('../dist/boot.js')
const bundle = loadBundle({
  buildId: BUILD_ID,
  cacheDir: defaultCacheDir(),
  file: fileURLToPath(new URL('../dist/index.js', import.meta.url)),
  key: cacheKey(args),
})
if (bundle.state === 'miss' || bundle.state === 'rejected') {
  process.once('exit', (code) => {
    if (code === 0) bundle.save()
  })
}

await bundle.exports.execute({dir: import.meta.url})
