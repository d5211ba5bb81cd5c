import {Args, Flags} from '@oclif/core'
import {stringify} from 'yaml'
import {BaseCommand} from '../base-command.js'
import type {BuildResult} from '../lib/layering/build-shapes.js'
import {ENGINES, type LocalBuildResult} from '../lib/build/local.js'
import {buildLocally, runBuild} from '../lib/layering/generation.js'
import {parseDuration} from '../lib/duration.js'
import {startProgress} from '../lib/ui/progress.js'

// Kept here for the commands that import it from this module.
export {parseDuration} from '../lib/duration.js'

export default class Build extends BaseCommand<typeof Build> {
  static args = {
    pool: Args.string({description: 'The MachineConfigPool to build an image for.', required: true}),
  }

  static description = `Build the OS image for a pool's current rendered config, and follow the build to its end.

Does once, from this workstation, what the cluster's BuildController does: checks the inputs (build
config, both secrets and their registry credentials, pullspec, custom Dockerfile, the 1 MiB limit),
creates mc-<rendered>, dockerfile-<rendered> and the build-<rendered> pod with the operator's exact
names and labels, records BuildPending/Building/BuildSuccess/BuildFailed on the pool, and on success
writes the digested image to the pool's newestImageEquivalentConfig annotation and removes the
ephemeral objects, so the nodes roll to the image as usual. On failure the objects stay for
inspection and the last log lines are shown.

If a build for the rendered config already exists (started by the cluster's machine-os-builder or by
another oc-mob), it is joined, not duplicated. A failed build whose pod stays Running (the 4.14
wait-for-done defect) is reported as failed at once.

On OpenShift 4.18+, a pool with a MachineOSConfig is built by the machine-os-builder from that object:
the command joins the MachineOSBuild of the pool's rendered config (or waits for the builder to create
it) and follows it; with --rebuild, or to retry a failed one, it sets the
machineconfiguration.openshift.io/rebuild annotation on the MachineOSConfig, which makes the builder
build it again. --local builds the build context the builder's Job gets (\`oc mob dockerfile POOL
--export DIR\` shows it) on this machine, pulling with the MachineOSConfig's baseImagePullSecret (else
the global pull secret) and, with --push, pushing with its renderedImagePushSecret.

A build that cannot make progress ends the wait with exit code 8, its cause and what to do, and is
left as it is: a build pod no node can take (the scheduler's message is shown), an image that cannot be
pulled (the image and the pull secrets are named), an evicted or OOMKilled build, or an image-build
that finished without its digest ConfigMap appearing within --stall-timeout. On 4.18+ a failed attempt
that the Job retries is reported ("attempt 2 of 4") with the end of its log, and the wait goes on.
With --follow, a log that cannot be read is a warning (the build is still followed to its end).

Ctrl-C or --timeout stop waiting and leave the build running in the cluster; run the same command
again to re-attach.`

  static examples = [
    {command: 'oc mob build layering', description: 'Build and wait, with a spinner.'},
    {command: 'oc mob build layering --follow', description: 'Stream the build log while waiting.'},
    {command: 'oc mob build layering --rebuild', description: 'Build again, e.g. after changing the custom Dockerfile.'},
    {command: 'oc mob build layering --dry-run -o yaml', description: 'Show every object that would be created.'},
    {command: 'oc mob build layering --local', description: 'Build the same context with buildah on this machine (no cluster changes).'},
    {command: 'oc mob build layering --local --push --engine podman', description: 'Build locally and push with the push secret; prints the digest.'},
  ]

  static flags = {
    'context-dir': Flags.string({dependsOn: ['local'], description: 'With --local: write the build context here and keep it.'}),
    'dry-run': Flags.boolean({description: 'Print the objects that would be created (secret values never shown); create nothing.', exclusive: ['local']}),
    engine: Flags.option({dependsOn: ['local'], description: 'With --local: the engine to build with (default: buildah if on PATH, else podman).', options: ENGINES})(),
    isolation: Flags.string({dependsOn: ['local'], description: 'With --local: the engine\'s --isolation (oci, chroot, rootless); default $BUILDAH_ISOLATION.'}),
    local: Flags.boolean({description: 'Build the pool\'s build context on this machine with buildah or podman instead of in the cluster. Changes nothing in the cluster.'}),
    push: Flags.boolean({dependsOn: ['local'], description: 'With --local: push the image with the final image push secret (4.18+: renderedImagePushSecret) and report its digest.'}),
    tag: Flags.string({dependsOn: ['local'], description: 'With --local: the image name to build (default: the tag the cluster\'s build pushes).'}),
    'tls-verify': Flags.boolean({allowNo: true, description: 'With --local: verify registries\' TLS (--no-tls-verify for plain-HTTP or self-signed registries).'}),
    follow: Flags.boolean({char: 'f', description: 'Stream the build log while waiting.'}),
    rebuild: Flags.boolean({description: 'Build even if the pool already has an image for its rendered config, or after a failed build.'}),
    'stall-timeout': Flags.string({default: '60s', description: 'How long image-build may be finished without its digest ConfigMap appearing before the build counts as stuck.'}),
    timeout: Flags.string({description: 'Stop waiting after this long (e.g. 30m); the build goes on in the cluster.'}),
  }

  static summary = 'Build the OS image of a pool now, and follow it.'

  async run(): Promise<BuildResult | LocalBuildResult> {
    const {flags} = this
    if (flags.local) return this.runLocal()
    const timeoutMs = flags.timeout ? parseDuration(flags.timeout) : undefined
    const stallGraceMs = parseDuration(flags['stall-timeout'])
    const client = await this.client()
    const quiet = this.output !== 'table' || flags['dry-run']
    const progress = quiet ? undefined : await startProgress(this.term, `building pool ${this.args.pool}`)
    const warn = (text: string): void => (progress ? progress.log(`warning: ${text}`) : this.note(`warning: ${text}`))
    let result: BuildResult
    try {
      result = await runBuild(client, this.args.pool, {
        dryRun: flags['dry-run'],
        follow: flags.follow,
        onEvent: (e) => {
          if (e.phase === 'failed' || e.phase === 'succeeded') return
          // Joining and creating are worth keeping on screen; the other phases only move the spinner.
          if (e.phase === 'joined' || e.phase === 'creating') progress?.log(e.message)
          else progress?.update(e.message)
        },
        onLog: flags.follow ? (text) => {
          if (progress) progress.log(text.replace(/\n$/, ''))
          else process.stderr.write(text)
        } : undefined,
        onLogError: warn,
        onRetry: (message, lines) => warn([message, ...lines.length > 0 ? ['last lines of the failed attempt\'s log:', ...lines.map((l) => `  ${l}`)] : []].join('\n')),
        rebuild: flags.rebuild,
        signal: this.abort.signal,
        stallGraceMs,
        timeoutMs,
      })
    } catch (error) {
      // The error itself is printed next, with its details and next step.
      progress?.stop()
      throw error
    }

    if (result.outcome === 'dry-run') {
      const docs = result.objects ?? []
      if (this.output === 'json') this.log(JSON.stringify({apiVersion: 'v1', items: docs, kind: 'List'}, null, 2))
      else if (this.output === 'yaml') this.log(docs.map((d) => stringify(d, {lineWidth: 0})).join('---\n').trimEnd())
      else if (result.machineOSConfig) {
        this.log(result.joined
          ? `MachineOSBuild ${result.buildName} is under way; oc mob build would follow it`
          : result.buildName
            ? `would ask the machine-os-builder to rebuild MachineOSBuild ${result.buildName} (annotation machineconfiguration.openshift.io/rebuild on MachineOSConfig ${result.machineOSConfig}) and follow it`
            : `the machine-os-builder has not created the MachineOSBuild of ${result.renderedConfig} yet; oc mob build would wait for it and follow it`)
      } else {
        this.log(result.joined
          ? `build ${result.buildName} already exists; oc mob build would join it`
          : `would create (dry run):\n${docs.map((d) => `  ${d.kind?.toLowerCase()}/${d.metadata.name} -n ${d.metadata.namespace}`).join('\n')}`)
      }

      return result
    }

    if (result.outcome === 'up-to-date') {
      progress?.stop()
      this.emit(result, () => `pool ${result.pool} already has an image for ${result.renderedConfig}: ${result.image}\n(use --rebuild to build again)`)
      return result
    }

    progress?.succeed(`built ${result.image}`)
    this.emit(result, () => [
      `pool:     ${result.pool}`,
      `rendered: ${result.renderedConfig}`,
      `image:    ${result.image}`,
      `${result.joined ? 'joined an existing build' : 'built'} in ${Math.round(result.durationMs / 1000)}s; nodes of the pool now roll to the image (\`oc mob status ${result.pool}\`)`,
    ].join('\n'))
    return result
  }

  private async runLocal(): Promise<LocalBuildResult> {
    const {flags} = this
    const client = await this.client()
    const progress = this.output === 'table' ? await startProgress(this.term, `building pool ${this.args.pool} on this machine`) : undefined
    let result: LocalBuildResult
    try {
      result = await buildLocally(client, this.args.pool, {
        contextDir: flags['context-dir'],
        engine: flags.engine,
        isolation: flags.isolation,
        onLine: (line) => {
          if (progress) progress.log(line)
          else process.stderr.write(line + '\n')
        },
        onPhase: (_phase, text) => progress?.update(text),
        push: flags.push,
        signal: this.abort.signal,
        tag: flags.tag,
        tlsVerify: flags['tls-verify'],
      })
    } catch (error) {
      progress?.stop()
      throw error
    }

    progress?.succeed(result.pushed ? `built and pushed ${result.image}` : `built ${result.tag}`)
    this.emit(result, () => [
      `pool:     ${result.pool}`,
      `rendered: ${result.renderedConfig}`,
      `engine:   ${result.engine} (${result.enginePath})`,
      `tag:      ${result.tag}`,
      ...(result.pushed ? [`image:    ${result.image}`] : ['not pushed (use --push to push with the final image push secret)']),
      ...(result.contextKept ? [`context:  ${result.contextDir}`] : []),
      'nothing was changed in the cluster',
    ].join('\n'))
    return result
  }
}
