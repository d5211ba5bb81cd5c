import {Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import * as help from '../views/help/setup.js'
import {dryRunFlag, yesFlag} from '../flags.js'
import {runSetup, type SetupResult} from '../lib/layering/setup.js'
import {terminalPrompter} from '../lib/ui/confirm.js'
import type {Check} from '../lib/layering/types.js'
import {manifests, preflightSection, renderChecks, renderSetupPlan} from '../views/layering.js'
import {setupObjects, setupText} from '../views/setup.js'

export default class Setup extends BaseCommand<typeof Setup> {
  static description = help.description

  static examples = help.examples

  static flags = {
    ...help.settingFlags,
    'dry-run': dryRunFlag('Check and show the plan (-o yaml: the objects) without changing anything.'),
    force: Flags.boolean({description: 'Overwrite existing objects that differ from what setup would write (shown as a diff).'}),
    'registry-check': Flags.boolean({
      allowNo: true,
      default: true,
      description: 'Log into the registries with the secrets before writing (--no-registry-check: do not).',
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
    // Checks wait for the plan (unless one fails): a plan that changes nothing shows the passing ones as one line.
    let held: Check[] = []
    const showHeld = (collapsePassed: boolean): void => {
      if (held.length > 0) this.note(preflightSection(held, this.term.err, {collapsePassed}))
      held = []
    }

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
        pushSecretFile: flags['push-secret-from-file'],
      },
      {
        ask,
        confirm: ask ? () => ask.confirm({default: true, message: 'Apply these changes?'}) : undefined,
        dryRun,
        force: flags.force,
        onChecks: (checks) => {
          if (!table) {
            const text = renderChecks(checks, this.term.err, {onlyProblems: true})
            if (text) this.note(text)
            return
          }

          held.push(...checks)
          if (checks.some((c) => c.verdict === 'fail')) showHeld(false)
        },
        onPlan: (plan) => {
          showHeld(!dryRun && plan.items.every((i) => i.action === 'unchanged'))
          if (table) this.log(renderSetupPlan(plan, this.term.out, Boolean(dryRun)))
        },
        onStep: (text) => this.note(text),
        registryCheck: flags['registry-check'] ? (await import('../lib/doctor/setup-check.js')).setupRegistryChecks : undefined,
        signal: this.abort.signal,
        yes: flags.yes,
      },
    ).finally(() => showHeld(false))

    if (result.outcome === 'dry-run' && !table) {
      this.log(manifests(setupObjects(result), this.output as 'json' | 'yaml'))
      return result
    }

    this.emit(result, () => setupText(result, this.term.out))
    return result
  }
}
