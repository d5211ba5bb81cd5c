/**
 * The build context of a pool opted in by a MachineOSConfig (OpenShift 4.18+), as the
 * machine-os-builder's Job receives it: the Containerfile (rendered from the builder's template with
 * the MachineOSConfig's NoArch containerFile), `machineconfig/machineconfig.json.gz`, the additional
 * trust bundle of the ControllerConfig, and the rendered config's /etc/containers/policy.json and
 * registries.conf (which the Job mounts for buildah) when it has them.
 *
 * While the MachineOSBuild of the pool's rendered config has its ConfigMaps (`containerfile-<mosb>`,
 * `mc-<mosb>`, `additionaltrustbundle-<mosb>`, `etc-policy-<mosb>`, `etc-registries-<mosb>`: a build
 * under way, or a failed one left for inspection), those copies are used. Nothing here writes to the
 * cluster; secrets are only read for a local build, and their values never leave it.
 */
import {ExitCode, MobError, invalidInput as invalid} from '../../errors.js'
import type {KubeClient} from '../../kube/client.js'
import {R} from '../../kube/resources.js'
import type {ConfigMap, KubeObject, MachineConfig, Secret} from '../../kube/types.js'
import {GLOBAL_PULL_SECRET, MCO_NAMESPACE, OPENSHIFT_CONFIG_NAMESPACE} from '../../mco/constants.js'
import {currentBuild, type MachineOSBuild, type MachineOSConfig, machineOSConfigOf, mosbStatus} from '../../mco/machine-os.js'
import type {BuildState} from '../../mco/pool-state.js'
import {DockerSecretError, findCredentials, parseDockerSecret} from '../../registry/auth.js'
import {parseReference} from '../../registry/reference.js'
import {
  builderRelease,
  canonicalKernelType,
  containerFileOffset,
  type ContainerfileInputs,
  extensionPackages,
  machineConfigFile,
  noArchContainerFile,
  renderContainerfile,
  validateContainerFile,
} from '../../build/containerfile.js'
import {CONFIGMAP_LIMIT_BYTES, configMapDataSize, encodeMachineConfig} from '../../build/dockerfile.js'
import {readPool} from '../../cluster/pools.js'
import {checkedRenderedConfig, readOsImage} from '../../build/inputs.js'
import {
  allSettled,
  checkContextDir,
  CONTEXT_FILES,
  type ContextFile,
  type DockerfileOptions,
  type DockerfileProblemReport,
  type DockerfileResult,
  type DockerfileSource,
  type LocalBuildInputs,
  machineConfigMissing,
  readLocalDockerfile,
  unifiedDiff,
  writeContextFiles,
} from '../../build/render.js'

const NS = MCO_NAMESPACE
/** The copy of the global pull secret the builder pulls with when the MachineOSConfig names none. */
export const GLOBAL_PULL_SECRET_COPY = 'global-pull-secret-copy'
const CONTROLLER_CONFIG = 'machine-config-controller'

/** The ConfigMaps the builder makes for a MachineOSBuild, and their keys. */
export const machineOSBuildConfigMaps = (mosb: string) => ({
  containerfile: {key: 'Containerfile', name: `containerfile-${mosb}`},
  machineConfig: {key: 'machineconfig.json.gz', name: `mc-${mosb}`},
  policy: {key: 'policy.json', name: `etc-policy-${mosb}`},
  registries: {key: 'registries.conf', name: `etc-registries-${mosb}`},
  trustBundle: {key: 'openshift-config-user-ca-bundle.crt', name: `additionaltrustbundle-${mosb}`},
})

interface ControllerConfig extends KubeObject {
  spec?: {additionalTrustBundle?: string | null}
}

interface Gathered {
  poolName: string
  config: MachineOSConfig
  build: MachineOSBuild | undefined
  rendered: string
  mc: MachineConfig
  releaseVersion: string
  inputs: ContainerfileInputs
  controllerConfig: ControllerConfig | undefined
}

/** A pool of a 4.18+ cluster without a MachineOSConfig: nothing builds it, so there is no Containerfile. */
export function noMachineOSConfig(poolName: string, what: string): MobError {
  return new MobError(
    `pool ${poolName} has no MachineOSConfig: on OpenShift 4.18+ the machine-os-builder builds only pools that have one, so there is no ${what}`,
    {
      code: 'NoMachineOSConfig',
      exitCode: ExitCode.NotFound,
      next: `opt the pool in with \`oc mob setup --pool ${poolName}\` (--custom-dockerfile FILE sets its Containerfile); \`oc mob status\` lists the pools that have one`,
    },
  )
}

const buildState = (b: MachineOSBuild | undefined): BuildState => {
  if (!b) return 'none'
  const s = mosbStatus(b).state
  return s === 'running' ? 'building' : s === 'interrupted' ? 'failed' : s
}

/** Everything the Containerfile of the pool's rendered config is made from. */
async function gather(
  client: KubeClient,
  poolName: string,
  what: string,
  containerFile: string | undefined,
  signal?: AbortSignal,
): Promise<Gathered> {
  const pool = await readPool(client, poolName)
  const config = machineOSConfigOf((await client.list<MachineOSConfig>(R.machineOSConfigs, {signal})).items, poolName)
  if (!config) throw noMachineOSConfig(poolName, what)
  const rendered = checkedRenderedConfig(pool)
  const [osImage, builds, mc, controllerConfig] = await allSettled([
    readOsImage(client),
    client.list<MachineOSBuild>(R.machineOSBuilds, {signal}),
    client.find<MachineConfig>(R.machineConfigs, rendered, undefined, signal),
    client.find<ControllerConfig>(R.controllerConfigs, CONTROLLER_CONFIG, undefined, signal),
  ])
  if (!mc) throw machineConfigMissing(poolName, rendered)
  const release = builderRelease(osImage.releaseVersion)
  const fromConfig = release.imagesFrom === 'rendered MachineConfig'
  const baseImage = fromConfig ? mc.spec?.osImageURL?.trim() : osImage.baseImage
  if (!baseImage) {
    throw invalid(
      `the rendered MachineConfig ${rendered} has no osImageURL, which the machine-os-builder of OpenShift ${release.releases} builds on`,
      `check \`oc get mc ${rendered} -o jsonpath='{.spec.osImageURL}'\` and the machine-config controller (\`oc get co machine-config\`)`,
    )
  }

  return {
    build: currentBuild(builds.items, config, rendered),
    config,
    controllerConfig,
    inputs: {
      baseImage,
      containerFile: containerFile ?? noArchContainerFile(config.spec?.containerFile),
      extensions: mc.spec?.extensions ?? [],
      extensionsImage: (fromConfig ? mc.spec?.baseOSExtensionsContainerImage?.trim() : osImage.extensionsImage) || undefined,
      kernelType: mc.spec?.kernelType,
      pool: config.spec?.machineConfigPool?.name ?? poolName,
      release,
      renderedConfig: rendered,
    },
    mc,
    poolName,
    releaseVersion: osImage.releaseVersion,
    rendered,
  }
}

/** What a person should know about how the builder treats this config. */
function builderNotes(g: Gathered): string[] {
  const notes: string[] = []
  const {inputs} = g
  const {unknown} = extensionPackages(inputs.release, inputs.extensions)
  if (unknown.length > 0)
    notes.push(
      `the rendered config asks for extensions the builder of OpenShift ${inputs.release.releases} does not know (${unknown.join(', ')}): it refuses to build it`,
    )
  const kernel = canonicalKernelType(inputs.kernelType)
  if (kernel !== 'default' && inputs.release.template === '4.18')
    notes.push(`kernelType ${kernel}: the builder of OpenShift ${inputs.release.releases} does not swap kernel packages in the image`)
  if (kernel !== 'default' && inputs.release.template !== '4.18' && !inputs.extensionsImage)
    notes.push(`kernelType ${kernel}: the kernel packages are swapped only with an extensions image, and there is none`)
  if (kernel === '64k-pages' && inputs.release.template !== '4.18')
    notes.push('kernelType 64k-pages: the builder renders this only when it runs on an arm64 (aarch64) node')
  return notes
}

/** The build context's files besides the Containerfile: live copies when the build has them, else from the rendered config. */
async function contextFiles(
  client: KubeClient,
  g: Gathered,
  live: boolean,
  signal?: AbortSignal,
): Promise<{files: ContextFile[]; mcSource: DockerfileSource; policy: boolean; registries: boolean}> {
  const names = g.build ? machineOSBuildConfigMaps(g.build.metadata.name!) : undefined
  const find = (name: string): Promise<ConfigMap | undefined> => client.find<ConfigMap>(R.configMaps, name, NS, signal)
  const [mcCm, bundleCm, policyCm, registriesCm] =
    live && names
      ? await allSettled([
          find(names.machineConfig.name),
          find(names.trustBundle.name),
          find(names.policy.name),
          find(names.registries.name),
        ])
      : [undefined, undefined, undefined, undefined]
  const liveMc = mcCm?.data?.[names!.machineConfig.key]
  // The trust bundle is binary data: base64 in the ConfigMap's binaryData and in the ControllerConfig.
  const bundleKey = names?.trustBundle.key ?? ''
  const bundle = bundleCm
    ? bundleCm.data?.[bundleKey] === undefined
      ? Buffer.from(bundleCm.binaryData?.[bundleKey] ?? '', 'base64')
      : Buffer.from(bundleCm.data[bundleKey])
    : Buffer.from(g.controllerConfig?.spec?.additionalTrustBundle ?? '', 'base64')
  const fromConfig = (file: string): string | undefined => {
    try {
      return machineConfigFile(g.mc, file)
    } catch (error) {
      throw invalid(`${(error as Error).message}; the machine-os-builder cannot use it either`, `check \`oc get mc ${g.rendered} -o yaml\``)
    }
  }

  const policy = live && policyCm ? policyCm.data?.[names!.policy.key] : fromConfig('/etc/containers/policy.json')
  const registries = live && registriesCm ? registriesCm.data?.[names!.registries.key] : fromConfig('/etc/containers/registries.conf')
  const files: ContextFile[] = [
    {content: liveMc ?? encodeMachineConfig(g.mc), path: CONTEXT_FILES.machineConfig},
    {content: bundle, path: CONTEXT_FILES.trustBundle},
  ]
  if (policy !== undefined) files.push({content: policy, path: CONTEXT_FILES.policy})
  if (registries !== undefined) files.push({content: registries, path: CONTEXT_FILES.registries})
  return {files, mcSource: liveMc === undefined ? 'rendered' : 'live', policy: policy !== undefined, registries: registries !== undefined}
}

/**
 * The Containerfile of a MachineOSConfig pool's next (or running) build: the build's own copy while
 * `containerfile-<mosb>` exists (unless fresh or file), otherwise rendered now. Checks the
 * containerFile, and on request compares with the build's copy and writes the whole build context.
 */
export async function renderMachineOSDockerfile(
  client: KubeClient,
  poolName: string,
  opts: DockerfileOptions = {},
): Promise<DockerfileResult> {
  if (opts.exportDir) await checkContextDir(opts.exportDir, {force: opts.force})
  const fileText = opts.file === undefined ? undefined : await readLocalDockerfile(opts.file)
  const g = await gather(client, poolName, 'Containerfile to show', fileText, opts.signal)
  const mosb = g.build?.metadata.name
  const names = mosb ? machineOSBuildConfigMaps(mosb) : undefined
  const liveCm = names ? await client.find<ConfigMap>(R.configMaps, names.containerfile.name, NS, opts.signal) : undefined
  const live = liveCm?.data?.[names!.containerfile.key]
  const fresh = renderContainerfile(g.inputs)
  const custom = g.inputs.containerFile
  const startLine = custom ? containerFileOffset(g.inputs) : null
  const problems: DockerfileProblemReport[] = custom
    ? validateContainerFile(custom, g.inputs).map((p) => ({...p, dockerfileLine: p.line + startLine! - 1}))
    : []
  const source: DockerfileSource = live !== undefined && !opts.fresh && fileText === undefined ? 'live' : 'rendered'
  const result: DockerfileResult = {
    baseImage: g.inputs.baseImage,
    buildState: buildState(g.build),
    customDockerfile: {
      location:
        fileText === undefined ? (custom ? `machineosconfig/${g.config.metadata.name} spec.containerFile (NoArch)` : null) : opts.file!,
      origin: fileText === undefined ? (custom ? 'cluster' : 'none') : 'file',
      startLine,
    },
    dockerfile: source === 'live' ? live! : fresh,
    extensionsImage: g.inputs.extensionsImage ?? null,
    fileName: CONTEXT_FILES.containerfile,
    generation: 'machineosconfig',
    layered: true,
    liveConfigMap: live === undefined ? null : names!.containerfile.name,
    liveMatchesRender: live === undefined ? null : live === fresh,
    machineOS: {
      builderReleases: g.inputs.release.releases,
      extensions: g.inputs.extensions ?? [],
      imagesFrom: g.inputs.release.imagesFrom,
      kernelType: canonicalKernelType(g.inputs.kernelType),
      machineOSBuild: mosb ?? null,
      machineOSConfig: g.config.metadata.name!,
      notes: builderNotes(g),
    },
    pool: poolName,
    problems,
    releaseVersion: g.releaseVersion,
    renderedConfig: g.rendered,
    source,
    tag: g.build?.spec?.renderedImagePushSpec || null,
  }

  if (opts.diff) {
    if (live === undefined) {
      const what = mosb
        ? `ConfigMap containerfile-${mosb} does not exist in ${NS}`
        : `the machine-os-builder has not made a MachineOSBuild of ${g.rendered}`
      throw new MobError(`no build of pool ${poolName} is under way: ${what}, so there is no live copy to compare with`, {
        code: 'NoLiveCopy',
        exitCode: ExitCode.NotFound,
        next: `\`oc mob dockerfile ${poolName}\` shows the Containerfile the next build of ${g.rendered} uses`,
      })
    }

    const to = fileText === undefined ? 'rendered now' : `rendered now with ${opts.file}`
    const from = `${names!.containerfile.name} (live)`
    result.diff = {from, identical: live === fresh, text: unifiedDiff(live, fresh, from, to), to}
  }

  if (opts.exportDir) {
    const rest = await contextFiles(client, g, source === 'live', opts.signal)
    const encoded = rest.files[0].content as string
    const configMapBytes = configMapDataSize({[CONTEXT_FILES.machineConfig]: encoded})
    const files = await writeContextFiles(opts.exportDir, [{content: result.dockerfile, path: CONTEXT_FILES.containerfile}, ...rest.files])
    result.exported = {
      configMapBytes,
      dir: opts.exportDir,
      files,
      fitsConfigMap: configMapBytes <= CONFIGMAP_LIMIT_BYTES,
      machineConfigSource: rest.mcSource,
    }
  }

  return result
}

/** A docker config secret in the MCO namespace for a local build, checked for content and (optionally) a registry. */
async function readDockerSecret(
  client: KubeClient,
  pool: string,
  name: string,
  namespace: string,
  role: string,
  registry?: {host: string; repository?: string; why: string},
): Promise<Secret> {
  const secret = await client.find<Secret>(R.secrets, name, namespace)
  if (!secret) {
    throw new MobError(`secret ${name} (${role}) is not found in ${namespace}`, {
      code: 'SecretMissing',
      exitCode: ExitCode.NotFound,
      next: `create it (\`oc create secret docker-registry ${name} -n ${namespace} ...\`), or name another in the MachineOSConfig (\`oc mob setup --pool ${pool} --${role === 'renderedImagePushSecret' ? 'push' : 'base-pull'}-secret NAME --force\`)`,
    })
  }

  let auths: ReturnType<typeof parseDockerSecret>['auths']
  try {
    auths = parseDockerSecret(secret).auths
  } catch (error) {
    if (error instanceof DockerSecretError) throw invalid(`${role} ${name}: ${error.message}`, `fix secret ${name} in ${namespace}`)
    throw error
  }

  if (registry && !findCredentials(auths, registry.host, registry.repository)) {
    throw invalid(
      `${role} ${name} has no credentials for ${registry.host}, ${registry.why}`,
      `add credentials for ${registry.host} to secret ${name} in ${namespace}`,
    )
  }

  return secret
}

/**
 * What `build --local` of a MachineOSConfig pool needs: the build context rendered now (as the
 * builder would for the pool's current rendered config), the base image pull secret (the
 * MachineOSConfig's, else the builder's copy of the global pull secret), and with push the
 * renderedImagePushSecret. The image is tagged as the builder tags it (with the MachineOSBuild's name)
 * when that build exists, else with the MachineOSConfig's renderedImagePushSpec.
 */
export async function machineOSLocalInputs(
  client: KubeClient,
  poolName: string,
  opts: {push: boolean; signal?: AbortSignal},
): Promise<LocalBuildInputs> {
  const g = await gather(client, poolName, 'build context to build', undefined, opts.signal)
  const custom = g.inputs.containerFile
  const location = `MachineOSConfig ${g.config.metadata.name} (spec.containerFile, NoArch)`
  if (custom) {
    const errors = validateContainerFile(custom, g.inputs).filter((p) => p.severity === 'error')
    if (errors.length > 0) {
      throw invalid(
        `the Containerfile of ${location} has ${errors.length} problem${errors.length === 1 ? '' : 's'}`,
        `fix it (\`oc edit machineosconfig ${g.config.metadata.name}\`) and try again; \`oc mob dockerfile ${poolName}\` shows the whole Containerfile`,
        {details: errors.map((p) => `line ${p.line}: ${p.message}`)},
      )
    }
  }

  const rest = await contextFiles(client, g, false, opts.signal)
  const encodedSize = configMapDataSize({[CONTEXT_FILES.machineConfig]: rest.files[0].content as string})
  if (encodedSize > CONFIGMAP_LIMIT_BYTES) {
    throw invalid(
      `the rendered MachineConfig ${g.rendered} is ${encodedSize} bytes after encoding; a ConfigMap holds at most ${CONFIGMAP_LIMIT_BYTES} bytes (1 MiB), so the builder cannot start its build`,
      'make the MachineConfigs of the pool smaller (large files are better shipped in the Containerfile, e.g. COPY --from an image)',
    )
  }

  const base = parseReference(g.inputs.baseImage)
  const baseWhy = {host: base.registry, repository: base.repository, why: `where the base OS image ${g.inputs.baseImage} is pulled from`}
  const named = g.config.spec?.baseImagePullSecret?.name
  let pullSecretName = named ?? GLOBAL_PULL_SECRET_COPY
  let pullSecret: Secret
  if (named) {
    pullSecret = await readDockerSecret(client, poolName, named, NS, 'base image pull secret', baseWhy)
  } else {
    // The builder's copy of the global pull secret; the original when the copy is not there.
    const copy = await client.find<Secret>(R.secrets, GLOBAL_PULL_SECRET_COPY, NS)
    if (!copy) pullSecretName = `${OPENSHIFT_CONFIG_NAMESPACE}/${GLOBAL_PULL_SECRET}`
    pullSecret = copy
      ? await readDockerSecret(client, poolName, GLOBAL_PULL_SECRET_COPY, NS, 'base image pull secret', baseWhy)
      : await readDockerSecret(client, poolName, GLOBAL_PULL_SECRET, OPENSHIFT_CONFIG_NAMESPACE, 'global pull secret', baseWhy)
  }

  const tag = g.build?.spec?.renderedImagePushSpec || g.config.spec?.renderedImagePushSpec || ''
  const pushSecretName = g.config.spec?.renderedImagePushSecret?.name ?? ''
  let pushSecret: Secret | undefined
  if (opts.push) {
    const ref = parseReference(tag)
    pushSecret = await readDockerSecret(client, poolName, pushSecretName, NS, 'renderedImagePushSecret', {
      host: ref.registry,
      repository: ref.repository,
      why: `where the built image ${tag} is pushed`,
    })
  }

  return {
    buildFile: CONTEXT_FILES.containerfile,
    files: [{content: renderContainerfile(g.inputs), path: CONTEXT_FILES.containerfile}, ...rest.files],
    poolName,
    pullSecret,
    pullSecretName,
    pushSecret,
    pushSecretName,
    registriesConf: rest.registries ? CONTEXT_FILES.registries : undefined,
    rendered: g.rendered,
    signaturePolicy: rest.policy ? CONTEXT_FILES.policy : undefined,
    tag,
  }
}
