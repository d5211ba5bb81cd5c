/**
 * Builds the shipped CLI into dist/: one ES module per command (so oclif loads only the command that
 * runs), sharing chunks for common code, with oclif, client-node and every other dependency bundled
 * and minified. Start-up then parses a few files instead of thousands.
 *
 * client-node's kubeconfig and credential code (tokens, certificates, exec plugins, auth providers)
 * is kept; its generated API client, which oc-mob never uses and which costs most of its load time
 * and memory, is replaced by a stub that throws if it is ever reached.
 *
 * Help texts are rendered once, after bundling, into dist/help/, so that `--help` and `--version`
 * can be answered by bin/run.js without loading anything.
 */
import {build} from 'esbuild'
import {execFileSync} from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const dist = path.join(root, 'dist')
const src = path.join(root, 'src')

function commandEntries(dir) {
  const out = []
  for (const e of fs.readdirSync(dir, {withFileTypes: true})) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) out.push(...commandEntries(p))
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p)
  }

  return out
}

const stubGenerated = {
  name: 'stub-client-node-generated-api',
  setup(b) {
    b.onResolve({filter: /^\.\/gen\/index\.js$/}, (args) => (args.importer.includes(`${path.sep}@kubernetes${path.sep}client-node${path.sep}`)
      ? {namespace: 'oc-mob-stub', path: 'client-node-gen'}
      : undefined))
    // config.js takes Headers from node-fetch only for applyToFetchOptions, which oc-mob never calls;
    // Node's own Headers serves (looked up only when used: the global loads undici), and node-fetch
    // (with its URL and punycode tables) stays out.
    b.onResolve({filter: /^node-fetch$/}, (args) => (args.importer.endsWith(`client-node${path.sep}dist${path.sep}config.js`)
      ? {namespace: 'oc-mob-stub', path: 'node-fetch-headers'}
      : undefined))
    b.onLoad({filter: /.*/, namespace: 'oc-mob-stub'}, (args) => ({
      contents: args.path === 'node-fetch-headers'
        ? 'export class Headers { constructor(init) { return new globalThis.Headers(init) } }'
        : `const unused = () => { throw new Error('the generated client-node API is not part of oc-mob') }
export const createConfiguration = unused
export class ServerConfiguration { constructor() { unused() } }`,
      loader: 'js',
    }))
  },
}

fs.rmSync(dist, {force: true, recursive: true})
const result = await build({
  absWorkingDir: root,
  banner: {
    // CommonJS dependencies inside an ES module bundle still call require().
    js: "import {createRequire as __ocMobCreateRequire} from 'node:module';const require=__ocMobCreateRequire(import.meta.url);",
  },
  bundle: true,
  chunkNames: 'chunks/[name]-[hash]',
  entryPoints: [path.join(src, 'index.ts'), ...commandEntries(path.join(src, 'commands'))],
  // Only used by oclif when running TypeScript sources (bin/dev.js), never by the shipped CLI.
  external: ['typescript', 'tsx', 'tsx/*', 'ts-node'],
  format: 'esm',
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
  minify: true,
  outbase: src,
  outdir: dist,
  platform: 'node',
  plugins: [stubGenerated],
  sourcemap: false,
  splitting: true,
  target: 'node20',
})
fs.writeFileSync(path.join(dist, 'meta.json'), JSON.stringify(result.metafile))

// The oclif manifest, so that no command module is loaded to list commands or flags.
execFileSync(process.execPath, [path.join(root, 'node_modules', 'oclif', 'bin', 'run.js'), 'manifest'], {cwd: root, stdio: ['ignore', 'ignore', 'inherit']})

// Help texts, rendered by oclif itself at its default width for non-terminals.
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'oclif.manifest.json'), 'utf8'))
const helpDir = path.join(dist, 'help')
fs.mkdirSync(helpDir, {recursive: true})
const render = (args) => execFileSync(process.execPath, [path.join(root, 'bin', 'run.js'), ...args], {
  cwd: root, encoding: 'utf8', env: {...process.env, OC_MOB_NO_FAST_PATH: '1', NO_COLOR: '1', OCLIF_COLUMNS: '80'},
})
fs.writeFileSync(path.join(helpDir, 'index.txt'), render(['--help']))
for (const id of Object.keys(manifest.commands)) {
  if (manifest.commands[id].hidden) continue
  fs.writeFileSync(path.join(helpDir, `${id.replaceAll(':', ' ')}.txt`), render([...id.split(':'), '--help']))
}

const bytes = fs.readdirSync(dist, {recursive: true}).filter((f) => String(f).endsWith('.js'))
  .reduce((n, f) => n + fs.statSync(path.join(dist, String(f))).size, 0)
process.stderr.write(`built dist/: ${Object.keys(manifest.commands).length} commands, ${(bytes / 1_048_576).toFixed(1)} MiB of JavaScript\n`)
