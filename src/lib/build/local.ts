/**
 * `oc mob build <pool> --local`: the cluster's build, run with buildah or podman on this machine.
 *
 * The build context is the one the cluster would build (the same Dockerfile or, on 4.18+, the same
 * Containerfile, trust bundle and /etc/containers files, the MachineConfig encoded the same way); the
 * base image is pulled with the pool's base image pull secret and the image is optionally pushed with
 * its push secret, exactly as the build pod does.
 * Credentials go to 0600 files in a private temporary directory that is removed afterwards; they
 * never reach the build context, the output or an error message.
 */
import {spawn} from 'node:child_process'
import {access, constants, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {ExitCode, MobError} from '../errors.js'
import type {Secret} from '../kube/types.js'
import {MCO_NAMESPACE} from '../mco/constants.js'
import {type AuthMap, findCredentials, parseDockerSecret} from '../registry/auth.js'
import {formatReference, parseReference, withDigest} from '../registry/reference.js'
import {checkContextDir, CONTEXT_FILES, type LocalBuildInputs, writeContextFiles} from './render.js'

export type Engine = 'buildah' | 'podman'
export const ENGINES: readonly Engine[] = ['buildah', 'podman']

export type LocalBuildPhase = 'build' | 'checking' | 'context' | 'push'

export interface LocalBuildOptions {
  /** buildah or podman; default: buildah if on PATH, else podman. */
  engine?: Engine
  /** Push the image with the final image push secret and report its digest. */
  push?: boolean
  /** Verify TLS of registries (default true); false for plain-HTTP or self-signed registries. */
  tlsVerify?: boolean
  /** The engine's --isolation (oci, chroot, rootless); default: $BUILDAH_ISOLATION, else the engine's own default. */
  isolation?: string
  /** Write the build context here and keep it (default: a temporary directory, removed afterwards). */
  contextDir?: string
  /** The image name to build (default: the tag the cluster's build pushes). */
  tag?: string
  signal?: AbortSignal
  /** Every line the engine prints (stdout and stderr). */
  onLine: (line: string) => void
  /** Each step, for progress display. */
  onPhase?: (phase: LocalBuildPhase, text: string) => void
  /** The environment the engine runs in, and whose PATH is searched (default: process.env). */
  env?: NodeJS.ProcessEnv
  /** Where the temporary directories go (default: the system's temp directory). */
  tmpDir?: string
}

export interface LocalBuildResult {
  pool: string
  renderedConfig: string
  engine: Engine
  /** The engine's executable. */
  enginePath: string
  tag: string
  /** The image ID of the built image. */
  imageId?: string
  /** sha256:… of the pushed manifest (with push). */
  digest?: string
  /** repository@digest, as the cluster records it on the pool (with push). */
  image?: string
  pushed: boolean
  contextDir: string
  /** False when the context was written to a temporary directory that is now gone. */
  contextKept: boolean
  durationMs: number
}

/** Lines of the engine's output kept for the error message of a failed step. */
const TAIL_LINES = 20

/** The absolute path of an executable on `PATH`, or undefined. */
export async function findOnPath(name: string, envPath = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue
    const candidate = path.join(dir, name)
    try {
      await access(candidate, constants.X_OK)
      return candidate
    } catch {}
  }

  return undefined
}

/** The engine to build with: the one asked for, or buildah, or podman, whichever is on PATH first. */
export async function findEngine(wanted: Engine | undefined, envPath?: string): Promise<{engine: Engine; path: string}> {
  if (wanted) {
    if (!ENGINES.includes(wanted)) {
      throw new MobError(`unknown build engine "${wanted}"; use ${ENGINES.join(' or ')}`, {exitCode: ExitCode.Usage})
    }

    const p = await findOnPath(wanted, envPath)
    if (!p) {
      throw new MobError(`${wanted} not found on PATH`, {
        code: 'EngineMissing',
        exitCode: ExitCode.Unavailable,
        next: `install it (apt-get install ${wanted}), or leave out --engine to use ${ENGINES.find((e) => e !== wanted)} if it is installed`,
      })
    }

    return {engine: wanted, path: p}
  }

  for (const engine of ENGINES) {
    const p = await findOnPath(engine, envPath)
    if (p) return {engine, path: p}
  }

  throw new MobError('neither buildah nor podman found on PATH; install one (apt-get install buildah)', {
    code: 'EngineMissing',
    exitCode: ExitCode.Unavailable,
    next: 'install buildah or podman (`apt-get install buildah`, `dnf install buildah`), or build in the cluster with `oc mob build POOL`',
  })
}

/**
 * The docker config JSON an engine reads with --authfile, from a pull or push secret: `{"auths": …}`
 * whatever the secret's type, with `username`/`password` entries turned into the `auth` form that
 * containers/image requires.
 */
export function authfileContent(secret: Secret): string {
  const {auths} = parseDockerSecret(secret)
  const out: AuthMap = {}
  for (const [key, entry] of Object.entries(auths)) {
    if (!entry || typeof entry !== 'object') continue
    out[key] =
      !entry.auth && entry.username && entry.password
        ? {...entry, auth: Buffer.from(`${entry.username}:${entry.password}`).toString('base64')}
        : entry
  }

  return JSON.stringify({auths: out}) + '\n'
}

export interface EngineCommandOptions {
  contextDir: string
  /** The file to build, relative to the context (default: Dockerfile). */
  file?: string
  /** A signature policy file for pulls (4.18+: the builder's /etc/containers/policy.json). */
  signaturePolicy?: string
  tag: string
  authfile: string
  iidfile: string
  isolation?: string
  tlsVerify: boolean
}

/** Arguments of `<engine> build` (buildah and podman take the same ones). */
export function buildArgs(o: EngineCommandOptions): string[] {
  const args = [
    'build',
    '--authfile',
    o.authfile,
    '--tag',
    o.tag,
    '--file',
    path.join(o.contextDir, o.file ?? CONTEXT_FILES.dockerfile),
    '--iidfile',
    o.iidfile,
  ]
  if (o.signaturePolicy) args.push('--signature-policy', o.signaturePolicy)
  if (o.isolation) args.push('--isolation', o.isolation)
  if (!o.tlsVerify) args.push('--tls-verify=false')
  args.push(o.contextDir)
  return args
}

/** Arguments of `<engine> push` to the tag's registry, writing the pushed manifest digest to digestfile. */
export function pushArgs(o: {tag: string; authfile: string; digestfile: string; tlsVerify: boolean}): string[] {
  const args = ['push', '--authfile', o.authfile, '--digestfile', o.digestfile]
  if (!o.tlsVerify) args.push('--tls-verify=false')
  args.push(o.tag, `docker://${o.tag}`)
  return args
}

interface RunOutcome {
  code: number | null
  signal: NodeJS.Signals | null
  tail: string[]
}

/** Runs one engine command, streaming its output line by line; a Ctrl-C (signal) stops it. */
function runEngine(
  file: string,
  args: string[],
  opts: {env: NodeJS.ProcessEnv; signal?: AbortSignal; onLine: (line: string) => void},
): Promise<RunOutcome> {
  return new Promise((resolve, reject) => {
    const tail: string[] = []
    const child = spawn(file, args, {env: opts.env, stdio: ['ignore', 'pipe', 'pipe']})
    const emit = (line: string): void => {
      tail.push(line)
      if (tail.length > TAIL_LINES) tail.shift()
      opts.onLine(line)
    }

    const reader = (): ((chunk: Buffer) => void) & {flush: () => void} => {
      let rest = ''
      const fn = (chunk: Buffer): void => {
        rest += chunk.toString('utf8')
        const parts = rest.split(/\r?\n|\r/)
        rest = parts.pop() ?? ''
        for (const p of parts) emit(p)
      }

      return Object.assign(fn, {
        flush() {
          if (rest) emit(rest)
          rest = ''
        },
      })
    }

    const out = reader()
    const err = reader()
    child.stdout.on('data', out)
    child.stderr.on('data', err)
    let killTimer: NodeJS.Timeout | undefined
    const onAbort = (): void => {
      child.kill('SIGTERM')
      killTimer = setTimeout(() => child.kill('SIGKILL'), 5000)
      killTimer.unref()
    }

    if (opts.signal?.aborted) onAbort()
    else opts.signal?.addEventListener('abort', onAbort, {once: true})
    child.on('error', (error) => {
      opts.signal?.removeEventListener('abort', onAbort)
      reject(error)
    })
    let done = false
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (done) return
      done = true
      opts.signal?.removeEventListener('abort', onAbort)
      if (killTimer) clearTimeout(killTimer)
      out.flush()
      err.flush()
      resolve({code, signal, tail})
    }

    child.on('close', finish)
    // A helper process the engine left behind may hold the output pipes open: once the engine itself
    // has exited, give the pipes a moment to drain, then stop waiting for them.
    child.on('exit', (code, signal) => {
      setTimeout(() => finish(code, signal), 2000).unref()
    })
  })
}

function interrupted(signal: AbortSignal): MobError {
  return signal.reason instanceof MobError ? signal.reason : new MobError('interrupted', {exitCode: ExitCode.Interrupted})
}

/**
 * Builds the pool's image on this machine with buildah or podman, from the same build context as
 * the cluster's build, and with `push` pushes it with the build config's push secret.
 */
/** Where the build context and secrets come from: the pool's layering backend (lib/layering `buildLocally`). */
export type LocalInputsSource = (opts: {push: boolean; signal?: AbortSignal}) => Promise<LocalBuildInputs>

export async function buildLocallyFrom(
  loadInputs: LocalInputsSource,
  poolName: string,
  opts: LocalBuildOptions,
): Promise<LocalBuildResult> {
  const started = Date.now()
  const env = opts.env ?? process.env
  const push = opts.push ?? false
  const tlsVerify = opts.tlsVerify ?? true
  if (opts.contextDir) await checkContextDir(opts.contextDir, {ownOnly: true})
  let tag: string | undefined
  if (opts.tag) {
    try {
      const ref = parseReference(opts.tag)
      if (ref.digest) throw new Error('a digest cannot be built or pushed to; give a tag')
      tag = formatReference(ref)
    } catch (error) {
      throw new MobError(`--tag ${opts.tag} is not a usable image name: ${(error as Error).message}`, {
        exitCode: ExitCode.Usage,
        next: 'give a name like registry.example.com/org/os-image:test',
      })
    }
  }

  // Without an engine nothing can be built: said before the cluster is asked anything.
  const {engine, path: enginePath} = await findEngine(opts.engine, env.PATH ?? '')
  opts.onPhase?.('checking', `Checking the build inputs of pool ${poolName}`)
  const inputs = await loadInputs({push, signal: opts.signal})
  tag ??= inputs.tag
  if (push && opts.tag) {
    // The push secret was checked for the build config's registry; a --tag elsewhere needs its own credentials.
    const ref = parseReference(tag)
    if (!findCredentials(parseDockerSecret(inputs.pushSecret!).auths, ref.registry, ref.repository)) {
      throw new MobError(
        `the push secret ${inputs.pushSecretName} has no credentials for ${ref.registry}, where --tag ${tag} would be pushed`,
        {
          exitCode: ExitCode.Invalid,
          next: `push to the pool's repository (leave out --tag), or add credentials for ${ref.registry} to secret ${inputs.pushSecretName} in ${MCO_NAMESPACE}`,
        },
      )
    }
  }

  const tmpParent = opts.tmpDir ?? os.tmpdir()
  const privateDir = await mkdtemp(path.join(tmpParent, 'oc-mob-local-'))
  const contextDir = opts.contextDir ?? path.join(privateDir, 'context')
  try {
    opts.onPhase?.('context', `Writing the build context of ${inputs.rendered}`)
    await writeContextFiles(contextDir, inputs.files)
    const pullAuth = path.join(privateDir, 'pull-auth.json')
    await writeFile(pullAuth, authfileContent(inputs.pullSecret), {mode: 0o600})
    const iidfile = path.join(privateDir, 'iid')
    const isolation = opts.isolation || env.BUILDAH_ISOLATION || undefined
    // 4.18+: the registries.conf the builder's Job mounts (mirrors, blocked registries) applies here too.
    const engineEnv = inputs.registriesConf ? {...env, CONTAINERS_REGISTRIES_CONF: path.join(contextDir, inputs.registriesConf)} : env
    const run = async (what: string, args: string[]): Promise<void> => {
      if (opts.signal?.aborted) throw interrupted(opts.signal)
      const outcome = await runEngine(enginePath, args, {env: engineEnv, onLine: opts.onLine, signal: opts.signal}).catch(
        (error: Error) => {
          throw new MobError(`could not run ${enginePath}: ${error.message}`, {
            exitCode: ExitCode.Unavailable,
            next: `check that ${engine} works: \`${engine} --version\``,
          })
        },
      )
      if (opts.signal?.aborted) throw interrupted(opts.signal)
      if (outcome.code === 0) return
      const how = outcome.code === null ? `was killed (${outcome.signal})` : `failed (exit code ${outcome.code})`
      throw new MobError(`${engine} ${what} of pool ${poolName} (${inputs.rendered}) ${how}`, {
        code: 'LocalBuildFailed',
        details: outcome.tail.length > 0 ? ['last lines:', ...outcome.tail.map((l) => `  ${l}`)] : [],
        exitCode: ExitCode.Failed,
        next:
          what === 'push'
            ? `check the push secret ${inputs.pushSecretName} and the registry of ${tag}${tlsVerify ? ' (a plain-HTTP registry needs --tls-verify=false)' : ''}`
            : `fix the cause above; \`oc mob dockerfile ${poolName} --export DIR\` writes the build context to run the build by hand`,
      })
    }

    opts.onPhase?.('build', `Building ${tag} with ${engine}`)
    await run(
      'build',
      buildArgs({
        authfile: pullAuth,
        contextDir,
        file: inputs.buildFile,
        iidfile,
        isolation,
        signaturePolicy: inputs.signaturePolicy && path.join(contextDir, inputs.signaturePolicy),
        tag: tag!,
        tlsVerify,
      }),
    )
    const imageId = (await readFile(iidfile, 'utf8').catch(() => '')).trim() || undefined
    const result: LocalBuildResult = {
      contextDir,
      contextKept: Boolean(opts.contextDir),
      durationMs: 0,
      engine,
      enginePath,
      imageId,
      pool: poolName,
      pushed: false,
      renderedConfig: inputs.rendered,
      tag: tag!,
    }
    if (push) {
      opts.onPhase?.('push', `Pushing ${tag}`)
      const pushAuth = path.join(privateDir, 'push-auth.json')
      await writeFile(pushAuth, authfileContent(inputs.pushSecret!), {mode: 0o600})
      const digestfile = path.join(privateDir, 'digest')
      await run('push', pushArgs({authfile: pushAuth, digestfile, tag: tag!, tlsVerify}))
      const digest = (await readFile(digestfile, 'utf8').catch(() => '')).trim()
      if (!/^sha256:[0-9a-f]{64}$/.test(digest)) {
        throw new MobError(`${engine} push of ${tag} reported no digest`, {exitCode: ExitCode.Failed, next: `check the registry of ${tag}`})
      }

      result.digest = digest
      result.image = withDigest(tag!, digest)
      result.pushed = true
    }

    result.durationMs = Date.now() - started
    return result
  } finally {
    await rm(privateDir, {force: true, recursive: true})
  }
}
