/**
 * The code caches shipped in dist/code-cache/ (read by src/boot/compile-cache.ts): the built CLI runs
 * `oc-mob status` as a user would (the table, -o json, one pool) against an emulated cluster, with a
 * cache folder of its own, each run borrowing the cache of the runs before it, so that the last one
 * holds what all of them compiled; that cache and the early connection's are kept in a folder named
 * for this Node's V8 version and architecture. A CLI run by another Node finds no folder for it and
 * compiles as it would without them; one run by this Node takes them as status's own cache (and
 * other commands borrow status's), even on its first run after installing.
 *
 * Run by scripts/build.mjs after the bundle is built (`node --import tsx scripts/code-cache.ts`).
 */
import {execFile} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'
import {startEmulator} from '../emulator/index.js'
import {loadFixture} from '../emulator/sim/index.js'
import {shippedFolder} from '../src/boot/compile-cache.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const codeCacheDir = path.join(root, 'dist', 'code-cache')
const KEYS = ['status', '_connect']

// The runs must not find the caches of an earlier build of the package.
fs.rmSync(codeCacheDir, {force: true, recursive: true})
const emu = await startEmulator({objects: loadFixture()})
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-mob-code-cache-'))
try {
  const cacheHome = path.join(home, '.cache')
  const made = path.join(cacheHome, 'oc-mob', 'compile-cache')
  let folder = ''
  for (const args of [['status'], ['status', '-o', 'json'], ['status', 'worker']]) {
    // Only what the run needs: no NODE_OPTIONS (V8 takes a cache only under the flags it was made
    // with) and none of oc-mob's switches that would turn the caches or the early connection off.
    // (Not execFileSync: the emulator answers from this process.)
    await promisify(execFile)(process.execPath, [path.join(root, 'bin', 'run.cjs'), ...args], {
      env: {HOME: home, KUBECONFIG: emu.kubeconfig, NO_COLOR: '1', PATH: process.env.PATH, XDG_CACHE_HOME: cacheHome},
    })
    // status's cache moves aside under a name the next run borrows, and rewrites with its own.
    folder = path.join(made, fs.readdirSync(made)[0])
    fs.renameSync(path.join(folder, 'status.bin'), path.join(folder, 'earlier.bin'))
  }

  fs.renameSync(path.join(folder, 'earlier.bin'), path.join(folder, 'status.bin'))
  const out = shippedFolder(codeCacheDir)
  fs.mkdirSync(out, {recursive: true})
  for (const key of KEYS) {
    // Readable by every user of an installation (the user's own caches are theirs alone).
    fs.copyFileSync(path.join(folder, `${key}.bin`), path.join(out, `${key}.bin`))
    fs.chmodSync(path.join(out, `${key}.bin`), 0o644)
  }
  const size = KEYS.reduce((n, key) => n + fs.statSync(path.join(out, `${key}.bin`)).size, 0)
  process.stderr.write(`built ${path.relative(root, out)}: ${KEYS.join(', ')} (${(size / 1_048_576).toFixed(1)} MiB)\n`)
} finally {
  await emu.close()
  fs.rmSync(home, {force: true, recursive: true})
}
