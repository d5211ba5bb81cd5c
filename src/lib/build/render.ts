/**
 * The Dockerfile and the MachineConfig a pool's build uses, at any time, without secrets: rendered
 * afresh from the pool's rendered config, `machine-config-osimageurl` and the pool's custom
 * Dockerfile, or — while a build is under way — the build's own copies in `dockerfile-<rendered>`
 * and `mc-<rendered>`. Also writes the whole build context to a directory so that
 * `buildah build DIR` reproduces the cluster's build, and checks the custom Dockerfile.
 *
 * Nothing here writes to the cluster or needs the build's secrets.
 */
import {mkdir, readdir, readFile, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {createTwoFilesPatch, FILE_HEADERS_ONLY} from 'diff'
import {ExitCode, MobError, invalidInput as invalid} from '../errors.js'
import type {KubeClient} from '../kube/client.js'
import {R} from '../kube/resources.js'
import type {ConfigMap, MachineConfig, MachineConfigPool, Secret} from '../kube/types.js'
import {BUILD_CONFIG_KEYS, buildNames, CUSTOM_DOCKERFILE_CONFIG, MCO_NAMESPACE, ON_CLUSTER_BUILD_CONFIG} from '../mco/constants.js'
import {type BuildState, isLayered, poolBuild} from '../mco/pool-state.js'
import {withTag} from '../registry/reference.js'
import {
  CONFIGMAP_LIMIT_BYTES,
  configMapDataSize,
  customDockerfileOffset,
  decodeMachineConfig,
  type DockerfileInputs,
  encodeMachineConfig,
  renderDockerfile,
} from './dockerfile.js'
import {readPool} from '../cluster/pools.js'
import {checkedRenderedConfig, readOsImage} from './inputs.js'
import {type DockerfileProblem, validateCustomDockerfile} from './validate.js'

/** The files of a build context, relative to its directory, as the build pod lays them out. */
export const CONTEXT_FILES = {
  dockerfile: 'Dockerfile',
  machineConfig: path.join('machineconfig', 'machineconfig.json.gz'),
  /** 4.18+: the Containerfile, the additional trust bundle, and the builder's /etc/containers files. */
  containerfile: 'Containerfile',
  trustBundle: 'openshift-config-user-ca-bundle.crt',
  policy: 'policy.json',
  registries: 'registries.conf',
} as const

/** One file of a build context: its path relative to the context directory, and its content. */
export interface ContextFile {
  path: string
  content: Buffer | string
}

/** What a build of a pool on this machine needs (`oc mob build --local`), whichever generation builds it in the cluster. */
export interface LocalBuildInputs {
  poolName: string
  rendered: string
  /** The build context, as the cluster's build receives it. */
  files: ContextFile[]
  /** The file the engine builds, relative to the context: Dockerfile or Containerfile. */
  buildFile: string
  /** Pulls the base image and the images the custom Dockerfile names. */
  pullSecret: Secret
  pullSecretName: string
  /** Pushes the image; read and checked only for a build that pushes. */
  pushSecret?: Secret
  pushSecretName: string
  /** The image the cluster's build of this config pushes (or would push). */
  tag: string
  /** 4.18+: the builder's /etc/containers/policy.json, when the rendered config has one (a context file's path). */
  signaturePolicy?: string
  /** 4.18+: the builder's /etc/containers/registries.conf, when the rendered config has one (a context file's path). */
  registriesConf?: string
}

/** The data keys of the build's ConfigMaps. */
const DOCKERFILE_KEY = 'Dockerfile'
const MACHINECONFIG_KEY = 'machineconfig.json.gz'

export type DockerfileSource = 'live' | 'rendered'

export interface DockerfileProblemReport extends DockerfileProblem {
  /** The same line in the rendered Dockerfile (`line` counts in the custom Dockerfile). */
  dockerfileLine: number
}

export interface CustomDockerfileInfo {
  /** The cluster's custom Dockerfile (4.18+: the MachineOSConfig's containerFile), a local file (--file), or none at all. */
  origin: 'cluster' | 'file' | 'none'
  /** `on-cluster-build-custom-dockerfile[<pool>]`, `machineosconfig/<name> spec.containerFile (NoArch)` or the file's path; null when none. */
  location: string | null
  /** 1-based line of the rendered Dockerfile on which the custom Dockerfile starts; null when none. */
  startLine: number | null
}

export interface DockerfileDiff {
  from: string
  to: string
  identical: boolean
  /** A unified diff (3 lines of context); empty when identical. */
  text: string
}

export interface ExportedFile {
  path: string
  bytes: number
}

export interface ExportResult {
  dir: string
  files: ExportedFile[]
  /** Where machineconfig.json.gz came from: the build's mc-<rendered> (mc-<mosb>) ConfigMap, or encoded now. */
  machineConfigSource: DockerfileSource
  /** Size of the mc-<rendered> ConfigMap data; over 1 MiB the cluster cannot start the build. */
  configMapBytes: number
  fitsConfigMap: boolean
}

/** 4.18+: what the Containerfile of a MachineOSConfig pool is rendered from. */
export interface MachineOSContextInfo {
  machineOSConfig: string
  /** The MachineOSBuild of the pool's rendered config, when the builder has made it. */
  machineOSBuild: string | null
  /** The builder's releases whose template is rendered, e.g. "4.18/4.19" (from machine-config-osimageurl's releaseVersion). */
  builderReleases: string
  /** Where that builder takes the base OS and extensions images from. */
  imagesFrom: string
  /** The rendered MachineConfig's kernelType as the builder reads it (default, realtime, 64k-pages). */
  kernelType: string
  /** The rendered MachineConfig's extensions. */
  extensions: string[]
  /** What a person should know about how the builder treats this config (unknown extensions, kernel swaps). */
  notes: string[]
}

export interface DockerfileResult {
  /** configmap: 4.14/4.15 (Dockerfile); machineosconfig: 4.18+ (Containerfile of a MachineOSConfig). */
  generation: 'configmap' | 'machineosconfig'
  /** The name of the file the builder builds: Dockerfile (4.14/4.15) or Containerfile (4.18+). */
  fileName: string
  pool: string
  renderedConfig: string
  /** live: the copy in dockerfile-<rendered> of a build under way; rendered: rendered now. */
  source: DockerfileSource
  dockerfile: string
  /** Problems of the custom Dockerfile (cluster's or --file), errors first on each line. */
  problems: DockerfileProblemReport[]
  baseImage: string
  releaseVersion: string
  extensionsImage: string | null
  /** The pool has the layering-enabled label. */
  layered: boolean
  buildState: BuildState
  customDockerfile: CustomDockerfileInfo
  /** dockerfile-<rendered> (4.18+: containerfile-<mosb>), when it exists (a build is under way, or failed and was left for inspection). */
  liveConfigMap: string | null
  /** With a live copy: whether it is identical to a fresh render. */
  liveMatchesRender: boolean | null
  /** The image the build pushes (finalImagePullspec tagged with the rendered config), when the build config says. */
  tag: string | null
  /** With diff: the live copy against a fresh render. */
  diff?: DockerfileDiff
  /** With exportDir: what was written. */
  exported?: ExportResult
  /** 4.18+ only. */
  machineOS?: MachineOSContextInfo
}

export interface DockerfileOptions {
  /** Path of a local custom Dockerfile to use instead of the cluster's. */
  file?: string
  /** Render afresh even when a build's live copy exists. */
  fresh?: boolean
  /** Compare the live copy with a fresh render (an error when there is no live copy). */
  diff?: boolean
  /** Write the build context (Dockerfile, machineconfig/machineconfig.json.gz) into this directory. */
  exportDir?: string
  /** Let exportDir be non-empty: the context files are overwritten, nothing else is touched. */
  force?: boolean
  signal?: AbortSignal
}

/**
 * Promise.all that waits for every request to finish before failing with the first error, so no
 * request is left running (and retrying) after the command has ended.
 */
export async function allSettled<T extends readonly unknown[]>(promises: {[K in keyof T]: Promise<T[K]> | T[K]}): Promise<T> {
  const settled = await Promise.allSettled(promises)
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected')
  if (failed) throw failed.reason
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as unknown as T
}

/** Where the custom Dockerfile of a pool lives in the cluster, for messages. */
export function customDockerfileLocation(pool: string): string {
  return `${CUSTOM_DOCKERFILE_CONFIG}[${pool}]`
}

export async function readLocalDockerfile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (error) {
    const e = error as NodeJS.ErrnoException
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'it is a directory' : e.message
    throw new MobError(`cannot read the custom Dockerfile ${file}: ${why}`, {
      code: 'FileUnreadable',
      exitCode: ExitCode.Usage,
      next: 'give the path of a readable file to --file',
    })
  }
}

/** The image tag a build of `rendered` pushes, from on-cluster-build-config if it is usable; else null. */
function tagFrom(cm: ConfigMap | undefined, rendered: string): string | null {
  const pullspec = cm?.data?.[BUILD_CONFIG_KEYS.finalImagePullspec]?.trim()
  if (!pullspec) return null
  try {
    return withTag(pullspec, rendered)
  } catch {
    return null
  }
}

/**
 * Checks that a build context can be written to `dir`: it must not exist, be empty, or (with force)
 * be a directory. With `ownOnly`, a directory that holds nothing but a previous build context is
 * accepted too. Throws a MobError (exit 7) otherwise; changes nothing.
 */
export async function checkContextDir(dir: string, opts: {force?: boolean; ownOnly?: boolean} = {}): Promise<void> {
  let entries: string[]
  try {
    entries = await readdir(dir)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return
    if (code === 'ENOTDIR') throw invalid(`${dir} exists and is not a directory`, 'give the path of a new or empty directory')
    throw invalid(`cannot read ${dir}: ${(error as Error).message}`, 'give the path of a new or empty directory')
  }

  if (entries.length === 0 || opts.force) return
  if (opts.ownOnly && (await holdsOnlyContext(dir, entries))) return
  throw invalid(
    `${dir} is not empty (${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}); refusing to write the build context into it`,
    "give a new or empty directory, or add --force to overwrite the build context's files in it",
  )
}

async function holdsOnlyContext(dir: string, entries: string[]): Promise<boolean> {
  const own = new Set<string>([...Object.values(CONTEXT_FILES).filter((f) => !f.includes(path.sep)), 'machineconfig'])
  if (!entries.every((e) => own.has(e))) return false
  if (!entries.includes('machineconfig')) return true
  try {
    const inner = await readdir(path.join(dir, 'machineconfig'))
    return inner.every((e) => e === 'machineconfig.json.gz')
  } catch {
    return false
  }
}

/**
 * Writes a build context as the build pod lays it out: `Dockerfile` and
 * `machineconfig/machineconfig.json.gz` (the base64 text of the gzipped MachineConfig, exactly the
 * value of the mc-<rendered> ConfigMap: the Dockerfile decodes it with `base64 -d | gunzip`).
 */
export async function writeBuildContext(dir: string, context: {dockerfile: string; encodedMachineConfig: string}): Promise<ExportedFile[]> {
  return writeContextFiles(dir, [
    {content: context.dockerfile, path: CONTEXT_FILES.dockerfile},
    {content: context.encodedMachineConfig, path: CONTEXT_FILES.machineConfig},
  ])
}

/** Writes the files of a build context into `dir` (created if needed); returns their paths and sizes. */
export async function writeContextFiles(dir: string, files: ContextFile[]): Promise<ExportedFile[]> {
  const written: ExportedFile[] = []
  try {
    for (const f of files) {
      const target = path.join(dir, f.path)
      await mkdir(path.dirname(target), {recursive: true})
      await writeFile(target, f.content)
      written.push({bytes: Buffer.byteLength(f.content), path: target})
    }
  } catch (error) {
    throw invalid(`cannot write the build context to ${dir}: ${(error as Error).message}`, 'give a directory you can write to')
  }

  return written
}

/** A unified diff of two texts (3 lines of context), with `---`/`+++` headers; '' when they are equal. */
export function unifiedDiff(from: string, to: string, fromLabel: string, toLabel: string): string {
  if (from === to) return ''
  return createTwoFilesPatch(fromLabel, toLabel, from, to, undefined, undefined, {context: 3, headerOptions: FILE_HEADERS_ONLY})
}

/**
 * The Dockerfile a pool's build uses: the live copy while a build of its rendered config is under
 * way (unless `fresh` or `file`), otherwise rendered now. Checks the custom Dockerfile, and on
 * request compares with the live copy and writes the whole build context to a directory.
 */
export async function renderPoolDockerfile(client: KubeClient, poolName: string, opts: DockerfileOptions = {}): Promise<DockerfileResult> {
  if (opts.exportDir) await checkContextDir(opts.exportDir, {force: opts.force})
  const fileText = opts.file === undefined ? undefined : await readLocalDockerfile(opts.file)
  const {signal} = opts
  const pool = await readPool(client, poolName)
  const rendered = checkedRenderedConfig(pool)
  const names = buildNames(rendered)
  const [osImage, customCm, buildConfig, liveCm] = await allSettled([
    readOsImage(client),
    fileText === undefined ? client.find<ConfigMap>(R.configMaps, CUSTOM_DOCKERFILE_CONFIG, MCO_NAMESPACE, signal) : undefined,
    client.find<ConfigMap>(R.configMaps, ON_CLUSTER_BUILD_CONFIG, MCO_NAMESPACE, signal),
    client.find<ConfigMap>(R.configMaps, names.dockerfile, MCO_NAMESPACE, signal),
  ])

  const custom = fileText ?? (customCm?.data?.[poolName] || undefined)
  const inputs: DockerfileInputs = {
    baseImage: osImage.baseImage,
    customDockerfile: custom || undefined,
    extensionsImage: osImage.extensionsImage,
    pool: poolName,
    releaseVersion: osImage.releaseVersion,
    renderedConfig: rendered,
  }
  const fresh = renderDockerfile(inputs)
  const startLine = inputs.customDockerfile ? customDockerfileOffset(inputs) : null
  const problems: DockerfileProblemReport[] = inputs.customDockerfile
    ? validateCustomDockerfile(inputs.customDockerfile, inputs).map((p) => ({...p, dockerfileLine: p.line + startLine! - 1}))
    : []

  const live = liveCm?.data?.[DOCKERFILE_KEY]
  const source: DockerfileSource = live !== undefined && !opts.fresh && fileText === undefined ? 'live' : 'rendered'
  const result: DockerfileResult = {
    baseImage: osImage.baseImage,
    buildState: poolBuild(pool).state,
    customDockerfile: {
      location: fileText === undefined ? (custom ? customDockerfileLocation(poolName) : null) : opts.file!,
      origin: fileText === undefined ? (custom ? 'cluster' : 'none') : 'file',
      startLine,
    },
    dockerfile: source === 'live' ? live! : fresh,
    fileName: CONTEXT_FILES.dockerfile,
    generation: 'configmap',
    extensionsImage: osImage.extensionsImage ?? null,
    layered: isLayered(pool),
    liveConfigMap: live === undefined ? null : names.dockerfile,
    liveMatchesRender: live === undefined ? null : live === fresh,
    pool: poolName,
    problems,
    releaseVersion: osImage.releaseVersion,
    renderedConfig: rendered,
    source,
    tag: tagFrom(buildConfig, rendered),
  }

  if (opts.diff) {
    if (live === undefined) {
      throw new MobError(
        `no build of pool ${poolName} is under way: ConfigMap ${names.dockerfile} does not exist in ${MCO_NAMESPACE}, so there is no live copy to compare with`,
        {
          code: 'NoLiveCopy',
          exitCode: ExitCode.NotFound,
          next: `\`oc mob dockerfile ${poolName}\` shows the Dockerfile the next build of ${rendered} uses`,
        },
      )
    }

    const to = fileText === undefined ? 'rendered now' : `rendered now with ${opts.file}`
    const from = `${names.dockerfile} (live)`
    result.diff = {from, identical: live === fresh, text: unifiedDiff(live, fresh, from, to), to}
  }

  if (opts.exportDir) result.exported = await exportContext(client, pool, rendered, source, result.dockerfile, opts)
  return result
}

async function exportContext(
  client: KubeClient,
  pool: MachineConfigPool,
  rendered: string,
  source: DockerfileSource,
  dockerfile: string,
  opts: DockerfileOptions,
): Promise<ExportResult> {
  const names = buildNames(rendered)
  let encoded: string | undefined
  let mcSource: DockerfileSource = 'rendered'
  if (source === 'live') {
    const cm = await client.find<ConfigMap>(R.configMaps, names.machineConfig, MCO_NAMESPACE, opts.signal)
    encoded = cm?.data?.[MACHINECONFIG_KEY]
    if (encoded !== undefined) mcSource = 'live'
  }

  if (encoded === undefined) {
    const mc = await readRenderedMachineConfig(client, pool.metadata.name!, rendered, opts.signal)
    encoded = encodeMachineConfig(mc)
  }

  const configMapBytes = configMapDataSize({[MACHINECONFIG_KEY]: encoded})
  const files = await writeBuildContext(opts.exportDir!, {dockerfile, encodedMachineConfig: encoded})
  return {
    configMapBytes,
    dir: opts.exportDir!,
    files,
    fitsConfigMap: configMapBytes <= CONFIGMAP_LIMIT_BYTES,
    machineConfigSource: mcSource,
  }
}

async function readRenderedMachineConfig(
  client: KubeClient,
  poolName: string,
  rendered: string,
  signal?: AbortSignal,
): Promise<MachineConfig> {
  const mc = await client.find<MachineConfig>(R.machineConfigs, rendered, undefined, signal)
  if (!mc) throw machineConfigMissing(poolName, rendered)
  return mc
}

export function machineConfigMissing(poolName: string, rendered: string): MobError {
  return new MobError(`the rendered MachineConfig ${rendered} of pool ${poolName} does not exist`, {
    code: 'MachineConfigMissing',
    exitCode: ExitCode.NotFound,
    next: `check \`oc get mc ${rendered}\` and the machine-config controller (\`oc get co machine-config\`)`,
  })
}

// ------------------------------------------------------------------ the MachineConfig built in

export interface MachineConfigResult {
  pool: string
  renderedConfig: string
  /** live: decoded from mc-<rendered> of a build under way; rendered: the rendered MachineConfig object. */
  source: DockerfileSource
  /** mc-<rendered>, when the MachineConfig was decoded from it. */
  configMap: string | null
  buildState: BuildState
  machineConfig: MachineConfig
}

/**
 * The rendered MachineConfig that is (or will be) built into the pool's image: decoded from the
 * build's mc-<rendered> ConfigMap while one exists, otherwise the rendered MachineConfig itself.
 */
export async function getPoolMachineConfig(
  client: KubeClient,
  poolName: string,
  opts: {signal?: AbortSignal} = {},
): Promise<MachineConfigResult> {
  const pool = await readPool(client, poolName)
  const rendered = checkedRenderedConfig(pool)
  const names = buildNames(rendered)
  const [cm, mc] = await allSettled([
    client.find<ConfigMap>(R.configMaps, names.machineConfig, MCO_NAMESPACE, opts.signal),
    client.find<MachineConfig>(R.machineConfigs, rendered, undefined, opts.signal),
  ])
  const base = {buildState: poolBuild(pool).state, pool: poolName, renderedConfig: rendered}
  const encoded = cm?.data?.[MACHINECONFIG_KEY]
  if (encoded !== undefined) {
    let decoded: unknown
    try {
      decoded = decodeMachineConfig(encoded)
    } catch (error) {
      throw invalid(
        `ConfigMap ${names.machineConfig} in ${MCO_NAMESPACE}: its ${MACHINECONFIG_KEY} is ${(error as Error).message}`,
        `the build of ${rendered} cannot work with it; clean up with \`oc mob cleanup ${poolName}\` and build again`,
      )
    }

    if (!decoded || typeof decoded !== 'object' || Array.isArray(decoded)) {
      throw invalid(
        `ConfigMap ${names.machineConfig} in ${MCO_NAMESPACE}: its ${MACHINECONFIG_KEY} does not hold a MachineConfig object`,
        `clean up with \`oc mob cleanup ${poolName}\` and build again`,
      )
    }

    return {...base, configMap: names.machineConfig, machineConfig: decoded as MachineConfig, source: 'live'}
  }

  if (!mc) throw machineConfigMissing(poolName, rendered)
  return {...base, configMap: null, machineConfig: mc, source: 'rendered'}
}
