import {expect} from 'chai'
import {startTokenRegistry, type TokenRegistry} from '../../emulator/oci/token-registry.js'
import {type Obj, R as SR} from '../../emulator/sim/client.js'
import {FAST, waitFor} from '../../emulator/sim/helpers.js'
import type {Cluster} from '../../emulator/sim/index.js'
import {MCO_NS, run, startCluster as startSimCluster, optInWithMachineOSConfig} from './harness.js'

// OpenShift 4.18+: rollback restores the MachineOSConfig spec that produced an earlier MachineOSBuild,
// so the simulated machine-os-builder finds that build by its hash and reuses its image. Images live
// in the token-registry stand-in, which oc-mob asks (with the pool's push secret) whether the image
// still exists, and the builder asks before it reuses a build.
const P = 'machineconfiguration.openshift.io'
const REPO = 'org/os'
const TWO = 'FROM configs AS final\nRUN echo two > /etc/two\n'

describe('oc mob rollback of a MachineOSConfig pool (4.18+, simulated machine-os-builder)', function () {
  this.timeout(120_000)
  let reg: TokenRegistry
  let cluster: Cluster
  /** The first build (no custom Containerfile) and the second (TWO). */
  let first: {build: string; image: string}
  let second: {build: string; image: string}

  const b64 = (s: string): string => Buffer.from(s).toString('base64')
  const kc = () => ['--kubeconfig', cluster.kubeconfig]
  const mosc = async (): Promise<Obj> => (await cluster.client.get(SR.machineosconfigs, undefined, 'worker'))!
  const builds = async (): Promise<Obj[]> => (await cluster.client.list(SR.machineosbuilds)).items
  const uids = async (): Promise<string[]> => (await builds()).map((b) => `${b.metadata.name} ${b.metadata.uid}`).sort()
  const historyCm = async (): Promise<Obj | undefined> => cluster.client.get(SR.configmaps, MCO_NS, 'oc-mob-image-history')
  const digestOf = (image: string): string => image.split('@')[1]
  const deleteImage = async (image: string): Promise<void> => {
    const res = await fetch(`${reg.url}/v2/${REPO}/manifests/${digestOf(image)}`, {
      headers: {authorization: `Basic ${b64('robot:secret')}`},
      method: 'DELETE',
    })
    expect(res.status).to.equal(202)
  }

  /** `oc mob build` follows the builder's build; its image is then "pushed" (the scripted build pushes nothing). */
  const build = async (): Promise<{build: string; image: string}> => {
    const r = await run(['build', 'worker', '-o', 'json', ...kc()])
    expect(r.exitCode, r.stderr).to.equal(0)
    const result = JSON.parse(r.stdout)
    reg.addImage(REPO, digestOf(result.image))
    return {build: result.buildName, image: result.image}
  }

  /** The cluster state a refused or dry-run rollback must leave as it was. */
  const state = async () => {
    const c = await mosc()
    return {builds: await uids(), history: (await historyCm())?.metadata.resourceVersion, spec: c.spec, status: c.status}
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
    await optInWithMachineOSConfig(cluster, {auth: 'robot:secret', pushSpec: `${reg.host}/${REPO}:latest`})
    first = await build()
    await cluster.client.update(SR.machineosconfigs, undefined, 'worker', (c) => {
      c.spec.containerFile = [{containerfileArch: 'NoArch', content: TWO}]
    })
    // A changed spec is a new MachineOSBuild (its name hashes the spec): build joins it once the builder made it.
    await waitFor(
      'the builder to start the build of the changed spec',
      async () => (await mosc()).metadata.annotations?.[`${P}/current-machine-os-build`] !== first.build,
    )
    second = await build()
  })

  after(async () => {
    await cluster?.stop()
    await reg?.stop()
  })

  it('status --history shows both builds, each with the MachineOSBuild and the spec that produced it', async () => {
    expect(second.build).to.not.equal(first.build)
    const r = await run(['status', 'worker', '--history', '-o', 'json', ...kc()])
    expect(r.exitCode, r.stderr).to.equal(0)
    const history = JSON.parse(r.stdout).history
    expect(history.map((h: Obj) => [h.index, h.image, h.machineOSBuild, h.current])).to.deep.equal([
      [0, second.image, second.build, true],
      [1, first.image, first.build, false],
    ])
    expect(history[0].machineOSConfigSpec.containerFile).to.deep.equal([{containerfileArch: 'NoArch', content: TWO}])
    expect(history[1].machineOSConfigSpec).to.not.have.property('containerFile')
    const text = await run(['status', 'worker', '--history', ...kc()])
    expect(text.stdout).to.include(first.build)
  })

  it('--dry-run shows the spec restored and that the builder reuses the earlier build; nothing changes', async () => {
    const before = await state()
    const r = await run(['rollback', 'worker', '--dry-run', ...kc()])
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stdout).to.include(`Roll back pool worker by restoring the spec of MachineOSConfig worker that built\n  ${first.image}`)
    expect(r.stdout).to.include(`No build: the machine-os-builder finds MachineOSBuild ${first.build} by its hash and reuses its image`)
    expect(r.stdout).to.include(`registry: HEAD /v2/${REPO}/manifests/${digestOf(first.image)}: HTTP 200`)
    expect(r.stdout).to.match(/^-\s+containerFile:/m)
    expect(r.stdout).to.include('(dry run: nothing was changed)')
    expect(await state()).to.deep.equal(before)
  })

  it('is refused when the image is gone from the registry, and nothing changes', async () => {
    await deleteImage(first.image)
    try {
      const before = await state()
      const r = await run(['rollback', 'worker', '--yes', ...kc()])
      expect(r.exitCode).to.equal(7)
      expect(r.stderr).to.include(
        `error: image ${first.image} is gone from the registry (HEAD /v2/${REPO}/manifests/${digestOf(first.image)}: HTTP 404`,
      )
      expect(r.stderr).to.include("next: the builder would build that content again with today's config: add --force")
      expect(await state()).to.deep.equal(before)
    } finally {
      reg.addImage(REPO, digestOf(first.image))
    }
  })

  it('is refused when the push secret cannot show the image exists (registry 401), nothing changes; --force --dry-run goes on with a warning', async () => {
    const secret = (await cluster.client.get(SR.secrets, MCO_NS, 'push'))!
    const setAuth = (auth: string) =>
      cluster.client.update(SR.secrets, MCO_NS, 'push', (s) => {
        s.data['.dockerconfigjson'] = b64(JSON.stringify({auths: {[reg.host]: {auth: b64(auth)}}}))
      })
    await setAuth('robot:wrong')
    try {
      const before = await state()
      const r = await run(['rollback', 'worker', '--yes', ...kc()])
      expect(r.exitCode).to.equal(7)
      expect(r.stderr).to.include(`error: could not make sure image ${first.image} still exists: HEAD /v2/${REPO}/manifests/`)
      expect(r.stderr).to.include('HTTP 401')
      expect(r.stderr).to.include('next: run `oc mob doctor worker`')
      const forced = await run(['rollback', 'worker', '--force', '--dry-run', ...kc()])
      expect(forced.exitCode, forced.stderr).to.equal(0)
      expect(forced.stdout).to.include('warning: the registry could not tell whether the image still exists')
      expect(forced.stdout).to.include('(dry run: nothing was changed)')
      expect(await state()).to.deep.equal(before)
    } finally {
      await cluster.client.update(SR.secrets, MCO_NS, 'push', (s) => {
        s.data = secret.data
      })
    }
  })

  it('is refused with the API server’s message when the recorded spec no longer validates, and nothing changes', async () => {
    const cm = (await historyCm())!
    const saved = cm.data.worker
    const entries = JSON.parse(saved)
    const i = entries.findIndex((e: Obj) => e.image === first.image)
    entries[i].machineOSConfigSpec = {
      ...entries[i].machineOSConfigSpec,
      renderedImagePushSpec: `${reg.host}/${REPO}@sha256:${'0'.repeat(64)}`,
    }
    await cluster.client.update(SR.configmaps, MCO_NS, 'oc-mob-image-history', (c) => {
      c.data.worker = JSON.stringify(entries)
    })
    try {
      const before = await state()
      const r = await run(['rollback', 'worker', '--to', String(i), '--yes', ...kc()])
      expect(r.exitCode).to.equal(7)
      expect(r.stderr).to.include('error: the MachineOSConfig spec recorded for that build no longer validates:')
      expect(r.stderr).to.include('renderedImagePushSpec')
      expect(await state()).to.deep.equal(before)
    } finally {
      await cluster.client.update(SR.configmaps, MCO_NS, 'oc-mob-image-history', (c) => {
        c.data.worker = saved
      })
    }
  })

  it('restores the earlier spec; the builder reuses the earlier build and its image, no new build', async () => {
    const before = await uids()
    const r = await run(['rollback', 'worker', '--yes', '-o', 'json', ...kc()])
    expect(r.exitCode, r.stderr).to.equal(0)
    const result = JSON.parse(r.stdout)
    expect(result).to.deep.include({earlierBuild: first.build, expect: 'reuse', machineOSConfig: 'worker', outcome: 'rolled-back'})
    expect(result.target.image).to.equal(first.image)
    expect((await mosc()).spec).to.not.have.property('containerFile')
    await waitFor('the builder to point the MachineOSConfig at the first image', async () => {
      const c = await mosc()
      return c.status?.currentImagePullSpec === first.image && c.metadata.annotations?.[`${P}/current-machine-os-build`] === first.build
    })
    expect(await uids(), 'no MachineOSBuild made or deleted').to.deep.equal(before)

    const status = JSON.parse((await run(['status', 'worker', '--history', '-o', 'json', ...kc()])).stdout)
    expect(status.history[0]).to.deep.include({current: true, image: first.image, replaced: second.image, source: 'rollback'})
    // The image rolled away from is not the default target again: the only other spec is the current one.
    const again = await run(['rollback', 'worker', '--yes', ...kc()])
    expect(again.exitCode).to.equal(7)
    expect(again.stderr).to.include('error: no earlier MachineOSConfig spec of pool worker is known')
  })

  it('--to a build whose MachineOSBuild is gone (and the builder pruned its image): refused; with --force the plan says plainly that it is a new build, --wait follows it', async () => {
    // The builder keeps an image a node uses: the nodes leave the second image first.
    await waitFor(
      'the worker nodes on the first image',
      async () =>
        (await cluster.client.list(SR.nodes, undefined, 'node-role.kubernetes.io/worker')).items.every(
          (n) =>
            n.metadata.annotations?.[`${P}/currentImage`] === first.image && n.metadata.annotations?.[`${P}/desiredImage`] === first.image,
        ),
      30_000,
    )
    await cluster.client.delete(SR.machineosbuilds, undefined, second.build)
    await waitFor('the builder to prune the second image', () => !reg.hasImage(REPO, digestOf(second.image)))
    const to = ['--to', digestOf(second.image).slice(0, 20)]
    const before = await state()
    const refused = await run(['rollback', 'worker', ...to, '--yes', ...kc()])
    expect(refused.exitCode).to.equal(7)
    expect(refused.stderr).to.include(`error: image ${second.image} is gone from the registry`)
    expect(await state()).to.deep.equal(before)

    const dry = await run(['rollback', 'worker', ...to, '--force', '--dry-run', ...kc()])
    expect(dry.exitCode, dry.stderr).to.equal(0)
    expect(dry.stdout).to.include('A NEW BUILD: restoring the spec builds the old custom content with today’s config')
    expect(dry.stdout).to.include(`MachineOSBuild ${second.build} that built the image no longer exists`)
    expect(dry.stdout).to.include(`image ${second.image} is gone from the registry`)
    expect(await state()).to.deep.equal(before)

    const r = await run(['rollback', 'worker', ...to, '--force', '--yes', '--wait', '--timeout', '60s', '-o', 'json', ...kc()])
    expect(r.exitCode, r.stderr).to.equal(0)
    const result = JSON.parse(r.stdout)
    expect(result).to.deep.include({expect: 'build', outcome: 'rolled-back'})
    expect(result.image).to.not.equal(second.image)
    const c = await mosc()
    expect(c.spec.containerFile).to.deep.equal([{containerfileArch: 'NoArch', content: TWO}])
    expect(c.status.currentImagePullSpec).to.equal(result.image)
    expect(c.metadata.annotations[`${P}/current-machine-os-build`]).to.equal(second.build)
  })

  it('bad input: an entry number beyond the history, nothing changed', async () => {
    const before = await state()
    const r = await run(['rollback', 'worker', '--to', '99', '--yes', ...kc()])
    expect(r.exitCode).to.equal(7)
    expect(r.stderr).to.match(/error: the history has \d+ entries \(0 to \d+\); there is no entry 99/)
    expect(await state()).to.deep.equal(before)
  })
})
