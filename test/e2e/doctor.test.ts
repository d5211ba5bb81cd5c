import {expect} from 'chai'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {KubeClient} from '../../src/lib/kube/client.js'
import {loadKubeconfig} from '../../src/lib/kube/kubeconfig.js'
import {R} from '../../src/lib/kube/resources.js'
import type {ConfigMap, KubeObject, Secret} from '../../src/lib/kube/types.js'
import {createCA, issueCert} from '../../emulator/pki.js'
import {defaultFixturePath, type Emulator} from '../../emulator/index.js'
import {registryAvailable, startRegistry} from '../../emulator/oci/registry.js'
import {startSilentServer, startTokenRegistry, type TokenRegistry} from '../../emulator/oci/token-registry.js'
import {MCO_NS, run, type RunResult, startEmulator} from './harness.js'

// `oc mob doctor` against the emulated cluster, with real registries on loopback: an in-process
// Docker Registry v2 with a token service (always), and Debian's docker-registry with htpasswd when
// it is installed. Every output of these tests is kept and searched for the secrets' values.

const PW = {nodes: 'nodes-pw-Kq3v9Xs', pusher: 'pusher-pw-7Rt2mWq', pruner: 'pruner-pw-Hc5uP0e', reader: 'reader-pw-Jd8aQ1z'}
const BASE_DIGEST = `sha256:${'ab'.repeat(32)}`
const outputs: string[] = []
const secretValues: string[] = []

const b64 = (s: string): string => Buffer.from(s).toString('base64')
function dockerConfig(host: string, user: string, password: string): string {
  const auth = b64(`${user}:${password}`)
  secretValues.push(password, auth)
  return b64(JSON.stringify({auths: {[host]: {auth}}}))
}

/** A JWT as service-account tokens look (unsigned for the test; never printed). */
function jwt(claims: Record<string, unknown>): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const token = `${part({alg: 'RS256', kid: 'test'})}.${part(claims)}.${Buffer.from('signature-' + Math.random()).toString('base64url')}`
  secretValues.push(token)
  return token
}

function secret(
  name: string,
  namespace: string,
  data: Record<string, string>,
  type = 'kubernetes.io/dockerconfigjson',
  annotations: Record<string, string> = {},
): Secret {
  return {apiVersion: 'v1', data, kind: 'Secret', metadata: {annotations, name, namespace}, type} as Secret
}

describe('oc mob doctor (end to end, registries on loopback)', function () {
  this.timeout(120_000)
  let emu: Emulator
  let client: KubeClient
  let reg: TokenRegistry
  let tmp: string

  const doctor = async (...args: string[]): Promise<RunResult> => {
    const r = await run(['doctor', '--kubeconfig', emu.kubeconfig, ...args])
    outputs.push(r.stdout, r.stderr)
    return r
  }

  const json = async (...args: string[]) => {
    const r = await doctor(...args, '-o', 'json')
    return {
      body: JSON.parse(r.stdout) as {
        checks: Array<{id: string; status: string; cause: string; answer?: string; login?: string; subject: string}>
        summary: {fail: number}
      },
      r,
    }
  }

  const writes = (): string[] =>
    emu.requests
      .filter((q) => q.method !== 'GET' && !q.path.includes('selfsubjectaccessreviews') && !q.query.includes('dryRun=All'))
      .map((q) => `${q.method} ${q.path}`)

  async function put(obj: KubeObject & {kind?: string}): Promise<void> {
    const r = obj.kind === 'Secret' ? R.secrets : obj.kind === 'ConfigMap' ? R.configMaps : R.machineOSConfigs
    let cur = await client.find<KubeObject & {type?: string}>(r, obj.metadata.name!, obj.metadata.namespace)
    if (cur && cur.type !== (obj as {type?: string}).type) {
      await client.delete(r, obj.metadata.name!, {namespace: obj.metadata.namespace})
      cur = undefined
    }

    await (cur
      ? client.replace(r, {...obj, metadata: {...obj.metadata, resourceVersion: cur.metadata.resourceVersion}})
      : client.create(r, obj))
  }

  /** Point the cluster at `host`: base image, global pull secret, push secret and the worker pool's MachineOSConfig. */
  async function configure(host: string, opts: {push?: Secret; globalUser?: string} = {}): Promise<void> {
    const cm = await client.get<ConfigMap>(R.configMaps, 'machine-config-osimageurl', MCO_NS)
    await client.replace(R.configMaps, {...cm, data: {...cm.data, baseOSContainerImage: `${host}/ocp/rhcos@${BASE_DIGEST}`}})
    await put(secret('pull-secret', 'openshift-config', {'.dockerconfigjson': dockerConfig(host, opts.globalUser ?? 'nodes', PW.nodes)}))
    await put(opts.push ?? secret('push-creds', MCO_NS, {'.dockerconfigjson': dockerConfig(host, 'pruner', PW.pruner)}))
    await put({
      apiVersion: 'machineconfiguration.openshift.io/v1',
      kind: 'MachineOSConfig',
      metadata: {name: 'worker'},
      spec: {
        imageBuilder: {imageBuilderType: 'Job'},
        machineConfigPool: {name: 'worker'},
        renderedImagePushSecret: {name: opts.push?.metadata.name ?? 'push-creds'},
        renderedImagePushSpec: `${host}/org/os-image:latest`,
      },
    } as KubeObject)
  }

  const users = {
    nodes: {actions: ['pull' as const], password: PW.nodes},
    pruner: {actions: ['pull' as const, 'push' as const, 'delete' as const], password: PW.pruner},
    pusher: {actions: ['pull' as const, 'push' as const], password: PW.pusher},
    reader: {actions: ['pull' as const], password: PW.reader},
  }

  beforeEach(async () => {
    emu = await startEmulator({fixture: defaultFixturePath(), groups: {machineOS: true}})
    client = new KubeClient(loadKubeconfig({kubeconfig: emu.kubeconfig}))
    reg = await startTokenRegistry({images: {'ocp/rhcos': [BASE_DIGEST]}, jwtActions: ['pull', 'push'], users})
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-mob-doctor-'))
  })

  afterEach(async () => {
    await reg?.stop()
    await emu?.close()
    fs.rmSync(tmp, {force: true, recursive: true})
  })

  it('Bearer flow: every login and right proved, nothing pushed, nothing changed in the cluster; exit 0', async () => {
    await configure(reg.host)
    emu.resetRequests()
    const {body, r} = await json('worker')
    expect(r.exitCode, r.stderr).to.equal(0)
    const row = (id: string) => body.checks.find((c) => c.id === id)!
    expect(row('registry:pull:base')).to.include({status: 'ok'})
    expect(row('registry:pull:base').answer).to.equal(`HEAD /v2/ocp/rhcos/manifests/${BASE_DIGEST}: HTTP 200`)
    expect(row('registry:pull:base').login).to.match(/^Bearer token from http:\/\/127\.0\.0\.1:\d+\/token$/)
    expect(row('registry:pull:nodes')).to.include({status: 'ok'})
    expect(row('registry:pull:nodes').cause).to.include('does not exist yet')
    expect(row('registry:push').answer).to.match(
      /POST \/v2\/org\/os-image\/blobs\/uploads\/: HTTP 202; upload session cancelled \(HTTP 204\)/,
    )
    expect(row('registry:delete')).to.include({status: 'ok'})
    expect(row('registry:delete').answer).to.include('HTTP 404 MANIFEST_UNKNOWN')
    expect(row('pool:machineosconfig').cause).to.include('server-side dry run')
    expect(row('pool:nodes-os').cause).to.equal('2 nodes, all CoreOS')
    expect(reg.openUploads(), 'every upload session was cancelled').to.deep.equal([])
    expect(reg.requests.filter((q) => q.method === 'PUT' || q.method === 'PATCH')).to.deep.equal([])
    expect(writes(), 'only the dry run').to.deep.equal([])

    const table = await doctor('worker')
    expect(table.exitCode).to.equal(0)
    expect(table.stdout).to.match(/STATUS\s+KIND\s+CHECK\s+CAUSE/)
    expect(table.stdout).to.match(/0 warnings, 0 failed|, 0 failed/)
  })

  it("the registry's own answers: push refused (401 insufficient scope), deletes refused, bad credentials at the token service; exit 7", async () => {
    await configure(reg.host, {push: secret('push-creds', MCO_NS, {'.dockerconfigjson': dockerConfig(reg.host, 'reader', PW.reader)})})
    const {body, r} = await json('worker')
    expect(r.exitCode).to.equal(7)
    expect(r.stderr).to.include('check failed').and.include('next:')
    const push = body.checks.find((c) => c.id === 'registry:push')!
    expect(push.status).to.equal('fail')
    expect(push.answer).to.equal(
      'POST /v2/org/os-image/blobs/uploads/: HTTP 401 UNAUTHORIZED: access to the requested resource is not authorized',
    )
    expect(body.checks.find((c) => c.id === 'registry:delete')).to.include({status: 'warn'})

    await put(secret('push-creds', MCO_NS, {'.dockerconfigjson': dockerConfig(reg.host, 'pusher', 'not-the-password-Zx0')}))
    const bad = await json('worker')
    const row = bad.body.checks.find((c) => c.id === 'registry:push')!
    expect(row.status).to.equal('fail')
    expect(row.answer).to.match(/token service http:\/\/127\.0\.0\.1:\d+\/token: HTTP 401 incorrect username or password/)
  })

  it('deletes disabled: 405 UNSUPPORTED is a warning that pruning deletes nothing', async () => {
    const off = await startTokenRegistry({deletes: false, images: {'ocp/rhcos': [BASE_DIGEST]}, users})
    try {
      await configure(off.host)
      const {body, r} = await json('worker')
      expect(r.exitCode, r.stderr).to.equal(0)
      const row = body.checks.find((c) => c.id === 'registry:delete')!
      expect(row.status).to.equal('warn')
      expect(row.answer).to.include('HTTP 405 UNSUPPORTED')
      expect(row.cause).to.include('pruning deletes nothing')
    } finally {
      await off.stop()
    }
  })

  it('Basic auth registries are logged into with Basic credentials', async () => {
    const basic = await startTokenRegistry({auth: 'basic', images: {'ocp/rhcos': [BASE_DIGEST]}, users})
    try {
      await configure(basic.host)
      const {body, r} = await json('worker')
      expect(r.exitCode, r.stderr).to.equal(0)
      expect(body.checks.find((c) => c.id === 'registry:push')).to.include({login: 'Basic', status: 'ok'})
    } finally {
      await basic.stop()
    }
  })

  it('service-account tokens: expired is a failure (and the registry refuses it), close to expiry and rotating secrets are warnings with the fix', async () => {
    const now = Math.floor(Date.now() / 1000)
    const sa = 'system:serviceaccount:openshift-machine-config-operator:builder'
    const expired = jwt({exp: now - 7200, sub: sa})
    const dockercfg = (token: string) =>
      b64(JSON.stringify({[reg.host]: {auth: b64(`<token>:${token}`), password: token, username: '<token>'}}))
    secretValues.push(b64(`<token>:${expired}`))
    await configure(reg.host, {
      push: secret('builder-dockercfg-x1y2z', MCO_NS, {'.dockercfg': dockercfg(expired)}, 'kubernetes.io/dockercfg', {
        'kubernetes.io/service-account.name': 'builder',
      }),
    })
    const {body, r} = await json('worker')
    expect(r.exitCode).to.equal(7)
    const token = body.checks.find((c) => c.id === 'token:push')!
    expect(token.status).to.equal('fail')
    expect(token.cause).to.match(/the token of service account openshift-machine-config-operator\/builder expired 2h 0m ago/)
    expect(body.checks.find((c) => c.id === 'registry:push')!.answer).to.include('HTTP 401')

    const soon = jwt({exp: now + 3 * 3600, sub: sa})
    secretValues.push(b64(`<token>:${soon}`))
    await put(
      secret('builder-dockercfg-x1y2z', MCO_NS, {'.dockercfg': dockercfg(soon)}, 'kubernetes.io/dockercfg', {
        'kubernetes.io/service-account.name': 'builder',
      }),
    )
    const table = await doctor('worker')
    expect(table.exitCode, table.stderr).to.equal(0)
    expect(table.stdout).to.match(/WARN\s+token\s+push secret builder-dockercfg-x1y2z: token for 127\.0\.0\.1:\d+/)
    expect(table.stdout).to.match(/expires in 2h 59m|expires in 3h 0m/)
    expect(table.stdout).to.include('oc create token builder -n openshift-machine-config-operator --duration=8760h')
    expect(table.stdout).to.include('oc mob setup --pool worker --push-secret worker-push-token --force')
    expect(table.stdout).to.match(/OK\s+registry\s+push to 127\.0\.0\.1:\d+\/org\/os-image/)

    emu.resetRequests()
    const fix = await doctor('worker', '--fix')
    expect(fix.exitCode, 'no terminal to confirm on').to.equal(2)
    expect(fix.stderr).to.include('refusing to create secret worker-push-token').and.include('--yes')
    expect(writes()).to.deep.equal([])
  })

  describe('--fix: a long-lived token secret in place of the rotating one', () => {
    const sa = 'system:serviceaccount:openshift-machine-config-operator:builder'
    const rotating = (saName: string): Secret => {
      const token = jwt({exp: Math.floor(Date.now() / 1000) + 3 * 3600, sub: `system:serviceaccount:${MCO_NS}:${saName}`})
      const auth = b64(`<token>:${token}`)
      secretValues.push(auth)
      return secret(
        'builder-dockercfg-x1y2z',
        MCO_NS,
        {'.dockercfg': b64(JSON.stringify({[reg.host]: {auth, password: token, username: '<token>'}}))},
        'kubernetes.io/dockercfg',
        {'kubernetes.io/service-account.name': saName},
      )
    }

    const pushSecretOf = async (): Promise<string> =>
      (await client.get<KubeObject & {spec: {renderedImagePushSecret: {name: string}}}>(R.machineOSConfigs, 'worker')).spec
        .renderedImagePushSecret.name

    it('--yes: the token secret is created, the pool switched to it, and the next doctor passes; no token in any output', async () => {
      await configure(reg.host, {push: rotating('builder')})
      emu.resetRequests()
      const asked = await doctor('worker', '--fix')
      expect(asked.exitCode, 'no terminal to confirm on, no --yes').to.equal(2)
      expect(asked.stderr).to.include('refusing to create secret worker-push-token').and.include('--yes')
      expect(writes(), 'nothing changed').to.deep.equal([])
      expect(await client.find(R.secrets, 'worker-push-token', MCO_NS)).to.equal(undefined)
      expect(await pushSecretOf()).to.equal('builder-dockercfg-x1y2z')

      emu.resetRequests()
      const started = Math.floor(Date.now() / 1000)
      const fixed = await doctor('worker', '--fix', '--yes')
      expect(fixed.exitCode, fixed.stderr).to.equal(0)
      expect(fixed.stdout + fixed.stderr).to.include(
        'pool worker: now pushes with openshift-machine-config-operator/worker-push-token (a token valid for one year)',
      )
      expect(writes()).to.deep.equal([
        `POST /api/v1/namespaces/${MCO_NS}/serviceaccounts/builder/token`,
        `POST /api/v1/namespaces/${MCO_NS}/secrets`,
        ...writes().filter((w) => w.includes('/machineosconfigs/worker')),
      ])
      expect(writes().filter((w) => w.includes('/machineosconfigs/worker'))).to.have.length(1)

      const made = await client.get<Secret>(R.secrets, 'worker-push-token', MCO_NS)
      expect(made.type).to.equal('kubernetes.io/dockerconfigjson')
      expect(made.metadata.annotations).to.deep.include({'oc-mob/long-lived-token-of': 'builder'})
      const config = JSON.parse(Buffer.from(made.data!['.dockerconfigjson'], 'base64').toString('utf8')) as {
        auths: Record<string, {auth: string}>
      }
      expect(Object.keys(config.auths)).to.deep.equal([reg.host])
      const [user, token] = Buffer.from(config.auths[reg.host].auth, 'base64').toString('utf8').split(/:(.*)/s)
      secretValues.push(token, config.auths[reg.host].auth, made.data!['.dockerconfigjson'])
      expect(user).to.equal('builder')
      const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as {exp: number; sub: string}
      expect(claims.sub).to.equal(sa)
      expect(claims.exp - started).to.be.within(365 * 86_400 - 5, 365 * 86_400 + 60)
      expect(await pushSecretOf()).to.equal('worker-push-token')
      expect(await client.find(R.secrets, 'builder-dockercfg-x1y2z', MCO_NS), 'the rotating secret is left alone').to.not.equal(undefined)

      const {body, r} = await json('worker')
      expect(r.exitCode, r.stderr).to.equal(0)
      const row = (id: string) => body.checks.find((c) => c.id === id)!
      expect(row('secret:push')).to.include({status: 'ok', subject: `push secret worker-push-token (${MCO_NS}/worker-push-token)`})
      expect(row('token:push')).to.include({status: 'ok'})
      expect(row('token:push').cause).to.match(/^expires in 36[45]d/)
      expect(row('registry:push')).to.include({status: 'ok'})
      expect(row('registry:push').login).to.match(/^Bearer token from/)

      const again = await doctor('worker', '--fix')
      expect(again.exitCode, again.stderr).to.equal(0)
      expect(again.stdout + again.stderr).to.include('--fix: nothing to fix')
    })

    it('a service account that does not exist: the API server says so (404), nothing is created or switched', async () => {
      await configure(reg.host, {push: rotating('gone-builder')})
      emu.resetRequests()
      const r = await doctor('worker', '--fix', '--yes')
      expect(r.exitCode).to.equal(6)
      expect(r.stderr).to.include(`service account ${MCO_NS}/gone-builder, whose token builder-dockercfg-x1y2z holds, does not exist`)
      expect(r.stderr).to.include(`next: pick a push secret of a service account that exists`)
      expect(writes()).to.deep.equal([`POST /api/v1/namespaces/${MCO_NS}/serviceaccounts/gone-builder/token`])
      expect(await client.find(R.secrets, 'worker-push-token', MCO_NS)).to.equal(undefined)
      expect(await pushSecretOf()).to.equal('builder-dockercfg-x1y2z')
    })
  })

  it('bad input: a secret of the wrong type, a dockerconfigjson that is not JSON — reported, nothing changed', async () => {
    await configure(reg.host, {push: secret('push-creds', MCO_NS, {token: b64('opaque-value-Ww2')}, 'Opaque')})
    secretValues.push('opaque-value-Ww2')
    emu.resetRequests()
    const {body, r} = await json('worker')
    expect(r.exitCode).to.equal(7)
    const row = body.checks.find((c) => c.id === 'secret:push')!
    expect(row.cause).to.equal('secret push-creds has type Opaque; it must be kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg')
    expect(body.checks.find((c) => c.id === 'registry:push')!.cause).to.match(
      /^not tried: openshift-machine-config-operator\/push-creds is not usable/,
    )
    expect(body.checks.find((c) => c.id === 'registry:pull:base')).to.include({status: 'ok'})
    expect(writes()).to.deep.equal([])

    // The API server refuses a dockerconfigjson Secret that is not JSON; the internal registry's pull
    // secret in the ControllerConfig is not checked by anyone.
    const cc = await client.get<KubeObject & {spec: Record<string, unknown>}>(R.controllerConfigs, 'machine-config-controller')
    await client.replace(R.controllerConfigs, {...cc, spec: {...cc.spec, internalRegistryPullSecret: b64('{"auths": {not json')}})
    emu.resetRequests()
    const notJson = await json('worker')
    expect(notJson.r.exitCode).to.equal(7)
    const internal = notJson.body.checks.find((c) => c.id === 'secret:internal')!
    expect(internal).to.include({cause: 'its content is not a valid docker config (JSON)', status: 'fail'})
    expect(writes()).to.deep.equal([])
  })

  it('a registry that does not answer is time-boxed and reported; the other checks still run', async () => {
    const silent = await startSilentServer()
    try {
      await configure(reg.host)
      const cm = await client.get<ConfigMap>(R.configMaps, 'machine-config-osimageurl', MCO_NS)
      await client.replace(R.configMaps, {...cm, data: {...cm.data, baseOSContainerImage: `${silent.host}/ocp/rhcos@${BASE_DIGEST}`}})
      const started = Date.now()
      const {body, r} = await json('worker', '--timeout', '1')
      expect(Date.now() - started).to.be.below(20_000)
      expect(r.exitCode).to.equal(7)
      const base = body.checks.find((c) => c.id === 'registry:pull:base')!
      expect(base.status).to.equal('fail')
      expect(base.cause).to.equal(`not reachable: ${silent.host} did not answer within 1 s`)
      expect(body.checks.find((c) => c.id === 'registry:push')).to.include({status: 'ok'})
    } finally {
      await silent.stop()
    }
  })

  it('TLS: an unknown CA is named in the error; --registry-ca makes it work', async () => {
    const ca = createCA('doctor-test-ca')
    const cert = issueCert(ca, {commonName: '127.0.0.1', ipAddresses: ['127.0.0.1'], usage: 'server'})
    const tls = await startTokenRegistry({
      images: {'ocp/rhcos': [BASE_DIGEST]},
      tls: {certPem: cert.certPem + ca.certPem, keyPem: cert.keyPem},
      users,
    })
    try {
      await configure(tls.host)
      const {body, r} = await json('worker')
      expect(r.exitCode).to.equal(7)
      const push = body.checks.find((c) => c.id === 'registry:push')!
      expect(push.cause, push.cause).to.match(
        /^not reachable: TLS with 127\.0\.0\.1:\d+ failed: .+ \(\w+; verified against Node's built-in CA list/,
      )
      const caFile = path.join(tmp, 'ca.crt')
      fs.writeFileSync(caFile, ca.certPem)
      const good = await json('worker', '--registry-ca', caFile)
      expect(good.r.exitCode, good.r.stderr).to.equal(0)
      expect(good.body.checks.find((c) => c.id === 'registry:push')).to.include({status: 'ok'})
    } finally {
      await tls.stop()
    }
  })

  it('a pool that does not exist: exit 6, the pools named', async () => {
    const r = await doctor('nope')
    expect(r.exitCode).to.equal(6)
    expect(r.stderr).to.include('pool nope not found; pools are: master, worker')
  })

  describe("with Debian's docker-registry and htpasswd", () => {
    before(async function () {
      if (!(await registryAvailable())) {
        this.skip() // docker-registry (and htpasswd, apache2-utils) are not installed here
      }
    })

    it('Basic auth against the real registry; deletes disabled answer 405', async () => {
      const real = await startRegistry({auth: {password: PW.pruner, user: 'pruner'}, deletes: false})
      try {
        await configure(real.host, {globalUser: 'pruner'})
        await put(secret('pull-secret', 'openshift-config', {'.dockerconfigjson': dockerConfig(real.host, 'pruner', PW.pruner)}))
        const {body} = await json('worker')
        expect(body.checks.find((c) => c.id === 'registry:push')).to.include({login: 'Basic', status: 'ok'})
        expect(body.checks.find((c) => c.id === 'registry:delete')!.answer).to.include('405')
      } finally {
        await real.stop()
      }
    })
  })

  after(() => {
    // No secret value in any output of this file's runs.
    const all = outputs.join('\n')
    for (const v of secretValues) expect(all.includes(v), `a secret value appeared in the output`).to.equal(false)
    expect(outputs.length).to.be.above(10)
  })
})
