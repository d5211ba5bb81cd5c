import {expect} from 'chai'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {createCA} from '../../emulator/pki.js'
import {startTokenRegistry, type TokenRegistry} from '../../emulator/oci/token-registry.js'
import {type Obj, R as SR} from '../../emulator/sim/client.js'
import {FAST, waitFor} from '../../emulator/sim/helpers.js'
import type {Cluster} from '../../emulator/sim/index.js'
import type {Emulator} from '../../emulator/index.js'
import {basicCluster, pool, run, startEmulator, startCluster as startSimCluster, optInWithMachineOSConfig} from './harness.js'

// OpenShift 4.18+: prune deletes a pool's old successful MachineOSBuilds, and the simulated
// machine-os-builder then deletes their images from the registry stand-in (unless a node uses one).
const P = 'machineconfiguration.openshift.io'
const REPO = 'org/os'
const containerfile = (n: string): string => `FROM configs AS final\nRUN echo ${n} > /etc/build\n`

describe('oc mob prune (4.18+, simulated machine-os-builder)', function () {
  this.timeout(120_000)
  let reg: TokenRegistry
  let cluster: Cluster
  /** Builds A (oldest), B (its image on the nodes: the pool is paused after it), C (current). */
  const built: Record<'a' | 'b' | 'c', {build: string; image: string}> = {} as never

  const kc = () => ['--kubeconfig', cluster.kubeconfig]
  const mosc = async (): Promise<Obj> => (await cluster.client.get(SR.machineosconfigs, undefined, 'worker'))!
  const buildNames = async (): Promise<string[]> =>
    (await cluster.client.list(SR.machineosbuilds)).items.map((b) => `${b.metadata.name} ${b.metadata.uid}`).sort()
  const digestOf = (image: string): string => image.split('@')[1]
  const workers = async (): Promise<Obj[]> => (await cluster.client.list(SR.nodes, undefined, 'node-role.kubernetes.io/worker')).items

  const buildWith = async (content: string): Promise<{build: string; image: string}> => {
    const before = (await mosc()).metadata.annotations?.[`${P}/current-machine-os-build`]
    await cluster.client.update(SR.machineosconfigs, undefined, 'worker', (c) => {
      c.spec.containerFile = [{containerfileArch: 'NoArch', content}]
    })
    await waitFor('the builder to start the build of the changed spec', async () => {
      const now = (await mosc()).metadata.annotations?.[`${P}/current-machine-os-build`]
      return now && now !== before
    })
    const r = await run(['build', 'worker', '-o', 'json', ...kc()])
    expect(r.exitCode, r.stderr).to.equal(0)
    const result = JSON.parse(r.stdout)
    reg.addImage(REPO, digestOf(result.image))
    return {build: result.buildName, image: result.image}
  }

  before(async () => {
    reg = await startTokenRegistry({auth: 'basic', users: {robot: {actions: ['pull', 'push', 'delete'], password: 'secret'}}})
    cluster = await startSimCluster({
      controllers: {machineOS: true},
      delays: {...FAST, lineMs: 2, podStartMs: 50},
      emulator: {groups: {machineOS: true}},
      mode: 'scripted',
      registry: {auth: {password: 'secret', user: 'robot'}, host: reg.host, url: reg.url},
    })
    await optInWithMachineOSConfig(cluster, {
      auth: 'robot:secret',
      containerFile: [{containerfileArch: 'NoArch', content: containerfile('zero')}],
      pushSpec: `${reg.host}/${REPO}:latest`,
    })
    const zero = await run(['build', 'worker', ...kc()])
    expect(zero.exitCode, zero.stderr).to.equal(0)
    built.a = await buildWith(containerfile('a'))
    built.b = await buildWith(containerfile('b'))
    await waitFor(
      'the worker nodes on image B',
      async () => (await workers()).every((n) => n.metadata.annotations?.[`${P}/currentImage`] === built.b.image),
      30_000,
    )
    // MachineOSBuild times have whole seconds: C starts in a later second than B ended, so "newest" is C.
    await new Promise((r) => setTimeout(r, 1100))
    // Paused: the nodes stay on B while C is built.
    await cluster.client.update(SR.pools, undefined, 'worker', (p) => {
      p.spec.paused = true
    })
    built.c = await buildWith(containerfile('c'))
  })

  after(async () => {
    await cluster?.stop()
    await reg?.stop()
  })

  const unchanged = async (fn: () => Promise<void>): Promise<void> => {
    const before = {builds: await buildNames(), mosc: await mosc()}
    await fn()
    expect({builds: await buildNames(), mosc: await mosc()}).to.deep.equal(before)
  }

  it('bad input: --keep 0 is a usage error; nothing changes', async () => {
    await unchanged(async () => {
      const r = await run(['prune', 'worker', '--keep', '0', '--yes', ...kc()])
      expect(r.exitCode).to.equal(2)
      expect(r.stderr).to.include('error: --keep 0: at least the newest successful MachineOSBuild is always kept')
      expect(r.stderr).to.include('next: give --keep 1 or more')
    })
  })

  it('bad input: an unreadable --registry-ca is a usage error before the cluster is asked; a PEM file is taken', async () => {
    await unchanged(async () => {
      const r = await run(['prune', 'worker', '--keep', '1', '--dry-run', '--registry-ca', '/nonexistent/ca.crt', ...kc()])
      expect(r.exitCode).to.equal(2)
      expect(r.stderr).to.include('error: cannot read --registry-ca /nonexistent/ca.crt: ENOENT')
      expect(r.stderr).to.include('next: give a PEM file of CA certificates')
      const rb = await run(['rollback', 'worker', '--dry-run', '--registry-ca', '/nonexistent/ca.crt', ...kc()])
      expect(rb.exitCode).to.equal(2)
      expect(rb.stderr).to.include('error: cannot read --registry-ca /nonexistent/ca.crt: ENOENT')
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-mob-prune-ca-'))
      try {
        const caFile = path.join(dir, 'ca.crt')
        fs.writeFileSync(caFile, createCA('prune-test-ca').certPem)
        const ok = await run(['prune', 'worker', '--keep', '1', '--dry-run', '--registry-ca', caFile, ...kc()])
        expect(ok.exitCode, ok.stderr).to.equal(0)
        expect(ok.stdout).to.include(`The machine-os-builder deletes their images from registry ${reg.host}/${REPO} (deletes are permitted`)
      } finally {
        fs.rmSync(dir, {force: true, recursive: true})
      }
    })
  })

  it('bad input: a pool without a MachineOSConfig (exit 7) and a pool that does not exist (exit 6); nothing changes', async () => {
    await unchanged(async () => {
      const r = await run(['prune', 'master', '--keep', '1', '--yes', ...kc()])
      expect(r.exitCode).to.equal(7)
      expect(r.stderr).to.include('error: pool master has no MachineOSConfig: it has no MachineOSBuilds to prune')
      const gone = await run(['prune', 'nosuch', '--keep', '1', '--yes', ...kc()])
      expect(gone.exitCode).to.equal(6)
    })
  })

  it('--dry-run lists what goes and what stays (the image the nodes use is kept and said so); nothing changes', async () => {
    await unchanged(async () => {
      const r = await run(['prune', 'worker', '--keep', '1', '--dry-run', ...kc()])
      expect(r.exitCode, r.stderr).to.equal(0)
      expect(r.stdout).to.include('Prune pool worker (MachineOSConfig worker), keeping the newest 1:')
      expect(r.stdout).to.match(new RegExp(`delete machineosbuild/${built.a.build} `))
      expect(r.stdout).to.include(`keep   machineosbuild/${built.c.build}`)
      const nodes = (await workers()).map((n) => n.metadata.name).sort()
      expect(r.stdout).to.include(`keep   machineosbuild/${built.b.build}`)
      expect(r.stdout).to.include(`its image is used by nodes ${nodes.join(', ')}`)
      expect(r.stdout).to.include(`The machine-os-builder deletes their images from registry ${reg.host}/${REPO} (deletes are permitted`)
      expect(r.stdout).to.include('(dry run: nothing was changed)')
    })
  })

  it('a registry with deletes disabled (405): the plan says the images will not really be deleted', async () => {
    reg.setDeletes(false)
    try {
      await unchanged(async () => {
        const r = await run(['prune', 'worker', '--keep', '1', '--dry-run', ...kc()])
        expect(r.exitCode, r.stderr).to.equal(0)
        expect(r.stdout).to.include(`Their images will NOT really be deleted: registry ${reg.host}/${REPO} has deletes disabled (`)
        expect(r.stdout).to.include('HTTP 405 UNSUPPORTED')
        const json = JSON.parse((await run(['prune', 'worker', '--keep', '1', '--dry-run', '-o', 'json', ...kc()])).stdout)
        expect(json).to.deep.include({imagesDeleted: false, outcome: 'dry-run'})
        expect(json.registry.status).to.equal('unsupported')
      })
    } finally {
      reg.setDeletes(true)
    }
  })

  it('without --yes and no terminal: refused (exit 2), nothing deleted', async () => {
    await unchanged(async () => {
      const r = await run(['prune', 'worker', '--keep', '1', ...kc()])
      expect(r.exitCode).to.equal(2)
    })
  })

  it('--keep 1 deletes the older successful builds, keeps the current one and the one the nodes use; the builder deletes the old image', async () => {
    const r = await run(['prune', 'worker', '--keep', '1', '--yes', '-o', 'json', ...kc()])
    expect(r.exitCode, r.stderr).to.equal(0)
    const result = JSON.parse(r.stdout)
    expect(result.outcome).to.equal('pruned')
    expect(result.deleted).to.include(built.a.build)
    expect(result.deleted).to.not.include(built.b.build)
    expect(result.deleted).to.not.include(built.c.build)
    expect(result.kept.map((k: Obj) => [k.name, k.why])).to.deep.include.members([
      [built.c.build, 'newest'],
      [built.b.build, 'in-use'],
    ])
    const names = (await buildNames()).map((x) => x.split(' ')[0])
    expect(names).to.include.members([built.b.build, built.c.build])
    expect(names).to.not.include(built.a.build)
    expect((await mosc()).metadata.annotations?.[`${P}/current-machine-os-build`]).to.equal(built.c.build)
    await waitFor('the builder to delete image A', () => !reg.hasImage(REPO, digestOf(built.a.image)))
    expect(reg.hasImage(REPO, digestOf(built.b.image)), 'image B (used by the nodes) stays').to.equal(true)
    expect(reg.hasImage(REPO, digestOf(built.c.image)), 'image C (current) stays').to.equal(true)

    // The history keeps the record of the deleted build.
    const status = JSON.parse((await run(['status', 'worker', '--history', '-o', 'json', ...kc()])).stdout)
    expect(status.history.map((h: Obj) => h.machineOSBuild)).to.include(built.a.build)

    // Run again: nothing left to prune.
    const again = await run(['prune', 'worker', '--keep', '1', '--yes', ...kc()])
    expect(again.exitCode, again.stderr).to.equal(0)
    expect(again.stdout).to.include('Nothing to prune: pool worker has no successful MachineOSBuild that may go.')
  })
})

describe('oc mob prune on an OpenShift 4.14/4.15 cluster', function () {
  this.timeout(60_000)
  let emu: Emulator

  before(async () => {
    emu = await startEmulator({groups: {machineOS: false}, objects: [...basicCluster(), pool('layering', {layered: true})]})
  })

  after(async () => {
    await emu?.close()
  })

  it('a layered pool: refused (exit 10) with a next step, nothing written', async () => {
    emu.resetRequests()
    const r = await run(['prune', 'layering', '--keep', '1', '--yes', '--kubeconfig', emu.kubeconfig])
    expect(r.exitCode).to.equal(10)
    expect(r.stderr).to.include('error: the cluster runs the OpenShift 4.14/4.15 generation of on-cluster builds (no MachineOSConfig API)')
    expect(r.stderr).to.include('next: delete old images in the registry with its own tools')
    expect(
      emu.requests.filter((q: {method: string}) => q.method !== 'GET'),
      'nothing written',
    ).to.deep.equal([])
  })
})
