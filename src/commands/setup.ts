import {Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import * as help from '../views/help/setup.js'
import {dryRunFlag, yesFlag} from '../flags.js'
import {runSetup, type SetupResult} from '../lib/layering/setup.js'
import {terminalPrompter} from '../lib/ui/confirm.js'
import {manifests, renderChecks, renderSetupPlan} from '../views/layering.js'
import {setupObjects, setupText} from '../views/setup.js'

export default class Setup extends BaseCommand<typeof Setup> {
  static description = help.description

  static examples = help.examples

  static flags = {
    'base-pull-secret': Flags.string({
      description: "Secret in openshift-machine-config-operator to pull the base OS image (and the custom Dockerfile's images) with.",
      exclusive: ['clone-global-pull-secret'],
      helpGroup: 'SETTINGS',
    }),
    builder: Flags.option({
      description: 'How images are built: pod (the build pod, custom-pod-builder) or build (OpenShift Builds, openshift-image-builder).',
      helpGroup: 'SETTINGS',
      options: ['pod', 'build'] as const,
    })(),
    'clone-global-pull-secret': Flags.boolean({
      description: 'Copy openshift-config/pull-secret into global-pull-secret-copy and pull with it.',
      exclusive: ['base-pull-secret'],
      helpGroup: 'SETTINGS',
    }),
    'config-roles': Flags.string({
      description: 'For a new pool: the MachineConfig roles it takes, comma-separated (default: POOL,worker).',
      helpGroup: 'POOL',
    }),
    'custom-dockerfile': Flags.string({
      description: 'File with the pool\'s custom Dockerfile (its last stage must be FROM configs AS final); "" for none (and do not ask).',
      helpGroup: 'SETTINGS',
    }),
    'dry-run': dryRunFlag('Check and show the plan (-o yaml: the objects) without changing anything.'),
    enable: Flags.boolean({
      allowNo: true,
      description: 'Also opt the pool into on-cluster builds (the build starts right away); --no-enable: do not, and do not ask.',
      helpGroup: 'POOL',
    }),
    'final-pullspec': Flags.string({
      description:
        'External registry repository for the built image, e.g. quay.io/myorg/os-image (its tag is replaced by the rendered config name).',
      exclusive: ['imagestream'],
      helpGroup: 'SETTINGS',
    }),
    force: Flags.boolean({description: 'Overwrite existing objects that differ from what setup would write (shown as a diff).'}),
    imagestream: Flags.string({
      description:
        'Push to the internal registry through this ImageStream in openshift-machine-config-operator (created when missing), e.g. os-image.',
      exclusive: ['final-pullspec'],
      helpGroup: 'SETTINGS',
    }),
    'node-selector': Flags.string({
      description: 'For a new pool: the label its nodes carry, KEY=VALUE (default: node-role.kubernetes.io/POOL=).',
      helpGroup: 'POOL',
    }),
    pool: Flags.string({description: 'The MachineConfigPool to set up (default: layering; created when missing).', helpGroup: 'POOL'}),
    'push-secret': Flags.string({
      description:
        'Secret in openshift-machine-config-operator to push the image with (default with --imagestream: the builder-dockercfg-* secret).',
      helpGroup: 'SETTINGS',
    }),
    yes: yesFlag(),
  }

  static summary = 'Set up on-cluster builds: build config, secrets, pool, custom Dockerfile.'

  async run(): Promise<SetupResult> {
    const {flags} = this
    const client = await this.client()
    const table = this.output === 'table'
    const dryRun = flags['dry-run']
    const ask = this.term.canPrompt ? await terminalPrompter(this.abort.signal) : undefined
    const result = await runSetup(
      client,
      {
        builder: flags.builder,
        cloneGlobalPullSecret: flags['clone-global-pull-secret'] || undefined,
        configRoles: flags['config-roles']
          ?.split(',')
          .map((r) => r.trim())
          .filter(Boolean),
        basePullSecret: flags['base-pull-secret'],
        customDockerfile: flags['custom-dockerfile'],
        enable: flags.enable,
        finalPullspec: flags['final-pullspec'],
        imageStream: flags.imagestream,
        nodeSelector: flags['node-selector'],
        pool: flags.pool,
        pushSecret: flags['push-secret'],
      },
      {
        ask,
        confirm: ask ? () => ask.confirm({default: true, message: 'Apply these changes?'}) : undefined,
        dryRun,
        force: flags.force,
        onChecks: (checks) => {
          const text = renderChecks(checks, this.term.err, {onlyProblems: !table})
          if (text) this.note((table ? 'Preflight checks:\n' : '') + text)
        },
        onPlan: (plan) => {
          if (table) this.log(renderSetupPlan(plan, this.term.out, Boolean(dryRun)))
        },
        onStep: (text) => this.note(text),
        signal: this.abort.signal,
        yes: flags.yes,
      },
    )

    if (result.outcome === 'dry-run' && !table) {
      this.log(manifests(setupObjects(result), this.output as 'json' | 'yaml'))
      return result
    }

    this.emit(result, () => setupText(result, this.term.out))
    return result
  }
}
