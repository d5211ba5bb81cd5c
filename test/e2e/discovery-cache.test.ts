import {expect} from 'chai'
import fs from 'node:fs'
import path from 'node:path'
import {KubeClient} from '../../src/lib/kube/client.js'
import {DISCOVERY_TTL_MS, discover, discoveryCacheDir, discoveryVerified} from '../../src/lib/kube/discovery.js'
import {loadKubeconfig} from '../../src/lib/kube/kubeconfig.js'
import {R} from '../../src/lib/kube/resources.js'
import type {Emulator} from '../../emulator/index.js'
import {startEmulator} from './harness.js'

// Discovery cached on disk between runs (test/setup.ts gives each test an empty OC_MOB_CACHE_DIR).
describe('discovery cache', function () {
  this.timeout(30_000)
  let emu: Emulator
  before(async () => {
    emu = await startEmulator({groups: {machineOS: true}})
  })
  after(async () => emu?.close())

  const client = (): KubeClient => new KubeClient(loadKubeconfig({kubeconfig: emu.kubeconfig}))
  const file = (): string => path.join(discoveryCacheDir(client().server), 'oc-mob-discovery.json')
  const paths = (): string[] => emu.requests.map((r) => r.path)

  it('names the folder as kubectl does: host and port, other characters as _', () => {
    expect(discoveryCacheDir('https://api.example.com:6443', {OC_MOB_CACHE_DIR: '/c'})).to.equal('/c/discovery/api.example.com_6443')
    expect(discoveryCacheDir('https://[::1]:6443/prefix', {OC_MOB_CACHE_DIR: '/c'})).to.equal('/c/discovery/___1__6443')
  })

  it('asks the server once, all at once, then answers from the file with only /version alongside', async () => {
    emu.resetRequests()
    // Answers held back 300 ms: all three requests were sent before the first answer came (one round trip).
    emu.faults.latency({path: /./}, 300)
    const first = await discover(client()).finally(() => emu.faults.clear())
    expect(first.machineConfig).to.equal(true)
    expect(first.machineOS).to.equal(true)
    expect(paths().sort()).to.deep.equal(['/apis', '/apis/machineconfiguration.openshift.io/v1', '/version'])
    expect(Math.max(...emu.requests.map((r) => r.at))).to.be.below(Math.min(...emu.requests.map((r) => r.answeredAt!)))
    const saved = JSON.parse(fs.readFileSync(file(), 'utf8')) as {serverVersion: string; groupVersions: string[]}
    expect(saved.serverVersion).to.equal('v1.27.16+openshift')
    expect(saved.groupVersions).to.include('machineconfiguration.openshift.io/v1')

    emu.resetRequests()
    const c = client()
    const again = await discover(c)
    expect(again.machineOS).to.equal(true)
    expect(await discoveryVerified(c)).to.equal(true)
    expect(paths()).to.deep.equal(['/version'])
  })

  it('asks again when the server version changed, and forgets the file', async () => {
    await discover(client())
    const saved = JSON.parse(fs.readFileSync(file(), 'utf8')) as Record<string, unknown>
    // What an older server served: no MachineOSConfig.
    fs.writeFileSync(file(), JSON.stringify({...saved, machineOS: false, serverVersion: 'v1.26.0'}))
    emu.resetRequests()
    const c = client()
    expect((await discover(c)).machineOS).to.equal(false)
    expect(await discoveryVerified(c)).to.equal(false)
    expect(fs.existsSync(file())).to.equal(false)
    expect((await discover(c)).machineOS).to.equal(true)
    expect(paths()).to.include('/apis')
  })

  it('tells whether OSImageStream is served, and asks again when a cached answer predates the question', async () => {
    const found = await discover(client())
    expect(found.osImageStream).to.equal(false)
    const saved = JSON.parse(fs.readFileSync(file(), 'utf8')) as Record<string, unknown>
    expect(saved.osImageStream).to.equal(false)
    const {osImageStream: _, ...older} = saved
    fs.writeFileSync(file(), JSON.stringify(older))
    emu.resetRequests()
    await discover(client())
    expect(paths()).to.include('/apis/machineconfiguration.openshift.io/v1')

    const served = await startEmulator({groups: {machineOS: true, osImageStream: true}})
    try {
      const c = new KubeClient(loadKubeconfig({kubeconfig: served.kubeconfig}))
      expect(await discover(c)).to.deep.include({machineOS: true, osImageStream: true})
    } finally {
      await served.close()
    }
  })

  it('asks again after six hours, and when a resource type is no longer served', async () => {
    await discover(client())
    const saved = JSON.parse(fs.readFileSync(file(), 'utf8')) as Record<string, unknown>
    fs.writeFileSync(file(), JSON.stringify({...saved, fetchedAt: Date.now() - DISCOVERY_TTL_MS - 1000}))
    emu.resetRequests()
    await discover(client())
    expect(paths()).to.include('/apis')

    const c = client()
    await discover(c)
    expect(fs.existsSync(file())).to.equal(true)
    // A missing object is no reason; a missing resource type is.
    expect(await c.find(R.configMaps, 'nope', 'default')).to.equal(undefined)
    expect(fs.existsSync(file())).to.equal(true)
    await c.request({method: 'GET', path: '/apis/example.com/v1/widgets'}).catch(() => undefined)
    expect(fs.existsSync(file())).to.equal(false)
  })

  it('keeps working when the cache cannot be written', async () => {
    const dir = process.env.OC_MOB_CACHE_DIR!
    fs.mkdirSync(path.dirname(dir), {recursive: true})
    fs.writeFileSync(dir, 'not a directory')
    emu.resetRequests()
    expect((await discover(client())).machineConfig).to.equal(true)
    expect(paths()).to.include('/apis')
  })
})
