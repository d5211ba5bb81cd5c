import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {registryCaFlag, yesFlag} from '../flags.js'
import * as help from '../views/help/doctor.js'
import {ExitCode, MobError} from '../lib/errors.js'
import type {DoctorResult} from '../lib/doctor/types.js'

export default class Doctor extends BaseCommand<typeof Doctor> {
  static args = {
    pool: Args.string({ignoreStdin: true, description: 'The pool to check (default: every pool opted into on-cluster builds).'}),
  }

  static description = help.description

  static examples = help.examples

  static flags = {
    fix: Flags.boolean({description: 'Replace a rotating or expiring push token with a long-lived token secret (asks first).'}),
    'registry-address': Flags.string({
      description: 'HOST=ADDRESS: reach registry HOST at ADDRESS (host[:port]) from here.',
      multiple: true,
    }),
    'registry-ca': registryCaFlag(),
    timeout: Flags.integer({default: 10, description: 'Seconds each registry request may take.', min: 1}),
    yes: yesFlag('With --fix: do not ask for confirmation.'),
  }

  static summary = 'Check secrets, registries, tokens and the pool before a build does.'

  async run(): Promise<DoctorResult> {
    const {flags} = this
    const addresses: Record<string, string> = {}
    for (const a of flags['registry-address'] ?? []) {
      const [host, address] = a.split('=')
      if (!host || !address)
        throw new MobError(`--registry-address ${a}: expected HOST=ADDRESS`, {
          exitCode: ExitCode.Usage,
          next: 'e.g. --registry-address image-registry.openshift-image-registry.svc:5000=registry.apps.example.com',
        })
      addresses[host] = address
    }

    const cas = flags['registry-ca'] ? (await import('../lib/registry/http.js')).trustedCAsFrom(flags['registry-ca']) : undefined
    const client = await this.client()
    const {runDoctor} = await import('../lib/doctor/index.js')
    const {renderDoctor, renderFixPlan} = await import('../views/doctor.js')
    const result = await runDoctor(client, {
      addresses,
      cas,
      pool: this.args.pool,
      signal: this.abort.signal,
      timeoutMs: flags.timeout * 1000,
    })
    this.emit(result, () => renderDoctor(result, this.term))
    if (flags.fix)
      await (await import('../lib/doctor/apply.js')).applyFixes(client, result.fixes, {
        describe: renderFixPlan,
        note: (t) => this.note(t),
        signal: this.abort.signal,
        term: this.term,
        yes: flags.yes,
      })
    if (result.summary.fail > 0) {
      throw new MobError(`${result.summary.fail} check${result.summary.fail === 1 ? '' : 's'} failed`, {
        code: 'DoctorFailed',
        exitCode: ExitCode.Invalid,
        next: 'follow the next steps above and run `oc mob doctor` again',
      })
    }

    return result
  }
}
