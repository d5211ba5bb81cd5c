import {expect} from 'chai'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {parseAllDocuments} from 'yaml'
import {KubeClient} from '../../src/lib/kube/client.js'
import {loadKubeconfig} from '../../src/lib/kube/kubeconfig.js'
import {R} from '../../src/lib/kube/resources.js'
import type {ConfigMap, KubeObject, MachineConfigPool, Secret} from '../../src/lib/kube/types.js'
import {defaultFixturePath, type Emulator, type EmulatorOptions} from '../../emulator/index.js'
import {resubmitWritesDryRun} from './dry-run.js'
import {MCO_NS, run, runBin, startEmulator} from './harness.js'

const NS = MCO_NS
const INTERNAL = 'image-registry.openshift-image-registry.svc:5000/openshift-machine-config-operator/os-image'
const b64 = (s: string): string => Buffer.from(s).toString('base64')
const dockerSecret = (name: string, auths: Record<string, {auth: string}>): Secret => ({
  data: {'.dockerconfigjson': b64(JSON.stringify({auths}))},
  metadata: {name, namespace: NS},
  type: 'kubernetes.io/dockerconfigjson',
})

/** Every request that could have changed something (access reviews only ask). */
function writes(emu: Emulator): string[] {
  return emu.requests.filter((r) => r.method !== 'GET' && !r.path.includes('selfsubjectaccessreviews')).map((r) => `${r.method} ${r.path}`)
}

async function cluster(extra: EmulatorOptions = {}): Promise<{emu: Emulator; client: KubeClient}> {
  const emu = await startEmulator({
    fixture: defaultFixturePath(),
    recordWrites: true,
    ...extra,
    groups: {machineOS: false, ...extra.groups},
  })
  return {client: new KubeClient(loadKubeconfig({kubeconfig: emu.kubeconfig})), emu}
}

describe('oc mob setup (end to end, flags only)', function () {
  this.timeout(120_000)
  let emu: Emulator
  let client: KubeClient
  let tmp: string

  beforeEach(async () => {
    ;({client, emu} = await cluster())
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-mob-setup-'))
  })
  afterEach(async () => {
    try {
      // every write setup made still passes a server-side dry run against the cluster it left
      if (emu) expect((await resubmitWritesDryRun(emu)).refused).to.deep.equal([])
    } finally {
      await emu?.close()
      fs.rmSync(tmp, {force: true, recursive: true})
    }
  })

  const internalArgs = (): string[] => [
    'setup',
    '--no-registry-check',
    '--kubeconfig',
    emu.kubeconfig,
    '--imagestream',
    'os-image',
    '--clone-global-pull-secret',
    '--yes',
  ]

  it('internal registry: creates the ImageStream, the pull secret copy, the build config and the pool; a second run changes nothing', async () => {
    const r = await run(internalArgs())
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stdout).to.match(/create\s+imagestream\/os-image -n openshift-machine-config-operator/)
    expect(r.stdout).to.match(
      /create\s+secret\/global-pull-secret-copy .*copy of openshift-config\/pull-secret \(registries: cloud\.openshift\.com, quay\.io/,
    )
    expect(r.stdout).to.match(
      /create\s+machineconfigpool\/layering: create with machineConfigSelector machineconfiguration\.openshift\.io\/role In \[layering, worker\], nodeSelector node-role\.kubernetes\.io\/layering=/,
    )
    expect(r.stdout).to.include('imageBuilderType is written explicitly as custom-pod-builder')
    expect(r.stdout).to.include(
      'builder-dockercfg-7wq9x is a legacy .dockercfg secret: the operator converts it into builder-dockercfg-7wq9x-canonical',
    )
    expect(r.stdout).to.include('✔ created configmap/on-cluster-build-config -n openshift-machine-config-operator')
    expect(r.stdout).to.include('next: opt the pool in with `oc mob enable layering --wait`')
    expect(r.stderr).to.include(
      "! push secret lifetime: builder-dockercfg-7wq9x is the builder service account's token secret: OpenShift rotates builder-dockercfg-* secrets",
    )
    expect(r.stderr).to.include('✔ permissions: the current user may make these changes')

    const global = await client.get<Secret>(R.secrets, 'pull-secret', 'openshift-config')
    const builder = await client.get<Secret>(R.secrets, 'builder-dockercfg-7wq9x', NS)
    for (const value of [global.data!['.dockerconfigjson'], builder.data!['.dockercfg']]) {
      expect(r.stdout + r.stderr).not.to.include(value.slice(0, 24))
    }

    const is = await client.get<KubeObject & {status?: {dockerImageRepository?: string}}>(R.imageStreams, 'os-image', NS)
    expect(is.status?.dockerImageRepository).to.equal(INTERNAL)
    const copy = await client.get<Secret>(R.secrets, 'global-pull-secret-copy', NS)
    expect(copy.type).to.equal('kubernetes.io/dockerconfigjson')
    expect(copy.data).to.deep.equal(global.data)
    const cm = await client.get<ConfigMap>(R.configMaps, 'on-cluster-build-config', NS)
    expect(cm.data).to.deep.equal({
      baseImagePullSecretName: 'global-pull-secret-copy',
      finalImagePullspec: INTERNAL,
      finalImagePushSecretName: 'builder-dockercfg-7wq9x',
      imageBuilderType: 'custom-pod-builder',
    })
    const pool = await client.get<MachineConfigPool>(R.machineConfigPools, 'layering')
    expect(pool.spec!.machineConfigSelector).to.deep.equal({
      matchExpressions: [{key: 'machineconfiguration.openshift.io/role', operator: 'In', values: ['layering', 'worker']}],
    })
    expect(pool.spec!.nodeSelector).to.deep.equal({matchLabels: {'node-role.kubernetes.io/layering': ''}})
    expect(pool.metadata.labels ?? {}).not.to.have.property('machineconfiguration.openshift.io/layering-enabled')
    expect(await client.find(R.configMaps, 'on-cluster-build-custom-dockerfile', NS)).to.equal(undefined)

    emu.resetRequests()
    const again = await run(internalArgs())
    expect(again.exitCode, again.stderr).to.equal(0)
    expect(again.stdout).to.match(/unchanged\s+configmap\/on-cluster-build-config/)
    expect(again.stdout).to.include('nothing to do: everything is set up already')
    // Said when the secret was chosen; a re-run does not say it again (doctor and status keep track of it).
    expect(again.stderr).not.to.include('push secret lifetime')
    expect(writes(emu)).to.deep.equal([])

    // The operator points the config at the canonical copy of the legacy builder secret: still the same setup.
    await client.patch(
      R.configMaps,
      'on-cluster-build-config',
      {data: {finalImagePushSecretName: 'builder-dockercfg-7wq9x-canonical'}},
      {namespace: NS},
    )
    emu.resetRequests()
    const third = await run([...internalArgs(), '-o', 'json'])
    expect(third.exitCode, third.stderr).to.equal(0)
    const result = JSON.parse(third.stdout)
    expect(result.outcome).to.equal('unchanged')
    expect(result.checks.map((c: {id: string}) => c.id)).not.to.include('push-secret-rotation')
    expect(result.items.map((i: {action: string}) => i.action)).to.deep.equal(['unchanged', 'unchanged', 'unchanged', 'unchanged'])
    expect(writes(emu)).to.deep.equal([])
  })

  it('an existing pool keeps its selectors unless others are asked for, and then only with --force', async () => {
    expect((await run(internalArgs())).exitCode).to.equal(0)
    emu.resetRequests()
    const r = await run([...internalArgs(), '--node-selector', 'disk=ssd'])
    expect(r.exitCode).to.equal(7)
    expect(r.stdout).to.match(/differs\s+machineconfigpool\/layering: exists with other selectors \(changed only with --force\)/)
    expect(r.stdout).to.include('-    node-role.kubernetes.io/layering: ""').and.include('+    disk: ssd')
    expect(writes(emu)).to.deep.equal([])
    const forced = await run([...internalArgs(), '--node-selector', 'disk=ssd', '--force'])
    expect(forced.exitCode, forced.stderr).to.equal(0)
    const pool = await client.get<MachineConfigPool>(R.machineConfigPools, 'layering')
    expect(pool.spec!.nodeSelector).to.deep.equal({matchLabels: {disk: 'ssd'}})
    expect(pool.spec!.machineConfigSelector!.matchExpressions![0].values).to.deep.equal(['layering', 'worker'])
  })

  it('--dry-run -o yaml prints the objects (secret data redacted) and creates nothing', async () => {
    emu.resetRequests()
    const r = await run([...internalArgs().filter((a) => a !== '--yes'), '--dry-run', '-o', 'yaml'])
    expect(r.exitCode, r.stderr).to.equal(0)
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJSON())
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).to.deep.equal([
      'ImageStream/os-image',
      'Secret/global-pull-secret-copy',
      'ConfigMap/on-cluster-build-config',
      'MachineConfigPool/layering',
    ])
    expect(docs[1].data).to.deep.equal({'.dockerconfigjson': '(redacted)'})
    expect(docs[2].data.imageBuilderType).to.equal('custom-pod-builder')
    expect(writes(emu)).to.deep.equal([])
    expect(await client.find(R.imageStreams, 'os-image', NS)).to.equal(undefined)
    expect(await client.find(R.secrets, 'global-pull-secret-copy', NS)).to.equal(undefined)
    expect(await client.find(R.configMaps, 'on-cluster-build-config', NS)).to.equal(undefined)
    expect(await client.find(R.machineConfigPools, 'layering')).to.equal(undefined)

    const table = await run([...internalArgs(), '--dry-run'])
    expect(table.exitCode, table.stderr).to.equal(0)
    expect(table.stdout).to.include('(dry run)').and.include('dry run: nothing was changed')
    expect(writes(emu)).to.deep.equal([])
  })

  it("external registry: a custom Dockerfile next to other pools' entries, opt-in, and a diff (not an overwrite) without --force", async () => {
    await client.create<Secret>(R.secrets, dockerSecret('quay-push', {'quay.io/myorg': {auth: b64('robot:token')}}))
    await client.create<ConfigMap>(R.configMaps, {
      data: {other: 'FROM configs AS final\nRUN echo other\n'},
      metadata: {name: 'on-cluster-build-custom-dockerfile', namespace: NS},
    })
    const file = path.join(tmp, 'Dockerfile')
    fs.writeFileSync(file, 'FROM configs AS final\nRUN echo one > /etc/one\n')
    const args = [
      'setup',
      '--no-registry-check',
      '--kubeconfig',
      emu.kubeconfig,
      '--pool',
      'layering',
      '--final-pullspec',
      'quay.io/myorg/os-image:latest',
      '--clone-global-pull-secret',
      '--push-secret',
      'quay-push',
      '--custom-dockerfile',
      file,
      '--enable',
      '--yes',
    ]
    const r = await run(args)
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stderr).to.include(
      '! final image pullspec: the tag "latest" of quay.io/myorg/os-image:latest is ignored: images are pushed as quay.io/myorg/os-image:<rendered config name>',
    )
    expect(r.stdout).to.match(
      /update\s+configmap\/on-cluster-build-custom-dockerfile .*add the entry layering \(2 lines\); the entries of other are kept/,
    )
    expect(r.stdout).to.match(/update\s+machineconfigpool\/layering: add the label machineconfiguration\.openshift\.io\/layering-enabled=/)
    expect(r.stdout).to.include('pool layering is opted in')
    expect(r.stdout).not.to.include('does not start a build by itself')
    const custom = await client.get<ConfigMap>(R.configMaps, 'on-cluster-build-custom-dockerfile', NS)
    expect(custom.data).to.deep.equal({
      layering: 'FROM configs AS final\nRUN echo one > /etc/one\n',
      other: 'FROM configs AS final\nRUN echo other\n',
    })
    const cm = await client.get<ConfigMap>(R.configMaps, 'on-cluster-build-config', NS)
    expect(cm.data).to.include({finalImagePullspec: 'quay.io/myorg/os-image:latest', finalImagePushSecretName: 'quay-push'})
    const pool = await client.get<MachineConfigPool>(R.machineConfigPools, 'layering')
    expect(pool.metadata.labels).to.have.property('machineconfiguration.openshift.io/layering-enabled', '')

    // Another Dockerfile and another builder: shown as diffs, nothing written.
    fs.writeFileSync(file, 'FROM configs AS final\nRUN echo two > /etc/two\n')
    emu.resetRequests()
    const conflict = await run([...args, '--builder', 'build'])
    expect(conflict.exitCode).to.equal(7)
    expect(conflict.stderr).to.include(
      '2 existing objects differ from what setup would write: configmap/on-cluster-build-config -n openshift-machine-config-operator, configmap/on-cluster-build-custom-dockerfile -n openshift-machine-config-operator; nothing was changed',
    )
    expect(conflict.stderr).to.include('re-run with --force to overwrite')
    expect(conflict.stdout)
      .to.include('-  imageBuilderType: custom-pod-builder')
      .and.include('+  imageBuilderType: openshift-image-builder')
    expect(conflict.stdout).to.include('-RUN echo one > /etc/one').and.include('+RUN echo two > /etc/two')
    expect(writes(emu)).to.deep.equal([])

    const forced = await run([...args, '--builder', 'build', '--force'])
    expect(forced.exitCode, forced.stderr).to.equal(0)
    expect(forced.stdout).to.include('the 4.14 machine-os-builder reads imageBuilderType only when it starts')
    expect(forced.stdout).to.include(
      'a new custom Dockerfile does not start a build by itself on 4.14/4.15: build it with `oc mob build layering --rebuild`',
    )
    expect((await client.get<ConfigMap>(R.configMaps, 'on-cluster-build-config', NS)).data!.imageBuilderType).to.equal(
      'openshift-image-builder',
    )
    expect((await client.get<ConfigMap>(R.configMaps, 'on-cluster-build-custom-dockerfile', NS)).data).to.deep.equal({
      layering: 'FROM configs AS final\nRUN echo two > /etc/two\n',
      other: 'FROM configs AS final\nRUN echo other\n',
    })
  })

  it('a global pull secret copy that went stale is shown by registry, never by value', async () => {
    expect((await run(internalArgs())).exitCode).to.equal(0)
    await client.update<Secret>(
      R.secrets,
      'pull-secret',
      (s) => {
        const cfg = JSON.parse(Buffer.from(s.data!['.dockerconfigjson'], 'base64').toString())
        cfg.auths['registry.example.com'] = {auth: b64('someone:s3cr3t-value')}
        cfg.auths['quay.io'] = {auth: b64('other:credentials')}
        s.data = {'.dockerconfigjson': b64(JSON.stringify(cfg))}
      },
      {namespace: 'openshift-config'},
    )
    const r = await run(internalArgs())
    expect(r.exitCode).to.equal(7)
    expect(r.stdout).to.match(/differs\s+secret\/global-pull-secret-copy/)
    expect(r.stdout).to.include('+  - quay.io (credentials differ)').and.include('+  - registry.example.com')
    expect(r.stdout + r.stderr)
      .not.to.include('s3cr3t')
      .and.not.include(b64('someone:s3cr3t-value'))
  })

  it('stops midway on a failed create, says what was done, and a re-run completes the setup', async () => {
    emu.faults.failNext({method: 'POST', path: `/api/v1/namespaces/${NS}/configmaps`}, 1, 500, 'etcdserver: request timed out')
    const r = await run(internalArgs())
    expect(r.exitCode).to.equal(4)
    expect(r.stderr).to.include('error: setup stopped at create configmap/on-cluster-build-config -n openshift-machine-config-operator')
    expect(r.stderr).to.include(
      'done: created imagestream/os-image -n openshift-machine-config-operator, created secret/global-pull-secret-copy -n openshift-machine-config-operator',
    )
    expect(r.stderr).to.include(
      'not done: create configmap/on-cluster-build-config -n openshift-machine-config-operator, create machineconfigpool/layering',
    )
    expect(r.stderr).to.include('next: fix the cause and run the same command again')
    expect(await client.find(R.imageStreams, 'os-image', NS)).not.to.equal(undefined)
    expect(await client.find(R.configMaps, 'on-cluster-build-config', NS)).to.equal(undefined)
    expect(await client.find(R.machineConfigPools, 'layering')).to.equal(undefined)

    const again = await run(internalArgs())
    expect(again.exitCode, again.stderr).to.equal(0)
    expect(again.stdout)
      .to.match(/unchanged\s+imagestream\/os-image/)
      .and.match(/unchanged\s+secret\/global-pull-secret-copy/)
    expect(again.stdout).to.include('✔ created configmap/on-cluster-build-config').and.include('✔ created machineconfigpool/layering')
    expect(await client.find(R.machineConfigPools, 'layering')).not.to.equal(undefined)
  })

  describe('failed preflight checks change nothing', () => {
    const cases: Array<{
      name: string
      args: string[]
      exit: number
      says: string[]
      prepare?: (client: KubeClient, tmp: string) => Promise<void>
    }> = [
      {
        args: ['--final-pullspec', 'quay.io/myorg/os', '--base-pull-secret', 'nope', '--push-secret', 'quay-push'],
        exit: 6,
        name: 'a missing secret',
        says: [
          'the base image pull secret nope does not exist in openshift-machine-config-operator',
          'fix: create it, or clone the global pull secret with --clone-global-pull-secret',
        ],
      },
      {
        args: ['--final-pullspec', 'quay.io/myorg/os', '--clone-global-pull-secret', '--push-secret', 'elsewhere-push'],
        exit: 7,
        name: 'a push secret without credentials for the registry',
        says: [
          'the final image push secret elsewhere-push has no credentials for quay.io, where the built image quay.io/myorg/os is pushed',
          'it has credentials for: registry.example.com',
        ],
      },
      {
        args: ['--final-pullspec', 'registry.example.com/org/os', '--clone-global-pull-secret', '--push-secret', 'elsewhere-push'],
        exit: 7,
        name: "a global pull secret without the final image's registry",
        says: [
          'openshift-config/pull-secret has no pull credentials for registry.example.com: nodes pull the built image with it and could not get it',
          'oc set data secret/pull-secret -n openshift-config',
        ],
      },
      {
        args: ['--final-pullspec', 'quay.io/myorg/os', '--clone-global-pull-secret', '--push-secret', 'opaque'],
        exit: 7,
        name: 'a secret that is not a docker config',
        says: ['secret opaque has type Opaque; it must be kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg'],
      },
      {
        args: ['--final-pullspec', `quay.io/myorg/os@sha256:${'a'.repeat(64)}`, '--clone-global-pull-secret', '--push-secret', 'quay-push'],
        exit: 7,
        name: 'a digest pullspec',
        says: ['names a digest; the built image is pushed to a tag'],
      },
      {
        args: ['--imagestream', 'os-image', '--clone-global-pull-secret', '--custom-dockerfile', 'BAD'],
        exit: 7,
        name: 'a custom Dockerfile whose last stage is not configs',
        says: [
          'the custom Dockerfile has 1 problem',
          'line 2: the last stage must be `FROM configs AS final` (it is `FROM quay.io/centos/centos:stream9`',
        ],
      },
      {
        args: ['--imagestream', 'os-image', '--clone-global-pull-secret'],
        exit: 7,
        name: 'a degraded pool',
        prepare: async (client) => {
          await client.update<MachineConfigPool>(
            R.machineConfigPools,
            'worker',
            (p) => {
              p.status!.conditions = [
                ...(p.status!.conditions ?? []).filter((c) => c.type !== 'Degraded' && c.type !== 'NodeDegraded'),
                {
                  message: 'Node ip-10-0-22-17 is reporting: "boom"',
                  reason: '1 nodes are reporting degraded status on sync',
                  status: 'True',
                  type: 'NodeDegraded',
                },
                {status: 'True', type: 'Degraded'},
              ]
            },
            {subresource: 'status'},
          )
        },
        says: [
          '1 pool is degraded: worker',
          'pool worker: NodeDegraded: Node ip-10-0-22-17 is reporting: "boom"',
          'the operator builds no images while a pool is degraded',
        ],
      },
    ]

    for (const c of cases) {
      it(c.name, async () => {
        await client.create<Secret>(R.secrets, dockerSecret('quay-push', {'quay.io': {auth: b64('robot:token')}}))
        await client.create<Secret>(R.secrets, dockerSecret('elsewhere-push', {'registry.example.com': {auth: b64('robot:token')}}))
        await client.create<Secret>(R.secrets, {data: {token: b64('x')}, metadata: {name: 'opaque', namespace: NS}, type: 'Opaque'})
        const bad = path.join(tmp, 'Dockerfile.bad')
        fs.writeFileSync(bad, 'FROM configs AS final\nFROM quay.io/centos/centos:stream9\nRUN true\n')
        await c.prepare?.(client, tmp)
        emu.resetRequests()
        const r = await run([
          'setup',
          '--no-registry-check',
          '--kubeconfig',
          emu.kubeconfig,
          ...c.args.map((a) => (a === 'BAD' ? bad : a)),
          '--yes',
        ])
        expect(r.exitCode, r.stderr).to.equal(c.exit)
        expect(r.stderr).to.include('nothing was changed')
        for (const s of c.says) expect(r.stderr).to.include(s)
        expect(writes(emu)).to.deep.equal([])
        expect(await client.find(R.configMaps, 'on-cluster-build-config', NS)).to.equal(undefined)
      })
    }

    it('a user without the rights (SelfSubjectAccessReview), listing every missing permission', async () => {
      emu.resetRequests()
      const r = await run([
        'setup',
        '--no-registry-check',
        '--kubeconfig',
        emu.kubeconfigFor('developer'),
        '--imagestream',
        'os-image',
        '--clone-global-pull-secret',
        '--enable',
        '--yes',
      ])
      expect(r.exitCode).to.equal(5)
      expect(r.stderr).to.include('the current user (context emulator) may not make these changes: 5 permissions are missing')
      for (const p of [
        'not allowed to create imagestreams.image.openshift.io in namespace openshift-machine-config-operator',
        'not allowed to create secrets in namespace openshift-machine-config-operator',
        'not allowed to create configmaps in namespace openshift-machine-config-operator',
        'not allowed to create machineconfigpools.machineconfiguration.openshift.io (cluster scope)',
        'not allowed to patch machineconfigpools.machineconfiguration.openshift.io "layering" (cluster scope)',
      ])
        expect(r.stderr).to.include(p)
      expect(r.stderr).to.include('fix: log in as a cluster administrator')
      // Said once: the check list has the reason and the fix; the error only points at it.
      expect(r.stderr).to.include('error: setup preflight failed: the permissions check above failed; nothing was changed')
      expect(r.stderr.split('log in as a cluster administrator').length - 1).to.equal(1)
      expect(writes(emu)).to.deep.equal([])
    })
  })

  it('a cluster without the MachineConfig API is refused with exit code 10', async () => {
    const plain = await cluster({groups: {machineConfig: false}})
    try {
      const r = await run([
        'setup',
        '--no-registry-check',
        '--kubeconfig',
        plain.emu.kubeconfig,
        '--imagestream',
        'os-image',
        '--clone-global-pull-secret',
        '--yes',
      ])
      expect(r.exitCode).to.equal(10)
      expect(r.stderr).to.include(
        `error: the cluster at ${plain.emu.url} does not serve the MachineConfig API (machineconfiguration.openshift.io/v1)`,
      )
      expect(writes(plain.emu)).to.deep.equal([])
    } finally {
      await plain.emu.close()
    }
  })

  it('without a terminal, a re-run keeps the current settings it is not given: one flag changes one thing', async () => {
    expect((await run(internalArgs())).exitCode).to.equal(0)
    // The operator's canonical copy of the legacy builder secret, as a 4.14 cluster has it after the first build.
    const cmBefore = await client.get<ConfigMap>(R.configMaps, 'on-cluster-build-config', NS)
    const builderSecret = cmBefore.data!.finalImagePushSecretName
    await client.create<Secret>(
      R.secrets,
      dockerSecret(`${builderSecret}-canonical`, {[INTERNAL.split('/')[0]]: {auth: b64('builder:token')}}),
    )
    await client.patch<ConfigMap>(
      R.configMaps,
      'on-cluster-build-config',
      {data: {finalImagePushSecretName: `${builderSecret}-canonical`}},
      {namespace: NS},
    )
    const cm = await client.get<ConfigMap>(R.configMaps, 'on-cluster-build-config', NS)
    const file = path.join(tmp, 'Dockerfile')
    fs.writeFileSync(file, 'FROM configs AS final\nRUN echo kept > /etc/kept\n')
    emu.resetRequests()

    const r = await runBin(['setup', '--no-registry-check', '--kubeconfig', emu.kubeconfig, '--custom-dockerfile', file, '--yes'])
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stdout).to.match(new RegExp(`image: +${INTERNAL} \\(ImageStream os-image\\) \\(current, kept\\)`))
    expect(r.stdout).to.match(/base pull secret: global-pull-secret-copy \(current, kept\)/)
    expect(r.stdout).to.match(new RegExp(`push secret: +${builderSecret} \\(current, kept\\)`))
    expect(r.stdout).to.match(/builder: +custom-pod-builder \(current, kept\)/)
    expect(r.stdout).to.match(/create\s+configmap\/on-cluster-build-custom-dockerfile/)
    // Only the custom Dockerfile was written; the build config (and its canonical secret name) is as it was.
    expect(writes(emu)).to.deep.equal([`POST /api/v1/namespaces/${NS}/configmaps`])
    const after = await client.get<ConfigMap>(R.configMaps, 'on-cluster-build-config', NS)
    expect(after.metadata.resourceVersion).to.equal(cm.metadata.resourceVersion)
    expect((await client.get<ConfigMap>(R.configMaps, 'on-cluster-build-custom-dockerfile', NS)).data).to.deep.equal({
      layering: 'FROM configs AS final\nRUN echo kept > /etc/kept\n',
    })

    // Given values win over the current ones (a change still needs --force); the JSON result says which were kept.
    const json = await runBin([
      'setup',
      '--no-registry-check',
      '--kubeconfig',
      emu.kubeconfig,
      '--builder',
      'build',
      '--force',
      '--yes',
      '-o',
      'json',
    ])
    expect(json.exitCode, json.stderr).to.equal(0)
    const result = JSON.parse(json.stdout)
    expect(result.kept).to.deep.equal(['finalImagePullspec', 'baseImagePullSecret', 'finalImagePushSecret'])
    expect(result.settings.imageBuilderType).to.equal('openshift-image-builder')
    expect((await client.get<ConfigMap>(R.configMaps, 'on-cluster-build-config', NS)).data).to.include({
      baseImagePullSecretName: 'global-pull-secret-copy',
      finalImagePullspec: cm.data!.finalImagePullspec,
      imageBuilderType: 'openshift-image-builder',
    })
  })

  it('without a terminal: missing values and a missing --yes are errors naming the flags, never a question', async () => {
    const missing = await runBin(['setup', '--no-registry-check', '--kubeconfig', emu.kubeconfig, '--pool', 'layering'])
    expect(missing.exitCode).to.equal(2)
    expect(missing.stderr).to.include(
      'error: setup needs --final-pullspec or --imagestream, and --base-pull-secret or --clone-global-pull-secret (there is no terminal to ask on)',
    )
    const external = await runBin([
      'setup',
      '--no-registry-check',
      '--kubeconfig',
      emu.kubeconfig,
      '--final-pullspec',
      'quay.io/myorg/os',
      '--clone-global-pull-secret',
    ])
    expect(external.exitCode).to.equal(2)
    expect(external.stderr).to.include('setup needs --push-secret')
    emu.resetRequests()
    const unconfirmed = await runBin([
      'setup',
      '--no-registry-check',
      '--kubeconfig',
      emu.kubeconfig,
      '--imagestream',
      'os-image',
      '--clone-global-pull-secret',
    ])
    expect(unconfirmed.exitCode).to.equal(2)
    expect(unconfirmed.stderr).to.include('setup would change 4 objects and there is no terminal to confirm on; nothing was changed')
    expect(unconfirmed.stderr).to.include('next: re-run with --yes')
    expect(writes(emu)).to.deep.equal([])
    const both = await runBin([
      'setup',
      '--no-registry-check',
      '--kubeconfig',
      emu.kubeconfig,
      '--imagestream',
      'os-image',
      '--final-pullspec',
      'quay.io/x/y',
      '--clone-global-pull-secret',
    ])
    expect(both.exitCode).to.equal(2)
    expect(both.stderr).to.match(/--final-pullspec|--imagestream/)
  })
})
