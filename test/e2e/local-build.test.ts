import {expect} from 'chai'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {findEngine, type LocalBuildOptions} from '../../src/lib/build/local.js'
import {buildLocally} from '../../src/lib/layering/generation.js'
import {ExitCode, MobError} from '../../src/lib/errors.js'
import {KubeClient} from '../../src/lib/kube/client.js'
import {defaultFixturePath, type Emulator} from '../../emulator/index.js'
import {fileText, readImageFs} from '../../emulator/oci/image-fs.js'
import {inspectImage, listTags, manifestDigest} from '../../emulator/oci/registry.js'
import {buildahEnv, type BuildahStorage, createBuildahStorage} from '../../emulator/oci/storage.js'
import {missingTools, skipWith} from '../../emulator/oci/tools.js'
import {FAST} from '../../emulator/sim/helpers.js'
import type {Cluster} from '../../emulator/sim/index.js'
import {MCO_NS, run, startEmulator, startCluster as startSimCluster} from './harness.js'

const b64 = (s: string): string => Buffer.from(s).toString('base64')
const CM_PATH = `/api/v1/namespaces/${MCO_NS}/configmaps`
const SECRET_PATH = `/api/v1/namespaces/${MCO_NS}/secrets`
const PULL_PASSWORD = 'pull-PASSWORD-1'
const PUSH_PASSWORD = 'push-PASSWORD-2'
const FAKE_DIGEST = 'sha256:' + 'a'.repeat(64)

function configMap(name: string, data: Record<string, string>) {
  return {apiVersion: 'v1', data, kind: 'ConfigMap', metadata: {name, namespace: MCO_NS}}
}

function dockerConfigSecret(name: string, auths: Record<string, unknown>) {
  return {
    apiVersion: 'v1',
    data: {'.dockerconfigjson': b64(JSON.stringify({auths}))},
    kind: 'Secret',
    metadata: {name, namespace: MCO_NS},
    type: 'kubernetes.io/dockerconfigjson',
  }
}

function buildConfig(pullspec: string, push = 'push-secret') {
  return configMap('on-cluster-build-config', {
    baseImagePullSecretName: 'pull-secret-copy',
    finalImagePullspec: pullspec,
    finalImagePushSecretName: push,
    imageBuilderType: 'custom-pod-builder',
  })
}

/** What a MobError carries, or a failed assertion when something else was thrown. */
async function failure(p: Promise<unknown>): Promise<MobError> {
  try {
    await p
  } catch (error) {
    if (error instanceof MobError) return error
    throw error
  }

  throw new Error('expected a MobError')
}

/**
 * A stand-in for buildah/podman: records its arguments, the mode and content of each --authfile and
 * whether the build context is complete, prints a few lines, writes --iidfile/--digestfile, and can
 * fail or hang on request.
 */
const FAKE_ENGINE = `#!/bin/bash
PATH=/usr/local/bin:/usr/bin:/bin
log="$FAKE_ENGINE_DIR/log"
printf 'args %s\\n' "$*" >> "$log"
cmd=$1
last="\${@: -1}"
shift
iid= ; digest= ; auth=
while [ $# -gt 0 ]; do
  case "$1" in
    --iidfile) iid=$2; shift ;;
    --digestfile) digest=$2; shift ;;
    --authfile) auth=$2; shift ;;
  esac
  shift
done
if [ -n "$auth" ]; then
  printf 'mode %s %s\\n' "$cmd" "$(stat -c %a "$auth")" >> "$log"
  cp "$auth" "$FAKE_ENGINE_DIR/$cmd-auth.json"
fi
case "$cmd" in
  build)
    [ -f "$last/Dockerfile" ] && [ -f "$last/machineconfig/machineconfig.json.gz" ] && echo "context complete" >> "$log"
    echo "STEP 1/9: FROM base AS extract"
    echo "progress on stderr" >&2
    if [ -n "$FAKE_ENGINE_SLEEP" ]; then exec sleep "$FAKE_ENGINE_SLEEP"; fi
    if [ -n "$FAKE_ENGINE_FAIL" ]; then
      echo "STEP 9/9: RUN exit 3"
      echo 'Error: building at STEP "RUN exit 3": while running runtime: exit status 3' >&2
      exit 3
    fi
    printf 'sha256:%064d' 7 > "$iid"
    ;;
  push)
    printf '${FAKE_DIGEST}' > "$digest"
    echo "Writing manifest to image destination"
    ;;
esac
`

describe('buildLocally: engines, credentials, checks and failures (stand-in engine)', function () {
  this.timeout(60_000)
  let emu: Emulator
  let client: KubeClient
  let tmp: string
  let fakeBin: string
  let fakeDir: string
  let scratch: string
  const RENDERED = 'rendered-worker-3c273e885e2c53ea2e7ec2155b22757f'
  const lines: string[] = []

  const engineLog = (): string => (fs.existsSync(path.join(fakeDir, 'log')) ? fs.readFileSync(path.join(fakeDir, 'log'), 'utf8') : '')
  const opts = (o: Partial<LocalBuildOptions> & {extraEnv?: Record<string, string>} = {}): LocalBuildOptions => {
    const {extraEnv, ...rest} = o
    return {
      env: {FAKE_ENGINE_DIR: fakeDir, PATH: fakeBin, ...extraEnv},
      onLine: (l) => lines.push(l),
      tmpDir: scratch,
      ...rest,
    }
  }

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-mob-local-fake-'))
    fakeBin = path.join(tmp, 'bin')
    fs.mkdirSync(fakeBin)
    fs.writeFileSync(path.join(fakeBin, 'buildah'), FAKE_ENGINE, {mode: 0o755})
    // A 4.14/4.15 cluster: it does not serve the MachineOSConfig API.
    emu = await startEmulator({
      fixture: defaultFixturePath(),
      groups: {machineOS: false},
      objects: [
        buildConfig('quay.io/example/os-image:latest'),
        dockerConfigSecret('pull-secret-copy', {'quay.io': {auth: b64(`puller:${PULL_PASSWORD}`)}}),
        {
          apiVersion: 'v1',
          data: {'.dockercfg': b64(JSON.stringify({'quay.io': {email: 'ci@example.com', password: PUSH_PASSWORD, username: 'pusher'}}))},
          kind: 'Secret',
          metadata: {name: 'push-secret', namespace: MCO_NS},
          type: 'kubernetes.io/dockercfg',
        },
        configMap('on-cluster-build-custom-dockerfile', {
          master: 'FROM configs AS final\nRUNN oops\n',
          worker: 'FROM configs AS final\nRUN echo local\n',
        }),
      ],
    })
    client = KubeClient.fromFlags({kubeconfig: emu.kubeconfig})
  })

  beforeEach(() => {
    lines.length = 0
    fakeDir = fs.mkdtempSync(path.join(tmp, 'engine-'))
    scratch = fs.mkdtempSync(path.join(tmp, 'scratch-'))
    emu.resetRequests()
  })

  afterEach(() => {
    // Temporary directories (credentials, context) never outlive a build.
    expect(fs.readdirSync(scratch)).to.deep.equal([])
    // No build ever writes to the cluster.
    expect(emu.requests.filter((q) => q.method !== 'GET')).to.deep.equal([])
  })

  after(async () => {
    await emu?.close()
    fs.rmSync(tmp, {force: true, recursive: true})
  })

  it('says that neither buildah nor podman is on PATH (exit 10), before reading the cluster', async () => {
    const e = await failure(buildLocally(client, 'worker', opts({env: {PATH: path.join(tmp, 'empty')}})))
    expect(e.exitCode).to.equal(ExitCode.Unavailable)
    expect(e.message).to.equal('neither buildah nor podman found on PATH; install one (apt-get install buildah)')
    expect(emu.requests).to.deep.equal([])
    const p = await failure(buildLocally(client, 'worker', opts({engine: 'podman'})))
    expect(p.exitCode).to.equal(ExitCode.Unavailable)
    expect(p.message).to.equal('podman not found on PATH')
  })

  it('prefers buildah, falls back to podman', async () => {
    const both = path.join(tmp, 'both')
    fs.mkdirSync(both)
    fs.writeFileSync(path.join(both, 'podman'), '#!/bin/sh\n', {mode: 0o755})
    expect((await findEngine(undefined, both)).engine).to.equal('podman')
    fs.writeFileSync(path.join(both, 'buildah'), '#!/bin/sh\n', {mode: 0o755})
    expect(await findEngine(undefined, both)).to.deep.equal({engine: 'buildah', path: path.join(both, 'buildah')})
    expect((await findEngine('podman', both)).engine).to.equal('podman')
  })

  it('builds with the pull secret and pushes with the push secret, each as a 0600 authfile removed afterwards', async () => {
    const res = await buildLocally(client, 'worker', opts({isolation: 'chroot', push: true, tlsVerify: false}))
    expect(res).to.include({
      contextKept: false,
      digest: FAKE_DIGEST,
      engine: 'buildah',
      enginePath: path.join(fakeBin, 'buildah'),
      image: `quay.io/example/os-image@${FAKE_DIGEST}`,
      imageId: 'sha256:' + '7'.padStart(64, '0'),
      pool: 'worker',
      pushed: true,
      renderedConfig: RENDERED,
      tag: `quay.io/example/os-image:${RENDERED}`,
    })
    const log = engineLog().split('\n')
    const build = log.find((l) => l.startsWith('args build '))!
    expect(build).to.match(
      new RegExp(
        `^args build --authfile ${scratch}/oc-mob-local-\\w+/pull-auth\\.json --tag quay\\.io/example/os-image:${RENDERED} ` +
          `--file (\\S+)/Dockerfile --iidfile \\S+/iid --isolation chroot --tls-verify=false \\1$`,
      ),
    )
    expect(log.find((l) => l.startsWith('args push '))).to.match(
      new RegExp(
        `^args push --authfile \\S+/push-auth\\.json --digestfile \\S+/digest --tls-verify=false quay\\.io/example/os-image:${RENDERED} docker://quay\\.io/example/os-image:${RENDERED}$`,
      ),
    )
    expect(log).to.include('mode build 600').and.include('mode push 600').and.include('context complete')
    expect(JSON.parse(fs.readFileSync(path.join(fakeDir, 'build-auth.json'), 'utf8'))).to.deep.equal({
      auths: {'quay.io': {auth: b64(`puller:${PULL_PASSWORD}`)}},
    })
    // A .dockercfg secret with username/password becomes the {"auths": {...: {"auth": ...}}} form the engines read.
    const pushAuth = JSON.parse(fs.readFileSync(path.join(fakeDir, 'push-auth.json'), 'utf8'))
    expect(pushAuth.auths['quay.io'].auth).to.equal(b64(`pusher:${PUSH_PASSWORD}`))
    expect(lines)
      .to.include('STEP 1/9: FROM base AS extract')
      .and.include('progress on stderr')
      .and.include('Writing manifest to image destination')
    expect(lines.join('\n')).not.to.include(PULL_PASSWORD).and.not.include(PUSH_PASSWORD)
  })

  it('takes the isolation from BUILDAH_ISOLATION, and passes none when neither is set', async () => {
    await buildLocally(client, 'worker', opts({extraEnv: {BUILDAH_ISOLATION: 'chroot'}}))
    expect(engineLog()).to.match(/^args build .* --isolation chroot /m)
    fs.rmSync(path.join(fakeDir, 'log'))
    const res = await buildLocally(client, 'worker', opts())
    expect(engineLog()).not.to.include('--isolation').and.not.include('--tls-verify')
    expect(engineLog()).not.to.match(/^args push/m)
    expect(res).to.include({pushed: false})
    expect(res.digest).to.equal(undefined)
  })

  it('builds without a push secret when not pushing, and refuses to push without one (exit 6, engine not run)', async () => {
    await emu.request('PUT', `${CM_PATH}/on-cluster-build-config`, buildConfig('quay.io/example/os-image:latest', 'absent-push-secret'))
    try {
      const res = await buildLocally(client, 'worker', opts())
      expect(res.pushed).to.equal(false)
      fs.rmSync(path.join(fakeDir, 'log'))
      const e = await failure(buildLocally(client, 'worker', opts({push: true})))
      expect(e.exitCode).to.equal(ExitCode.NotFound)
      expect(e.message).to.include('secret absent-push-secret from on-cluster-build-config (final image push secret) is not found')
      expect(engineLog()).to.equal('')
    } finally {
      emu.resetRequests()
      await emu.request('PUT', `${CM_PATH}/on-cluster-build-config`, buildConfig('quay.io/example/os-image:latest'))
      emu.resetRequests()
    }
  })

  it('refuses a custom Dockerfile with errors before running the engine (exit 7)', async () => {
    const e = await failure(buildLocally(client, 'master', opts()))
    expect(e.exitCode).to.equal(ExitCode.Invalid)
    expect(e.message).to.include('the custom Dockerfile of pool master')
    expect(e.details).to.deep.equal(['line 2: Unknown instruction: RUNN'])
    expect(engineLog()).to.equal('')
  })

  it('says which input is missing: the pool (6), the build config (6)', async () => {
    const p = await failure(buildLocally(client, 'nope', opts()))
    expect(p.exitCode).to.equal(ExitCode.NotFound)
    expect(p.message).to.include('pool nope not found')
    await emu.request('DELETE', `${CM_PATH}/on-cluster-build-config`)
    try {
      const c = await failure(buildLocally(client, 'worker', opts()))
      expect(c.exitCode).to.equal(ExitCode.NotFound)
      expect(c.message).to.include('on-cluster-build-config ConfigMap missing')
    } finally {
      await emu.request('POST', CM_PATH, buildConfig('quay.io/example/os-image:latest'))
      emu.resetRequests()
    }

    expect(engineLog()).to.equal('')
  })

  it('a failing build is exit 8 with the last lines of its output', async () => {
    const e = await failure(buildLocally(client, 'worker', opts({extraEnv: {FAKE_ENGINE_FAIL: '1'}, push: true})))
    expect(e.exitCode).to.equal(ExitCode.Failed)
    expect(e.message).to.equal(`buildah build of pool worker (${RENDERED}) failed (exit code 3)`)
    // stdout and stderr lines, in the order they arrived (which may interleave either way).
    expect(e.details[0]).to.equal('last lines:')
    expect(e.details.slice(1)).to.have.members([
      '  STEP 1/9: FROM base AS extract',
      '  progress on stderr',
      '  STEP 9/9: RUN exit 3',
      '  Error: building at STEP "RUN exit 3": while running runtime: exit status 3',
    ])
    expect(e.next).to.include('oc mob dockerfile worker --export DIR')
    expect(engineLog()).not.to.match(/^args push/m)
  })

  it('stops the engine on Ctrl-C (the abort signal) and cleans up', async () => {
    const ctl = new AbortController()
    const started = Date.now()
    const pending = failure(
      buildLocally(
        client,
        'worker',
        opts({
          extraEnv: {FAKE_ENGINE_SLEEP: '30'},
          onLine(l) {
            lines.push(l)
            if (l.startsWith('STEP')) ctl.abort(new MobError('interrupted', {exitCode: ExitCode.Interrupted}))
          },
          signal: ctl.signal,
        }),
      ),
    )
    const e = await pending
    expect(e.exitCode).to.equal(ExitCode.Interrupted)
    expect(Date.now() - started).to.be.below(10_000)
  })

  it('keeps the context in contextDir, and refuses one holding anything else (exit 7)', async () => {
    const ctx = path.join(tmp, 'ctx')
    const res = await buildLocally(client, 'worker', opts({contextDir: ctx}))
    expect(res).to.include({contextDir: ctx, contextKept: true})
    expect(fs.readdirSync(ctx).sort()).to.deep.equal(['Dockerfile', 'machineconfig'])
    // The same context as `oc mob dockerfile --export`.
    const exported = path.join(tmp, 'exported')
    const r = await run(['dockerfile', 'worker', '--export', exported, '--kubeconfig', emu.kubeconfig])
    expect(r.exitCode, r.stderr).to.equal(0)
    for (const f of ['Dockerfile', 'machineconfig/machineconfig.json.gz']) {
      expect(fs.readFileSync(path.join(ctx, f), 'utf8')).to.equal(fs.readFileSync(path.join(exported, f), 'utf8'))
    }

    // A previous context is fine to overwrite; anything else is not.
    await buildLocally(client, 'worker', opts({contextDir: ctx}))
    fs.writeFileSync(path.join(ctx, 'other.txt'), 'x')
    fs.rmSync(path.join(fakeDir, 'log'))
    const e = await failure(buildLocally(client, 'worker', opts({contextDir: ctx})))
    expect(e.exitCode).to.equal(ExitCode.Invalid)
    expect(e.message).to.include(`${ctx} is not empty`)
    expect(engineLog()).to.equal('')
  })

  it('checks --tag: a digest is refused (exit 2), a registry without push credentials too (exit 7)', async () => {
    const d = await failure(buildLocally(client, 'worker', opts({tag: `quay.io/example/os@${FAKE_DIGEST}`})))
    expect(d.exitCode).to.equal(ExitCode.Usage)
    const r = await failure(buildLocally(client, 'worker', opts({push: true, tag: 'registry.example.com/os:test'})))
    expect(r.exitCode).to.equal(ExitCode.Invalid)
    expect(r.message).to.include('has no credentials for registry.example.com')
    expect(engineLog()).to.equal('')
    const ok = await buildLocally(client, 'worker', opts({tag: 'localhost/os-test:dev'}))
    expect(ok.tag).to.equal('localhost/os-test:dev')
  })
})

describe('buildLocally against the simulated cluster (real buildah, loopback registry)', function () {
  this.timeout(300_000)
  let cluster: Cluster | undefined
  let storage: BuildahStorage | undefined
  let client: KubeClient
  let tmp: string
  let registry: {host: string; url: string}

  before(async function () {
    const missing = await missingTools('buildah', 'docker-registry', 'busybox', 'jq')
    if (missing) skipWith(this, missing)
    cluster = await startSimCluster({delays: FAST, mode: 'auto'})
    if (cluster.sim.mode !== 'real') skipWith(this, cluster.sim.why ?? 'the simulated cluster cannot run real builds here')
    registry = cluster.sim.registry as {host: string; url: string}
    storage = await createBuildahStorage({registries: [registry.host]})
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-mob-local-real-'))
    const c = cluster.emulator as Emulator
    const creds = {[registry.host]: {auth: b64('builder:not-checked-by-this-registry')}}
    for (const [p, body] of [
      [SECRET_PATH, dockerConfigSecret('pull-secret-copy', creds)],
      [SECRET_PATH, dockerConfigSecret('push-secret', creds)],
      [CM_PATH, buildConfig(`${registry.host}/ocp/os-image:latest`)],
      [
        CM_PATH,
        configMap('on-cluster-build-custom-dockerfile', {
          worker: 'FROM configs AS final\nRUN echo "built locally" > /etc/oc-mob-local\nLABEL io.openshift.oc-mob.local=true\n',
        }),
      ],
    ] as const) {
      const res = await c.request('POST', p, body)
      expect(res.status, JSON.stringify(res.body)).to.equal(201)
    }

    client = KubeClient.fromFlags({kubeconfig: cluster.kubeconfig})
  })

  after(async () => {
    await cluster?.stop()
    await storage?.cleanup()
    if (tmp) fs.rmSync(tmp, {force: true, recursive: true})
  })

  it("builds the cluster's build context and pushes it; the digest is the registry's, the labels the template's", async () => {
    const lines: string[] = []
    const scratch = fs.mkdtempSync(path.join(tmp, 'scratch-'))
    const started = Date.now()
    const res = await buildLocally(client, 'worker', {
      env: buildahEnv(storage!),
      isolation: 'chroot',
      onLine: (l) => lines.push(l),
      push: true,
      tlsVerify: false,
      tmpDir: scratch,
    })
    const ms = Date.now() - started
    const rendered = res.renderedConfig
    expect(res).to.include({engine: 'buildah', pushed: true, tag: `${registry.host}/ocp/os-image:${rendered}`})
    expect(res.digest).to.match(/^sha256:[0-9a-f]{64}$/)
    expect(res.image).to.equal(`${registry.host}/ocp/os-image@${res.digest}`)
    expect(await manifestDigest(registry, 'ocp/os-image', rendered)).to.equal(res.digest)
    const info = await inspectImage(registry, 'ocp/os-image', res.digest!)
    expect(info.labels).to.include({
      baseOSContainerImage: cluster!.sim.baseImage,
      'io.openshift.oc-mob.local': 'true',
      machineconfig: rendered,
      machineconfigpool: 'worker',
      releaseversion: '4.14.12',
    })
    const files = await readImageFs(registry, 'ocp/os-image', res.digest!)
    expect(fileText(files, '/etc/oc-mob-local')).to.equal('built locally\n')
    expect(JSON.parse(fileText(files, '/etc/machine-config-daemon/currentconfig')!).metadata.name).to.equal(rendered)
    expect(
      lines.some((l) => /STEP \d+\/\d+: FROM /.test(l)),
      lines.join('\n'),
    ).to.equal(true)
    expect(fs.readdirSync(scratch)).to.deep.equal([])

    // Nothing was created or recorded in the cluster.
    const c = cluster!.emulator as Emulator
    const cms = (await c.request('GET', CM_PATH)).body.items.map((i: {metadata: {name: string}}) => i.metadata.name)
    expect(cms.filter((n: string) => /^(mc|dockerfile|digest)-/.test(n))).to.deep.equal([])
    const pool = (await c.request('GET', '/apis/machineconfiguration.openshift.io/v1/machineconfigpools/worker')).body
    expect(pool.metadata.annotations?.['machineconfiguration.openshift.io/newestImageEquivalentConfig']).to.equal(undefined)
    console.log(`      local build and push in ${ms} ms`)
  })

  it('a build that fails in the engine is exit 8 with its last lines; without --push no push secret is needed and nothing is pushed', async () => {
    const c = cluster!.emulator as Emulator
    await c.request(
      'PUT',
      `${CM_PATH}/on-cluster-build-custom-dockerfile`,
      configMap('on-cluster-build-custom-dockerfile', {
        worker: 'FROM configs AS final\nRUN echo "about to fail" && exit 3\n',
      }),
    )
    await c.request('DELETE', `${SECRET_PATH}/push-secret`)
    const lines: string[] = []
    const e = await failure(
      buildLocally(client, 'worker', {
        env: buildahEnv(storage!),
        isolation: 'chroot',
        onLine: (l) => lines.push(l),
        tag: `${registry.host}/ocp/os-image:failing`,
        tlsVerify: false,
      }),
    )
    expect(e.exitCode).to.equal(ExitCode.Failed)
    expect(e.message).to.match(/^buildah build of pool worker \(rendered-worker-\w+\) failed \(exit code \d+\)$/)
    expect(e.details.join('\n')).to.include('about to fail')
    expect(lines).to.include('about to fail')
    expect(await listTags(registry, 'ocp/os-image')).not.to.include('failing')
  })
})
