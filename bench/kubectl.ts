/**
 * The kubectl the benchmarks compare with: the real client binary, not a launcher in front of it.
 *
 * `kubectl` on PATH is not always kubectl itself. Some distributions (the Google Cloud SDK's, for one)
 * install a version dispatcher: a kubectl build that first asks the server for /version, then execs
 * `kubectl.<major>.<minor>` from its own folder, so every command costs two client start-ups and two
 * round trips. Others install a shell script that execs a binary elsewhere. Timing either would flatter
 * oc-mob, so the baseline is resolved to the binary that ends up serving the request:
 *
 * - `OC_MOB_BENCH_KUBECTL` (a path) wins when set;
 * - an executable that is not a dispatcher is used as it is;
 * - a dispatcher (its `version --client` says "dispatcher"), or a script, is replaced by the versioned
 *   binary it would run for the server's version: `kubectl.1.27`-like names in its folder or in the
 *   folders the script names, else the binary the script execs.
 *
 * Every baseline resolved is listed with its path and `version --client` in the bench output
 * (baselineNotes()).
 */
import {execFile} from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import {promisify} from 'node:util'

export interface KubectlBaseline {
  /** The binary measured. */
  path: string
  /** Its `version --client` (first line). */
  version: string
  /** How it was found, for the bench output. */
  how: string
}

export type Resolved = KubectlBaseline | {skipped: string}

export interface ResolveOptions {
  /** The server's gitVersion (e.g. v1.27.16+openshift): a dispatcher picks its binary by it. */
  serverVersion?: string
  env?: NodeJS.ProcessEnv
  /** `version --client` of a binary (replaceable in tests). */
  probe?: (bin: string) => Promise<string>
}

const VERSIONED = /^kubectl[._-]v?(\d+)\.(\d+)(?:\.\d+)?$/
const run = promisify(execFile)

/** `version --client` of a kubectl binary, as one line ("Client Version: v1.27.16"). */
export async function clientVersion(bin: string): Promise<string> {
  try {
    const {stdout} = await run(bin, ['version', '--client', '-o', 'json'], {timeout: 30_000})
    const v = (JSON.parse(stdout) as {clientVersion?: {gitVersion?: string}}).clientVersion?.gitVersion
    if (v) return `Client Version: ${v}`
  } catch {
    // Older or unusual clients: read the plain output below.
  }

  const {stdout, stderr} = await run(bin, ['version', '--client'], {timeout: 30_000}).catch(
    (error: {stdout?: string; stderr?: string}) => ({stderr: error.stderr ?? '', stdout: error.stdout ?? ''}),
  )
  const text = `${stdout}\n${stderr}`
  const m = /Client Version:\s*(v\d[\w.+-]*)/.exec(text) ?? /GitVersion:"(v[^"]+)"/.exec(text)
  if (!m) throw new Error(`${bin} version --client: no version in its output`)
  return `Client Version: ${m[1]}`
}

function executable(p: string): boolean {
  try {
    if (!fs.statSync(p).isFile()) return false
    fs.accessSync(p, fs.constants.X_OK)
    return true
  } catch {
    return false
  }
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory()
  } catch {
    return false
  }
}

function head(p: string, bytes: number): Buffer {
  const fd = fs.openSync(p, 'r')
  try {
    const buf = Buffer.alloc(bytes)
    return buf.subarray(0, fs.readSync(fd, buf, 0, bytes, 0))
  } finally {
    fs.closeSync(fd)
  }
}

export const isElf = (p: string): boolean => head(p, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))
export const isScript = (p: string): boolean => head(p, 2).toString('latin1') === '#!'

/** The first executable `name` on a PATH. */
export function onPath(name: string, pathEnv = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathEnv.split(path.delimiter)) {
    if (dir && executable(path.join(dir, name))) return path.join(dir, name)
  }

  return undefined
}

/** `kubectl.<major>.<minor>` binaries in a folder, with their versions. */
export function versionedIn(dir: string): Array<{path: string; major: number; minor: number}> {
  let names: string[] = []
  try {
    names = fs.readdirSync(dir)
  } catch {
    return []
  }

  return names.flatMap((n) => {
    const m = VERSIONED.exec(n)
    return m && executable(path.join(dir, n)) ? [{major: Number(m[1]), minor: Number(m[2]), path: path.join(dir, n)}] : []
  })
}

/**
 * The versioned binary a dispatcher runs for a server: the same major.minor, else the nearest minor
 * (a dispatcher falls back to a supported client within the version skew), else the newest.
 */
export function pickVersioned(
  list: Array<{path: string; major: number; minor: number}>,
  serverVersion?: string,
): {path: string; why: string} | undefined {
  if (list.length === 0) return undefined
  const sorted = [...list].sort((a, b) => b.major - a.major || b.minor - a.minor || a.path.localeCompare(b.path))
  const m = /^v?(\d+)\.(\d+)/.exec(serverVersion ?? '')
  if (!m) return {path: sorted[0].path, why: 'the newest; server version unknown'}
  const [major, minor] = [Number(m[1]), Number(m[2])]
  const exact = sorted.find((x) => x.major === major && x.minor === minor)
  if (exact) return {path: exact.path, why: `for server v${major}.${minor}`}
  const same = sorted
    .filter((x) => x.major === major)
    .sort((a, b) => Math.abs(a.minor - minor) - Math.abs(b.minor - minor) || b.minor - a.minor)
  if (same.length > 0) return {path: same[0].path, why: `nearest to server v${major}.${minor}`}
  return {path: sorted[0].path, why: `the newest; none for server v${major}.${minor}`}
}

/** What a launcher script runs: kubectl executables it names, and versioned ones in the folders it names or lives in. */
export function scriptTargets(script: string): {direct: string[]; versioned: Array<{path: string; major: number; minor: number}>} {
  const text = fs.readFileSync(script, 'utf8')
  const self = fs.realpathSync(script)
  const direct: string[] = []
  const dirs = new Set<string>([path.dirname(self)])
  for (const [token] of text.matchAll(/\/[\w.+@/-]+/g)) {
    const p = token.replace(/\/+$/, '') || '/'
    if (executable(p) && /^kubectl/.test(path.basename(p)) && fs.realpathSync(p) !== self && !direct.includes(p)) direct.push(p)
    if (isDir(p)) dirs.add(p)
    else if (p !== '/' && isDir(path.dirname(p)) && path.dirname(p) !== '/') dirs.add(path.dirname(p))
  }

  const versioned = [...dirs].flatMap((d) => versionedIn(d)).filter((v) => fs.realpathSync(v.path) !== self)
  const seen = new Set<string>()
  return {direct, versioned: versioned.filter((v) => !seen.has(v.path) && seen.add(v.path))}
}

/** The real kubectl behind `bin` (see the file's header). */
export async function resolveKubectl(opts: ResolveOptions = {}): Promise<Resolved> {
  const env = opts.env ?? process.env
  const probe = opts.probe ?? clientVersion
  const override = env.OC_MOB_BENCH_KUBECTL
  if (override) {
    if (!executable(override)) throw new Error(`OC_MOB_BENCH_KUBECTL=${override}: not an executable file`)
    return {how: 'set by OC_MOB_BENCH_KUBECTL', path: override, version: await probe(override)}
  }

  const found = onPath('kubectl', env.PATH ?? '')
  if (!found) return {skipped: 'kubectl not found: baseline skipped'}
  let bin = found
  const hops: string[] = []
  for (let depth = 0; depth < 4; depth++) {
    const real = fs.realpathSync(bin)
    if (real !== bin) hops.push(`${bin} -> ${real}`)
    if (isScript(real)) {
      const {direct, versioned} = scriptTargets(real)
      const pick = pickVersioned(versioned, opts.serverVersion) ?? (direct[0] ? {path: direct[0], why: 'the binary it execs'} : undefined)
      if (!pick) {
        if (depth > 0) break // a script a launcher ends with: the client itself
        return {skipped: `kubectl (${real}) is a script whose kubectl binary was not found (set OC_MOB_BENCH_KUBECTL): baseline skipped`}
      }

      hops.push(`a script running ${pick.path} (${pick.why})`)
      bin = pick.path
      continue
    }

    const version = await probe(real)
    if (!/dispatcher/i.test(version)) return {how: hops.length > 0 ? hops.join('; ') : 'kubectl on PATH', path: real, version}
    const pick = pickVersioned(versionedIn(path.dirname(real)), opts.serverVersion)
    if (!pick)
      return {
        skipped: `kubectl (${real}) is a version dispatcher with no kubectl.<major>.<minor> beside it (set OC_MOB_BENCH_KUBECTL): baseline skipped`,
      }
    hops.push(`a version dispatcher (${version.replace(/^Client Version:\s*/, '')}) running ${path.basename(pick.path)} (${pick.why})`)
    bin = pick.path
  }

  const real = fs.realpathSync(bin)
  return {how: hops.join('; '), path: real, version: await probe(real)}
}

const notes = new Map<string, string>()

/** Each kubectl baseline of this run, as lines for the bench output. */
export function baselineNotes(): string[] {
  return [...notes.values()]
}

/** The kubectl baseline for an emulated cluster (resolved for its /version), noted for the output. */
export async function kubectlFor(em: {request: (method: string, path: string) => Promise<{body: unknown}>}): Promise<Resolved> {
  const {body} = await em.request('GET', '/version')
  const serverVersion = String((body as {gitVersion?: unknown} | undefined)?.gitVersion ?? '')
  const r = await resolveKubectl({serverVersion})
  notes.set(
    'skipped' in r ? r.skipped : r.path,
    'skipped' in r ? `kubectl baseline: ${r.skipped}` : `kubectl baseline: ${r.path} (${r.version}; ${r.how})`,
  )
  return r
}
