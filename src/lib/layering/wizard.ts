/**
 * The questions of `oc mob setup` when values are missing and a person is at the terminal. Each
 * question offers what was found in the cluster (pools, ImageStreams, docker config secrets, the
 * builder's secret) with the current settings as the default, so that accepting every default
 * changes nothing. Questions go through a Prompter, so the wizard does not depend on a terminal
 * library (lib/ui/confirm.ts has the terminal one).
 */
import {readFileSync} from 'node:fs'
import {validateCustomDockerfile} from '../build/validate.js'
import type {MachineConfigPool} from '../kube/types.js'
import {MCO_NAMESPACE} from '../mco/constants.js'
import {isLayered} from '../mco/pool-state.js'
import {DockerSecretError, dockerConfigFromFile} from '../registry/auth.js'
import {parseReference} from '../registry/reference.js'
import type {BuilderKind, BuildSettings} from './generation.js'
import type {Choice, Prompter} from '../ui/confirm.js'
import {isInternalRegistry} from './preflight.js'
import type {SetupInput} from './setup.js'
import {compareText} from '../order.js'

export interface WizardContext {
  pools: MachineConfigPool[]
  imageApi: boolean
  imageStreams: Array<{name: string; repository?: string}>
  /** Docker config secrets in the MCO namespace (no -canonical copies). */
  secrets: Array<{name: string; registries: string[]; builder: boolean}>
  /** The newest builder-dockercfg-* secret. */
  builderSecret?: string
  /** The settings in effect now, if any (their values are the defaults). */
  current?: BuildSettings
  globalPullSecretCopy: string
  defaultBuilder: BuilderKind
  /** 4.18+: "clone" means pulling with the global pull secret itself (the operator keeps its own copy). */
  machineOS?: boolean
}

const BUILTIN_POOLS = new Set(['master', 'worker'])
const EXTERNAL = '\u0000external'
const CLONE = '\u0000clone'
const NEW_POOL = '\u0000new'
const OTHER = '\u0000other'
const FROM_FILE = '\u0000file'
const SECRET_NAME = /^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/

const stripCanonical = (name: string | undefined): string | undefined => name?.replace(/-canonical$/, '')

function poolNameProblem(name: string): string | true {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 63) return 'lower-case letters, digits and -, at most 63 characters'
  return true
}

function pullspecProblem(text: string): string | true {
  try {
    const ref = parseReference(text)
    if (ref.digest) return 'give a repository (optionally with a tag), not a digest'
    return true
  } catch (error) {
    return (error as Error).message
  }
}

/** Whether a docker config file can become the push secret: readable, with credentials (for `host`, when known). */
function dockerConfigProblem(path: string, host: string | undefined): string | true {
  if (!path.trim()) return 'the path of a docker config file'
  let text: string
  try {
    text = readFileSync(path.trim(), 'utf8')
  } catch (error) {
    return `cannot read it: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`
  }

  try {
    const {registries} = dockerConfigFromFile(text, path.trim())
    if (host && !registries.some((r) => r === host || r.startsWith(`${host}/`)))
      return `it has no credentials for ${host} (only ${registries.join(', ')})`
    return true
  } catch (error) {
    if (error instanceof DockerSecretError) return error.message
    throw error
  }
}

function dockerfileProblem(path: string, pool: string): string | true {
  if (!path.trim()) return true
  let text: string
  try {
    text = readFileSync(path.trim(), 'utf8')
  } catch (error) {
    return `cannot read ${path.trim()}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`
  }

  const errors = validateCustomDockerfile(text, {baseImage: 'base', pool, releaseVersion: '', renderedConfig: `rendered-${pool}-0`}).filter(
    (p) => p.severity === 'error',
  )
  if (errors.length > 0) return `line ${errors[0].line}: ${errors[0].message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`
  return true
}

export async function askSetupInput(ctx: WizardContext, given: SetupInput, ask: Prompter): Promise<SetupInput> {
  const out: SetupInput = {...given}

  // The pool.
  if (!out.pool) {
    const custom = ctx.pools
      .filter((p) => !BUILTIN_POOLS.has(p.metadata.name!))
      .sort((a, b) => compareText(a.metadata.name!, b.metadata.name!))
    let choice = NEW_POOL
    if (custom.length > 0) {
      choice = await ask.select<string>({
        choices: [
          ...custom.map((p) => ({
            name: `${p.metadata.name} (existing pool${isLayered(p) ? ', opted in' : ''}, ${p.status?.machineCount ?? 0} node${p.status?.machineCount === 1 ? '' : 's'})`,
            value: p.metadata.name!,
          })),
          {name: 'a new pool', value: NEW_POOL},
        ],
        default:
          ctx.current?.pool && custom.some((p) => p.metadata.name === ctx.current?.pool)
            ? ctx.current.pool
            : custom.find((p) => p.metadata.name === 'layering')
              ? 'layering'
              : NEW_POOL,
        message: 'Which MachineConfigPool should get on-cluster built images?',
      })
    }

    if (choice === NEW_POOL) {
      const taken = new Set(ctx.pools.map((p) => p.metadata.name))
      const suggestion = taken.has('layering') ? 'layered' : 'layering'
      out.pool = (await ask.input({default: suggestion, message: 'Name of the new pool', validate: poolNameProblem})).trim()
    } else {
      out.pool = choice
    }
  }

  const pool = out.pool!
  const isNew = !ctx.pools.some((p) => p.metadata.name === pool)
  if (isNew && !out.nodeSelector && !(out.configRoles && out.configRoles.length > 0)) {
    const ok = await ask.confirm({
      default: true,
      message: `Pool ${pool} takes the MachineConfigs of roles [${pool}, worker], and nodes join it with the label node-role.kubernetes.io/${pool}= . Use these selectors?`,
    })
    if (!ok) {
      out.nodeSelector = (
        await ask.input({
          default: `node-role.kubernetes.io/${pool}=`,
          message: 'Node selector (KEY=VALUE): nodes with this label join the pool',
        })
      ).trim()
      const roles = await ask.input({default: `${pool},worker`, message: 'MachineConfig roles the pool takes (comma-separated)'})
      out.configRoles = roles
        .split(',')
        .map((r) => r.trim())
        .filter(Boolean)
    }
  }

  // Where the image goes.
  if (!out.finalPullspec && !out.imageStream) {
    const choices: Array<Choice<string>> = []
    if (ctx.imageApi) {
      // rhel-coreos is the release's own OS image stream: never a target for built images.
      for (const is of ctx.imageStreams.filter((i) => i.name !== 'rhel-coreos')) {
        choices.push({
          name: `ImageStream ${is.name} in ${MCO_NAMESPACE} (internal registry${is.repository ? `: ${is.repository}` : ''})`,
          value: is.name,
        })
      }

      if (!ctx.imageStreams.some((i) => i.name === 'os-image')) {
        choices.unshift({name: `a new ImageStream os-image in ${MCO_NAMESPACE} (internal registry)`, value: 'os-image'})
      }
    }

    choices.push({name: 'an external registry (a pullspec such as quay.io/myorg/os-image)', value: EXTERNAL})
    const current = ctx.current?.finalImagePullspec
    const currentStream = current ? ctx.imageStreams.find((i) => i.repository && current.startsWith(i.repository)) : undefined
    const fallback = ctx.imageApi ? 'os-image' : EXTERNAL
    const target = await ask.select<string>({
      choices,
      default: currentStream?.name ?? (current && !isInternal(current) ? EXTERNAL : fallback),
      message: 'Where should the built image be pushed?',
    })
    if (target === EXTERNAL) {
      out.finalPullspec = (
        await ask.input({
          default: current && !isInternal(current) ? current : undefined,
          message: 'Final image pullspec (its tag is replaced by the rendered config name)',
          validate: pullspecProblem,
        })
      ).trim()
    } else {
      out.imageStream = target
    }
  }

  // The base image pull secret.
  if (!out.basePullSecret && !out.cloneGlobalPullSecret) {
    const copyExists = ctx.secrets.some((s) => s.name === ctx.globalPullSecretCopy)
    const choices: Array<Choice<string>> = [
      {
        name: ctx.machineOS
          ? 'the global pull secret (openshift-config/pull-secret), as the machine-os-builder uses it when none is named'
          : `clone the global pull secret (openshift-config/pull-secret) into ${ctx.globalPullSecretCopy}${copyExists ? ' (exists)' : ''}`,
        value: CLONE,
      },
      ...ctx.secrets
        .filter((s) => s.name !== ctx.globalPullSecretCopy && !s.builder)
        .map((s) => ({name: `${s.name} (${s.registries.join(', ') || 'no registries'})`, value: s.name})),
    ]
    const current = stripCanonical(ctx.current?.baseImagePullSecret)
    const choice = await ask.select<string>({
      choices,
      default: current && current !== ctx.globalPullSecretCopy && choices.some((c) => c.value === current) ? current : CLONE,
      message: "Which secret should builds pull the base OS image (and the custom Dockerfile's images) with?",
    })
    if (choice === CLONE) out.cloneGlobalPullSecret = true
    else out.basePullSecret = choice
  }

  // The push secret.
  if (!out.pushSecret) {
    const internal = Boolean(out.imageStream)
    let host: string | undefined
    if (out.finalPullspec) {
      try {
        host = parseReference(out.finalPullspec).registry
      } catch {
        host = undefined
      }
    }

    // Without a secret to pick, the question still offers to type a name or to make one from a file.
    const candidates = ctx.secrets.filter((s) => s.name !== ctx.globalPullSecretCopy || !internal)

    const fits = (s: WizardContext['secrets'][number]): boolean =>
      Boolean(host) && s.registries.some((r) => r === host || r.startsWith(`${host}/`))
    const describe = (s: WizardContext['secrets'][number]): string => {
      if (s.builder)
        return `${s.name} (the builder service account's token for the internal registry; OpenShift rotates it, fine for trying out)`
      const has = host ? (fits(s) ? `has credentials for ${host}` : `no credentials for ${host}`) : s.registries.join(', ')
      return `${s.name} (${has})`
    }

    const rank = (s: WizardContext['secrets'][number]): number => (internal ? Number(s.builder) : Number(fits(s)))
    const ordered = [...candidates].sort((a, b) => rank(b) - rank(a) || compareText(a.name, b.name))
    const current = stripCanonical(ctx.current?.finalImagePushSecret)
    // An external registry needs its own credentials: the secrets without them come last, and a secret
    // made meanwhile (or named by hand) can be typed in without starting over.
    const choice = await ask.select<string>({
      choices: [
        ...ordered.map((s) => ({name: describe(s), value: s.name})),
        {name: `another secret in ${MCO_NAMESPACE} (type its name)`, value: OTHER},
        {name: 'a new secret from a docker config file (e.g. ~/.docker/config.json after `podman login`)', value: FROM_FILE},
      ],
      default:
        current && ordered.some((s) => s.name === current)
          ? current
          : internal && ctx.builderSecret
            ? ctx.builderSecret
            : (ordered[0]?.name ?? FROM_FILE),
      message: 'Which secret should builds push the image with?',
    })
    const nameProblem = (v: string): string | true => SECRET_NAME.test(v.trim()) || 'a secret name: lower-case letters, digits, - and .'
    if (choice === FROM_FILE) {
      out.pushSecretFile = (
        await ask.input({
          message: `Path of the docker config file${host ? ` with credentials for ${host}` : ''}`,
          validate: (v) => dockerConfigProblem(v, host),
        })
      ).trim()
      const taken = new Set(ctx.secrets.map((s) => s.name))
      out.pushSecret = (
        await ask.input({
          default: 'os-image-push',
          message: `Name of the secret to create in ${MCO_NAMESPACE}`,
          validate: (v) => {
            const ok = nameProblem(v)
            if (ok !== true) return ok
            return !taken.has(v.trim()) || `${v.trim()} exists already: pick it from the list, or give another name`
          },
        })
      ).trim()
    } else {
      out.pushSecret =
        choice === OTHER
          ? (
              await ask.input({
                message: `Name of the push secret in ${MCO_NAMESPACE} (create it first: \`oc create secret docker-registry NAME -n ${MCO_NAMESPACE} --docker-server=... --docker-username=... --docker-password=...\`, or --from-file=.dockerconfigjson=FILE)`,
                validate: nameProblem,
              })
            ).trim()
          : choice
    }
  }

  // The builder.
  if (!out.builder) {
    out.builder = await ask.select<BuilderKind>({
      choices: [
        {name: 'the build pod (custom-pod-builder): what `oc mob build` and `oc mob logs` use', value: 'pod'},
        {name: "OpenShift Builds (openshift-image-builder): the operator's default when unset", value: 'build'},
      ],
      default: ctx.current?.builder ?? 'pod',
      message: 'How should images be built?',
    })
  }

  // The custom Dockerfile.
  if (out.customDockerfile === undefined) {
    const has = ctx.current?.customDockerfile ? ' (leave empty to keep the current one)' : ' (leave empty for none)'
    const path = (
      await ask.input({message: `Path of a custom Dockerfile for pool ${pool}${has}`, validate: (v) => dockerfileProblem(v, pool)})
    ).trim()
    if (path) out.customDockerfile = path
  }

  // Opt in now?
  if (out.enable === undefined) {
    const already = ctx.pools.find((p) => p.metadata.name === pool)
    if (!already || !isLayered(already)) {
      out.enable = await ask.confirm({
        default: false,
        message: `Opt pool ${pool} into on-cluster builds now (the build starts right away)?`,
      })
    }
  }

  return out
}

function isInternal(pullspec: string): boolean {
  try {
    return isInternalRegistry(parseReference(pullspec).registry)
  } catch {
    return false
  }
}
