#!/usr/bin/env node
// The shipped entry point (oc-mob, kubectl-mob). `--version` and `--help` are answered from files
// written at build time, without loading oclif; everything else runs the bundled CLI in dist/.
// CommonJS, not an ES module: an ES entry starts Node's module loader and builds a facade of every
// builtin it imports (node:fs's loads the file streams), several milliseconds of every run.
const {existsSync, readFileSync, realpathSync} = require('node:fs')
const {pathToFileURL} = require('node:url')
const path = require('node:path')

const ROOT = path.join(__dirname, '..')

const args = process.argv.slice(2)
const fast = process.env.OC_MOB_NO_FAST_PATH === undefined

function answer(text) {
  process.stdout.write(text)
  process.exit(0)
}

if (fast && args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
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
      answer(readFileSync(path.join(ROOT, 'dist', 'help', `${id}.txt`), 'utf8'))
    } catch {
      // Not pre-rendered (an unknown command, or an arguments list): oclif answers.
    }
  }
}

// The bundled CLI, one script compiled with the code cache of this command's last run (see
// src/boot/compile-cache.ts); the cache is written after a successful run when there was none.
if (!existsSync(path.join(ROOT, 'dist', 'boot.js'))) {
  // A checkout installed or linked before it was built: say so instead of a module-not-found trace.
  const dir = `${ROOT}${path.sep}`
  process.stderr.write(
    `error: oc-mob in ${dir} is not built (dist/ is missing)\nnext: run \`npm ci && npm run build\` in ${dir}, or install a packed release (npm pack, then npm install -g ./oc-mob-*.tgz)\n`,
  )
  process.exit(10) // ExitCode.Unavailable: not built yet
}

const boot = require('../dist/boot.js')
const cacheDir = boot.defaultCacheDir()
const bundleFile = path.join(ROOT, 'dist', 'index.js')
// The caches made when the package was built, for the Node that built it (scripts/code-cache.ts).
const shipped = boot.shippedFolder(path.join(ROOT, 'dist', 'code-cache'))

/**
 * One of the built scripts, compiled with the code cache of its last run under `key`, or the one the
 * package ships for it (or, with `borrow`, another key's when this one has none yet); the cache is
 * written after a successful run when this key had none.
 */
function load(file, key, installId, borrow) {
  // Named as in the package, wherever it is installed: the caches made when it was built name it so.
  const name = `oc-mob/${path.relative(ROOT, file).split(path.sep).join('/')}`
  const loaded = boot.loadBundle({borrow, buildId: boot.BUILD_ID, cacheDir, file, installId, key, name, shipped})
  if (loaded.state !== 'hit' && loaded.state !== 'shipped' && loaded.state !== 'off') {
    process.once('exit', (code) => {
      if (code === 0) loaded.save()
    })
  }

  return loaded
}

function main() {
  const loaded = load(bundleFile, boot.cacheKey(args), undefined, true)
  // For --debug's first line (src/views/debug.ts).
  globalThis[Symbol.for('oc-mob.code-cache')] = loaded.state
  loaded.exports.execute({dir: pathToFileURL(__filename).href})
}

// The connection to the API server is opened first, so that its handshakes go on while the bundle
// loads; the client adopts it if it is the one it would open (src/lib/kube/early-connection.ts).
// Its script's cache sits beside the bundle's (the same installation), under a key no command has.
// The bundle then loads after one turn of the event loop: the connection is only asked of the
// system on the next tick, and its TLS hello sent when the TCP connection is seen to be up.
const early =
  process.env.OC_MOB_NO_EARLY_CONNECT === undefined &&
  load(path.join(ROOT, 'dist', 'connect.js'), '_connect', realpathSync(bundleFile)).exports.connectEarly(args)
if (early) setImmediate(main)
else main()
