import {expect} from 'chai'
import {startEmulator, type Emulator} from '../index.js'
import {call, cm, MCP, pool, stream} from './testing.js'

const CM = '/api/v1/namespaces/default/configmaps'
const MERGE = {'Content-Type': 'application/merge-patch+json'}

describe('emulator: watch', () => {
  let em: Emulator
  before(async () => {
    em = await startEmulator({watchHistory: 20, bookmarkIntervalMs: 100, objects: [cm('w0'), pool('worker')]})
  })
  after(async () => {
    await em.close()
  })

  it('sends current objects as ADDED for resourceVersion "" and "0", then live events in order', async () => {
    for (const rv of ['', '&resourceVersion=0']) {
      const s = await stream(em, `${CM}?watch=1${rv}`)
      expect(s.status).to.equal(200)
      expect(s.headers['content-type']).to.equal('application/json')
      expect(s.headers['transfer-encoding']).to.equal('chunked')
      await s.waitFor(1)
      expect(s.events[0].type).to.equal('ADDED')
      expect(s.events[0].object.metadata.name).to.equal('w0')
      expect(s.events[0].object.kind).to.equal('ConfigMap')
      s.close()
    }
    const s = await stream(em, `${CM}?watch=true`)
    await s.waitFor(1)
    const created = (await call(em, 'POST', CM, {body: cm('w1')})).json
    await call(em, 'PATCH', `${CM}/w1`, {raw: '{"data":{"a":"2"}}', headers: MERGE})
    await call(em, 'DELETE', `${CM}/w1`)
    const ev = await s.waitFor(4)
    expect(ev.map((e) => e.type)).to.deep.equal(['ADDED', 'ADDED', 'MODIFIED', 'DELETED'])
    expect(ev[1].object.metadata.resourceVersion).to.equal(created.metadata.resourceVersion)
    const rvs = ev.slice(1).map((e) => Number(e.object.metadata.resourceVersion))
    expect(rvs).to.deep.equal([...rvs].sort((a, b) => a - b))
    expect(new Set(rvs).size).to.equal(3)
    s.close()
  })

  it('resumes from a resourceVersion without replaying older events', async () => {
    const a = (await call(em, 'POST', CM, {body: cm('r1')})).json
    await call(em, 'POST', CM, {body: cm('r2')})
    await call(em, 'POST', CM, {body: cm('r3')})
    const s = await stream(em, `${CM}?watch=1&resourceVersion=${a.metadata.resourceVersion}`)
    const ev = await s.waitFor(2)
    expect(ev.map((e) => e.object.metadata.name)).to.deep.equal(['r2', 'r3'])
    await new Promise((r) => setTimeout(r, 50))
    expect(s.events).to.have.length(2)
    s.close()
  })

  it('answers a compacted resourceVersion with one ERROR 410 Expired event and ends the stream', async () => {
    const start = Number(em.resourceVersion())
    for (let i = 0; i < 25; i++) await call(em, 'POST', CM, {body: cm(`hist-${i}`)})
    const s = await stream(em, `${CM}?watch=1&resourceVersion=${start}`)
    await s.end()
    expect(s.status).to.equal(200)
    expect(s.events).to.have.length(1)
    const e = s.events[0]
    expect(e.type).to.equal('ERROR')
    expect(e.object).to.deep.include({kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410})
    expect(e.object.message).to.match(new RegExp(`^too old resource version: ${start} \\(\\d+\\)$`))
    const oldest = Number(/\((\d+)\)/.exec(e.object.message)![1])
    expect(oldest).to.be.greaterThan(start)
    // watching from the list's resourceVersion works again
    const list = (await call(em, 'GET', CM)).json
    const again = await stream(em, `${CM}?watch=1&resourceVersion=${list.metadata.resourceVersion}`)
    await call(em, 'POST', CM, {body: cm('after-410')})
    expect((await again.waitFor(1))[0].object.metadata.name).to.equal('after-410')
    again.close()
  })

  it('after a compaction, a watch from before it gets 410 (not a replay), even of a resource with few events', async () => {
    const before = Number(em.resourceVersion())
    await call(em, 'POST', MCP, {body: pool('compacted-a')})
    const mid = Number(em.resourceVersion())
    // within the window: replayed
    const replay = await stream(em, `${MCP}?watch=1&resourceVersion=${before}`)
    expect((await replay.waitFor(1))[0]).to.deep.include({type: 'ADDED'})
    replay.close()
    em.compact()
    const s = await stream(em, `${MCP}?watch=1&resourceVersion=${before}`)
    await s.end()
    expect(s.events).to.deep.equal([
      {
        type: 'ERROR',
        object: {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: `too old resource version: ${before} (${mid})`,
          reason: 'Expired',
          code: 410,
        },
      },
    ])
    // from the compaction's own resourceVersion on, watches work
    const ok = await stream(em, `${MCP}?watch=1&resourceVersion=${mid}`)
    await call(em, 'POST', MCP, {body: pool('compacted-b')})
    expect((await ok.waitFor(1))[0].object.metadata.name).to.equal('compacted-b')
    ok.close()
  })

  it('compacts on its own every period, keeping the last period, as kube-apiserver compacts etcd', async function () {
    this.timeout(30_000)
    const em2 = await startEmulator({objects: [], compactionIntervalMs: 1000})
    try {
      const start = Number(em2.resourceVersion())
      await call(em2, 'POST', CM, {body: cm('tick')})
      const watchFrom = async (rv: number) => {
        const s = await stream(em2, `${CM}?watch=1&resourceVersion=${rv}`)
        const [e] = await s.waitFor(1, 5000)
        s.close()
        return e.type
      }
      expect(await watchFrom(start)).to.equal('ADDED')
      // a period or two later the revision from before the first period is gone
      const deadline = Date.now() + 15_000
      let seen = 'ADDED'
      while (seen !== 'ERROR' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250))
        seen = await watchFrom(start)
      }
      expect(seen).to.equal('ERROR')
    } finally {
      await em2.close()
    }
  })

  it('filters by label and field selectors, with DELETED/ADDED when an object stops/starts matching', async () => {
    const s = await stream(em, `${CM}?watch=1&labelSelector=${encodeURIComponent('app=x')}`)
    const one = await stream(em, `${CM}?watch=1&fieldSelector=${encodeURIComponent('metadata.name=sel-b')}`)
    await call(em, 'POST', CM, {body: cm('sel-a', 'default', {}, {app: 'x'})})
    await call(em, 'POST', CM, {body: cm('sel-b', 'default', {}, {app: 'y'})})
    await call(em, 'PATCH', `${CM}/sel-b`, {raw: '{"metadata":{"labels":{"app":"x"}}}', headers: MERGE})
    await call(em, 'PATCH', `${CM}/sel-a`, {raw: '{"metadata":{"labels":{"app":"z"}}}', headers: MERGE})
    const ev = await s.waitFor(3)
    expect(ev.map((e) => `${e.type}:${e.object.metadata.name}`)).to.deep.equal(['ADDED:sel-a', 'ADDED:sel-b', 'DELETED:sel-a'])
    const ev1 = await one.waitFor(2)
    expect(ev1.map((e) => `${e.type}:${e.object.metadata.name}`)).to.deep.equal(['ADDED:sel-b', 'MODIFIED:sel-b'])
    s.close()
    one.close()
  })

  it('watches cluster-scoped custom resources, a single object, and the legacy /watch/ paths', async () => {
    const s = await stream(em, `${MCP}?watch=1&fieldSelector=metadata.name%3Dworker`)
    await s.waitFor(1)
    const legacy = await stream(em, '/apis/machineconfiguration.openshift.io/v1/watch/machineconfigpools/worker')
    await legacy.waitFor(1)
    const legacyNs = await stream(em, '/api/v1/watch/namespaces/default/configmaps?resourceVersion=0')
    await legacyNs.waitFor(1)
    await call(em, 'PATCH', `${MCP}/worker`, {raw: '{"spec":{"paused":true}}', headers: MERGE})
    const ev = await s.waitFor(2)
    expect(ev[1].type).to.equal('MODIFIED')
    expect(ev[1].object.spec.paused).to.equal(true)
    expect((await legacy.waitFor(2))[1].type).to.equal('MODIFIED')
    for (const x of [s, legacy, legacyNs]) x.close()
    expect(em.requests.some((r) => r.path.includes('/watch/') && r.watch)).to.equal(true)
  })

  it('sends BOOKMARK events with the current resourceVersion when allowed, and closes after timeoutSeconds', async () => {
    const s = await stream(em, `${CM}?watch=1&allowWatchBookmarks=true&timeoutSeconds=1&resourceVersion=${em.resourceVersion()}`)
    await s.end(3000)
    const marks = s.events.filter((e) => e.type === 'BOOKMARK')
    expect(marks.length).to.be.greaterThan(1)
    expect(marks[0].object.kind).to.equal('ConfigMap')
    expect(marks[0].object.apiVersion).to.equal('v1')
    expect(marks[marks.length - 1].object.metadata.resourceVersion).to.equal(em.resourceVersion())
    const plain = await stream(em, `${CM}?watch=1&timeoutSeconds=1&resourceVersion=${em.resourceVersion()}`)
    await plain.end(3000)
    expect(plain.events).to.deep.equal([])
  })

  it('streams Table events for kubectl get --watch', async () => {
    const s = await stream(em, `${MCP}?watch=1&fieldSelector=metadata.name%3Dworker`, {
      headers: {Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json'},
    })
    const ev = await s.waitFor(1)
    expect(ev[0].object.kind).to.equal('Table')
    expect(ev[0].object.columnDefinitions[0].name).to.equal('Name')
    expect(ev[0].object.rows[0].cells[0]).to.equal('worker')
    await call(em, 'PATCH', `${MCP}/worker`, {raw: '{"metadata":{"labels":{"t":"1"}}}', headers: MERGE})
    const ev2 = await s.waitFor(2)
    expect(ev2[1].object.rows[0].object.metadata.labels).to.deep.equal({t: '1'})
    s.close()
  })

  it('fans out to many watchers, and close() ends every stream', async () => {
    const other = await startEmulator()
    const streams = await Promise.all(Array.from({length: 50}, () => stream(other, '/api/v1/namespaces/default/configmaps?watch=1')))
    await call(other, 'POST', '/api/v1/namespaces/default/configmaps', {body: cm('fan')})
    await Promise.all(streams.map((s) => s.waitFor(1)))
    await other.close()
    await Promise.all(streams.map((s) => s.end()))
  })
})
