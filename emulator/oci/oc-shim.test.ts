import {expect} from 'chai'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {execa} from 'execa'
import {createCA, startEmulator, type Emulator} from '../index.js'
import {hostRunnerAvailable, ocShimDir, runOnHost, SERVICE_ACCOUNT_DIR} from './runner.js'
import {createBuildahStorage} from './storage.js'
import {skipWith} from './tools.js'

const NS = 'openshift-machine-config-operator'

describe('oc stand-in (oc-shim): oc create configmap, the in-cluster way', function () {
  this.timeout(60_000)
  let emulator: Emulator
  let dir: string
  let sa: string

  before(async () => {
    emulator = await startEmulator({crdDir: false, objects: [{apiVersion: 'v1', kind: 'Namespace', metadata: {name: NS}}]})
    dir = await mkdtemp(path.join(os.tmpdir(), 'oc-mob-oc-shim-'))
    sa = path.join(dir, 'serviceaccount')
    await import('node:fs/promises').then((fs) => fs.mkdir(sa))
    await writeFile(path.join(sa, 'token'), emulator.tokens.admin + '\n')
    await writeFile(path.join(sa, 'ca.crt'), emulator.caPem)
    await writeFile(path.join(sa, 'namespace'), NS)
  })
  after(async () => {
    await emulator?.close()
    if (dir) await rm(dir, {recursive: true, force: true})
  })

  function oc(args: string[], env: Record<string, string> = {}) {
    return execa(path.join(ocShimDir, 'oc'), args, {
      reject: false,
      extendEnv: false,
      env: {
        PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`,
        KUBERNETES_SERVICE_HOST: '127.0.0.1',
        KUBERNETES_SERVICE_PORT: String(emulator.port),
        OC_SHIM_SERVICEACCOUNT_DIR: sa,
        ...env,
      },
    })
  }
  const get = async (ns: string, name: string) => (await emulator.request('GET', `/api/v1/namespaces/${ns}/configmaps/${name}`)).body

  it('creates a ConfigMap from a file with an explicit key, like wait.sh does', async () => {
    const digestFile = path.join(dir, 'digestfile')
    await writeFile(digestFile, 'sha256:' + 'a'.repeat(64))
    const res = await oc(['create', 'configmap', 'digest-rendered-x', '--namespace', NS, `--from-file=digest=${digestFile}`])
    expect(res.exitCode, res.stderr).to.equal(0)
    expect(res.stdout).to.equal('configmap/digest-rendered-x created')
    expect(res.stderr).to.equal('')
    const cm = await get(NS, 'digest-rendered-x')
    expect(cm.data).to.deep.equal({digest: 'sha256:' + 'a'.repeat(64)})
    expect(cm.metadata.namespace).to.equal(NS)
    const post = emulator.requests.find((r) => r.method === 'POST' && r.path.endsWith('/configmaps'))
    expect(post).to.deep.include({path: `/api/v1/namespaces/${NS}/configmaps`, status: 201, user: 'admin'})
    expect(post!.query).to.contain('fieldManager=kubectl-create')
  })

  it('supports -n, --from-file=PATH (key = basename), --from-literal and binary files', async () => {
    const file = path.join(dir, 'settings.conf')
    const bin = path.join(dir, 'blob.bin')
    await writeFile(file, 'a=1\n')
    await writeFile(bin, Buffer.from([0xff, 0xfe, 0x00]))
    await emulator.request('POST', '/api/v1/namespaces', {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'other'}})
    const res = await oc([
      'create',
      'configmap',
      'many',
      '-n',
      'other',
      `--from-file=${file}`,
      '--from-literal=k=v=w',
      '--from-file',
      `b=${bin}`,
    ])
    expect(res.exitCode, res.stderr).to.equal(0)
    expect(res.stdout).to.equal('configmap/many created')
    const cm = await get('other', 'many')
    expect(cm.data).to.deep.equal({'settings.conf': 'a=1\n', k: 'v=w'})
    expect(cm.binaryData).to.deep.equal({b: Buffer.from([0xff, 0xfe, 0x00]).toString('base64')})

    // the namespace defaults to the service account's
    const def = await oc(['create', 'configmap', 'defaulted', '--from-literal=x=y'])
    expect(def.exitCode, def.stderr).to.equal(0)
    expect((await get(NS, 'defaulted')).data).to.deep.equal({x: 'y'})
  })

  it('fails like oc: AlreadyExists, bad token, untrusted server, unreachable server', async () => {
    const again = await oc(['create', 'configmap', 'dup', '-n', NS, '--from-literal=a=b'])
    expect(again.exitCode).to.equal(0)
    const dup = await oc(['create', 'configmap', 'dup', '-n', NS, '--from-literal=a=b'])
    expect(dup.exitCode).to.equal(1)
    expect(dup.stdout).to.equal('')
    expect(dup.stderr).to.equal('error: failed to create configmap: configmaps "dup" already exists')

    const badSa = path.join(dir, 'bad-sa')
    await import('node:fs/promises').then((fs) => fs.mkdir(badSa))
    await writeFile(path.join(badSa, 'token'), 'not-a-token')
    await writeFile(path.join(badSa, 'ca.crt'), emulator.caPem)
    const unauthorized = await oc(['create', 'configmap', 'nope', '-n', NS, '--from-literal=a=b'], {OC_SHIM_SERVICEACCOUNT_DIR: badSa})
    expect(unauthorized.exitCode).to.equal(1)
    expect(unauthorized.stderr).to.equal('error: failed to create configmap: Unauthorized')

    const otherCa = path.join(dir, 'other-ca')
    await import('node:fs/promises').then((fs) => fs.mkdir(otherCa))
    await writeFile(path.join(otherCa, 'token'), emulator.tokens.admin)
    await writeFile(path.join(otherCa, 'ca.crt'), createCA('some other CA').certPem)
    const untrusted = await oc(['create', 'configmap', 'nope', '-n', NS, '--from-literal=a=b'], {OC_SHIM_SERVICEACCOUNT_DIR: otherCa})
    expect(untrusted.exitCode).to.equal(1)
    expect(untrusted.stderr).to.match(
      /^error: failed to create configmap: Post "https:\/\/127\.0\.0\.1:\d+\/api\/v1\/namespaces\/openshift-machine-config-operator\/configmaps\?.*": .*certificate/,
    )

    const refused = await oc(['create', 'configmap', 'nope', '-n', NS, '--from-literal=a=b'], {KUBERNETES_SERVICE_PORT: '1'})
    expect(refused.exitCode).to.equal(1)
    expect(refused.stderr).to.match(
      /^error: failed to create configmap: Post "https:\/\/127\.0\.0\.1:1\/.*": dial tcp 127\.0\.0\.1:1: connect: connection refused$/,
    )

    const noEnv = await oc(['create', 'configmap', 'nope', '--from-literal=a=b'], {KUBERNETES_SERVICE_HOST: ''})
    expect(noEnv.exitCode).to.equal(1)
    expect(noEnv.stderr).to.contain('KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined')
  })

  it('rejects what it does not implement and bad arguments', async () => {
    const get = await oc(['get', 'pods'])
    expect(get.exitCode).to.equal(1)
    expect(get.stderr).to.contain('only implements "oc create configmap"')
    const noName = await oc(['create', 'configmap'])
    expect(noName.stderr).to.contain('exactly one NAME is required, got 0')
    const missingFile = await oc(['create', 'configmap', 'x', '--from-file=k=/nonexistent/oc-mob'])
    expect(missingFile.exitCode).to.equal(1)
    expect(missingFile.stderr).to.contain('error reading /nonexistent/oc-mob: no such file or directory')
    const badKey = await oc(['create', 'configmap', 'x', '--from-literal=bad key=v'])
    expect(badKey.stderr).to.contain('"bad key" is not a valid key name for a ConfigMap')
    const unknown = await oc(['create', 'configmap', 'x', '--dry-run=client'])
    expect(unknown.stderr).to.contain('unknown flag: --dry-run')
    // nothing was created by the failures
    expect((await emulator.request('GET', `/api/v1/namespaces/${NS}/configmaps/x`)).status).to.equal(404)
  })

  it('works from a runOnHost container with the service account mounted in-cluster style', async function () {
    const ok = await hostRunnerAvailable()
    if (!ok.ok) skipWith(this, ok.why!)
    const storage = await createBuildahStorage()
    try {
      const c = runOnHost(
        {
          command: [
            '/bin/bash',
            '-c',
            'echo -n sha256:in-cluster > /tmp/d && oc create configmap from-pod --namespace openshift-machine-config-operator --from-file=digest=/tmp/d',
          ],
          env: {KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(emulator.port)},
          mounts: [
            {
              mountPath: SERVICE_ACCOUNT_DIR,
              files: {token: emulator.tokens.admin, 'ca.crt': emulator.caPem, namespace: NS},
              readOnly: true,
            },
          ],
          extraPath: [ocShimDir],
        },
        storage,
      )
      const exit = await c.exited
      expect(exit.exitCode, c.logs()).to.equal(0)
      expect(c.logs()).to.equal('configmap/from-pod created\n')
      expect((await get(NS, 'from-pod')).data).to.deep.equal({digest: 'sha256:in-cluster'})
    } finally {
      await storage.cleanup()
    }
  })
})
