import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import type {DockerfileResult} from '../lib/build/render.js'
import {poolDockerfile} from '../lib/layering/generation.js'
import {dockerfileNotes, dockerfileProblems, dockerfileText} from '../lib/ui/dockerfile.js'

export default class Dockerfile extends BaseCommand<typeof Dockerfile> {
  static args = {pool: Args.string({description: 'The MachineConfigPool.', required: true})}

  static description = `Show the Dockerfile the cluster builds for a pool's current rendered config, at any time, check the pool's custom Dockerfile, and export the whole build context so buildah can reproduce the build.

OpenShift 4.14/4.15: the Dockerfile is rendered from the operator's template with the base OS image of machine-config-osimageurl, the pool's rendered MachineConfig name and the pool's entry in the on-cluster-build-custom-dockerfile ConfigMap (none when the ConfigMap or the key is missing). While a build of the rendered config is under way (its dockerfile-<rendered> ConfigMap exists), the build's own copy is shown instead, and a note on stderr says so; --fresh renders afresh anyway and --diff shows how the build's copy differs from a fresh render.

OpenShift 4.18+: the Containerfile the machine-os-builder renders for the pool's MachineOSConfig: the builder's template of the cluster's release (machine-config-osimageurl's releaseVersion) with its base OS and extensions images, the rendered config's extensions and, from 4.20, its kernelType package swap, and the MachineOSConfig's NoArch containerFile. While the MachineOSBuild of the rendered config has its containerfile-<mosb> ConfigMap, that copy is shown (--fresh, --diff as above). A pool without a MachineOSConfig has no Containerfile (exit 6).

No secrets are needed. The custom part is checked with a Dockerfile parser (4.14/4.15 also against the operator's rule that its last stage is \`FROM configs AS final\`; 4.18+ warns when the last stage is not built on configs). Problems go to stderr after the output, each with its line in the custom part; errors make the command exit with code 7. --file checks and renders a local custom Dockerfile instead of the cluster's, to refine one before storing it.

--export DIR writes the build context as the build receives it: Dockerfile and machineconfig/machineconfig.json.gz (the rendered MachineConfig encoded exactly as the operator stores it); on 4.18+ Containerfile, machineconfig/machineconfig.json.gz, openshift-config-user-ca-bundle.crt, and the builder's policy.json and registries.conf when the rendered config has them. \`buildah build DIR\` then runs the cluster's build on this machine.

Exit codes: 0; 6 when the pool (4.18+: its MachineOSConfig) does not exist; 7 when the custom part has errors. --diff exits 0 whether or not the copies differ (-o json tells: .diff.identical), and 6 when no build is under way to compare with.`

  static examples = [
    {command: 'oc mob dockerfile layering', description: 'The Dockerfile (4.18+: Containerfile) of the next (or current) build.'},
    {command: 'oc mob dockerfile layering --file ./custom.Dockerfile --check', description: 'Check a custom Dockerfile before storing it.'},
    {command: 'oc mob dockerfile layering --diff', description: 'How the running build\'s copy differs from a fresh render.'},
    {command: 'oc mob dockerfile layering --export ./ctx && buildah build --authfile pull.json ./ctx', description: 'Reproduce the build locally.'},
  ]

  static flags = {
    check: Flags.boolean({
      aliases: ['validate-only'],
      description: 'Only check the custom Dockerfile: print a summary instead of the Dockerfile.',
      exclusive: ['diff', 'export'],
    }),
    diff: Flags.boolean({
      description: 'Show a unified diff of the running build\'s copy (dockerfile-<rendered>, 4.18+: containerfile-<mosb>) against a fresh render.',
      exclusive: ['export'],
    }),
    export: Flags.string({description: 'Write the build context (Dockerfile or Containerfile, machineconfig/machineconfig.json.gz, ...) into this directory.', helpValue: 'DIR'}),
    file: Flags.string({
      char: 'f',
      description: 'Use this local custom Dockerfile instead of the pool\'s (on-cluster-build-custom-dockerfile entry, 4.18+: MachineOSConfig containerFile).',
      helpValue: 'FILE',
    }),
    force: Flags.boolean({description: 'With --export: write into a directory that is not empty.', dependsOn: ['export']}),
    fresh: Flags.boolean({description: 'Render afresh even while a build is under way (default: show the build\'s own copy).'}),
  }

  static summary = 'Show the Dockerfile the cluster builds for a pool, and check its custom Dockerfile.'

  async run(): Promise<DockerfileResult> {
    const {flags} = this
    const result = await poolDockerfile(await this.client(), this.args.pool, {
      diff: flags.diff, exportDir: flags.export, file: flags.file, force: flags.force, fresh: flags.fresh, signal: this.abort.signal,
    })
    for (const n of dockerfileNotes(result, this.term.err)) this.note(n)
    this.emit(result, () => dockerfileText(result, flags.check))
    const {error, warnings} = dockerfileProblems(result, flags.check, this.term.err.yellow)
    for (const w of warnings) this.note(w)
    if (error) throw error
    return result
  }
}
