/**
 * `oc mob rollback POOL` for a pool opted in by a MachineOSConfig (4.18+). The machine-os-builder
 * names each MachineOSBuild by a hash of the pool's rendered config, the cluster's base OS image and
 * the MachineOSConfig's whole spec, and reuses a successful build of that name whose image still
 * exists instead of building (reference §8.5, §12.3). So rolling back is restoring the spec that
 * produced an earlier build, as oc-mob's image history recorded it (machine-os/history.ts): the
 * builder finds the earlier MachineOSBuild again and points the pool at its image, and the node
 * controller rolls the nodes to it. When that build is gone, or the pool's rendered config changed
 * since, restoring the spec is a new build of the old custom content with today's config; the plan
 * says which.
 *
 * Before anything changes: the image is looked up in the registry with the push secret (a missing
 * image is refused), and the restored spec is sent to the API server as a dry run (refused with
 * the server's message when it no longer validates).
 */
import {ExitCode, isMobError, MobError, invalidInput as invalid} from '../../errors.js'
import type {KubeClient} from '../../kube/client.js'
import {R} from '../../kube/resources.js'
import type {MachineConfigPool, Node, Secret} from '../../kube/types.js'
import {waitFor} from '../../kube/watch.js'
import {MCO_NAMESPACE} from '../../mco/constants.js'
import {
  buildsOf,
  CURRENT_MOSB_ANNOTATION,
  type MachineOSBuild,
  type MachineOSConfig,
  mosbStatus,
  REBUILD_ANNOTATION,
} from '../../mco/machine-os.js'
import {renderedConfig} from '../../mco/pool-state.js'
import {DockerSecretError} from '../../registry/auth.js'
import {ImageReferenceError} from '../../registry/reference.js'
import type {TrustedCAs} from '../../registry/http.js'
import {type ProbeStatus, sessionForImage} from '../../registry/session.js'
import {
  findEntry,
  HISTORY_CONFIGMAP,
  type HistoryEntry,
  recordHistory,
  recordObserved,
  rolledBackFrom,
  withObservations,
} from '../../cluster/history.js'
import {
  type ConfirmAndWait,
  maxUnavailable,
  membersOf,
  type RollbackNode,
  rollbackNodes,
  type WaitProgress,
  waitForPoolImage,
} from '../../rollout/nodes.js'
import {unifiedDiff, yamlOf} from '../diff.js'
import {sortedSpec} from './backend.js'
import {machineOSObservations, specDockerfileHash} from './history.js'

export interface ImageCheck {
  /** ok: the image exists; missing: the registry does not have it; others: the registry could not tell. */
  status: ProbeStatus | 'skipped'
  /** What the registry answered. */
  answer: string
}

export interface MachineOSRollbackPlan {
  pool: string
  machineOSConfig: string
  /** The pool's rendered config now. */
  renderedConfig: string
  currentImage: string | null
  /** The MachineOSBuild the MachineOSConfig names as current. */
  currentBuild: string | null
  /** The history entry whose spec is restored, with its number in the history. */
  target: HistoryEntry & {index: number}
  /** reuse: the builder finds the earlier MachineOSBuild and reuses its image; build: it builds the old content anew. */
  expect: 'build' | 'reuse'
  /** The earlier MachineOSBuild, when it still exists and succeeded with the image. */
  earlierBuild: string | null
  /** Why a new build (empty for reuse). */
  reasons: string[]
  /** The spec change, as a unified diff. */
  diff: string
  imageCheck: ImageCheck
  maxUnavailable: number
  /** `reboots`: the node moves to another image (the earlier one, or the new build's). */
  nodes: RollbackNode[]
  warnings: string[]
}

export interface MachineOSRollbackResult extends MachineOSRollbackPlan {
  outcome: 'already' | 'declined' | 'dry-run' | 'rolled-back'
  /** With wait: the image the builder settled on. */
  image: string | null
  /** With wait: how many nodes run it. */
  rolledOut: WaitProgress | null
}

/** `force`: go ahead when the registry cannot tell whether the image exists, or (a new build) when it is gone. */
export interface MachineOSRollbackOptions extends ConfirmAndWait<MachineOSRollbackPlan> {
  /** The CAs the registry check trusts (--registry-ca). */
  cas?: TrustedCAs
  /** An entry number (0 = newest) or a digest of the history; default: the newest earlier entry with a recorded spec. */
  to?: string
}

const sameSpec = (a: MachineOSConfig['spec'], b: MachineOSConfig['spec']): boolean =>
  JSON.stringify(sortedSpec(a)) === JSON.stringify(sortedSpec(b))

/**
 * --to in the merged history: a number counts in the history as stored (what `status --history`
 * showed), shifted past the builds first seen now, which join at its head.
 */
function entryFor(history: HistoryEntry[], known: HistoryEntry[], to: string, pool: string): number {
  if (!/^\s*\d+\s*$/.test(to) || known.length === 0) return findEntry(history, to, pool)
  const stored = new Set(known.map((e) => e.image))
  const added = history.filter((e) => !stored.has(e.image)).length
  const i = findEntry(known, to, pool)
  // The history keeps a limited number of entries: one pushed out by the new ones is looked up by image (and not found).
  return history[i + added]?.image === known[i].image ? i + added : findEntry(history, known[i].image, pool)
}

function pickTarget(
  history: HistoryEntry[],
  known: HistoryEntry[],
  mosc: MachineOSConfig,
  current: string | undefined,
  pool: string,
  to?: string,
): number {
  const withSpec = history.filter((e) => e.machineOSConfigSpec)
  const list = `list them with \`oc mob status ${pool} --history\` (entries with a recorded spec can be rolled back to)`
  if (to !== undefined) {
    const i = entryFor(history, known, to, pool)
    if (!history[i].machineOSConfigSpec) {
      throw invalid(
        `oc-mob did not record the MachineOSConfig spec that built ${history[i].image}: it saw that build only when it was no longer the current one, so the spec to restore is not known`,
        list,
        {code: 'SpecUnknown'},
      )
    }

    return i
  }

  const away = rolledBackFrom(history)
  const i = history.findIndex(
    (e) => e.machineOSConfigSpec && e.image !== current && !away.has(e.image) && !sameSpec(e.machineOSConfigSpec, mosc.spec),
  )
  if (i < 0) {
    throw invalid(
      `no earlier MachineOSConfig spec of pool ${pool} is known: oc-mob's image history (ConfigMap ${HISTORY_CONFIGMAP} in ${MCO_NAMESPACE}) has ${withSpec.length === 0 ? 'no build recorded with its spec' : 'only builds of the current spec'}`,
      `there is nothing to roll back to; a build is recorded with its spec by \`oc mob build ${pool}\` and by \`oc mob status\` while it is the MachineOSConfig's current one`,
      {details: history.slice(0, 5).map((e) => `${e.image} (${e.machineOSBuild ?? 'build unknown'}, ${e.source} ${e.time})`)},
    )
  }

  return i
}

/** Looks the image up in its registry with the push secret (HEAD of the manifest by digest). */
async function checkImage(
  client: KubeClient,
  image: string,
  secretName: string | undefined,
  opts: {cas?: TrustedCAs; signal?: AbortSignal},
): Promise<ImageCheck> {
  let secret: Secret | undefined
  if (secretName) secret = await client.find<Secret>(R.secrets, secretName, MCO_NAMESPACE)
  if (!secret) return {answer: `push secret ${secretName ?? '(none)'} not found in ${MCO_NAMESPACE}`, status: 'error'}
  try {
    const {hasCredentials, ref, session} = sessionForImage(image, secret, {signal: opts.signal, ...(opts.cas ? {cas: opts.cas} : {})})
    if (!ref.digest) return {answer: `${image} has no digest`, status: 'error'}
    const r = await session.pull(ref.repository, ref.digest)
    const anon = hasCredentials ? '' : ` (secret ${secretName} has no credentials for ${ref.registry}: asked anonymously)`
    return {answer: `${r.answer}${anon}`, status: r.status}
  } catch (error) {
    if (error instanceof DockerSecretError || error instanceof ImageReferenceError) return {answer: error.message, status: 'error'}
    throw error
  }
}

/** The API server's verdict on the restored spec (dryRun=All): its message when it refuses it. */
async function validate(client: KubeClient, mosc: MachineOSConfig, spec: MachineOSConfig['spec'], signal?: AbortSignal): Promise<void> {
  try {
    await client.replace(R.machineOSConfigs, {...mosc, spec}, {dryRun: true, signal})
  } catch (error) {
    if (!isMobError(error) || error.exitCode !== ExitCode.Invalid) throw error
    throw invalid(
      `the MachineOSConfig spec recorded for that build no longer validates: ${error.message}`,
      `pick another entry (\`oc mob status ${mosc.spec?.machineConfigPool?.name ?? mosc.metadata.name} --history\`), or change the MachineOSConfig with \`oc mob setup --force\``,
      {code: 'SpecInvalid'},
    )
  }
}

export async function rollbackMachineOSPool(
  client: KubeClient,
  pool: MachineConfigPool,
  mosc: MachineOSConfig,
  known: HistoryEntry[],
  opts: MachineOSRollbackOptions = {},
): Promise<MachineOSRollbackResult> {
  const name = pool.metadata.name!
  const moscName = mosc.metadata.name!
  const [mosbs, nodes, pools] = await Promise.all([
    client.list<MachineOSBuild>(R.machineOSBuilds, {signal: opts.signal}).then((l) => l.items),
    client.list<Node>(R.nodes, {signal: opts.signal}).then((l) => l.items),
    client.list<MachineConfigPool>(R.machineConfigPools, {signal: opts.signal}).then((l) => l.items),
  ])
  const observations = machineOSObservations(name, mosc, mosbs)
  const history = withObservations(known, observations)
  const rendered = renderedConfig(pool) ?? ''
  const current = mosc.status?.currentImagePullSpec || undefined
  const index = pickTarget(history, known, mosc, current, name, opts.to)
  const target = {...history[index], index}
  const spec = target.machineOSConfigSpec!
  const own = buildsOf(mosbs, mosc)
  const earlier = own.find(
    (b) =>
      b.metadata.name === target.machineOSBuild &&
      mosbStatus(b).state === 'succeeded' &&
      b.status?.digestedImagePushSpec === target.image &&
      !b.metadata.deletionTimestamp,
  )
  const reasons: string[] = []
  if (!earlier) reasons.push(`MachineOSBuild ${target.machineOSBuild ?? '(unknown)'} that built the image no longer exists`)
  else if (earlier.spec?.machineConfig?.name !== rendered)
    reasons.push(
      `MachineOSBuild ${earlier.metadata.name} was built for rendered config ${earlier.spec?.machineConfig?.name}; pool ${name} now targets ${rendered}`,
    )
  const warnings: string[] = []
  if (reasons.length === 0)
    warnings.push(
      'the MachineOSBuild name also hashes the cluster’s base OS image: if an upgrade changed it since, the builder builds again instead of reusing the image',
    )
  if (Object.hasOwn(mosc.metadata.annotations ?? {}, REBUILD_ANNOTATION))
    warnings.push(`MachineOSConfig ${moscName} carries the ${REBUILD_ANNOTATION} annotation: the builder rebuilds its current build first`)
  if (pool.spec?.paused) warnings.push(`pool ${name} is paused: its nodes move only when it is unpaused`)

  const members = membersOf(name, nodes, pools)
  const plan: MachineOSRollbackPlan = {
    currentBuild: mosc.metadata.annotations?.[CURRENT_MOSB_ANNOTATION] ?? null,
    currentImage: current ?? null,
    diff: unifiedDiff(`machineosconfig/${moscName}`, yamlOf({spec: sortedSpec(mosc.spec)}), yamlOf({spec: sortedSpec(spec)})) ?? '',
    earlierBuild: earlier?.metadata.name ?? null,
    expect: reasons.length === 0 ? 'reuse' : 'build',
    imageCheck: {answer: '', status: 'skipped'},
    machineOSConfig: moscName,
    maxUnavailable: maxUnavailable(pool, members.length),
    nodes: rollbackNodes(members, (image) => reasons.length > 0 || image !== target.image),
    pool: name,
    reasons,
    renderedConfig: rendered,
    target,
    warnings,
  }
  const done = (outcome: MachineOSRollbackResult['outcome']): MachineOSRollbackResult => ({...plan, image: null, outcome, rolledOut: null})
  if (sameSpec(spec, mosc.spec)) return done('already')

  plan.imageCheck = await checkImage(
    client,
    target.image,
    spec?.renderedImagePushSecret?.name ?? mosc.spec?.renderedImagePushSecret?.name,
    opts,
  )
  const check = plan.imageCheck
  if (check.status === 'missing') {
    if (!opts.force) {
      throw invalid(
        `image ${target.image} is gone from the registry (${check.answer}): restoring the spec that built it would not bring it back`,
        `the builder would build that content again with today's config: add --force if that is what you want, or pick another entry (\`oc mob status ${name} --history\`)`,
        {code: 'ImageGone'},
      )
    }

    plan.expect = 'build'
    plan.reasons.push(`image ${target.image} is gone from the registry`)
  } else if (check.status !== 'ok') {
    if (!opts.force) {
      throw invalid(
        `could not make sure image ${target.image} still exists: ${check.answer}`,
        `run \`oc mob doctor ${name}\` to check the push secret and the registry, or add --force to roll back without the check (the builder builds again if the image is gone)`,
        {code: 'ImageUnchecked'},
      )
    }

    warnings.push(`the registry could not tell whether the image still exists (${check.answer}); if it is gone, the builder builds again`)
  }

  await validate(client, mosc, spec, opts.signal)
  if (opts.dryRun) return done('dry-run')
  if (opts.confirm && !(await opts.confirm(plan))) return done('declined')

  await recordObserved(client, observations)
  await client.update<MachineOSConfig>(R.machineOSConfigs, moscName, (c) => {
    c.spec = spec
  })
  await recordHistory(client, name, {
    customDockerfileHash: specDockerfileHash(spec),
    image: target.image,
    machineOSBuild: target.machineOSBuild,
    machineOSConfigSpec: spec,
    renderedConfig: target.renderedConfig,
    replaced: current,
    source: 'rollback',
    time: new Date().toISOString(),
  })
  if (!opts.wait) return {...done('rolled-back')}
  const image = await waitForBuilder(client, moscName, plan, opts)
  const rolledOut = await waitForPoolImage(client, pool, image, {
    onProgress: opts.onProgress,
    signal: opts.signal,
    timeoutMs: opts.timeoutMs,
  })
  return {...plan, image, outcome: 'rolled-back', rolledOut}
}

/** With --wait: the builder's answer to the restored spec, the image it points the pool at. */
async function waitForBuilder(
  client: KubeClient,
  mosc: string,
  plan: MachineOSRollbackPlan,
  opts: MachineOSRollbackOptions,
): Promise<string> {
  const wait = {next: `follow it with \`oc mob status ${plan.pool} --watch\``, signal: opts.signal, timeoutMs: opts.timeoutMs}
  const build = await waitFor<MachineOSConfig, string>(
    client,
    R.machineOSConfigs,
    mosc,
    (c) => {
      const named = c?.metadata.annotations?.[CURRENT_MOSB_ANNOTATION]
      if (plan.expect === 'reuse' && named === plan.earlierBuild && c?.status?.currentImagePullSpec === plan.target.image) return named
      return named && named !== plan.currentBuild ? named : undefined
    },
    {...wait, description: `the machine-os-builder to act on MachineOSConfig ${mosc}`},
  )
  return waitFor<MachineOSBuild, string>(
    client,
    R.machineOSBuilds,
    build,
    (b) => {
      if (!b) return undefined
      const st = mosbStatus(b)
      if (st.state === 'failed' || st.state === 'interrupted') {
        throw new MobError(
          `MachineOSBuild ${build} ${st.state === 'failed' ? 'failed' : 'was interrupted'}${st.message ? `: ${st.message}` : ''}`,
          {
            code: 'BuildFailed',
            exitCode: ExitCode.Failed,
            next: `read its log with \`oc mob logs ${plan.pool}\``,
          },
        )
      }

      return st.state === 'succeeded' ? b.status?.digestedImagePushSpec || undefined : undefined
    },
    {...wait, description: `MachineOSBuild ${build}`},
  )
}
