// The host container runner of the cluster emulator: lets the simulated
// kubelet really execute a pod's container (the MCO build pod's buildah and
// `oc` scripts) on this machine, with the pod's volumes at their mountPaths.
//
// Each container gets private mount and PID namespaces (util-linux unshare,
// as root). ns-exec.sh then mounts every volume where the pod spec wants it,
// creating missing mount points on a private overlay so the host file system
// is never changed outside temp dirs, and execs the command with exactly the
// container's environment: a default PATH (with `extraPath` first), the
// buildah image's defaults (BUILDAH_ISOLATION=chroot) and the storage
// bundle's CONTAINERS_* settings, overridden by the pod's env.
//
// Like a container, the command is PID 1 of its namespace: when it exits,
// whatever it left running is killed, and nothing is left for the host's
// init to reap. `kill(sig)` delivers sig to that PID 1 (which ignores
// signals it has no handler for, as in a real container); SIGKILL always works.
//
// Not emulated: the image's root file system (the host's is used read-only in
// spirit: /tmp, /var/tmp and HOME are private), runAsUser (everything runs as
// root, which buildah needs here), resource limits and networking (host network,
// so loopback registries and API servers are reachable).
import {spawn, type ChildProcess} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {rm} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {PassThrough} from 'node:stream'
import {fileURLToPath} from 'node:url'
import {execa} from 'execa'
import {POLICY_ACCEPT_ANYTHING, type BuildahStorage} from './storage.js'
import {missingTools} from './tools.js'

const here = path.dirname(fileURLToPath(import.meta.url))

/** Directory with the `oc` stand-in; put it in `extraPath` of containers that run `oc`. */
export const ocShimDir = path.join(here, 'oc-shim')
const nsExecScript = path.join(here, 'ns-exec.sh')

const DEFAULT_CONTAINER_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount'

/** Environment the quay.io/buildah/stable image sets, applied like image defaults. */
const BUILDAH_IMAGE_ENV: Record<string, string> = {
  BUILDAH_ISOLATION: 'chroot',
  container: 'oci',
}

interface HostContainerMount {
  mountPath: string
  /** Files (ConfigMap/Secret items) materialised in a fresh dir; keys may contain '/'. */
  files?: Record<string, Buffer | string>
  /** A host dir shared between the pod's containers (an emptyDir volume). */
  emptyDir?: {shared: string}
  readOnly?: boolean
}

export interface HostContainerSpec {
  command: string[]
  args?: string[]
  env: Record<string, string>
  workingDir?: string
  mounts: HostContainerMount[]
  /** Recorded only: containers run as root (see the file comment). */
  runAsUser?: number
  /** Dirs prepended to PATH (e.g. `ocShimDir`). */
  extraPath?: string[]
}

interface ContainerExit {
  /** The command's exit code; 128+N when killed by signal N (137 for SIGKILL). */
  exitCode: number
  signal?: string
}

export interface RunningContainer {
  /** PID (host view) of the unshare process holding the container's namespaces. */
  pid: number
  /** Combined stdout+stderr in the order written (one pipe for both). */
  output: NodeJS.ReadableStream
  exited: Promise<ContainerExit>
  /** Sends a signal to the container's PID 1 (default SIGTERM); SIGKILL ends the whole container. */
  kill(signal?: string): void
  /** SIGTERM, then SIGKILL after `graceMs` (default 30 s) if still running, like a pod deletion. */
  stop(graceMs?: number): Promise<ContainerExit>
  /** Everything written to `output` so far. */
  logs(): string
}

export interface RunOnHostOptions {
  /** Extra host paths that must stay writable through to the host (besides the storage dir). */
  keep?: string[]
}

const running = new Set<ChildProcess>()
let exitHookInstalled = false
function trackChild(child: ChildProcess) {
  running.add(child)
  if (!exitHookInstalled) {
    exitHookInstalled = true
    // a test process that exits early must not leave builds running
    process.once('exit', () => {
      for (const c of running) {
        try {
          if (c.pid) process.kill(c.pid, 'SIGKILL')
        } catch {}
      }
    })
  }
}

function checkPathText(what: string, p: string) {
  if (!path.isAbsolute(p)) throw new Error(`${what} ${JSON.stringify(p)} is not an absolute path`)
  if (/[\t\n\0]/.test(p)) throw new Error(`${what} ${JSON.stringify(p)} contains a tab, newline or NUL`)
}

function writeVolumeFiles(dir: string, files: Record<string, Buffer | string>) {
  for (const [key, value] of Object.entries(files)) {
    const rel = path.normalize(key)
    if (path.isAbsolute(rel) || rel === '..' || rel.startsWith('../') || rel === '.')
      throw new Error(`volume file key ${JSON.stringify(key)} is not a relative path`)
    const file = path.join(dir, rel)
    mkdirSync(path.dirname(file), {recursive: true})
    writeFileSync(file, value, {mode: 0o644})
  }
}

/** The container's full environment (see the file comment for the order). */
export function containerEnv(
  spec: Pick<HostContainerSpec, 'env' | 'extraPath'>,
  storage: Pick<BuildahStorage, 'env'>,
): Record<string, string> {
  const env: Record<string, string> = {PATH: DEFAULT_CONTAINER_PATH, ...BUILDAH_IMAGE_ENV}
  for (const [k, v] of Object.entries(storage.env)) {
    // HOME and TMPDIR of the bundle are for host-side buildah calls; a container has its own
    if (k !== 'HOME' && k !== 'TMPDIR') env[k] = v
  }
  Object.assign(env, spec.env)
  if (!env.HOME) env.HOME = '/root'
  const dirs = [...(spec.extraPath ?? []), ...env.PATH.split(':').filter(Boolean)]
  // the oc stand-in is `#!/usr/bin/env node`: make sure this node is found
  const nodeDir = path.dirname(process.execPath)
  if (!dirs.includes(nodeDir)) dirs.push(nodeDir)
  env.PATH = [...new Set(dirs)].join(':')
  return env
}

export function runOnHost(spec: HostContainerSpec, storage: BuildahStorage, opts: RunOnHostOptions = {}): RunningContainer {
  const argv = [...spec.command, ...(spec.args ?? [])]
  if (argv.length === 0) throw new Error('container has no command')
  if (argv[0].includes('=')) throw new Error(`container command ${JSON.stringify(argv[0])} must not contain "="`)
  const env = containerEnv(spec, storage)
  for (const k of Object.keys(env))
    if (!k || k.includes('=') || k.includes('\0') || env[k].includes('\0')) throw new Error(`bad environment variable ${JSON.stringify(k)}`)
  const workdir = spec.workingDir ?? '/'
  checkPathText('workingDir', workdir)
  for (const m of spec.mounts) checkPathText('mountPath', m.mountPath)
  for (const p of [storage.dir, ...(opts.keep ?? [])]) checkPathText('kept path', p)

  const tmp = mkdtempSync(path.join(os.tmpdir(), 'oc-mob-ctr-'))
  let child: ChildProcess
  try {
    const binds: Array<{src: string; dst: string; ro: boolean}> = []
    spec.mounts.forEach((m, i) => {
      let src: string
      if (m.emptyDir) {
        src = m.emptyDir.shared
        mkdirSync(src, {recursive: true})
        if (m.files) writeVolumeFiles(src, m.files)
      } else {
        src = path.join(tmp, `vol-${i}`)
        mkdirSync(src)
        if (m.files) writeVolumeFiles(src, m.files)
      }
      checkPathText('volume dir', src)
      binds.push({src, dst: path.normalize(m.mountPath), ro: Boolean(m.readOnly)})
    })
    const has = (p: string) => binds.some((b) => b.dst === p)
    const extraDir = (name: string) => {
      const d = path.join(tmp, name)
      mkdirSync(d, {recursive: true})
      return d
    }
    if (!has(env.HOME)) {
      checkPathText('HOME', env.HOME)
      const home = extraDir('home')
      // the signature policy buildah finds in $HOME before /etc/containers/policy.json
      mkdirSync(path.join(home, '.config', 'containers'), {recursive: true})
      writeFileSync(path.join(home, '.config', 'containers', 'policy.json'), POLICY_ACCEPT_ANYTHING)
      binds.push({src: home, dst: path.normalize(env.HOME), ro: false})
    }
    if (!has(SERVICE_ACCOUNT_DIR) && !has('/run/secrets/kubernetes.io/serviceaccount')) {
      binds.push({src: extraDir('serviceaccount'), dst: SERVICE_ACCOUNT_DIR, ro: true})
    }
    if (!has('/var/tmp')) binds.push({src: extraDir('var-tmp'), dst: '/var/tmp', ro: false})
    const depth = (p: string) => p.split('/').filter(Boolean).length
    binds.sort((a, b) => depth(a.dst) - depth(b.dst) || a.dst.localeCompare(b.dst))

    mkdirSync(path.join(tmp, 'scratch'))
    const envFile = path.join(tmp, 'env')
    writeFileSync(
      envFile,
      Object.entries(env)
        .map(([k, v]) => `${k}=${v}\0`)
        .join(''),
      {mode: 0o600},
    )
    const plan = [
      `scratch\t${path.join(tmp, 'scratch')}`,
      `env\t${envFile}`,
      `workdir\t${workdir}`,
      ...[storage.dir, ...(opts.keep ?? [])].map((k) => `keep\t${k}`),
      ...binds.map((b) => `bind\t${b.src}\t${b.dst}\t${b.ro ? 'ro' : 'rw'}`),
    ]
    const planFile = path.join(tmp, 'plan')
    writeFileSync(planFile, plan.join('\n') + '\n')

    const unshare = ['unshare', '--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child', '--mount-proc']
    child = spawn('/bin/sh', ['-c', 'exec "$@" 2>&1', 'sh', ...unshare, '--', '/bin/bash', nsExecScript, planFile, '--', ...argv], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {PATH: '/usr/sbin:/usr/bin:/sbin:/bin'},
    })
  } catch (error) {
    rmSync(tmp, {recursive: true, force: true})
    throw error
  }
  trackChild(child)

  const output = new PassThrough()
  const chunks: Buffer[] = []
  let open = 2
  for (const stream of [child.stdout!, child.stderr!]) {
    // never apply back-pressure: a container whose logs nobody reads must not block
    stream.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      output.write(chunk)
    })
    stream.on('close', () => {
      if (--open === 0) output.end()
    })
  }

  const exited = new Promise<ContainerExit>((resolve) => {
    let spawnError: Error | undefined
    child.once('error', (e) => (spawnError = e))
    child.once('close', (code, signal) => {
      running.delete(child)
      void rm(tmp, {recursive: true, force: true}).finally(() => {
        if (spawnError) {
          chunks.push(Buffer.from(`oc-mob host runner: ${spawnError.message}\n`))
          resolve({exitCode: 128})
        } else if (signal) {
          resolve({exitCode: 128 + (os.constants.signals[signal] ?? 0), signal})
        } else {
          resolve({exitCode: code ?? 128})
        }
      })
    })
  })

  const containerInit = (): number | undefined => {
    try {
      const pids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/)
      return pids[0] ? Number(pids[0]) : undefined
    } catch {
      return undefined
    }
  }
  let done = false
  void exited.then(() => (done = true))
  const kill = (signal = 'SIGTERM') => {
    if (done || !child.pid) return
    try {
      if (signal === 'SIGKILL' || signal === 'KILL' || signal === '9') {
        // unshare --kill-child takes the namespace's PID 1, and with it every process, along
        process.kill(child.pid, 'SIGKILL')
      } else {
        const init = containerInit()
        if (init) process.kill(init, signal as NodeJS.Signals)
      }
    } catch {}
  }
  return {
    pid: child.pid!,
    output,
    exited,
    kill,
    async stop(graceMs = 30_000) {
      kill('SIGTERM')
      const timer = setTimeout(() => kill('SIGKILL'), graceMs)
      try {
        return await exited
      } finally {
        clearTimeout(timer)
      }
    },
    logs: () => Buffer.concat(chunks).toString('utf8'),
  }
}

let availability: Promise<{ok: boolean; why?: string}> | undefined

/**
 * Whether runOnHost works here: root, buildah, util-linux unshare/mount, and
 * a probe container that gets a volume at a path the host does not have.
 */
export function hostRunnerAvailable(): Promise<{ok: boolean; why?: string}> {
  return (availability ??= (async () => {
    if (process.platform !== 'linux') return {ok: false, why: 'the host runner needs Linux namespaces'}
    if (process.getuid?.() !== 0) return {ok: false, why: 'the host runner needs root (mount namespaces, buildah storage)'}
    const missing = await missingTools('buildah', 'unshare', 'mount', 'bash')
    if (missing) return {ok: false, why: missing}
    const {exitCode, all} = await execa(
      'unshare',
      ['--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child', '--mount-proc', '--', 'true'],
      {reject: false, all: true},
    )
    if (exitCode !== 0) return {ok: false, why: `unshare cannot create mount/PID namespaces: ${all}`}
    const probeDir = mkdtempSync(path.join(os.tmpdir(), 'oc-mob-probe-'))
    try {
      const mountPath = `/tmp/oc-mob-probe-${process.pid}-${Date.now()}/volume`
      const ctr = runOnHost(
        {
          command: ['/bin/sh', '-c', `test "$(cat ${mountPath}/f)" = ok && touch /tmp/oc-mob-probe-private`],
          env: {},
          mounts: [{mountPath, files: {f: 'ok'}}],
        },
        {dir: probeDir, env: {}} as BuildahStorage,
      )
      const res = await ctr.exited
      if (res.exitCode !== 0) return {ok: false, why: `probe container failed (exit ${res.exitCode}): ${ctr.logs().trim()}`}
      return {ok: true}
    } catch (error) {
      return {ok: false, why: `probe container failed: ${(error as Error).message}`}
    } finally {
      await rm(probeDir, {recursive: true, force: true})
    }
  })())
}
