import {expect} from 'chai'
import type {Emulator} from '../../emulator/index.js'
import {basicCluster, MCO_NS, pool, run, startEmulator} from './harness.js'

// OpenShift 4.18+: a MachineOSConfig opts a pool in, MachineOSBuilds carry the builds. Status reads
// them (it drives nothing there yet).
const P = 'machineconfiguration.openshift.io'
const RENDERED = 'rendered-worker-0123456789abcdef0123456789abcdef'
const NEWER = 'rendered-worker-fedcba9876543210fedcba9876543210'
const IMAGE = `quay.io/org/os@sha256:${'a'.repeat(64)}`
const NEW_IMAGE = `quay.io/org/os@sha256:${'b'.repeat(64)}`

function mosc(name: string) {
  return {
    apiVersion: `${P}/v1`,
    kind: 'MachineOSConfig',
    metadata: {name},
    spec: {
      imageBuilder: {imageBuilderType: 'Job'},
      machineConfigPool: {name},
      renderedImagePushSecret: {name: 'push'},
      renderedImagePushSpec: 'quay.io/org/os:latest',
    },
  }
}

function mosb(name: string, config: string, rendered: string, created: string) {
  return {
    apiVersion: `${P}/v1`,
    kind: 'MachineOSBuild',
    metadata: {
      creationTimestamp: created,
      labels: {[`${P}/machine-os-config`]: config, [`${P}/rendered-machine-config`]: rendered, [`${P}/target-machine-config-pool`]: config},
      name,
    },
    spec: {machineConfig: {name: rendered}, machineOSConfig: {name: config}, renderedImagePushSpec: 'quay.io/org/os:latest'},
  }
}

const conditions = (current: string, reason: string, message: string) =>
  ['Prepared', 'Building', 'Failed', 'Interrupted', 'Succeeded'].map((type) => ({
    lastTransitionTime: '2026-11-20T10:00:00Z',
    message: type === current ? message : '',
    reason: type === current ? reason : type,
    status: type === current ? 'True' : 'False',
    type,
  }))

describe('oc mob status on a MachineOSConfig cluster (4.18+, end to end)', function () {
  this.timeout(60_000)
  let emu: Emulator
  const merge = {'Content-Type': 'application/merge-patch+json'}

  before(async () => {
    emu = await startEmulator({objects: [...basicCluster(), pool('infra', {layered: true})]})
    // Created, then given a status, as the controller does (status is a subresource).
    expect((await emu.request('POST', `/apis/${P}/v1/machineosconfigs`, mosc('worker'))).status).to.equal(201)
    expect(
      (await emu.request('PATCH', `/apis/${P}/v1/machineosconfigs/worker/status`, {status: {currentImagePullSpec: IMAGE}}, merge)).status,
    ).to.equal(200)
    expect(
      (await emu.request('POST', `/apis/${P}/v1/machineosbuilds`, mosb('worker-1111', 'worker', RENDERED, '2026-11-20T09:00:00Z'))).status,
    ).to.equal(201)
    expect(
      (
        await emu.request(
          'PATCH',
          `/apis/${P}/v1/machineosbuilds/worker-1111/status`,
          {status: {conditions: conditions('Succeeded', 'Ready', 'Build Ready'), digestedImagePushSpec: IMAGE}},
          merge,
        )
      ).status,
    ).to.equal(200)
  })

  after(async () => {
    await emu?.close()
  })

  const kc = () => ['--kubeconfig', emu.kubeconfig]

  it('shows a pool with a MachineOSConfig as layered by it, built by a Job, with the image its build made', async () => {
    const r = await run(['status', '-o', 'json', ...kc()])
    expect(r.exitCode, r.stderr).to.equal(0)
    const s = JSON.parse(r.stdout)
    const worker = s.pools.find((p: {name: string}) => p.name === 'worker')
    expect(worker).to.deep.include({builder: 'job', image: IMAGE, imageMatchesConfig: 'yes', layered: true, optIn: 'machineosconfig'})
    expect(worker.imageEvidence).to.equal(`MachineOSBuild worker-1111 built it from ${RENDERED}`)
    expect(worker.build).to.deep.include({reason: 'Ready', state: 'succeeded'})
    expect(worker.build.object).to.deep.include({
      kind: 'MachineOSBuild',
      name: 'worker-1111',
      phase: 'Succeeded',
      renderedConfig: RENDERED,
      state: 'succeeded',
    })
    expect(worker.machineOSConfig).to.deep.equal({
      builds: ['worker-1111'],
      currentImagePullSpec: IMAGE,
      name: 'worker',
      renderedImagePushSpec: 'quay.io/org/os:latest',
    })
    expect(s.pools.find((p: {name: string}) => p.name === 'master')).to.deep.include({layered: false, machineOSConfig: null, optIn: null})
    // The label still opts infra in the old way: that pool needs on-cluster-build-config; worker does not.
    expect(s.pools.find((p: {name: string}) => p.name === 'infra')).to.deep.include({optIn: 'label'})
    const missing = s.problems.filter((p: {message: string}) => p.message.includes('on-cluster-build-config is missing'))
    expect(missing.map((p: {message: string}) => p.message)).to.deep.equal([
      'pool infra is layered but on-cluster-build-config is missing: the operator will not start the machine-os-builder and no build can run',
    ])
    expect(s.problems.filter((p: {pool: string}) => p.pool === 'worker')).to.deep.equal([])

    const table = await run(['status', ...kc()])
    expect(table.exitCode, table.stderr).to.equal(0)
    expect(table.stdout).to.include('MachineOSConfigs: worker (images to quay.io/org/os:<MachineOSBuild name>)')
    expect(table.stdout).to.match(/worker\s+yes \(MOSC\)\s+job\s+succeeded/)
  })

  it('a failed build of the new rendered config: failed, the old image not from the config, and what to do', async () => {
    await emu.request('PATCH', `/apis/${P}/v1/machineconfigpools/worker`, {spec: {configuration: {name: NEWER}}}, merge)
    await emu.request('POST', `/apis/${P}/v1/machineosbuilds`, mosb('worker-2222', 'worker', NEWER, '2026-11-21T09:00:00Z'))
    expect(
      (
        await emu.request(
          'PATCH',
          `/apis/${P}/v1/machineosbuilds/worker-2222/status`,
          {status: {conditions: conditions('Failed', 'Failed', 'Build Failed')}},
          merge,
        )
      ).status,
    ).to.equal(200)
    try {
      const r = await run(['status', 'worker', '-o', 'json', ...kc()])
      expect(r.exitCode, r.stderr).to.equal(0)
      const [worker] = JSON.parse(r.stdout).pools
      expect(worker.build.state).to.equal('failed')
      expect(worker.build.object).to.deep.include({name: 'worker-2222', state: 'failed'})
      expect(worker.imageMatchesConfig).to.equal('no')
      expect(worker.imageEvidence).to.equal(`the MachineOSBuild for ${NEWER} (worker-2222) failed; the image is from an earlier build`)
      // Newest first; the API server's timestamps have whole seconds, so both may carry the same one.
      expect(worker.machineOSConfig.builds).to.have.members(['worker-2222', 'worker-1111'])
      const [problem, ...others] = JSON.parse(r.stdout).problems.filter((p: {pool: string}) => p.pool === 'worker')
      expect(others).to.deep.equal([])
      expect(problem).to.deep.include({severity: 'error'})
      expect(problem.message).to.equal(
        'MachineOSBuild worker-2222 of pool worker failed: the MachineOSBuild is Failed (Failed: Build Failed)',
      )
      expect(problem.next).to.include(`oc logs -n ${MCO_NS} job/build-worker-2222 -c image-build`)
      expect(problem.next).to.include(`oc mob build worker --rebuild`)

      // Then the rebuild succeeds with a new image, which the MachineOSConfig reports: all matches again.
      // (a build that ended keeps its conditions, the CRD refuses changes: the rebuild is a new MachineOSBuild)
      expect((await emu.request('DELETE', `/apis/${P}/v1/machineosbuilds/worker-2222`)).status).to.equal(200)
      expect(
        (await emu.request('POST', `/apis/${P}/v1/machineosbuilds`, mosb('worker-2222', 'worker', NEWER, '2026-11-21T09:00:00Z'))).status,
      ).to.equal(201)
      expect(
        (
          await emu.request(
            'PATCH',
            `/apis/${P}/v1/machineosbuilds/worker-2222/status`,
            {status: {conditions: conditions('Succeeded', 'Ready', 'Build Ready'), digestedImagePushSpec: NEW_IMAGE}},
            merge,
          )
        ).status,
      ).to.equal(200)
      await emu.request('PATCH', `/apis/${P}/v1/machineosconfigs/worker/status`, {status: {currentImagePullSpec: NEW_IMAGE}}, merge)
      const after = JSON.parse((await run(['status', 'worker', '-o', 'json', ...kc()])).stdout)
      expect(after.pools[0]).to.deep.include({image: NEW_IMAGE, imageMatchesConfig: 'yes'})
      expect(after.problems.filter((p: {pool: string}) => p.pool === 'worker')).to.deep.equal([])
    } finally {
      await emu.request('PATCH', `/apis/${P}/v1/machineconfigpools/worker`, {spec: {configuration: {name: RENDERED}}}, merge)
    }
  })

  it('rollback of a MachineOSConfig pool whose builds oc-mob never saw with their spec is refused (exit 7), nothing written', async () => {
    // Without an observedGeneration nothing proves which spec built the image: it is recorded without one.
    for (const [args, message] of [
      [['rollback', 'worker', '--yes'], 'error: no earlier MachineOSConfig spec of pool worker is known'],
      [
        ['rollback', 'worker', '--to', '0', '--yes'],
        'error: oc-mob did not record the MachineOSConfig spec that built quay.io/org/os@sha256:',
      ],
    ] as const) {
      emu.resetRequests()
      const r = await run([...args, ...kc()])
      expect(r.exitCode, args.join(' ')).to.equal(7)
      expect(r.stderr).to.include(message)
      expect(
        emu.requests.filter((q: {method: string}) => q.method !== 'GET'),
        'nothing written',
      ).to.deep.equal([])
    }

    // cleanup is not refused: with only a succeeded build there is nothing to clean up, and nothing is written.
    emu.resetRequests()
    const cleanup = await run(['cleanup', 'worker', '--yes', ...kc()])
    expect(cleanup.exitCode, cleanup.stderr).to.equal(0)
    expect(cleanup.stdout).to.include('Nothing to clean up for pool worker')
    expect(
      emu.requests.filter((q: {method: string}) => q.method !== 'GET'),
      'nothing written',
    ).to.deep.equal([])

    // enable of a pool without a MachineOSConfig points at setup.
    const enable = await run(['enable', 'master', ...kc()])
    expect(enable.exitCode).to.equal(6)
    expect(enable.stderr).to.include('pool master has no MachineOSConfig: on OpenShift 4.18+ setup writes it, and that opts the pool in')

    // dockerfile of a pool without a MachineOSConfig: nothing builds it, so there is no Containerfile.
    emu.resetRequests()
    const dockerfile = await run(['dockerfile', 'master', ...kc()])
    expect(dockerfile.exitCode).to.equal(6)
    expect(dockerfile.stderr).to.include(
      'error: pool master has no MachineOSConfig: on OpenShift 4.18+ the machine-os-builder builds only pools that have one, so there is no Containerfile to show',
    )
    expect(dockerfile.stderr).to.include('next: opt the pool in with `oc mob setup --pool master`')
    expect(
      emu.requests.filter((q: {method: string}) => q.method !== 'GET'),
      'nothing written',
    ).to.deep.equal([])
  })

  it("a MachineOSConfig without a build of the pool's rendered config yet is a warning that says where to look", async () => {
    await emu.request('POST', `/apis/${P}/v1/machineosconfigs`, mosc('master'))
    try {
      const r = await run(['status', 'master', '-o', 'json', ...kc()])
      const s = JSON.parse(r.stdout)
      expect(s.pools[0]).to.deep.include({builder: 'job', image: null, imageMatchesConfig: null, optIn: 'machineosconfig'})
      expect(s.pools[0].build.state).to.equal('none')
      expect(s.problems.map((p: {message: string}) => p.message)).to.include(
        'pool master has MachineOSConfig master but no build of its rendered config rendered-master-0123456789abcdef0123456789abcdef yet',
      )
    } finally {
      await emu.request('DELETE', `/apis/${P}/v1/machineosconfigs/master`)
    }
  })
})
