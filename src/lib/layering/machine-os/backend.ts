/**
 * The layering backend of OpenShift 4.18+: one MachineOSConfig per pool (machineconfiguration.openshift.io/v1),
 * named like the pool, holds everything the 4.14/4.15 generation kept in on-cluster-build-config and
 * the custom-Dockerfile ConfigMap, and creating it is what opts the pool in. Field names follow the v1
 * CRD (reference §8.2): renderedImagePushSpec (a tagged pullspec; each build is tagged with its
 * MachineOSBuild's name), renderedImagePushSecret, baseImagePullSecret (optional: the cluster's global
 * pull secret otherwise), imageBuilder.imageBuilderType Job, containerFile (the NoArch entry is what
 * the 4.19 builder uses, at most 4096 characters).
 *
 * Setup writes it; builds, logs and status follow the MachineOSBuilds the machine-os-builder makes
 * from it (src/lib/build/machine-os.ts, src/lib/logs, src/lib/status.ts); dockerfile and build --local
 * render its build context (src/lib/build/machine-os-context.ts). Opting out deletes it.
 */
import {machineOSLocalInputs, renderMachineOSDockerfile} from './context.js'
import {buildWithMachineOSConfig} from './build.js'
import {ExitCode, isMobError, MobError} from '../../errors.js'
import {lineCount} from '../../ui/output.js'
import type {KubeClient} from '../../kube/client.js'
import type {ReadCache} from '../../kube/read-cache.js'
import {withTag} from '../../registry/reference.js'
import {R} from '../../kube/resources.js'
import type {MachineConfigPool} from '../../kube/types.js'
import {waitFor} from '../../kube/watch.js'
import {machineOSConfigOf, type MachineOSConfig} from '../../mco/machine-os.js'
import {unifiedDiff, yamlOf} from '../diff.js'
import type {BuildSettings, LayeringBackend} from '../generation.js'
import type {PlanItem} from '../types.js'
import {otherSettings, replaceStep, unchangedStep} from '../steps.js'
import {compareText} from '../../order.js'

const GROUP = 'machineconfiguration.openshift.io'
/** The size limit of a containerFile entry's content in the v1 CRD. */
export const CONTAINERFILE_LIMIT = 4096
const access = (verb: string, name?: string) => ({group: GROUP, name, resource: 'machineosconfigs', verb})

/** Where the builds push: the repository of renderedImagePushSpec, whose tag the builder replaces by the MachineOSBuild's name. */
function pushedAs(pushSpec = ''): string {
  try {
    return withTag(pushSpec, '<MachineOSBuild name>')
  } catch {
    return pushSpec
  }
}

/** A pullspec with a tag, as renderedImagePushSpec requires (`:latest` when none is given; the builder replaces it). */
export function taggedPushSpec(pullspec: string): string {
  const ref = pullspec.trim().replace(/@sha256:[0-9a-f]{64}$/, '')
  return /:[^/]+$/.test(ref) ? ref : `${ref}:latest`
}

async function findConfig(client: KubeClient, pool: string, reads?: ReadCache): Promise<MachineOSConfig | undefined> {
  return machineOSConfigOf((await (reads ?? client).list<MachineOSConfig>(R.machineOSConfigs)).items, pool)
}

function wantedSpec(s: BuildSettings, current: MachineOSConfig | undefined): MachineOSConfig['spec'] {
  const spec: NonNullable<MachineOSConfig['spec']> = {
    imageBuilder: {imageBuilderType: 'Job'},
    machineConfigPool: {name: s.pool},
    renderedImagePushSecret: {name: s.finalImagePushSecret},
    renderedImagePushSpec: taggedPushSpec(s.finalImagePullspec),
  }
  if (s.baseImagePullSecret) spec.baseImagePullSecret = {name: s.baseImagePullSecret}
  // No custom Dockerfile given: the current one stays, as with the custom-Dockerfile ConfigMap.
  const containerFile =
    s.customDockerfile === undefined ? current?.spec?.containerFile : [{containerfileArch: 'NoArch', content: s.customDockerfile}]
  if (containerFile && containerFile.length > 0) spec.containerFile = containerFile
  return spec
}

export const sortedSpec = (spec: MachineOSConfig['spec']): unknown =>
  JSON.parse(
    JSON.stringify(spec, (_k, v: unknown) =>
      v && typeof v === 'object' && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => compareText(a, b)))
        : v,
    ),
  )

function manifestOf(name: string, spec: MachineOSConfig['spec']): MachineOSConfig {
  return {apiVersion: `${GROUP}/v1`, kind: 'MachineOSConfig', metadata: {name}, spec}
}

export const machineOSConfigBackend: LayeringBackend = {
  defaultBuilder: 'pod',
  dockerfile: renderMachineOSDockerfile,
  generation: 'machineosconfig',
  nodesCanRevert: true,
  oneShotBuildAccess: [access('patch')],
  title: 'OpenShift 4.18+ (a MachineOSConfig per pool)',
  settingsObject: 'MachineOSConfig',
  finalStage: 'last-stage',
  prunesImages: true,

  editCustomDockerfile: (pool) => `\`oc mob setup --pool ${pool} --custom-dockerfile FILE --force\``,

  async dryRunSettings(client, pool, signal, reads) {
    const mosc = await findConfig(client, pool, reads)
    if (!mosc) return undefined
    const subject = `MachineOSConfig ${mosc.metadata.name}`
    const fix = `fix it with \`oc mob setup --pool ${pool} --force\` or \`oc edit machineosconfig ${mosc.metadata.name}\``
    try {
      await client.replace(R.machineOSConfigs, mosc, {dryRun: true, signal})
      return {fix, subject}
    } catch (error) {
      if (!isMobError(error)) throw error
      return {fix, rejected: error.message, subject}
    }
  },

  async followBuild(client, poolName, opts) {
    const pool = await client.get<MachineConfigPool>(R.machineConfigPools, poolName)
    const config = await findConfig(client, poolName)
    if (!config)
      throw new MobError(`pool ${poolName} has no MachineOSConfig`, {
        exitCode: ExitCode.Invalid,
        next: `create it with \`oc mob setup --pool ${poolName}\``,
      })
    const result = await buildWithMachineOSConfig(client, pool, config, {
      onEvent: (e) =>
        opts.onEvent?.({
          message: e.message,
          phase:
            e.phase === 'running'
              ? 'building'
              : e.phase === 'joined' || e.phase === 'creating' || e.phase === 'checking'
                ? 'pending'
                : e.phase,
        }),
      onRetry: (message, lines) =>
        opts.onEvent?.({
          message: [message, ...(lines.length > 0 ? ["last lines of the failed attempt's log:", ...lines.map((l) => `  ${l}`)] : [])].join(
            '\n',
          ),
          phase: 'retrying',
        }),
      signal: opts.signal,
      stallGraceMs: opts.stallGraceMs,
    })
    return result.image!
  },

  async followOptOut(client, poolName, opts) {
    opts.onEvent?.({message: `waiting for MachineOSConfig ${poolName} to be gone`, phase: 'waiting'})
    await waitFor<MachineOSConfig, true>(client, R.machineOSConfigs, poolName, (c) => (c ? undefined : true), {signal: opts.signal})
  },

  async isEnabled(client, pool, reads) {
    return Boolean(await findConfig(client, pool.metadata.name!, reads))
  },

  localBuildInputs: machineOSLocalInputs,

  oneShotBuild(client, pool, opts) {
    return (async () => {
      const p = await client.get<MachineConfigPool>(R.machineConfigPools, pool)
      const config = await findConfig(client, pool)
      if (!config)
        throw new MobError(`pool ${pool} has no MachineOSConfig`, {
          exitCode: ExitCode.Invalid,
          next: `create it with \`oc mob setup --pool ${pool}\``,
        })
      return buildWithMachineOSConfig(client, p, config, opts)
    })()
  },

  async planOptIn(client, pool, enable) {
    const name = pool.metadata.name!
    const config = await findConfig(client, name)
    if (enable) {
      // The MachineOSConfig is the opt-in: setup's settings step creates it.
      return unchangedStep({
        kind: 'MachineOSConfig',
        name,
        summary: config ? 'exists: the pool is opted in' : 'created by the settings step: that opts the pool in',
      })
    }

    if (!config) return unchangedStep({kind: 'MachineOSConfig', name, summary: 'none: the pool is not opted in'})
    return {
      access: [access('delete', config.metadata.name)],
      item: {
        action: 'delete',
        kind: 'MachineOSConfig',
        manifest: config,
        name: config.metadata.name!,
        summary: 'opts the pool out; the builder deletes its MachineOSBuilds and the nodes return to the plain OS image',
      },
      async run() {
        await client.delete(R.machineOSConfigs, config.metadata.name!)
      },
    }
  },

  planNotes(items: PlanItem[], opts) {
    const notes: string[] = []
    const mosc = items.find((i) => i.kind === 'MachineOSConfig' && (i.action === 'create' || i.action === 'update'))
    if (mosc?.action === 'create') {
      notes.push(
        `creating MachineOSConfig ${mosc.name} opts pool ${opts.pool} into on-cluster builds: the machine-os-builder starts a build right away (\`oc mob build ${opts.pool}\` follows it)`,
      )
    } else if (mosc) {
      notes.push(
        `a changed MachineOSConfig is a new build for the machine-os-builder (its MachineOSBuild name hashes the spec): \`oc mob build ${opts.pool}\` follows it`,
      )
    }

    return notes
  },

  async planSettings(client, s, opts) {
    if (s.builder === 'build') {
      throw new MobError('--builder build (OpenShift Builds) does not exist on OpenShift 4.18+: the machine-os-builder builds with a Job', {
        exitCode: ExitCode.Usage,
        next: 'leave out --builder',
      })
    }

    if (s.customDockerfile !== undefined && s.customDockerfile.length > CONTAINERFILE_LIMIT) {
      throw new MobError(
        `the custom Dockerfile has ${s.customDockerfile.length} characters; a MachineOSConfig's containerFile holds at most ${CONTAINERFILE_LIMIT}`,
        {
          exitCode: ExitCode.Invalid,
          next: 'shorten it (move long scripts into a file the Dockerfile copies from an image, or into a MachineConfig)',
        },
      )
    }

    const current = await findConfig(client, s.pool, opts.reads)
    const name = current?.metadata.name ?? s.pool
    const resolvedSpec = async (): Promise<MachineOSConfig['spec']> => {
      if (!opts.resolvePullspec) return wantedSpec(s, current)
      return wantedSpec({...s, finalImagePullspec: await opts.resolvePullspec()}, current)
    }

    const spec = wantedSpec(s, current)
    const what = `push to ${pushedAs(spec!.renderedImagePushSpec)} with ${s.finalImagePushSecret}${s.baseImagePullSecret ? `, pull with ${s.baseImagePullSecret}` : ''}${spec!.containerFile ? `, a custom Dockerfile (${lineCount(spec!.containerFile[0]?.content ?? '')})` : ''}`
    if (!current) {
      return [
        {
          access: [access('create')],
          item: {
            action: 'create',
            kind: 'MachineOSConfig',
            manifest: manifestOf(name, spec),
            name,
            summary: `create for pool ${s.pool}: ${what}`,
          },
          async dryRun() {
            await client.create<MachineOSConfig>(R.machineOSConfigs, manifestOf(name, spec), {dryRun: true})
          },
          async run() {
            await client.create<MachineOSConfig>(R.machineOSConfigs, manifestOf(name, await resolvedSpec()))
          },
        },
      ]
    }

    const diff = unifiedDiff(`machineosconfig/${name}`, yamlOf({spec: sortedSpec(current.spec)}), yamlOf({spec: sortedSpec(spec)}))
    const manifest = manifestOf(name, spec)
    if (!diff) return [unchangedStep({kind: 'MachineOSConfig', manifest, name, summary: 'already holds these settings'})]
    const step = replaceStep(
      Boolean(opts.force),
      {diff, kind: 'MachineOSConfig', manifest, name},
      otherSettings(what),
      [access('update', name)],
      async () => {
        const next = await resolvedSpec()
        await client.update<MachineOSConfig>(R.machineOSConfigs, name, (c) => {
          c.spec = next
        })
      },
    )
    step.dryRun = async () => {
      await client.update<MachineOSConfig>(
        R.machineOSConfigs,
        name,
        (c) => {
          c.spec = spec
        },
        {dryRun: true},
      )
    }
    return [step]
  },

  poolImage() {
    return undefined
  },

  async readSettings(client, pool, reads) {
    const c = await findConfig(client, pool, reads)
    if (!c) return undefined
    return {
      baseImagePullSecret: c.spec?.baseImagePullSecret?.name ?? '',
      customDockerfile: c.spec?.containerFile?.find((f) => (f.containerfileArch ?? 'NoArch') === 'NoArch')?.content || undefined,
      finalImagePullspec: c.spec?.renderedImagePushSpec ?? '',
      finalImagePushSecret: c.spec?.renderedImagePushSecret?.name ?? '',
      pool,
    }
  },

  waitsForImage() {
    return false
  },
}
