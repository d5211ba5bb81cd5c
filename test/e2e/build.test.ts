import {expect} from 'chai'
import {randomBytes} from 'node:crypto'
import {parseAllDocuments} from 'yaml'
import {KubeClient} from '../../src/lib/kube/client.js'
import {loadKubeconfig} from '../../src/lib/kube/kubeconfig.js'
import {R} from '../../src/lib/kube/resources.js'
import type {ConfigMap, MachineConfigPool, Pod, Secret} from '../../src/lib/kube/types.js'
import {waitFor} from '../../src/lib/kube/watch.js'
import {fileText, readImageFs} from '../../emulator/oci/image-fs.js'
import {inspectImage} from '../../emulator/oci/registry.js'
import type {Cluster} from '../../emulator/sim/index.js'
import {run, startCluster} from './harness.js'

const NS = 'openshift-machine-config-operator'
const POOL = 'layering'
const b64 = (s: string): string => Buffer.from(s).toString('base64')

/** The seed's initial setup, done through the API: secrets, build config, the pool and a MachineConfig. */
async function prepare(
  client: KubeClient,
  registry: string,
  opts: {label?: boolean; custom?: string; pool?: string} = {},
): Promise<string> {
  const pool = opts.pool ?? POOL
  const creds = {[registry]: {auth: b64('builder:secret')}}
  const global = await client.get<Secret>(R.secrets, 'pull-secret', 'openshift-config')
  const auths = JSON.parse(Buffer.from(global.data!['.dockerconfigjson'], 'base64').toString()).auths
  if (!(await client.find(R.secrets, 'global-pull-secret-copy', NS))) {
    await client.create<Secret>(R.secrets, {
      data: {'.dockerconfigjson': b64(JSON.stringify({auths: {...auths, ...creds}}))},
      metadata: {name: 'global-pull-secret-copy', namespace: NS},
      type: 'kubernetes.io/dockerconfigjson',
    })
    await client.create<Secret>(R.secrets, {
      data: {'.dockerconfigjson': b64(JSON.stringify({auths: creds}))},
      metadata: {name: 'push-secret', namespace: NS},
      type: 'kubernetes.io/dockerconfigjson',
    })
    await client.create<ConfigMap>(R.configMaps, {
      data: {
        baseImagePullSecretName: 'global-pull-secret-copy',
        finalImagePullspec: `${registry}/ocp/os-image:latest`,
        finalImagePushSecretName: 'push-secret',
        imageBuilderType: 'custom-pod-builder',
      },
      metadata: {name: 'on-cluster-build-config', namespace: NS},
    })
  }

  if (opts.custom !== undefined) {
    const existing = await client.find<ConfigMap>(R.configMaps, 'on-cluster-build-custom-dockerfile', NS)
    if (existing) await client.patch(R.configMaps, 'on-cluster-build-custom-dockerfile', {data: {[pool]: opts.custom}}, {namespace: NS})
    else
      await client.create<ConfigMap>(R.configMaps, {
        data: {[pool]: opts.custom},
        metadata: {name: 'on-cluster-build-custom-dockerfile', namespace: NS},
      })
  }

  await client.create<MachineConfigPool>(R.machineConfigPools, {
    metadata: {labels: opts.label === false ? {} : {'machineconfiguration.openshift.io/layering-enabled': ''}, name: pool},
    spec: {
      machineConfigSelector: {
        matchExpressions: [{key: 'machineconfiguration.openshift.io/role', operator: 'In', values: [pool, 'worker']}],
      },
      nodeSelector: {matchLabels: {[`node-role.kubernetes.io/${pool}`]: ''}},
    },
  })
  await client.create(R.machineConfigs, {
    metadata: {labels: {'machineconfiguration.openshift.io/role': pool}, name: `99-${pool}-oc-mob-test`},
    spec: {
      config: {
        ignition: {version: '3.4.0'},
        storage: {files: [{contents: {source: 'data:,hello%20from%20oc-mob%0A'}, mode: 420, path: '/etc/oc-mob-test'}]},
      },
    },
  })
  // The pool is rendered once from the worker configs alone, then again with its own MachineConfig.
  return waitFor<MachineConfigPool, string>(
    client,
    R.machineConfigPools,
    pool,
    (p) => {
      const name = p?.spec?.configuration?.name
      const withOurs = p?.spec?.configuration?.source?.some((s) => s.name === `99-${pool}-oc-mob-test`)
      return name && withOurs ? name : undefined
    },
    {timeoutMs: 20_000},
  )
}

function emuRequests(cluster: Cluster): Array<{method: string; path: string; user?: string}> {
  return (cluster.emulator as {requests: Array<{method: string; path: string; user?: string}>}).requests
}

async function ephemeral(client: KubeClient): Promise<string[]> {
  const [cms, pods] = await Promise.all([
    client.list<ConfigMap>(R.configMaps, {labelSelector: 'machineconfiguration.openshift.io/buildPod', namespace: NS}),
    client.list<Pod>(R.pods, {labelSelector: 'machineconfiguration.openshift.io/buildPod', namespace: NS}),
  ])
  return [...cms.items.map((c) => `configmap/${c.metadata.name}`), ...pods.items.map((p) => `pod/${p.metadata.name}`)].sort()
}

describe('oc mob build (end to end, simulated cluster)', function () {
  this.timeout(180_000)

  describe('a real buildah build into the loopback registry, the machine-os-builder not running', () => {
    let cluster: Cluster
    let client: KubeClient
    let rendered: string

    before(async function () {
      cluster = await startCluster({controllers: {operator: false}, delays: {podStartMs: 50}, mode: 'auto'})
      if (cluster.sim.mode !== 'real') {
        await cluster.stop()
        console.log(`      (real builds skipped: ${cluster.sim.why})`)
        this.skip()
      }

      client = new KubeClient(loadKubeconfig({kubeconfig: cluster.kubeconfig}))
      rendered = await prepare(client, cluster.sim.registry!.host)
    })
    after(async () => cluster?.stop())

    it('builds, pushes, records the digest on the pool and removes the ephemeral objects', async () => {
      const r = await run(['build', POOL, '--kubeconfig', cluster.kubeconfig, '-o', 'json'])
      expect(r.exitCode, r.stderr).to.equal(0)
      const result = JSON.parse(r.stdout)
      expect(result).to.include({buildName: `build-${rendered}`, joined: false, outcome: 'succeeded', pool: POOL, renderedConfig: rendered})
      const host = cluster.sim.registry!.host
      expect(result.tag).to.equal(`${host}/ocp/os-image:${rendered}`)

      const reg = {url: `http://${host}`}
      const info = await inspectImage(reg, 'ocp/os-image', rendered)
      const digest = info.digest
      expect(result.image).to.equal(`${host}/ocp/os-image@${digest}`)
      const pool = await client.get<MachineConfigPool>(R.machineConfigPools, POOL)
      expect(pool.metadata.annotations!['machineconfiguration.openshift.io/newestImageEquivalentConfig']).to.equal(result.image)
      const cond = Object.fromEntries(pool.status!.conditions!.map((c) => [c.type, c]))
      expect(cond.BuildSuccess).to.include({reason: 'BuildSucceeded', status: 'True'})
      expect(cond.Building.status).to.equal('False')
      expect(cond.BuildFailed.status).to.equal('False')
      expect(pool.spec!.configuration!.source!.some((s) => s.name === `build-${rendered}`)).to.equal(false)

      const {labels} = info
      expect(labels).to.include({baseOSContainerImage: cluster.sim.baseImage, machineconfig: rendered, machineconfigpool: POOL})
      expect(labels).to.have.property('releaseversion')
      const fs = await readImageFs(reg, 'ocp/os-image', rendered)
      expect(fileText(fs, '/etc/oc-mob-test')).to.equal('hello from oc-mob\n')

      expect(await ephemeral(client)).to.deep.equal([])
      expect(await client.find(R.configMaps, `digest-${rendered}`, NS)).to.equal(undefined)
    })

    it('says the pool is up to date on a second run, and builds again with --rebuild', async () => {
      const again = await run(['build', POOL, '--kubeconfig', cluster.kubeconfig])
      expect(again.exitCode, again.stderr).to.equal(0)
      expect(again.stdout).to.include(`pool ${POOL} already has an image for ${rendered}`)
      const rebuilt = await run(['build', POOL, '--kubeconfig', cluster.kubeconfig, '--rebuild', '-o', 'json'])
      expect(rebuilt.exitCode, rebuilt.stderr).to.equal(0)
      expect(JSON.parse(rebuilt.stdout).outcome).to.equal('succeeded')
    })
    it('--local builds the same context with buildah here and pushes it, changing nothing in the cluster', async () => {
      const before = await client.get<MachineConfigPool>(R.machineConfigPools, POOL)
      emuRequests(cluster).length = 0
      // As the read-only `developer`: any write would be refused. (The simulation writes as admin meanwhile.)
      const readOnly = (cluster.emulator as {kubeconfigFor: (id: string) => string}).kubeconfigFor('developer')
      const r = await run([
        'build',
        POOL,
        '--kubeconfig',
        readOnly,
        '--local',
        '--push',
        '--no-tls-verify',
        '--isolation',
        'chroot',
        '--tag',
        `${cluster.sim.registry!.host}/ocp/local-try:1`,
        '-o',
        'json',
      ])
      expect(r.exitCode, r.stderr).to.equal(0)
      const result = JSON.parse(r.stdout)
      expect(result).to.include({engine: 'buildah', pool: POOL, pushed: true, renderedConfig: rendered})
      const info = await inspectImage({url: `http://${cluster.sim.registry!.host}`}, 'ocp/local-try', '1')
      expect(result.digest).to.equal(info.digest)
      expect(info.labels).to.include({machineconfig: rendered, machineconfigpool: POOL})
      const after = await client.get<MachineConfigPool>(R.machineConfigPools, POOL)
      expect(after.metadata.annotations).to.deep.equal(before.metadata.annotations)
      const ours = emuRequests(cluster).filter((q) => q.user === 'developer')
      expect(ours.length).to.be.greaterThan(0)
      expect(ours.filter((q) => q.method !== 'GET')).to.deep.equal([])
    })
  })

  describe('scripted builds', () => {
    let cluster: Cluster
    let client: KubeClient
    let rendered: string
    const INTERNAL = 'image-registry.openshift-image-registry.svc:5000'

    beforeEach(async () => {
      cluster = await startCluster({controllers: {operator: false}, delays: {buildMs: 400, podStartMs: 50, pollMs: 100}, mode: 'scripted'})
      client = new KubeClient(loadKubeconfig({kubeconfig: cluster.kubeconfig}))
    })
    afterEach(async () => cluster?.stop())

    it('--dry-run -o yaml prints every object it would create, never a secret value, and creates nothing', async () => {
      rendered = await prepare(client, INTERNAL)
      const r = await run(['build', POOL, '--kubeconfig', cluster.kubeconfig, '--dry-run', '-o', 'yaml'])
      expect(r.exitCode, r.stderr).to.equal(0)
      const docs = parseAllDocuments(r.stdout).map((d) => d.toJSON())
      expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).to.deep.equal([
        `ConfigMap/mc-${rendered}`,
        `ConfigMap/dockerfile-${rendered}`,
        `Pod/build-${rendered}`,
      ])
      expect(r.stdout).not.to.include(b64('builder:secret'))
      expect(await ephemeral(client)).to.deep.equal([])
    })

    it("follows the log with --follow and records success; the objects match the operator's", async () => {
      rendered = await prepare(client, INTERNAL)
      // Look at the pod while it exists: names, labels, annotation, containers, env, volumes.
      const seen = waitFor<Pod, Pod>(client, R.pods, `build-${rendered}`, (p) => p, {namespace: NS, timeoutMs: 30_000})
      const r = await run(['build', POOL, '--kubeconfig', cluster.kubeconfig, '--follow'])
      expect(r.exitCode, r.stderr).to.equal(0)
      const pod = await seen
      expect(pod.metadata.labels).to.deep.equal({
        'machineconfiguration.openshift.io/buildPod': '',
        'machineconfiguration.openshift.io/desiredConfig': rendered,
        'machineconfiguration.openshift.io/targetMachineConfigPool': POOL,
      })
      expect(pod.metadata.annotations).to.deep.equal({'machineconfiguration.openshift.io/pool': ''})
      expect(pod.spec!.containers.map((c) => c.name)).to.deep.equal(['image-build', 'wait-for-done'])
      expect(pod.spec!.serviceAccountName).to.equal('machine-os-builder')
      expect(r.stdout).to.include(`image:    ${INTERNAL}/ocp/os-image@sha256:`)
      expect(r.stderr.length).to.be.greaterThan(0) // the followed log went to stderr
      expect(await ephemeral(client)).to.deep.equal([])
    })

    it('reports the 4.14 hang at once, shows the last log lines, keeps the objects and marks the pool failed', async () => {
      rendered = await prepare(client, INTERNAL)
      cluster.sim.addScripts([
        {
          exitCode: 1,
          logLines: ['STEP 1/4: FROM base', 'error: building at STEP "RUN exit 1": exit status 1'],
          match: {container: 'image-build', podName: /^build-/},
        },
      ])
      const t0 = Date.now()
      const r = await run(['build', POOL, '--kubeconfig', cluster.kubeconfig])
      expect(Date.now() - t0).to.be.lessThan(20_000)
      expect(r.exitCode).to.equal(8)
      expect(r.stderr).to.include(`build build-${rendered} of pool ${POOL} failed: container image-build exited with code 1`)
      expect(r.stderr).to.include('its pod stays Running')
      expect(r.stderr).to.include('error: building at STEP "RUN exit 1": exit status 1')
      expect(r.stderr).to.include('oc mob logs layering').and.include('oc mob cleanup layering')
      const pod = await client.get<Pod>(R.pods, `build-${rendered}`, NS)
      expect(pod.status!.phase).to.equal('Running')
      expect(await ephemeral(client)).to.deep.equal([
        `configmap/dockerfile-${rendered}`,
        `configmap/mc-${rendered}`,
        `pod/build-${rendered}`,
      ])
      const pool = await client.get<MachineConfigPool>(R.machineConfigPools, POOL)
      const cond = Object.fromEntries(pool.status!.conditions!.map((c) => [c.type, c]))
      expect(cond.BuildFailed).to.include({reason: 'BuildFailed', status: 'True'})
      expect(cond.Degraded.status).to.equal('True')
      expect(cond.RenderDegraded.message).to.equal(`Failed to build configuration for pool ${POOL}: build failed`)

      // A second build refuses until the failure is dealt with; --rebuild starts over.
      const refused = await run(['build', POOL, '--kubeconfig', cluster.kubeconfig])
      expect(refused.exitCode).to.equal(8)
    })

    it('joins a build that the cluster already started instead of starting another', async () => {
      await cluster.stop()
      cluster = await startCluster({delays: {buildMs: 1500, podStartMs: 50, pollMs: 100}, mode: 'scripted'})
      client = new KubeClient(loadKubeconfig({kubeconfig: cluster.kubeconfig}))
      rendered = await prepare(client, INTERNAL)
      await waitFor<Pod, true>(client, R.pods, `build-${rendered}`, (p) => (p ? true : undefined), {namespace: NS, timeoutMs: 30_000})
      const r = await run(['build', POOL, '--kubeconfig', cluster.kubeconfig, '-o', 'json'])
      expect(r.exitCode, r.stderr).to.equal(0)
      const result = JSON.parse(r.stdout)
      expect(result).to.include({joined: true, outcome: 'succeeded'})
      const pool = await client.get<MachineConfigPool>(R.machineConfigPools, POOL)
      expect(pool.metadata.annotations!['machineconfiguration.openshift.io/newestImageEquivalentConfig']).to.equal(result.image)
    })

    describe('bad input: a clear message and nothing created', () => {
      async function expectNothingCreated(before: MachineConfigPool | undefined): Promise<void> {
        expect(await ephemeral(client)).to.deep.equal([])
        if (before) {
          // The build's own marks on the pool (the node controller keeps updating Updated/Updating meanwhile).
          const marks = (p: MachineConfigPool) =>
            (p.status?.conditions ?? []).filter((c) =>
              ['BuildPending', 'Building', 'BuildSuccess', 'BuildFailed', 'Degraded', 'RenderDegraded'].includes(c.type),
            )
          const after = await client.get<MachineConfigPool>(R.machineConfigPools, POOL)
          expect(marks(after)).to.deep.equal(marks(before))
          expect(after.metadata.annotations ?? {}).to.deep.equal(before.metadata.annotations ?? {})
          expect(after.spec?.configuration?.source).to.deep.equal(before.spec?.configuration?.source)
        }
      }

      it('unknown pool (exit 6)', async () => {
        const r = await run(['build', 'nope', '--kubeconfig', cluster.kubeconfig])
        expect(r.exitCode).to.equal(6)
        expect(r.stderr).to.include('pool nope not found; pools are: master, worker')
        await expectNothingCreated(undefined)
      })

      it('pool not opted in says how to opt in (exit 7)', async () => {
        await prepare(client, INTERNAL, {label: false})
        const before = await client.get<MachineConfigPool>(R.machineConfigPools, POOL)
        const r = await run(['build', POOL, '--kubeconfig', cluster.kubeconfig])
        expect(r.exitCode).to.equal(7)
        expect(r.stderr).to.include('pool layering is not opted into on-cluster builds').and.include('oc mob enable layering')
        await expectNothingCreated(before)
      })

      it('missing build config (exit 6), missing secret (exit 6), secret of the wrong type, no credentials for the registry, bad pullspec (exit 7)', async () => {
        await prepare(client, INTERNAL)
        const before = await client.get<MachineConfigPool>(R.machineConfigPools, POOL)
        const cm = await client.get<ConfigMap>(R.configMaps, 'on-cluster-build-config', NS)
        await client.delete(R.configMaps, 'on-cluster-build-config', {namespace: NS})
        let r = await run(['build', POOL, '--kubeconfig', cluster.kubeconfig])
        expect([r.exitCode, r.stderr]).to.satisfy(
          ([code, err]: [number, string]) =>
            code === 6 &&
            err.includes('on-cluster-build-config ConfigMap missing in openshift-machine-config-operator') &&
            err.includes('oc mob setup'),
        )
        await client.create(R.configMaps, {
          data: {...cm.data, finalImagePushSecretName: 'nope'},
          metadata: {name: 'on-cluster-build-config', namespace: NS},
        })
        r = await run(['build', POOL, '--kubeconfig', cluster.kubeconfig])
        expect(r.exitCode).to.equal(6)
        expect(r.stderr).to.include(
          'secret nope from on-cluster-build-config (final image push secret) is not found in openshift-machine-config-operator',
        )
        await client.create<Secret>(R.secrets, {data: {token: b64('x')}, metadata: {name: 'opaque', namespace: NS}, type: 'Opaque'})
        await client.patch(R.configMaps, 'on-cluster-build-config', {data: {finalImagePushSecretName: 'opaque'}}, {namespace: NS})
        r = await run(['build', POOL, '--kubeconfig', cluster.kubeconfig])
        expect(r.exitCode).to.equal(7)
        expect(r.stderr).to.include('secret opaque has type Opaque; it must be kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg')
        await client.create<Secret>(R.secrets, {
          data: {'.dockerconfigjson': b64(JSON.stringify({auths: {'quay.io': {auth: b64('a:b')}}}))},
          metadata: {name: 'elsewhere', namespace: NS},
          type: 'kubernetes.io/dockerconfigjson',
        })
        await client.patch(R.configMaps, 'on-cluster-build-config', {data: {finalImagePushSecretName: 'elsewhere'}}, {namespace: NS})
        r = await run(['build', POOL, '--kubeconfig', cluster.kubeconfig])
        expect(r.exitCode).to.equal(7)
        expect(r.stderr).to.include(`final image push secret elsewhere has no credentials for ${INTERNAL}`)
        await client.patch(
          R.configMaps,
          'on-cluster-build-config',
          {data: {finalImagePullspec: 'Not A Pullspec', finalImagePushSecretName: 'push-secret'}},
          {namespace: NS},
        )
        r = await run(['build', POOL, '--kubeconfig', cluster.kubeconfig])
        expect(r.exitCode).to.equal(7)
        expect(r.stderr).to.include('finalImagePullspec "Not A Pullspec" is not a valid image pullspec')
        await expectNothingCreated(before)
      })

      it('invalid custom Dockerfile: each problem with its line (exit 7)', async () => {
        await prepare(client, INTERNAL, {custom: 'FROM configs AS final\nRUNN echo\nFROM configs AS other\n'})
        const before = await client.get<MachineConfigPool>(R.machineConfigPools, POOL)
        const r = await run(['build', POOL, '--kubeconfig', cluster.kubeconfig])
        expect(r.exitCode).to.equal(7)
        expect(r.stderr).to.include(
          'the custom Dockerfile of pool layering (on-cluster-build-custom-dockerfile, key layering) has 2 problems',
        )
        expect(r.stderr).to.include('line 2: Unknown instruction: RUNN')
        expect(r.stderr).to.include('line 3: the last stage must be `FROM configs AS final`')
        await expectNothingCreated(before)
      })

      it('oversized MachineConfig: the actual size, checked before anything is created (exit 7)', async () => {
        await prepare(client, INTERNAL)
        const before = await client.get<MachineConfigPool>(R.machineConfigPools, POOL)
        // 1.2 MB of incompressible content in a MachineConfig of the pool.
        const noise = randomBytes(900_000)
        await client.create(R.machineConfigs, {
          metadata: {labels: {'machineconfiguration.openshift.io/role': POOL}, name: '99-layering-big'},
          spec: {
            config: {
              ignition: {version: '3.4.0'},
              storage: {files: [{contents: {source: `data:;base64,${noise.toString('base64')}`}, path: '/etc/big'}]},
            },
          },
        })
        await waitFor<MachineConfigPool, true>(
          client,
          R.machineConfigPools,
          POOL,
          (p) => (p?.spec?.configuration?.name !== before.spec!.configuration!.name ? true : undefined),
          {timeoutMs: 20_000},
        )
        const r = await run(['build', POOL, '--kubeconfig', cluster.kubeconfig])
        expect(r.exitCode).to.equal(7)
        expect(r.stderr).to.match(
          /the rendered MachineConfig rendered-layering-\w+ is \d+ bytes \(1\.\d\d MiB\) after encoding; a ConfigMap holds at most 1048576 bytes/,
        )
        expect(await ephemeral(client)).to.deep.equal([])
      })
    })
  })
})
