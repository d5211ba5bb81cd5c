import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import * as help from '../views/help/status.js'
import {ExitCode, MobError} from '../lib/errors.js'
import type {StatusResult} from '../lib/status/index.js'
import {formatData} from '../lib/ui/output.js'
import {statusText, watchStamp} from '../views/status.js'

export default class Status extends BaseCommand<typeof Status> {
  static args = {
    pool: Args.string({ignoreStdin: true, description: 'Show this pool and each of its nodes.', required: false}),
  }

  static description = help.description

  static examples = help.examples

  static flags = {
    history: Flags.boolean({description: "List the pool's image history (needs a pool)."}),
    watch: Flags.boolean({char: 'w', description: 'Keep watching and show each change (Ctrl-C ends).'}),
  }

  static summary = 'Show pools, builds, images, nodes and problems.'

  async run(): Promise<StatusResult | undefined> {
    const {flags} = this
    if (flags.history && !this.args.pool) {
      throw new MobError('--history needs a pool', {exitCode: ExitCode.Usage, next: 'run `oc mob status POOL --history`'})
    }

    const client = await this.client()
    const {getStatus, watchStatus} = await import('../lib/status/index.js')
    const opts = {history: flags.history, pool: this.args.pool}
    if (!flags.watch) {
      const result = await getStatus(client, opts)
      this.emit(result, () => statusText(result, this.term.out, {wide: this.wide}))
      return result
    }

    const redraw = Boolean(process.stdout.isTTY) && this.output === 'table'
    let count = 0
    await watchStatus(client, {...opts, signal: this.abort.signal}, (s) => {
      count++
      if (this.output !== 'table') {
        this.log(formatData(s, this.output))
        if (this.output === 'yaml') this.log('---')
        return
      }

      if (redraw) process.stdout.write('\u001B[H\u001B[2J')
      else if (count > 1) this.log('')
      // One write per block, so whoever reads the stream never sees a stamp without its block.
      this.log(`${watchStamp(this.term.out, redraw)}\n${statusText(s, this.term.out, {wide: this.wide})}`)
    })
    return undefined
  }
}
