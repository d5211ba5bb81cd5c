import {Args} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {age} from '../lib/mco/pool-state.js'
import {getStatus, type NodeStatus, type PoolStatus, type StatusResult} from '../lib/status.js'
import {shortDigest, table} from '../lib/ui/output.js'

export default class Status extends BaseCommand<typeof Status> {
  static args = {
    pool: Args.string({description: 'Show this pool and each of its nodes.', required: false}),
  }

  static description = `Show where on-cluster image builds stand.

For every MachineConfigPool: whether it is opted into on-cluster builds, the rendered config it
targets, the state of its build, the image built for it and how many of its nodes are updated; and
whether the machine-os-builder is running. With a pool name, adds a row per node with its desired
and current config and image and its machine-config daemon state.

-o json|yaml prints the same information in a stable shape (see the README).`

  static examples = [
    {command: 'oc mob status', description: 'All pools.'},
    {command: 'oc mob status layering', description: 'One pool and its nodes.'},
    {command: 'oc mob status -o json | jq .pools[].image', description: 'For scripts.'},
  ]

  static summary = 'Show pools, builds, images and nodes.'

  async run(): Promise<StatusResult> {
    const client = await this.client()
    const result = await getStatus(client, {pool: this.args.pool})
    this.emit(result, () => this.render(result))
    return result
  }

  private render(s: StatusResult): string {
    const c = this.term.out
    const builder = s.machineOSBuilder
    const builderText = builder.running
      ? c.green('running') + ` (${builder.pods.filter((p) => p.phase === 'Running').map((p) => p.name).join(', ')})`
      : builder.deployed ? c.yellow('deployed, not running') + (builder.pods.length > 0 ? ` (${builder.pods.map((p) => `${p.name}: ${p.phase}`).join(', ')})` : '') : 'not running'
    const lines = [`Cluster: ${s.server} (context ${s.context})`, `machine-os-builder: ${builderText}`, '']
    const buildPaint = (text: string, p: PoolStatus): string => {
      switch (p.build.state) {
        case 'failed': { return c.red(text) }
        case 'succeeded': { return c.green(text) }
        case 'building': case 'pending': { return c.yellow(text) }
        default: { return text }
      }
    }

    lines.push(table<PoolStatus>(s.pools, [
      {get: (p) => p.name, header: 'POOL'},
      {get: (p) => (p.layered ? 'yes' : 'no'), header: 'LAYERED'},
      {get: (p) => (p.build.state === 'none' ? '' : p.build.state + (p.build.since ? ` (${age(p.build.since)})` : '')), header: 'BUILD', paint: buildPaint},
      {get: (p) => p.renderedConfig ?? '', header: 'RENDERED CONFIG'},
      {get: (p) => shortDigest(p.image), header: 'IMAGE'},
      {get: (p) => `${p.nodes.updated}/${p.nodes.total}`, header: 'UPDATED'},
      {get: (p) => (p.nodes.degraded > 0 ? String(p.nodes.degraded) : '0'), header: 'DEGRADED', paint: (t, p) => (p.nodes.degraded > 0 ? c.red(t) : t)},
      {get: (p) => poolState(p), header: 'STATE', paint: (t, p) => (p.degraded ? c.red(t) : p.updating ? c.yellow(t) : t)},
    ]))
    for (const p of s.pools.filter((x) => x.build.state === 'failed')) {
      lines.push('', c.red(`Build for pool ${p.name} failed`) + (p.build.message ? `: ${p.build.message}` : ''))
    }

    if (s.nodes) {
      lines.push('', s.nodes.length === 0 ? `No nodes in pool ${s.pools[0].name}.` : table<NodeStatus>(s.nodes, [
        {get: (n) => n.name, header: 'NODE'},
        {get: (n) => n.state ?? '', header: 'STATE', paint: (t, n) => (n.state === 'Degraded' || n.state === 'Unreconcilable' ? c.red(t) : n.state === 'Working' ? c.yellow(t) : t)},
        {get: (n) => (n.ready ? 'Ready' : 'NotReady') + (n.schedulable ? '' : ',SchedulingDisabled'), header: 'READY'},
        {get: (n) => n.desiredConfig ?? '', header: 'DESIRED CONFIG'},
        {get: (n) => (n.currentConfig === n.desiredConfig ? '=' : n.currentConfig ?? ''), header: 'CURRENT CONFIG'},
        {get: (n) => shortDigest(n.desiredImage), header: 'DESIRED IMAGE'},
        {get: (n) => (n.currentImage === n.desiredImage && n.currentImage ? '=' : shortDigest(n.currentImage)), header: 'CURRENT IMAGE'},
      ]))
      for (const n of s.nodes.filter((x) => x.reason)) lines.push(c.red(`${n.name}: ${n.reason}`))
    }

    return lines.join('\n')
  }
}

function poolState(p: PoolStatus): string {
  if (p.degraded) return 'Degraded'
  if (p.paused) return 'Paused'
  if (p.updating) return 'Updating'
  if (p.updated) return 'Updated'
  return ''
}
