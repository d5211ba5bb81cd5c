import {expect} from 'chai'
import {execa} from 'execa'
import {createHash} from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import {parse} from 'yaml'
import type {Emulator} from '../../emulator/index.js'
import {basicCluster, ROOT, startEmulator} from './harness.js'

// What ships, installed the way users install it: `npm pack`, then `npm install -g` of the tarball
// into a private prefix, then the commands through oc-mob, kubectl-mob and `kubectl mob`.
describe('the packaged CLI (npm pack, npm install -g, kubectl plugin, krew)', function () {
  this.timeout(600_000)
  let tmp: string
  let prefix: string
  let emu: Emulator
  let env: Record<string, string>
  let tgz: string

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-mob-pack-'))
    prefix = path.join(tmp, 'prefix')
    const packed = await execa('npm', ['pack', '--pack-destination', tmp, '--silent'], {cwd: ROOT})
    tgz = path.join(tmp, String(packed.stdout).trim().split('\n').at(-1)!)
    await execa('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tgz], {cwd: tmp})
    emu = await startEmulator({objects: basicCluster()})
    env = {
      HOME: tmp,
      KUBECONFIG: emu.kubeconfig,
      NO_COLOR: '1',
      PATH: `${path.join(prefix, 'bin')}${path.delimiter}${process.env.PATH}`,
      XDG_CACHE_HOME: path.join(tmp, 'cache'),
    }
  })

  after(async () => {
    await emu?.close()
    if (tmp) fs.rmSync(tmp, {force: true, recursive: true})
  })

  const sh = (cmd: string, args: string[]) => execa(cmd, args, {env, extendEnv: true, reject: false})

  it('installs oc-mob, kubectl-mob and kubectl_complete-mob on PATH', () => {
    for (const bin of ['oc-mob', 'kubectl-mob', 'kubectl_complete-mob'])
      expect(fs.existsSync(path.join(prefix, 'bin', bin)), bin).to.equal(true)
  })

  it('answers --version and --help, and talks to the cluster as oc-mob and kubectl-mob', async () => {
    const version = await sh('oc-mob', ['--version'])
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
    expect(String(version.stdout)).to.equal(`oc-mob/${pkg.version} ${process.platform}-${process.arch} node-${process.version}`)
    const help = await sh('oc-mob', ['--help'])
    expect(String(help.stdout)).to.include('status').and.include('build')
    for (const bin of ['oc-mob', 'kubectl-mob']) {
      const r = await sh(bin, ['status', '-o', 'json'])
      expect(r.exitCode, String(r.stderr)).to.equal(0)
      expect(JSON.parse(String(r.stdout)).pools.map((p: {name: string}) => p.name)).to.deep.equal(['master', 'worker'])
    }
  })

  it('reaches the cluster through a kubeconfig socks5 proxy-url (the proxy agent the bundle loads on demand)', async () => {
    const proxy = await socks5Proxy()
    try {
      const kc = parse(fs.readFileSync(emu.kubeconfig, 'utf8'))
      kc.clusters[0].cluster['proxy-url'] = `socks5://127.0.0.1:${proxy.port}`
      const file = path.join(tmp, 'kubeconfig-socks')
      fs.writeFileSync(file, JSON.stringify(kc))
      const r = await sh('oc-mob', ['status', '-o', 'json', '--kubeconfig', file])
      expect(r.exitCode, String(r.stderr)).to.equal(0)
      expect(JSON.parse(String(r.stdout)).pools.map((p: {name: string}) => p.name)).to.deep.equal(['master', 'worker'])
      expect(proxy.connections(), 'connections through the proxy').to.be.greaterThan(0)
    } finally {
      proxy.close()
    }
  })

  it('ships code caches for the Node that built it: status runs from them at once, other commands borrow them', async () => {
    const shipped = path.join(prefix, 'lib', 'node_modules', 'oc-mob', 'dist', 'code-cache', `v8-${process.versions.v8}-${process.arch}`)
    expect(fs.readdirSync(shipped).sort()).to.deep.equal(['_connect.bin', 'status.bin'])
    for (const f of fs.readdirSync(shipped)) expect(fs.statSync(path.join(shipped, f)).mode & 0o777, f).to.equal(0o644)
    const cacheRoot = path.join(tmp, 'cache', 'oc-mob', 'compile-cache')
    fs.rmSync(cacheRoot, {force: true, recursive: true})
    const first = await sh('oc-mob', ['status', '-o', 'json', '--debug'])
    expect(first.exitCode, String(first.stderr)).to.equal(0)
    expect(String(first.stderr).split('\n')[0]).to.equal("debug: code cache: this command's, made when oc-mob was built (for this Node)")
    expect(fs.existsSync(cacheRoot), 'nothing to write: the package had it').to.equal(false)
    const other = await sh('oc-mob', ['cleanup', 'worker', '--dry-run', '--debug'])
    expect(other.exitCode, String(other.stderr)).to.equal(0)
    expect(String(other.stderr)).to.include("debug: code cache: borrowed from another run (this command's own is written after this run)")
    const [build] = fs.readdirSync(cacheRoot)
    expect(fs.readdirSync(path.join(cacheRoot, build))).to.deep.equal(['cleanup.bin'])
    const again = await sh('oc-mob', ['cleanup', 'worker', '--dry-run', '--debug'])
    expect(String(again.stderr)).to.include("debug: code cache: this command's own\n")
    expect(String(again.stdout)).to.equal(String(other.stdout))
  })

  it('on a Node the package has no caches for, installing makes one that first runs borrow (and never fails the install)', async () => {
    // The package as another Node meets it: no folder of caches for its V8.
    const other = path.join(tmp, 'other')
    fs.mkdirSync(other)
    await execa('tar', ['xzf', tgz, '-C', other])
    fs.rmSync(path.join(other, 'package', 'dist', 'code-cache'), {force: true, recursive: true})
    const otherTgz = path.join(tmp, 'oc-mob-other.tgz')
    await execa('tar', ['czf', otherTgz, '-C', other, 'package'])
    const prefix2 = path.join(tmp, 'prefix2')
    const cache = path.join(tmp, 'cache2')
    const tmpBefore = fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('oc-mob-install-'))
    const installed = await execa('npm', ['install', '-g', '--prefix', prefix2, '--prefer-offline', '--no-audit', '--no-fund', otherTgz], {
      cwd: tmp,
      env: {...env, XDG_CACHE_HOME: cache},
      extendEnv: true,
    })
    expect(installed.exitCode).to.equal(0)
    const pkg = path.join(prefix2, 'lib', 'node_modules', 'oc-mob')
    const folder = path.join(pkg, 'dist', 'code-cache', `v8-${process.versions.v8}-${process.arch}`)
    expect(fs.readdirSync(folder)).to.deep.equal(['installed.bin'])
    const made = fs.statSync(path.join(folder, 'installed.bin'))
    expect(made.mode & 0o777).to.equal(0o644)
    expect(made.size).to.be.greaterThan(100_000)
    // Nothing of the user's touched, nothing left behind.
    expect(fs.existsSync(path.join(cache, 'oc-mob')), "the user's cache").to.equal(false)
    expect(fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('oc-mob-install-'))).to.deep.equal(tmpBefore)

    // status's first run borrows it, writes its own, and answers as ever.
    const run = (args: string[], extra: Record<string, string> = {}) =>
      execa(process.execPath, [path.join(pkg, 'bin', 'run.cjs'), ...args], {
        env: {...env, XDG_CACHE_HOME: cache, ...extra},
        extendEnv: true,
        reject: false,
      })
    const first = await run(['status', '-o', 'json', '--debug'])
    expect(first.exitCode, String(first.stderr)).to.equal(0)
    expect(String(first.stderr).split('\n')[0]).to.equal(
      "debug: code cache: borrowed from another run (this command's own is written after this run)",
    )
    expect(JSON.parse(String(first.stdout)).pools.map((p: {name: string}) => p.name)).to.deep.equal(['master', 'worker'])
    const [build] = fs.readdirSync(path.join(cache, 'oc-mob', 'compile-cache'))
    expect(fs.readdirSync(path.join(cache, 'oc-mob', 'compile-cache', build!)).sort()).to.deep.equal(['_connect.bin', 'status.bin'])
    const second = await run(['status', '-o', 'json', '--debug'])
    expect(String(second.stderr).split('\n')[0]).to.equal("debug: code cache: this command's own")

    // Run again (npm rebuild, a reinstall over it): the folder is there, nothing is redone.
    const step = (dir: string, extra: Record<string, string> = {}) =>
      execa(process.execPath, [path.join(dir, 'bin', 'install-cache.cjs')], {env: {...env, ...extra}, extendEnv: true, reject: false})
    const again = await step(pkg)
    expect([again.exitCode, String(again.stdout), String(again.stderr)]).to.deep.equal([0, '', ''])
    expect(fs.statSync(path.join(folder, 'installed.bin')).mtimeMs).to.equal(made.mtimeMs)

    // Turned off, or a run that fails (here a damaged bundle): no cache, no folder, and still exit 0.
    const copy = path.join(tmp, 'copy')
    fs.cpSync(pkg, copy, {recursive: true})
    fs.rmSync(path.join(copy, 'dist', 'code-cache'), {force: true, recursive: true})
    const off = await step(copy, {OC_MOB_NO_COMPILE_CACHE: '1'})
    expect([off.exitCode, String(off.stdout), String(off.stderr)]).to.deep.equal([0, '', ''])
    expect(fs.existsSync(path.join(copy, 'dist', 'code-cache'))).to.equal(false)
    // A package it cannot write into (here its code-cache folder cannot be made): the same.
    fs.writeFileSync(path.join(copy, 'dist', 'code-cache'), 'in the way')
    const unwritable = await step(copy)
    expect([unwritable.exitCode, String(unwritable.stdout), String(unwritable.stderr)]).to.deep.equal([0, '', ''])
    expect(fs.readFileSync(path.join(copy, 'dist', 'code-cache'), 'utf8')).to.equal('in the way')
    fs.rmSync(path.join(copy, 'dist', 'code-cache'))
    fs.writeFileSync(path.join(copy, 'dist', 'index.js'), 'throw new Error("damaged")')
    const broken = await step(copy)
    expect([broken.exitCode, String(broken.stdout), String(broken.stderr)]).to.deep.equal([0, '', ''])
    expect(fs.existsSync(path.join(copy, 'dist', 'code-cache'))).to.equal(false)
    // A checkout not built yet (npm ci in the source tree): nothing to do.
    fs.rmSync(path.join(copy, 'dist'), {force: true, recursive: true})
    const unbuilt = await step(copy)
    expect([unbuilt.exitCode, String(unbuilt.stdout), String(unbuilt.stderr)]).to.deep.equal([0, '', ''])
    expect(fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('oc-mob-install-'))).to.deep.equal(tmpBefore)
  })

  it('keeps a code cache per command after a successful run, runs the same from it, and shrugs off a damaged one', async () => {
    const cacheRoot = path.join(tmp, 'cache', 'oc-mob', 'compile-cache')
    fs.rmSync(cacheRoot, {force: true, recursive: true})
    const runs: Record<string, string[]> = {}
    // help and autocomplete are oclif's own commands, bundled: they must run from a cache too.
    const lines = [
      ['status', '-o', 'json'],
      ['help', 'status', 'nodes'],
      ['autocomplete', 'bash'],
      ['cleanup', 'worker', '--dry-run'],
    ]
    for (let i = 0; i < 2; i++) {
      for (const args of lines) {
        const r = await sh('oc-mob', args)
        expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).to.equal(0)
        expect(String(r.stderr), args.join(' ')).to.not.match(/error|warn/i)
        ;(runs[args.join(' ')] ??= []).push(String(r.stdout).replace(/"age": "[^"]*"/g, ''))
      }
    }

    for (const [line, [first, second]] of Object.entries(runs)) expect(second, line).to.equal(first)
    const [build] = fs.readdirSync(cacheRoot)
    expect(build).to.match(new RegExp(`^[0-9a-f]{16}-[0-9a-f]{12}-v8-${process.versions.v8.replaceAll('.', '\\.')}-${process.arch}$`))
    // status's and the early connection's script's come with the package (the test above)
    expect(fs.readdirSync(path.join(cacheRoot, build)).sort()).to.deep.equal(['autocomplete.bin', 'cleanup.bin', 'help.bin'])

    // A failed run writes no cache; a damaged cache is replaced after the next successful run.
    const r = await sh('oc-mob', ['rollback', 'no-such-pool', '--to', '1', '--yes'])
    expect(r.exitCode).to.not.equal(0)
    expect(fs.existsSync(path.join(cacheRoot, build, 'rollback.bin'))).to.equal(false)
    const cleanup = path.join(cacheRoot, build, 'cleanup.bin')
    fs.writeFileSync(cleanup, 'garbage')
    const again = await sh('oc-mob', ['cleanup', 'worker', '--dry-run'])
    expect(again.exitCode, String(again.stderr)).to.equal(0)
    expect(fs.statSync(cleanup).size).to.be.greaterThan(100_000)

    // Turned off: nothing is written.
    fs.rmSync(cacheRoot, {force: true, recursive: true})
    const off = await execa('oc-mob', ['status', '-o', 'json'], {
      env: {...env, OC_MOB_NO_COMPILE_CACHE: '1'},
      extendEnv: true,
      reject: false,
    })
    expect(off.exitCode).to.equal(0)
    expect(fs.existsSync(cacheRoot)).to.equal(false)
  })

  it('works as `kubectl mob` and shows in `kubectl plugin list`', async function () {
    if (!fs.existsSync('/usr/bin/kubectl')) this.skip()
    const list = await sh('kubectl', ['plugin', 'list'])
    expect(String(list.stdout)).to.include(path.join(prefix, 'bin', 'kubectl-mob'))
    const r = await sh('kubectl', ['mob', 'status', 'worker', '-o', 'json'])
    expect(r.exitCode, String(r.stderr)).to.equal(0)
    expect(JSON.parse(String(r.stdout)).nodes.map((n: {name: string}) => n.name)).to.deep.equal(['worker-0'])
    // kubectl completes plugin arguments through kubectl_complete-mob.
    const comp = await sh('kubectl', ['__complete', 'mob', 'st'])
    expect(String(comp.stdout).split('\n')).to.include('status')
  })

  it('completes commands, aliases, pool and node names, and contexts (kubectl_complete-mob)', async () => {
    const complete = async (...words: string[]) => String((await sh('kubectl_complete-mob', words)).stdout).split('\n')
    expect(await complete('m')).to.deep.equal(['machineconfig', 'mc', ':4'])
    expect(await complete('build', 'wo')).to.deep.equal(['worker', ':4'])
    expect(await complete('status', '')).to.deep.equal(['master', 'worker', ':4'])
    expect(await complete('rollback', '')).to.deep.equal(['master', 'node', 'worker', ':4'])
    expect(await complete('rollback', 'node', 'w')).to.deep.equal(['worker-0', ':4'])
    // nodes add POOL NODES...: the pool first, then any number of nodes (each offered once).
    expect(await complete('nodes', 'add', 'w')).to.deep.equal(['worker', ':4'])
    expect(await complete('nodes', 'add', 'worker', 'worker-0', '')).to.not.include('worker-0')
    expect(await complete('status', '--context', '')).to.deep.equal(['emulator', ':4'])
    expect(await complete('status', '--context=e')).to.deep.equal(['--context=emulator', ':4'])
    expect(await complete('setup', '--pool', 'm')).to.deep.equal(['master', ':4'])
    // A cluster that cannot be reached completes nothing, quickly, and says nothing.
    const away = await execa('kubectl_complete-mob', ['build', ''], {
      env: {...env, KUBECONFIG: path.join(tmp, 'none')},
      extendEnv: true,
      reject: false,
    })
    expect(String(away.stdout)).to.equal(':4')
    expect(String(away.stderr)).to.equal('')
  })

  it('generates a krew manifest whose archive runs without node_modules', async () => {
    const out = path.join(tmp, 'krew')
    const r = await execa(
      'node',
      [path.join(ROOT, 'scripts', 'krew.mjs'), '--out', out, '--base-url', 'https://example.invalid/releases/v1'],
      {cwd: ROOT},
    )
    expect(r.exitCode).to.equal(0)
    const manifest = parse(fs.readFileSync(path.join(out, 'mob.yaml'), 'utf8'))
    expect(manifest).to.include({apiVersion: 'krew.googlecontainertools.github.com/v1alpha2', kind: 'Plugin'})
    expect(manifest.metadata.name).to.equal('mob')
    const archive = fs.readdirSync(out).find((f) => f.endsWith('.tar.gz'))!
    const sha = createHash('sha256')
      .update(fs.readFileSync(path.join(out, archive)))
      .digest('hex')
    expect(manifest.spec.platforms).to.have.length(4)
    for (const p of manifest.spec.platforms) {
      expect(p.sha256).to.equal(sha)
      expect(p.uri).to.equal(`https://example.invalid/releases/v1/${archive}`)
      expect(p.bin).to.equal('oc-mob/bin/run.cjs')
    }

    const unpacked = path.join(tmp, 'unpacked')
    fs.mkdirSync(unpacked)
    await execa('tar', ['xzf', path.join(out, archive), '-C', unpacked])
    expect(fs.existsSync(path.join(unpacked, 'oc-mob', 'node_modules'))).to.equal(false)
    const status = await execa(process.execPath, [path.join(unpacked, 'oc-mob', 'bin', 'run.cjs'), 'status', '-o', 'json'], {
      env,
      extendEnv: true,
      reject: false,
    })
    expect(status.exitCode, String(status.stderr)).to.equal(0)
    expect(String(status.stderr)).to.equal('')
  })
})

/** A SOCKS5 proxy on loopback (no authentication, CONNECT only), enough for one test; it only connects to 127.0.0.1. */
async function socks5Proxy(): Promise<{close(): void; connections(): number; port: number}> {
  let count = 0
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    sockets.add(client)
    client.on('close', () => sockets.delete(client))
    client.on('error', () => client.destroy())
    let buf = Buffer.alloc(0)
    let greeted = false
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk])
      if (!greeted) {
        if (buf.length < 2 || buf.length < 2 + buf[1]!) return
        buf = buf.subarray(2 + buf[1]!)
        greeted = true
        client.write(Buffer.from([5, 0]))
      }

      // CONNECT to an IPv4 address: VER CMD RSV ATYP=1 ADDR(4) PORT(2).
      if (buf.length < 10) return
      client.off('data', onData)
      const port = buf.readUInt16BE(8)
      const upstream = net.connect(port, '127.0.0.1', () => {
        count++
        client.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]))
        if (buf.length > 10) upstream.write(buf.subarray(10))
        client.pipe(upstream).pipe(client)
      })
      sockets.add(upstream)
      upstream.on('close', () => sockets.delete(upstream))
      upstream.on('error', () => client.destroy())
    }

    client.on('data', onData)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    close() {
      for (const s of sockets) s.destroy()
      server.close()
    },
    connections: () => count,
    port: (server.address() as net.AddressInfo).port,
  }
}

describe('a checkout that is not built', () => {
  it('says what to run instead of a module-not-found trace (exit 10)', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-mob-unbuilt-'))
    try {
      fs.mkdirSync(path.join(tmp, 'bin'))
      fs.copyFileSync(path.join(ROOT, 'bin', 'run.cjs'), path.join(tmp, 'bin', 'run.cjs'))
      fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(tmp, 'package.json'))
      const r = await execa(process.execPath, [path.join(tmp, 'bin', 'run.cjs'), 'status'], {reject: false})
      expect(r.exitCode).to.equal(10)
      expect(String(r.stderr)).to.equal(
        `error: oc-mob in ${tmp}/ is not built (dist/ is missing)\nnext: run \`npm ci && npm run build\` in ${tmp}/, or install a packed release (npm pack, then npm install -g ./oc-mob-*.tgz)`,
      )
      expect(String(r.stdout)).to.equal('')
    } finally {
      fs.rmSync(tmp, {force: true, recursive: true})
    }
  })
})
