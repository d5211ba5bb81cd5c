/**
 * Everything one build of a pool needs, read from the cluster and checked before anything is
 * created: the pool and its rendered MachineConfig, the base OS image, the build config and its two
 * secrets, the pool's custom Dockerfile. Each failed check says what is wrong and what to do.
 */
import {ExitCode, MobError, invalidInput as invalid} from '../errors.js'
import type {KubeClient} from '../kube/client.js'
import {discover} from '../kube/discovery.js'
import {R} from '../kube/resources.js'
import type {ConfigMap, MachineConfig, MachineConfigPool, Secret} from '../kube/types.js'
import {
  BUILD_CONFIG_KEYS,
  CUSTOM_DOCKERFILE_CONFIG,
  DEFAULT_IMAGE_BUILDER_TYPE,
  IMAGE_BUILDER_TYPES,
  type ImageBuilderType,
  MCO_NAMESPACE,
  ON_CLUSTER_BUILD_CONFIG,
  OSIMAGEURL_CONFIG,
  OSIMAGEURL_KEYS,
} from '../mco/constants.js'
import {machineOSConfigOf, type MachineOSConfig} from '../mco/machine-os.js'
import {isLayered, renderedConfig} from '../mco/pool-state.js'
import {DockerSecretError, findCredentials, parseDockerSecret, type ParsedDockerSecret} from '../registry/auth.js'
import {type ImageReference, parseReference, withTag} from '../registry/reference.js'
import {readPool} from '../cluster/pools.js'
import {CONFIGMAP_LIMIT_BYTES, configMapDataSize, encodeMachineConfig, renderDockerfile} from './dockerfile.js'
import {validateCustomDockerfile} from './validate.js'

export interface BuildConfig {
  baseImagePullSecretName: string
  finalImagePushSecretName: string
  finalImagePullspec: string
  imageBuilderType: ImageBuilderType
}

export interface OsImage {
  baseImage: string
  extensionsImage?: string
  releaseVersion: string
}

export interface BuildInputs {
  pool: MachineConfigPool
  poolName: string
  rendered: string
  machineConfig: MachineConfig
  osImage: OsImage
  config: BuildConfig
  customDockerfile?: string
  pullSecret: Secret
  pushSecret: Secret
  /** finalImagePullspec with its tag replaced by the rendered config name. */
  tag: string
  dockerfile: string
  encodedMachineConfig: string
}

const setupHint = 'run `oc mob setup` to create or repair the build configuration'

export async function readBuildConfig(client: KubeClient): Promise<BuildConfig> {
  const cm = await client.find<ConfigMap>(R.configMaps, ON_CLUSTER_BUILD_CONFIG, MCO_NAMESPACE)
  if (!cm) {
    throw new MobError(`${ON_CLUSTER_BUILD_CONFIG} ConfigMap missing in ${MCO_NAMESPACE}: on-cluster builds are not set up`, {
      code: 'BuildConfigMissing',
      exitCode: ExitCode.NotFound,
      next: setupHint,
    })
  }

  const data = cm.data ?? {}
  const missing = [
    BUILD_CONFIG_KEYS.baseImagePullSecretName,
    BUILD_CONFIG_KEYS.finalImagePushSecretName,
    BUILD_CONFIG_KEYS.finalImagePullspec,
  ].filter((k) => !data[k]?.trim())
  if (missing.length > 0) {
    throw invalid(`${ON_CLUSTER_BUILD_CONFIG} in ${MCO_NAMESPACE} is missing ${missing.join(', ')} (or they are empty)`, setupHint)
  }

  const type = data[BUILD_CONFIG_KEYS.imageBuilderType]?.trim()
  if (type && !(IMAGE_BUILDER_TYPES as readonly string[]).includes(type)) {
    throw invalid(`${ON_CLUSTER_BUILD_CONFIG}: imageBuilderType "${type}" is not one of ${IMAGE_BUILDER_TYPES.join(', ')}`, setupHint)
  }

  return {
    baseImagePullSecretName: data[BUILD_CONFIG_KEYS.baseImagePullSecretName].trim(),
    finalImagePullspec: data[BUILD_CONFIG_KEYS.finalImagePullspec].trim(),
    finalImagePushSecretName: data[BUILD_CONFIG_KEYS.finalImagePushSecretName].trim(),
    imageBuilderType: (type as ImageBuilderType) || DEFAULT_IMAGE_BUILDER_TYPE,
  }
}

export async function readOsImage(client: KubeClient): Promise<OsImage> {
  const cm = await client.find<ConfigMap>(R.configMaps, OSIMAGEURL_CONFIG, MCO_NAMESPACE)
  if (!cm) {
    throw new MobError(`the ${OSIMAGEURL_CONFIG} ConfigMap is missing from ${MCO_NAMESPACE}`, {
      exitCode: ExitCode.NotFound,
      next: 'this ConfigMap is managed by the Machine Config Operator; check `oc get co machine-config`',
    })
  }

  const base = cm.data?.[OSIMAGEURL_KEYS.baseOSContainerImage]?.trim()
  if (!base) throw invalid(`${OSIMAGEURL_CONFIG} has no ${OSIMAGEURL_KEYS.baseOSContainerImage}`, 'check `oc get co machine-config`')
  return {
    baseImage: base,
    extensionsImage: cm.data?.[OSIMAGEURL_KEYS.baseOSExtensionsContainerImage]?.trim() || undefined,
    releaseVersion: cm.data?.[OSIMAGEURL_KEYS.releaseVersion]?.trim() ?? '',
  }
}

export function parsePullspec(pullspec: string, what = `finalImagePullspec "${pullspec}"`): ImageReference {
  try {
    return parseReference(pullspec)
  } catch (error) {
    throw invalid(`${what} is not a valid image pullspec: ${(error as Error).message}`, setupHint)
  }
}

/** A docker config secret in the MCO namespace, checked for type, content and (optionally) a registry. */
export async function checkDockerSecret(
  client: KubeClient,
  name: string,
  role: string,
  registry?: {host: string; repository?: string; why: string},
): Promise<{secret: Secret; parsed: ParsedDockerSecret}> {
  const secret = await client.find<Secret>(R.secrets, name, MCO_NAMESPACE)
  if (!secret) {
    throw new MobError(`secret ${name} from ${ON_CLUSTER_BUILD_CONFIG} (${role}) is not found in ${MCO_NAMESPACE}`, {
      code: 'SecretMissing',
      exitCode: ExitCode.NotFound,
      next: `create it (\`oc create secret docker-registry ${name} -n ${MCO_NAMESPACE} ...\`), or ${setupHint}`,
    })
  }

  let parsed: ParsedDockerSecret
  try {
    parsed = parseDockerSecret(secret)
  } catch (error) {
    if (error instanceof DockerSecretError) throw invalid(`${role}: ${error.message}`, setupHint)
    throw error
  }

  if (registry && !findCredentials(parsed.auths, registry.host, registry.repository)) {
    throw invalid(
      `${role} ${name} has no credentials for ${registry.host}, ${registry.why}`,
      `add credentials for ${registry.host} to secret ${name} (for example \`oc registry login --registry ${registry.host} --to FILE\` and recreate the secret), or ${setupHint}`,
    )
  }

  return {parsed, secret}
}

/** 4.18+: the pool (which must exist) and its MachineOSConfig, when the cluster serves that API and it has one. */
export async function machineOSConfigFor(
  client: KubeClient,
  poolName: string,
): Promise<{pool: MachineConfigPool; config: MachineOSConfig} | undefined> {
  if (!(await discover(client)).machineOS) return undefined
  const configs = await client.list<MachineOSConfig>(R.machineOSConfigs)
  const config = machineOSConfigOf(configs.items, poolName)
  return config ? {config, pool: await readPool(client, poolName)} : undefined
}

export interface GatherOptions {
  /** Refuse pools without the layering label (as the cluster's controller would ignore them). */
  requireLayered?: boolean
}

/** The rendered MachineConfig name a pool targets, checked: present and a `rendered-*` name. */
export function checkedRenderedConfig(pool: MachineConfigPool): string {
  const poolName = pool.metadata.name ?? ''
  const rendered = renderedConfig(pool)
  if (!rendered) {
    throw invalid(
      `pool ${poolName} has no rendered MachineConfig yet (spec.configuration.name is empty)`,
      `wait for the machine-config controller to render it: \`oc get mcp ${poolName} -w\``,
    )
  }

  if (!rendered.startsWith('rendered-')) {
    throw invalid(`pool ${poolName} targets ${rendered}, which is not a rendered MachineConfig (rendered-*)`)
  }

  return rendered
}

export async function gatherBuildInputs(client: KubeClient, poolName: string, opts: GatherOptions = {}): Promise<BuildInputs> {
  return (await gatherInputs(client, poolName, {...opts, push: true})) as BuildInputs
}

/** Build inputs of a build that may not push: the push secret is only read and checked when it does. */
export type BuildInputsWithoutPush = Omit<BuildInputs, 'pushSecret'> & {pushSecret?: Secret}

/**
 * gatherBuildInputs for builds that do not necessarily push (a local build without --push): with
 * `push: false` the final image push secret is neither needed nor checked.
 */
export async function gatherInputs(
  client: KubeClient,
  poolName: string,
  opts: GatherOptions & {push: boolean},
): Promise<BuildInputsWithoutPush> {
  const pool = await readPool(client, poolName)
  if (opts.requireLayered && !isLayered(pool)) {
    throw invalid(
      `pool ${poolName} is not opted into on-cluster builds (it has no machineconfiguration.openshift.io/layering-enabled label)`,
      `run \`oc mob enable ${poolName}\` first (or \`oc label mcp/${poolName} machineconfiguration.openshift.io/layering-enabled=\`)`,
    )
  }

  const rendered = checkedRenderedConfig(pool)
  const [config, osImage, customCm, mc] = await Promise.all([
    readBuildConfig(client),
    readOsImage(client),
    client.find<ConfigMap>(R.configMaps, CUSTOM_DOCKERFILE_CONFIG, MCO_NAMESPACE),
    client.find<MachineConfig>(R.machineConfigs, rendered),
  ])
  if (!mc) {
    throw new MobError(`the rendered MachineConfig ${rendered} of pool ${poolName} does not exist`, {
      exitCode: ExitCode.NotFound,
      next: `check \`oc get mc ${rendered}\` and the machine-config controller`,
    })
  }

  const final = parsePullspec(config.finalImagePullspec)
  const base = parsePullspec(osImage.baseImage, `baseOSContainerImage "${osImage.baseImage}"`)
  const [pull, push] = await Promise.all([
    checkDockerSecret(client, config.baseImagePullSecretName, 'base image pull secret', {
      host: base.registry,
      repository: base.repository,
      why: `where the base OS image ${osImage.baseImage} is pulled from`,
    }),
    opts.push
      ? checkDockerSecret(client, config.finalImagePushSecretName, 'final image push secret', {
          host: final.registry,
          repository: final.repository,
          why: `where the built image ${config.finalImagePullspec} is pushed`,
        })
      : undefined,
  ])

  const customDockerfile = customCm?.data?.[poolName] || undefined
  const dockerInputs = {
    baseImage: osImage.baseImage,
    customDockerfile,
    extensionsImage: osImage.extensionsImage,
    pool: poolName,
    releaseVersion: osImage.releaseVersion,
    renderedConfig: rendered,
  }
  if (customDockerfile) {
    const problems = validateCustomDockerfile(customDockerfile, dockerInputs).filter((p) => p.severity === 'error')
    if (problems.length > 0) {
      throw invalid(
        `the custom Dockerfile of pool ${poolName} (${CUSTOM_DOCKERFILE_CONFIG}, key ${poolName}) has ${problems.length} problem${problems.length === 1 ? '' : 's'}`,
        `fix it (\`oc edit configmap ${CUSTOM_DOCKERFILE_CONFIG} -n ${MCO_NAMESPACE}\`) and try again; \`oc mob dockerfile ${poolName}\` shows the whole Dockerfile`,
        {details: problems.map((p) => `line ${p.line}: ${p.message}`)},
      )
    }
  }

  const encodedMachineConfig = encodeMachineConfig(mc)
  const size = configMapDataSize({'machineconfig.json.gz': encodedMachineConfig})
  if (size > CONFIGMAP_LIMIT_BYTES) {
    throw invalid(
      `the rendered MachineConfig ${rendered} is ${size} bytes (${(size / 1_048_576).toFixed(2)} MiB) after encoding; a ConfigMap holds at most ${CONFIGMAP_LIMIT_BYTES} bytes (1 MiB), so the build cannot start`,
      'make the MachineConfigs of the pool smaller (large files are better shipped in the custom Dockerfile, e.g. COPY --from an image)',
    )
  }

  return {
    config,
    customDockerfile,
    dockerfile: renderDockerfile(dockerInputs),
    encodedMachineConfig,
    machineConfig: mc,
    osImage,
    pool,
    poolName,
    pullSecret: pull.secret,
    pushSecret: push?.secret,
    rendered,
    tag: withTag(config.finalImagePullspec, rendered),
  }
}
