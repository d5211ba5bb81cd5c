import {expect} from 'chai'
import {KubeClient} from '../../src/lib/kube/client.js'
import {loadKubeconfig} from '../../src/lib/kube/kubeconfig.js'
import {R} from '../../src/lib/kube/resources.js'
import type {ConfigMap, Secret} from '../../src/lib/kube/types.js'
import type {MachineOSConfig} from '../../src/lib/mco/machine-os.js'
import {defaultFixturePath, type Emulator} from '../../emulator/index.js'
import {startTokenRegistry, type TokenRegistry} from '../../emulator/oci/token-registry.js'
import {MCO_NS, run, type RunResult, startEmulator} from './harness.js'

// Setup's preflight logs into the registries with the secrets it is about to configure (doctor's
// probes), against a registry with a token service on loopback, before it writes anything.
const PW = {nodes: 'nodes-pw-Lk2x8Qe', pruner: 'pruner-pw-Vb6nT3r', reader: 'reader-pw-Ys4cW9o'}
const BASE_DIGEST = `sha256:${'cd'.repeat(32)}`
const b64 = (s: string): string => Buffer.from(s).toString('base64')
const outputs: string[] = []
const secretValues: string[] = []

function dockerSecret(name: string, namespace: string, host: string, user: string, password: string): Secret {
  const auth = b64(`${user}:${password}`)
  secretValues.push(password, auth)
  return {
    apiVersion: 'v1',
    data: {'.dockerconfigjson': b64(JSON.stringify({auths: {[host]: {auth}}}))},
    kind: 'Secret',
    metadata: {name, namespace},
    type: 'kubernetes.io/dockerconfigjson',
  } as Secret
}

describe('oc mob setup: registry logins in the preflight (4.18+, end to end)', function () {
  this.timeout(120_000)
  let emu: Emulator
  let client: KubeClient
  let reg: TokenRegistry

  const users = {
    nodes: {actions: ['pull' as const], password: PW.nodes},
    pruner: {actions: ['pull' as const, 'push' as const, 'delete' as const], password: PW.pruner},
    reader: {actions: ['pull' as const], password: PW.reader},
  }

  beforeEach(async () => {
    emu = await startEmulator({fixture: defaultFixturePath(), groups: {machineOS: true}})
    client = new KubeClient(loadKubeconfig({kubeconfig: emu.kubeconfig}))
    reg = await startTokenRegistry({images: {'ocp/rhcos': [BASE_DIGEST]}, users})
    const cm = await client.get<ConfigMap>(R.configMaps, 'machine-config-osimageurl', MCO_NS)
    await client.replace(R.configMaps, {...cm, data: {...cm.data, baseOSContainerImage: `${reg.host}/ocp/rhcos@${BASE_DIGEST}`}})
    const global = await client.get<Secret>(R.secrets, 'pull-secret', 'openshift-config')
    const nodes = dockerSecret('pull-secret', 'openshift-config', reg.host, 'nodes', PW.nodes)
    await client.replace(R.secrets, {...nodes, metadata: {...nodes.metadata, resourceVersion: global.metadata.resourceVersion}})
  })

  afterEach(async () => {
    await reg?.stop()
    await emu?.close()
  })

  const writes = (): string[] =>
    emu.requests.filter((r) => r.method !== 'GET' && !r.path.includes('selfsubjectaccessreviews')).map((r) => `${r.method} ${r.path}`)

  const setup = async (...args: string[]): Promise<RunResult> => {
    const r = await run([
      'setup',
      '--kubeconfig',
      emu.kubeconfig,
      '--final-pullspec',
      `${reg.host}/org/os-image`,
      '--push-secret',
      'push-creds',
      ...args,
    ])
    outputs.push(r.stdout, r.stderr)
    return r
  }

  it('proves pull, push and delete before writing: every login passes, nothing is pushed, then the MachineOSConfig is written', async () => {
    await client.create(R.secrets, dockerSecret('push-creds', MCO_NS, reg.host, 'pruner', PW.pruner))
    const r = await setup('--yes')
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stderr).to.match(
      /✔ registry pull \(base image\): pull 127\.0\.0\.1:\d+\/ocp\/rhcos \(the base OS image\) with global pull secret \(the base image pull secret by default\): may pull 127\.0\.0\.1:\d+\/ocp\/rhcos/,
    )
    expect(r.stderr).to.match(
      /✔ registry push: push to 127\.0\.0\.1:\d+\/org\/os-image \(the built image\) with push secret push-creds: may push to .+ \(an upload was opened and cancelled; nothing was pushed\)/,
    )
    expect(r.stderr).to.match(
      /✔ registry pull \(nodes\): pull 127\.0\.0\.1:\d+\/org\/os-image \(the built image, as nodes pull it\) with global pull secret/,
    )
    expect(r.stderr).to.match(
      /✔ registry delete \(pruning\): delete from 127\.0\.0\.1:\d+\/org\/os-image \(pruning old images\) with push secret push-creds/,
    )
    expect(reg.openUploads()).to.deep.equal([])
    expect(reg.requests.filter((q) => q.method === 'PUT' || q.method === 'PATCH')).to.deep.equal([])
    const mosc = await client.get<MachineOSConfig>(R.machineOSConfigs, 'layering')
    expect(mosc.spec?.renderedImagePushSecret).to.deep.equal({name: 'push-creds'})
  })

  it("a push secret the registry refuses fails the preflight with the registry's own answer; nothing is written", async () => {
    await client.create(R.secrets, dockerSecret('push-creds', MCO_NS, reg.host, 'reader', PW.reader))
    emu.resetRequests()
    const r = await setup('--yes')
    expect(r.exitCode).to.equal(7)
    // The registry's answer and the fix are said once, in the check list; the error only points at it.
    expect(r.stderr).to.include('error: setup preflight failed: the registry push check above failed; nothing was changed')
    expect(r.stderr.split('refused [POST').length - 1).to.equal(1)
    expect(r.stderr).to.match(
      /✖ registry push: push to 127\.0\.0\.1:\d+\/org\/os-image \(the built image\) with push secret push-creds: refused/,
    )
    expect(r.stderr).to.include('HTTP 401 UNAUTHORIZED: access to the requested resource is not authorized')
    expect(r.stderr).to.include(`add credentials for ${reg.host} with push rights to ${MCO_NS}/push-creds`)
    expect(r.stderr).to.include('nothing was changed')
    expect(writes()).to.deep.equal([])
    expect(await client.find(R.machineOSConfigs, 'layering')).to.equal(undefined)
  })

  it('--no-registry-check asks no registry; a registry out of reach from here is only a warning', async () => {
    await client.create(R.secrets, dockerSecret('push-creds', MCO_NS, reg.host, 'reader', PW.reader))
    const skipped = await setup('--no-registry-check', '--dry-run')
    expect(skipped.exitCode, skipped.stderr).to.equal(0)
    expect(reg.requests).to.deep.equal([])

    await reg.stop()
    const away = await setup('--yes')
    expect(away.exitCode, away.stderr).to.equal(0)
    expect(away.stderr).to.match(
      /! registry push: push to 127\.0\.0\.1:\d+\/org\/os-image .*: not reachable: 127\.0\.0\.1:\d+ refused the connection/,
    )
    expect(await client.find(R.machineOSConfigs, 'layering')).to.not.equal(undefined)
  })

  after(() => {
    const all = outputs.join('\n')
    for (const v of secretValues) expect(all.includes(v), 'a secret value appeared in the output').to.equal(false)
  })
})
