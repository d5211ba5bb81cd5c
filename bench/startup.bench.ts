/**
 * Start-up: how quick oc-mob answers, as shipped (`npm pack`, the bundled dist/ through bin/run.cjs), against
 * `node -e 0` (the floor for any Node CLI) and `kubectl` (what an admin compares it with), measured
 * in the same run. Targets: --version and --help at most 1.5x node; status -o json (3 pools, 6 nodes)
 * at most 2x node, with and without the code cache; dockerfile --export at most 3x node; peak memory
 * of each under 150 MB. Commands run with a code cache, as every run after a user's first does (the
 * one the package carries for status, or the one their warm-up run wrote); first runs are reported
 * beside them: status's first after installing (with the package's cache for this Node), a command's
 * first after another's (it borrows that one's cache), one with no usable cache at all, and status's
 * first on another Node after installing (it borrows the cache npm's postinstall made).
 *
 * `npx tsx bench/startup.bench.ts [--quick]`.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {startEmulator} from '../emulator/index.js'
import {packedCli} from './packed.js'
import {loadFixture} from '../emulator/sim/index.js'
import {type BenchResult, standalone} from './run.js'
import {measure, measureAgainst, once} from './measure.js'
import {kubectlFor} from './kubectl.js'

export async function run(opts: {quick: boolean}): Promise<BenchResult[]> {
  const RUN = packedCli()
  const runs = opts.quick ? 3 : 21
  const results: BenchResult[] = []
  const node = await measure(process.execPath, ['-e', '0'], runs)
  results.push({name: 'node -e 0 (baseline)', unit: 'ms', value: node.median})
  // Each command runs in turn with `node -e 0`, and its ratio is to the node runs taken beside it.
  const NODE = {args: ['-e', '0'], cmd: process.execPath}
  const ratioRow = (name: string, m: {median: number; baselineMedian: number}, target: number): BenchResult => ({
    baseline: `node -e 0: ${m.baselineMedian.toFixed(0)} ms`,
    name,
    ok: m.median / m.baselineMedian <= target,
    ratio: m.median / m.baselineMedian,
    target: `<= ${target}x node`,
    unit: 'ms',
    value: m.median,
  })

  const memRows: BenchResult[] = []
  const mem = (name: string, m: {peakMb: number}): void => {
    memRows.push({name: `${name} peak memory`, ok: m.peakMb < 150, target: '< 150 MB', unit: 'MB', value: m.peakMb})
  }

  for (const args of [['--version'], ['--help']]) {
    const m = await measureAgainst(NODE, process.execPath, [RUN, ...args], runs)
    results.push(ratioRow(`oc-mob ${args[0]}`, m, 1.5))
    mem(`oc-mob ${args[0]}`, m)
  }

  // A small cluster: the default fixture has 2 pools and 5 nodes; one more pool and node make 3 and 6.
  const objects = loadFixture()
  const worker = objects.find((o) => o.kind === 'Node' && o.metadata?.labels?.['node-role.kubernetes.io/worker'] !== undefined)!
  objects.push({
    ...structuredClone(worker),
    metadata: {...structuredClone(worker.metadata), name: 'ip-10-0-99-1.us-east-2.compute.internal', uid: undefined},
  })
  const pool = objects.find((o) => o.kind === 'MachineConfigPool' && o.metadata?.name === 'worker')!
  objects.push({...structuredClone(pool), metadata: {...structuredClone(pool.metadata), name: 'infra', uid: undefined}})
  const emu = await startEmulator({groups: {machineOS: false}, objects}) // a 4.14 cluster: dockerfile renders the pool's Dockerfile
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-mob-bench-home-'))
  const env = {...process.env, HOME: home, KUBECONFIG: emu.kubeconfig, NO_COLOR: '1', XDG_CACHE_HOME: path.join(home, '.cache')}
  try {
    // From the code cache the package carries for status (made for this Node when it was packed).
    const status = await measureAgainst(NODE, process.execPath, [RUN, 'status', '-o', 'json'], runs, {env})
    results.push(ratioRow('oc-mob status -o json (3 pools, 6 nodes)', status, 2))
    mem('oc-mob status -o json', status)
    // The real kubectl binary (bench/kubectl.ts), not a dispatcher in front of it.
    const k = await kubectlFor(emu)
    if ('skipped' in k) {
      results.push({baseline: k.skipped, name: 'oc-mob status -o json vs kubectl', unit: 'ms', value: status.median})
    } else {
      const kubectl = await measure(k.path, ['get', 'mcp,nodes', '-o', 'json'], runs, {env})
      results.push({name: 'kubectl get mcp,nodes -o json', unit: 'ms', value: kubectl.median})
      results.push({
        baseline: 'kubectl get mcp,nodes -o json',
        name: 'oc-mob status -o json vs kubectl',
        ratio: status.median / kubectl.median,
        unit: 'ms',
        value: status.median,
      })
    }

    const ctx = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-mob-bench-ctx-'))
    const exp = await measureAgainst(NODE, process.execPath, [RUN, 'dockerfile', 'worker', '--export', ctx, '--force'], runs, {env})
    results.push(ratioRow('oc-mob dockerfile --export (no build)', exp, 3))
    mem('oc-mob dockerfile --export', exp)

    // First runs, as a user's: the first after installing (no cache of the user's yet: the one the
    // package ships for status, made when it was built for this Node, serves as status's own); a
    // command's first after status ran (dockerfile borrows status's cache and writes its own); and
    // one with no usable cache at all, as on a Node other than the one that built the package.
    const caches = path.join(home, '.cache', 'oc-mob', 'compile-cache')
    const fresh = (): void => fs.rmSync(caches, {force: true, recursive: true})
    // status's first runs, each after the user's caches are gone, with the cache it used as --debug
    // says it (`expect` in that line; e.g. none, when NODE_OPTIONS sets V8 flags).
    const statusFirstRun = async (name: string, expect: string, which: string): Promise<BenchResult> => {
      fresh()
      const used = (await once(process.execPath, [RUN, 'status', '-o', 'json', '--debug'], {env})).stderr.split('\n')[0]
      const m = await measureAgainst(NODE, process.execPath, [RUN, 'status', '-o', 'json'], runs, {before: fresh, env})
      const row = ratioRow(name, m, 2)
      return {...row, baseline: `${row.baseline}, ${used.includes(expect) ? which : `NOT ${which}: ${used}`}`}
    }
    results.push(
      await statusFirstRun('oc-mob status -o json, first run after installing', 'made when oc-mob was built', "the package's cache"),
    )
    // (status's first run wrote no cache: the package's served as its own.)
    const noDockerfileCache = (): void => {
      for (const build of fs.existsSync(caches) ? fs.readdirSync(caches) : [])
        fs.rmSync(path.join(caches, build, 'dockerfile.bin'), {force: true})
    }
    const first = await measureAgainst(NODE, process.execPath, [RUN, 'dockerfile', 'worker', '--export', ctx, '--force'], runs, {
      before: noDockerfileCache,
      env,
    })
    results.push(ratioRow("oc-mob dockerfile --export, first run after status's", first, 3))
    const none = await measureAgainst(NODE, process.execPath, [RUN, 'status', '-o', 'json'], runs, {
      env: {...env, OC_MOB_NO_COMPILE_CACHE: '1'},
    })
    results.push(ratioRow('oc-mob status -o json, no code cache at all (another Node)', none, 2))
    // status's first run on a Node the package carries no caches for, after installing: npm ran the
    // package's postinstall (bin/install-cache.cjs), which made a cache for that Node, and the run
    // borrows it. Played by setting this Node's folder of the package's caches aside meanwhile.
    const folder = path.join(path.resolve(RUN, '..', '..'), 'dist', 'code-cache', `v8-${process.versions.v8}-${process.arch}`)
    fs.renameSync(folder, `${folder}.aside`)
    try {
      await once(process.execPath, [path.resolve(RUN, '..', 'install-cache.cjs')], {env})
      const name = "oc-mob status -o json, first run on another Node after installing (the install's cache)"
      if (!fs.existsSync(path.join(folder, 'installed.bin'))) throw new Error('bin/install-cache.cjs made no installed.bin')
      results.push(await statusFirstRun(name, 'borrowed', 'borrowing installed.bin'))
    } finally {
      fs.rmSync(folder, {force: true, recursive: true})
      fs.renameSync(`${folder}.aside`, folder)
    }
    fs.rmSync(ctx, {force: true, recursive: true})
  } finally {
    await emu.close()
    fs.rmSync(home, {force: true, recursive: true})
  }

  return [...results, ...memRows]
}

await standalone(import.meta.url, run)
