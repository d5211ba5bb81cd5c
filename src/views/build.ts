/** What `oc mob build` says: the dry-run, the result of a build in the cluster, and of a local one. */
import type {BuildEvent, BuildResult} from '../lib/layering/build-shapes.js'
import type {Progress} from '../lib/ui/progress.js'
import type {LocalBuildResult} from '../lib/build/local.js'
import type {OutputFormat} from '../lib/ui/term.js'
import {manifests} from './layering.js'

/** --dry-run: the objects as data (-o json|yaml), otherwise what would be created or followed. */
export function dryRunText(result: BuildResult, output: OutputFormat): string {
  const docs = result.objects ?? []
  if (output !== 'table') return manifests(docs, output)
  if (result.machineOSConfig) {
    return result.joined
      ? `MachineOSBuild ${result.buildName} is under way; oc mob build would follow it`
      : result.buildName
        ? `would ask the machine-os-builder to rebuild MachineOSBuild ${result.buildName} (annotation machineconfiguration.openshift.io/rebuild on MachineOSConfig ${result.machineOSConfig}) and follow it`
        : `the machine-os-builder has not created the MachineOSBuild of ${result.renderedConfig} yet; oc mob build would wait for it and follow it`
  }

  return result.joined
    ? `build ${result.buildName} already exists; oc mob build would join it`
    : `would create (dry run):\n${docs.map((d) => `  ${d.kind?.toLowerCase()}/${d.metadata.name} -n ${d.metadata.namespace}`).join('\n')}`
}

export const upToDateText = (result: BuildResult): string =>
  `pool ${result.pool} already has an image for ${result.renderedConfig}: ${result.image}\n(use --rebuild to build again)`

export const builtText = (result: BuildResult): string =>
  [
    `pool:     ${result.pool}`,
    `rendered: ${result.renderedConfig}`,
    `image:    ${result.image}`,
    `${result.joined ? 'joined an existing build' : 'built'} in ${Math.round(result.durationMs / 1000)}s; nodes of the pool now roll to the image (\`oc mob status ${result.pool}\`)`,
  ].join('\n')

/** A failed attempt the Job retries (4.18+), with the end of its log. */
export const retryText = (message: string, lines: string[]): string =>
  [message, ...(lines.length > 0 ? ["last lines of the failed attempt's log:", ...lines.map((l) => `  ${l}`)] : [])].join('\n')

export const localDoneLine = (result: LocalBuildResult): string =>
  result.pushed ? `built and pushed ${result.image}` : `built ${result.tag}`

export const localBuiltText = (result: LocalBuildResult): string =>
  [
    `pool:     ${result.pool}`,
    `rendered: ${result.renderedConfig}`,
    `engine:   ${result.engine} (${result.enginePath})`,
    `tag:      ${result.tag}`,
    ...(result.pushed ? [`image:    ${result.image}`] : ['not pushed (use --push to push with the final image push secret)']),
    ...(result.contextKept ? [`context:  ${result.contextDir}`] : []),
    'nothing was changed in the cluster',
  ].join('\n')

/** A build's progress on the spinner: joining and creating stay on screen, the other phases only move it. */
export function showBuildEvent(progress: Progress | undefined, e: BuildEvent): void {
  if (e.phase === 'failed' || e.phase === 'succeeded') return
  if (e.phase === 'joined' || e.phase === 'creating') progress?.log(e.message)
  else progress?.update(e.message)
}
