import {expect} from 'chai'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {KubeClient} from '../../src/lib/kube/client.js'
import {loadKubeconfig} from '../../src/lib/kube/kubeconfig.js'
import {R} from '../../src/lib/kube/resources.js'
import type {ConfigMap, KubeObject, MachineConfigPool, Secret} from '../../src/lib/kube/types.js'
import {defaultFixturePath, type Emulator} from '../../emulator/index.js'
import {MCO_NS, startEmulator} from './harness.js'
import {Terminal} from './terminal.js'

const NS = MCO_NS
const ENTER = '\r'
const DOWN = '\u001B[B'
const BACKSPACE = '\u007F'
const CTRL_C = '\u0003'

describe('oc mob setup wizard (end to end, on a pseudo-terminal)', function () {
  this.timeout(180_000)
  let emu: Emulator
  let client: KubeClient
  let tmp: string
  const terminals: Terminal[] = []

  before(function () {
    if (!fs.existsSync('/usr/bin/script')) this.skip()
  })

  beforeEach(async () => {
    emu = await startEmulator({fixture: defaultFixturePath(), groups: {machineOS: false}})
    client = new KubeClient(loadKubeconfig({kubeconfig: emu.kubeconfig}))
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-mob-wizard-'))
  })
  afterEach(async () => {
    for (const t of terminals.splice(0)) t.kill()
    await emu?.close()
    fs.rmSync(tmp, {force: true, recursive: true})
  })

  const open = (args: string[]): Terminal => {
    const t = new Terminal(['setup', '--no-registry-check', '--kubeconfig', emu.kubeconfig, ...args])
    terminals.push(t)
    return t
  }

  it('on OpenShift 4.18+ writes a MachineOSConfig: no builder or opt-in question, the global pull secret as is', async () => {
    await emu.close()
    emu = await startEmulator({fixture: defaultFixturePath(), groups: {machineOS: true}})
    client = new KubeClient(loadKubeconfig({kubeconfig: emu.kubeconfig}))
    const t = open([])
    await t.answer('Name of the new pool', ENTER)
    await t.answer('Use these selectors?', ENTER)
    await t.answer('Where should the built image be pushed?', ENTER)
    await t.see('Which secret should builds pull the base OS image')
    await t.answer('the global pull secret (openshift-config/pull-secret), as the machine-os-builder uses it when none is named', ENTER)
    await t.answer('Which secret should builds push the image with?', ENTER)
    await t.answer('Path of a custom Dockerfile for pool layering', ENTER)
    await t.see('Preflight checks:')
    await t.see(/create\s+machineosconfig\/layering/)
    await t.answer('Apply these changes?', ENTER)
    await t.see('✔ created machineosconfig/layering')
    expect(await t.exited, t.text).to.equal(0)
    expect(t.text).not.to.include('How should images be built?')
    expect(t.text).not.to.include('into on-cluster builds now')
    const mosc = await client.get<KubeObject & {spec?: Record<string, unknown>}>(R.machineOSConfigs, 'layering')
    expect(mosc.spec).to.deep.equal({
      imageBuilder: {imageBuilderType: 'Job'},
      machineConfigPool: {name: 'layering'},
      renderedImagePushSecret: {name: 'builder-dockercfg-7wq9x'},
      renderedImagePushSpec: 'image-registry.openshift-image-registry.svc:5000/openshift-machine-config-operator/os-image:latest',
    })
  })

  it('on OpenShift 4.18+ with an external registry, makes the push secret from a docker config file, checking the file first', async () => {
    await emu.close()
    emu = await startEmulator({fixture: defaultFixturePath(), groups: {machineOS: true}})
    client = new KubeClient(loadKubeconfig({kubeconfig: emu.kubeconfig}))
    const b64 = (s: string): string => Buffer.from(s).toString('base64')
    const password = 'wizard-file-secret-value'
    const stored = path.join(tmp, 'config.json')
    fs.writeFileSync(stored, JSON.stringify({credsStore: 'desktop'}))
    const auth = path.join(tmp, 'auth.json')
    fs.writeFileSync(auth, JSON.stringify({auths: {'quay.io': {auth: b64(`robot:${password}`)}, 'registry.example': {}}}))
    const before = (await client.list<Secret>(R.secrets, {namespace: NS})).items.map((x) => x.metadata.name)

    const t = open(['--pool', 'layering'])
    await t.answer('Use these selectors?', ENTER)
    await t.answer('Where should the built image be pushed?', DOWN)
    await t.answer('an external registry', ENTER)
    await t.answer('Final image pullspec', 'quay.io/myorg/os-image' + ENTER)
    await t.answer('Which secret should builds pull the base OS image', ENTER)
    await t.answer('Which secret should builds push the image with?', DOWN + DOWN)
    await t.answer('❯ a new secret from a docker config file', ENTER)
    await t.answer('Path of the docker config file with credentials for quay.io', stored + ENTER)
    await t.see(`${stored} keeps its credentials in a credential store (credsStore desktop), not in the file`)
    await t.answer(`${stored} keeps`, BACKSPACE.repeat(stored.length) + auth + ENTER)
    await t.answer(`Name of the secret to create in ${NS}`, ENTER)
    await t.answer('Path of a custom Dockerfile for pool layering', ENTER)
    await t.see(
      /create\s+secret\/os-image-push -n openshift-machine-config-operator: create as the credentials of .*auth\.json \(registries: quay\.io\)/,
    )
    await t.see(
      /create\s+machineosconfig\/layering: create for pool layering: push to quay\.io\/myorg\/os-image:<MachineOSBuild name> with os-image-push/,
    )
    await t.answer('Apply these changes?', ENTER)
    await t.see('✔ created machineosconfig/layering')
    expect(await t.exited, t.text).to.equal(0)
    expect(t.text).not.to.include(password)
    expect(t.text).not.to.include(b64(`robot:${password}`).slice(0, 16))

    const secret = await client.get<Secret>(R.secrets, 'os-image-push', NS)
    expect(secret.type).to.equal('kubernetes.io/dockerconfigjson')
    // Only the entries that hold credentials are kept.
    expect(JSON.parse(Buffer.from(secret.data!['.dockerconfigjson'], 'base64').toString())).to.deep.equal({
      auths: {'quay.io': {auth: b64(`robot:${password}`)}},
    })
    const mosc = await client.get<KubeObject & {spec?: Record<string, unknown>}>(R.machineOSConfigs, 'layering')
    expect(mosc.spec).to.include.keys('renderedImagePushSecret')
    expect(mosc.spec!.renderedImagePushSecret).to.deep.equal({name: 'os-image-push'})
    const after = (await client.list<Secret>(R.secrets, {namespace: NS})).items.map((x) => x.metadata.name)
    expect(after.filter((n) => !before.includes(n))).to.deep.equal(['os-image-push'])
  })

  it("asks for every missing value with the cluster's choices, validates the Dockerfile, shows the plan and applies it; accepting the defaults again changes nothing", async () => {
    const bad = path.join(tmp, 'Dockerfile.bad')
    const good = path.join(tmp, 'Dockerfile')
    fs.writeFileSync(bad, 'FROM quay.io/centos/centos:stream9\nRUN true\n')
    fs.writeFileSync(good, 'FROM configs AS final\nRUN echo hello > /etc/hello\n')

    const t = open([])
    await t.answer('Name of the new pool', ENTER) // default: layering
    await t.answer('Use these selectors?', ENTER)
    await t.see('Where should the built image be pushed?')
    await t.see('a new ImageStream os-image in openshift-machine-config-operator (internal registry)')
    await t.answer('an external registry', ENTER) // default: the new ImageStream
    await t.see('Which secret should builds pull the base OS image')
    await t.answer('clone the global pull secret (openshift-config/pull-secret) into global-pull-secret-copy', ENTER)
    await t.see('Which secret should builds push the image with?')
    await t.answer(
      "builder-dockercfg-7wq9x (the builder service account's token for the internal registry; OpenShift rotates it, fine for trying out)",
      ENTER,
    )
    await t.see('How should images be built?')
    await t.answer('the build pod (custom-pod-builder)', ENTER)
    await t.answer('Path of a custom Dockerfile for pool layering', bad + ENTER)
    await t.see('the last stage must be `FROM configs AS final`')
    await new Promise((r) => setTimeout(r, 150))
    await t.answer('', BACKSPACE.repeat(bad.length + 2) + good + ENTER)
    await t.answer('Opt pool layering into on-cluster builds now', ENTER) // default: no
    await t.see('Preflight checks:')
    await t.see(/create\s+imagestream\/os-image/)
    await t.see(/create\s+configmap\/on-cluster-build-custom-dockerfile/)
    await t.see(/create\s+machineconfigpool\/layering/)
    await t.answer('Apply these changes?', ENTER)
    await t.see('✔ created machineconfigpool/layering')
    expect(await t.exited, t.text).to.equal(0)

    const cm = await client.get<ConfigMap>(R.configMaps, 'on-cluster-build-config', NS)
    expect(cm.data).to.deep.equal({
      baseImagePullSecretName: 'global-pull-secret-copy',
      finalImagePullspec: 'image-registry.openshift-image-registry.svc:5000/openshift-machine-config-operator/os-image',
      finalImagePushSecretName: 'builder-dockercfg-7wq9x',
      imageBuilderType: 'custom-pod-builder',
    })
    const custom = await client.get<ConfigMap>(R.configMaps, 'on-cluster-build-custom-dockerfile', NS)
    expect(custom.data).to.deep.equal({layering: 'FROM configs AS final\nRUN echo hello > /etc/hello\n'})
    expect(await client.find(R.imageStreams, 'os-image', NS)).not.to.equal(undefined)
    expect(await client.find<Secret>(R.secrets, 'global-pull-secret-copy', NS)).not.to.equal(undefined)
    const pool = await client.get<MachineConfigPool>(R.machineConfigPools, 'layering')
    expect(pool.metadata.labels ?? {}).not.to.have.property('machineconfiguration.openshift.io/layering-enabled')

    // Again, taking every default: the current settings are the defaults, so nothing changes.
    emu.resetRequests()
    const again = open([])
    await again.answer('Which MachineConfigPool should get on-cluster built images?', ENTER)
    await again.answer('Where should the built image be pushed?', ENTER)
    await again.answer('Which secret should builds pull the base OS image', ENTER)
    await again.answer('Which secret should builds push the image with?', ENTER)
    await again.answer('How should images be built?', ENTER)
    await again.answer('(leave empty to keep the current one)', ENTER)
    await again.answer('Opt pool layering into on-cluster builds now', ENTER)
    await again.see('nothing to do: everything is set up already')
    expect(await again.exited, again.text).to.equal(0)
    expect(again.text).not.to.include('Apply these changes?')
    expect(emu.requests.filter((r) => r.method !== 'GET' && !r.path.includes('selfsubjectaccessreviews'))).to.deep.equal([])
  })

  it('external registry chosen with the arrow keys; the push secret with credentials for it comes first', async () => {
    const b64 = (s: string): string => Buffer.from(s).toString('base64')
    await client.create<Secret>(R.secrets, {
      data: {'.dockerconfigjson': b64(JSON.stringify({auths: {'quay.io': {auth: b64('robot:pw')}}}))},
      metadata: {name: 'quay-push', namespace: NS},
      type: 'kubernetes.io/dockerconfigjson',
    })
    const t = open(['--pool', 'layering', '--enable'])
    await t.answer('Use these selectors?', ENTER)
    await t.answer('Where should the built image be pushed?', DOWN)
    await t.answer('an external registry', ENTER)
    await t.answer('Final image pullspec', 'quay.io/myorg/os-image' + ENTER)
    await t.answer('Which secret should builds pull the base OS image', ENTER)
    await t.see('Which secret should builds push the image with?')
    await t.answer('quay-push (has credentials for quay.io)', ENTER)
    await t.answer('How should images be built?', ENTER)
    await t.answer('Path of a custom Dockerfile', ENTER)
    await t.see(/update\s+machineconfigpool\/layering: add the label machineconfiguration\.openshift\.io\/layering-enabled=/)
    await t.answer('Apply these changes?', ENTER)
    await t.see('pool layering is opted in')
    expect(await t.exited, t.text).to.equal(0)
    const cm = await client.get<ConfigMap>(R.configMaps, 'on-cluster-build-config', NS)
    expect(cm.data).to.include({finalImagePullspec: 'quay.io/myorg/os-image', finalImagePushSecretName: 'quay-push'})
    expect((await client.get<MachineConfigPool>(R.machineConfigPools, 'layering')).metadata.labels).to.have.property(
      'machineconfiguration.openshift.io/layering-enabled',
    )
  })

  it('Ctrl-C during a question ends with exit code 130 and changes nothing', async () => {
    emu.resetRequests()
    const t = open([])
    await t.answer('Name of the new pool', CTRL_C)
    expect(await t.exited).to.equal(130)
    expect(t.text, t.text).to.include('error: interrupted before setup changed anything: nothing was changed')
    expect(emu.requests.filter((r) => r.method !== 'GET' && !r.path.includes('selfsubjectaccessreviews'))).to.deep.equal([])
  })
})
