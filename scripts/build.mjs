/**
 * Builds the shipped CLI into dist/:
 * - dist/index.js: what src/index.ts exports (oclif's execute and every command, oclif's help and
 *   autocomplete among them), oclif, client-node and every other dependency in one minified CommonJS script
 *   (dist/package.json says so). It needs no node_modules. One script, because bin/run.cjs loads it
 *   with a V8 code cache (src/boot/compile-cache.ts), which Node 20 offers for scripts but not for
 *   ES modules; a run then neither parses nor compiles what the last run of that command compiled.
 *   It is also oclif's explicit command target, which oclif requires: the same instance.
 * - dist/boot.js: that loader, with the bundle's content hash built in, so that a cache never
 *   meets another build.
 * - dist/connect.js: the connection to the API server opened while the bundle loads
 *   (src/boot/early-connect.ts), with the kubeconfig reading it shares with the client.
 * - dist/code-cache/: code caches of both scripts for the Node that builds them (scripts/code-cache.ts).
 *
 * client-node's kubeconfig and credential code (tokens, certificates, exec plugins, auth providers)
 * is kept; its generated API client, which oc-mob never uses and which costs most of its load time
 * and memory, is replaced by a stub that throws if it is ever reached. Its SOCKS proxy agent (with
 * the socks library) is loaded only when a kubeconfig names a socks proxy-url, not on every run.
 * The wizard uses @inquirer/prompts' confirm, input and select; the editor prompt's external-editor
 * (with iconv-lite's code pages and chardet, a quarter of the bundle's bytes) is replaced by a stub
 * that throws if the editor prompt is ever reached.
 *
 * Help texts are rendered once, after bundling, into dist/help/, so that `--help` and `--version`
 * can be answered by bin/run.cjs without loading anything.
 */
import {build} from 'esbuild'
import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import vm from 'node:vm'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const dist = path.join(root, 'dist')
const src = path.join(root, 'src')

const stubGenerated = {
  name: 'stub-client-node-generated-api',
  setup(b) {
    b.onResolve({filter: /^\.\/gen\/index\.js$/}, (args) =>
      args.importer.includes(`${path.sep}@kubernetes${path.sep}client-node${path.sep}`)
        ? {namespace: 'oc-mob-stub', path: 'client-node-gen'}
        : undefined,
    )
    // config.js takes Headers from node-fetch only for applyToFetchOptions, which oc-mob never calls;
    // Node's own Headers serves (looked up only when used: the global loads undici), and node-fetch
    // (with its URL and punycode tables) stays out.
    b.onResolve({filter: /^node-fetch$/}, (args) =>
      args.importer.endsWith(`client-node${path.sep}dist${path.sep}config.js`)
        ? {namespace: 'oc-mob-stub', path: 'node-fetch-headers'}
        : undefined,
    )
    b.onResolve({filter: /^socks-proxy-agent$/}, (args) =>
      args.importer.endsWith(`client-node${path.sep}dist${path.sep}config.js`)
        ? {namespace: 'oc-mob-stub', path: 'socks-proxy-agent-lazy', pluginData: {resolveDir: args.resolveDir}}
        : undefined,
    )
    // oclif's logger creates a `debug` logger per module as it loads, which loads debug (with tty and
    // supports-color) on every run; and its plugin module loads tinyglobby for the command discovery by
    // file pattern that oc-mob's explicit command list never uses; and its platform check loads
    // wsl-utils (with child_process) to tell WSL from Linux. They are loaded when first used: debug
    // only when DEBUG asks for its output, wsl-utils only on a Linux whose kernel says Microsoft.
    b.onResolve({filter: /^(debug|tinyglobby|wsl-utils)$/}, (args) =>
      args.importer.includes(`${path.sep}@oclif${path.sep}core${path.sep}`)
        ? {namespace: 'oc-mob-stub', path: `${args.path}-lazy`, pluginData: {resolveDir: args.resolveDir}}
        : undefined,
    )
    b.onResolve({filter: /^@inquirer\/external-editor$/}, (args) =>
      args.importer.includes(`${path.sep}@inquirer${path.sep}editor${path.sep}`)
        ? {namespace: 'oc-mob-stub', path: 'external-editor'}
        : undefined,
    )
    const stubs = {
      'client-node-gen': `const unused = () => { throw new Error('the generated client-node API is not part of oc-mob') }
export const createConfiguration = unused
export class ServerConfiguration { constructor() { unused() } }`,
      'external-editor': `export const editAsync = () => { throw new Error('the editor prompt is not part of oc-mob') }`,
      'node-fetch-headers': 'export class Headers { constructor(init) { return new globalThis.Headers(init) } }',
      'debug-lazy': `const quiet = (namespace) => {
  const log = () => {}
  return Object.assign(log, {enabled: false, namespace, extend: (sub, d = ':') => quiet(namespace + d + sub)})
}
module.exports = (namespace) => (process.env.DEBUG ? require('debug')(namespace) : quiet(namespace))`,
      'tinyglobby-lazy': "export const glob = (...args) => require('tinyglobby').glob(...args)",
      // is-wsl's own first test, then the real answer (which also rules out a container) when it may be WSL.
      'wsl-utils-lazy': `const microsoft = (text) => text.toLowerCase().includes('microsoft')
const proc = () => { try { return require('node:fs').readFileSync('/proc/version', 'utf8') } catch { return '' } }
const maybe = process.platform === 'linux' && (microsoft(require('node:os').release()) || microsoft(proc()))
export const isWsl = maybe && require('wsl-utils').isWsl
export const powerShellPath = (...args) => require('wsl-utils').powerShellPath(...args)`,
      // require() inside the constructor: esbuild initialises the module on the first call.
      'socks-proxy-agent-lazy': `export class SocksProxyAgent {
  constructor(...args) { return new (require('socks-proxy-agent').SocksProxyAgent)(...args) }
}`,
    }
    // oclif checks, on loading, that Node satisfies the engines of its own package.json (Node 18+),
    // which oc-mob's (20.19+) already demands; the check loads semver and looks for that file on
    // disk, where the bundle does not need it to be: about 10 ms of every run.
    const edit = (filter, from, to, why) =>
      b.onLoad({filter}, (args) => {
        const text = fs.readFileSync(args.path, 'utf8')
        if (!text.includes(from)) throw new Error(`${args.path}: ${why} not found`)
        return {contents: text.replace(from, to), loader: 'js'}
      })
    edit(/[\\/]@oclif[\\/]core[\\/]lib[\\/]index\.js$/, '\ncheckNodeVersion();\n', '\n', 'no checkNodeVersion() call to leave out')
    // oclif sorts a plugin's commands with localeCompare on every run; its first call in a process
    // sets up ICU's collator (about 9 ms). Command ids are ASCII, where code unit order is the same.
    edit(
      /[\\/]@oclif[\\/]core[\\/]lib[\\/]config[\\/]plugin\.js$/,
      '.sort((a, b) => a.id.localeCompare(b.id))',
      '.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))',
      "the command list's localeCompare sort",
    )
    // Builtins oclif loads on every run for what oc-mob never or rarely does (performance marks when
    // OCLIF_PERFORMANCE is set, arguments read from stdin, a Windows parent-process check): required
    // on first use instead.
    const lazyBuiltin = (m) => `new Proxy({}, {get: (_, key) => require("${m}")[key]})`
    for (const [file, m] of [
      ['performance', 'node:perf_hooks'],
      ['parser[\\/]parse', 'node:readline'],
      ['util[\\/]os', 'node:child_process'],
    ])
      edit(new RegExp(`[\\\\/]@oclif[\\\\/]core[\\\\/]lib[\\\\/]${file}\\.js$`), `require("${m}")`, lazyBuiltin(m), `require("${m}")`)
    b.onLoad({filter: /.*/, namespace: 'oc-mob-stub'}, (args) => ({
      contents: stubs[args.path],
      loader: 'js',
      resolveDir: args.pluginData?.resolveDir,
    }))
  },
}

fs.rmSync(dist, {force: true, recursive: true})
fs.mkdirSync(dist)
// The package is "type": "module"; the bundle and its loader are CommonJS.
fs.writeFileSync(path.join(dist, 'package.json'), '{"type": "commonjs"}\n')
const bundleFile = path.join(dist, 'index.js')

// The bundle's entry is generated rather than src/index.ts, whose static imports would make every
// command (setup's prompts, dockerfile's parser...) initialise on every run. Here each command is a
// getter that require()s its module, which esbuild turns into a lazy initialiser: a run initialises
// the command it runs. Every module under src/commands is a command, as src/index.ts lists them
// (a unit test holds the two together).
function commandModules(dir, prefix = []) {
  const out = []
  for (const e of fs.readdirSync(dir, {withFileTypes: true}).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) out.push(...commandModules(p, [...prefix, e.name]))
    else if (e.name.endsWith('.ts'))
      out.push({
        file: p,
        id: [...prefix, e.name.replace(/\.ts$/, '')].filter((w, i, all) => !(w === 'index' && i === all.length - 1)).join(':'),
      })
  }

  return out
}

const entry = [
  "exports.execute = require('@oclif/core').execute",
  'const COMMANDS = {}',
  'const lazy = (id, load) => Object.defineProperty(COMMANDS, id, {enumerable: true, get: () => load().default})',
  ...commandModules(path.join(src, 'commands')).map(({file, id}) => `lazy(${JSON.stringify(id)}, () => require(${JSON.stringify(file)}))`),
  'exports.COMMANDS = COMMANDS',
  // package.json's oclif.hooks names this export; it loads its module only when a command is not found.
  // and oclif.helpClass this one, loaded only when help is shown.
  `Object.defineProperty(exports, 'HELP', {enumerable: true, get: () => require(${JSON.stringify(path.join(src, 'help.ts'))}).default})`,
  `exports.COMMAND_NOT_FOUND = function (...args) { return require(${JSON.stringify(path.join(src, 'hooks', 'command-not-found.ts'))}).COMMAND_NOT_FOUND.apply(this, args) }`,
].join('\n')
await build({
  absWorkingDir: root,
  bundle: true,
  stdin: {contents: entry, loader: 'js', resolveDir: src, sourcefile: 'oc-mob-entry.cjs'},
  // Only used by oclif when running TypeScript sources (bin/dev.js), never by the shipped CLI.
  external: ['typescript', 'tsx', 'tsx/*', 'ts-node'],
  format: 'cjs',
  legalComments: 'none',
  logLevel: 'warning',
  minify: true,
  outfile: bundleFile,
  platform: 'node',
  plugins: [stubGenerated],
  sourcemap: false,
  target: 'node20',
})

// The early connection (src/boot/early-connect.ts), which bin/run.cjs opens before it loads the
// bundle; loaded the same way, with a code cache of its own.
const connectFile = path.join(dist, 'connect.js')
await build({
  absWorkingDir: root,
  bundle: true,
  entryPoints: [path.join(src, 'boot', 'early-connect.ts')],
  format: 'cjs',
  legalComments: 'none',
  logLevel: 'warning',
  minify: true,
  outfile: connectFile,
  platform: 'node',
  target: 'node20',
})

// The loader reads both scripts as Latin-1 (a one-byte string, quicker to read than UTF-8), so they
// must be ASCII. esbuild escapes non-ASCII text except inside some regular expressions, where a
// \uXXXX escape means the same character.
const asAscii = (file) => {
  const text = fs.readFileSync(file, 'utf8').replaceAll(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
  fs.writeFileSync(file, text, 'latin1')
  new vm.Script(text, {filename: file}) // still valid JavaScript after escaping
  return text
}
const bundle = asAscii(bundleFile)
// The build ID names the code caches of both scripts: it changes when either does.
const buildId = createHash('sha256').update(bundle).update(asAscii(connectFile)).digest('hex').slice(0, 16)

await build({
  absWorkingDir: root,
  bundle: true,
  define: {__OC_MOB_BUILD_ID__: JSON.stringify(buildId)},
  entryPoints: [path.join(src, 'boot', 'compile-cache.ts')],
  format: 'cjs',
  logLevel: 'warning',
  outfile: path.join(dist, 'boot.js'),
  platform: 'node',
  target: 'node20',
})

// The oclif manifest, so that no command module is loaded to list commands or flags.
execFileSync(process.execPath, [path.join(root, 'node_modules', 'oclif', 'bin', 'run.js'), 'manifest'], {
  cwd: root,
  stdio: ['ignore', 'ignore', 'inherit'],
})

// Help texts, rendered by oclif itself at its default width for non-terminals.
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'oclif.manifest.json'), 'utf8'))
const helpDir = path.join(dist, 'help')
fs.mkdirSync(helpDir, {recursive: true})
const render = (args) =>
  execFileSync(process.execPath, [path.join(root, 'bin', 'run.cjs'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: {...process.env, NO_COLOR: '1', OC_MOB_NO_COMPILE_CACHE: '1', OC_MOB_NO_FAST_PATH: '1', OCLIF_COLUMNS: '80'},
  })
fs.writeFileSync(path.join(helpDir, 'index.txt'), render(['--help']))
for (const id of Object.keys(manifest.commands)) {
  if (manifest.commands[id].hidden) continue
  fs.writeFileSync(path.join(helpDir, `${id.replaceAll(':', ' ')}.txt`), render([...id.split(':'), '--help']))
}

// The code caches shipped for the Node that builds the package (scripts/code-cache.ts). Without them
// the CLI works the same, its first run only compiles more; a failure here says so and goes on.
try {
  execFileSync(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', 'code-cache.ts')], {
    cwd: root,
    env: {...process.env, NODE_OPTIONS: ''},
    stdio: ['ignore', 'ignore', 'inherit'],
  })
} catch (error) {
  process.stderr.write(`warning: no code cache shipped (the first run after installing compiles everything): ${error.message}\n`)
}

process.stderr.write(
  `built dist/index.js: ${Object.keys(manifest.commands).length} commands, ${(bundle.length / 1_048_576).toFixed(1)} MiB, build ${buildId}\n`,
)
