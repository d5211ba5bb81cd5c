import {expect} from 'chai'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {parse, stringify} from 'yaml'
import {KubeClient} from '../../src/lib/kube/client.js'
import {loadKubeconfig} from '../../src/lib/kube/kubeconfig.js'
import {R} from '../../src/lib/kube/resources.js'
import type {MachineConfigPool, Secret} from '../../src/lib/kube/types.js'
import type {MachineOSConfig} from '../../src/lib/mco/machine-os.js'
import {defaultFixturePath, type Emulator} from '../../emulator/index.js'
import {resubmitWritesDryRun} from './dry-run.js'
import {MCO_NS, ROOT, run, startEmulator} from './harness.js'

// OpenShift 4.18+: setup writes a MachineOSConfig per pool (which opts the pool in) instead of
// on-cluster-build-config and the pool label.
const NS = MCO_NS
const INTERNAL = 'image-registry.openshift-image-registry.svc:5000/openshift-machine-config-operator/os-image'

describe('oc mob setup on a MachineOSConfig cluster (4.18+, end to end)', function () {
  this.timeout(120_000)
  let emu: Emulator
  let client: KubeClient
  let tmp: string

  beforeEach(async () => {
    emu = await startEmulator({fixture: defaultFixturePath(), groups: {machineOS: true}, recordWrites: true})
    client = new KubeClient(loadKubeconfig({kubeconfig: emu.kubeconfig}))
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-mob-setup-mos-'))
  })

  afterEach(async () => {
    try {
      // every write setup made (the MachineOSConfig above all) still passes a server-side dry run
      if (emu) expect((await resubmitWritesDryRun(emu)).refused).to.deep.equal([])
    } finally {
      await emu?.close()
      fs.rmSync(tmp, {force: true, recursive: true})
    }
  })

  const writes = (): string[] =>
    emu.requests.filter((r) => r.method !== 'GET' && !r.path.includes('selfsubjectaccessreviews')).map((r) => `${r.method} ${r.path}`)
  const setup = (...args: string[]) => run(['setup', '--no-registry-check', '--kubeconfig', emu.kubeconfig, ...args])

  it('internal registry: the ImageStream, the pool and its MachineOSConfig; no ConfigMap, no label, no secret copy; a second run changes nothing', async () => {
    const r = await setup('--imagestream', 'os-image', '--yes')
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stderr).to.include('MachineConfig API: the cluster serves the MachineConfig API: OpenShift 4.18+ (a MachineOSConfig per pool)')
    expect(r.stderr).to.include('images are built by a Job of the machine-os-builder')
    expect(r.stdout).to.match(
      /create\s+machineosconfig\/layering: create for pool layering: push to .+os-image:<MachineOSBuild name> with builder-dockercfg-7wq9x/,
    )
    expect(r.stdout).to.include('creating MachineOSConfig layering opts pool layering into on-cluster builds')
    expect(r.stdout).to.include('pool layering is opted in')
    const mosc = await client.get<MachineOSConfig>(R.machineOSConfigs, 'layering')
    expect(mosc.spec).to.deep.equal({
      imageBuilder: {imageBuilderType: 'Job'},
      machineConfigPool: {name: 'layering'},
      renderedImagePushSecret: {name: 'builder-dockercfg-7wq9x'},
      renderedImagePushSpec: `${INTERNAL}:latest`,
    })
    expect(await client.find(R.configMaps, 'on-cluster-build-config', NS)).to.equal(undefined)
    expect(await client.find(R.secrets, 'global-pull-secret-copy', NS), 'the operator owns that copy on 4.18+').to.equal(undefined)
    const pool = await client.get<MachineConfigPool>(R.machineConfigPools, 'layering')
    expect(pool.metadata.labels ?? {}).not.to.have.property('machineconfiguration.openshift.io/layering-enabled')

    emu.resetRequests()
    const again = await setup('--imagestream', 'os-image', '--yes')
    expect(again.exitCode, again.stderr).to.equal(0)
    expect(again.stdout).to.match(/unchanged\s+machineosconfig\/layering/)
    expect(again.stdout).to.include('nothing to do: everything is set up already')
    expect(writes()).to.deep.equal([])
    // The settings, the plan and which pools are opted in come from one list of MachineOSConfigs.
    const moscLists = emu.requests.filter(
      (q) => q.method === 'GET' && q.path === '/apis/machineconfiguration.openshift.io/v1/machineosconfigs',
    )
    expect(moscLists).to.have.length(1)
  })

  it('a custom Dockerfile goes into containerFile: a diff without --force, written with it; other settings are kept', async () => {
    expect((await setup('--imagestream', 'os-image', '--yes')).exitCode).to.equal(0)
    const file = path.join(tmp, 'Dockerfile')
    fs.writeFileSync(file, 'FROM configs AS final\nRUN rpm-ostree install tmux && ostree container commit\n')
    emu.resetRequests()
    const conflict = await setup('--custom-dockerfile', file, '--yes')
    expect(conflict.exitCode).to.equal(7)
    expect(conflict.stdout).to.match(/current, kept/)
    expect(conflict.stdout).to.include('+  containerFile:').and.include('+      content: |')
    expect(writes()).to.deep.equal([])

    const forced = await setup('--custom-dockerfile', file, '--force', '--yes')
    expect(forced.exitCode, forced.stderr).to.equal(0)
    expect(forced.stdout).to.include('a changed MachineOSConfig is a new build for the machine-os-builder')
    const mosc = await client.get<MachineOSConfig>(R.machineOSConfigs, 'layering')
    expect(mosc.spec?.containerFile).to.deep.equal([
      {containerfileArch: 'NoArch', content: 'FROM configs AS final\nRUN rpm-ostree install tmux && ostree container commit\n'},
    ])
    expect(mosc.spec?.renderedImagePushSpec).to.equal(`${INTERNAL}:latest`)
    expect(mosc.spec?.renderedImagePushSecret).to.deep.equal({name: 'builder-dockercfg-7wq9x'})
  })

  it('refuses what this generation cannot do, before changing anything', async () => {
    emu.resetRequests()
    const builder = await setup('--imagestream', 'os-image', '--builder', 'build', '--yes')
    expect(builder.exitCode).to.equal(2)
    expect(builder.stderr).to.include('--builder build (OpenShift Builds) does not exist on OpenShift 4.18+')
    const noEnable = await setup('--imagestream', 'os-image', '--no-enable', '--yes')
    expect(noEnable.exitCode).to.equal(2)
    expect(noEnable.stderr).to.include('the MachineOSConfig that setup writes is what opts the pool in')
    const file = path.join(tmp, 'Big.Dockerfile')
    fs.writeFileSync(file, 'FROM configs AS final\n' + `RUN echo ${'x'.repeat(80)}\n`.repeat(60))
    const big = await setup('--imagestream', 'os-image', '--custom-dockerfile', file, '--yes')
    expect(big.exitCode).to.equal(7)
    expect(big.stderr).to.match(/the custom Dockerfile has \d+ characters; a MachineOSConfig's containerFile holds at most 4096/)
    // a pushspec the CRD's rule refuses (a real API server answers 422) is refused in preflight
    const dotted = await setup('--final-pullspec', 'quay.io/my.org/os-image', '--push-secret', 'builder-dockercfg-7wq9x', '--yes')
    expect(dotted.exitCode, dotted.stderr).to.equal(7)
    expect(dotted.stderr).to.include("quay.io/my.org/os-image is not accepted as a MachineOSConfig's renderedImagePushSpec")
    expect(writes()).to.deep.equal([])
    expect(await client.find(R.machineOSConfigs, 'layering')).to.equal(undefined)
  })

  it('--push-secret-from-file makes the push secret from a docker config file before the MachineOSConfig names it; never shows its values', async () => {
    const b64 = (v: string): string => Buffer.from(v).toString('base64')
    const value = 'robot:from-file-secret-value'
    const file = path.join(tmp, 'auth.json')
    fs.writeFileSync(file, JSON.stringify({auths: {'quay.io': {auth: b64(value)}}, credHelpers: {'gcr.io': 'gcloud'}}))
    const args = ['--final-pullspec', 'quay.io/myorg/os-image', '--push-secret', 'quay-push', '--push-secret-from-file', file, '--yes']

    // Bad input first: nothing is written.
    emu.resetRequests()
    const alone = await setup('--final-pullspec', 'quay.io/myorg/os-image', '--push-secret-from-file', file, '--yes')
    expect(alone.exitCode).to.equal(2)
    expect(alone.stderr).to.include('error: --push-secret-from-file needs --push-secret NAME: the name of the secret it creates')
    const missing = await setup(...args.slice(0, 5), path.join(tmp, 'nope.json'), '--yes')
    expect(missing.exitCode).to.equal(2)
    expect(missing.stderr).to.include(`cannot read the docker config file ${path.join(tmp, 'nope.json')}: no such file`)
    const storeFile = path.join(tmp, 'config.json')
    fs.writeFileSync(storeFile, JSON.stringify({auths: {'quay.io': {}}, credsStore: 'desktop'}))
    const store = await setup(...args.slice(0, 5), storeFile, '--yes')
    expect(store.exitCode).to.equal(7)
    expect(store.stderr).to.include(`${storeFile} keeps its credentials in a credential store (credsStore desktop), not in the file`)
    expect(store.stderr).to.include(
      `next: log in into a file that holds the credentials (\`podman login --authfile ${storeFile} REGISTRY\``,
    )
    expect(writes()).to.deep.equal([])

    const r = await setup(...args)
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stdout).to.match(
      /create\s+secret\/quay-push -n openshift-machine-config-operator: create as the credentials of .*auth\.json \(registries: quay\.io\)/,
    )
    for (const out of [r.stdout, r.stderr]) expect(out).not.to.include('from-file-secret-value').and.not.to.include(b64(value))
    const secret = await client.get<Secret>(R.secrets, 'quay-push', NS)
    expect(secret.type).to.equal('kubernetes.io/dockerconfigjson')
    expect(JSON.parse(Buffer.from(secret.data!['.dockerconfigjson'], 'base64').toString())).to.deep.equal({
      auths: {'quay.io': {auth: b64(value)}},
    })
    const mosc = await client.get<MachineOSConfig>(R.machineOSConfigs, 'layering')
    expect(mosc.spec?.renderedImagePushSecret).to.deep.equal({name: 'quay-push'})
    // The secret is written before the MachineOSConfig that names it.
    const order = emu.requests.filter((q) => q.method === 'POST' && !q.query.includes('dryRun')).map((q) => q.path)
    expect(order.findIndex((w) => w.endsWith('/secrets'))).to.be.lessThan(order.findIndex((w) => w.endsWith('/machineosconfigs')))

    emu.resetRequests()
    const again = await setup(...args)
    expect(again.exitCode, again.stderr).to.equal(0)
    expect(again.stdout).to.match(/unchanged\s+secret\/quay-push .*already the credentials of/)
    expect(writes()).to.deep.equal([])

    // Other credentials in the file: a conflict without --force (shown by registry, never by value), replaced with it.
    fs.writeFileSync(file, JSON.stringify({auths: {'quay.io': {auth: b64('robot:rotated-secret-value')}}}))
    const conflict = await setup(...args)
    expect(conflict.exitCode).to.equal(7)
    expect(conflict.stdout).to.match(/differs\s+secret\/quay-push .*differs from .*auth\.json \(overwritten only with --force\)/)
    expect(conflict.stdout + conflict.stderr).not.to.include('rotated-secret-value')
    expect(conflict.stdout).to.include('+  - quay.io (credentials differ)')
    expect(writes()).to.deep.equal([])
    const forced = await setup(...args, '--force')
    expect(forced.exitCode, forced.stderr).to.equal(0)
    const updated = await client.get<Secret>(R.secrets, 'quay-push', NS)
    expect(Buffer.from(updated.data!['.dockerconfigjson'], 'base64').toString()).to.include(b64('robot:rotated-secret-value'))
  })

  it("a field the cluster's CRD refuses by a rule oc-mob does not check: a failed check naming the field and its flag; nothing written", async () => {
    // A cluster whose MachineOSConfig CRD carries a rule this version of oc-mob does not know.
    const crds = path.join(tmp, 'crds')
    fs.cpSync(path.join(ROOT, 'emulator', 'crds'), crds, {recursive: true})
    const file = path.join(crds, 'machineosconfigs.crd.yaml')
    const crd = parse(fs.readFileSync(file, 'utf8'))
    const secretName = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.renderedImagePushSecret.properties.name
    secretName['x-kubernetes-validations'].push({
      message: 'push secrets of this cluster must be named ocl-*',
      rule: "self.startsWith('ocl-')",
    })
    fs.writeFileSync(file, stringify(crd))
    await emu.close()
    emu = await startEmulator({crdDir: crds, fixture: defaultFixturePath(), groups: {machineOS: true}, recordWrites: true})
    client = new KubeClient(loadKubeconfig({kubeconfig: emu.kubeconfig}))

    emu.resetRequests()
    const r = await setup('--imagestream', 'os-image', '--yes')
    expect(r.exitCode, r.stderr).to.equal(7)
    expect(r.stderr).to.include(
      '✖ server-side dry run: the API server refuses MachineOSConfig layering as setup would write it (422 Invalid)',
    )
    expect(r.stderr).to.include(
      'spec.renderedImagePushSecret.name: Invalid value: "string": push secrets of this cluster must be named ocl-* (set by --push-secret (the wizard: the push secret))',
    )
    // Only dry runs reached the server: nothing was written.
    expect(
      emu.requests.filter((q) => q.method !== 'GET' && !q.query.includes('dryRun=All') && !q.path.includes('selfsubjectaccessreviews')),
    ).to.deep.equal([])
    expect(
      emu.requests.filter((q) => q.method !== 'GET' && q.query.includes('dryRun=All')).map((q) => `${q.method} ${q.path}`),
    ).to.deep.equal(['POST /apis/machineconfiguration.openshift.io/v1/machineosconfigs'])
    expect(await client.find(R.machineOSConfigs, 'layering')).to.equal(undefined)
    expect(await client.find(R.imageStreams, 'os-image', NS)).to.equal(undefined)
  })
})

describe('oc mob setup against a cluster whose MachineOSConfig CRD lacks a field oc-mob writes', function () {
  this.timeout(120_000)
  let emu: Emulator
  let crds: string

  before(async () => {
    // the project's CRDs, with spec.renderedImagePushSecret taken out of the MachineOSConfig schema (as a CRD
    // of another version might lack it)
    crds = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-mob-crds-'))
    const here = path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'emulator', 'crds')
    for (const f of fs.readdirSync(here)) fs.copyFileSync(path.join(here, f), path.join(crds, f))
    const file = path.join(crds, 'machineosconfigs.crd.yaml')
    const crd = parse(fs.readFileSync(file, 'utf8'))
    const spec = crd.spec.versions.find((v: {name: string}) => v.name === 'v1').schema.openAPIV3Schema.properties.spec
    delete spec.properties.renderedImagePushSecret
    spec.required = spec.required.filter((f: string) => f !== 'renderedImagePushSecret')
    fs.writeFileSync(file, stringify(crd))
    emu = await startEmulator({crdDir: crds, fixture: defaultFixturePath(), groups: {machineOS: true}})
  })

  after(async () => {
    await emu?.close()
    fs.rmSync(crds, {force: true, recursive: true})
  })

  it('stops with exit 7 naming the field the cluster does not know, and writes nothing (its server-side dry run refused it)', async () => {
    const r = await run(['setup', '--no-registry-check', '--kubeconfig', emu.kubeconfig, '--imagestream', 'os-image', '--yes'])
    expect(r.exitCode, r.stderr).to.equal(7)
    expect(r.stderr).to.include(
      '✖ server-side dry run: the API server refuses MachineOSConfig layering as setup would write it (400 BadRequest)',
    )
    expect(r.stderr).to.include(
      "the cluster's MachineOSConfig does not know the field spec.renderedImagePushSecret oc-mob writes (its CRD is older or newer than this oc-mob expects): the server refused the write",
    )
    expect(r.stderr).to.include('check that the cluster runs an OpenShift version this oc-mob supports (`oc get clusterversion`)')
    const posts = emu.requests.filter((q) => q.path.endsWith('/machineosconfigs') && q.method === 'POST')
    expect(posts.map((q) => [q.status, q.query])).to.deep.equal([[400, 'dryRun=All&fieldValidation=Strict']])
    expect(
      emu.requests.filter((q) => q.method !== 'GET' && !q.query.includes('dryRun=All') && !q.path.includes('selfsubjectaccessreviews')),
    ).to.deep.equal([])
    expect((await emu.request('GET', '/apis/machineconfiguration.openshift.io/v1/machineosconfigs')).body.items).to.deep.equal([])
    expect((await emu.request('GET', '/apis/machineconfiguration.openshift.io/v1/machineconfigpools/layering')).status).to.equal(404)
  })
})
