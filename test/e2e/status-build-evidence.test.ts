import {expect} from 'chai'
import {parse} from 'yaml'
import type {Cluster} from '../../emulator/sim/index.js'
import {R as SR} from '../../emulator/sim/client.js'
import {FAST, waitFor} from '../../emulator/sim/helpers.js'
import {JOB_POD} from '../../emulator/sim/machineos.js'
import {MCO_NS, run, startCluster as startSimCluster, optInWithMachineOSConfig} from './harness.js'

// What status shows of a MachineOSConfig pool's build (4.18+) as the simulated builder of each release
// leaves it: the failure and its cause (4.22+; before, only "Build Failed"), ImageBuildDegraded (4.20+),
// the Job's attempts, the build's events (5.0+) and the pool's OS stream (OSImageStream, 4.23/5.0+).
const P = 'machineconfiguration.openshift.io'
const FAIL = {
  exitCode: 1,
  logLines: ['STEP 1/3: FROM quay.io/openshift-release-dev/ocp-v4.0-art-dev AS configs', 'error: no such package: nonexistent'],
  match: {container: 'image-build', namespace: MCO_NS, podName: JOB_POD},
}

async function startWithMachineOSConfig(release: string, scripts: Array<Record<string, unknown>>): Promise<Cluster> {
  const cluster = await startSimCluster({
    controllers: {machineOS: true},
    delays: {...FAST, lineMs: 5, podStartMs: 100},
    emulator: {groups: {machineOS: true}},
    mode: 'scripted',
    release,
    scripts: scripts as never,
  })
  await optInWithMachineOSConfig(cluster)
  return cluster
}

const failedBuild = (cluster: Cluster) =>
  waitFor(
    'the MachineOSBuild of worker failed',
    async () =>
      (await cluster.client.list(SR.machineosbuilds)).items.find((b) =>
        (b.status?.conditions ?? []).some((c: {type: string; status: string}) => c.type === 'Failed' && c.status === 'True'),
      ),
    60_000,
  )

/** status as oc-mob runs it, and what it wrote (nothing: the sim's own requests are not oc-mob's). */
async function statusOf(cluster: Cluster, ...args: string[]) {
  cluster.emulator.resetRequests()
  const r = await run(['status', ...args, '--kubeconfig', cluster.kubeconfig])
  const mine = cluster.emulator.requests.filter((q) => /^oc-mob\b/.test(q.userAgent ?? 'oc-mob'))
  return {...r, requests: mine, writes: mine.filter((q) => q.method !== 'GET')}
}

describe('oc mob status: the evidence of a MachineOSConfig build, release by release (simulated builder)', function () {
  this.timeout(180_000)

  describe('4.19: a build whose every attempt fails', () => {
    let cluster: Cluster
    before(async () => {
      cluster = await startWithMachineOSConfig('4.19', [FAIL])
    })
    after(async () => cluster?.stop())

    it('says the cluster records no cause and points at the build log; four attempts, ImageBuildDegraded; GETs only', async () => {
      const mosb = await failedBuild(cluster)
      const name = mosb.metadata.name as string
      expect(mosb.status.conditions.find((c: {type: string}) => c.type === 'Failed').message).to.equal('Build Failed')
      await waitFor('ImageBuildDegraded=True on worker', async () => {
        const p = await cluster.client.get(SR.pools, undefined, 'worker')
        return (p?.status?.conditions ?? []).some(
          (c: {type: string; status: string}) => c.type === 'ImageBuildDegraded' && c.status === 'True',
        )
      })

      const json = await statusOf(cluster, 'worker', '-o', 'json')
      expect(json.exitCode, json.stderr).to.equal(0)
      expect(json.writes, 'status writes nothing').to.deep.equal([])
      const doc = JSON.parse(json.stdout)
      const [worker] = doc.pools
      expect(worker.build).to.deep.include({cause: null, state: 'failed'})
      expect(worker.build.attempts).to.include({attempt: 4, of: 4})
      expect(worker.build.attempts.failed).to.have.length(4)
      expect(worker.build.attempts.failed[0].reason).to.equal('container image-build exited with code 1 (Error)')
      expect(worker.imageBuildDegraded).to.deep.include({reason: 'BuildFailed'})
      expect(worker.imageBuildDegraded.message).to.equal(
        `Failed to build OS image for pool worker (MachineOSBuild: ${name}): Failed: Build Failed`,
      )
      // 4.19 records no events on its builds, and serves no OSImageStream.
      expect(worker.events).to.deep.equal([])
      expect(worker).to.not.have.property('osImageStream')
      expect(json.requests.some((q) => q.path.endsWith('/osimagestreams'))).to.equal(false)
      const mine = doc.problems.filter((p: {pool: string}) => p.pool === 'worker')
      const failed = mine.find((p: {message: string}) => p.message.startsWith(`MachineOSBuild ${name}`))
      expect(failed.message).to.equal(
        `MachineOSBuild ${name} of pool worker failed after 4 of 4 attempts: the MachineOSBuild is Failed (Failed: Build Failed); the pool is ImageBuildDegraded (BuildFailed) until a build succeeds`,
      )
      expect(failed.next).to.include(
        'this OpenShift records no cause on the MachineOSBuild (only "Build Failed"): read it in the build log',
      )
      expect(failed.next).to.include('`oc mob logs worker`')
      // The pool's ImageBuildDegraded is the same failure: said once, in the build's problem.
      expect(mine.filter((p: {message: string}) => p.message.includes('ImageBuildDegraded'))).to.have.length(1)
      expect(failed.next).to.include(`oc mob build worker --rebuild`)

      const text = await statusOf(cluster, 'worker')
      expect(text.exitCode, text.stderr).to.equal(0)
      expect(text.writes).to.deep.equal([])
      expect(text.stdout).to.match(/failed \(\d+[smh]\) attempt 4 of 4/)
      expect(text.stdout).to.include(`Build: MachineOSBuild ${name} failed (attempt 4 of 4)`)
      expect(text.stdout).to.include(
        '  cause: not recorded (the MachineOSBuild says only "Build Failed"): read it in the build log, `oc mob logs worker`',
      )
      expect(text.stdout).to.match(/ {2}failed attempt 1: pod build-.+-[0-9a-f]{5}: container image-build exited with code 1 \(Error\)/)
      expect(text.stdout).to.include('; the pool is ImageBuildDegraded (BuildFailed) until a build succeeds')
      expect(text.stdout).to.not.include('✖ pool worker is ImageBuildDegraded')
      expect(text.stdout).to.not.include('Latest events')
      expect(text.stdout).to.not.include('OS image stream')
    })
  })

  describe('5.0: attempts under way, then a failure with its cause, events and the OS stream', () => {
    let cluster: Cluster
    before(async () => {
      // The first attempt fails, the second hangs: a build on its second attempt.
      cluster = await startWithMachineOSConfig('5.0', [
        {...FAIL, times: 1},
        {exitCode: 0, hangAfter: true, logLines: ['STEP 1/3: FROM x'], match: FAIL.match, times: 1},
      ])
    })
    after(async () => cluster?.stop())

    it('a build on attempt 2 of 4 warns of the failed attempt; its events and the pool`s stream show; GETs only', async () => {
      await waitFor(
        'the second attempt running',
        async () => {
          const pods = (await cluster.client.list(SR.pods, MCO_NS, 'job-name')).items
          return pods.length === 2 && pods.some((p) => p.status?.phase === 'Failed') && pods.some((p) => p.status?.phase === 'Running')
        },
        30_000,
      )
      await waitFor('worker reports its stream', async () => {
        const p = await cluster.client.get(SR.pools, undefined, 'worker')
        return p?.status?.osImageStream?.name === 'rhel-10'
      })
      const [mosb] = (await cluster.client.list(SR.machineosbuilds)).items
      await waitFor('the build event', async () => {
        const events = (await cluster.client.list(SR.events, 'default')).items
        return events.some((e) => e.reason === 'BuildBuilding')
      })

      const json = await statusOf(cluster, 'worker', '-o', 'json')
      expect(json.exitCode, json.stderr).to.equal(0)
      expect(json.writes).to.deep.equal([])
      const doc = JSON.parse(json.stdout)
      const [worker] = doc.pools
      expect(worker.build.state).to.equal('building')
      expect(worker.build.attempts).to.include({attempt: 2, of: 4})
      expect(worker.build.attempts.failed.map((f: {reason: string}) => f.reason)).to.deep.equal([
        'container image-build exited with code 1 (Error)',
      ])
      const cm = await cluster.client.get(SR.configmaps, MCO_NS, 'machine-config-osimageurl')
      expect(worker.osImageStream).to.deep.equal({current: 'rhel-10', osImage: cm!.data.baseOSContainerImage, requested: null})
      expect(worker.events.map((e: {reason: string}) => e.reason)).to.include.members(['BuildPreparing', 'JobCreated', 'BuildBuilding'])
      expect(worker.events.every((e: {build: string}) => e.build === mosb.metadata.name)).to.equal(true)
      const warning = doc.problems.find((p: {message: string}) => p.message.includes('is on attempt 2 of 4'))
      expect(warning).to.deep.include({severity: 'warning'})
      expect(warning.message).to.match(
        new RegExp(
          `^MachineOSBuild ${mosb.metadata.name} of pool worker is on attempt 2 of 4: 1 failed \\(last: pod build-.+, container image-build exited with code 1 \\(Error\\)\\)$`,
        ),
      )
      expect(warning.next).to.match(
        /^read the failed attempt's log with `oc logs -n openshift-machine-config-operator build-.+ -c image-build`/,
      )
      // One list of events, one read of the OSImageStream.
      expect(json.requests.filter((q) => q.path === '/api/v1/events').map((q) => decodeURIComponent(q.query))).to.deep.equal([
        'fieldSelector=involvedObject.kind=MachineOSBuild&limit=500',
      ])
      expect(json.requests.filter((q) => q.path.endsWith('/osimagestreams'))).to.have.length(1)

      const text = await statusOf(cluster, 'worker')
      expect(text.writes).to.deep.equal([])
      expect(text.stdout).to.match(/building \(\d+[smh]\) attempt 2 of 4/)
      expect(text.stdout).to.include(`Build: MachineOSBuild ${mosb.metadata.name} building (attempt 2 of 4)`)
      expect(text.stdout).to.include(`OS image stream: rhel-10 (asks for none: the default stream), base image `)
      expect(text.stdout).to.include('Latest events of its builds, newest first:')
      expect(text.stdout).to.match(/\d+s +Normal +BuildBuilding +worker-[0-9a-f]{32} +Build worker-[0-9a-f]{32} is building/)
      expect(text.stdout).to.match(/STREAM/)

      // -o wide: the stream's base image in full; -o yaml: the same document as json.
      const wide = await statusOf(cluster, 'worker', '-o', 'wide')
      expect(wide.writes).to.deep.equal([])
      expect(wide.stdout).to.include(
        `OS image stream: rhel-10 (asks for none: the default stream), base image ${cm!.data.baseOSContainerImage}`,
      )
      expect(wide.stdout).to.match(/building \(\d+[smh]\) attempt 2 of 4/)
      const yaml = await statusOf(cluster, 'worker', '-o', 'yaml')
      expect(yaml.writes).to.deep.equal([])
      const fromYaml = parse(yaml.stdout).pools[0]
      expect(fromYaml.osImageStream).to.deep.equal(worker.osImageStream)
      expect(fromYaml.build.attempts).to.include({attempt: 2, of: 4})
      expect(fromYaml.events.map((e: {reason: string}) => e.reason)).to.include('BuildBuilding')

      // Without a pool, no events are read; the stream is still shown.
      const all = await statusOf(cluster, '-o', 'json')
      expect(all.requests.some((q) => q.path === '/api/v1/events')).to.equal(false)
      expect(JSON.parse(all.stdout).pools.find((p: {name: string}) => p.name === 'worker')).to.not.have.property('events')
    })

    it('a failed build: the cause it records, its events newest first, ImageBuildDegraded; GETs only', async () => {
      cluster.sim.addScripts([FAIL as never])
      await cluster.client.patch(SR.machineosconfigs, undefined, 'worker', {metadata: {annotations: {[`${P}/rebuild`]: ''}}})
      const mosb = await failedBuild(cluster)
      const name = mosb.metadata.name as string
      const recorded = mosb.status.conditions.find((c: {type: string}) => c.type === 'Failed').message as string
      expect(recorded).to.match(/^Build Failed: pod build-.+: container image-build exited with code 1 \(Error\)$/)
      await waitFor('the BuildFailed event', async () =>
        (await cluster.client.list(SR.events, 'default')).items.some((e) => e.reason === 'BuildDegraded'),
      )

      const json = await statusOf(cluster, 'worker', '-o', 'json')
      expect(json.writes).to.deep.equal([])
      const doc = JSON.parse(json.stdout)
      const [worker] = doc.pools
      expect(worker.build.cause).to.equal(recorded)
      // Newest first: the builder records JobFailed, BuildFailed, BuildDegraded in that order.
      expect(worker.events.map((e: {reason: string}) => e.reason).slice(0, 3)).to.deep.equal(['BuildDegraded', 'BuildFailed', 'JobFailed'])
      expect(worker.events).to.have.length(5)
      const failed = doc.problems.find((p: {message: string}) => p.message.startsWith(`MachineOSBuild ${name}`))
      expect(failed.message).to.equal(
        `MachineOSBuild ${name} of pool worker failed after 4 of 4 attempts: ${recorded}; the pool is ImageBuildDegraded (BuildFailed) until a build succeeds`,
      )
      expect(failed.next).to.match(/^see the build log with `oc mob logs worker`/)
      expect(doc.problems.some((p: {message: string}) => p.message.startsWith('pool worker is ImageBuildDegraded'))).to.equal(false)

      const text = await statusOf(cluster, 'worker')
      expect(text.writes).to.deep.equal([])
      expect(text.stdout).to.include(`  cause: ${recorded}`)
      expect(text.stdout).to.match(/Warning +BuildFailed +worker-[0-9a-f]{32} +Build Failed: pod build-/)
    })
  })
})
