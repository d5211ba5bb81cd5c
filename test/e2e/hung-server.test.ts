import {expect} from 'chai'
import fs from 'node:fs'
import {ExitCode, MobError} from '../../src/lib/errors.js'
import {KubeClient} from '../../src/lib/kube/client.js'
import {loadKubeconfig} from '../../src/lib/kube/kubeconfig.js'
import {R} from '../../src/lib/kube/resources.js'
import type {ConfigMap} from '../../src/lib/kube/types.js'
import {informer} from '../../src/lib/kube/watch.js'
import {watchStatus} from '../../src/lib/status/index.js'
import {cm} from '../../emulator/apiserver/testing.js'
import {defaultFixturePath, type Emulator} from '../../emulator/index.js'
import {cliPath, runBin, startEmulator} from './harness.js'
import {Terminal} from './terminal.js'

const CM = '/api/v1/namespaces/default/configmaps'
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

async function until(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(25)
  }
}

async function failure(p: Promise<unknown>): Promise<MobError> {
  try {
    await p
  } catch (error) {
    expect(error).to.be.instanceOf(MobError)
    return error as MobError
  }

  throw new Error('expected a failure')
}

describe('a hung API server: request timeouts, watch heartbeats, Ctrl-C (end to end)', function () {
  this.timeout(120_000)
  let emu: Emulator

  afterEach(() => emu?.faults.clear())
  after(async () => emu?.close())

  describe('the client', () => {
    before(async () => {
      // Bookmarks every 200 ms: a healthy but quiet watch says something well within a 1.5 s heartbeat.
      emu = await startEmulator({bookmarkIntervalMs: 200, objects: [cm('f1')]})
    })

    const client = (opts: ConstructorParameters<typeof KubeClient>[1] = {}): KubeClient =>
      new KubeClient(loadKubeconfig({kubeconfig: emu.kubeconfig}), opts)

    it('gives up on a server that accepts the connection but never completes the TLS handshake (exit 4, not retried)', async () => {
      emu.faults.pause({forMs: 20_000})
      const started = Date.now()
      const error = await failure(client({connectTimeoutMs: 600, requestTimeoutMs: 10_000}).list(R.configMaps, {namespace: 'default'}))
      const took = Date.now() - started
      expect(error.exitCode).to.equal(ExitCode.Unreachable)
      expect(error.code).to.equal('RequestTimeout')
      expect(error.message).to.equal(
        `the API server at ${emu.url} accepted the connection but did not complete the TLS handshake within 600ms`,
      )
      expect(error.next).to.equal('check that the API server of context "emulator" is up and reachable from here (VPN, proxy, firewall)')
      // One attempt: a GET is retried on resets and 5xx, but a timeout has already spent the time.
      expect(took).to.be.within(550, 2500)
    })

    it('gives up on a server that completes the handshake but never answers, after --request-timeout (exit 4, not retried)', async () => {
      emu.faults.pause({forMs: 20_000, handshake: true})
      emu.resetRequests()
      const started = Date.now()
      const error = await failure(client({requestTimeoutMs: 800}).list(R.configMaps, {namespace: 'default'}))
      const took = Date.now() - started
      expect(error.exitCode).to.equal(ExitCode.Unreachable)
      expect(error.message).to.equal(`the API server at ${emu.url} did not answer GET ${CM} within 800ms`)
      expect(error.next).to.equal(
        'check that the API server of context "emulator" is up and reachable from here (VPN, proxy, firewall), or give it more time with --request-timeout (now 800ms; 0 waits without limit)',
      )
      expect(took).to.be.within(750, 2700)
      expect(emu.requests.filter((r) => r.path === CM)).to.have.length(1)
    })

    it('waits without limit with a request timeout of 0', async () => {
      emu.faults.pause({forMs: 1200, handshake: true})
      const started = Date.now()
      const list = await client({requestTimeoutMs: 0}).list<ConfigMap>(R.configMaps, {namespace: 'default'})
      expect(list.items.map((c) => c.metadata.name)).to.include('f1')
      expect(Date.now() - started).to.be.at.least(1100)
    })

    it('cancels a request in flight at once when the command is interrupted (Ctrl-C)', async () => {
      emu.faults.pause({forMs: 20_000, handshake: true})
      const ac = new AbortController()
      const c = client({requestTimeoutMs: 0, signal: ac.signal})
      const pending = failure(c.get(R.configMaps, 'f1', 'default'))
      await sleep(500)
      const at = Date.now()
      ac.abort(new MobError('interrupted', {exitCode: ExitCode.Interrupted}))
      const error = await pending
      expect(Date.now() - at).to.be.below(500)
      expect(error.exitCode).to.equal(ExitCode.Interrupted)
      // and every later request of that command ends the same way, without reaching the server
      expect((await failure(c.get(R.configMaps, 'f1', 'default'))).exitCode).to.equal(ExitCode.Interrupted)
    })

    it('keeps a quiet watch that gets bookmarks', async () => {
      const ac = new AbortController()
      const reconnects: string[] = []
      let synced = false
      const pump = (async () => {
        for await (const ev of informer<ConfigMap>(client(), R.configMaps, {
          heartbeatMs: 1500,
          namespace: 'default',
          onReconnect: (why) => reconnects.push(why),
          signal: ac.signal,
        })) {
          if (ev.type === 'SYNCED') synced = true
        }
      })()
      await until('the list', () => synced)
      await sleep(3000) // twice the heartbeat without an event
      ac.abort()
      await pump
      expect(reconnects).to.deep.equal([])
    })

    it('resumes a silent watch from its last resourceVersion', async () => {
      emu.faults.silenceWatchAfter({path: CM}, 1, {forMs: 20_000})
      emu.resetRequests()
      const ac = new AbortController()
      const reconnects: string[] = []
      const seen: string[] = []
      const pump = (async () => {
        for await (const ev of informer<ConfigMap>(client(), R.configMaps, {
          heartbeatMs: 1500,
          namespace: 'default',
          onReconnect: (why, rv) => reconnects.push(`${why} @${rv}`),
          signal: ac.signal,
        })) {
          if (ev.type === 'ADDED') seen.push(ev.object.metadata.name!)
        }
      })()
      await until('the list', () => seen.includes('f1'))
      const one = await emu.request('POST', CM, cm('one'))
      await until('one', () => seen.includes('one'))
      // the watch has gone silent: 'two' comes only once the heartbeat has run out and the watch resumed
      const started = Date.now()
      await emu.request('POST', CM, cm('two'))
      await until('two', () => seen.includes('two'))
      expect(Date.now() - started).to.be.at.least(1000)
      ac.abort()
      await pump
      expect(seen).to.deep.equal(['f1', 'one', 'two'])
      const rvOfOne = one.body.metadata.resourceVersion as string
      expect(reconnects).to.deep.equal([`no event or bookmark within 2s; resuming the watch @${rvOfOne}`])
      const watches = emu.requests.filter((r) => r.watch && r.path === CM)
      expect(watches).to.have.length(2)
      expect(watches[1].query).to.include(`resourceVersion=${rvOfOne}`).and.include('allowWatchBookmarks=true')
    })

    it('ends a watch whose server stays hung after a bounded number of resumes (exit 4)', async () => {
      const reconnects: string[] = []
      const seen: string[] = []
      const run = (async () => {
        for await (const ev of informer<ConfigMap>(client({requestTimeoutMs: 700}), R.configMaps, {
          heartbeatMs: 1000,
          namespace: 'default',
          onReconnect: (why) => reconnects.push(why),
        })) {
          if (ev.type === 'SYNCED') seen.push('synced')
        }
      })()
      await until('the list', () => seen.length > 0)
      emu.faults.pause({forMs: 30_000, handshake: true})
      const started = Date.now()
      const error = await failure(run)
      expect(Date.now() - started).to.be.below(12_000)
      expect(error.exitCode).to.equal(ExitCode.Unreachable)
      expect(error.message).to.match(
        /^the API server at https:\/\/127\.0\.0\.1:\d+ did not answer GET \/api\/v1\/namespaces\/default\/configmaps within 700ms$/,
      )
      expect(reconnects[0]).to.equal('no event or bookmark within 1s; resuming the watch')
      expect(reconnects).to.have.length(2)
    })
  })

  describe('oc mob status', () => {
    before(async () => {
      await emu?.close()
      emu = await startEmulator({fixture: defaultFixturePath(), groups: {machineOS: true}})
      cliPath() // packs the CLI now, outside the timed runs
    })

    it('--watch with every API served and a pool (11 watches) gives no MaxListenersExceededWarning', async () => {
      const warnings: string[] = []
      const onWarning = (w: Error): void => {
        warnings.push(`${w.name}: ${w.message}`)
      }

      process.on('warning', onWarning)
      const ac = new AbortController()
      let updates = 0
      try {
        const client = new KubeClient(loadKubeconfig({kubeconfig: emu.kubeconfig}))
        const watching = watchStatus(client, {pool: 'worker', signal: ac.signal}, () => updates++)
        await until('the first status', () => updates > 0)
        // watches resumed (every list and watch request again) and a change seen
        emu.faults.cutWatchAfter({path: /./}, 0, 20)
        await emu.request('POST', CM, cm('poke'))
        await sleep(1500)
        ac.abort()
        await watching
      } finally {
        process.removeListener('warning', onWarning)
      }

      expect(warnings.filter((w) => w.includes('MaxListenersExceeded'))).to.deep.equal([])
    })

    it('against a server that never completes the TLS handshake: exit 4 within --request-timeout, naming the server and the next step', async () => {
      emu.faults.pause({forMs: 60_000})
      const started = Date.now()
      const r = await runBin(['status', '--kubeconfig', emu.kubeconfig, '--request-timeout', '2s'])
      const took = Date.now() - started
      expect(r.exitCode, r.stderr).to.equal(4)
      expect(r.stderr).to.include(
        `error: the API server at ${emu.url} accepted the connection but did not complete the TLS handshake within 2s`,
      )
      expect(r.stderr).to.include(
        'next: check that the API server of context "emulator" is up and reachable from here (VPN, proxy, firewall), or give it more time with --request-timeout (now 2s; 0 waits without limit)',
      )
      // start-up plus one 2 s wait, never the default 30 s (nor retries of it)
      expect(took).to.be.below(15_000)
    })

    it('against a server that completes the handshake and never answers: exit 4 with what was asked', async () => {
      emu.faults.pause({forMs: 60_000, handshake: true})
      const r = await runBin(['status', '--kubeconfig', emu.kubeconfig, '--request-timeout', '2s'])
      expect(r.exitCode, r.stderr).to.equal(4)
      expect(r.stderr).to.match(new RegExp(`error: the API server at ${emu.url.replaceAll('.', '\\.')} did not answer GET /\\S+ within 2s`))
      expect(r.stderr).not.to.match(/at .*\.(js|ts):\d+/) // no stack trace
    })

    it('refuses a --request-timeout that is not a duration (exit 2)', async () => {
      const r = await runBin(['status', '--kubeconfig', emu.kubeconfig, '--request-timeout', 'soon'])
      expect(r.exitCode).to.equal(2)
      expect(r.stderr).to.include('"soon" is not a duration')
    })

    it('Ctrl-C on a terminal while a request hangs ends it at once (exit 130)', async function () {
      if (!fs.existsSync('/usr/bin/script')) this.skip()
      emu.faults.pause({forMs: 60_000, handshake: true})
      emu.resetRequests()
      const t = new Terminal(['status', '--kubeconfig', emu.kubeconfig])
      try {
        // the first request has reached the server, which holds it
        await until('a request held by the server', () => emu.requests.length > 0, 30_000)
        await sleep(300)
        const at = Date.now()
        t.press('\u0003')
        const code = await Promise.race([t.exited, sleep(10_000).then(() => -1)])
        expect(code, t.text).to.equal(130)
        expect(Date.now() - at).to.be.below(3000)
        expect(t.text).to.include('error: interrupted')
      } finally {
        t.kill()
      }
    })
  })
})
