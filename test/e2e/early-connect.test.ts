import {expect} from 'chai'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {parse, stringify} from 'yaml'
import type {Emulator} from '../../emulator/index.js'
import {basicCluster, runBin, startEmulator} from './harness.js'

// The packed CLI opens its connection to the API server while it loads (bin/run.cjs,
// src/boot/early-connect.ts); the client uses it only if it is the connection it would open.
describe('the connection opened while the CLI loads (end to end, the packed CLI)', function () {
  this.timeout(90_000)
  let emu: Emulator
  let tmp: string
  const OFF = {OC_MOB_NO_EARLY_CONNECT: '1'}

  before(async () => {
    emu = await startEmulator({objects: basicCluster()})
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-mob-early-e2e-'))
  })
  afterEach(() => emu.faults.clear())
  after(async () => {
    await emu?.close()
    fs.rmSync(tmp, {force: true, recursive: true})
  })

  const status = async (kubeconfig: string, env: Record<string, string> = {}) => {
    emu.resetRequests()
    const r = await runBin(['status', '-o', 'json', '--debug', '--kubeconfig', kubeconfig], env)
    expect(r.exitCode, r.stderr).to.equal(0)
    return {
      connections: new Set(emu.requests.map((q) => q.connection)).size,
      early: r.stderr.includes('opened while oc-mob started'),
      json: JSON.parse(r.stdout) as unknown,
      users: [...new Set(emu.requests.map((q) => q.user))],
    }
  }

  it('status uses it: every request on that one connection, the same answer as without it', async () => {
    const on = await status(emu.kubeconfig)
    expect(on.early, 'the debug line names the early connection').to.equal(true)
    expect(on.connections).to.equal(1)
    const off = await status(emu.kubeconfig, OFF)
    expect(off.early).to.equal(false)
    expect(off.connections).to.equal(1)
    expect(on.json).to.deep.equal(off.json)
  })

  it('with a client certificate, and with verification turned off by the kubeconfig', async () => {
    const cert = await status(emu.kubeconfigFor('cert'))
    expect(cert.early).to.equal(true)
    expect(cert.users).to.deep.equal(['admin'])
    expect((await status(emu.kubeconfigFor('insecure'))).early).to.equal(true)
  })

  it('not for a user with an exec plugin (it may hand over a client certificate): the client connects itself', async () => {
    const kc = parse(fs.readFileSync(emu.kubeconfig, 'utf8'))
    const token = kc.users[0].user.token as string
    const plugin = path.join(tmp, 'credential-plugin')
    const credential = {apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: {token}}
    fs.writeFileSync(plugin, `#!/bin/sh\necho '${JSON.stringify(credential)}'\n`, {mode: 0o755})
    kc.users[0].user = {exec: {apiVersion: 'client.authentication.k8s.io/v1', command: plugin, interactiveMode: 'Never'}}
    const file = path.join(tmp, 'exec-kubeconfig')
    fs.writeFileSync(file, stringify(kc))
    const r = await status(file)
    expect(r.early).to.equal(false)
    expect(r.users).to.deep.equal(['admin'])
  })

  it('a server that takes the connection but never answers its handshake: the same error and exit code as without it', async () => {
    emu.faults.pause({forMs: 30_000})
    const args = ['status', '--kubeconfig', emu.kubeconfig, '--request-timeout', '1s']
    const on = await runBin(args)
    const off = await runBin(args, OFF)
    expect(on.exitCode, on.stderr).to.equal(4)
    expect(off.exitCode, off.stderr).to.equal(4)
    expect(on.stderr).to.equal(off.stderr)
    expect(on.stderr).to.include(`the API server at ${emu.url} accepted the connection but did not complete the TLS handshake`)
  })

  it('a command that fails before it needs the cluster ends at once while the server hangs', async () => {
    emu.faults.pause({forMs: 30_000})
    const r = await runBin(['status', '--history', '--kubeconfig', emu.kubeconfig], {}, 10_000)
    expect(r.exitCode, r.stderr).to.equal(2)
    expect(r.stderr).to.include('--history needs a pool')
  })

  it('a server no longer there: the same error as without it (connection refused, exit 4)', async () => {
    const kc = parse(fs.readFileSync(emu.kubeconfig, 'utf8'))
    const down = await startEmulator({objects: basicCluster()})
    const url = down.url
    await down.close()
    kc.clusters[0].cluster.server = url
    const file = path.join(tmp, 'down-kubeconfig')
    fs.writeFileSync(file, stringify(kc))
    const on = await runBin(['status', '--kubeconfig', file])
    const off = await runBin(['status', '--kubeconfig', file], OFF)
    expect(on.exitCode).to.equal(4)
    expect(on.stderr).to.equal(off.stderr)
    expect(on.stderr).to.include(`cannot reach the cluster at ${url}: connection refused`)
  })
})
