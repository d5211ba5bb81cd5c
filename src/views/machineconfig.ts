/** What `oc mob machineconfig` notes on stderr (its output is the MachineConfig itself). */
import type {ChalkInstance} from 'chalk'
import type {MachineConfigResult} from '../lib/build/render.js'

/** Where the MachineConfig came from, when it was decoded from a build's ConfigMap. */
export function sourceNote(result: MachineConfigResult, c: ChalkInstance): string | undefined {
  if (result.source !== 'live') return undefined
  const what =
    result.buildState === 'failed' ? `the failed build of ${result.renderedConfig}` : `a build of ${result.renderedConfig} is under way`
  return c.dim(`note: ${what}: decoded from ConfigMap ${result.configMap}`)
}
