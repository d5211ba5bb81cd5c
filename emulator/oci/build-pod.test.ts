// End to end: the MCO 4.14 build pod (buildah-build.sh in image-build,
// wait.sh in wait-for-done) really runs through the host runner against a
// loopback registry with htpasswd auth and the emulated API server.
import {expect} from 'chai'
import {mkdtemp, readFile, rm} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {gzipSync} from 'node:zlib'
import {startEmulator, type Emulator} from '../index.js'
import {buildBaseImage, type BaseImage} from './base-image.js'
import {fileText, readImageFs, type ImageEntry} from './image-fs.js'
import {inspectImage, parseReference, startRegistry, type Registry} from './registry.js'
import {hostRunnerAvailable, ocShimDir, runOnHost, SERVICE_ACCOUNT_DIR, type HostContainerSpec, type RunningContainer} from './runner.js'
import {createBuildahStorage, type BuildahStorage} from './storage.js'
import {missingTools, skipWith} from './tools.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const MCO_NS = 'openshift-machine-config-operator'

/** The Gen 1 Dockerfile template (reference §3.1), filled in by hand. */
function renderGen1Dockerfile(v: {base: string; rendered: string; pool: string; releaseVersion: string; custom?: string}): string {
  return [
    `FROM ${v.base} AS extract`,
    'COPY ./machineconfig/machineconfig.json.gz /tmp/machineconfig.json.gz',
    'RUN mkdir -p /etc/machine-config-daemon && cat /tmp/machineconfig.json.gz | base64 -d | gunzip - > /etc/machine-config-daemon/currentconfig',
    '',
    `FROM ${v.base} AS configs`,
    'COPY --from=extract /etc/machine-config-daemon/currentconfig /etc/machine-config-daemon/currentconfig',
    `RUN container="oci" exec -a ignition-apply /usr/lib/dracut/modules.d/30ignition/ignition --ignore-unsupported <(cat /etc/machine-config-daemon/currentconfig | jq '.spec.config') && ostree container commit`,
    `LABEL machineconfig=${v.rendered}`,
    `LABEL machineconfigpool=${v.pool}`,
    `LABEL releaseversion=${v.releaseVersion}`,
    `LABEL baseOSContainerImage=${v.base}`,
    ...(v.custom ? [v.custom] : []),
    '',
  ].join('\n')
}

const UNIT = `[Unit]
Description=oc-mob end-to-end test unit

[Service]
Type=oneshot
ExecStart=/usr/bin/cat /etc/oc-mob-test

[Install]
WantedBy=multi-user.target
`

function renderedMachineConfig(name: string) {
  return {
    apiVersion: 'machineconfiguration.openshift.io/v1',
    kind: 'MachineConfig',
    metadata: {name, annotations: {'machineconfiguration.openshift.io/generated-by-controller-version': 'oc-mob-test'}},
    spec: {
      osImageURL: '',
      config: {
        ignition: {version: '3.2.0'},
        // ignored by --ignore-unsupported, as on a real cluster
        passwd: {users: [{name: 'core', sshAuthorizedKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOcmob test']}]},
        storage: {
          files: [
            {path: '/etc/oc-mob-test', mode: 420, overwrite: true, contents: {source: 'data:,built%20on-cluster%20by%20oc-mob%0A'}},
            {path: '/etc/oc-mob/b64.conf', mode: 384, contents: {source: `data:;base64,${Buffer.from('key=value\n').toString('base64')}`}},
          ],
        },
        systemd: {units: [{name: 'oc-mob-test.service', enabled: true, contents: UNIT}]},
      },
      kernelArguments: [],
      extensions: [],
      fips: false,
      kernelType: '',
    },
  }
}

function collect(c: RunningContainer, name: string, sink: string[]) {
  c.output.on('data', (chunk: Buffer) => sink.push(`[${name}] ${chunk.toString('utf8')}`))
}

describe('MCO build pod on the host runner (buildah-build.sh + wait.sh)', function () {
  this.timeout(180_000)
  let registry: Registry | undefined
  let storage: BuildahStorage | undefined
  let emulator: Emulator | undefined
  let base: BaseImage
  let shared: string | undefined
  const running: RunningContainer[] = []

  before(async function () {
    const missing = await missingTools('docker-registry', 'htpasswd', 'buildah', 'busybox', 'jq')
    if (missing) skipWith(this, missing)
    const runner = await hostRunnerAvailable()
    if (!runner.ok) skipWith(this, runner.why!)
    registry = await startRegistry({auth: {user: 'builder', password: 'b3tter-than-nothing'}})
    storage = await createBuildahStorage({registries: [registry.host]})
    base = await buildBaseImage({registry, storage})
    console.log(`      base image ${base.cached ? 'copied from cache' : 'built'} in ${base.elapsedMs} ms`)
    emulator = await startEmulator({crdDir: false, objects: [{apiVersion: 'v1', kind: 'Namespace', metadata: {name: MCO_NS}}]})
    shared = await mkdtemp(path.join(os.tmpdir(), 'oc-mob-pod-done-'))
  })

  after(async () => {
    for (const c of running) c.kill('SIGKILL')
    await Promise.all(running.map((c) => c.exited))
    await emulator?.close()
    await storage?.cleanup()
    await registry?.stop()
    if (shared) await rm(shared, {recursive: true, force: true})
  })

  it('builds, pushes and publishes the digest exactly like the cluster would', async () => {
    const rendered = 'rendered-layered-0123456789abcdef0123456789abcdef'
    const pool = 'layered'
    const releaseVersion = '4.14.0-0.oc-mob-test'
    const mc = renderedMachineConfig(rendered)
    const mcJson = JSON.stringify(mc)
    const dockerfile = renderGen1Dockerfile({
      base: base.pullspec,
      rendered,
      pool,
      releaseVersion,
      custom: 'FROM configs AS final\nRUN echo "custom layer" > /etc/oc-mob-custom',
    })
    const tag = `${registry!.host}/ocp/os-image:${rendered}`
    const authJson = await readFile(registry!.authfile!)
    const env = {
      DIGEST_CONFIGMAP_NAME: `digest-${rendered}`,
      HOME: '/home/build',
      TAG: tag,
      BASE_IMAGE_PULL_CREDS: '/tmp/base-image-pull-creds/config.json',
      FINAL_IMAGE_PUSH_CREDS: '/tmp/final-image-push-creds/config.json',
      KUBERNETES_SERVICE_HOST: '127.0.0.1',
      KUBERNETES_SERVICE_PORT: String(emulator!.port),
    }
    const mounts: HostContainerSpec['mounts'] = [
      {mountPath: '/tmp/machineconfig', files: {'machineconfig.json.gz': gzipSync(mcJson).toString('base64')}, readOnly: true},
      {mountPath: '/tmp/dockerfile', files: {Dockerfile: dockerfile}, readOnly: true},
      {mountPath: '/tmp/base-image-pull-creds', files: {'config.json': authJson}, readOnly: true},
      {mountPath: '/tmp/final-image-push-creds', files: {'config.json': authJson}, readOnly: true},
      {mountPath: '/tmp/done', emptyDir: {shared: shared!}},
      {
        mountPath: SERVICE_ACCOUNT_DIR,
        files: {token: emulator!.tokens.admin, 'ca.crt': emulator!.caPem, namespace: MCO_NS},
        readOnly: true,
      },
    ]
    const buildScript = await readFile(path.join(here, 'fixtures', 'buildah-build.sh'), 'utf8')
    const waitScript = await readFile(path.join(here, 'fixtures', 'wait.sh'), 'utf8')
    const log: string[] = []

    const started = performance.now()
    const waiter = runOnHost({command: ['/bin/bash', '-c', waitScript], env, mounts, runAsUser: 1000, extraPath: [ocShimDir]}, storage!)
    const builder = runOnHost({command: ['/bin/bash', '-c', buildScript], env, mounts, runAsUser: 1000}, storage!)
    running.push(waiter, builder)
    collect(builder, 'image-build', log)
    collect(waiter, 'wait-for-done', log)
    const buildExit = await builder.exited
    const buildMs = Math.round(performance.now() - started)
    if (buildExit.exitCode !== 0) {
      waiter.kill('SIGKILL')
      throw new Error(`image-build exited ${buildExit.exitCode}:\n${builder.logs()}`)
    }
    const waitExit = await Promise.race([
      waiter.exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`wait-for-done did not finish:\n${waiter.logs()}`)), 20_000)),
    ])
    const totalMs = Math.round(performance.now() - started)
    console.log(`      image-build (bud + push through runOnHost) ${buildMs} ms; pod done after ${totalMs} ms`)
    expect(waitExit.exitCode, waiter.logs()).to.equal(0)
    expect(waiter.logs()).to.contain(`configmap/digest-${rendered} created`)

    // the digest file: sha256:<hex>, no newline, in the emptyDir both containers share
    const digest = await readFile(path.join(shared!, 'digestfile'), 'utf8')
    expect(digest).to.match(/^sha256:[0-9a-f]{64}$/)

    // what wait.sh published
    const cm = await emulator!.request('GET', `/api/v1/namespaces/${MCO_NS}/configmaps/digest-${rendered}`)
    expect(cm.status).to.equal(200)
    expect(cm.body.data).to.deep.equal({digest})

    // the registry has the image under the tag, with that digest and the template's labels
    const ref = parseReference(tag)
    const image = await inspectImage(registry!, ref.repo, ref.tag!)
    expect(image.digest).to.equal(digest)
    expect(image.labels).to.include({
      machineconfig: rendered,
      machineconfigpool: pool,
      releaseversion: releaseVersion,
      baseOSContainerImage: base.pullspec,
    })
    // base image labels are inherited
    expect(image.labels).to.have.property('version')

    // the image's file system: MachineConfig applied by the Ignition stand-in
    const fs = await readImageFs(registry!, ref.repo, digest)
    expect(fileText(fs, '/etc/oc-mob-test')).to.equal('built on-cluster by oc-mob\n')
    expect(fileText(fs, '/etc/oc-mob/b64.conf')).to.equal('key=value\n')
    expect((fs.get('/etc/oc-mob/b64.conf') as ImageEntry).mode).to.equal(0o600)
    expect(fileText(fs, '/etc/systemd/system/oc-mob-test.service')).to.equal(UNIT)
    expect(fs.get('/etc/systemd/system/multi-user.target.wants/oc-mob-test.service')).to.deep.include({
      type: 'symlink',
      target: '/etc/systemd/system/oc-mob-test.service',
    })
    expect(JSON.parse(fileText(fs, '/etc/machine-config-daemon/currentconfig')!)).to.deep.equal(mc)
    expect(fileText(fs, '/etc/oc-mob-custom')).to.equal('custom layer\n')
    // unsupported sections were skipped, not applied
    expect(fs.has('/var/home/core/.ssh/authorized_keys.d/ignition')).to.equal(false)

    // the build log is the script's (xtrace of both buildah commands)
    expect(builder.logs()).to.contain('+ buildah bud --storage-driver vfs')
    expect(builder.logs()).to.contain('+ buildah push --storage-driver vfs')
    expect(builder.logs()).to.contain('ignition-apply: wrote file /etc/oc-mob-test')
  })

  it('a failing build leaves wait-for-done waiting, as in MCO 4.14', async () => {
    const failingShared = await mkdtemp(path.join(os.tmpdir(), 'oc-mob-pod-done-'))
    try {
      const env = {
        DIGEST_CONFIGMAP_NAME: 'digest-rendered-broken',
        HOME: '/home/build',
        TAG: `${registry!.host}/ocp/os-image:rendered-broken`,
        BASE_IMAGE_PULL_CREDS: '/tmp/base-image-pull-creds/config.json',
        FINAL_IMAGE_PUSH_CREDS: '/tmp/final-image-push-creds/config.json',
        KUBERNETES_SERVICE_HOST: '127.0.0.1',
        KUBERNETES_SERVICE_PORT: String(emulator!.port),
      }
      // no credentials at all: pulling the base image from the htpasswd registry fails
      const mounts: HostContainerSpec['mounts'] = [
        {mountPath: '/tmp/machineconfig', files: {'machineconfig.json.gz': gzipSync('{}').toString('base64')}},
        {mountPath: '/tmp/dockerfile', files: {Dockerfile: `FROM ${base.pullspec}\n`}},
        {mountPath: '/tmp/base-image-pull-creds', files: {'config.json': '{"auths":{}}'}},
        {mountPath: '/tmp/final-image-push-creds', files: {'config.json': '{"auths":{}}'}},
        {mountPath: '/tmp/done', emptyDir: {shared: failingShared}},
      ]
      const buildScript = await readFile(path.join(here, 'fixtures', 'buildah-build.sh'), 'utf8')
      const waitScript = await readFile(path.join(here, 'fixtures', 'wait.sh'), 'utf8')
      const waiter = runOnHost({command: ['/bin/bash', '-c', waitScript], env, mounts, extraPath: [ocShimDir]}, storage!)
      const builder = runOnHost({command: ['/bin/bash', '-c', buildScript], env, mounts}, storage!)
      running.push(waiter, builder)
      const res = await builder.exited
      expect(res.exitCode, builder.logs()).to.not.equal(0)
      expect(builder.logs()).to.match(/authentication required|unauthorized/i)
      // wait-for-done is still polling; only a kill ends it (bash as PID 1 ignores SIGTERM)
      const still = await Promise.race([waiter.exited.then(() => 'exited'), new Promise((r) => setTimeout(() => r('running'), 1500))])
      expect(still).to.equal('running')
      const stopped = await waiter.stop(500)
      expect(stopped.exitCode).to.equal(137)
    } finally {
      await rm(failingShared, {recursive: true, force: true})
    }
  })
})
