/**
 * `oc mob prune POOL --keep N` for a pool with a MachineOSConfig (4.18+). The machine-os-builder has
 * no retention policy: successful MachineOSBuilds and their images pile up until someone deletes the
 * builds, and deleting one makes the builder delete its image from the registry with the push secret,
 * unless a node runs or is to run it (reference §12.4). So pruning is deleting the successful
 * MachineOSBuilds older than the newest N, never the MachineOSConfig's current one and never one whose
 * image a node uses. Whether the registry will really delete the images is asked first with the push
 * secret (a DELETE of a digest no image has: 404 where deletes work, 405 where the registry has them
 * disabled, 401/403 where the secret may not), and the plan says so.
 */
import {ExitCode, MobError} from '../../errors.js'
import type {KubeClient} from '../../kube/client.js'
import {R} from '../../kube/resources.js'
import type {MachineConfigPool, Node, Secret} from '../../kube/types.js'
import {MCO_NAMESPACE} from '../../mco/constants.js'
import {buildsOf, CURRENT_MOSB_ANNOTATION, type MachineOSBuild, type MachineOSConfig, mosbStatus} from '../../mco/machine-os.js'
import {nodeMcoState} from '../../mco/pool-state.js'
import {DockerSecretError} from '../../registry/auth.js'
import {ImageReferenceError} from '../../registry/reference.js'
import type {TrustedCAs} from '../../registry/http.js'
import {type ProbeStatus, sessionForImage} from '../../registry/session.js'
import {recordMachineOSHistory} from './history.js'
import {compareText} from '../../order.js'

export type KeepReason = 'current' | 'in-use' | 'newest'

export interface PrunedBuild {
  name: string
  image: string | null
  renderedConfig: string | null
  /** When it finished (buildEnd), or was made. */
  finished: string | null
}

export interface KeptBuild extends PrunedBuild {
  why: KeepReason
  /** For in-use: the nodes that run or are to run its image. */
  nodes: string[]
}

export interface RegistryDeletes {
  /** ok: the registry deletes images; unsupported: deletes disabled (405); denied: the push secret may not; others: could not tell. */
  status: ProbeStatus | 'skipped'
  /** What the registry answered. */
  answer: string
  repository: string
}

export interface PrunePlan {
  pool: string
  machineOSConfig: string
  keep: number
  /** Successful builds to delete, newest first. */
  remove: PrunedBuild[]
  /** Successful builds kept, newest first, with why. */
  kept: KeptBuild[]
  registry: RegistryDeletes
  /** Whether the images of the deleted builds really go from the registry. */
  imagesDeleted: boolean
}

export interface PruneResult extends PrunePlan {
  outcome: 'declined' | 'dry-run' | 'nothing' | 'pruned'
  /** Builds deleted. */
  deleted: string[]
  /** Builds that were gone or replaced before they could be deleted. */
  skipped: string[]
}

export interface PruneOptions {
  keep: number
  dryRun?: boolean
  confirm?: (plan: PrunePlan) => Promise<boolean>
  signal?: AbortSignal
  /** The CAs the registry's delete probe trusts (--registry-ca). */
  cas?: TrustedCAs
}

const finishedOf = (b: MachineOSBuild): string => b.status?.buildEnd ?? b.metadata.creationTimestamp ?? ''

/** Which successful builds go and which stay (pure). */
export function planPrune(
  mosc: MachineOSConfig,
  mosbs: MachineOSBuild[],
  nodes: Node[],
  keep: number,
): {remove: PrunedBuild[]; kept: KeptBuild[]} {
  const current = mosc.metadata.annotations?.[CURRENT_MOSB_ANNOTATION]
  // Newest first, by when they ended; timestamps have whole seconds, so in a tie the current build leads.
  const isCurrent = (b: MachineOSBuild): number => Number(b.metadata.name === current)
  const succeeded = buildsOf(mosbs, mosc)
    .filter((b) => mosbStatus(b).state === 'succeeded' && !b.metadata.deletionTimestamp)
    .sort(
      (a, b) => compareText(finishedOf(b), finishedOf(a)) || isCurrent(b) - isCurrent(a) || compareText(a.metadata.name!, b.metadata.name!),
    )
  const currentImage = mosc.status?.currentImagePullSpec
  const users = (image: string | undefined): string[] =>
    image
      ? nodes
          .filter((n) => {
            const s = nodeMcoState(n)
            return s.currentImage === image || s.desiredImage === image
          })
          .map((n) => n.metadata.name!)
          .sort()
      : []
  const remove: PrunedBuild[] = []
  const kept: KeptBuild[] = []
  for (const [i, b] of succeeded.entries()) {
    const image = b.status?.digestedImagePushSpec
    const info: PrunedBuild = {
      finished: finishedOf(b) || null,
      image: image ?? null,
      name: b.metadata.name!,
      renderedConfig: b.spec?.machineConfig?.name ?? null,
    }
    const using = users(image)
    if (i < keep) kept.push({...info, nodes: using, why: 'newest'})
    else if (b.metadata.name === current || (image && image === currentImage)) kept.push({...info, nodes: using, why: 'current'})
    else if (using.length > 0) kept.push({...info, nodes: using, why: 'in-use'})
    else remove.push(info)
  }

  return {kept, remove}
}

/** The registry's delete probe with the push secret, for the repository the builds push to. */
async function probeDeletes(
  client: KubeClient,
  mosc: MachineOSConfig,
  image: string,
  opts: {cas?: TrustedCAs; signal?: AbortSignal},
): Promise<RegistryDeletes> {
  const secretName = mosc.spec?.renderedImagePushSecret?.name
  const repository = image.replace(/@.*$/, '')
  const secret = secretName ? await client.find<Secret>(R.secrets, secretName, MCO_NAMESPACE) : undefined
  if (!secret) return {answer: `push secret ${secretName ?? '(none)'} not found in ${MCO_NAMESPACE}`, repository, status: 'error'}
  try {
    const {hasCredentials, ref, session} = sessionForImage(image, secret, {signal: opts.signal, ...(opts.cas ? {cas: opts.cas} : {})})
    const r = await session.delete(ref.repository)
    const anon = hasCredentials ? '' : ` (secret ${secretName} has no credentials for ${ref.registry}: asked anonymously)`
    return {answer: `${r.answer}${anon}`, repository, status: r.status}
  } catch (error) {
    if (error instanceof DockerSecretError || error instanceof ImageReferenceError)
      return {answer: error.message, repository, status: 'error'}
    throw error
  }
}

export async function pruneMachineOSPool(
  client: KubeClient,
  pool: MachineConfigPool,
  mosc: MachineOSConfig,
  opts: PruneOptions,
): Promise<PruneResult> {
  const [mosbs, nodes] = await Promise.all([
    client.list<MachineOSBuild>(R.machineOSBuilds, {signal: opts.signal}).then((l) => l.items),
    client.list<Node>(R.nodes, {signal: opts.signal}).then((l) => l.items),
  ])
  const {kept, remove} = planPrune(mosc, mosbs, nodes, opts.keep)
  const plan: PrunePlan = {
    imagesDeleted: false,
    keep: opts.keep,
    kept,
    machineOSConfig: mosc.metadata.name!,
    pool: pool.metadata.name!,
    registry: {answer: '', repository: (mosc.spec?.renderedImagePushSpec ?? '').replace(/:[^/:]*$/, ''), status: 'skipped'},
    remove,
  }
  const done = (outcome: PruneResult['outcome'], deleted: string[] = [], skipped: string[] = []): PruneResult => ({
    ...plan,
    deleted,
    outcome,
    skipped,
  })
  if (remove.length === 0) return done('nothing')
  plan.registry = await probeDeletes(client, mosc, remove.find((b) => b.image)?.image ?? mosc.spec?.renderedImagePushSpec ?? '', opts)
  plan.imagesDeleted = plan.registry.status === 'ok'
  if (opts.dryRun) return done('dry-run')
  if (opts.confirm && !(await opts.confirm(plan))) return done('declined')

  // Keep the history's record of what is deleted (rollback can still rebuild a recorded spec).
  await recordMachineOSHistory(client, plan.pool, {mosbs, mosc}, opts.signal)
  const deleted: string[] = []
  const skipped: string[] = []
  for (const b of remove) {
    const uid = mosbs.find((x) => x.metadata.name === b.name)?.metadata.uid
    const r = await client.deleteExact(R.machineOSBuilds, {name: b.name, uid}, {signal: opts.signal})
    if (r === 'deleted') deleted.push(b.name)
    else skipped.push(b.name)
  }

  return done('pruned', deleted, skipped)
}

/** --keep must keep at least one build. */
export function checkKeep(keep: number): void {
  if (!Number.isInteger(keep) || keep < 1) {
    throw new MobError(`--keep ${keep}: at least the newest successful MachineOSBuild is always kept`, {
      code: 'BadKeep',
      exitCode: ExitCode.Usage,
      next: 'give --keep 1 or more',
    })
  }
}
