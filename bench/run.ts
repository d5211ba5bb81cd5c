/**
 * `npm run bench [-- --quick] [-- NAME...]`: every benchmark under bench/, one after another, and one
 * table of figures with each ratio against the baseline measured in the same run.
 *
 * Each bench/<name>.bench.ts exports `run({quick})` returning BenchResult rows. Performance targets
 * live here, as figures to read — never as timed assertions in the test suite.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {baselineNotes} from './kubectl.js'

export interface BenchResult {
  name: string
  value: number
  unit: string
  baseline?: string
  ratio?: number
  target?: string
  ok?: boolean
}

const DIR = path.dirname(fileURLToPath(import.meta.url))

export function benchFiles(only: string[] = []): string[] {
  return fs
    .readdirSync(DIR)
    .filter((f) => f.endsWith('.bench.ts'))
    .filter((f) => only.length === 0 || only.includes(f.replace(/\.bench\.ts$/, '')))
    .sort()
}

export async function runAll(opts: {
  quick: boolean
  only?: string[]
  log?: (line: string) => void
}): Promise<Array<BenchResult & {bench: string}>> {
  const rows: Array<BenchResult & {bench: string}> = []
  for (const file of benchFiles(opts.only)) {
    const bench = file.replace(/\.bench\.ts$/, '')
    opts.log?.(`running ${bench}${opts.quick ? ' (quick)' : ''}...`)
    const mod = (await import(pathToFileURL(path.join(DIR, file)).href)) as {run: (o: {quick: boolean}) => Promise<BenchResult[]>}
    const results = await mod.run({quick: opts.quick})
    for (const r of results) rows.push({...r, bench})
  }

  return rows
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n)
  if (Math.abs(n) >= 100) return n.toFixed(0)
  if (Math.abs(n) >= 10) return n.toFixed(1)
  return n.toFixed(2)
}

export function table(rows: Array<BenchResult & {bench: string}>): string {
  const cells = rows.map((r) => [
    r.bench,
    r.name,
    `${fmt(r.value)} ${r.unit}`,
    r.baseline ?? '',
    r.ratio === undefined ? '' : `${fmt(r.ratio)}x`,
    r.target ?? '',
    r.ok === undefined ? '' : r.ok ? 'ok' : 'MISSED',
  ])
  const head = ['BENCH', 'MEASURE', 'VALUE', 'BASELINE', 'RATIO', 'TARGET', '']
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)))
  return [head, ...cells]
    .map((c) =>
      c
        .map((v, i) => v.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}

/**
 * For a bench file run by itself (`npx tsx bench/NAME.bench.ts [--quick]`): run it, print its table
 * and exit (1 when a target was missed). Does nothing when the file is imported.
 */
export async function standalone(moduleUrl: string, run: (o: {quick: boolean}) => Promise<BenchResult[]>): Promise<void> {
  if (!process.argv[1] || fileURLToPath(moduleUrl) !== path.resolve(process.argv[1])) return
  const bench = path.basename(fileURLToPath(moduleUrl)).replace(/\.bench\.ts$/, '')
  try {
    const rows = await run({quick: process.argv.includes('--quick')})
    for (const note of baselineNotes()) process.stdout.write(`${note}\n`)
    process.stdout.write(table(rows.map((r) => ({...r, bench}))) + '\n')
    process.exit(rows.some((r) => r.ok === false) ? 1 : 0)
  } catch (error) {
    process.stderr.write(`benchmark failed: ${(error as Error).stack ?? String(error)}\n`)
    process.exit(2)
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2)
  const quick = args.includes('--quick')
  const only = args.filter((a) => !a.startsWith('--'))
  const started = Date.now()
  const rows = await runAll({log: (l) => process.stderr.write(`${l}\n`), only, quick})
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU'
  process.stdout.write(
    `\noc-mob benchmarks${quick ? ' (quick)' : ''} on ${os.cpus().length} x ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}\n`,
  )
  for (const note of baselineNotes()) process.stdout.write(`${note}\n`)
  process.stdout.write('\n')
  process.stdout.write(table(rows) + '\n')
  const missed = rows.filter((r) => r.ok === false)
  process.stdout.write(`\n${rows.length} figures in ${Math.round((Date.now() - started) / 1000)}s; ${missed.length} target(s) missed\n`)
  fs.mkdirSync(path.join(DIR, '..', '.bench'), {recursive: true})
  fs.writeFileSync(
    path.join(DIR, '..', '.bench', quick ? 'quick.json' : 'results.json'),
    JSON.stringify({baselines: baselineNotes(), cpu, node: process.version, quick, rows, time: new Date().toISOString()}, null, 2),
  )
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`benchmark failed: ${(error as Error).stack ?? String(error)}\n`)
      process.exit(1)
    },
  )
}
