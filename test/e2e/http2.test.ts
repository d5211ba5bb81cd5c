import {expect} from 'chai'
import type {Emulator} from '../../emulator/index.js'
import {KubeClient} from '../../src/lib/kube/client.js'
import {R} from '../../src/lib/kube/resources.js'
import {basicCluster, runBin, startEmulator} from './harness.js'

// kube-apiserver offers HTTP/2 in the TLS handshake, and kubectl carries every request on one
// connection; oc-mob does the same, and falls back to HTTP/1.1 where HTTP/2 is not offered or is off.
describe('HTTP/2 to the API server (end to end, the packed CLI)', function () {
  this.timeout(60_000)
  let emu: Emulator
  let answer: Record<string, unknown>
  before(async () => {
    emu = await startEmulator({objects: basicCluster()})
  })
  after(async () => emu?.close())

  const status = async (e: Emulator, env: Record<string, string> = {}, ...extra: string[]) => {
    e.resetRequests()
    const r = await runBin(['status', '-o', 'json', '--kubeconfig', e.kubeconfig, ...extra], env)
    expect(r.exitCode, r.stderr).to.equal(0)
    const json = JSON.parse(r.stdout) as Record<string, unknown>
    // The same answer from every server: only the address differs.
    delete json.server
    return {
      json,
      stderr: r.stderr,
      versions: [...new Set(e.requests.map((q) => q.httpVersion))],
      connections: new Set(e.requests.map((q) => q.connection)).size,
    }
  }

  it('status sends all its requests on one HTTP/2 connection', async () => {
    const r = await status(emu)
    expect(emu.requests.length, 'requests').to.be.above(5)
    expect(r.versions).to.deep.equal(['2.0'])
    expect(r.connections).to.equal(1)
    answer = r.json
  })

  it('DISABLE_HTTP2 (as client-go reads it) turns it off: HTTP/1.1, the same answer', async () => {
    const r = await status(emu, {DISABLE_HTTP2: '1'})
    expect(r.versions).to.deep.equal(['1.1'])
    // requests in flight together need a connection each
    expect(r.connections).to.be.above(1)
    expect(r.json).to.deep.equal(answer)
  })

  it('a server that offers no HTTP/2 (as behind a proxy that speaks only 1.1) gets HTTP/1.1 after the handshake, the same answer; --debug says so', async () => {
    const h1 = await startEmulator({http2: false, objects: basicCluster()})
    try {
      const r = await status(h1, {}, '--debug')
      expect(r.versions).to.deep.equal(['1.1'])
      expect(r.json).to.deep.equal(answer)
      expect(r.stderr).to.match(
        /debug: connected to 127\.0\.0\.1:\d+ \(TLSv1\.3(, opened while oc-mob started)?\): the server offers no HTTP\/2, HTTP\/1\.1 from here on/,
      )
    } finally {
      await h1.close()
    }
  })

  it('a request whose signal fired before it was sent is not sent, over HTTP/2 as over HTTP/1.1', async () => {
    for (const env of [{}, {DISABLE_HTTP2: '1'}]) {
      const saved = process.env.DISABLE_HTTP2
      if ('DISABLE_HTTP2' in env) process.env.DISABLE_HTTP2 = '1'
      try {
        const client = KubeClient.fromFlags({kubeconfig: emu.kubeconfig})
        // one request first, so that the connection is there
        await client.list(R.configMaps, {namespace: 'default'})
        emu.resetRequests()
        // as a watch sends it (informer: its own signal, already fired when the follower is done)
        const error = await client
          .send({method: 'GET', path: '/api/v1/namespaces/default/configmaps', query: {watch: 1}, signal: AbortSignal.abort()}, true)
          .then(
            () => undefined,
            (e: Error) => e,
          )
        expect(error?.message, JSON.stringify(env)).to.equal('interrupted')
        await new Promise((resolve) => setTimeout(resolve, 100))
        expect(emu.requests.map((q) => `${q.method} ${q.path}`)).to.deep.equal([])
      } finally {
        if (saved === undefined) delete process.env.DISABLE_HTTP2
        else process.env.DISABLE_HTTP2 = saved
      }
    }
  })
})
