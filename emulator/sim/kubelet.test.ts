import {expect} from 'chai'
import {type Obj, R} from './client.js'
import type {Cluster} from './index.js'
import {cond, fastCluster, waitFor} from './helpers.js'

const NS = 'default'

const pod = (name: string, containers: string[], extra: Obj = {}): Obj => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {name, namespace: NS},
  spec: {
    restartPolicy: 'Never',
    containers: containers.map((c) => ({name: c, image: 'registry.example/tool:1', command: ['/bin/true']})),
    ...extra,
  },
})

const log = (cluster: Cluster, name: string, q: string) => cluster.client.raw('GET', `/api/v1/namespaces/${NS}/pods/${name}/log?${q}`)

describe('sim: kubelet', () => {
  let cluster: Cluster
  afterEach(async () => {
    await cluster?.stop()
  })

  it('binds, runs and finishes pods with realistic status, and serves their logs', async () => {
    cluster = await fastCluster({
      delays: {podStartMs: 150},
      scripts: [
        {match: {podName: 'job', container: 'a'}, logLines: ['one', 'two', 'three'], exitCode: 0, durationMs: 60},
        {match: {podName: 'job', container: 'b'}, logLines: ['oops'], exitCode: 3, durationMs: 300},
      ],
    })
    const c = cluster.client
    await c.create(R.pods, NS, pod('job', ['a', 'b']))
    // while ContainerCreating: 400 from the kubelet path
    const waiting = await waitFor('a bound pod', async () => {
      const p = await c.get(R.pods, NS, 'job')
      return p?.spec?.nodeName && p.status?.containerStatuses ? p : undefined
    })
    expect(waiting.spec.nodeName).to.match(/^ip-10-0-(22-17|29-188)\./)
    expect(waiting.status.phase).to.equal('Pending')
    expect(waiting.status.containerStatuses[0].state).to.deep.equal({waiting: {reason: 'ContainerCreating'}})
    const early = await log(cluster, 'job', 'container=a')
    expect(early.status).to.equal(400)
    expect(early.body.message).to.equal('container "a" in pod "job" is waiting to start: ContainerCreating')

    const running = await waitFor('Running', async () => {
      const p = await c.get(R.pods, NS, 'job')
      return p?.status?.phase === 'Running' ? p : undefined
    })
    expect(running.status.podIP).to.match(/^10\.128\./)
    expect(running.status.hostIP).to.equal('127.0.0.1')
    expect(cond(running, 'PodScheduled')!.status).to.equal('True')

    // follow streams until the container exits
    const followed = await log(cluster, 'job', 'container=a&follow=true')
    expect(followed.status).to.equal(200)
    expect(followed.text).to.equal('one\ntwo\nthree\n')

    const failed = await waitFor('Failed', async () => {
      const p = await c.get(R.pods, NS, 'job')
      return p?.status?.phase === 'Failed' ? p : undefined
    })
    const st = (n: string) => failed.status.containerStatuses.find((s: Obj) => s.name === n).state.terminated
    expect(st('a')).to.include({exitCode: 0, reason: 'Completed'})
    expect(st('b')).to.include({exitCode: 3, reason: 'Error'})
    expect(Date.parse(st('b').finishedAt)).to.be.at.least(Date.parse(st('b').startedAt))
    expect(cond(failed, 'Ready')).to.include({status: 'False'})

    const tail = await log(cluster, 'job', 'container=a&tailLines=2')
    expect(tail.text).to.equal('two\nthree\n')
    const ts = await log(cluster, 'job', 'container=a&timestamps=true&tailLines=1')
    expect(ts.text).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z three\n$/)
    const prev = await log(cluster, 'job', 'container=a&previous=true')
    expect(prev.status).to.equal(400)
    expect(prev.body.message).to.equal('previous terminated container "a" in pod "job" not found')
    const bad = await log(cluster, 'job', 'container=nope')
    expect(bad.status).to.equal(400)
    expect(bad.body.message).to.equal('container nope is not valid for pod job')
  })

  it('honours nodeSelector and taints, and kills a running container when its pod is deleted', async () => {
    cluster = await fastCluster({scripts: [{match: {podName: /^sleeper/}, logLines: ['started'], exitCode: 0, hangAfter: true}]})
    const c = cluster.client
    await c.create(R.pods, NS, pod('nowhere', ['x'], {nodeSelector: {'node-role.kubernetes.io/infra': ''}}))
    const unsched = await waitFor('Unschedulable', async () => {
      const p = await c.get(R.pods, NS, 'nowhere')
      return cond(p, 'PodScheduled')?.reason === 'Unschedulable' ? p : undefined
    })
    expect(cond(unsched, 'PodScheduled')!.message).to.match(/^0\/5 nodes are available: /)
    expect(unsched.spec.nodeName).to.equal(undefined)

    await c.create(
      R.pods,
      NS,
      pod('sleeper-master', ['x'], {
        nodeSelector: {'node-role.kubernetes.io/master': ''},
        tolerations: [{key: 'node-role.kubernetes.io/master', operator: 'Exists', effect: 'NoSchedule'}],
      }),
    )
    const onMaster = await waitFor('Running on a master', async () => {
      const p = await c.get(R.pods, NS, 'sleeper-master')
      return p?.status?.phase === 'Running' ? p : undefined
    })
    const node = (await c.get(R.nodes, undefined, onMaster.spec.nodeName))!
    expect(node.metadata.labels).to.have.property('node-role.kubernetes.io/master')
    const stream = log(cluster, 'sleeper-master', 'container=x&follow=true')
    await new Promise((r) => setTimeout(r, 100))
    await c.delete(R.pods, NS, 'sleeper-master')
    const res = await stream
    expect(res.text).to.equal('started\n')
    await waitFor('the pod to be gone', async () => !(await c.get(R.pods, NS, 'sleeper-master')))
  })
})
