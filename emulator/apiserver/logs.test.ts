import {expect} from 'chai'
import {startEmulator, startFakeKubelet, type Emulator, type FakeKubelet} from '../index.js'
import {call, stream} from './testing.js'

const P = '/api/v1/namespaces/default/pods'
const pod = (name: string, containers: string[], extra: any = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {name, namespace: 'default', ...(extra.metadata ?? {})},
  spec: {containers: containers.map((c) => ({name: c, image: 'quay.io/x/y:1'})), ...(extra.spec ?? {})},
  status: extra.status ?? {phase: 'Running'},
})

describe('emulator: pods/log and builds/log through the kubelet', () => {
  let em: Emulator
  let kubelet: FakeKubelet
  before(async () => {
    kubelet = await startFakeKubelet()
    em = await startEmulator({
      objects: [
        kubelet.nodeObject('node-1'),
        {
          apiVersion: 'v1',
          kind: 'Node',
          metadata: {name: 'dead'},
          status: {addresses: [{type: 'InternalIP', address: '127.0.0.1'}], daemonEndpoints: {kubeletEndpoint: {Port: 1}}},
        },
        pod('p1', ['c'], {spec: {nodeName: 'node-1'}}),
        pod('two', ['a', 'b'], {spec: {nodeName: 'node-1'}}),
        pod('unscheduled', ['c'], {status: {phase: 'Pending'}}),
        pod('build-x', ['image-build'], {
          spec: {nodeName: 'node-1'},
          status: {
            phase: 'Pending',
            containerStatuses: [{name: 'image-build', ready: false, restartCount: 0, state: {waiting: {reason: 'ContainerCreating'}}}],
          },
        }),
        pod('on-dead', ['c'], {spec: {nodeName: 'dead'}}),
        pod('b1-build', ['docker'], {spec: {nodeName: 'node-1'}}),
        {
          apiVersion: 'build.openshift.io/v1',
          kind: 'Build',
          metadata: {name: 'b1', namespace: 'default', annotations: {'openshift.io/build.pod-name': 'b1-build'}},
          spec: {strategy: {type: 'Docker'}},
        },
      ],
    })
    kubelet.setLog('default', 'p1', 'c', 'line 1\nline 2\nline 3\n')
    kubelet.setLog('default', 'p1', 'c', 'old run\n', {previous: true})
    kubelet.setLog('default', 'two', 'b', 'from b\n')
    kubelet.setLog('default', 'b1-build', 'docker', 'STEP 1/3: FROM x\n')
  })
  after(async () => {
    await em.close()
    await kubelet.close()
  })

  it('proxies the log with tailLines, timestamps, previous and limitBytes', async () => {
    const all = await call(em, 'GET', `${P}/p1/log`)
    expect(all.status).to.equal(200)
    expect(all.headers['content-type']).to.equal('text/plain')
    expect(all.text).to.equal('line 1\nline 2\nline 3\n')
    expect((await call(em, 'GET', `${P}/p1/log?tailLines=1`)).text).to.equal('line 3\n')
    const ts = (await call(em, 'GET', `${P}/p1/log?timestamps=true&tailLines=1`)).text
    expect(ts).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z line 3\n$/)
    expect((await call(em, 'GET', `${P}/p1/log?previous=true`)).text).to.equal('old run\n')
    expect((await call(em, 'GET', `${P}/p1/log?limitBytes=4`)).text).to.equal('line')
    expect((await call(em, 'GET', `${P}/two/log?container=b`)).text).to.equal('from b\n')
    const last = kubelet.requests[kubelet.requests.length - 1]
    expect(last.path).to.equal('/containerLogs/default/two/b')
  })

  it('follows a log as the kubelet writes it, chunk by chunk', async () => {
    kubelet.setLog('default', 'p1', 'c', 'start\n')
    const s = await stream(em, `${P}/p1/log?follow=true`)
    await s.waitForText('start\n')
    kubelet.appendLog('default', 'p1', 'c', 'more\n')
    await s.waitForText('more\n')
    expect(s.ended).to.equal(false)
    kubelet.endLog('default', 'p1', 'c')
    await s.end()
    expect(s.text).to.equal('start\nmore\n')
    expect(kubelet.requests.some((r) => r.query === 'follow=true')).to.equal(true)
  })

  it('answers the real errors: 204 without node, 400 bad/missing container, 400 waiting, 404 missing pod', async () => {
    const none = await call(em, 'GET', `${P}/unscheduled/log`)
    expect(none.status).to.equal(204)
    expect(none.text).to.equal('')
    const nope = await call(em, 'GET', `${P}/p1/log?container=nope`)
    expect(nope.status).to.equal(400)
    expect(nope.text).to.equal(
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"container nope is not valid for pod p1","reason":"BadRequest","code":400}',
    )
    const choose = await call(em, 'GET', `${P}/two/log`)
    expect(choose.status).to.equal(400)
    expect(choose.json.message).to.equal('a container name must be specified for pod two, choose one of: [a b]')
    const waiting = await call(em, 'GET', `${P}/build-x/log?follow=true`)
    expect(waiting.status).to.equal(400)
    expect(waiting.json.message).to.equal('container "image-build" in pod "build-x" is waiting to start: ContainerCreating')
    const missing = await call(em, 'GET', `${P}/nope/log`)
    expect(missing.status).to.equal(404)
    expect(missing.json).to.deep.equal({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods "nope" not found',
      reason: 'NotFound',
      details: {name: 'nope', kind: 'pods'},
      code: 404,
    })
  })

  it('reports an unreachable kubelet as a 500 with the dial error, and passes kubelet errors on', async () => {
    const dead = await call(em, 'GET', `${P}/on-dead/log`)
    expect(dead.status).to.equal(500)
    expect(dead.json.message).to.equal(
      'Get "https://127.0.0.1:1/containerLogs/default/on-dead/c": dial tcp 127.0.0.1:1: connect: connection refused',
    )
    kubelet.setError('default', 'two', 'a', 400, 'container "a" in pod "two" is terminated')
    const e = await call(em, 'GET', `${P}/two/log?container=a`)
    expect(e.status).to.equal(400)
    expect(e.json.message).to.equal('container "a" in pod "two" is terminated')
  })

  it('serves builds/log from the build pod named by the annotation (container docker)', async () => {
    const r = await call(em, 'GET', '/apis/build.openshift.io/v1/namespaces/default/builds/b1/log')
    expect(r.status).to.equal(200)
    expect(r.text).to.equal('STEP 1/3: FROM x\n')
    expect(kubelet.requests[kubelet.requests.length - 1].path).to.equal('/containerLogs/default/b1-build/docker')
    const nf = await call(em, 'GET', '/apis/build.openshift.io/v1/namespaces/default/builds/zz/log')
    expect(nf.json.message).to.equal('builds.build.openshift.io "zz" not found')
  })

  it('drops a log stream after N bytes when told to', async () => {
    kubelet.setLog('default', 'p1', 'c', 'abcdefghij\n')
    em.faults.dropLogAfter({path: `${P}/p1/log`}, 5)
    const s = await stream(em, `${P}/p1/log?follow=true`)
    await s.end()
    expect(s.text).to.equal('abcde')
    const again = await call(em, 'GET', `${P}/p1/log`)
    expect(again.text).to.equal('abcdefghij\n')
  })

  it('ends open log streams on close()', async () => {
    const k2 = await startFakeKubelet()
    const e2 = await startEmulator({objects: [k2.nodeObject('n'), pod('f', ['c'], {spec: {nodeName: 'n'}})]})
    k2.setLog('default', 'f', 'c', 'x\n')
    const s = await stream(e2, `${P}/f/log?follow=true`)
    await s.waitForText('x\n')
    await e2.close()
    await s.end()
    await k2.close()
  })
})
