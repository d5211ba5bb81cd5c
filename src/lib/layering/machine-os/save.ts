/**
 * 4.18+: before a cleanup deletes a MachineOSBuild and its Job, keep what a bug report needs, because
 * the next build would delete it anyway (reference §12.2, §12.7): the MachineOSBuild, its
 * MachineOSConfig and Job as YAML, their conditions and the pool's, the log of every attempt pod of
 * the Job (up to backoffLimit + 1 = 4, every container, init containers too), the events of the build,
 * the Job and its pods, and the build's Containerfile and MachineConfig. Secrets are never written:
 * the builder's secret copies are listed by name and keys only, and credentials inside URLs (proxy
 * settings in the pod's environment) are replaced by `redacted`.
 *
 * Layout: DIR/<pool>/machineosconfig.yaml, DIR/<pool>/<mosb>/{machineosbuild.yaml, job.yaml,
 * conditions.txt, events.txt, Containerfile, machineconfig.json, pods/<pod>.yaml,
 * logs/<pod>/<container>.log, README.txt}.
 */
import {stringify} from 'yaml'
import {decodeMachineConfig} from '../../build/dockerfile.js'
import type {KubeClient} from '../../kube/client.js'
import {R} from '../../kube/resources.js'
import type {Condition, ConfigMap, KubeObject, MachineConfigPool, Pod, Secret} from '../../kube/types.js'
import {MCO_NAMESPACE} from '../../mco/constants.js'
import type {MachineOSBuild, MachineOSConfig} from '../../mco/machine-os.js'
import type {Job} from './cleanup.js'
import type {CleanupItem} from '../../cleanup/types.js'
import {type EvidenceSaver, evidenceWriter, readLog, tidy} from '../../cleanup/save.js'
import {compareText} from '../../order.js'

const NS = MCO_NAMESPACE

interface EventLike extends KubeObject {
  type?: string
  reason?: string
  message?: string
  count?: number
  lastTimestamp?: string
  eventTime?: string
  firstTimestamp?: string
  involvedObject?: {kind?: string; name?: string}
  regarding?: {kind?: string; name?: string}
  note?: string
}

/** user:password@ in URLs (a proxy setting, say) becomes redacted@. */
export function redactUrlCredentials(text: string): string {
  return text.replaceAll(/([a-z][\w+.-]*:\/\/)[^\s/@'"]+@/gi, '$1redacted@')
}

const yamlOf = (o: KubeObject): string => redactUrlCredentials(stringify(tidy(o), {lineWidth: 0}))

function conditionLines(title: string, conditions: Condition[] | undefined): string[] {
  const list = conditions ?? []
  if (list.length === 0) return [`${title}: (no conditions)`]
  return [
    `${title}:`,
    ...list.map(
      (c) =>
        `  ${c.type}=${c.status}${c.reason ? ` ${c.reason}` : ''}${c.lastTransitionTime ? ` since ${c.lastTransitionTime}` : ''}${c.message ? `: ${c.message}` : ''}`,
    ),
  ]
}

function eventLine(e: EventLike): string {
  const what = e.involvedObject ?? e.regarding ?? {}
  const when = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata.creationTimestamp ?? ''
  return `${when}  ${e.type ?? ''}  ${e.reason ?? ''}  ${(what.kind ?? '').toLowerCase()}/${what.name ?? ''}  ${e.message ?? e.note ?? ''}${(e.count ?? 1) > 1 ? ` (x${e.count})` : ''}`
}

/** The events about the build, its Job and the Job's pods, oldest first (5.0+ builders record them on the MachineOSBuild). */
export async function buildEvents(
  client: KubeClient,
  mosb: string,
  objects: Array<{kind: string; name: string}>,
  signal?: AbortSignal,
): Promise<EventLike[]> {
  const lists = await Promise.all([
    client.list<EventLike>(R.events, {fieldSelector: `involvedObject.kind=MachineOSBuild,involvedObject.name=${mosb}`, signal}),
    ...objects.map((o) =>
      client.list<EventLike>(R.events, {
        fieldSelector: `involvedObject.kind=${o.kind},involvedObject.name=${o.name}`,
        namespace: NS,
        signal,
      }),
    ),
  ])
  const seen = new Set<string>()
  const all: EventLike[] = []
  for (const e of lists.flatMap((l) => l.items)) {
    const key = `${e.metadata.namespace}/${e.metadata.name}`
    if (seen.has(key)) continue
    seen.add(key)
    all.push(e)
  }

  const at = (e: EventLike): string => e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata.creationTimestamp ?? ''
  return all.sort((a, b) => compareText(at(a), at(b)))
}

/** Saves the evidence of the MachineOSBuilds, their Jobs and the attempts' pods in `items`. */
export const saveMachineOSEvidence: EvidenceSaver = async (client, dir, items, meta, signal) => {
  const {attempt, out, write} = evidenceWriter(dir)
  const groups = new Map<string, {pool: string; mosb: string; items: CleanupItem[]}>()
  for (const item of items) {
    if (!item.pool || !item.machineOSBuild) continue
    const key = `${item.pool}/${item.machineOSBuild}`
    const g = groups.get(key) ?? {items: [], mosb: item.machineOSBuild, pool: item.pool}
    g.items.push(item)
    groups.set(key, g)
  }

  const poolsDone = new Set<string>()
  for (const [key, g] of groups) {
    const before = out.missing.length
    const [mosb, pool, job, pods] = await Promise.all([
      client.find<MachineOSBuild>(R.machineOSBuilds, g.mosb, undefined, signal),
      client.find<MachineConfigPool>(R.machineConfigPools, g.pool, undefined, signal),
      client.find<Job>(R.jobs, `build-${g.mosb}`, NS, signal),
      client.list<Pod>(R.pods, {labelSelector: `job-name=build-${g.mosb}`, namespace: NS, signal}),
    ])
    const moscName = mosb?.spec?.machineOSConfig?.name ?? g.pool
    if (!poolsDone.has(g.pool)) {
      poolsDone.add(g.pool)
      const mosc = await client.find<MachineOSConfig>(R.machineOSConfigs, moscName, undefined, signal)
      if (mosc) await write(`${g.pool}/machineosconfig.yaml`, yamlOf(mosc))
      else out.missing.push({what: `machineosconfig/${moscName}`, why: 'it no longer exists'})
    }

    if (mosb) await write(`${key}/machineosbuild.yaml`, yamlOf(mosb))
    else out.missing.push({what: `machineosbuild/${g.mosb}`, why: 'it no longer exists'})
    if (job) await write(`${key}/job.yaml`, yamlOf(job))
    const attempts = pods.items
      .filter((p) => p.metadata.name!.startsWith(`build-${g.mosb}-`))
      .sort(
        (a, b) =>
          compareText(a.metadata.creationTimestamp ?? '', b.metadata.creationTimestamp ?? '') ||
          compareText(a.metadata.name!, b.metadata.name!),
      )
    const conditions = [
      ...conditionLines(`MachineOSBuild ${g.mosb}`, mosb?.status?.conditions),
      ...(mosb?.status?.buildStart
        ? [`  buildStart ${mosb.status.buildStart}${mosb.status.buildEnd ? `, buildEnd ${mosb.status.buildEnd}` : ''}`]
        : []),
      ...(job
        ? [
            ...conditionLines(
              `Job build-${g.mosb} (backoffLimit ${job.spec?.backoffLimit ?? '?'}; active ${job.status?.active ?? 0}, failed ${job.status?.failed ?? 0}, succeeded ${job.status?.succeeded ?? 0})`,
              job.status?.conditions as Condition[] | undefined,
            ),
          ]
        : [`Job build-${g.mosb}: gone`]),
      ...(pool ? conditionLines(`MachineConfigPool ${g.pool}`, pool.status?.conditions) : []),
      `Attempt pods (${attempts.length}): ${attempts.map((p) => `${p.metadata.name} ${p.status?.phase ?? 'Pending'}`).join(', ') || 'none left'}`,
    ]
    await write(`${key}/conditions.txt`, redactUrlCredentials(conditions.join('\n')) + '\n')

    for (const pod of attempts) {
      await write(`${key}/pods/${pod.metadata.name}.yaml`, yamlOf(pod))
      for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
        const st = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].find((s) => s.name === c.name)
        if (!st?.state?.running && !st?.state?.terminated && !st?.lastState?.terminated) {
          out.missing.push({what: `log of container ${c.name} of pod/${pod.metadata.name}`, why: 'it never started'})
          continue
        }

        const text = await attempt(`log of container ${c.name} of pod/${pod.metadata.name}`, () =>
          readLog(client, {container: c.name, name: pod.metadata.name!, namespace: NS}, signal),
        )
        if (text !== undefined) await write(`${key}/logs/${pod.metadata.name}/${c.name}.log`, text)
      }
    }

    const events = await attempt(`events of machineosbuild/${g.mosb}`, () =>
      buildEvents(
        client,
        g.mosb,
        [{kind: 'Job', name: `build-${g.mosb}`}, ...attempts.map((p) => ({kind: 'Pod', name: p.metadata.name!}))],
        signal,
      ),
    )
    if (events)
      await write(
        `${key}/events.txt`,
        redactUrlCredentials(events.map((e) => eventLine(e)).join('\n')) + (events.length > 0 ? '\n' : '(no events)\n'),
      )

    const configMaps = g.items.filter((i) => i.kind === 'ConfigMap')
    for (const item of configMaps) {
      const cm = await client.find<ConfigMap>(R.configMaps, item.name, item.namespace, signal)
      if (!cm) continue
      if (item.name.startsWith('containerfile-')) await write(`${key}/Containerfile`, cm.data?.Containerfile ?? '')
      if (item.name.startsWith('digest-')) await write(`${key}/digest`, (cm.data?.digest ?? '').trim() + '\n')
      if (item.name.startsWith('mc-')) {
        const encoded = cm.data?.['machineconfig.json.gz'] ?? ''
        const decoded = await attempt(`configmap/${item.name}`, async () => JSON.stringify(decodeMachineConfig(encoded), null, 2) + '\n')
        if (decoded) await write(`${key}/machineconfig.json`, decoded)
      }
    }

    const secrets = g.items.filter((i) => i.kind === 'Secret')
    const secretLines: string[] = []
    for (const item of secrets) {
      const s = await client.find<Secret>(R.secrets, item.name, item.namespace, signal)
      if (s)
        secretLines.push(
          `  secret/${item.name} (${s.type ?? 'Opaque'}, keys ${Object.keys(s.data ?? {}).join(', ') || 'none'}): values not saved`,
        )
    }

    const lines = [
      `Saved by oc mob cleanup at ${new Date().toISOString()} from ${meta.server} (context ${meta.context}),`,
      `before deleting what is left of MachineOSBuild ${g.mosb} of pool ${g.pool}:`,
      ...g.items.map((i) => `  ${i.kind.toLowerCase()}/${i.name}${i.namespace ? ` -n ${i.namespace}` : ''}: ${i.why}`),
      '',
      'Secrets are never saved, only named:',
      ...(secretLines.length > 0 ? secretLines : ['  (none)']),
    ]
    const missing = out.missing.slice(before)
    if (missing.length > 0) lines.push('', 'Not saved:', ...missing.map((m) => `  ${m.what}: ${m.why}`))
    await write(`${key}/README.txt`, lines.join('\n') + '\n')
  }

  return out
}
