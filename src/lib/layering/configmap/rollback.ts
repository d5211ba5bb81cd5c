/**
 * `oc mob rollback POOL`: point a layered pool back at an earlier image from oc-mob's image history,
 * the way onclustertesting's `set-image` does it (the newestImageEquivalentConfig annotation, the
 * Build* conditions cleared and BuildSuccess=True), so that the node controller rolls the nodes to it
 * as after any build, honouring maxUnavailable. Nothing is rebuilt and nothing is deleted.
 */
import {invalidInput as invalid} from '../../errors.js'
import type {KubeClient} from '../../kube/client.js'
import {R} from '../../kube/resources.js'
import type {MachineConfigPool, Node, Pod} from '../../kube/types.js'
import {applyConditions, removeConditions} from '../../mco/conditions.js'
import {BUILD_CONDITIONS, BUILD_LABELS, buildNames, MCO_NAMESPACE, NEWEST_IMAGE_ANNOTATION} from '../../mco/constants.js'
import {condition, isLayered, poolImage, renderedConfig} from '../../mco/pool-state.js'
import {describeBuildObject} from '../../cluster/build-objects.js'
import {poolNotFound} from '../../cluster/pools.js'
import {
  findEntry,
  HISTORY_CONFIGMAP,
  type HistoryEntry,
  previousGood,
  readHistory,
  recordHistory,
  recordObserved,
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

export interface PoolRollbackPlan {
  pool: string
  renderedConfig: string
  currentImage: string | null
  /** The history entry rolled back to, with its number in the history. */
  target: HistoryEntry & {index: number}
  /** How many nodes the node controller updates at once. */
  maxUnavailable: number
  nodes: RollbackNode[]
  warnings: string[]
}

export interface PoolRollbackResult extends PoolRollbackPlan {
  outcome: 'already' | 'declined' | 'dry-run' | 'rolled-back'
  /** With wait: how many nodes run the image. */
  rolledOut: WaitProgress | null
}

/** `force`: go ahead despite a running build or an image of another rendered config. */
export interface PoolRollbackOptions extends ConfirmAndWait<PoolRollbackPlan> {
  /** An entry number (0 = newest) or a digest of the history; default: the previous good image for the rendered config. */
  to?: string
}

async function readLayeredPool(client: KubeClient, name: string): Promise<{pool: MachineConfigPool; pools: MachineConfigPool[]}> {
  const pools = (await client.list<MachineConfigPool>(R.machineConfigPools)).items
  const pool = pools.find((p) => p.metadata.name === name)
  if (!pool) throw poolNotFound(name, pools)
  if (!isLayered(pool)) {
    throw invalid(
      `pool ${name} is not opted into on-cluster builds: its nodes run no built image, so there is nothing to roll back`,
      'to take a node off a layered image, see `oc mob rollback node --help`',
    )
  }

  return {pool, pools}
}

/** Rolls a pool opted in by the label (4.14/4.15) back; see lib/layering/rollback.ts. */
export async function rollbackConfigMapPool(client: KubeClient, name: string, opts: PoolRollbackOptions = {}): Promise<PoolRollbackResult> {
  const [{pool, pools}, nodes, history, pods] = await Promise.all([
    readLayeredPool(client, name),
    client.list<Node>(R.nodes, {signal: opts.signal}),
    readHistory(client, name),
    client.list<Pod>(R.pods, {
      labelSelector: `${BUILD_LABELS.buildPod},${BUILD_LABELS.targetPool}=${name}`,
      namespace: MCO_NAMESPACE,
      signal: opts.signal,
    }),
  ])
  const rendered = renderedConfig(pool)
  if (!rendered)
    throw invalid(`pool ${name} has no rendered config yet`, `wait for the machine-config controller: \`oc get mcp ${name} -w\``)
  const current = poolImage(pool)
  const others = history.filter((e) => e.image !== current)
  if (others.length === 0) {
    throw invalid(
      `no earlier image of pool ${name} is known: oc-mob's image history (ConfigMap ${HISTORY_CONFIGMAP} in ${MCO_NAMESPACE}) has ${history.length === 0 ? 'no entry' : 'only the current image'} for it`,
      `there is nothing to roll back to; the history grows with every \`oc mob build ${name}\` and every image \`oc mob status\` sees on the pool`,
    )
  }

  let index: number
  if (opts.to === undefined) {
    const i = previousGood(history, rendered, current)
    if (i === undefined) {
      throw invalid(
        `the history of pool ${name} has no earlier good image for its rendered config ${rendered}`,
        `list the history with \`oc mob status ${name} --history\`; an image of another rendered config can be chosen with --to N --force`,
        {
          details: others
            .slice(0, 5)
            .map((e) => `${e.image} (built for ${e.renderedConfig || 'an unknown config'}, ${e.source} ${e.time})`),
        },
      )
    }

    index = i
  } else index = findEntry(history, opts.to, name)

  const target = {...history[index], index}
  const warnings: string[] = []
  if (target.renderedConfig !== rendered) {
    const what = target.renderedConfig ? `was built from ${target.renderedConfig}` : 'was built from a rendered config oc-mob does not know'
    if (!opts.force) {
      throw invalid(
        `image ${target.image} ${what}, but pool ${name} now targets ${rendered}: its nodes would run the files of the other config while reporting ${rendered}`,
        `roll back to an image of ${rendered} (\`oc mob status ${name} --history\`), or add --force if that is what you want`,
      )
    }

    warnings.push(`the image ${what}, not from the pool's rendered config ${rendered}`)
  }

  const live = pods.items
    .map((p) => describeBuildObject(p, 'Pod'))
    .find((b) => b.name === buildNames(rendered).build && (b.state === 'pending' || b.state === 'running') && !b.terminating)
  if (live) {
    if (!opts.force) {
      throw invalid(
        `a build of pool ${name} is ${live.state} (pod ${live.name}); when it finishes it replaces the image again`,
        `wait for it (\`oc mob logs ${name} -f\`) or stop it (\`oc mob cleanup ${name} --force\`), or add --force to roll back anyway`,
      )
    }

    warnings.push(`build pod ${live.name} is ${live.state}: when it finishes it replaces the image again`)
  }

  if (condition(pool, 'BuildFailed')?.status === 'True')
    warnings.push(
      `the pool's failed build is forgotten (BuildFailed is cleared), but its objects stay: remove them with \`oc mob cleanup ${name}\``,
    )
  if (pool.spec?.paused) warnings.push(`pool ${name} is paused: its nodes move to the image only when it is unpaused`)

  const members = membersOf(name, nodes.items, pools)
  const plan: PoolRollbackPlan = {
    currentImage: current ?? null,
    maxUnavailable: maxUnavailable(pool, members.length),
    nodes: rollbackNodes(members, (image) => image !== target.image),
    pool: name,
    renderedConfig: rendered,
    target,
    warnings,
  }
  if (target.image === current) return {...plan, outcome: 'already', rolledOut: null}
  if (opts.dryRun) return {...plan, outcome: 'dry-run', rolledOut: null}

  if (opts.confirm && !(await opts.confirm(plan))) return {...plan, outcome: 'declined', rolledOut: null}
  // Keep a record of the image being left, so that it can be gone back to.
  if (current && !history.some((e) => e.image === current)) {
    const quiet = condition(pool, 'BuildSuccess')?.status === 'True' && !live
    await recordObserved(client, [{image: current, pool: name, renderedConfig: quiet ? rendered : ''}])
  }

  await setImage(client, name, target.image)
  await recordHistory(client, name, {
    customDockerfileHash: target.customDockerfileHash ?? '',
    image: target.image,
    renderedConfig: target.renderedConfig,
    replaced: current,
    source: 'rollback',
    time: new Date().toISOString(),
  })
  let rolledOut: WaitProgress | null = null
  if (opts.wait)
    rolledOut = await waitForPoolImage(client, pool, target.image, {
      onProgress: opts.onProgress,
      signal: opts.signal,
      timeoutMs: opts.timeoutMs,
    })
  return {...plan, outcome: 'rolled-back', rolledOut}
}

/**
 * onclustertesting's set-image: the annotation, then the Build* conditions cleared and BuildSuccess
 * set, which is what the node controller waits for before it moves nodes to the image.
 */
export async function setImage(client: KubeClient, pool: string, image: string): Promise<void> {
  await client.update<MachineConfigPool>(R.machineConfigPools, pool, (p) => {
    if (p.metadata.annotations?.[NEWEST_IMAGE_ANNOTATION] === image) return false
    p.metadata.annotations = {...p.metadata.annotations, [NEWEST_IMAGE_ANNOTATION]: image}
  })
  await client.update<MachineConfigPool>(
    R.machineConfigPools,
    pool,
    (p) => {
      p.status ??= {}
      p.status.conditions = applyConditions(removeConditions(p.status.conditions, BUILD_CONDITIONS), [
        {message: `image set by oc mob rollback: ${image}`, reason: 'BuildSucceeded', status: 'True', type: 'BuildSuccess'},
      ])
    },
    {subresource: 'status'},
  )
}
