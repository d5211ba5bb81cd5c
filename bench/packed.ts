/**
 * The CLI as users get it, for the benchmarks: `npm pack` (which builds the bundle, the oclif manifest
 * and the help texts), unpacked into a temporary directory whose node_modules is the project's.
 * Nothing is left in the work tree: a root oclif.manifest.json would make in-process test runs load
 * the bundle instead of the sources.
 */
import {execFileSync} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
let packed: {bin: string; dir: string} | undefined

/** bin/run.cjs of the packed CLI (packed once per process, removed at exit). */
export function packedCli(): string {
  if (packed) return packed.bin
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-mob-packed-'))
  const out = execFileSync('npm', ['pack', '--pack-destination', dir, '--silent'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const tgz = path.join(dir, out.trim().split('\n').at(-1)!)
  execFileSync('tar', ['xzf', tgz, '-C', dir])
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'package', 'node_modules'))
  packed = {bin: path.join(dir, 'package', 'bin', 'run.cjs'), dir}
  process.once('exit', () => fs.rmSync(dir, {force: true, recursive: true}))
  return packed.bin
}
