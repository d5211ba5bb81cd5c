/**
 * Running a command for the benchmarks: wall time, and peak memory sampled from /proc/<pid>/status
 * (VmHWM, the resident high-water mark) until the process exits.
 */
import {spawn} from 'node:child_process'
import fs from 'node:fs'

export interface Sample {
  ms: number
  /** Peak resident set, MB. */
  peakMb: number
  stdout: string
  stderr: string
}

export function once(cmd: string, args: string[], opts: {env?: NodeJS.ProcessEnv; cwd?: string} = {}): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint()
    const child = spawn(cmd, args, {cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe']})
    let peak = 0
    let out = ''
    let err = ''
    const sample = (): void => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))
        if (m) peak = Math.max(peak, Number(m[1]) / 1024)
      } catch {
        // Exited.
      }
    }

    const timer = setInterval(sample, 2)
    child.on('spawn', sample)
    child.stdout.on('data', (d) => {
      out += String(d)
      sample()
    })
    child.stderr.on('data', (d) => {
      err += String(d)
    })
    child.on('exit', (code) => {
      clearInterval(timer)
      const ms = Number(process.hrtime.bigint() - started) / 1e6
      if (code === 0) resolve({ms, peakMb: peak, stderr: err, stdout: out})
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.slice(0, 800)}`))
    })
  })
}

/** One warm-up run, then `runs` runs: the median time, the highest peak memory, the warm-up's output. */
export async function measure(
  cmd: string,
  args: string[],
  runs: number,
  opts: {env?: NodeJS.ProcessEnv; cwd?: string} = {},
): Promise<{median: number; peakMb: number; stdout: string}> {
  const warm = await once(cmd, args, opts)
  const samples: Sample[] = []
  for (let i = 0; i < runs; i++) samples.push(await once(cmd, args, opts))
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b)
  return {median: ms[Math.floor(ms.length / 2)], peakMb: Math.max(warm.peakMb, ...samples.map((s) => s.peakMb)), stdout: warm.stdout}
}

/**
 * `measure`, with a baseline command run in turn with it (baseline, command, baseline, ...): on a
 * machine whose speed drifts (a shared VM), a baseline measured minutes earlier in a block of its own
 * makes the ratio drift with it; taken in turn, both see the same machine. `before` runs (untimed)
 * before each run of the command, e.g. to remove a cache so that every run is a first run.
 */
export async function measureAgainst(
  baseline: {cmd: string; args: string[]},
  cmd: string,
  args: string[],
  runs: number,
  opts: {env?: NodeJS.ProcessEnv; cwd?: string; before?: () => void} = {},
): Promise<{median: number; baselineMedian: number; peakMb: number; stdout: string}> {
  opts.before?.()
  const warm = await once(cmd, args, opts)
  await once(baseline.cmd, baseline.args)
  const samples: Sample[] = []
  const base: number[] = []
  for (let i = 0; i < runs; i++) {
    base.push((await once(baseline.cmd, baseline.args)).ms)
    opts.before?.()
    samples.push(await once(cmd, args, opts))
  }
  const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  return {
    baselineMedian: median(base),
    median: median(samples.map((s) => s.ms)),
    peakMb: Math.max(warm.peakMb, ...samples.map((s) => s.peakMb)),
    stdout: warm.stdout,
  }
}
