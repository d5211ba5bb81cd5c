import {expect} from 'chai'
import fs from 'node:fs'
import {createRequire} from 'node:module'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {cacheFolder, cacheKey, defaultCacheDir, loadBundle, shippedFolder} from '../../src/boot/compile-cache.js'
import {COMMANDS} from '../../src/index.js'

describe('the code cache of the shipped bundle (src/boot/compile-cache.ts)', () => {
  let tmp: string
  let file: string
  let cacheDir: string
  const SOURCE = `let calls = 0
exports.add = function add(a, b) { calls++; return a + b }
exports.calls = () => calls
exports.dirname = __dirname
exports.requireWorks = typeof require('node:path').join === 'function'
`

  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-mob-cc-'))
    file = path.join(tmp, 'bundle.js')
    fs.writeFileSync(file, SOURCE)
    cacheDir = path.join(tmp, 'cache')
  })

  afterEach(() => fs.rmSync(tmp, {force: true, recursive: true}))

  // Each load compiles a copy at a new path: V8 keeps scripts it compiled in memory, keyed by source
  // and file name, and would answer a second compile of the same file from there, not from the cache.
  // The copies stand for one installation (installId), which is what shares a cache.
  let copies = 0
  const load = (over: Partial<Parameters<typeof loadBundle>[0]> = {}) => {
    const copy = path.join(tmp, `bundle-${++copies}.js`)
    fs.copyFileSync(file, copy)
    return loadBundle({buildId: 'b1', cacheDir, file: copy, installId: 'install-1', key: 'status', ...over})
  }

  it('compiles without a cache, writes one after the run, and is given it on the next run', () => {
    const first = load()
    expect(first.state).to.equal('miss')
    expect((first.exports.add as (a: number, b: number) => number)(2, 3)).to.equal(5)
    expect(first.exports).to.include({dirname: fs.realpathSync(tmp), requireWorks: true})
    expect(first.save()).to.equal(true)
    expect(first.save(), 'once').to.equal(false)
    const written = first.cacheFile!
    expect(path.dirname(path.dirname(written))).to.equal(cacheDir)
    expect(path.basename(written)).to.equal('status.bin')
    expect(path.basename(path.dirname(written)))
      .to.equal(cacheFolder('b1', 'install-1'))
      .and.match(new RegExp(`^b1-[0-9a-f]{12}-v8-${process.versions.v8}-${process.arch}$`))
    expect(fs.statSync(written).mode & 0o777).to.equal(0o600)
    expect(fs.statSync(path.dirname(written)).mode & 0o777).to.equal(0o700)
    expect(fs.readdirSync(path.dirname(written)), 'no temporary file left').to.deep.equal(['status.bin'])

    const second = load()
    expect(second.state).to.equal('hit')
    expect((second.exports.add as (a: number, b: number) => number)(4, 5)).to.equal(9)
    expect(second.save(), 'a cache that was used is not rewritten').to.equal(false)
  })

  it("registers the bundle in require's cache, so that require() of it gives the same instance", () => {
    const loaded = loadBundle({buildId: 'b1', cacheDir, file, key: 'status'})
    const again = createRequire(import.meta.url)(file)
    expect(again).to.equal(loaded.exports)
    ;(again.add as (a: number, b: number) => number)(1, 1)
    expect((loaded.exports.calls as () => number)()).to.equal(1)
  })

  it('keeps one cache per command, and never gives a cache to another build', () => {
    load().save()
    expect(load({key: 'dockerfile'}).state).to.equal('miss')
    // Another build of the same length: V8 alone would take the cache, the build id keeps it apart.
    fs.writeFileSync(file, SOURCE.replace('a + b', 'a - b'))
    const other = load({buildId: 'b2'})
    expect(other.state).to.equal('miss')
    expect((other.exports.add as (a: number, b: number) => number)(4, 5)).to.equal(-1)
  })

  it("gives a command's first run another command's cache when asked to, then writes its own", () => {
    load({key: 'dockerfile'}).save()
    expect(load({key: 'status'}).state, 'not without borrow').to.equal('miss')
    const first = load({borrow: true, key: 'status'})
    expect(first.state).to.equal('borrowed')
    expect((first.exports.add as (a: number, b: number) => number)(2, 3)).to.equal(5)
    expect(first.cacheFile).to.match(/status\.bin$/)
    expect(first.save(), 'its own cache is written').to.equal(true)
    expect(fs.readdirSync(path.dirname(first.cacheFile!)).sort()).to.deep.equal(['dockerfile.bin', 'status.bin'])
    expect(load({borrow: true, key: 'status'}).state).to.equal('hit')
  })

  it("borrows only a command's cache (help's last, the newest first), and survives one V8 rejects", () => {
    const dir = path.join(cacheDir, cacheFolder('b1', 'install-1'))
    const valid = () => {
      const l = load({key: 'made'})
      l.save()
      return fs.readFileSync(l.cacheFile!)
    }

    const data = valid()
    fs.rmSync(path.join(dir, 'made.bin'))
    const put = (name: string, bytes: Buffer, ageS: number) => {
      fs.writeFileSync(path.join(dir, name), bytes)
      const when = new Date(Date.now() - ageS * 1000)
      fs.utimesSync(path.join(dir, name), when, when)
    }

    const junk = Buffer.from('not a code cache at all, just some bytes')
    // Another script's cache (keys that are not command names) is never taken, even a valid one.
    put('_connect.bin', data, 0)
    put('_.bin', data, 0)
    expect(load({borrow: true, key: 'status'}).state).to.equal('miss')
    // help's (here damaged) only when there is nothing else.
    put('help.bin', junk, 0)
    put('dockerfile.bin', data, 100)
    expect(load({borrow: true, key: 'status'}).state).to.equal('borrowed')
    // The newest command cache is the one taken; when V8 rejects it, the run compiles without one.
    put('build.bin', junk, 10)
    const rejected = load({borrow: true, key: 'status'})
    expect(rejected.state).to.equal('miss')
    expect((rejected.exports.add as (a: number, b: number) => number)(1, 2)).to.equal(3)
    expect(rejected.save()).to.equal(true)
    expect(load({borrow: true, key: 'status'}).state).to.equal('hit')
  })

  it("takes the package's cache for a command as that command's own, and lends it to the others", () => {
    // The package's folder, as scripts/code-cache.ts fills it: caches made by a build's own runs.
    // Each load has a name of its own: V8 keeps what it compiled by source and name, and would answer
    // a second compile under the same name from memory rather than from the cache it is given.
    let n = 0
    const name = (): string => `pkg/${++n}/bundle.js`
    const shipped = path.join(tmp, 'shipped')
    fs.mkdirSync(shipped)
    const made = load({cacheDir: path.join(tmp, 'build-home'), name: name()})
    made.save()
    fs.copyFileSync(made.cacheFile!, path.join(shipped, 'status.bin'))
    expect(path.basename(shippedFolder('/pkg/dist/code-cache'))).to.equal(`v8-${process.versions.v8}-${process.arch}`)

    const first = load({borrow: true, name: name(), shipped})
    expect(first.state).to.equal('shipped')
    expect((first.exports.add as (a: number, b: number) => number)(2, 3)).to.equal(5)
    expect(first.save(), 'as good as its own: nothing written').to.equal(false)
    expect(fs.existsSync(cacheDir)).to.equal(false)

    const other = load({borrow: true, key: 'dockerfile', name: name(), shipped})
    expect(other.state).to.equal('borrowed')
    expect(other.save()).to.equal(true)
    expect(load({borrow: true, key: 'dockerfile', name: name(), shipped}).state).to.equal('hit')
    expect(load({key: 'dockerfile', name: name(), shipped}).state, 'not lent without borrow').to.equal('hit')
    expect(load({key: 'prune', name: name(), shipped}).state, 'not lent without borrow').to.equal('miss')

    // The user's own comes first; a package's cache V8 refuses (another build of V8) costs a compile.
    fs.copyFileSync(other.cacheFile!, path.join(path.dirname(other.cacheFile!), 'status.bin'))
    expect(load({borrow: true, name: name(), shipped}).state).to.equal('hit')
    fs.writeFileSync(path.join(shipped, 'status.bin'), 'not a code cache at all, just some bytes')
    fs.rmSync(cacheDir, {force: true, recursive: true})
    const refused = load({borrow: true, name: name(), shipped})
    expect(refused.state).to.equal('miss')
    expect((refused.exports.add as (a: number, b: number) => number)(1, 1)).to.equal(2)
    expect(refused.save(), "then the user's own is written").to.equal(true)
  })

  it('names the script as it is told to, also when its cache was made by another installation', () => {
    fs.writeFileSync(file, "exports.where = function where() { return new Error('x').stack.split('\\n')[1] }\n")
    const elsewhere = load({cacheDir: path.join(tmp, 'build-home'), name: 'oc-mob/dist/index.js'})
    expect((elsewhere.exports.where as () => string)()).to.include('(oc-mob/dist/index.js:1:')
    elsewhere.save()
    const shipped = path.join(tmp, 'shipped')
    fs.mkdirSync(shipped)
    fs.copyFileSync(elsewhere.cacheFile!, path.join(shipped, 'status.bin'))
    const here = load({name: 'oc-mob/dist/index.js', shipped})
    expect(here.state).to.equal('shipped')
    expect((here.exports.where as () => string)()).to.include('(oc-mob/dist/index.js:1:')
  })

  it("never gives one installation's cache to another, whose stack traces would name the first one's files", () => {
    fs.writeFileSync(file, "exports.where = function where() { return new Error('x').stack.split('\\n')[1] }\n")
    const a = load({installId: undefined})
    a.save()
    const b = load({installId: undefined})
    expect(b.state).to.equal('miss')
    expect((b.exports.where as () => string)()).to.include(`${fs.realpathSync(tmp)}/bundle-${copies}.js:`)
    expect(path.dirname(b.cacheFile!)).to.not.equal(path.dirname(a.cacheFile!))
  })

  it('recovers from a damaged cache: rejected, the bundle still runs, and the cache is rewritten', () => {
    const first = load()
    first.save()
    fs.writeFileSync(first.cacheFile!, Buffer.from('not a code cache at all, just some bytes'))
    const damaged = load()
    expect(damaged.state).to.equal('rejected')
    expect((damaged.exports.add as (a: number, b: number) => number)(2, 2)).to.equal(4)
    expect(damaged.save()).to.equal(true)
    expect(load().state).to.equal('hit')
  })

  it('runs without caching when it is off or cannot be written', () => {
    const off = load({cacheDir: undefined})
    expect(off.state).to.equal('off')
    expect(off.cacheFile).to.equal(undefined)
    expect(off.save()).to.equal(false)

    // A file where the cache directory should be: nothing is written and nothing throws.
    fs.writeFileSync(cacheDir, 'in the way')
    const blocked = load()
    expect(blocked.state).to.equal('miss')
    expect(blocked.save()).to.equal(false)
    expect(fs.readFileSync(cacheDir, 'utf8')).to.equal('in the way')
  })

  it('removes caches of other builds once unused for a week, and keeps recent ones', () => {
    const old = path.join(cacheDir, 'old-build-v8-1-x64')
    const recent = path.join(cacheDir, 'other-install-v8-1-x64')
    for (const d of [old, recent]) {
      fs.mkdirSync(d, {recursive: true})
      fs.writeFileSync(path.join(d, 'status.bin'), 'x')
    }

    const eightDaysAgo = new Date(Date.now() - 8 * 24 * 3600 * 1000)
    fs.utimesSync(old, eightDaysAgo, eightDaysAgo)
    load().save()
    expect(fs.readdirSync(cacheDir).sort()).to.deep.equal([cacheFolder('b1', 'install-1'), 'other-install-v8-1-x64'])
  })

  it('fails like require() when the bundle throws while loading, and leaves nothing registered', () => {
    fs.writeFileSync(file, 'throw new Error("broken bundle")')
    expect(() => loadBundle({buildId: 'b1', cacheDir, file, key: 'status'})).to.throw('broken bundle')
    const req = createRequire(import.meta.url)
    expect(req.cache[fs.realpathSync(file)]).to.equal(undefined)
  })

  it('places the cache where oclif places its own, and can be turned off', () => {
    expect(defaultCacheDir({HOME: '/home/a'}, 'linux')).to.equal('/home/a/.cache/oc-mob/compile-cache')
    expect(defaultCacheDir({HOME: '/home/a', XDG_CACHE_HOME: '/xdg'}, 'linux')).to.equal('/xdg/oc-mob/compile-cache')
    expect(defaultCacheDir({HOME: '/Users/a'}, 'darwin')).to.equal('/Users/a/Library/Caches/oc-mob/compile-cache')
    expect(defaultCacheDir({LOCALAPPDATA: 'C:\\Users\\a\\AppData\\Local'}, 'win32')).to.equal(
      path.join('C:\\Users\\a\\AppData\\Local', 'oc-mob', 'compile-cache'),
    )
    expect(defaultCacheDir({HOME: '/home/a', OC_MOB_NO_COMPILE_CACHE: '1'}, 'linux')).to.equal(undefined)
    expect(defaultCacheDir({HOME: '/home/a', OC_MOB_NO_COMPILE_CACHE: '0'}, 'linux')).to.equal('/home/a/.cache/oc-mob/compile-cache')
  })

  it('keys the cache by command, with help and anything odd apart', () => {
    expect(cacheKey(['status', '-o', 'json'])).to.equal('status')
    expect(cacheKey(['nodes', 'add', 'worker'])).to.equal('nodes')
    expect(cacheKey(['status', '--help'])).to.equal('help')
    expect(cacheKey(['-h'])).to.equal('help')
    expect(cacheKey([])).to.equal('_')
    expect(cacheKey(['../../etc/passwd'])).to.equal('_')
    expect(cacheKey(['--version'])).to.equal('_')
  })
})

describe('the command list (src/index.ts)', () => {
  it('lists every module under src/commands under its oclif id', () => {
    const dir = fileURLToPath(new URL('../../src/commands', import.meta.url))
    const ids = (fs.readdirSync(dir, {recursive: true}) as string[])
      .filter((f) => f.endsWith('.ts'))
      .map((f) =>
        f
          .replace(/\.ts$/, '')
          .replace(/(^|\/)index$/, '')
          .split(path.sep)
          .join(':'),
      )
    expect(Object.keys(COMMANDS).sort()).to.deep.equal(ids.sort())
    expect(ids).to.include.members(['status', 'nodes:add', 'rollback', 'rollback:node', 'help', 'autocomplete', 'autocomplete:script'])
  })
})
