import {expect} from 'chai'
import {startEmulator, type Emulator} from '../index.js'
import {type Obj, R, type ResourceKind, SimClient} from './client.js'
import {ControllerManager} from './controller-manager.js'
import {waitFor} from './helpers.js'

const NS = 'default'
const JOBS: ResourceKind = {group: 'batch', version: 'v1', plural: 'jobs', namespaced: true}
const ownedBy = (o: Obj, extra: Obj = {}) => ({
  apiVersion: o.apiVersion,
  kind: o.kind,
  name: o.metadata.name,
  uid: o.metadata.uid,
  ...extra,
})
const cm = (name: string, owners: Obj[] = []) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: {name, namespace: NS, ...(owners.length ? {ownerReferences: owners} : {})},
  data: {},
})
const job = (name: string) => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: {name, namespace: NS},
  spec: {template: {spec: {restartPolicy: 'Never', containers: [{name: 'c', image: 'quay.io/a/b:1'}]}}},
})
const pod = (name: string, owner: Obj) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {name, namespace: NS, ownerReferences: [ownedBy(owner, {controller: true, blockOwnerDeletion: true})]},
  spec: {restartPolicy: 'Never', containers: [{name: 'c', image: 'quay.io/a/b:1'}]},
})
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('sim: controller-manager (garbage collector, node lifecycle) against an API server that leaves both to it', () => {
  let em: Emulator
  let client: SimClient
  let cm0: ControllerManager | undefined
  const lines: string[] = []
  const start = async () => {
    cm0 = new ControllerManager(client, (l) => lines.push(l), {retryMs: 40, resyncMs: 500})
    await cm0.start()
  }

  beforeEach(async () => {
    em = await startEmulator({objects: [], garbageCollector: false})
    client = SimClient.fromFile(em.kubeconfig)
  })
  afterEach(async () => {
    await cm0?.stop()
    cm0 = undefined
    client.close()
    await em.close()
  })

  it('deletes a Job’s pods once the Job is gone (background), and nothing without it', async () => {
    const j = await client.create(JOBS, NS, job('build-x'))
    await client.create(R.pods, NS, pod('build-x-abcde', j))
    await client.create(R.configmaps, NS, cm('unowned'))
    await client.delete(JOBS, NS, 'build-x', {kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background'})
    await sleep(200)
    // the API server alone keeps the dependent: collecting it is the controller-manager's job
    expect(await client.get(R.pods, NS, 'build-x-abcde')).to.not.equal(undefined)
    await start()
    await waitFor('the orphaned pod to go', async () => (await client.get(R.pods, NS, 'build-x-abcde')) === undefined)
    expect(await client.get(R.configmaps, NS, 'unowned')).to.not.equal(undefined)
    expect(lines).to.include('garbage-collector: deleted Pod default/build-x-abcde (owner gone)')
  })

  it('keeps a dependent with a live owner left, dropping the reference to the gone one', async () => {
    await start()
    const a = await client.create(R.configmaps, NS, cm('owner-a'))
    const b = await client.create(R.configmaps, NS, cm('owner-b'))
    await client.create(R.configmaps, NS, cm('shared', [ownedBy(a), ownedBy(b)]))
    await client.delete(R.configmaps, NS, 'owner-a')
    const left = await waitFor('the reference to go', async () => {
      const s = await client.get(R.configmaps, NS, 'shared')
      return s?.metadata.ownerReferences?.length === 1 ? s : undefined
    })
    expect(left.metadata.ownerReferences[0].name).to.equal('owner-b')
    await client.delete(R.configmaps, NS, 'owner-b')
    await waitFor('the dependent to go with its last owner', async () => (await client.get(R.configmaps, NS, 'shared')) === undefined)
  })

  it('deletes in the foreground: the owner stays marked until its blocking dependents are gone', async () => {
    const owner = await client.create(R.configmaps, NS, cm('fg-owner'))
    await client.create(R.configmaps, NS, cm('fg-dep', [ownedBy(owner, {blockOwnerDeletion: true})]))
    await client.delete(R.configmaps, NS, 'fg-owner', {kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Foreground'})
    const marked = await client.get(R.configmaps, NS, 'fg-owner')
    expect(marked?.metadata.finalizers).to.deep.equal(['foregroundDeletion'])
    expect(marked?.metadata.deletionTimestamp).to.be.a('string')
    await sleep(150)
    expect(await client.get(R.configmaps, NS, 'fg-dep')).to.not.equal(undefined)
    await start()
    await waitFor('the owner to go after its dependent', async () => (await client.get(R.configmaps, NS, 'fg-owner')) === undefined)
    expect(await client.get(R.configmaps, NS, 'fg-dep')).to.equal(undefined)
  })

  it('keeps node.kubernetes.io/not-ready:NoSchedule (added by the API server on create) until the node is Ready', async () => {
    const node = await client.create(R.nodes, undefined, {apiVersion: 'v1', kind: 'Node', metadata: {name: 'new-node'}})
    expect(node.spec.taints).to.deep.equal([{key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule'}])
    await start()
    const setReady = (status: string) =>
      client.patch(
        R.nodes,
        undefined,
        'new-node',
        {
          status: {
            conditions: [
              {type: 'Ready', status, reason: 'KubeletReady', message: 'simulated', lastTransitionTime: new Date().toISOString()},
            ],
          },
        },
        'merge',
        'status',
      )
    await sleep(150)
    // no Ready condition reported yet: the taint stays
    expect((await client.get(R.nodes, undefined, 'new-node'))?.spec.taints).to.have.length(1)
    await setReady('True')
    await waitFor('the taint to go', async () => (await client.get(R.nodes, undefined, 'new-node'))?.spec.taints === undefined)
    await setReady('False')
    const back = await waitFor('the taint to return', async () => (await client.get(R.nodes, undefined, 'new-node'))?.spec.taints)
    expect(back).to.deep.equal([{key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule'}])
    await setReady('Unknown')
    const unreachable = await waitFor('the unreachable taint', async () => {
      const t = (await client.get(R.nodes, undefined, 'new-node'))?.spec.taints
      return t?.[0]?.key === 'node.kubernetes.io/unreachable' ? t : undefined
    })
    expect(unreachable).to.deep.equal([{key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule'}])
  })
})
