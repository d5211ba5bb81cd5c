import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {renderPoolDockerfile, type DockerfileProblemReport, type DockerfileResult} from '../lib/build/render.js'
import {ExitCode, MobError} from '../lib/errors.js'
import {CUSTOM_DOCKERFILE_CONFIG, MCO_NAMESPACE} from '../lib/mco/constants.js'

export default class Dockerfile extends BaseCommand<typeof Dockerfile> {
  static args = {pool: Args.string({description: 'The MachineConfigPool.', required: true})}

  static description = `Show the Dockerfile the cluster builds for a pool's current rendered config, at any time, check the pool's custom Dockerfile, and export the whole build context so buildah can reproduce the build.

The Dockerfile is rendered from the operator's template with the base OS image of machine-config-osimageurl, the pool's rendered MachineConfig name and the pool's entry in the on-cluster-build-custom-dockerfile ConfigMap (none when the ConfigMap or the key is missing). No secrets are needed. While a build of the rendered config is under way (its dockerfile-<rendered> ConfigMap exists), the build's own copy is shown instead, and a note on stderr says so; --fresh renders afresh anyway and --diff shows how the build's copy differs from a fresh render.

The custom Dockerfile is checked with a Dockerfile parser and against the operator's rule that its last stage is \`FROM configs AS final\`. Problems go to stderr after the Dockerfile, each with its line in the custom Dockerfile; errors make the command exit with code 7. --file checks and renders a local custom Dockerfile instead of the cluster's, to refine one before storing it.

--export DIR writes Dockerfile and machineconfig/machineconfig.json.gz (the rendered MachineConfig encoded exactly as the operator stores it) into DIR, so that \`buildah build DIR\` runs the cluster's build on this machine.

Exit codes: 0, or 7 when the custom Dockerfile has errors. --diff exits 0 whether or not the copies differ (-o json tells: .diff.identical), and 6 when no build is under way to compare with.`

  static examples = [
    {command: 'oc mob dockerfile layering', description: 'The Dockerfile of the next (or current) build.'},
    {command: 'oc mob dockerfile layering --file ./custom.Dockerfile --check', description: 'Check a custom Dockerfile before storing it.'},
    {command: 'oc mob dockerfile layering --diff', description: 'How the running build\'s Dockerfile differs from a fresh render.'},
    {command: 'oc mob dockerfile layering --export ./ctx && buildah build --authfile pull.json ./ctx', description: 'Reproduce the build locally.'},
  ]

  static flags = {
    check: Flags.boolean({
      aliases: ['validate-only'],
      description: 'Only check the custom Dockerfile: print a summary instead of the Dockerfile.',
      exclusive: ['diff', 'export'],
    }),
    diff: Flags.boolean({
      description: 'Show a unified diff of the running build\'s Dockerfile (dockerfile-<rendered>) against a fresh render.',
      exclusive: ['export'],
    }),
    export: Flags.string({
      description: 'Write the build context (Dockerfile, machineconfig/machineconfig.json.gz) into this directory.',
      helpValue: 'DIR',
    }),
    file: Flags.string({
      char: 'f',
      description: 'Use this local custom Dockerfile instead of the pool\'s entry in on-cluster-build-custom-dockerfile.',
      helpValue: 'FILE',
    }),
    force: Flags.boolean({description: 'With --export: write into a directory that is not empty.', dependsOn: ['export']}),
    fresh: Flags.boolean({description: 'Render afresh even while a build is under way (default: show the build\'s own copy).'}),
  }

  static summary = 'Show the Dockerfile the cluster builds for a pool, and check its custom Dockerfile.'

  async run(): Promise<DockerfileResult> {
    const {flags} = this
    const client = await this.client()
    const result = await renderPoolDockerfile(client, this.args.pool, {
      diff: flags.diff,
      exportDir: flags.export,
      file: flags.file,
      force: flags.force,
      fresh: flags.fresh,
      signal: this.abort.signal,
    })
    this.notes(result)
    this.emit(result, () => this.render(result))
    this.problems(result)
    return result
  }

  private notes(r: DockerfileResult): void {
    const dim = this.term.err.dim
    if (!r.layered) this.note(dim(`note: pool ${r.pool} is not opted into on-cluster builds; this is what a build of it would use`))
    if (r.liveConfigMap && r.source === 'live') {
      const what = r.buildState === 'failed' ? `the failed build of ${r.renderedConfig}` : `a build of ${r.renderedConfig} is under way`
      this.note(dim(`note: ${what}: showing its own copy from ConfigMap ${r.liveConfigMap}`
        + (r.liveMatchesRender ? ' (identical to a fresh render)' : '; it differs from a fresh render (--diff shows how, --fresh shows the fresh render)')))
    }

    if (r.diff?.identical) this.note(dim(`note: ${r.diff.from} is identical to a fresh render`))
    if (r.exported && !r.exported.fitsConfigMap) {
      this.note(this.term.err.yellow(`warning: the encoded MachineConfig is ${r.exported.configMapBytes} bytes; a ConfigMap holds at most 1048576, so the cluster cannot start this build`))
    }
  }

  private render(r: DockerfileResult): string {
    if (this.flags.check) {
      const errors = r.problems.filter((p) => p.severity === 'error').length
      const warnings = r.problems.length - errors
      if (r.customDockerfile.origin === 'none') return `Pool ${r.pool} has no custom Dockerfile (${CUSTOM_DOCKERFILE_CONFIG} has no entry for it): nothing to check.`
      const counts = `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`
      return `Custom Dockerfile ${r.customDockerfile.location} for pool ${r.pool}: ${errors + warnings === 0 ? 'no problems' : counts}.`
    }

    if (r.diff) return r.diff.text.replace(/\n$/, '')
    if (r.exported) {
      const e = r.exported
      const lines = [`Wrote the build context of pool ${r.pool} (${r.renderedConfig}, ${r.source === 'live' ? 'the running build\'s copy' : 'rendered now'}) to ${e.dir}:`]
      const width = Math.max(...e.files.map((f) => f.path.length))
      for (const f of e.files) lines.push(`  ${f.path.padEnd(width)}   ${size(f.bytes)}`)
      lines.push('', `Build it as the cluster does: buildah build --authfile <base image pull secret as a docker config> --tag ${r.tag ?? '<image>'} ${e.dir}`)
      return lines.join('\n')
    }

    // The Dockerfile as is (it ends with a newline; log() adds one), so `> Dockerfile` is byte-exact.
    return r.dockerfile.endsWith('\n') ? r.dockerfile.slice(0, -1) : r.dockerfile
  }

  /** Problems on stderr after the output; errors end the command with exit code 7. */
  private problems(r: DockerfileResult): void {
    if (r.problems.length === 0) return
    const where = r.customDockerfile.origin === 'file' ? r.customDockerfile.location! : `${CUSTOM_DOCKERFILE_CONFIG}, key ${r.pool}`
    const show = (p: DockerfileProblemReport): string => {
      const line = r.source === 'rendered' && !this.flags.check ? `line ${p.line} (Dockerfile line ${p.dockerfileLine})` : `line ${p.line}`
      return `${line}: ${p.severity}: ${p.message}`
    }

    const errors = r.problems.filter((p) => p.severity === 'error')
    if (errors.length === 0) {
      const yellow = this.term.err.yellow
      this.note(yellow(`warning: the custom Dockerfile (${where}) has ${r.problems.length} warning${r.problems.length === 1 ? '' : 's'}:`))
      for (const p of r.problems) this.note(`  ${show(p)}`)
      return
    }

    throw new MobError(`the custom Dockerfile (${where}) has ${errors.length} error${errors.length === 1 ? '' : 's'}; a build would fail on it`, {
      code: 'CustomDockerfileInvalid',
      details: r.problems.map((p) => show(p)),
      exitCode: ExitCode.Invalid,
      next: r.customDockerfile.origin === 'file'
        ? `fix ${where} and check it again: \`oc mob dockerfile ${r.pool} --file ${where} --check\``
        : `fix it in a local file, check it with \`oc mob dockerfile ${r.pool} --file FILE --check\`, then store it (\`oc edit configmap ${CUSTOM_DOCKERFILE_CONFIG} -n ${MCO_NAMESPACE}\`)`,
    })
  }
}

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`
}
