import {expect} from 'chai'
import type {Cluster} from '../../emulator/sim/index.js'
import {R as SR} from '../../emulator/sim/client.js'
import {FAST, waitFor} from '../../emulator/sim/helpers.js'
import {JOB_POD} from '../../emulator/sim/machineos.js'
import {MCO_NS, run, startCluster as startSimCluster, optInWithMachineOSConfig} from './harness.js'

// OpenShift 4.18+: the simulated machine-os-builder builds a pool from its MachineOSConfig; oc mob
// build joins, asks for a rebuild with the annotation, and follows the MachineOSBuild.
const P = 'machineconfiguration.openshift.io'

describe('oc mob build of a MachineOSConfig pool (4.18+, simulated machine-os-builder)', function () {
  this.timeout(120_000)
  let cluster: Cluster

  before(async () => {
    cluster = await startSimCluster({
      controllers: {machineOS: true},
      delays: {...FAST, lineMs: 5, podStartMs: 100},
      emulator: {groups: {machineOS: true}},
      mode: 'scripted',
    })
    await optInWithMachineOSConfig(cluster)
  })

  after(async () => {
    await cluster?.stop()
  })

  const kc = () => ['--kubeconfig', cluster.kubeconfig]
  const mosc = async () => (await cluster.client.get(SR.machineosconfigs, undefined, 'worker'))!
  const builds = async () => (await cluster.client.list(SR.machineosbuilds)).items.filter((b) => b.spec.machineOSConfig.name === 'worker')

  it('joins the build the machine-os-builder starts for the MachineOSConfig, and follows it to its image', async () => {
    const r = await run(['build', 'worker', '-o', 'json', ...kc()])
    expect(r.exitCode, r.stderr).to.equal(0)
    const result = JSON.parse(r.stdout)
    const [mosb] = await builds()
    expect(result).to.deep.include({buildName: mosb.metadata.name, machineOSConfig: 'worker', pool: 'worker'})
    expect(result.outcome).to.be.oneOf(['succeeded', 'up-to-date'])
    expect(result.image).to.match(/^quay\.io\/org\/os@sha256:[0-9a-f]{64}$/)
    expect((await mosc()).status.currentImagePullSpec).to.equal(result.image)

    // The simulated operator runs the machine-os-builder for the MachineOSConfig pool, and the node
    // controller rolls the pool's nodes to the image, as on a 4.18+ cluster.
    await waitFor(
      'the nodes of worker told to run the image',
      async () => {
        const nodes = (await cluster.client.list(SR.nodes, undefined, 'node-role.kubernetes.io/worker')).items
        return nodes.length > 0 && nodes.every((n) => n.metadata.annotations?.[`${P}/desiredImage`] === result.image)
      },
      20_000,
    )
    const status = JSON.parse((await run(['status', '-o', 'json', ...kc()])).stdout)
    expect(status.machineOSBuilder).to.include({deployed: true, running: true})

    // Built already: nothing to do.
    const again = await run(['build', 'worker', ...kc()])
    expect(again.exitCode, again.stderr).to.equal(0)
    expect(again.stdout).to.include(`pool worker already has an image for ${result.renderedConfig}: ${result.image}`)
  })

  it('--dry-run says what it would do and changes nothing; --rebuild has the builder build again', async () => {
    const before = (await builds())[0]
    const image = (await mosc()).status.currentImagePullSpec
    const dry = await run(['build', 'worker', '--rebuild', '--dry-run', ...kc()])
    expect(dry.exitCode, dry.stderr).to.equal(0)
    expect(dry.stdout).to.include(
      `would ask the machine-os-builder to rebuild MachineOSBuild ${before.metadata.name} (annotation ${P}/rebuild on MachineOSConfig worker)`,
    )
    expect((await mosc()).metadata.annotations?.[`${P}/rebuild`]).to.equal(undefined)

    const r = await run(['build', 'worker', '--rebuild', '-o', 'json', ...kc()])
    expect(r.exitCode, r.stderr).to.equal(0)
    const result = JSON.parse(r.stdout)
    expect(result).to.deep.include({buildName: before.metadata.name, joined: false, outcome: 'succeeded'})
    expect(result.image).to.not.equal(image)
    const [after] = await builds()
    expect(after.metadata.uid, 'a new MachineOSBuild under the same name').to.not.equal(before.metadata.uid)
    expect((await mosc()).status.currentImagePullSpec).to.equal(result.image)
    expect((await mosc()).metadata.annotations?.[`${P}/rebuild`], 'the builder removed the annotation').to.equal(undefined)
  })

  it("--follow streams the log of the Job's pod while it waits", async () => {
    const [mosb] = await builds()
    const r = await run(['build', 'worker', '--rebuild', '--follow', ...kc()])
    expect(r.exitCode, r.stderr).to.equal(0)
    const out = r.stdout + r.stderr
    expect(out).to.include(`STEP 3/3: LABEL io.openshift.machineconfig.build=build-${mosb.metadata.name}`)
    expect(out).to.include('Pushed')
  })

  it('enable of a pool with a MachineOSConfig: already opted in; --wait follows the build and the rollout to its nodes', async () => {
    const image = (await mosc()).status.currentImagePullSpec
    const r = await run(['enable', 'worker', '--wait', '-o', 'json', ...kc()])
    expect(r.exitCode, r.stderr).to.equal(0)
    const result = JSON.parse(r.stdout)
    expect(result).to.deep.include({generation: 'machineosconfig', image, outcome: 'already-enabled'})
    const workers = (await cluster.client.list(SR.nodes, undefined, 'node-role.kubernetes.io/worker')).items
    expect(result.nodes.map((n: {name: string}) => n.name).sort()).to.deep.equal(workers.map((n) => n.metadata.name).sort())
    for (const n of workers) expect(n.metadata.annotations?.[`${P}/currentImage`], n.metadata.name).to.equal(image)
  })

  it('nodes add/remove: a node moves into a MachineOSConfig pool onto its image, and back out without --force (it can revert)', async () => {
    const setup = await run([
      'setup',
      '--no-registry-check',
      '--pool',
      'infra',
      '--final-pullspec',
      'quay.io/org/os',
      '--push-secret',
      'push',
      '--yes',
      ...kc(),
    ])
    expect(setup.exitCode, setup.stderr).to.equal(0)
    // A new pool is rendered by the render controller a moment after setup creates it.
    await waitFor(
      'pool infra rendered',
      async () => (await cluster.client.get(SR.pools, undefined, 'infra'))?.spec?.configuration?.name,
      30_000,
    )
    const built = await run(['build', 'infra', '-o', 'json', ...kc()])
    expect(built.exitCode, built.stderr).to.equal(0)
    const image = JSON.parse(built.stdout).image
    const [node] = (await cluster.client.list(SR.nodes, undefined, 'node-role.kubernetes.io/worker')).items
    const name = node.metadata.name
    const add = await run(['nodes', 'add', 'infra', name, '--yes', '--wait', '-o', 'json', ...kc()])
    expect(add.exitCode, add.stderr).to.equal(0)
    expect(JSON.parse(add.stdout).outcome).to.equal('applied')
    const moved = (await cluster.client.get(SR.nodes, undefined, name))!
    expect(moved.metadata.annotations[`${P}/currentImage`]).to.equal(image)
    const remove = await run(['nodes', 'remove', 'infra', name, '--yes', '-o', 'json', ...kc()])
    expect(remove.exitCode, remove.stderr).to.equal(0)
    const result = JSON.parse(remove.stdout)
    expect(result.outcome).to.equal('applied')
    expect(result.warnings.join('\n')).to.not.include('cannot roll back')
  })

  it('a failing build: exit 8 with the end of its log, then a plain build refuses until --rebuild (exit 7)', async () => {
    cluster.sim.addScripts([
      {
        exitCode: 1,
        logLines: [
          'STEP 1/2: FROM quay.io/openshift-release-dev/ocp-v4.0-art-dev AS configs',
          'STEP 2/2: RUN dnf install -y nosuchpackage',
          'Error: Unable to find a match: nosuchpackage',
          'Error: building at STEP "RUN dnf install -y nosuchpackage": exit status 1',
        ],
        match: {container: 'image-build', namespace: MCO_NS, podName: JOB_POD},
      },
    ])
    const r = await run(['build', 'worker', '--rebuild', ...kc()])
    expect(r.exitCode).to.equal(8)
    const [mosb] = await builds()
    expect(r.stderr).to.include(`error: MachineOSBuild ${mosb.metadata.name} of pool worker failed: Build Failed`)
    expect(r.stderr).to.include('Error: building at STEP "RUN dnf install -y nosuchpackage": exit status 1')
    expect(r.stderr).to.include('oc mob logs worker')
    // The Job ran its 4 attempts (backoffLimit 3); their pods are kept for their logs.
    await waitFor(
      'the failed pods kept',
      async () => (await cluster.client.list(SR.pods, MCO_NS, `job-name=build-${mosb.metadata.name}`)).items.length === 4,
    )

    const plain = await run(['build', 'worker', ...kc()])
    expect(plain.exitCode).to.equal(7)
    expect(plain.stderr).to.include(
      `MachineOSBuild ${mosb.metadata.name} of pool worker failed (Build Failed); the machine-os-builder does not build it again by itself`,
    )
    expect(plain.stderr).to.include('oc mob build worker --rebuild')
    // status agrees.
    const s = JSON.parse((await run(['status', 'worker', '-o', 'json', ...kc()])).stdout)
    expect(s.pools[0].build.state).to.equal('failed')
  })

  it('disable deletes the MachineOSConfig (the opt-out), and --wait waits until it is gone', async () => {
    const dry = await run(['disable', 'worker', '--dry-run', ...kc()])
    expect(dry.exitCode, dry.stderr).to.equal(0)
    // It names what it would really do: delete the MachineOSConfig, not patch the pool.
    expect(dry.stdout).to.include(
      'dry run: would delete machineosconfig/worker: opts the pool out; the builder deletes its MachineOSBuilds and the nodes return to the plain OS image; nothing was changed',
    )
    expect(dry.stdout).to.not.include('machineconfigpool/')
    expect(await cluster.client.get(SR.machineosconfigs, undefined, 'worker')).to.not.equal(undefined)
    const r = await run(['disable', 'worker', '--yes', '--wait', '-o', 'json', ...kc()])
    expect(r.exitCode, r.stderr).to.equal(0)
    const result = JSON.parse(r.stdout)
    expect(result).to.deep.include({cleanedUp: true, generation: 'machineosconfig', outcome: 'disabled'})
    expect(result.change).to.include({action: 'delete', kind: 'MachineOSConfig', name: 'worker'})
    expect(result.warnings.join('\n')).to.not.include('cannot roll back')
    expect(await cluster.client.get(SR.machineosconfigs, undefined, 'worker')).to.equal(undefined)
    const s = JSON.parse((await run(['status', 'worker', '-o', 'json', ...kc()])).stdout)
    expect(s.pools[0]).to.deep.include({layered: false, optIn: null})
    // Again: nothing to do.
    const again = await run(['disable', 'worker', '--yes', '-o', 'json', ...kc()])
    expect(JSON.parse(again.stdout).outcome).to.equal('not-enabled')
  })
})
