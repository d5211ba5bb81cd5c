/**
 * Loads the shipped CLI (one CommonJS script, dist/index.js) with a V8 code cache, so that a command
 * does not parse and compile the same megabyte of JavaScript on every run. Node 20 has no built-in
 * compile cache (module.enableCompileCache arrived in Node 22), so the script is compiled here with
 * vm.Script, given the cache from the last run, and registered in require's cache, where oclif's
 * own require of the bundle finds it.
 *
 * The cache is written after a successful run (so it holds the functions that run actually compiled),
 * one file per command, under the user's cache directory. Its name carries the bundle's content hash,
 * the installation's path, V8's version and the architecture: V8 itself only checks the source's length, so a cache must never
 * meet a different bundle. A missing, stale or unwritable cache only costs speed, never a failure.
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

export type CacheState = 'hit' | 'miss' | 'off' | 'rejected'

export interface LoadOptions {
  /** The CommonJS script; its text must be ASCII (scripts/build.mjs makes sure of it). */
  file: string
  /** Identifies the script's content; part of the cache's name. */
  buildId: string
  /** Where caches live; undefined turns caching off. */
  cacheDir: string | undefined
  /** Which cache to use: one per command, since each run caches what it compiled. */
  key: string
  /** Identifies the installation (default: the script's real path); part of the cache's name. */
  installId?: string
}

export interface LoadedBundle {
  exports: Record<string, unknown>
  /** What became of the cache on loading. */
  state: CacheState
  /** The cache file used (or to be written), when caching is on. */
  cacheFile: string | undefined
  /** Writes the cache when it was missing or rejected; returns whether it wrote. Never throws. */
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
 * cache carries the file name of the script it was made from, so a cache made by another installation
 * of the same build would make stack traces name that installation's files.
 */
export function cacheFolder(buildId: string, installId: string): string {
  const install = createHash('sha256').update(installId).digest('hex').slice(0, 12)
  return `${buildId}-${install}-v8-${process.versions.v8}-${process.arch}`
}

export function loadBundle(opts: LoadOptions): LoadedBundle {
  const file = fs.realpathSync(opts.file)
  const source = WRAP_HEAD + fs.readFileSync(file, 'latin1') + WRAP_TAIL
  const dir = opts.cacheDir === undefined ? undefined : path.join(opts.cacheDir, cacheFolder(opts.buildId, opts.installId ?? file))
  const cacheFile = dir === undefined ? undefined : path.join(dir, `${opts.key}.bin`)
  let cachedData: Buffer | undefined
  if (cacheFile !== undefined) {
    try {
      cachedData = fs.readFileSync(cacheFile)
    } catch {
      // No cache yet.
    }
  }

  const script = new vm.Script(source, {
    cachedData,
    filename: file,
    // No importModuleDynamically: Node 20 does not give code restored from a cache a dynamic-import
    // callback (import() fails), so the bundle must not import() at run time. It does not: every
    // command is in it, and oclif's command target is CommonJS, which oclif loads with require().
  })
  let state: CacheState = 'off'
  if (cacheFile !== undefined) state = cachedData === undefined ? 'miss' : script.cachedDataRejected ? 'rejected' : 'hit'

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
    if (saved || dir === undefined || cacheFile === undefined || state === 'hit') return false
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
