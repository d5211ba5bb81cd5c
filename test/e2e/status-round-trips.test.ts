import {expect} from 'chai'
import {basicCluster, node, pool, run, startEmulator} from './harness.js'
import type {Emulator} from '../../emulator/index.js'

// status over a slow link: its reads go out together, the pool's nodes with them.
describe('oc mob status: one round of reads', function () {
  this.timeout(60_000)
  let emu: Emulator
  const gpuPool = () => {
    const p = pool('gpu', {counts: [1, 1]}) as ReturnType<typeof pool> & {spec: Record<string, unknown>}
    // Not the usual node-role.kubernetes.io/gpu: its nodes are picked by another label.
    p.spec.nodeSelector = {matchLabels: {'example.com/accelerator': 'gpu'}}
    return p
  }

  before(async () => {
    const gpuNode = node('gpu-0', ['worker'])
    gpuNode.metadata.labels['example.com/accelerator'] = 'gpu'
    emu = await startEmulator({
      objects: [...basicCluster(), pool('infra', {counts: [1, 1]}), node('infra-0', ['worker', 'infra']), gpuPool(), gpuNode],
    })
  })
  after(async () => emu?.close())

  const status = (...args: string[]) => run(['status', '--kubeconfig', emu.kubeconfig, '-o', 'json', ...args])
  const lists = () => emu.requests.filter((r) => r.method === 'GET' && r.path !== '/version')

  it('sends every read before the first answer comes, once discovery is cached; the pool`s nodes by the usual label', async () => {
    expect((await status()).exitCode).to.equal(0) // fills the discovery cache
    emu.resetRequests()
    emu.faults.latency({path: /./}, 300)
    const r = await status('infra').finally(() => emu.faults.clear())
    expect(r.exitCode, r.stderr).to.equal(0)
    expect((JSON.parse(r.stdout) as {nodes: Array<{name: string}>}).nodes.map((n) => n.name)).to.deep.equal(['infra-0'])
    const sent = Math.max(...emu.requests.map((q) => q.at))
    expect(sent).to.be.below(Math.min(...emu.requests.map((q) => q.answeredAt!)))
    const nodeLists = lists().filter((q) => q.path === '/api/v1/nodes')
    expect(nodeLists.map((q) => decodeURIComponent(q.query))).to.deep.equal(['labelSelector=node-role.kubernetes.io/infra=&limit=500'])
  })

  it('without the discovery cache, sends the reads every cluster answers beside discovery; only the optional APIs wait for it', async () => {
    const fresh = await startEmulator({objects: basicCluster()}) // a new server: nothing cached for it
    try {
      fresh.faults.latency({path: /./}, 300)
      const r = await run(['status', '--kubeconfig', fresh.kubeconfig, '-o', 'json'])
      expect(r.exitCode, r.stderr).to.equal(0)
      const at = (path: string) => fresh.requests.find((q) => q.path === path)!
      const discovered = Math.min(at('/apis').answeredAt!, at('/apis/machineconfiguration.openshift.io/v1').answeredAt!)
      expect(at('/apis/machineconfiguration.openshift.io/v1/machineconfigpools').at).to.be.below(discovered)
      expect(fresh.requests.filter((q) => q.path.endsWith('/configmaps')).every((q) => q.at < discovered)).to.equal(true)
      // The MachineOSConfig API is optional: asked for once discovery says it is served.
      expect(at('/apis/machineconfiguration.openshift.io/v1/machineosconfigs').at).to.be.above(discovered)
    } finally {
      await fresh.close()
    }
  })

  it('a pool that picks its nodes another way costs one more list, by its own selector', async () => {
    emu.resetRequests()
    const r = await status('gpu')
    expect(r.exitCode, r.stderr).to.equal(0)
    expect((JSON.parse(r.stdout) as {nodes: Array<{name: string}>}).nodes.map((n) => n.name)).to.deep.equal(['gpu-0'])
    const nodeLists = lists().filter((q) => q.path === '/api/v1/nodes')
    expect(nodeLists.map((q) => decodeURIComponent(q.query))).to.deep.equal([
      'labelSelector=node-role.kubernetes.io/gpu=&limit=500',
      'labelSelector=example.com/accelerator=gpu&limit=500',
    ])
  })

  it('the worker pool still leaves out the nodes a custom pool takes', async () => {
    const r = await status('worker')
    expect(r.exitCode, r.stderr).to.equal(0)
    expect((JSON.parse(r.stdout) as {nodes: Array<{name: string}>}).nodes.map((n) => n.name)).to.deep.equal(['worker-0'])
  })
})
