import {expect} from 'chai'
import {FAST, waitFor} from './helpers.js'
import {R} from './client.js'
import {type Cluster, startCluster} from './index.js'

// The operator's side of OS image streams, by release: served and filled from 4.23/5.0 only.
describe('sim: OSImageStream (4.23/5.0+)', function () {
  this.timeout(60_000)
  let cluster: Cluster | undefined
  afterEach(async () => {
    await cluster?.stop()
    cluster = undefined
  })

  it('5.0: the `cluster` singleton lists rhel-9 and rhel-10 (default rhel-10), and each pool reports its stream', async () => {
    cluster = await startCluster({delays: FAST, mode: 'scripted', release: '5.0'})
    const c = cluster.client
    const singleton = await waitFor('the cluster OSImageStream with its streams', async () => {
      const s = await c.get(R.osimagestreams, undefined, 'cluster')
      return s?.status?.availableStreams ? s : undefined
    })
    const base = (await c.get(R.configmaps, 'openshift-machine-config-operator', 'machine-config-osimageurl'))!.data.baseOSContainerImage
    expect(singleton.status.defaultStream).to.equal('rhel-10')
    expect(singleton.status.availableStreams.map((s: {name: string}) => s.name)).to.deep.equal(['rhel-9', 'rhel-10'])
    expect(singleton.status.availableStreams.find((s: {name: string}) => s.name === 'rhel-10').osImage).to.equal(base)
    await waitFor(
      'worker on the default stream',
      async () => (await c.get(R.pools, undefined, 'worker'))?.status?.osImageStream?.name === 'rhel-10',
    )
    // A pool that asks for another stream reports it.
    await c.patch(R.pools, undefined, 'worker', {spec: {osImageStream: {name: 'rhel-9'}}})
    await waitFor('worker on rhel-9', async () => (await c.get(R.pools, undefined, 'worker'))?.status?.osImageStream?.name === 'rhel-9')
  })

  it('4.19: not served', async () => {
    cluster = await startCluster({delays: FAST, mode: 'scripted'})
    const r = await cluster.emulator.request('GET', '/apis/machineconfiguration.openshift.io/v1/osimagestreams')
    expect(r.status).to.equal(404)
  })
})
