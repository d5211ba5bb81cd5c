import {expect} from 'chai'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {parse} from 'yaml'
import {KubeClient} from '../../src/lib/kube/client.js'
import {loadKubeconfig} from '../../src/lib/kube/kubeconfig.js'
import {R} from '../../src/lib/kube/resources.js'
import type {ConfigMap, Deployment, KubeObject, MachineConfigPool, Pod, Secret} from '../../src/lib/kube/types.js'
import {informer, waitFor} from '../../src/lib/kube/watch.js'
import {type Emulator, type FakeKubelet, startFakeKubelet} from '../../emulator/index.js'
import type {Cluster} from '../../emulator/sim/index.js'
import {basicCluster, cliPath, MCO_NS, pool, run, runBin, startEmulator, startCluster as startSim} from './harness.js'

const NS = MCO_NS
const POOL = 'layering'
const LAYERING = 'machineconfiguration.openshift.io/layering-enabled'
const INTERNAL = 'image-registry.openshift-image-registry.svc:5000'
const b64 = (s: string): string => Buffer.from(s).toString('base64')
const SECRET_TEXT = 'builder:s3cr3t-value'

/** A RegExp whose matching can be switched off: makes scripted builds fail until the test says otherwise. */
class Switch extends RegExp {
  on = true
  test(s: string): boolean {
    return this.on && super.test(s)
  }
}

/** The seed's setup through the API: secrets, build config, a layered pool with its own MachineConfig. */
async function prepare(client: KubeClient): Promise<string> {
  const creds = {[INTERNAL]: {auth: b64(SECRET_TEXT)}}
  const global = await client.get<Secret>(R.secrets, 'pull-secret', 'openshift-config')
  const auths = JSON.parse(Buffer.from(global.data!['.dockerconfigjson'], 'base64').toString()).auths
  await client.create<Secret>(R.secrets, {
    data: {'.dockerconfigjson': b64(JSON.stringify({auths: {...auths, ...creds}}))},
    metadata: {name: 'pull-and-push', namespace: NS},
    type: 'kubernetes.io/dockerconfigjson',
  })
  await client.create<ConfigMap>(R.configMaps, {
    data: {
      baseImagePullSecretName: 'pull-and-push',
      finalImagePullspec: `${INTERNAL}/ocp/os-image:latest`,
      finalImagePushSecretName: 'pull-and-push',
      imageBuilderType: 'custom-pod-builder',
    },
    metadata: {name: 'on-cluster-build-config', namespace: NS},
  })
  await client.create<ConfigMap>(R.configMaps, {
    data: {[POOL]: 'FROM configs AS final\nRUN echo custom > /etc/custom\n'},
    metadata: {name: 'on-cluster-build-custom-dockerfile', namespace: NS},
  })
  await client.create<MachineConfigPool>(R.machineConfigPools, {
    metadata: {labels: {[LAYERING]: ''}, name: POOL},
    spec: {
      machineConfigSelector: {
        matchExpressions: [{key: 'machineconfiguration.openshift.io/role', operator: 'In', values: [POOL, 'worker']}],
      },
      nodeSelector: {matchLabels: {[`node-role.kubernetes.io/${POOL}`]: ''}},
    },
  })
  await client.create(R.machineConfigs, {
    metadata: {labels: {'machineconfiguration.openshift.io/role': POOL}, name: `99-${POOL}-cleanup-test`},
    spec: {
      config: {
        ignition: {version: '3.4.0'},
        storage: {files: [{contents: {source: 'data:,cleanup%0A'}, mode: 420, path: '/etc/cleanup-test'}]},
      },
    },
  })
  return waitFor<MachineConfigPool, string>(
    client,
    R.machineConfigPools,
    POOL,
    (p) => {
      const name = p?.spec?.configuration?.name
      return name && p?.spec?.configuration?.source?.some((s) => s.name === `99-${POOL}-cleanup-test`) ? name : undefined
    },
    {timeoutMs: 20_000},
  )
}

async function buildObjects(client: KubeClient): Promise<string[]> {
  const [cms, pods] = await Promise.all([
    client.list<ConfigMap>(R.configMaps, {namespace: NS}),
    client.list<Pod>(R.pods, {labelSelector: 'machineconfiguration.openshift.io/buildPod', namespace: NS}),
  ])
  return [
    ...cms.items.filter((c) => /^(mc|dockerfile|digest)-/.test(c.metadata.name!)).map((c) => `configmap/${c.metadata.name}`),
    ...pods.items.map((p) => `pod/${p.metadata.name}`),
  ].sort()
}

const conds = (p: MachineConfigPool): Record<string, string> =>
  Object.fromEntries((p.status?.conditions ?? []).map((c) => [c.type, c.status]))

/** Every version of the pool seen while the test runs: proves the layering label was never removed. */
function watchLabel(client: KubeClient): {stop: () => Promise<boolean[]>} {
  const ac = new AbortController()
  const seen: boolean[] = []
  const done = (async () => {
    for await (const ev of informer<MachineConfigPool>(client, R.machineConfigPools, {
      fieldSelector: `metadata.name=${POOL}`,
      signal: ac.signal,
    })) {
      if (ev.type === 'SYNCED') seen.push(...ev.objects.map((p) => Object.hasOwn(p.metadata.labels ?? {}, LAYERING)))
      else if (ev.type === 'DELETED') seen.push(false)
      else seen.push(Object.hasOwn(ev.object.metadata.labels ?? {}, LAYERING))
    }
  })().catch(() => undefined)
  return {
    async stop() {
      ac.abort()
      await done
      return seen
    },
  }
}

function walk(dir: string): string[] {
  return fs
    .readdirSync(dir, {withFileTypes: true})
    .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)).map((f) => `${e.name}/${f}`) : [e.name]))
}

describe('oc mob cleanup (end to end)', function () {
  this.timeout(180_000)

  describe('after a failed build on the simulated cluster', () => {
    let cluster: Cluster
    let client: KubeClient
    let rendered: string
    let tmp: string
    const failing = new Switch('^build-')

    beforeEach(async () => {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-mob-cleanup-'))
      failing.on = true
      cluster = await startSim({
        controllers: {operator: false},
        delays: {buildMs: 300, podStartMs: 50, pollMs: 50, rebootMs: 200},
        mode: 'scripted',
        scripts: [
          {
            exitCode: 1,
            logLines: ['STEP 9/9: RUN echo custom > /etc/custom', 'error: building at STEP "RUN echo custom": exit status 1'],
            match: {container: 'image-build', podName: failing},
          },
        ],
      })
      client = new KubeClient(loadKubeconfig({kubeconfig: cluster.kubeconfig}))
      rendered = await prepare(client)
    })
    afterEach(async () => {
      await cluster?.stop()
      fs.rmSync(tmp, {force: true, recursive: true})
    })

    it('cleans up the hung build and clears BuildFailed, so `oc mob build` builds again, without touching the label', async () => {
      const label = watchLabel(client)
      const failed = await run(['build', POOL, '--kubeconfig', cluster.kubeconfig])
      expect(failed.exitCode, failed.stderr).to.equal(8)
      expect(await buildObjects(client)).to.deep.equal([
        `configmap/dockerfile-${rendered}`,
        `configmap/mc-${rendered}`,
        `pod/build-${rendered}`,
      ])
      const refused = await run(['build', POOL, '--kubeconfig', cluster.kubeconfig])
      expect(refused.exitCode).to.equal(8) // the failed build is joined again: the cluster is stuck

      const status = JSON.parse((await run(['status', POOL, '--kubeconfig', cluster.kubeconfig, '-o', 'json'])).stdout)
      expect(status.pools[0].build).to.include({hung: true, state: 'failed'})
      expect(status.problems[0].next).to.include(`oc mob cleanup ${POOL}`)

      failing.on = false
      const r = await run(['cleanup', POOL, '--kubeconfig', cluster.kubeconfig, '--yes'])
      expect(r.exitCode, r.stderr).to.equal(0)
      expect(r.stdout).to.include(`delete pod/build-${rendered}`)
      expect(r.stdout).to.include(`Deleted 3 objects: pod/build-${rendered}, configmap/mc-${rendered}, configmap/dockerfile-${rendered}.`)
      expect(r.stdout).to.include(`oc mob build ${POOL}`)
      expect(await buildObjects(client)).to.deep.equal([])
      const p = await client.get<MachineConfigPool>(R.machineConfigPools, POOL)
      const c = conds(p)
      for (const t of ['BuildPending', 'Building', 'BuildSuccess', 'BuildFailed']) expect(c, t).not.to.have.property(t)
      expect(c.Degraded).to.equal('False')
      expect(c.RenderDegraded).to.equal('False')
      expect(p.spec!.configuration!.source!.some((s) => s.name === `build-${rendered}`)).to.equal(false)
      // The user's configuration is untouched.
      expect(await client.find(R.configMaps, 'on-cluster-build-config', NS)).not.to.equal(undefined)
      expect(await client.find(R.configMaps, 'on-cluster-build-custom-dockerfile', NS)).not.to.equal(undefined)
      expect(await client.find(R.secrets, 'pull-and-push', NS)).not.to.equal(undefined)

      const rebuilt = await run(['build', POOL, '--kubeconfig', cluster.kubeconfig, '-o', 'json'])
      expect(rebuilt.exitCode, rebuilt.stderr).to.equal(0)
      expect(JSON.parse(rebuilt.stdout)).to.include({joined: false, outcome: 'succeeded'})
      const after = await client.get<MachineConfigPool>(R.machineConfigPools, POOL)
      expect(conds(after).BuildSuccess).to.equal('True')
      expect(after.metadata.annotations!['machineconfiguration.openshift.io/newestImageEquivalentConfig']).to.equal(
        JSON.parse(rebuilt.stdout).image,
      )
      const seen = await label.stop()
      expect(seen.length).to.be.greaterThan(3)
      expect(seen.every(Boolean), 'the layering label was removed at some point').to.equal(true)
    })

    it("--save keeps the Dockerfile, the decoded MachineConfig, the pod and both containers' logs, and no secret", async () => {
      await run(['build', POOL, '--kubeconfig', cluster.kubeconfig])
      const dockerfile = (await client.get<ConfigMap>(R.configMaps, `dockerfile-${rendered}`, NS)).data!.Dockerfile
      const dir = path.join(tmp, 'evidence')
      const r = await run(['cleanup', POOL, '--kubeconfig', cluster.kubeconfig, '--yes', '--save', dir, '-o', 'json'])
      expect(r.exitCode, r.stderr).to.equal(0)
      const result = JSON.parse(r.stdout)
      expect(result.outcome).to.equal('cleaned')
      const base = path.join(dir, POOL, rendered)
      expect(walk(base).sort()).to.deep.equal([
        'Dockerfile',
        'README.txt',
        'logs/image-build.log',
        'logs/wait-for-done.log',
        'machineconfig.json',
        'pod.yaml',
      ])
      expect(result.saved.files.sort()).to.deep.equal(
        walk(base)
          .map((f) => `${POOL}/${rendered}/${f}`)
          .sort(),
      )
      expect(fs.readFileSync(path.join(base, 'Dockerfile'), 'utf8')).to.equal(dockerfile)
      expect(dockerfile).to.include('RUN echo custom > /etc/custom')
      const mc = JSON.parse(fs.readFileSync(path.join(base, 'machineconfig.json'), 'utf8'))
      expect(mc.metadata.name).to.equal(rendered)
      expect(JSON.stringify(mc.spec.config)).to.include('/etc/cleanup-test')
      expect(fs.readFileSync(path.join(base, 'logs/image-build.log'), 'utf8')).to.include(
        'error: building at STEP "RUN echo custom": exit status 1',
      )
      const pod = parse(fs.readFileSync(path.join(base, 'pod.yaml'), 'utf8'))
      expect(pod.metadata.name).to.equal(`build-${rendered}`)
      expect(pod.status.containerStatuses.find((s: {name: string}) => s.name === 'image-build').state.terminated.exitCode).to.equal(1)
      expect(fs.readFileSync(path.join(base, 'README.txt'), 'utf8')).to.include(`pod/build-${rendered}`)
      for (const f of walk(dir)) {
        const text = fs.readFileSync(path.join(dir, f), 'utf8')
        expect(text, f).not.to.include(b64(SECRET_TEXT))
        expect(text, f).not.to.include(SECRET_TEXT)
      }

      expect(await buildObjects(client)).to.deep.equal([])
    })

    it('refuses a build that is still running and names it; --force stops and removes it', async () => {
      failing.on = false
      cluster.sim.addScripts([
        {durationMs: 60_000, exitCode: 0, logLines: ['building slowly'], match: {container: 'image-build', podName: /^build-/}},
      ])
      const building = runBin(['build', POOL, '--kubeconfig', cluster.kubeconfig, '--timeout', '3s'])
      await waitFor<Pod, true>(client, R.pods, `build-${rendered}`, (p) => (p?.status?.phase === 'Running' ? true : undefined), {
        namespace: NS,
        timeoutMs: 30_000,
      })
      const r = await run(['cleanup', POOL, '--kubeconfig', cluster.kubeconfig, '--yes'])
      expect(r.exitCode).to.equal(7)
      expect(r.stderr).to.include('a build is still running; cleanup would stop it')
      expect(r.stderr).to.include(`pod/build-${rendered} of pool ${POOL}`)
      expect(r.stderr).to.include('--force')
      expect(await buildObjects(client)).to.have.length(3)
      expect((await building).exitCode).to.equal(9)
      const forced = await run(['cleanup', POOL, '--kubeconfig', cluster.kubeconfig, '--yes', '--force'])
      expect(forced.exitCode, forced.stderr).to.equal(0)
      expect(await buildObjects(client)).to.deep.equal([])
      const c = conds(await client.get<MachineConfigPool>(R.machineConfigPools, POOL))
      expect(c).not.to.have.property('Building')
      expect(c).not.to.have.property('BuildPending')
    })
  })

  describe('with the machine-os-builder running the build', () => {
    let cluster: Cluster
    let client: KubeClient
    const failing = new Switch('^build-')
    after(async () => cluster?.stop())

    it("the cluster's hung build is cleaned up and the cluster builds again by itself; the machine-os-builder is never restarted", async () => {
      cluster = await startSim({
        delays: {buildMs: 300, podStartMs: 50, pollMs: 50, rebootMs: 200},
        mode: 'scripted',
        scripts: [
          {
            exitCode: 1,
            logLines: ['error: building at STEP "RUN false": exit status 1'],
            match: {container: 'image-build', podName: failing},
          },
        ],
      })
      client = new KubeClient(loadKubeconfig({kubeconfig: cluster.kubeconfig}))
      const rendered = await prepare(client)
      const hung = await waitFor<Pod, Pod>(
        client,
        R.pods,
        `build-${rendered}`,
        (p) => (p?.status?.containerStatuses?.find((s) => s.name === 'image-build')?.state?.terminated ? p : undefined),
        {namespace: NS, timeoutMs: 30_000},
      )
      expect(hung.status!.phase).to.equal('Running')
      const mob = await client.get<Deployment>(R.deployments, 'machine-os-builder', NS)
      const label = watchLabel(client)
      failing.on = false
      const r = await run(['cleanup', POOL, '--kubeconfig', cluster.kubeconfig, '--yes'])
      expect(r.exitCode, r.stderr).to.equal(0)
      // The pool has no image yet, so the BuildController starts the next build as soon as the pool is clear.
      const image = await waitFor<MachineConfigPool, string>(
        client,
        R.machineConfigPools,
        POOL,
        (p) => p?.metadata.annotations?.['machineconfiguration.openshift.io/newestImageEquivalentConfig'],
        {timeoutMs: 60_000},
      )
      expect(image).to.match(/@sha256:[0-9a-f]{64}$/)
      const again = await run(['build', POOL, '--kubeconfig', cluster.kubeconfig, '-o', 'json'])
      expect(again.exitCode, again.stderr).to.equal(0)
      expect(JSON.parse(again.stdout).outcome).to.equal('up-to-date')
      expect((await client.get<Deployment>(R.deployments, 'machine-os-builder', NS)).metadata.uid).to.equal(mob.metadata.uid)
      expect((await label.stop()).every(Boolean)).to.equal(true)
    })
  })

  describe("scope: look-alikes of other pools, other namespaces and the user's own objects survive", () => {
    let emu: Emulator
    const RL = 'rendered-layering-0123456789abcdef0123456789abcdef'
    const RL_OLD = 'rendered-layering-fedcba9876543210fedcba9876543210'
    const RO = 'rendered-other-0123456789abcdef0123456789abcdef'
    const labels = (p: string, r: string) => ({
      'machineconfiguration.openshift.io/buildPod': '',
      'machineconfiguration.openshift.io/desiredConfig': r,
      'machineconfiguration.openshift.io/targetMachineConfigPool': p,
    })
    const cm = (name: string, opts: {labels?: Record<string, string>; data?: Record<string, string>; ns?: string} = {}) => ({
      apiVersion: 'v1',
      data: opts.data ?? {x: '1'},
      kind: 'ConfigMap',
      metadata: {labels: opts.labels, name, namespace: opts.ns ?? NS},
    })
    const buildPod = (p: string, r: string, phase: string, imageBuild: Record<string, unknown>, ns = NS) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {labels: labels(p, r), name: `build-${r}`, namespace: ns},
      spec: {
        containers: [
          {image: 'buildah', name: 'image-build'},
          {image: 'rhcos', name: 'wait-for-done'},
        ],
        restartPolicy: 'Never',
      },
      status: {
        containerStatuses: [
          {name: 'image-build', state: imageBuild},
          {name: 'wait-for-done', state: {running: {}}},
        ],
        phase,
      },
    })
    const secret = (name: string, type = 'kubernetes.io/dockerconfigjson') => ({
      apiVersion: 'v1',
      data: {[type === 'kubernetes.io/dockercfg' ? '.dockercfg' : '.dockerconfigjson']: b64('{"auths":{}}')},
      kind: 'Secret',
      metadata: {name, namespace: NS},
      type,
    })
    const failedConditions: Array<[string, string, string?, string?]> = [
      ['Building', 'True', 'BuildRunning'],
      ['BuildFailed', 'False'],
      ['Degraded', 'False'],
      ['RenderDegraded', 'False'],
      ['NodeDegraded', 'False'],
    ]
    const objects = () => [
      ...basicCluster(),
      {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'elsewhere'}},
      // The pool being cleaned: a hung build (image-build failed, pod Running, the pool still says Building)
      // and leftovers of an earlier rendered config.
      pool('layering', {conditions: failedConditions, layered: true, rendered: RL}),
      buildPod('layering', RL, 'Running', {terminated: {exitCode: 1, reason: 'Error'}}),
      cm(`mc-${RL}`, {labels: labels('layering', RL)}),
      cm(`dockerfile-${RL}`, {labels: labels('layering', RL)}),
      cm(`mc-${RL_OLD}`, {labels: labels('layering', RL_OLD)}),
      cm(`digest-${RL_OLD}`, {data: {digest: 'sha256:' + 'd'.repeat(64)}}),
      // Another pool with a failed build of its own.
      pool('other', {
        conditions: [
          ['BuildFailed', 'True', 'BuildFailed'],
          ['Degraded', 'True'],
          ['RenderDegraded', 'True', '', 'Failed to build configuration for pool other: build failed'],
        ],
        layered: true,
        rendered: RO,
      }),
      buildPod('other', RO, 'Failed', {terminated: {exitCode: 1, reason: 'Error'}}),
      cm(`mc-${RO}`, {labels: labels('other', RO)}),
      cm(`dockerfile-${RO}`, {labels: labels('other', RO)}),
      cm(`digest-${RO}`, {data: {digest: 'sha256:' + 'e'.repeat(64)}}),
      // Look-alikes: the pool's labels on a name no build uses, a digest ConfigMap that holds more,
      // the same names in another namespace, the user's own ConfigMaps and secrets.
      cm('my-notes', {labels: labels('layering', RL)}),
      cm(`digest-${RL}`, {data: {digest: 'sha256:' + 'f'.repeat(64), note: 'mine'}}),
      cm(`mc-${RL}`, {labels: labels('layering', RL), ns: 'elsewhere'}),
      buildPod('layering', RL, 'Failed', {terminated: {exitCode: 1}}, 'elsewhere'),
      cm('on-cluster-build-config', {
        data: {
          baseImagePullSecretName: 'pull-secret-copy',
          finalImagePullspec: `${INTERNAL}/ocp/os:latest`,
          finalImagePushSecretName: 'push-canonical',
          imageBuilderType: 'custom-pod-builder',
        },
      }),
      cm('on-cluster-build-custom-dockerfile', {data: {layering: 'FROM configs AS final\n'}}),
      cm('oc-mob-image-history', {data: {layering: '[]'}}),
      cm('dockerfile-layering-notes'),
      secret('pull-secret-copy'),
      secret('pull-secret-copy-canonical'),
      secret('push-canonical'),
      secret('push', 'kubernetes.io/dockercfg'),
      secret('unrelated-canonical'),
    ]

    const inventory = async (): Promise<string[]> => {
      const out: string[] = []
      for (const [r, ns] of [
        [R.configMaps, NS],
        [R.pods, NS],
        [R.secrets, NS],
        [R.configMaps, 'elsewhere'],
        [R.pods, 'elsewhere'],
      ] as const) {
        const list = await new KubeClient(loadKubeconfig({kubeconfig: emu.kubeconfig})).list<KubeObject>(r, {namespace: ns})
        for (const o of list.items)
          if (!(r === R.secrets && o.metadata.name!.startsWith('default-'))) out.push(`${ns}/${r.kind.toLowerCase()}/${o.metadata.name}`)
      }

      return out.sort()
    }

    const poolConds = async (name: string): Promise<Record<string, string>> =>
      conds(await new KubeClient(loadKubeconfig({kubeconfig: emu.kubeconfig})).get<MachineConfigPool>(R.machineConfigPools, name))

    beforeEach(async () => {
      emu = await startEmulator({objects: objects()})
    })
    afterEach(async () => emu?.close())

    it("--dry-run lists exactly the pool's build objects and the provable secret copy, and changes nothing", async () => {
      const before = await inventory()
      const r = await run(['cleanup', 'layering', '--kubeconfig', emu.kubeconfig, '--dry-run', '-o', 'json'])
      expect(r.exitCode, r.stderr).to.equal(0)
      const result = JSON.parse(r.stdout)
      expect(result.outcome).to.equal('dry-run')
      expect(result.items.map((i: {kind: string; name: string}) => `${i.kind}/${i.name}`)).to.deep.equal([
        `Pod/build-${RL}`,
        `ConfigMap/mc-${RL}`,
        `ConfigMap/mc-${RL_OLD}`,
        `ConfigMap/dockerfile-${RL}`,
        `ConfigMap/digest-${RL_OLD}`,
        'Secret/pull-secret-copy-canonical',
      ])
      expect(result.kept.map((k: {name: string}) => k.name).sort()).to.deep.equal([`digest-${RL}`, 'my-notes', 'push-canonical'])
      expect(result.pools).to.deep.equal([
        {
          exists: true,
          pool: 'layering',
          removeConditions: ['Building', 'BuildFailed'],
          removeRefs: [],
          resetConditions: [],
          why: 'its last build failed (BuildFailed blocks new builds)',
        },
      ])
      expect(await inventory()).to.deep.equal(before)
      const table = await run(['cleanup', 'layering', '--kubeconfig', emu.kubeconfig, '--dry-run'])
      expect(table.stdout).to.include(`delete pod/build-${RL}`).and.include('(dry run: nothing was changed)')
      expect(table.stdout).to.include('keep   secret/push-canonical: on-cluster-build-config points at it')
    })

    it("deletes only that: the other pool, other namespaces and the user's objects survive", async () => {
      const before = await inventory()
      const r = await run(['cleanup', 'layering', '--kubeconfig', emu.kubeconfig, '--yes'])
      expect(r.exitCode, r.stderr).to.equal(0)
      const gone = [
        `${NS}/pod/build-${RL}`,
        `${NS}/configmap/mc-${RL}`,
        `${NS}/configmap/mc-${RL_OLD}`,
        `${NS}/configmap/dockerfile-${RL}`,
        `${NS}/configmap/digest-${RL_OLD}`,
        `${NS}/secret/pull-secret-copy-canonical`,
      ]
      expect(await inventory()).to.deep.equal(before.filter((o) => !gone.includes(o)))
      expect(await poolConds('layering')).to.deep.equal({Degraded: 'False', NodeDegraded: 'False', RenderDegraded: 'False'})
      expect(await poolConds('other')).to.deep.include({BuildFailed: 'True', Degraded: 'True', RenderDegraded: 'True'})
      const again = await run(['cleanup', 'layering', '--kubeconfig', emu.kubeconfig, '--yes'])
      expect(again.stdout).to.include('Nothing to clean up for pool layering')
    })

    it("--all covers every pool and still leaves the look-alikes and the user's objects", async () => {
      const before = await inventory()
      const r = await run(['cleanup', '--all', '--kubeconfig', emu.kubeconfig, '--yes', '-o', 'json'])
      expect(r.exitCode, r.stderr).to.equal(0)
      const gone = [
        `build-${RL}`,
        `mc-${RL}`,
        `mc-${RL_OLD}`,
        `dockerfile-${RL}`,
        `digest-${RL_OLD}`,
        'pull-secret-copy-canonical',
        `build-${RO}`,
        `mc-${RO}`,
        `dockerfile-${RO}`,
        `digest-${RO}`,
      ]
      const after = await inventory()
      expect(after).to.deep.equal(before.filter((o) => !(o.startsWith(`${NS}/`) && gone.includes(o.split('/')[2]))))
      expect(after).to.include.members([
        `${NS}/configmap/my-notes`,
        `${NS}/configmap/digest-${RL}`,
        `elsewhere/configmap/mc-${RL}`,
        `elsewhere/pod/build-${RL}`,
        `${NS}/secret/push-canonical`,
        `${NS}/secret/unrelated-canonical`,
        `${NS}/configmap/oc-mob-image-history`,
      ])
      expect(await poolConds('other')).to.deep.equal({Degraded: 'False', RenderDegraded: 'False'})
      const pools = await new KubeClient(loadKubeconfig({kubeconfig: emu.kubeconfig})).list(R.machineConfigPools)
      expect(pools.items.map((p) => p.metadata.name).sort()).to.deep.equal(['layering', 'master', 'other', 'worker'])
    })

    it('without a terminal and without --yes it shows the list and refuses, naming --yes (exit 2); nothing changes', async () => {
      const before = await inventory()
      const r = await runBin(['cleanup', 'layering', '--kubeconfig', emu.kubeconfig])
      expect(r.exitCode).to.equal(2)
      expect(r.stdout).to.include(`delete pod/build-${RL}`)
      expect(r.stderr).to.include('refusing to delete 6 objects without confirmation')
      expect(r.stderr).to.include('--yes')
      expect(await inventory()).to.deep.equal(before)
      expect(await poolConds('layering')).to.include({Building: 'True'})
    })

    it('asks on a terminal and does nothing when the answer is no', async function () {
      const {execa} = await import('execa')
      const script = await execa('sh', ['-c', 'command -v script'], {reject: false})
      if (script.exitCode !== 0) this.skip()
      const before = await inventory()
      const cmd = `${process.execPath} ${cliPath()} cleanup layering --kubeconfig ${emu.kubeconfig}`
      const tty = await execa('script', ['-qec', cmd, '/dev/null'], {
        env: {NO_COLOR: '1'},
        extendEnv: true,
        input: 'n\r',
        reject: false,
        timeout: 60_000,
      })
      expect(String(tty.stdout)).to.include('Delete these 6 objects and clear the build state shown?')
      expect(String(tty.stdout)).to.include('Nothing was changed.')
      expect(await inventory()).to.deep.equal(before)
    })

    it('unknown pool: exit 6 with the pools there are; no pool and no --all: exit 2', async () => {
      const r = await run(['cleanup', 'nope', '--kubeconfig', emu.kubeconfig, '--yes'])
      expect(r.exitCode).to.equal(6)
      expect(r.stderr).to.include('pool nope not found; pools are: layering, master, other, worker')
      const none = await run(['cleanup', '--kubeconfig', emu.kubeconfig])
      expect(none.exitCode).to.equal(2)
      expect(none.stderr).to.include('--all')
    })
  })

  describe('--save with a kubelet that has logs of earlier runs, and an OpenShift Build', () => {
    let emu: Emulator
    let kubelet: FakeKubelet
    let tmp: string
    const RP = 'rendered-podpool-0123456789abcdef0123456789abcdef'
    const RB = 'rendered-buildpool-0123456789abcdef0123456789abcdef'
    const labels = (p: string, r: string) => ({
      'machineconfiguration.openshift.io/buildPod': '',
      'machineconfiguration.openshift.io/desiredConfig': r,
      'machineconfiguration.openshift.io/targetMachineConfigPool': p,
    })

    before(async () => {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-mob-cleanup-save-'))
      kubelet = await startFakeKubelet()
      const failed = [
        ['BuildFailed', 'True', 'BuildFailed'],
        ['Degraded', 'True'],
      ] as Array<[string, string, string?]>
      emu = await startEmulator({
        objects: [
          ...basicCluster(),
          kubelet.nodeObject('node-1'),
          pool('podpool', {conditions: failed, layered: true, rendered: RP}),
          pool('buildpool', {conditions: failed, layered: true, rendered: RB}),
          {
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: {labels: labels('podpool', RP), name: `build-${RP}`, namespace: NS},
            spec: {
              containers: [
                {image: 'b', name: 'image-build'},
                {image: 'r', name: 'wait-for-done'},
              ],
              nodeName: 'node-1',
              restartPolicy: 'Never',
            },
            status: {
              containerStatuses: [
                {lastState: {terminated: {exitCode: 1}}, name: 'image-build', restartCount: 1, state: {terminated: {exitCode: 1}}},
                {name: 'wait-for-done', restartCount: 0, state: {running: {}}},
              ],
              phase: 'Failed',
            },
          },
          {
            apiVersion: 'v1',
            data: {'machineconfig.json.gz': 'not base64 gzip'},
            kind: 'ConfigMap',
            metadata: {labels: labels('podpool', RP), name: `mc-${RP}`, namespace: NS},
          },
          {
            apiVersion: 'v1',
            data: {digest: 'sha256:' + 'a'.repeat(64)},
            kind: 'ConfigMap',
            metadata: {name: `digest-${RP}`, namespace: NS},
          },
          {
            apiVersion: 'build.openshift.io/v1',
            kind: 'Build',
            metadata: {
              annotations: {'openshift.io/build.pod-name': `build-${RB}-build`},
              labels: labels('buildpool', RB),
              name: `build-${RB}`,
              namespace: NS,
            },
            spec: {strategy: {type: 'Docker'}},
            status: {phase: 'Failed'},
          },
          {
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: {name: `build-${RB}-build`, namespace: NS},
            spec: {containers: [{image: 'x', name: 'docker'}], nodeName: 'node-1'},
            status: {phase: 'Failed'},
          },
        ],
      })
      kubelet.setLog(NS, `build-${RP}`, 'image-build', 'second try\nerror: still broken\n')
      kubelet.setLog(NS, `build-${RP}`, 'image-build', 'first try\nerror: broken\n', {previous: true})
      kubelet.setLog(NS, `build-${RP}`, 'wait-for-done', 'waiting\n')
      kubelet.setLog(NS, `build-${RB}-build`, 'docker', 'STEP 1/9: FROM base\nerror: build failed\n')
    })
    after(async () => {
      await emu?.close()
      await kubelet?.close()
      fs.rmSync(tmp, {force: true, recursive: true})
    })

    it("saves the previous run's log of a restarted container, the Build's log, and says what it could not save", async () => {
      const dir = path.join(tmp, 'out')
      const r = await run(['cleanup', '--all', '--kubeconfig', emu.kubeconfig, '--yes', '--save', dir, '-o', 'json'])
      expect(r.exitCode, r.stderr).to.equal(0)
      const result = JSON.parse(r.stdout)
      expect(walk(path.join(dir, 'podpool', RP)).sort()).to.deep.equal([
        'README.txt',
        'digest',
        'logs/image-build.log',
        'logs/image-build.previous.log',
        'logs/wait-for-done.log',
        'machineconfig.json.gz.b64',
        'pod.yaml',
      ])
      const logs = path.join(dir, 'podpool', RP, 'logs')
      expect(fs.readFileSync(path.join(logs, 'image-build.log'), 'utf8')).to.match(/^\S+Z second try\n\S+Z error: still broken\n$/)
      expect(fs.readFileSync(path.join(logs, 'image-build.previous.log'), 'utf8')).to.include('error: broken')
      expect(fs.readFileSync(path.join(dir, 'podpool', RP, 'digest'), 'utf8')).to.equal('sha256:' + 'a'.repeat(64) + '\n')
      expect(result.saved.missing.map((m: {what: string}) => m.what)).to.deep.equal([`configmap/mc-${RP}`])
      expect(fs.readFileSync(path.join(dir, 'podpool', RP, 'README.txt'), 'utf8'))
        .to.include('Not saved:')
        .and.include('not a base64-encoded gzipped MachineConfig')
      expect(walk(path.join(dir, 'buildpool', RB)).sort()).to.deep.equal(['README.txt', 'build.yaml', 'logs/build.log'])
      expect(fs.readFileSync(path.join(dir, 'buildpool', RB, 'logs', 'build.log'), 'utf8')).to.include('error: build failed')
      expect(result.deleted).to.include.members([`pod/build-${RP}`, `build/build-${RB}`, `configmap/mc-${RP}`, `configmap/digest-${RP}`])
    })
  })
})
