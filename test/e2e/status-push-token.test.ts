import {expect} from 'chai'
import {KubeClient} from '../../src/lib/kube/client.js'
import {loadKubeconfig} from '../../src/lib/kube/kubeconfig.js'
import {R} from '../../src/lib/kube/resources.js'
import {type StatusResult, watchStatus} from '../../src/lib/status/index.js'
import type {ConfigMap, KubeObject, Secret} from '../../src/lib/kube/types.js'
import {defaultFixturePath, type Emulator} from '../../emulator/index.js'
import {MCO_NS, run, type RunResult, startEmulator} from './harness.js'

// `status` lists a problem when a layered pool's push secret holds a token that expires within 7
// days or has expired, read from the JWT's exp (no registry is asked; the token is never printed),
// on 4.18+ (the MachineOSConfig's push secret) and 4.14 (on-cluster-build-config's).
const outputs: string[] = []
const tokens: string[] = []
const b64 = (s: string): string => Buffer.from(s).toString('base64')
const SUB = `system:serviceaccount:${MCO_NS}:builder`

function pushSecret(name: string, expiresIn: number): Secret {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const token = `${part({alg: 'RS256', kid: 'k'})}.${part({exp: Math.floor(Date.now() / 1000) + expiresIn, sub: SUB})}.${part({s: Math.random()})}`
  const auth = b64(`builder:${token}`)
  tokens.push(token, auth)
  return {
    apiVersion: 'v1',
    data: {'.dockerconfigjson': b64(JSON.stringify({auths: {'quay.io': {auth}}}))},
    kind: 'Secret',
    metadata: {name, namespace: MCO_NS},
    type: 'kubernetes.io/dockerconfigjson',
  } as Secret
}

describe('oc mob status: push secret tokens close to expiry (end to end)', function () {
  this.timeout(120_000)
  let emu: Emulator
  let client: KubeClient

  afterEach(async () => {
    await emu?.close()
  })

  const status = async (...args: string[]): Promise<RunResult> => {
    const r = await run(['status', '--kubeconfig', emu.kubeconfig, ...args])
    outputs.push(r.stdout, r.stderr)
    return r
  }

  const problems = async (...args: string[]) =>
    (
      JSON.parse((await status(...args, '-o', 'json')).stdout) as {
        problems: Array<{severity: string; pool: string; message: string; next: string}>
      }
    ).problems

  it("4.18+: the MachineOSConfig's push secret, expiring in 3 days (warning), then expired (error); only GETs, one per secret", async () => {
    emu = await startEmulator({fixture: defaultFixturePath(), groups: {machineOS: true}})
    client = new KubeClient(loadKubeconfig({kubeconfig: emu.kubeconfig}))
    await client.create(R.secrets, pushSecret('worker-push', 3 * 86_400 + 600))
    await client.create(R.machineOSConfigs, {
      apiVersion: 'machineconfiguration.openshift.io/v1',
      kind: 'MachineOSConfig',
      metadata: {name: 'worker'},
      spec: {
        imageBuilder: {imageBuilderType: 'Job'},
        machineConfigPool: {name: 'worker'},
        renderedImagePushSecret: {name: 'worker-push'},
        renderedImagePushSpec: 'quay.io/org/os-image:latest',
      },
    } as KubeObject)

    emu.resetRequests()
    const soon = (await problems()).filter((p) => p.message.includes('push secret'))
    expect(soon).to.have.length(1)
    expect(soon[0]).to.include({pool: 'worker', severity: 'warning'})
    expect(soon[0].message).to.match(
      /^pool worker: the token for quay\.io in push secret openshift-machine-config-operator\/worker-push \(service account openshift-machine-config-operator\/builder\) expires in 3d 0h \(\d{4}-.+Z\): builds cannot push after that$/,
    )
    expect(soon[0].next).to.equal(
      'replace it with a long-lived token: `oc mob doctor worker --fix` (or put fresh credentials in worker-push)',
    )
    const paths = emu.requests.map((q) => `${q.method} ${q.path}`)
    expect(paths.every((p) => p.startsWith('GET '))).to.equal(true)
    expect(paths.filter((p) => p.includes('/secrets'))).to.deep.equal([`GET /api/v1/namespaces/${MCO_NS}/secrets/worker-push`])

    const table = await status()
    expect(table.exitCode, table.stderr).to.equal(0)
    expect(table.stdout).to.include('Problems:').and.include('in push secret openshift-machine-config-operator/worker-push')

    await client.delete(R.secrets, 'worker-push', {namespace: MCO_NS})
    await client.create(R.secrets, pushSecret('worker-push', -3600))
    const gone = (await problems('worker')).filter((p) => p.message.includes('push secret'))
    expect(gone).to.have.length(1)
    expect(gone[0].severity).to.equal('error')
    expect(gone[0].message).to.include('expired 1h 0m ago').and.include('builds cannot push')

    await client.delete(R.secrets, 'worker-push', {namespace: MCO_NS})
    await client.create(R.secrets, pushSecret('worker-push', 30 * 86_400))
    expect(
      (await problems()).filter((p) => p.message.includes('push secret')),
      'a month left: fine',
    ).to.deep.equal([])
  })

  it('4.14: the push secret of on-cluster-build-config for each labelled pool; a user who may not read secrets still gets a status', async () => {
    emu = await startEmulator({
      fixture: defaultFixturePath(),
      groups: {machineOS: false},
      restricted: [
        {
          rules: [
            {
              apiGroups: ['*'],
              resources: ['machineconfigpools', 'configmaps', 'pods', 'deployments', 'builds', 'clusteroperators'],
              verbs: ['get', 'list', 'watch'],
            },
          ],
          token: 'no-secrets-token',
          user: 'no-secrets',
        },
      ],
    })
    client = new KubeClient(loadKubeconfig({kubeconfig: emu.kubeconfig}))
    await client.create(R.secrets, pushSecret('ocb-push', 2 * 3600))
    await client.create(R.configMaps, {
      apiVersion: 'v1',
      data: {
        baseImagePullSecretName: 'global-pull-secret-copy',
        finalImagePullspec: 'quay.io/org/os-image',
        finalImagePushSecretName: 'ocb-push',
        imageBuilderType: 'custom-pod-builder',
      },
      kind: 'ConfigMap',
      metadata: {name: 'on-cluster-build-config', namespace: MCO_NS},
    } as ConfigMap)
    const pool = await client.get<KubeObject>(R.machineConfigPools, 'worker')
    await client.replace(R.machineConfigPools, {
      ...pool,
      metadata: {...pool.metadata, labels: {...pool.metadata.labels, 'machineconfiguration.openshift.io/layering-enabled': ''}},
    })

    const found = (await problems()).filter((p) => p.message.includes('push secret'))
    expect(found).to.have.length(1)
    expect(found[0]).to.include({pool: 'worker', severity: 'warning'})
    expect(found[0].message).to.include('push secret openshift-machine-config-operator/ocb-push').and.include('expires in 1h 59m')

    emu.resetRequests()
    const denied = await run(['status', '--kubeconfig', emu.kubeconfigFor('no-secrets'), '-o', 'json'])
    expect(emu.requests.filter((q) => q.path.endsWith('/secrets/ocb-push')).map((q) => [q.user, q.status])).to.deep.equal([
      ['no-secrets', 403],
    ])
    outputs.push(denied.stdout, denied.stderr)
    expect(denied.exitCode, denied.stderr).to.equal(0)
    const body = JSON.parse(denied.stdout) as {problems: Array<{message: string}>}
    expect(body.problems.filter((p) => p.message.includes('push secret'))).to.deep.equal([])
  })

  it('status --watch: the problem appears once the push secret is read, and only GETs and watches are sent', async () => {
    emu = await startEmulator({fixture: defaultFixturePath(), groups: {machineOS: true}})
    client = new KubeClient(loadKubeconfig({kubeconfig: emu.kubeconfig}))
    await client.create(R.secrets, pushSecret('watched-push', 2 * 86_400))
    await client.create(R.machineOSConfigs, {
      apiVersion: 'machineconfiguration.openshift.io/v1',
      kind: 'MachineOSConfig',
      metadata: {name: 'worker'},
      spec: {
        imageBuilder: {imageBuilderType: 'Job'},
        machineConfigPool: {name: 'worker'},
        renderedImagePushSecret: {name: 'watched-push'},
        renderedImagePushSpec: 'quay.io/org/os-image:latest',
      },
    } as KubeObject)
    emu.resetRequests()
    const ac = new AbortController()
    const seen: StatusResult[] = []
    const done = watchStatus(client, {signal: ac.signal}, (s) => {
      seen.push(s)
      if (s.problems.some((p) => p.message.includes('watched-push'))) ac.abort()
    })
    const timer = setTimeout(() => ac.abort(), 30_000)
    await done
    clearTimeout(timer)
    const last = seen.at(-1)!
    const found = last.problems.filter((p) => p.message.includes('push secret'))
    expect(found).to.have.length(1)
    expect(found[0]).to.include({pool: 'worker', severity: 'warning'})
    expect(found[0].message).to.include('expires in 1d 23h')
    expect(emu.requests.filter((q) => q.method !== 'GET')).to.deep.equal([])
    expect(emu.requests.filter((q) => q.path.includes('/secrets')).map((q) => `${q.method} ${q.path}`)).to.deep.equal([
      `GET /api/v1/namespaces/${MCO_NS}/secrets/watched-push`,
    ])
  })

  after(() => {
    const all = outputs.join('\n')
    for (const t of tokens) expect(all.includes(t), 'a token appeared in the output').to.equal(false)
  })
})
