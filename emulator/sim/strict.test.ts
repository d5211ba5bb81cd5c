import {expect} from 'chai'
import type {RequestRecord} from '../apiserver/server.js'
import {type Obj, R, type ResourceKind} from './client.js'
import {dockerconfigjson, FAST, fastCluster, getPool, setupLayering, waitFor} from './helpers.js'
import type {Cluster} from './index.js'
import {MCO_NS} from './names.js'

const P = 'machineconfiguration.openshift.io'
const JOBS: ResourceKind = {group: 'batch', version: 'v1', plural: 'jobs', namespaced: true}

/**
 * The writes the API server refused as invalid (400 BadRequest, 422 Invalid): the server validates custom
 * resources by their CRD's schema and rules as kube-apiserver does, so none of these may come from the simulation.
 */
const refusedWrites = (requests: RequestRecord[]) =>
  requests
    .filter((r) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method) && (r.status === 400 || r.status === 422))
    .map((r) => `${r.method} ${r.path} -> ${r.status}`)

const nodesOn = async (cluster: Cluster, role: string, image: string) => {
  const nodes = (await cluster.client.list(R.nodes, undefined, `node-role.kubernetes.io/${role}`)).items
  return nodes.length > 0 && nodes.every((n: Obj) => n.metadata.annotations?.[`${P}/currentImage`] === image)
}

describe('sim: the whole simulation writes only what kube-apiserver accepts (strict)', function () {
  this.timeout(90_000)
  let cluster: Cluster | undefined
  afterEach(async () => {
    await cluster?.stop()
    cluster = undefined
  })

  it('4.18+: a MachineOSConfig built and rolled out, then deleted (its MachineOSBuild and Job collected)', async () => {
    cluster = await fastCluster({
      controllers: {machineOS: true},
      delays: {...FAST, podStartMs: 60},
      emulator: {groups: {machineOS: true}},
    })
    const c = cluster.client
    await c.create(R.secrets, MCO_NS, {...dockerconfigjson(), metadata: {name: 'push', namespace: MCO_NS}})
    await c.create(R.machineosconfigs, undefined, {
      apiVersion: `${P}/v1`,
      kind: 'MachineOSConfig',
      metadata: {name: 'worker'},
      spec: {
        imageBuilder: {imageBuilderType: 'Job'},
        machineConfigPool: {name: 'worker'},
        renderedImagePushSecret: {name: 'push'},
        renderedImagePushSpec: 'quay.io/org/os:latest',
      },
    })
    const image = await waitFor(
      'the image',
      async () => (await c.get(R.machineosconfigs, undefined, 'worker'))?.status?.currentImagePullSpec as string | undefined,
      30_000,
    )
    await waitFor('the worker nodes on the image', () => nodesOn(cluster!, 'worker', image), 30_000)
    const [mosb] = (await c.list(R.machineosbuilds)).items
    expect(mosb.metadata.ownerReferences.map((r: Obj) => r.kind)).to.deep.equal(['MachineOSConfig'])
    const builds = (await c.list(R.machineosbuilds)).items
    const ended = builds.filter((b: Obj) => b.status?.buildEnd)
    expect(ended, 'a finished build').to.not.have.length(0)
    for (const b of ended) expect(Date.parse(b.status.buildEnd)).to.be.greaterThan(Date.parse(b.status.buildStart))

    await c.delete(R.machineosconfigs, undefined, 'worker')
    // 4.18+ reverts the nodes to the plain OS image (4.14 would mark them Degraded)
    await waitFor(
      'the worker nodes back on the plain OS image',
      async () => {
        const nodes = (await c.list(R.nodes, undefined, 'node-role.kubernetes.io/worker')).items
        return nodes.every((n: Obj) => !n.metadata.annotations?.[`${P}/currentImage`] && n.metadata.annotations?.[`${P}/state`] === 'Done')
      },
      30_000,
    )
    // on a real cluster the controller-manager collects them; here the simulation's does
    await waitFor('the MachineOSBuilds collected', async () => (await c.list(R.machineosbuilds)).items.length === 0, 20_000)
    await waitFor('the build Jobs collected', async () => (await c.list(JOBS, MCO_NS)).items.length === 0, 20_000)
    const statusWrites = cluster.emulator.requests.filter((r) => /\/machineosbuilds\/[^/]+\/status$/.test(r.path) && r.status === 200)
    expect(statusWrites, 'the builder wrote MachineOSBuild statuses').to.not.have.length(0)
    expect(refusedWrites(cluster.emulator.requests)).to.deep.equal([])
  })

  it('4.14: a layered pool built and rolled out', async () => {
    cluster = await fastCluster({delays: {...FAST, podStartMs: 60}})
    const c = cluster.client
    for (const n of (await c.list(R.nodes, undefined, 'node-role.kubernetes.io/worker')).items)
      await c.patch(R.nodes, undefined, n.metadata.name, {metadata: {labels: {'node-role.kubernetes.io/layered': ''}}})
    await setupLayering(c)
    const image = await waitFor(
      'the image',
      async () => (await getPool(c, 'layered'))?.metadata.annotations?.[`${P}/newestImageEquivalentConfig`] as string | undefined,
      30_000,
    )
    await waitFor('the layered nodes on the image', () => nodesOn(cluster!, 'layered', image), 30_000)
    expect(refusedWrites(cluster.emulator.requests)).to.deep.equal([])
  })
})
