import {expect} from 'chai'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {buildLocally} from '../../src/lib/layering/generation.js'
import {KubeClient} from '../../src/lib/kube/client.js'
import {R as SR} from '../../emulator/sim/client.js'
import {FAST, waitFor} from '../../emulator/sim/helpers.js'
import type {Cluster} from '../../emulator/sim/index.js'
import {JOB_POD} from '../../emulator/sim/machineos.js'
import {MCO_NS, run, startCluster as startSimCluster, optInWithMachineOSConfig} from './harness.js'

// OpenShift 4.18+: `oc mob dockerfile` and `build --local` of a MachineOSConfig pool render the
// Containerfile and build context the machine-os-builder's Job gets. The simulated builder writes its
// own containerfile-<mosb> (and the other input ConfigMaps) while a build runs; oc-mob reads it with a
// read-only identity and never writes.
const b64 = (s: string): string => Buffer.from(s).toString('base64')
const CUSTOM = 'FROM configs AS final\nRUN echo "layered by oc-mob" > /etc/oc-mob-test'
const BUNDLE = '-----BEGIN CERTIFICATE-----\nMIIBmachineos\n-----END CERTIFICATE-----\n'

/** A stand-in for buildah: records its arguments, CONTAINERS_REGISTRIES_CONF and the context's files; writes --iidfile/--digestfile. */
const FAKE_ENGINE = `#!/bin/bash
PATH=/usr/local/bin:/usr/bin:/bin
log="$FAKE_ENGINE_DIR/log"
printf 'args %s\\n' "$*" >> "$log"
printf 'registries %s\\n' "$CONTAINERS_REGISTRIES_CONF" >> "$log"
cmd=$1; last="\${@: -1}"; shift
while [ $# -gt 0 ]; do
  case "$1" in --iidfile) iid=$2; shift ;; --digestfile) digest=$2; shift ;; esac
  shift
done
if [ "$cmd" = build ]; then
  (cd "$last" && find . -type f | sort | sed 's/^/file /') >> "$log"
  printf 'sha256:%064d' 7 > "$iid"
else
  printf 'sha256:%064d' 8 > "$digest"
fi
`

describe('oc mob dockerfile and build --local of a MachineOSConfig pool (4.18+, simulated machine-os-builder)', function () {
  this.timeout(120_000)
  let cluster: Cluster
  let tmp: string
  let reader: string
  let mosb: string

  const developerWrites = () =>
    (cluster.emulator.requests as Array<{method: string; path: string; user: string}>)
      .filter((q) => q.user === 'developer' && q.method !== 'GET')
      .map((q) => `${q.method} ${q.path}`)
  const kc = () => ['--kubeconfig', reader]
  const cm = async (name: string) => (await cluster.client.get(SR.configmaps, MCO_NS, name))!

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-mob-mosc-ctx-'))
    cluster = await startSimCluster({
      controllers: {machineOS: true},
      delays: {...FAST, lineMs: 5, podStartMs: 100},
      emulator: {groups: {machineOS: true}},
      mode: 'scripted',
    })
    reader = (cluster.emulator as {kubeconfigFor: (id: string) => string}).kubeconfigFor('developer')
    // The build stays under way, so that its ConfigMaps are there to compare with.
    cluster.sim.addScripts([
      {
        exitCode: 0,
        hangAfter: true,
        logLines: ['STEP 1/12: FROM quay.io/openshift-release-dev/ocp-v4.0-art-dev AS extract'],
        match: {container: 'image-build', namespace: MCO_NS, podName: JOB_POD},
      },
    ])
    await cluster.client.patch(SR.controllerconfigs, undefined, 'machine-config-controller', {spec: {additionalTrustBundle: b64(BUNDLE)}})
    // Only the NoArch entry is built.
    await optInWithMachineOSConfig(cluster, {
      containerFile: [
        {containerfileArch: 'AMD64', content: 'FROM configs AS final\nRUN echo amd64-only'},
        {containerfileArch: 'NoArch', content: CUSTOM},
      ],
    })
    mosb = await waitFor(
      'the MachineOSBuild and its Containerfile ConfigMap',
      async () => {
        const b = (await cluster.client.list(SR.machineosbuilds)).items.find((x) => x.spec.machineOSConfig.name === 'worker')
        return b && (await cluster.client.get(SR.configmaps, MCO_NS, `containerfile-${b.metadata.name}`))
          ? (b.metadata.name as string)
          : undefined
      },
      30_000,
    )
    cluster.emulator.resetRequests()
  })

  after(async () => {
    await cluster?.stop()
    if (tmp) fs.rmSync(tmp, {force: true, recursive: true})
  })

  afterEach(() => {
    const requests = cluster.emulator.requests as Array<{user: string}>
    expect(
      requests.some((q) => q.user === 'developer'),
      'oc-mob ran as the read-only developer',
    ).to.equal(true)
    expect(developerWrites(), 'oc-mob wrote nothing').to.deep.equal([])
    cluster.emulator.resetRequests()
  })

  it("shows the running build's Containerfile, which is what oc-mob renders: the 4.19 template with the NoArch containerFile", async () => {
    const live = (await cm(`containerfile-${mosb}`)).data.Containerfile as string
    const r = await run(['dockerfile', 'worker', ...kc()])
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stdout).to.equal(live)
    expect(r.stderr).to.include(
      `note: MachineOSBuild ${mosb} is under way: showing its own copy from ConfigMap containerfile-${mosb} (identical to a fresh render)`,
    )
    expect(live).to.include(`\nLABEL machineconfigpool=worker\n`).and.include(`\n\n\n${CUSTOM}\n\n`).and.not.include('amd64-only')
    expect(live).to.include(
      'COPY ./openshift-config-user-ca-bundle.crt /etc/pki/ca-trust/source/anchors/openshift-config-user-ca-bundle.crt',
    )

    const json = JSON.parse((await run(['dockerfile', 'worker', '-o', 'json', ...kc()])).stdout)
    expect(json).to.deep.include({
      fileName: 'Containerfile',
      generation: 'machineosconfig',
      liveConfigMap: `containerfile-${mosb}`,
      liveMatchesRender: true,
      source: 'live',
      tag: `quay.io/org/os:${mosb}`,
    })
    expect(json.machineOS).to.deep.include({
      builderReleases: '4.18/4.19',
      kernelType: 'default',
      machineOSBuild: mosb,
      machineOSConfig: 'worker',
    })
    expect(json.customDockerfile.location).to.equal('machineosconfig/worker spec.containerFile (NoArch)')
  })

  it('--diff compares containerfile-<mosb> with a fresh render; --check checks the containerFile', async () => {
    const same = await run(['dockerfile', 'worker', '--diff', '-o', 'json', ...kc()])
    expect(same.exitCode, same.stderr).to.equal(0)
    expect(JSON.parse(same.stdout).diff).to.deep.include({from: `containerfile-${mosb} (live)`, identical: true, text: ''})

    const name = `containerfile-${mosb}`
    const original = (await cm(name)).data.Containerfile as string
    await cluster.client.patch(SR.configmaps, MCO_NS, name, {
      data: {Containerfile: original.replace('LABEL machineconfigpool=worker', 'LABEL machineconfigpool=other')},
    })
    try {
      const d = await run(['dockerfile', 'worker', '--diff', ...kc()])
      expect(d.exitCode, d.stderr).to.equal(0)
      expect(d.stdout)
        .to.include(`--- ${name} (live)`)
        .and.include('+++ rendered now')
        .and.include('-LABEL machineconfigpool=other')
        .and.include('+LABEL machineconfigpool=worker')
    } finally {
      await cluster.client.patch(SR.configmaps, MCO_NS, name, {data: {Containerfile: original}})
    }

    const check = await run(['dockerfile', 'worker', '--check', ...kc()])
    expect(check.exitCode, check.stderr).to.equal(0)
    expect(check.stdout).to.equal('Containerfile of MachineOSConfig worker for pool worker: no problems.\n')
    const bad = path.join(tmp, 'bad.Containerfile')
    fs.writeFileSync(bad, 'FROM configs AS final\nRUNN oops\n')
    const b = await run(['dockerfile', 'worker', '--file', bad, ...kc()])
    expect(b.exitCode).to.equal(7)
    expect(b.stderr).to.match(/ {2}line 2 \(Containerfile line \d+\): error: Unknown instruction: RUNN/)
  })

  it('--export writes the build context as the Job gets it: Containerfile, machineconfig.json.gz, trust bundle, registries.conf', async () => {
    const dir = path.join(tmp, 'ctx')
    const r = await run(['dockerfile', 'worker', '--export', dir, ...kc()])
    expect(r.exitCode, r.stderr).to.equal(0)
    const files = (d: string): string[] =>
      fs
        .readdirSync(d, {recursive: true, withFileTypes: true})
        .filter((e) => e.isFile())
        .map((e) => path.relative(d, path.join(e.parentPath, e.name)))
        .sort()
    expect(files(dir)).to.deep.equal([
      'Containerfile',
      'machineconfig/machineconfig.json.gz',
      'openshift-config-user-ca-bundle.crt',
      'registries.conf',
    ])
    expect(fs.readFileSync(path.join(dir, 'Containerfile'), 'utf8')).to.equal((await cm(`containerfile-${mosb}`)).data.Containerfile)
    expect(fs.readFileSync(path.join(dir, 'machineconfig/machineconfig.json.gz'), 'utf8')).to.equal(
      (await cm(`mc-${mosb}`)).data['machineconfig.json.gz'],
    )
    expect(fs.readFileSync(path.join(dir, 'openshift-config-user-ca-bundle.crt'), 'utf8')).to.equal(BUNDLE)
    expect(fs.readFileSync(path.join(dir, 'registries.conf'), 'utf8')).to.equal(
      (await cm(`etc-registries-${mosb}`)).data['registries.conf'],
    )
    expect(r.stdout)
      .to.include(`Wrote the build context of pool worker (`)
      .and.include(`MachineOSBuild ${mosb}, the running build's copy) to ${dir}:`)
    expect(r.stdout).to.include(`Build it as the cluster does: CONTAINERS_REGISTRIES_CONF=${dir}/registries.conf buildah build`)

    // Rendered now (--fresh): the same files from the rendered config and the ControllerConfig.
    const fresh = path.join(tmp, 'fresh')
    const f = await run(['dockerfile', 'worker', '--export', fresh, '--fresh', ...kc()])
    expect(f.exitCode, f.stderr).to.equal(0)
    for (const file of files(dir).filter((x) => !x.startsWith('machineconfig'))) {
      expect(fs.readFileSync(path.join(fresh, file), 'utf8'), file).to.equal(fs.readFileSync(path.join(dir, file), 'utf8'))
    }
  })

  it("renders the template of the cluster's release: 4.20+ adds the extensions repository in a heredoc", async () => {
    const url = await cm('machine-config-osimageurl')
    await cluster.client.patch(SR.configmaps, MCO_NS, 'machine-config-osimageurl', {data: {releaseVersion: '4.20.3'}})
    try {
      const r = await run(['dockerfile', 'worker', '--fresh', '-o', 'json', ...kc()])
      expect(r.exitCode, r.stderr).to.equal(0)
      const json = JSON.parse(r.stdout)
      expect(json.machineOS.builderReleases).to.equal('4.20/4.21')
      expect(json.dockerfile)
        .to.include(`RUN --mount=type=bind,from=${url.data.baseOSExtensionsContainerImage},source=/`)
        .and.include("    bash <<'EOF'\n")
      const d = await run(['dockerfile', 'worker', '--diff', '-o', 'json', ...kc()])
      expect(JSON.parse(d.stdout).diff.identical, "the 4.19 builder's copy differs").to.equal(false)
    } finally {
      await cluster.client.patch(SR.configmaps, MCO_NS, 'machine-config-osimageurl', {data: {releaseVersion: url.data.releaseVersion}})
    }
  })

  it('build --local builds that context with the engine, tagged as the builder tags it, and pushes with the push secret', async () => {
    const bin = path.join(tmp, 'bin')
    fs.mkdirSync(bin, {recursive: true})
    fs.writeFileSync(path.join(bin, 'buildah'), FAKE_ENGINE, {mode: 0o755})
    const engineDir = fs.mkdtempSync(path.join(tmp, 'engine-'))
    const client = KubeClient.fromFlags({kubeconfig: reader})
    const res = await buildLocally(client, 'worker', {env: {FAKE_ENGINE_DIR: engineDir, PATH: bin}, onLine() {}, push: true, tmpDir: tmp})
    expect(res).to.include({
      digest: `sha256:${'8'.padStart(64, '0')}`,
      image: `quay.io/org/os@sha256:${'8'.padStart(64, '0')}`,
      pool: 'worker',
      pushed: true,
      tag: `quay.io/org/os:${mosb}`,
    })
    const log = fs.readFileSync(path.join(engineDir, 'log'), 'utf8')
    expect(log).to.match(
      new RegExp(
        `^args build --authfile \\S+/pull-auth\\.json --tag quay\\.io/org/os:${mosb} --file (\\S+)/Containerfile --iidfile \\S+ \\1$`,
        'm',
      ),
    )
    expect(log).to.match(/^registries \S+\/registries\.conf$/m)
    for (const f of ['Containerfile', 'machineconfig/machineconfig.json.gz', 'openshift-config-user-ca-bundle.crt', 'registries.conf'])
      expect(log).to.include(`file ./${f}\n`)
    expect(log).to.match(
      new RegExp(
        `^args push --authfile \\S+/push-auth\\.json --digestfile \\S+ quay\\.io/org/os:${mosb} docker://quay\\.io/org/os:${mosb}$`,
        'm',
      ),
    )
  })

  it('a pool without a MachineOSConfig has no Containerfile and no build context (exit 6)', async () => {
    const r = await run(['dockerfile', 'master', '--export', path.join(tmp, 'none'), ...kc()])
    expect(r.exitCode).to.equal(6)
    expect(r.stderr).to.include(
      'error: pool master has no MachineOSConfig: on OpenShift 4.18+ the machine-os-builder builds only pools that have one, so there is no Containerfile to show',
    )
    expect(fs.existsSync(path.join(tmp, 'none'))).to.equal(false)
    const bin = path.join(tmp, 'bin')
    const e = await buildLocally(KubeClient.fromFlags({kubeconfig: reader}), 'master', {
      env: {FAKE_ENGINE_DIR: tmp, PATH: bin},
      onLine() {},
      tmpDir: tmp,
    }).then(
      () => undefined,
      (error: Error & {exitCode?: number}) => error,
    )
    expect(e?.exitCode).to.equal(6)
    expect(e?.message).to.include('so there is no build context to build')
  })
})
