import {expect} from 'chai'
import {mkdtemp, readdir, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {encodeMachineConfig} from '../../src/lib/build/dockerfile.js'
import {R as SR} from '../../emulator/sim/client.js'
import {FAST, waitFor} from '../../emulator/sim/helpers.js'
import type {Cluster} from '../../emulator/sim/index.js'
import {JOB_POD} from '../../emulator/sim/machineos.js'
import {MCO_NS, run, startCluster as startSimCluster, optInWithMachineOSConfig} from './harness.js'

// OpenShift 4.18+: cleanup after a failed MachineOSBuild, against the simulated machine-os-builder.
const P = 'machineconfiguration.openshift.io'
const TOKEN = 'robot:SeCrEt-PuSh-ToKeN-4711'
const b64 = (s: string): string => Buffer.from(s).toString('base64')
const JOBS = {group: 'batch', namespaced: true, plural: 'jobs', version: 'v1'}

async function files(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, {recursive: true, withFileTypes: true}))
    if (e.isFile()) out.push(path.relative(dir, path.join(e.parentPath, e.name)))
  return out.sort()
}

describe('oc mob cleanup of a MachineOSConfig pool (4.18+, simulated machine-os-builder)', function () {
  this.timeout(180_000)
  let cluster: Cluster
  let saveDir: string

  before(async () => {
    cluster = await startSimCluster({
      controllers: {machineOS: true},
      delays: {...FAST, lineMs: 5, podStartMs: 100},
      emulator: {groups: {machineOS: true}},
      mode: 'scripted',
    })
    saveDir = await mkdtemp(path.join(tmpdir(), 'oc-mob-cleanup-'))
    // The first attempt hangs: a build that runs.
    cluster.sim.addScripts([
      {
        exitCode: 0,
        hangAfter: true,
        logLines: ['STEP 1/2: FROM quay.io/openshift-release-dev/ocp-v4.0-art-dev AS configs'],
        match: {container: 'image-build', namespace: MCO_NS, podName: JOB_POD},
        times: 1,
      },
    ])
    await optInWithMachineOSConfig(cluster, {auth: TOKEN})
  })

  after(async () => {
    await cluster?.stop()
    if (saveDir) await rm(saveDir, {force: true, recursive: true})
  })

  const kc = () => ['--kubeconfig', cluster.kubeconfig]
  const builds = async () => (await cluster.client.list(SR.machineosbuilds)).items.filter((b) => b.spec.machineOSConfig.name === 'worker')
  const state = (b: {status?: {conditions?: Array<{type: string; status: string}>}}) =>
    b.status?.conditions?.find((c) => c.status === 'True')?.type
  const jobPods = async (mosb: string) => (await cluster.client.list(SR.pods, MCO_NS, `job-name=build-${mosb}`)).items

  it('refuses while the build runs (exit 7) and changes nothing', async () => {
    const mosb = await waitFor(
      'a running build',
      async () => {
        const [b] = await builds()
        return b && state(b) === 'Building' ? b : undefined
      },
      30_000,
    )
    const job = await cluster.client.get(JOBS, MCO_NS, `build-${mosb.metadata.name}`)
    expect(job?.spec.backoffLimit, 'the Job object, backoffLimit 3').to.equal(3)
    const r = await run(['cleanup', 'worker', '--yes', ...kc()])
    expect(r.exitCode, r.stdout + r.stderr).to.equal(7)
    expect(r.stderr).to.include('a build is still running; cleanup would stop it')
    expect(r.stderr).to.include(`machineosbuild/${mosb.metadata.name} of pool worker`)
    expect(r.stderr).to.include('--force')
    const [still] = await builds()
    expect(still.metadata.uid).to.equal(mosb.metadata.uid)
    expect((await cluster.client.get(JOBS, MCO_NS, `build-${mosb.metadata.name}`))?.metadata.uid).to.equal(job!.metadata.uid)
    expect(await jobPods(mosb.metadata.name)).to.have.length(1)
  })

  it('--force stops it; the new build of the same name fails all 4 attempts: Failed, ImageBuildDegraded, the evidence kept', async () => {
    const [running] = await builds()
    cluster.sim.addScripts([
      {
        exitCode: 1,
        logLines: ['STEP 2/2: RUN dnf install -y nosuchpackage', 'Error: Unable to find a match: nosuchpackage'],
        match: {container: 'image-build', namespace: MCO_NS, podName: JOB_POD},
        times: 4,
      },
    ])
    const r = await run(['cleanup', 'worker', '--force', '--yes', ...kc()])
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stdout).to.include(`machineosbuild/${running.metadata.name}`)
    const failed = await waitFor(
      'the new build failed',
      async () => {
        const [b] = await builds()
        return b && b.metadata.uid !== running.metadata.uid && state(b) === 'Failed' ? b : undefined
      },
      60_000,
    )
    expect(failed.metadata.name, 'the same hashed name').to.equal(running.metadata.name)
    expect(Date.parse(failed.status.buildEnd)).to.be.greaterThan(Date.parse(failed.status.buildStart))
    expect(await jobPods(failed.metadata.name)).to.have.length(4)
    const pool = (await cluster.client.get(SR.pools, undefined, 'worker'))!
    expect(pool.status.conditions.find((c: {type: string}) => c.type === 'ImageBuildDegraded')).to.deep.include({
      message: `Failed to build OS image for pool worker (MachineOSBuild: ${failed.metadata.name}): Failed: Build Failed`,
      reason: 'BuildFailed',
      status: 'True',
    })
    // The failed build stays: the builder does not build the same config again by itself.
    await new Promise((r) => setTimeout(r, 1500))
    const [same] = await builds()
    expect(same.metadata.uid).to.equal(failed.metadata.uid)
  })

  it("--save keeps every attempt's log, the events and the YAML (no secret value); then only the failed build's objects go, and the builder builds again", async () => {
    const [failed] = await builds()
    const name = failed.metadata.name
    const labels = (mosb: string, pool: string) => ({
      [`${P}/ephemeral-build-object`]: '',
      [`${P}/machine-os-build`]: mosb,
      [`${P}/machine-os-config`]: pool,
      [`${P}/on-cluster-layering`]: '',
      [`${P}/rendered-machine-config`]: failed.spec.machineConfig.name,
      [`${P}/target-machine-config-pool`]: pool,
    })
    // What the builder made for the failed build (the simulation makes these too: set their content).
    const put = async (cm: {
      data: Record<string, string>
      metadata: {labels: Record<string, string>; name: string; namespace: string}
    }): Promise<void> => {
      if (await cluster.client.get(SR.configmaps, MCO_NS, cm.metadata.name))
        await cluster.client.patch(
          SR.configmaps,
          MCO_NS,
          cm.metadata.name,
          {data: cm.data, metadata: {labels: cm.metadata.labels}},
          'merge',
        )
      else await cluster.client.create(SR.configmaps, MCO_NS, cm)
    }

    await put({
      data: {'machineconfig.json.gz': encodeMachineConfig({kind: 'MachineConfig', metadata: {name: failed.spec.machineConfig.name}})},
      metadata: {labels: labels(name, 'worker'), name: `mc-${name}`, namespace: MCO_NS},
    })
    await put({
      data: {Containerfile: 'FROM configs AS final\nRUN dnf install -y nosuchpackage\n'},
      metadata: {labels: labels(name, 'worker'), name: `containerfile-${name}`, namespace: MCO_NS},
    })
    await cluster.client.create(SR.secrets, MCO_NS, {
      data: {'.dockerconfigjson': b64(JSON.stringify({auths: {'quay.io': {auth: b64(TOKEN)}}}))},
      metadata: {labels: labels(name, 'worker'), name: `final-${name}`, namespace: MCO_NS},
      type: 'kubernetes.io/dockerconfigjson',
    })
    // Look-alikes and another pool's failed build: never touched.
    await cluster.client.create(SR.configmaps, MCO_NS, {
      data: {notes: 'mine'},
      metadata: {labels: labels(name, 'worker'), name: 'my-build-notes', namespace: MCO_NS},
    })
    await cluster.client.create(SR.pods, MCO_NS, {
      metadata: {labels: {'job-name': `build-${name}`}, name: 'my-debug-pod', namespace: MCO_NS},
      spec: {containers: [{image: 'registry.access.redhat.com/ubi9', name: 'shell'}]},
    })
    await cluster.client.create(SR.machineosbuilds, undefined, {
      apiVersion: `${P}/v1`,
      kind: 'MachineOSBuild',
      metadata: {
        labels: {[`${P}/machine-os-config`]: 'infra', [`${P}/target-machine-config-pool`]: 'infra'},
        name: 'infra-0123456789abcdef',
      },
      spec: {
        machineConfig: {name: 'rendered-infra-0123456789abcdef'},
        machineOSConfig: {name: 'infra'},
        renderedImagePushSpec: 'quay.io/org/os:infra-0123456789abcdef',
      },
    })
    await cluster.client.create(JOBS, MCO_NS, {
      metadata: {labels: labels('infra-0123456789abcdef', 'infra'), name: 'build-infra-0123456789abcdef', namespace: MCO_NS},
      spec: {backoffLimit: 3, template: {spec: {containers: [{image: 'x', name: 'image-build'}], restartPolicy: 'Never'}}},
    })
    // An event of the build (5.0+ builders record them on the MachineOSBuild) and one of its Job.
    await cluster.client.create(SR.events, MCO_NS, {
      involvedObject: {kind: 'Job', name: `build-${name}`, namespace: MCO_NS},
      message: 'Job has reached the specified backoff limit',
      metadata: {name: 'ev-job', namespace: MCO_NS},
      reason: 'BackoffLimitExceeded',
      type: 'Warning',
    })
    await cluster.client.create(SR.events, MCO_NS, {
      involvedObject: {kind: 'MachineOSBuild', name},
      message: `build failed for pool worker`,
      metadata: {name: 'ev-mosb', namespace: MCO_NS},
      reason: 'BuildFailed',
      type: 'Warning',
    })

    const dry = await run(['cleanup', 'worker', '--dry-run', ...kc()])
    expect(dry.exitCode, dry.stderr).to.equal(0)
    expect(dry.stdout).to.include(`machineosbuild/${name}`)
    expect(dry.stdout).to.include('while it exists the builder does not build')
    expect(dry.stdout).to.match(new RegExp(`job/build-${name}\\s`))
    expect(dry.stdout).to.include(`configmap/mc-${name}`)
    expect(dry.stdout).to.include(`secret/final-${name}`)
    expect(dry.stdout).to.include('keep   configmap/my-build-notes')
    expect(dry.stdout).to.include('keep   pod/my-debug-pod')
    expect(dry.stdout).to.include('then the machine-os-builder starts a new build')
    expect(dry.stdout).to.include('(dry run: nothing was changed)')
    expect(dry.stdout).to.not.include('infra')
    expect((await builds())[0].metadata.uid).to.equal(failed.metadata.uid)

    const r = await run(['cleanup', 'worker', '--save', saveDir, '--yes', '-o', 'json', ...kc()])
    expect(r.exitCode, r.stderr).to.equal(0)
    const result = JSON.parse(r.stdout)
    expect(result.outcome).to.equal('cleaned')
    const pods = result.items.filter((i: {kind: string}) => i.kind === 'Pod').map((i: {name: string}) => i.name)
    expect(pods).to.have.length(4)
    expect(result.deleted).to.include.members([
      `machineosbuild/${name}`,
      `job/build-${name}`,
      `configmap/mc-${name}`,
      `configmap/containerfile-${name}`,
      `secret/final-${name}`,
      ...pods.map((p: string) => `pod/${p}`),
    ])
    expect(result.kept.map((k: {name: string}) => k.name)).to.include.members(['my-build-notes', 'my-debug-pod'])

    // The evidence.
    const saved = await files(saveDir)
    expect(saved).to.include.members([
      'worker/machineosconfig.yaml',
      `worker/${name}/machineosbuild.yaml`,
      `worker/${name}/job.yaml`,
      `worker/${name}/conditions.txt`,
      `worker/${name}/events.txt`,
      `worker/${name}/Containerfile`,
      `worker/${name}/machineconfig.json`,
      `worker/${name}/README.txt`,
    ])
    const logs = saved.filter((f) => f.startsWith(`worker/${name}/logs/`))
    expect(logs, 'the log of each of the 4 attempts').to.have.length(4)
    for (const f of logs) expect(await readFile(path.join(saveDir, f), 'utf8')).to.include('Error: Unable to find a match: nosuchpackage')
    const conditions = await readFile(path.join(saveDir, `worker/${name}/conditions.txt`), 'utf8')
    expect(conditions).to.include('Failed=True Failed')
    expect(conditions).to.include('ImageBuildDegraded=True BuildFailed')
    expect(conditions).to.include('backoffLimit 3')
    const events = await readFile(path.join(saveDir, `worker/${name}/events.txt`), 'utf8')
    expect(events).to.include('BackoffLimitExceeded')
    expect(events).to.include(`BuildFailed  machineosbuild/${name}`)
    expect(await readFile(path.join(saveDir, `worker/${name}/README.txt`), 'utf8')).to.include(
      `secret/final-${name} (kubernetes.io/dockerconfigjson, keys .dockerconfigjson): values not saved`,
    )
    for (const f of saved) {
      const text = await readFile(path.join(saveDir, f), 'utf8')
      for (const secret of [TOKEN, b64(TOKEN), 'SeCrEt-PuSh']) expect(text, f).to.not.include(secret)
    }

    // The cluster: the failed build's objects gone, the builder builds the same config again and succeeds.
    const rebuilt = await waitFor(
      'a new build that succeeds',
      async () => {
        const [b] = await builds()
        return b && b.metadata.uid !== failed.metadata.uid && state(b) === 'Succeeded' ? b : undefined
      },
      60_000,
    )
    expect(rebuilt.metadata.name).to.equal(name)
    // The new build of the same name makes its own mc-<mosb> and removes it once it succeeded.
    await waitFor(
      'mc- of the new build removed after its success',
      async () => (await cluster.client.get(SR.configmaps, MCO_NS, `mc-${name}`)) === undefined,
      10_000,
    )
    expect(await cluster.client.get(SR.secrets, MCO_NS, `final-${name}`)).to.equal(undefined)
    expect(await cluster.client.get(SR.machineosconfigs, undefined, 'worker')).to.not.equal(undefined)
    const pool = (await cluster.client.get(SR.pools, undefined, 'worker'))!
    expect(pool.status.conditions.find((c: {type: string}) => c.type === 'ImageBuildDegraded')).to.deep.include({
      message: 'Build succeeded for pool worker',
      reason: 'BuildSuccess',
      status: 'False',
    })
    // Never touched: look-alikes, the other pool's build and Job, the push secret.
    expect(await cluster.client.get(SR.configmaps, MCO_NS, 'my-build-notes')).to.not.equal(undefined)
    expect(await cluster.client.get(SR.pods, MCO_NS, 'my-debug-pod')).to.not.equal(undefined)
    expect(await cluster.client.get(SR.machineosbuilds, undefined, 'infra-0123456789abcdef')).to.not.equal(undefined)
    expect(await cluster.client.get(JOBS, MCO_NS, 'build-infra-0123456789abcdef')).to.not.equal(undefined)
    expect(await cluster.client.get(SR.secrets, MCO_NS, 'push')).to.not.equal(undefined)

    const again = await run(['cleanup', 'worker', '--yes', ...kc()])
    expect(again.exitCode, again.stderr).to.equal(0)
    expect(again.stdout).to.include('Nothing to clean up for pool worker')
  })
})
