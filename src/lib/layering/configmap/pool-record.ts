/**
 * What a build records on its MachineConfigPool, as the operator records it: the build object
 * reference in spec/status configuration.source, the Build* conditions, and on success the
 * newestImageEquivalentConfig annotation. Every write re-reads the pool and retries on conflict,
 * so it can run alongside the cluster's own controllers.
 */
import type {KubeClient} from '../../kube/client.js'
import {R} from '../../kube/resources.js'
import type {MachineConfigPool, ObjectReference} from '../../kube/types.js'
import {
  applyConditions,
  BUILD_PENDING,
  BUILD_RUNNING,
  BUILD_SUCCEEDED,
  buildFailed,
  type ConditionUpdate,
  removeConditions,
} from '../../mco/conditions.js'
import {BUILD_CONDITIONS, NEWEST_IMAGE_ANNOTATION} from '../../mco/constants.js'

const isRef =
  (name: string) =>
  (r: ObjectReference): boolean =>
    r.name === name && r.kind !== 'MachineConfig'

function withRef(list: ObjectReference[] | undefined, ref: ObjectReference): {list: ObjectReference[]; changed: boolean} {
  const current = list ?? []
  if (current.some(isRef(ref.name!))) return {changed: false, list: current}
  return {changed: true, list: [...current, ref]}
}

function withoutRef(list: ObjectReference[] | undefined, name: string): {list: ObjectReference[]; changed: boolean} {
  const current = list ?? []
  const kept = current.filter((r) => !isRef(name)(r))
  return {changed: kept.length !== current.length, list: kept}
}

async function updateSpec(client: KubeClient, pool: string, mutate: (p: MachineConfigPool) => boolean): Promise<MachineConfigPool> {
  return client.update<MachineConfigPool>(R.machineConfigPools, pool, (p) => mutate(p))
}

async function updateStatus(client: KubeClient, pool: string, mutate: (p: MachineConfigPool) => boolean): Promise<MachineConfigPool> {
  return client.update<MachineConfigPool>(R.machineConfigPools, pool, (p) => mutate(p), {subresource: 'status'})
}

async function setConditions(
  client: KubeClient,
  pool: string,
  updates: ConditionUpdate[],
  statusRef?: {add?: ObjectReference; remove?: string},
): Promise<void> {
  await updateStatus(client, pool, (p) => {
    p.status ??= {}
    const before = JSON.stringify(p.status)
    p.status.conditions = applyConditions(p.status.conditions, updates)
    if (statusRef?.add) {
      p.status.configuration ??= {}
      p.status.configuration.source = withRef(p.status.configuration.source, statusRef.add).list
    }

    if (statusRef?.remove) {
      p.status.configuration ??= {}
      p.status.configuration.source = withoutRef(p.status.configuration.source, statusRef.remove).list
    }

    return JSON.stringify(p.status) !== before
  })
}

export async function recordPending(client: KubeClient, pool: string, ref: ObjectReference): Promise<void> {
  await updateSpec(client, pool, (p) => {
    p.spec ??= {}
    p.spec.configuration ??= {}
    const r = withRef(p.spec.configuration.source, ref)
    p.spec.configuration.source = r.list
    return r.changed
  })
  await setConditions(client, pool, BUILD_PENDING, {add: ref})
}

export async function recordRunning(client: KubeClient, pool: string): Promise<void> {
  await setConditions(client, pool, BUILD_RUNNING)
}

export async function recordSuccess(client: KubeClient, pool: string, buildName: string, image: string): Promise<void> {
  await updateSpec(client, pool, (p) => {
    let changed = false
    p.metadata.annotations ??= {}
    if (p.metadata.annotations[NEWEST_IMAGE_ANNOTATION] !== image) {
      p.metadata.annotations[NEWEST_IMAGE_ANNOTATION] = image
      changed = true
    }

    if (p.spec?.configuration) {
      const r = withoutRef(p.spec.configuration.source, buildName)
      p.spec.configuration.source = r.list
      changed ||= r.changed
    }

    return changed
  })
  await setConditions(client, pool, BUILD_SUCCEEDED, {remove: buildName})
}

export async function recordFailure(client: KubeClient, pool: string): Promise<void> {
  await setConditions(client, pool, buildFailed(pool))
}

/** Forget a build: drop its reference and the Build* conditions (and the Degraded state a failed build caused). */
export async function clearBuildState(client: KubeClient, pool: string, buildName: string): Promise<void> {
  await updateSpec(client, pool, (p) => {
    if (!p.spec?.configuration) return false
    const r = withoutRef(p.spec.configuration.source, buildName)
    p.spec.configuration.source = r.list
    return r.changed
  })
  await updateStatus(client, pool, (p) => {
    const before = JSON.stringify(p.status ?? {})
    p.status ??= {}
    const failed = p.status.conditions?.some((c) => c.type === 'BuildFailed' && c.status === 'True')
    p.status.conditions = removeConditions(p.status.conditions, BUILD_CONDITIONS)
    if (failed) {
      p.status.conditions = applyConditions(p.status.conditions, [
        {status: 'False', type: 'Degraded'},
        {status: 'False', type: 'RenderDegraded'},
      ])
    }

    if (p.status.configuration) p.status.configuration.source = withoutRef(p.status.configuration.source, buildName).list
    return JSON.stringify(p.status) !== before
  })
}
