import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import * as help from '../views/help/dockerfile.js'
import type {DockerfileResult} from '../lib/build/render.js'
import {poolDockerfile} from '../lib/layering/generation.js'
import {dockerfileNotes, dockerfileProblems, dockerfileText} from '../views/dockerfile.js'

export default class Dockerfile extends BaseCommand<typeof Dockerfile> {
  static args = {pool: Args.string({ignoreStdin: true, description: 'The MachineConfigPool.', required: true})}

  static description = help.description

  static examples = help.examples

  static flags = {
    check: Flags.boolean({
      aliases: ['validate-only'],
      description: 'Only check the custom Dockerfile: print a summary instead of the Dockerfile.',
      exclusive: ['diff', 'export'],
    }),
    diff: Flags.boolean({
      description:
        "Show a unified diff of the running build's copy (dockerfile-<rendered>, 4.18+: containerfile-<mosb>) against a fresh render.",
      exclusive: ['export'],
    }),
    export: Flags.string({
      description: 'Write the build context (Dockerfile or Containerfile, machineconfig/machineconfig.json.gz, ...) into this directory.',
      helpValue: 'DIR',
    }),
    file: Flags.string({
      char: 'f',
      description:
        "Use this local custom Dockerfile instead of the pool's (on-cluster-build-custom-dockerfile entry, 4.18+: MachineOSConfig containerFile).",
      helpValue: 'FILE',
    }),
    force: Flags.boolean({description: 'With --export: write into a directory that is not empty.', dependsOn: ['export']}),
    fresh: Flags.boolean({description: "Render afresh even while a build is under way (default: show the build's own copy)."}),
  }

  static summary = 'Show the Dockerfile the cluster builds for a pool, and check its custom Dockerfile.'

  async run(): Promise<DockerfileResult> {
    const {flags} = this
    const result = await poolDockerfile(await this.client(), this.args.pool, {
      diff: flags.diff,
      exportDir: flags.export,
      file: flags.file,
      force: flags.force,
      fresh: flags.fresh,
      signal: this.abort.signal,
    })
    for (const n of dockerfileNotes(result, this.term.err)) this.note(n)
    this.emit(result, () => dockerfileText(result, flags.check))
    const {error, warnings} = dockerfileProblems(result, flags.check, this.term.err.yellow)
    for (const w of warnings) this.note(w)
    if (error) throw error
    return result
  }
}
