import {expect} from 'chai'
import {KubeClient} from '../../src/lib/kube/client.js'
import {loadKubeconfig} from '../../src/lib/kube/kubeconfig.js'
import {R} from '../../src/lib/kube/resources.js'
import type {ConfigMap, Secret} from '../../src/lib/kube/types.js'
import {defaultFixturePath, type Emulator} from '../../emulator/index.js'
import {startTokenRegistry, type TokenRegistry} from '../../emulator/oci/token-registry.js'
import {MCO_NS, run, type RunResult, startEmulator} from './harness.js'

// `oc mob doctor --fix` on OpenShift 4.14/4.15: the long-lived token secret goes into
// on-cluster-build-config (finalImagePushSecretName), with the emulator's TokenRequest and a token
// registry on loopback that takes service-account tokens as passwords.
const BASE_DIGEST = `sha256:${'ef'.repeat(32)}`
const b64 = (s: string): string => Buffer.from(s).toString('base64')
const outputs: string[] = []
const values: string[] = []

describe('oc mob doctor --fix on a 4.14 cluster (on-cluster-build-config, end to end)', function () {
  this.timeout(120_000)
  let emu: Emulator
  let client: KubeClient
  let reg: TokenRegistry

  before(async () => {
    emu = await startEmulator({fixture: defaultFixturePath(), groups: {machineOS: false}})
    client = new KubeClient(loadKubeconfig({kubeconfig: emu.kubeconfig}))
    reg = await startTokenRegistry({
      images: {'ocp/rhcos': [BASE_DIGEST]},
      jwtActions: ['pull', 'push'],
      users: {nodes: {actions: ['pull'], password: 'nodes-pw-Rq7u2Zx'}},
    })
    values.push('nodes-pw-Rq7u2Zx')
    const osimage = await client.get<ConfigMap>(R.configMaps, 'machine-config-osimageurl', MCO_NS)
    await client.replace(R.configMaps, {...osimage, data: {...osimage.data, baseOSContainerImage: `${reg.host}/ocp/rhcos@${BASE_DIGEST}`}})
    const global = await client.get<Secret>(R.secrets, 'pull-secret', 'openshift-config')
    const nodesAuth = b64('nodes:nodes-pw-Rq7u2Zx')
    values.push(nodesAuth)
    await client.replace(R.secrets, {...global, data: {'.dockerconfigjson': b64(JSON.stringify({auths: {[reg.host]: {auth: nodesAuth}}}))}})

    // The builder's rotating token secret, as the cluster makes it: a token that expires in 2 hours.
    const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
    const token = `${part({alg: 'RS256'})}.${part({exp: Math.floor(Date.now() / 1000) + 7200, sub: `system:serviceaccount:${MCO_NS}:builder`})}.${part({s: 1})}`
    values.push(token, b64(`<token>:${token}`))
    await client.create(R.secrets, {
      data: {'.dockercfg': b64(JSON.stringify({[reg.host]: {auth: b64(`<token>:${token}`), password: token, username: '<token>'}}))},
      metadata: {annotations: {'kubernetes.io/service-account.name': 'builder'}, name: 'builder-dockercfg-abcde', namespace: MCO_NS},
      type: 'kubernetes.io/dockercfg',
    } as Secret)
    await client.create(R.configMaps, {
      data: {
        baseImagePullSecretName: 'pull-copy',
        finalImagePullspec: `${reg.host}/org/os-image`,
        finalImagePushSecretName: 'builder-dockercfg-abcde',
        imageBuilderType: 'custom-pod-builder',
      },
      metadata: {name: 'on-cluster-build-config', namespace: MCO_NS},
    } as ConfigMap)
    await client.create(R.secrets, {
      data: {'.dockerconfigjson': b64(JSON.stringify({auths: {[reg.host]: {auth: nodesAuth}}}))},
      metadata: {name: 'pull-copy', namespace: MCO_NS},
      type: 'kubernetes.io/dockerconfigjson',
    } as Secret)
  })

  after(async () => {
    await reg?.stop()
    await emu?.close()
    const all = outputs.join('\n')
    for (const v of values) expect(all.includes(v), 'a secret value appeared in the output').to.equal(false)
  })

  const doctor = async (...args: string[]): Promise<RunResult> => {
    const r = await run(['doctor', 'worker', '--kubeconfig', emu.kubeconfig, ...args])
    outputs.push(r.stdout, r.stderr)
    return r
  }

  it('--fix --yes: the token secret is created and on-cluster-build-config points at it; the next doctor has no token warning', async () => {
    const before = await doctor('-o', 'json')
    expect(before.exitCode, before.stderr).to.equal(0)
    const rows = (JSON.parse(before.stdout) as {checks: Array<{id: string; status: string}>}).checks
    expect(rows.find((c) => c.id === 'token:push')).to.include({status: 'warn'})

    emu.resetRequests()
    const fixed = await doctor('--fix', '--yes')
    expect(fixed.exitCode, fixed.stderr).to.equal(0)
    expect(
      emu.requests
        .filter((q) => q.method !== 'GET' && !q.query.includes('dryRun=All') && !q.path.includes('selfsubjectaccessreviews'))
        .map((q) => `${q.method} ${q.path}`),
    ).to.deep.equal([
      `POST /api/v1/namespaces/${MCO_NS}/serviceaccounts/builder/token`,
      `POST /api/v1/namespaces/${MCO_NS}/secrets`,
      `PUT /api/v1/namespaces/${MCO_NS}/configmaps/on-cluster-build-config`,
    ])
    const cm = await client.get<ConfigMap>(R.configMaps, 'on-cluster-build-config', MCO_NS)
    expect(cm.data).to.deep.equal({
      baseImagePullSecretName: 'pull-copy',
      finalImagePullspec: `${reg.host}/org/os-image`,
      finalImagePushSecretName: 'worker-push-token',
      imageBuilderType: 'custom-pod-builder',
    })
    const made = await client.get<Secret>(R.secrets, 'worker-push-token', MCO_NS)
    const auth = (
      JSON.parse(Buffer.from(made.data!['.dockerconfigjson'], 'base64').toString('utf8')) as {auths: Record<string, {auth: string}>}
    ).auths[reg.host].auth
    values.push(auth, Buffer.from(auth, 'base64').toString('utf8').split(':')[1])

    const after = await doctor('-o', 'json')
    expect(after.exitCode, after.stderr).to.equal(0)
    const now = (JSON.parse(after.stdout) as {checks: Array<{id: string; status: string; cause: string}>}).checks
    expect(now.find((c) => c.id === 'token:push')).to.include({status: 'ok'})
    expect(now.find((c) => c.id === 'registry:push')).to.include({status: 'ok'})
  })
})
