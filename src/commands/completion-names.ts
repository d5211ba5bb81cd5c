import {Args} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {listNames, NAME_KINDS, type NameKind} from '../lib/cluster/names.js'

/** Used by kubectl_complete-mob (bin/complete.js): names to complete, one per line; nothing on any failure. */
export default class CompletionNames extends BaseCommand<typeof CompletionNames> {
  static args = {kind: Args.string({ignoreStdin: true, description: 'What to list.', options: [...NAME_KINDS, 'contexts'], required: true})}

  static description = 'List pool, node or MachineOSBuild names of the cluster, or the kubeconfig contexts, for shell completion.'

  static hidden = true

  async run(): Promise<void> {
    const kind = this.args.kind as NameKind | 'contexts'
    try {
      let names: string[]
      if (kind === 'contexts') {
        const {loadKubeconfig} = await import('../lib/kube/kubeconfig.js')
        names = loadKubeconfig({kubeconfig: this.flags.kubeconfig})
          .kc.getContexts()
          .map((c) => c.name)
      } else {
        // A completion that waits is worse than none: a short deadline of its own.
        names = await listNames(await this.client(), kind, AbortSignal.timeout(3000))
      }

      if (names.length > 0) process.stdout.write(`${names.join('\n')}\n`)
    } catch {
      // Nothing to offer (no cluster, no access): the shell completes nothing.
    }
  }
}
