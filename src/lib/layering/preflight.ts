/**
 * Preflight checks on a pool's build settings, each with a verdict (pass, warn, fail) and a fix:
 * the pullspec, the two docker config secrets and their registry credentials, the global pull
 * secret nodes pull the image with, degraded pools, the custom Dockerfile and the builder. Pure
 * functions over what was read from the cluster, so setup (before it writes) and enable (on what is
 * there) check exactly the same things.
 */
import {DockerfileParser} from 'dockerfile-ast'
import type {OsImage} from '../build/inputs.js'
import {validateCustomDockerfile} from '../build/validate.js'
import {ExitCode, MobError} from '../errors.js'
import type {MachineConfigPool, Secret} from '../kube/types.js'
import {GLOBAL_PULL_SECRET, MCO_NAMESPACE, OPENSHIFT_CONFIG_NAMESPACE} from '../mco/constants.js'
import {condition} from '../mco/pool-state.js'
import {DOCKER_CFG, DockerSecretError, findCredentials, parseDockerSecret, type ParsedDockerSecret, registriesIn} from '../registry/auth.js'
import {type ImageReference, parseReference} from '../registry/reference.js'
import type {BuildSettings} from './generation.js'
import {taggedPushSpec} from './machine-os/backend.js'
import type {Check} from './types.js'

/** The in-cluster registry's service, as ImageStreams report it. */
export const INTERNAL_REGISTRY = 'image-registry.openshift-image-registry.svc:5000'

export function isInternalRegistry(host: string): boolean {
  return host.startsWith('image-registry.openshift-image-registry.svc')
}

/** A `builder-dockercfg-*` secret: the builder service account's token for the internal registry. */
export function isBuilderSecret(secret: Secret): boolean {
  return secret.type === DOCKER_CFG && (secret.metadata.name?.startsWith('builder-dockercfg-') ?? false)
}

export interface SettingsCheckInput {
  settings: BuildSettings
  /** The base image pull secret as builds will see it (for a clone made in this run: its source). */
  pullSecret?: Secret
  /** How the pull secret comes about, for messages (e.g. "a copy of openshift-config/pull-secret"). */
  pullSecretOrigin?: string
  pushSecret?: Secret
  /** openshift-config/pull-secret: what nodes pull the built image with. */
  globalPullSecret?: Secret
  osImage?: OsImage
  pools: MachineConfigPool[]
  /** The cluster serves build.openshift.io (OpenShift Builds). */
  buildApi: boolean
  /** What the default builder is when settings.builder is undefined. */
  defaultBuilder: 'build' | 'pod'
  /** 4.18+ (machineosconfig): images are tagged with the MachineOSBuild name and built by a Job. */
  generation?: 'configmap' | 'machineosconfig'
  /**
   * The push secret is already the configured one: its lifetime was said when it was chosen, and
   * `doctor` (and `status`, near expiry) keep saying it, so a re-run does not repeat it.
   */
  pushSecretConfigured?: boolean
}

const fixSetup = 'run `oc mob setup` again with other values'

function parseSecret(secret: Secret): ParsedDockerSecret | string {
  try {
    return parseDockerSecret(secret)
  } catch (error) {
    if (error instanceof DockerSecretError) return error.message
    throw error
  }
}

/**
 * Whether a MachineOSConfig's renderedImagePushSpec passes the validation rule of its CRD
 * (machineconfiguration.openshift.io/v1): a registry host with a dot, an optional port, path segments of
 * letters, digits, - and _, a name and a tag; or an in-cluster service registry.
 */
export function machineOSPushSpecAllowed(spec: string): boolean {
  return (
    /^([a-zA-Z0-9-]+\.)+[a-zA-Z0-9-]+(:[0-9]{2,5})?(\/[a-zA-Z0-9-_]{1,61})*\/[a-zA-Z0-9-_.]+:[a-zA-Z0-9._-]+$/.test(spec) ||
    /^[^.]+\.[^.]+\.svc:\d+\/[^/]+\/[^/]+:[^/]+$/.test(spec)
  )
}

export function pullspecCheck(pullspec: string, tagName = 'rendered config name'): {check: Check; ref?: ImageReference} {
  let ref: ImageReference
  try {
    ref = parseReference(pullspec)
  } catch (error) {
    return {
      check: {
        fix: 'give a pullspec like quay.io/myorg/os-image (--final-pullspec)',
        id: 'pullspec',
        message: `"${pullspec}" is not a valid image pullspec: ${(error as Error).message}`,
        title: 'final image pullspec',
        verdict: 'fail',
      },
    }
  }

  if (ref.digest) {
    return {
      check: {
        fix: 'give a repository (and optionally a tag), e.g. quay.io/myorg/os-image',
        id: 'pullspec',
        message: `"${pullspec}" names a digest; the built image is pushed to a tag, so a repository is needed`,
        title: 'final image pullspec',
        verdict: 'fail',
      },
      ref,
    }
  }

  const repo = `${ref.registry}/${ref.repository}`
  if (tagName === 'MachineOSBuild name' && !machineOSPushSpecAllowed(taggedPushSpec(pullspec))) {
    // The MachineOSConfig CRD's own rule: the API server refuses anything else (422), so say it before writing.
    return {
      check: {
        fix: 'give a pullspec whose namespace and name use only letters, digits, - and _ (e.g. quay.io/my-org/os-image), or an in-cluster registry (image-registry.openshift-image-registry.svc:5000/NAMESPACE/NAME)',
        id: 'pullspec',
        message: `${pullspec} is not accepted as a MachineOSConfig's renderedImagePushSpec: the API requires host[:port][/namespace]/name:tag, with no "." in the namespace`,
        title: 'final image pullspec',
        verdict: 'fail',
      },
      ref,
    }
  }

  if (ref.tag && tagName === 'MachineOSBuild name') {
    // A MachineOSConfig's renderedImagePushSpec must carry a tag, which the builder replaces.
    return {
      check: {
        id: 'pullspec',
        message: `images are pushed as ${repo}:<${tagName}> (the tag "${ref.tag}" is replaced)`,
        title: 'final image pullspec',
        verdict: 'pass',
      },
      ref,
    }
  }

  if (ref.tag) {
    return {
      check: {
        fix: `drop the tag (--final-pullspec ${repo}) to make this warning go away`,
        id: 'pullspec',
        message: `the tag "${ref.tag}" of ${pullspec} is ignored: images are pushed as ${repo}:<${tagName}>${tagName === 'rendered config name' ? ` (e.g. ${repo}:rendered-<pool>-<hash>)` : ''} and nodes use the digest`,
        title: 'final image pullspec',
        verdict: 'warn',
      },
      ref,
    }
  }

  return {
    check: {id: 'pullspec', message: `images are pushed as ${repo}:<${tagName}>`, title: 'final image pullspec', verdict: 'pass'},
    ref,
  }
}

function secretCheck(opts: {
  id: string
  title: string
  role: string
  secret?: Secret
  name: string
  origin?: string
  registry?: ImageReference
  why: string
  missingFix: string
}): {check: Check; parsed?: ParsedDockerSecret} {
  const {id, name, role, title} = opts
  if (!opts.secret) {
    return {
      check: {
        exitCode: ExitCode.NotFound,
        fix: opts.missingFix,
        id,
        message: `the ${role} secret ${name} does not exist in ${MCO_NAMESPACE}`,
        title,
        verdict: 'fail',
      },
    }
  }

  const parsed = parseSecret(opts.secret)
  if (typeof parsed === 'string') {
    return {
      check: {
        fix: `use a docker config secret (\`oc create secret docker-registry ...\`), or ${fixSetup}`,
        id,
        message: `${role}: ${parsed}`,
        title,
        verdict: 'fail',
      },
    }
  }

  const label = `${name}${opts.origin ? ` (${opts.origin})` : ''}`
  if (opts.registry && !findCredentials(parsed.auths, opts.registry.registry, opts.registry.repository)) {
    const has = registriesIn(parsed.auths)
    return {
      check: {
        details: [`it has credentials for: ${has.length > 0 ? has.join(', ') : '(none)'}`],
        fix: `add credentials for ${opts.registry.registry} to ${name} (e.g. \`oc registry login --registry ${opts.registry.registry} --auth-basic USER:PASS --to FILE\` and recreate the secret from FILE), or pick another secret`,
        id,
        message: `the ${role} secret ${label} has no credentials for ${opts.registry.registry}, ${opts.why}`,
        title,
        verdict: 'fail',
      },
      parsed,
    }
  }

  const legacy =
    parsed.type === DOCKER_CFG || parsed.legacyContent
      ? `; it is a legacy ${parsed.key} secret: the operator copies it into ${name}-canonical (.dockerconfigjson) and points on-cluster-build-config at the copy`
      : ''
  return {
    check: {id, message: `${label} holds credentials for ${opts.registry?.registry ?? 'its registries'}${legacy}`, title, verdict: 'pass'},
    parsed,
  }
}

/** Registries of the images the custom Dockerfile pulls (its FROM lines that are not earlier stages or `configs`). */
export function dockerfileRegistries(custom: string): ImageReference[] {
  const doc = DockerfileParser.parse(custom)
  const stages = new Set<string>(['configs', 'extract', 'extensions'])
  const out: ImageReference[] = []
  for (const from of doc.getFROMs()) {
    const image = from.getImage()
    const stage = from.getBuildStage()
    if (image && !stages.has(image.toLowerCase()) && !image.includes('$')) {
      try {
        out.push(parseReference(image))
      } catch {
        // validateCustomDockerfile reports bad FROM lines
      }
    }

    if (stage) stages.add(stage.toLowerCase())
  }

  return out
}

export function degradedPoolsCheck(pools: MachineConfigPool[]): Check {
  const degraded = pools.filter((p) => ['Degraded', 'RenderDegraded', 'NodeDegraded'].some((t) => condition(p, t)?.status === 'True'))
  if (degraded.length === 0) return {id: 'pools', message: `no pool is degraded (${pools.length} pools)`, title: 'pools', verdict: 'pass'}
  const details = degraded.map((p) => {
    const c = ['RenderDegraded', 'NodeDegraded', 'Degraded'].map((t) => condition(p, t)).find((x) => x?.status === 'True')
    const failedBuild = condition(p, 'BuildFailed')?.status === 'True'
    return `pool ${p.metadata.name}: ${c?.type}${c?.message ? `: ${c.message}` : ''}${failedBuild ? ` (its build failed: \`oc mob cleanup ${p.metadata.name}\`)` : ''}`
  })
  return {
    details,
    fix: 'the operator builds no images while a pool is degraded: fix the pools first (`oc get mcp`, `oc describe mcp NAME`)',
    id: 'pools',
    message: `${degraded.length} pool${degraded.length === 1 ? ' is' : 's are'} degraded: ${degraded.map((p) => p.metadata.name).join(', ')}`,
    title: 'pools',
    verdict: 'fail',
  }
}

export function settingsChecks(input: SettingsCheckInput): Check[] {
  const s = input.settings
  const checks: Check[] = []
  const {check: specCheck, ref: final} = pullspecCheck(
    s.finalImagePullspec,
    input.generation === 'machineosconfig' ? 'MachineOSBuild name' : 'rendered config name',
  )
  checks.push(specCheck)
  const internal = final ? isInternalRegistry(final.registry) : false

  let base: ImageReference | undefined
  if (input.osImage) {
    try {
      base = parseReference(input.osImage.baseImage)
    } catch {
      base = undefined
    }
  }

  const pull = secretCheck({
    id: 'pull-secret',
    missingFix: `create it, or clone the global pull secret with --clone-global-pull-secret`,
    name: s.baseImagePullSecret,
    origin: input.pullSecretOrigin,
    registry: base,
    role: 'base image pull',
    secret: input.pullSecret,
    title: 'base image pull secret',
    why: `where the base OS image ${input.osImage?.baseImage ?? ''} is pulled from`,
  })
  checks.push(pull.check)

  const push = secretCheck({
    id: 'push-secret',
    missingFix: `create it (\`oc create secret docker-registry ${s.finalImagePushSecret} -n ${MCO_NAMESPACE} --docker-server=... --docker-username=... --docker-password=...\`), or pick another with --push-secret`,
    name: s.finalImagePushSecret,
    registry: final && !final.digest ? final : undefined,
    role: 'final image push',
    secret: input.pushSecret,
    title: 'final image push secret',
    why: `where the built image ${s.finalImagePullspec} is pushed`,
  })
  checks.push(push.check)
  if (input.pushSecret && isBuilderSecret(input.pushSecret) && !input.pushSecretConfigured) {
    checks.push({
      fix: `for a long-lived setup, create a push secret from a long-lived token: \`oc create token builder -n ${MCO_NAMESPACE} --duration=8760h\`, log in with it (\`oc registry login --registry ${INTERNAL_REGISTRY} --auth-basic=builder:TOKEN --to FILE\`), \`oc create secret docker-registry ... --from-file=.dockerconfigjson=FILE\`, and run setup with --push-secret`,
      id: 'push-secret-rotation',
      message: `${s.finalImagePushSecret} is the builder service account's token secret: OpenShift rotates builder-dockercfg-* secrets, while the operator's ${s.finalImagePushSecret}-canonical copy is not refreshed, so pushes start failing after a rotation`,
      title: 'push secret lifetime',
      verdict: 'warn',
    })
  }

  if (final && !final.digest) {
    const global = input.globalPullSecret ? parseSecret(input.globalPullSecret) : undefined
    const title = 'global pull secret'
    const where = `${OPENSHIFT_CONFIG_NAMESPACE}/${GLOBAL_PULL_SECRET}`
    if (!input.globalPullSecret || typeof global === 'string') {
      checks.push({
        fix: `check \`oc get secret ${GLOBAL_PULL_SECRET} -n ${OPENSHIFT_CONFIG_NAMESPACE}\``,
        id: 'global-pull-secret',
        message: input.globalPullSecret ? `${where}: ${global as string}` : `${where} does not exist`,
        title,
        verdict: internal ? 'warn' : 'fail',
      })
    } else if (findCredentials(global!.auths, final.registry, final.repository)) {
      checks.push({
        id: 'global-pull-secret',
        message: `${where} holds pull credentials for ${final.registry}: nodes can pull the built image`,
        title,
        verdict: 'pass',
      })
    } else if (internal) {
      checks.push({
        fix: `if nodes fail to pull the image, add credentials for ${final.registry} to the global pull secret (\`oc set data secret/${GLOBAL_PULL_SECRET} -n ${OPENSHIFT_CONFIG_NAMESPACE} --from-file=.dockerconfigjson=FILE\`)`,
        id: 'global-pull-secret',
        message: `${where} has no credentials for the internal registry ${final.registry}; on 4.14 nodes pull the built image with the global pull secret`,
        title,
        verdict: 'warn',
      })
    } else {
      checks.push({
        fix: `add pull credentials for ${final.registry} to the global pull secret: \`oc get secret/${GLOBAL_PULL_SECRET} -n ${OPENSHIFT_CONFIG_NAMESPACE} --template='{{index .data ".dockerconfigjson" | base64decode}}' > FILE\`, \`oc registry login --registry ${final.registry} --auth-basic USER:PASS --to FILE\`, \`oc set data secret/${GLOBAL_PULL_SECRET} -n ${OPENSHIFT_CONFIG_NAMESPACE} --from-file=.dockerconfigjson=FILE\``,
        id: 'global-pull-secret',
        message: `${where} has no pull credentials for ${final.registry}: nodes pull the built image with it and could not get it`,
        title,
        verdict: 'fail',
      })
    }
  }

  checks.push(degradedPoolsCheck(input.pools))

  if (s.customDockerfile) {
    const problems = validateCustomDockerfile(s.customDockerfile, {
      baseImage: input.osImage?.baseImage ?? 'base',
      customDockerfile: s.customDockerfile,
      extensionsImage: input.osImage?.extensionsImage,
      pool: s.pool,
      releaseVersion: input.osImage?.releaseVersion ?? '',
      renderedConfig: `rendered-${s.pool}-0`,
    })
    const errors = problems.filter((p) => p.severity === 'error')
    const warnings = problems.filter((p) => p.severity === 'warning')
    if (errors.length > 0) {
      checks.push({
        details: errors.map((p) => `line ${p.line}: ${p.message}`),
        fix: 'fix the Dockerfile (its last stage must be `FROM configs AS final`)',
        id: 'dockerfile',
        message: `the custom Dockerfile has ${errors.length} problem${errors.length === 1 ? '' : 's'}`,
        title: 'custom Dockerfile',
        verdict: 'fail',
      })
    } else if (warnings.length > 0) {
      checks.push({
        details: warnings.map((p) => `line ${p.line}: ${p.message}`),
        id: 'dockerfile',
        message: `the custom Dockerfile is usable, with ${warnings.length} warning${warnings.length === 1 ? '' : 's'}`,
        title: 'custom Dockerfile',
        verdict: 'warn',
      })
    } else {
      checks.push({
        id: 'dockerfile',
        message: 'the custom Dockerfile is valid and ends with `FROM configs AS final`',
        title: 'custom Dockerfile',
        verdict: 'pass',
      })
    }

    if (pull.parsed) {
      const lacking = dockerfileRegistries(s.customDockerfile).filter((r) => !findCredentials(pull.parsed!.auths, r.registry, r.repository))
      const hosts = [...new Set(lacking.map((r) => r.registry))]
      if (hosts.length > 0) {
        checks.push({
          fix: `if those registries need a login, add their credentials to ${s.baseImagePullSecret}`,
          id: 'dockerfile-registries',
          message: `the custom Dockerfile pulls from ${hosts.join(', ')}, for which ${s.baseImagePullSecret} has no credentials (builds pull every FROM image with the base image pull secret)`,
          title: 'custom Dockerfile images',
          verdict: 'warn',
        })
      }
    }
  }

  const builder = s.builder ?? input.defaultBuilder
  if (input.generation === 'machineosconfig') {
    checks.push({
      id: 'builder',
      message:
        'images are built by a Job of the machine-os-builder (build-<MachineOSBuild>), which `oc mob build` and `oc mob logs` follow',
      title: 'builder',
      verdict: 'pass',
    })
  } else if (builder === 'build' && !input.buildApi) {
    checks.push({
      fix: 'use the build pod: --builder pod',
      id: 'builder',
      message: `${s.builder ? 'openshift-image-builder was asked for' : 'imageBuilderType is not set, so the operator uses OpenShift Builds'}, but the cluster does not serve build.openshift.io/v1`,
      title: 'builder',
      verdict: 'fail',
    })
  } else if (builder === 'build') {
    checks.push({
      id: 'builder',
      message: `images are built by OpenShift Builds (imageBuilderType ${s.builder ? 'openshift-image-builder' : "not set: the operator's default"}); \`oc mob build\` and \`oc mob logs\` follow a build pod, use --builder pod for that`,
      title: 'builder',
      verdict: s.builder ? 'pass' : 'warn',
    })
  } else {
    checks.push({
      id: 'builder',
      message: `images are built by the build pod build-<rendered config> (imageBuilderType custom-pod-builder), the same pod \`oc mob build\` and \`oc mob logs\` use`,
      title: 'builder',
      verdict: 'pass',
    })
  }

  return checks
}

/**
 * Throws the failure of a list of checks (the first failure decides the exit code); returns when none
 * failed. `shown`: the checks were printed already (each failure with its fix), so the error says
 * only how many failed; otherwise it carries them. A fix is said once: as `next` when one check failed.
 */
export function throwIfFailed(checks: Check[], what: string, opts: {shown?: boolean; next?: string} = {}): void {
  const failed = checks.filter((c) => c.verdict === 'fail')
  if (failed.length === 0) return
  const one = failed.length === 1 ? failed[0] : undefined
  const details: string[] = []
  if (!opts.shown) {
    for (const c of failed) {
      if (c !== one) details.push(`✖ ${c.title}: ${c.message}`)
      for (const d of c.details ?? []) details.push(`    ${d}`)
      if (c.fix && c !== one) details.push(`    fix: ${c.fix}`)
    }
  }

  if (opts.shown) {
    throw new MobError(
      `${what}: ${one ? `the ${one.title} check above failed` : `${failed.length} preflight checks above failed`}; nothing was changed`,
      {
        code: 'PreflightFailed',
        exitCode: failed[0].exitCode ?? ExitCode.Invalid,
        next: opts.next ?? `do what the failed check${one ? ' says' : 's say'} (fix:), then run the command again`,
      },
    )
  }

  throw new MobError(`${what}: ${one ? one.message : `${failed.length} preflight checks failed`}; nothing was changed`, {
    code: 'PreflightFailed',
    details: one ? details.map((d) => d.replace(/^ {4}/, '')) : details,
    exitCode: failed[0].exitCode ?? ExitCode.Invalid,
    next: one?.fix ?? opts.next ?? 'fix the failed checks and run the command again',
  })
}
