import {expect} from 'chai'
import {readFileSync} from 'node:fs'
import {R} from './client.js'
import {FIXTURE_PATH, fixtureYaml} from './fixture-gen.js'
import {mergeIgnition, renderPool, specHash} from './render.js'
import {loadFixture, type Cluster} from './index.js'
import {fastCluster, getPool, waitFor} from './helpers.js'
import {GENERATED_BY_ANNOTATION} from './names.js'

const mc = (name: string, role: string, files: Array<[string, string]>, extra = {}) => ({
  metadata: {name, labels: {'machineconfiguration.openshift.io/role': role}},
  spec: {
    config: {ignition: {version: '3.4.0'}, storage: {files: files.map(([path, c]) => ({path, contents: {source: `data:,${c}`}}))}},
    ...extra,
  },
})
const pool = (name: string) => ({
  metadata: {name},
  spec: {machineConfigSelector: {matchLabels: {'machineconfiguration.openshift.io/role': name}}},
})

describe('sim: render controller', () => {
  it('names rendered configs rendered-<pool>-<md5 of the merged spec>, stable under key order', () => {
    const a = renderPool(pool('worker'), [mc('00-worker', 'worker', [['/etc/a', 'x']]), mc('99-worker', 'worker', [['/etc/b', 'y']])], {
      osImageURL: 'img',
    })!
    const b = renderPool(pool('worker'), [mc('99-worker', 'worker', [['/etc/b', 'y']]), mc('00-worker', 'worker', [['/etc/a', 'x']])], {
      osImageURL: 'img',
    })!
    expect(a.name).to.match(/^rendered-worker-[0-9a-f]{32}$/)
    expect(b.name).to.equal(a.name)
    expect(a.name).to.equal(`rendered-worker-${specHash(a.spec)}`)
    const reverse = (v: any): any =>
      Array.isArray(v)
        ? v.map(reverse)
        : v && typeof v === 'object'
          ? Object.fromEntries(
              Object.keys(v)
                .reverse()
                .map((k) => [k, reverse(v[k])]),
            )
          : v
    const reordered = reverse(a.spec)
    expect(JSON.stringify(reordered)).to.not.equal(JSON.stringify(a.spec))
    expect(specHash(reordered)).to.equal(specHash(a.spec))
    const c = renderPool(pool('worker'), [mc('00-worker', 'worker', [['/etc/a', 'z']])], {osImageURL: 'img'})!
    expect(c.name).to.not.equal(a.name)
    expect(a.sources.map((s) => s.name)).to.deep.equal(['00-worker', '99-worker'])
  })

  it('merges by name order: later files and units replace earlier ones, SSH keys accumulate', () => {
    const merged = mergeIgnition([
      {
        storage: {files: [{path: '/etc/x', contents: {source: 'data:,1'}}]},
        systemd: {units: [{name: 'a.service', enabled: true}]},
        passwd: {users: [{name: 'core', sshAuthorizedKeys: ['k1']}]},
      },
      {
        storage: {files: [{path: '/etc/x', contents: {source: 'data:,2'}}]},
        systemd: {units: [{name: 'a.service', enabled: false}]},
        passwd: {users: [{name: 'core', sshAuthorizedKeys: ['k2']}]},
      },
    ])
    expect(merged.storage.files).to.deep.equal([{path: '/etc/x', contents: {source: 'data:,2'}}])
    expect(merged.systemd.units).to.deep.equal([{name: 'a.service', enabled: false}])
    expect(merged.passwd.users[0].sshAuthorizedKeys).to.deep.equal(['k1', 'k2'])
    expect(merged.ignition.version).to.equal('3.4.0')
  })

  it('the default fixture is up to date and its rendered configs carry the computed names', () => {
    expect(readFileSync(FIXTURE_PATH, 'utf8')).to.equal(fixtureYaml(), 'run: npx tsx emulator/sim/fixture-gen.ts')
    const objs = loadFixture()
    const cc = objs.find((o) => o.kind === 'ControllerConfig')!
    const mcs = objs.filter((o) => o.kind === 'MachineConfig')
    for (const p of objs.filter((o) => o.kind === 'MachineConfigPool')) {
      const r = renderPool(p, mcs, {
        osImageURL: cc.spec.osImageURL,
        baseOSExtensionsContainerImage: cc.spec.baseOSExtensionsContainerImage,
      })!
      expect(p.spec.configuration.name).to.equal(r.name)
      expect(p.status.configuration.name).to.equal(r.name)
      expect(mcs.some((m) => m.metadata.name === r.name)).to.equal(true)
      const nodes = objs.filter(
        (o) => o.kind === 'Node' && (p.metadata.name === 'master') === 'node-role.kubernetes.io/master' in o.metadata.labels,
      )
      expect(nodes.length).to.equal(p.metadata.name === 'master' ? 3 : 2)
      for (const n of nodes) expect(n.metadata.annotations['machineconfiguration.openshift.io/currentConfig']).to.equal(r.name)
    }
  })

  describe('against the API server', () => {
    let cluster: Cluster
    before(async () => {
      cluster = await fastCluster()
    })
    after(async () => {
      await cluster?.stop()
    })

    it('keeps the fixture pools on their rendered configs, re-renders on a new MachineConfig and returns to the same name when it goes', async () => {
      const c = cluster.client
      const before = await getPool(c, 'worker')
      const original = before!.spec.configuration.name
      await new Promise((r) => setTimeout(r, 150))
      expect((await getPool(c, 'worker'))!.spec.configuration.name).to.equal(original)

      await c.create(R.machineconfigs, undefined, {
        apiVersion: 'machineconfiguration.openshift.io/v1',
        kind: 'MachineConfig',
        ...mc('50-worker-motd', 'worker', [['/etc/motd', 'hello']]),
      })
      const next = await waitFor('a new rendered config', async () => {
        const p = await getPool(c, 'worker')
        return p!.spec.configuration.name !== original ? p : undefined
      })
      const name: string = next.spec.configuration.name
      expect(name).to.match(/^rendered-worker-[0-9a-f]{32}$/)
      expect(next.spec.configuration.source.map((s: any) => s.name)).to.include('50-worker-motd')
      const rendered = await c.get(R.machineconfigs, undefined, name)
      expect(rendered!.metadata.annotations[GENERATED_BY_ANNOTATION]).to.be.a('string').and.not.empty
      expect(rendered!.metadata.ownerReferences[0]).to.include({
        kind: 'MachineConfigPool',
        name: 'worker',
        uid: before!.metadata.uid,
        controller: true,
      })
      expect(rendered!.spec.config.storage.files.map((f: any) => f.path)).to.include('/etc/motd')
      expect(rendered!.metadata.labels ?? {}).to.not.have.property('machineconfiguration.openshift.io/role')

      await c.delete(R.machineconfigs, undefined, '50-worker-motd')
      await waitFor('the original rendered config again', async () => (await getPool(c, 'worker'))!.spec.configuration.name === original)
      // status.configuration follows once the nodes are back on it
      await waitFor('status.configuration', async () => (await getPool(c, 'worker'))!.status.configuration.name === original)
    })
  })
})
