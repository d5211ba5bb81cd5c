#!/usr/bin/env node
// Run by npm after installing the package (package.json's postinstall). The package carries code
// caches made for the Node that built it (dist/code-cache/v8-<V8 version>-<arch>/, see
// scripts/code-cache.ts); V8 refuses them on any other Node, whose first run would then compile the
// whole bundle. On such a Node this makes one for it: a child process runs `status -o json` once
// against a stand-in API server on loopback that answers every request 401, and what that run
// compiled (oclif, the kubeconfig and client code, the request and error paths: most of what any
// command compiles) is kept in this Node's folder as installed.bin, which a command borrows on its
// first run (src/boot/compile-cache.ts) before writing its own. Nothing leaves the machine, and no
// kubeconfig or cache of the user's is read or written. It never fails the install: anything that
// goes wrong leaves the package as it was.
const {spawnSync} = require('node:child_process')
const fs = require('node:fs')
const http = require('node:http')
const os = require('node:os')
const path = require('node:path')
const {pathToFileURL} = require('node:url')

const ROOT = path.join(__dirname, '..')
const BOOT = path.join(ROOT, 'dist', 'boot.js')
// Named as no command is (cacheKey), so that only borrowing finds it.
const NAME = 'installed.bin'

/** The install step: makes installed.bin when this Node has no folder of caches in the package. */
function install() {
  // A checkout not built yet (npm ci in the source tree): nothing to cache.
  if (!fs.existsSync(BOOT)) return
  const boot = require(BOOT)
  // Caching turned off (OC_MOB_NO_COMPILE_CACHE), as the CLI reads it.
  if (boot.defaultCacheDir() === undefined) return
  const folder = boot.shippedFolder(path.join(ROOT, 'dist', 'code-cache'))
  // Made for this Node when the package was built, or by an earlier install.
  if (fs.existsSync(folder)) return
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-mob-install-'))
  try {
    const out = path.join(tmp, NAME)
    spawnSync(process.execPath, [__filename, '--run', tmp, out], {
      // Only what the run needs: no NODE_OPTIONS (V8 takes a cache only under the flags it was made
      // with), a home of its own.
      env: {HOME: tmp, NO_COLOR: '1', PATH: process.env.PATH ?? '', XDG_CACHE_HOME: path.join(tmp, 'cache')},
      stdio: 'ignore',
      timeout: 30_000,
    })
    if (!fs.existsSync(out)) return
    fs.mkdirSync(folder, {recursive: true})
    // Written aside and renamed, so that a command starting meanwhile never reads half a cache;
    // readable by every user of the installation, as the package's other caches.
    const aside = path.join(folder, `${NAME}.${process.pid}.tmp`)
    fs.copyFileSync(out, aside)
    fs.chmodSync(aside, 0o644)
    fs.renameSync(aside, path.join(folder, NAME))
  } catch {
    // Not writable, or the copy failed: no folder left half made (it would stop a later install
    // from making it), and a first run compiles everything, as without it.
    try {
      fs.rmSync(folder, {force: true, recursive: true})
    } catch {
      // Nothing there to remove.
    }
  } finally {
    fs.rmSync(tmp, {force: true, recursive: true})
  }
}

/** The child: the bundle loaded as bin/run.cjs loads it, `status -o json` run, its cache kept at `out`. */
function run(tmp, out) {
  const unauthorized = JSON.stringify({
    apiVersion: 'v1',
    code: 401,
    kind: 'Status',
    message: 'Unauthorized',
    reason: 'Unauthorized',
    status: 'Failure',
  })
  const server = http.createServer((req, res) => {
    req.resume()
    res.writeHead(401, {'content-type': 'application/json'})
    res.end(unauthorized)
  })
  server.unref()
  server.listen(0, '127.0.0.1', () => {
    const kubeconfig = path.join(tmp, 'kubeconfig')
    // JSON is YAML. Plain HTTP needs insecure-skip-tls-verify (the kubeconfig client's rule for tokens over HTTP).
    const url = `http://127.0.0.1:${server.address().port}`
    const kc = {
      apiVersion: 'v1',
      clusters: [{cluster: {'insecure-skip-tls-verify': true, server: url}, name: 'install'}],
      contexts: [{context: {cluster: 'install', user: 'install'}, name: 'install'}],
      'current-context': 'install',
      kind: 'Config',
      users: [{name: 'install', user: {token: 'install'}}],
    }
    fs.writeFileSync(kubeconfig, JSON.stringify(kc), {mode: 0o600})
    process.env.KUBECONFIG = kubeconfig
    const boot = require(BOOT)
    const file = path.join(ROOT, 'dist', 'index.js')
    // The same name as bin/run.cjs gives it: a cache carries the name it was made under.
    const loaded = boot.loadBundle({
      buildId: boot.BUILD_ID,
      cacheDir: path.join(tmp, 'cache'),
      file,
      key: 'status',
      name: 'oc-mob/dist/index.js',
    })
    // The run fails (401) and exits: what it compiled is kept all the same.
    process.once('exit', () => {
      if (loaded.save()) fs.renameSync(loaded.cacheFile, out)
    })
    loaded.exports.execute({args: ['status', '-o', 'json'], dir: pathToFileURL(path.join(__dirname, 'run.cjs')).href})
  })
}

if (process.argv[2] === '--run') run(process.argv[3], process.argv[4])
else install()
