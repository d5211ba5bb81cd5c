/**
 * 4.14/4.15: before a cleanup deletes a build, keep what a bug report needs: the rendered Dockerfile, the
 * decoded MachineConfig, the published digest, the build pod (or Build) as it was, and the logs of
 * every container (and of the previous run of a restarted one). Secrets are never written.
 *
 * Layout: DIR/<pool>/<rendered config>/{Dockerfile, machineconfig.json, digest, pod.yaml|build.yaml,
 * logs/<container>.log, logs/<container>.previous.log, logs/build.log}, and DIR/<pool>/<rendered
 * config>/README.txt saying what was saved, from which cluster, and what could not be.
 */
import {stringify} from 'yaml'
import {decodeMachineConfig} from '../../build/dockerfile.js'
import {type EvidenceSaver, evidenceWriter, readLog, tidy} from '../../cleanup/save.js'
import type {CleanupItem} from '../../cleanup/types.js'
import {MobError} from '../../errors.js'
import {R} from '../../kube/resources.js'
import type {Build, ConfigMap, Pod} from '../../kube/types.js'

/** Saves the evidence of the build pods or Builds, and their ConfigMaps, in `items`. */
export const saveEvidence: EvidenceSaver = async (client, dir, items, meta, signal) => {
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
