import {expect} from 'chai'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseClusterArgs, readFixture, startEmulator, type Emulator} from './index.js'
import {call, cm, stream} from './apiserver/testing.js'

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

  it('records every request in order and can reset', async () => {
    em.resetRequests()
    await call(em, 'GET', `${CM}/f1?pretty=true`)
    await call(em, 'PATCH', `${CM}/f1`, {raw: '{}', headers: {'Content-Type': 'application/merge-patch+json'}})
    await call(em, 'GET', '/nope', {token: 'bad'})
    expect(em.requests).to.deep.equal([
      {method: 'GET', path: `${CM}/f1`, query: 'pretty=true', status: 200, user: 'admin', watch: false},
      {method: 'PATCH', path: `${CM}/f1`, query: '', contentType: 'application/merge-patch+json', status: 200, user: 'admin', watch: false},
      {method: 'GET', path: '/nope', query: '', status: 401, watch: false},
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
    const o = parseClusterArgs(['--port', '6443', '--dir=/tmp/x', '--no-image', '--no-build', '--no-machine', '--no-machine-os', '--fixture', 'f.yaml'])
    expect(o).to.deep.equal({port: 6443, dir: '/tmp/x', fixture: 'f.yaml', groups: {image: false, build: false, machine: false, machineOS: false}})
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
