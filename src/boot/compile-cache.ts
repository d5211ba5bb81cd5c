/**
 * Loads the shipped CLI (one CommonJS script, dist/index.js) with a V8 code cache, so that a command
 * does not parse and compile the same megabyte of JavaScript on every run. Node 20 has no built-in
 * compile cache (module.enableCompileCache arrived in Node 22), so the script is compiled here with
 * vm.Script, given the cache from the last run, and registered in require's cache, where oclif's
 * own require of the bundle finds it.
 *
 * The cache is written after a successful run (so it holds the functions that run actually compiled),
 * one file per command, under the user's cache directory. Its folder's name carries the bundle's
 * content hash, the installation, V8's version and the architecture: V8 itself only checks the
 * source's length, so a cache must never meet a different bundle. A command with no cache of its own
 * yet borrows another command's (most of what any command compiles, oclif, the client, the views'
 * helpers, is shared); its own, written after that run, holds what both compiled. When the user's
 * folder has nothing, the caches made when the package was built serve (dist/code-cache/, for the
 * Node that built it; see scripts/code-cache.ts): a command's as its own, the others' to borrow; then
 * not even an installation's first run compiles everything. On another Node, npm's postinstall
 * (bin/install-cache.cjs) puts one there for it to borrow. A missing, stale, foreign or unwritable
 * cache only costs speed, never a failure.
 *
 * A code cache names the script as it was named where the cache was made (stack traces show that
 * name), so the scripts are given a name that does not depend on where they are installed.
 *
 * Built separately into dist/boot.js (no dependencies), which bin/run.cjs imports.
 */
import {createHash} from 'node:crypto'
import fs from 'node:fs'
import Module, {createRequire} from 'node:module'
import os from 'node:os'
import path from 'node:path'
import vm from 'node:vm'

declare const __OC_MOB_BUILD_ID__: string | undefined

/** The bundle's content hash, set by scripts/build.mjs when it builds dist/boot.js. */
export const BUILD_ID = typeof __OC_MOB_BUILD_ID__ === 'string' ? __OC_MOB_BUILD_ID__ : 'unbuilt'

/**
 * hit: this key's own cache; shipped: the one made for this key when the package was built (the user
 * has none of their own: as good as one); borrowed: another command's, the user's or the package's
 * (this key's own is written after the run); miss: none that V8 took; rejected: this key's own,
 * refused by V8 (damaged); off: caching is off.
 */
export type CacheState = 'borrowed' | 'hit' | 'miss' | 'off' | 'rejected' | 'shipped'

export interface LoadOptions {
  /** The CommonJS script; its text must be ASCII (scripts/build.mjs makes sure of it). */
  file: string
  /** Identifies the script's content; part of the cache's name. */
  buildId: string
  /** Where caches live; undefined turns caching off. */
  cacheDir: string | undefined
  /** Which cache to use: one per command, since each run caches what it compiled. */
  key: string
  /**
   * Whether a key with no cache yet may use another key's (a name of letters, digits and dashes: the
   * commands' keys, see cacheKey). Keys of other scripts in the same folder must not be such names.
   */
  borrow?: boolean
  /** Identifies the installation (default: the script's real path); part of the cache's name. */
  installId?: string
  /** The script's name in stack traces and in the caches made of it (default: its real path). */
  name?: string
  /** The folder of the caches made when the package was built (see shippedFolder), if any. */
  shipped?: string
}

export interface LoadedBundle {
  exports: Record<string, unknown>
  /** What became of the cache on loading. */
  state: CacheState
  /** The cache file used (or to be written), when caching is on. */
  cacheFile: string | undefined
  /** Writes this key's cache unless it had one (its own or the package's); returns whether it wrote. Never throws. */
  save(): boolean
}

// The same text on every run: V8 accepts a cache only for the script it was made from.
const WRAP_HEAD = '(function (exports, require, module, __filename, __dirname) { '
const WRAP_TAIL = '\n});'

interface ModuleInternals {
  filename: string
  loaded: boolean
  paths: string[]
}

type ModuleStatics = typeof Module & {
  _cache: Record<string, unknown>
  _nodeModulePaths(dir: string): string[]
}

/** The per-user cache directory, as oclif places its own (config.cacheDir), or undefined. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string | undefined {
  if (env.OC_MOB_NO_COMPILE_CACHE !== undefined && env.OC_MOB_NO_COMPILE_CACHE !== '' && env.OC_MOB_NO_COMPILE_CACHE !== '0')
    return undefined
  let base: string | undefined
  if (env.XDG_CACHE_HOME) base = env.XDG_CACHE_HOME
  else if (platform === 'win32') base = env.LOCALAPPDATA
  else {
    let home = env.HOME
    if (!home) {
      try {
        home = os.homedir()
      } catch {
        return undefined
      }
    }

    if (!home) return undefined
    base = platform === 'darwin' ? path.join(home, 'Library', 'Caches') : path.join(home, '.cache')
  }

  return base ? path.join(base, 'oc-mob', 'compile-cache') : undefined
}

/**
 * The cache key for a command line: the command (or topic) name; "help" when help is asked for (it
 * compiles other code than the command's run), "_" for anything else.
 */
export function cacheKey(argv: readonly string[]): string {
  if (argv.some((a) => a === '--help' || a === '-h')) return 'help'
  const first = argv[0]
  return first !== undefined && /^[a-z][a-z0-9-]{0,39}$/.test(first) ? first : '_'
}

/**
 * The cache's folder name: the build, the installation, V8's version and the architecture. A code
 * cache carries the name of the script it was made from: with the default name (the real path), a
 * cache made by another installation of the same build would make stack traces name its files.
 */
export function cacheFolder(buildId: string, installId: string): string {
  const install = createHash('sha256').update(installId).digest('hex').slice(0, 12)
  return `${buildId}-${install}-v8-${process.versions.v8}-${process.arch}`
}

/** The folder under dist/code-cache whose caches this Node can use: they were made by the same V8. */
export function shippedFolder(codeCacheDir: string): string {
  return path.join(codeCacheDir, `v8-${process.versions.v8}-${process.arch}`)
}

/**
 * The cache another command of the same script wrote last (help's only when there is no other: it
 * compiled help's rendering rather than a command's run), or undefined.
 */
function borrowable(dir: string): string | undefined {
  let best: {file: string; help: boolean; mtimeMs: number} | undefined
  let names: string[]
  try {
    names = fs.readdirSync(dir)
  } catch {
    return undefined
  }

  for (const name of names) {
    if (!/^[a-z][a-z0-9-]*\.bin$/.test(name)) continue
    const file = path.join(dir, name)
    let mtimeMs: number
    try {
      mtimeMs = fs.statSync(file).mtimeMs
    } catch {
      continue
    }

    const help = name === 'help.bin'
    if (best === undefined || (best.help && !help) || (best.help === help && mtimeMs > best.mtimeMs)) best = {file, help, mtimeMs}
  }

  return best?.file
}

export function loadBundle(opts: LoadOptions): LoadedBundle {
  const file = fs.realpathSync(opts.file)
  const source = WRAP_HEAD + fs.readFileSync(file, 'latin1') + WRAP_TAIL
  const dir = opts.cacheDir === undefined ? undefined : path.join(opts.cacheDir, cacheFolder(opts.buildId, opts.installId ?? file))
  const cacheFile = dir === undefined ? undefined : path.join(dir, `${opts.key}.bin`)
  // This key's own cache, else the package's for it; else, when borrowing, another command's (the
  // user's, then the package's).
  let cachedData: Buffer | undefined
  type From = 'borrowed' | 'own' | 'shipped'
  let from: From = 'own'
  if (cacheFile !== undefined) {
    const {borrow, shipped} = opts
    // Looked for in turn: a folder is only listed when the caches before it are missing.
    const candidates: [() => string | undefined, From][] = [
      [() => cacheFile, 'own'],
      [() => shipped && path.join(shipped, `${opts.key}.bin`), 'shipped'],
      [() => (borrow ? borrowable(dir!) : undefined), 'borrowed'],
      [() => (borrow && shipped ? borrowable(shipped) : undefined), 'borrowed'],
    ]
    for (const [find, kind] of candidates) {
      const candidate = find()
      if (candidate === undefined) continue
      try {
        cachedData = fs.readFileSync(candidate)
        from = kind
        break
      } catch {
        // None there (or gone meanwhile): the next.
      }
    }
  }

  const script = new vm.Script(source, {
    cachedData,
    filename: opts.name ?? file,
    // No importModuleDynamically: Node 20 does not give code restored from a cache a dynamic-import
    // callback (import() fails), so the bundle must not import() at run time. It does not: every
    // command is in it, and oclif's command target is CommonJS, which oclif loads with require().
  })
  let state: CacheState = 'off'
  if (cacheFile !== undefined) {
    if (cachedData === undefined) state = 'miss'
    else if (from === 'own') state = script.cachedDataRejected ? 'rejected' : 'hit'
    else state = script.cachedDataRejected ? 'miss' : from
  }

  const statics = Module as ModuleStatics
  const mod = new Module(file) as Module & ModuleInternals
  mod.filename = file
  mod.paths = statics._nodeModulePaths(path.dirname(file))
  statics._cache[file] = mod
  const wrapper = script.runInThisContext() as (
    exports: unknown,
    require: NodeJS.Require,
    module: unknown,
    filename: string,
    dirname: string,
  ) => void
  try {
    wrapper.call(mod.exports, mod.exports, createRequire(file), mod, file, path.dirname(file))
  } catch (error) {
    delete statics._cache[file]
    throw error
  }

  mod.loaded = true

  let saved = false
  const save = (): boolean => {
    if (saved || dir === undefined || cacheFile === undefined || state === 'hit' || state === 'shipped') return false
    saved = true
    try {
      const data = script.createCachedData()
      fs.mkdirSync(dir, {mode: 0o700, recursive: true})
      // Written aside and renamed, so a command starting meanwhile never reads half a cache.
      const tmp = `${cacheFile}.${process.pid}.tmp`
      fs.writeFileSync(tmp, data, {mode: 0o600})
      fs.renameSync(tmp, cacheFile)
      // Caches of other builds or Node versions go once nothing has used them for a week (another
      // install of oc-mob may still be using its own).
      const weekAgo = Date.now() - 7 * 24 * 3600 * 1000
      for (const other of fs.readdirSync(opts.cacheDir!)) {
        const otherDir = path.join(opts.cacheDir!, other)
        if (other !== path.basename(dir) && fs.statSync(otherDir).mtimeMs < weekAgo) fs.rmSync(otherDir, {force: true, recursive: true})
      }

      return true
    } catch {
      return false
    }
  }

  return {cacheFile, exports: mod.exports as Record<string, unknown>, save, state}
}
