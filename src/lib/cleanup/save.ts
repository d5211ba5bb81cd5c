/**
 * Before a cleanup deletes a build, keep what a bug report needs: the rendered Dockerfile, the
 * decoded MachineConfig, the published digest, the build pod (or Build) as it was, and the logs of
 * every container (and of the previous run of a restarted one). Secrets are never written.
 *
 * Layout: DIR/<pool>/<rendered config>/{Dockerfile, machineconfig.json, digest, pod.yaml|build.yaml,
 * logs/<container>.log, logs/<container>.previous.log, logs/build.log}, and DIR/<pool>/<rendered
 * config>/README.txt saying what was saved, from which cluster, and what could not be.
 */
import {mkdir, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {stringify} from 'yaml'
import {decodeMachineConfig} from '../build/dockerfile.js'
import {ExitCode, MobError} from '../errors.js'
import type {KubeClient} from '../kube/client.js'
import {streamLog} from '../kube/logs.js'
import {R} from '../kube/resources.js'
import type {Build, ConfigMap, KubeObject, Pod} from '../kube/types.js'
import type {CleanupItem} from './plan.js'

export interface SavedFiles {
  dir: string
  /** Paths written, relative to dir. */
  files: string[]
  /** What could not be saved, and why (a log of a container that never started...). */
  missing: Array<{what: string; why: string}>
}

/** A copy without managedFields, and without any Secret data. */
export function tidy<T extends KubeObject>(o: T): T {
  const copy = structuredClone(o) as T & {metadata: {managedFields?: unknown}; data?: unknown; stringData?: unknown}
  delete copy.metadata.managedFields
  delete copy.data
  delete copy.stringData
  return copy
}

/**
 * Where saved evidence goes: `write` puts a file under the directory (a file that cannot be written
 * stops the cleanup before anything is deleted), `attempt` records what could not be read as missing.
 */
export function evidenceWriter(dir: string): {
  out: SavedFiles
  write: (rel: string, content: string) => Promise<void>
  attempt: <T>(what: string, fn: () => Promise<T>) => Promise<T | undefined>
} {
  const out: SavedFiles = {dir: path.resolve(dir), files: [], missing: []}
  const write = async (rel: string, content: string): Promise<void> => {
    const file = path.join(out.dir, rel)
    try {
      await mkdir(path.dirname(file), {recursive: true})
      await writeFile(file, content)
    } catch (error) {
      throw new MobError(`could not save ${file}: ${(error as Error).message}; nothing was deleted`, {
        code: 'SaveFailed',
        exitCode: ExitCode.Failed,
        next: 'choose another directory with --save DIR, or leave out --save',
      })
    }

    out.files.push(rel)
  }

  const attempt = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn()
    } catch (error) {
      if (error instanceof MobError && error.code === 'SaveFailed') throw error
      out.missing.push({what, why: (error as Error).message})
      return undefined
    }
  }

  return {attempt, out, write}
}

export async function readLog(
  client: KubeClient,
  opts: {name: string; namespace: string; container?: string; previous?: boolean; build?: boolean},
  signal?: AbortSignal,
): Promise<string> {
  let text = ''
  await streamLog(
    client,
    {
      container: opts.container,
      name: opts.name,
      namespace: opts.namespace,
      previous: opts.previous,
      resource: opts.build ? R.builds : R.pods,
      signal,
      timestamps: true,
    },
    (chunk) => {
      text += chunk
    },
  )
  return text
}

/** Save the evidence of the build objects in `items` under `dir`; throws (exit 8) if files cannot be written. */
export async function saveEvidence(
  client: KubeClient,
  dir: string,
  items: CleanupItem[],
  meta: {server: string; context: string},
  signal?: AbortSignal,
): Promise<SavedFiles> {
  const {out, write} = evidenceWriter(dir)
  const groups = new Map<string, CleanupItem[]>()
  for (const item of items) {
    if (!item.pool || !item.renderedConfig) continue
    const key = `${item.pool}/${item.renderedConfig}`
    groups.set(key, [...(groups.get(key) ?? []), item])
  }

  for (const [key, group] of groups) {
    const before = out.missing.length
    for (const item of group) {
      const where = `${key}`
      if (item.kind === 'ConfigMap') {
        const cm = await client.find<ConfigMap>(R.configMaps, item.name, item.namespace, signal)
        if (!cm) {
          out.missing.push({what: `configmap/${item.name}`, why: 'it no longer exists'})
          continue
        }

        if (item.role === 'dockerfile') await write(`${where}/Dockerfile`, cm.data?.Dockerfile ?? '')
        if (item.role === 'digest') await write(`${where}/digest`, (cm.data?.digest ?? '').trim() + '\n')
        if (item.role === 'machineconfig') {
          const encoded = cm.data?.['machineconfig.json.gz'] ?? ''
          try {
            await write(`${where}/machineconfig.json`, JSON.stringify(decodeMachineConfig(encoded), null, 2) + '\n')
          } catch (error) {
            if (error instanceof MobError) throw error
            out.missing.push({what: `configmap/${item.name}`, why: (error as Error).message})
            await write(`${where}/machineconfig.json.gz.b64`, encoded)
          }
        }

        continue
      }

      if (item.kind === 'Build') {
        const b = await client.find<Build>(R.builds, item.name, item.namespace, signal)
        if (!b) {
          out.missing.push({what: `build/${item.name}`, why: 'it no longer exists'})
          continue
        }

        await write(`${where}/build.yaml`, stringify(tidy(b), {lineWidth: 0}))
        try {
          await write(`${where}/logs/build.log`, await readLog(client, {build: true, name: item.name, namespace: item.namespace}, signal))
        } catch (error) {
          if (error instanceof MobError && error.code === 'SaveFailed') throw error
          out.missing.push({what: `log of build/${item.name}`, why: (error as Error).message})
        }

        continue
      }

      if (item.kind !== 'Pod') continue
      const pod = await client.find<Pod>(R.pods, item.name, item.namespace, signal)
      if (!pod) {
        out.missing.push({what: `pod/${item.name}`, why: 'it no longer exists'})
        continue
      }

      await write(`${where}/pod.yaml`, stringify(tidy(pod), {lineWidth: 0}))
      for (const c of pod.spec?.containers ?? []) {
        const st = pod.status?.containerStatuses?.find((s) => s.name === c.name)
        const runs: Array<{previous: boolean; file: string}> = [{file: `${c.name}.log`, previous: false}]
        if ((st?.restartCount ?? 0) > 0 || st?.lastState?.terminated) runs.push({file: `${c.name}.previous.log`, previous: true})
        for (const run of runs) {
          try {
            await write(
              `${where}/logs/${run.file}`,
              await readLog(client, {container: c.name, name: item.name, namespace: item.namespace, previous: run.previous}, signal),
            )
          } catch (error) {
            if (error instanceof MobError && error.code === 'SaveFailed') throw error
            out.missing.push({
              what: `${run.previous ? 'previous ' : ''}log of container ${c.name} of pod/${item.name}`,
              why: (error as Error).message,
            })
          }
        }
      }
    }

    const lines = [
      `Saved by oc mob cleanup at ${new Date().toISOString()} from ${meta.server} (context ${meta.context}),`,
      `before deleting the build objects of pool ${group[0].pool} for rendered config ${group[0].renderedConfig}:`,
      ...group.map((i) => `  ${i.kind.toLowerCase()}/${i.name} -n ${i.namespace}: ${i.why}`),
      '',
      'Secrets are never saved.',
    ]
    const missing = out.missing.slice(before)
    if (missing.length > 0) lines.push('', 'Not saved:', ...missing.map((m) => `  ${m.what}: ${m.why}`))
    await write(`${key}/README.txt`, lines.join('\n') + '\n')
  }

  return out
}
