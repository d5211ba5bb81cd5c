import {expect} from 'chai'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {connect} from 'node:tls'
import {FaultTable} from './faults.js'
import {parseClusterArgs, readFixture, startEmulator, type Emulator} from '../index.js'
import {call, cm, stream} from './testing.js'

const CM = '/api/v1/namespaces/default/configmaps'

describe('emulator: faults, request records, lifecycle', () => {
  let em: Emulator
  before(async () => {
    em = await startEmulator({objects: [cm('f1')]})
  })
  afterEach(() => {
    em.faults.clear()
  })
  after(async () => {
    await em.close()
  })

  it('fails the next N matching requests with a Status of that code, then recovers', async () => {
    em.faults.failNext({method: 'GET', path: `${CM}/f1`}, 2, 503)
    const a = await call(em, 'GET', `${CM}/f1`)
    expect(a.status).to.equal(503)
    expect(a.json).to.deep.include({kind: 'Status', status: 'Failure', reason: 'ServiceUnavailable', code: 503})
    expect(a.headers['retry-after']).to.equal('1')
    expect((await call(em, 'PUT', `${CM}/f1`, {body: (await call(em, 'GET', '/api/v1/namespaces/default')).json})).status).to.not.equal(503)
    expect((await call(em, 'GET', `${CM}/f1`)).status).to.equal(503)
    expect((await call(em, 'GET', `${CM}/f1`)).status).to.equal(200)
    em.faults.failNext({path: /configmaps$/}, 1, 500, 'etcd is sad')
    const b = await call(em, 'GET', CM)
    expect(b.status).to.equal(500)
    expect(b.json.message).to.equal('etcd is sad')
    expect(b.json.reason).to.equal('InternalError')
    em.faults.failNext({path: CM}, 1, 429)
    const c = await call(em, 'GET', CM)
    expect(c.json.reason).to.equal('TooManyRequests')
    expect(c.json.details).to.deep.equal({retryAfterSeconds: 1})
  })

  it('adds latency to matching requests', async () => {
    em.faults.latency({path: `${CM}/f1`}, 150)
    const t = Date.now()
    await call(em, 'GET', `${CM}/f1`)
    expect(Date.now() - t).to.be.at.least(140)
    em.faults.clear()
    const t2 = Date.now()
    await call(em, 'GET', `${CM}/f1`)
    expect(Date.now() - t2).to.be.below(140)
  })

  it('cuts the next watch stream after N events', async () => {
    em.faults.cutWatchAfter({path: CM}, 2)
    const s = await stream(em, `${CM}?watch=1`)
    await call(em, 'POST', CM, {body: cm('cut1')})
    await call(em, 'POST', CM, {body: cm('cut2')})
    await s.end()
    expect(s.events.map((e) => e.object.metadata.name)).to.deep.equal(['f1', 'cut1'])
    const next = await stream(em, `${CM}?watch=1`)
    await next.waitFor(3)
    expect(next.ended).to.equal(false)
    next.close()
  })

  /** a raw TLS connection to the emulator: whether the handshake completed within `ms`, and when it closed */
  const handshake = (ms: number) =>
    new Promise<{secure: boolean; closed: Promise<void>}>((resolve) => {
      const sock = connect({ca: em.caPem, host: '127.0.0.1', port: em.port})
      const closed = new Promise<void>((done) => sock.once('close', () => done()))
      sock.on('error', () => {})
      const t = setTimeout(() => resolve({closed, secure: false}), ms)
      sock.once('secureConnect', () => {
        clearTimeout(t)
        resolve({closed, secure: true})
        sock.end()
      })
    })

  it('plays a network a round trip away: a new connection completes its TLS handshake two round trips late; requests on it are not delayed', async () => {
    em.faults.connectLatency(150)
    try {
      expect((await handshake(250)).secure, 'before two round trips').to.equal(false)
      const t = Date.now()
      expect((await handshake(2000)).secure).to.equal(true)
      expect(Date.now() - t).to.be.at.least(290)
    } finally {
      em.faults.clear()
    }

    const t = Date.now()
    expect((await handshake(2000)).secure).to.equal(true)
    expect(Date.now() - t, 'cleared').to.be.below(250)
  })

  it('plays a hung server: connections get no TLS handshake until the pause ends, then are dropped', async () => {
    em.faults.pause()
    const held = await handshake(400)
    expect(held.secure).to.equal(false)
    // a request on a connection opened before the pause gets no answer either
    const answer = call(em, 'GET', `${CM}/f1`).catch((error: Error) => error)
    let answered = false
    void answer.then(() => (answered = true))
    await new Promise((r) => setTimeout(r, 300))
    expect(answered).to.equal(false)
    em.faults.resume()
    await held.closed // dropped, not served late
    await answer
    expect((await handshake(2000)).secure).to.equal(true)
    expect((await call(em, 'GET', `${CM}/f1`)).status).to.equal(200)
  })

  it('plays a hung server after the handshake: requests get no answer until the pause ends, open watches send nothing', async () => {
    const watch = await stream(em, `${CM}?watch=1&allowWatchBookmarks=true`)
    await watch.waitFor(1)
    em.faults.pause({handshake: true})
    expect((await handshake(2000)).secure).to.equal(true)
    const started = Date.now()
    const answer = call(em, 'GET', `${CM}/f1`)
    const created = em.request('POST', CM, cm('during-pause')).catch(() => undefined)
    const before = watch.events.length
    await new Promise((r) => setTimeout(r, 1500)) // bookmarks come every second when not paused
    expect(watch.events.length).to.equal(before)
    em.faults.resume()
    expect((await answer).status).to.equal(200)
    expect(Date.now() - started).to.be.at.least(1400)
    await created
    await watch.waitFor(before + 1, 5000)
    const added = watch.events.find((e) => e.type === 'ADDED' && e.object.metadata.name === 'during-pause')
    expect(added, 'an event held during the pause arrives after it').to.not.equal(undefined)
    watch.close()
  })

  it('ends a pause by itself', async () => {
    await call(em, 'GET', `${CM}/f1`) // a connection open before the pause
    em.faults.pause({forMs: 300})
    const started = Date.now()
    expect((await call(em, 'GET', `${CM}/f1`)).status).to.equal(200)
    expect(Date.now() - started).to.be.within(250, 5000)
    expect(em.faults.pauseState()).to.equal(undefined)
  })

  it('plays a hung server only on loopback', () => {
    const f = new FaultTable()
    expect(() => f.pause()).to.throw(/only on loopback/)
    f.listenAddress = '10.1.2.3'
    expect(() => f.pause()).to.throw(/only on loopback; this emulator listens on 10.1.2.3/)
    f.listenAddress = '127.0.0.1'
    f.pause({forMs: 10})
    expect(f.pauseState()).to.not.equal(undefined)
    f.resume()
    expect(f.pauseState()).to.equal(undefined)
  })

  it('silences the next watch stream after N events: no events, no bookmarks, then it ends by itself', async () => {
    em.faults.silenceWatchAfter({path: CM}, 1, {forMs: 1500})
    const s = await stream(em, `${CM}?watch=1&allowWatchBookmarks=true`)
    await s.waitFor(1)
    await call(em, 'POST', CM, {body: cm('unheard')})
    const t = Date.now()
    await s.end(5000)
    expect(Date.now() - t).to.be.at.least(1000)
    expect(s.events.map((e) => e.type)).to.deep.equal(['ADDED'])
    const next = await stream(em, `${CM}?watch=1&allowWatchBookmarks=true`)
    await next.waitFor(3)
    expect(next.events.map((e) => e.object.metadata.name)).to.include('unheard')
    next.close()
  })

  it('records every request in order and can reset', async () => {
    em.resetRequests()
    await call(em, 'GET', `${CM}/f1?pretty=true`)
    await call(em, 'PATCH', `${CM}/f1`, {raw: '{}', headers: {'Content-Type': 'application/merge-patch+json'}})
    await call(em, 'GET', '/nope', {token: 'bad'})
    // Each is stamped with when it came and when its answer went out, on one clock, in order.
    for (const [i, r] of em.requests.entries()) {
      expect(r.answeredAt).to.be.at.least(r.at)
      if (i > 0) expect(r.at).to.be.at.least(em.requests[i - 1].answeredAt!)
    }
    // and with the TLS connection it came on (numbered from 1), and the protocol (this client speaks HTTP/1.1)
    expect(em.requests.every((r) => r.connection >= 1)).to.equal(true)
    expect(em.requests.map(({answeredAt: _a, at: _t, connection: _c, ...r}) => r)).to.deep.equal([
      {method: 'GET', path: `${CM}/f1`, query: 'pretty=true', status: 200, user: 'admin', watch: false, httpVersion: '1.1'},
      {
        method: 'PATCH',
        path: `${CM}/f1`,
        query: '',
        contentType: 'application/merge-patch+json',
        status: 200,
        user: 'admin',
        watch: false,
        httpVersion: '1.1',
      },
      {method: 'GET', path: '/nope', query: '', status: 401, watch: false, httpVersion: '1.1'},
    ])
    em.resetRequests()
    expect(em.requests).to.have.length(0)
  })

  it('offers request() for admin calls and reports the resourceVersion', async () => {
    const r = await em.request('POST', CM, cm('via-request'))
    expect(r.status).to.equal(201)
    expect(r.headers['content-type']).to.equal('application/json')
    expect(r.body.metadata.resourceVersion).to.equal(em.resourceVersion())
    const g = await em.request('GET', `${CM}/via-request`)
    expect(g.body.metadata.name).to.equal('via-request')
  })

  it('loads fixtures, writes into a given dir, and removes only its own temp dir', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emu-test-'))
    try {
      const own = await startEmulator({dir})
      expect(own.kubeconfig).to.equal(join(dir, 'kubeconfig'))
      expect(existsSync(join(dir, 'ca.crt'))).to.equal(true)
      await own.close()
      expect(existsSync(dir)).to.equal(true)
      const temp = await startEmulator()
      const tdir = temp.dir
      expect(existsSync(tdir)).to.equal(true)
      await temp.close()
      expect(existsSync(tdir)).to.equal(false)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
    await startEmulator({objects: [{apiVersion: 'v1', kind: 'Frobnicator', metadata: {name: 'x'}}]}).then(
      () => expect.fail('should reject an unknown kind'),
      (error: Error) => expect(error.message).to.contain('kind Frobnicator of v1 is not served'),
    )
  })

  it('parses the cluster CLI arguments', () => {
    const o = parseClusterArgs([
      '--port',
      '6443',
      '--dir=/tmp/x',
      '--no-image',
      '--no-build',
      '--no-machine',
      '--no-machine-os',
      '--fixture',
      'f.yaml',
    ])
    expect(o).to.deep.equal({
      port: 6443,
      dir: '/tmp/x',
      fixture: 'f.yaml',
      groups: {image: false, build: false, machine: false, machineOS: false},
    })
    expect(parseClusterArgs(['--no-fixture']).fixture).to.equal(undefined)
    expect(() => parseClusterArgs(['--bogus'])).to.throw(/unknown argument --bogus/)
    expect(() => parseClusterArgs(['--port'])).to.throw(/needs a value/)
  })

  it('loads the default fixture when present', async function () {
    const o = parseClusterArgs([])
    if (!o.fixture) this.skip() // the default fixture is written separately; nothing to load without it
    expect(readFixture(o.fixture!).length).to.be.greaterThan(0)
    const e = await startEmulator(o)
    try {
      const pools = await e.request('GET', '/apis/machineconfiguration.openshift.io/v1/machineconfigpools')
      expect(pools.body.items.length).to.be.greaterThan(0)
    } finally {
      await e.close()
    }
  })
})
