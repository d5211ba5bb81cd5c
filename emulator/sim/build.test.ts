import {expect} from 'chai'
import {gunzipSync} from 'node:zlib'
import {Informer, type Obj, R} from './client.js'
import type {Cluster} from './index.js'
import {buildPod} from './buildcontroller.js'
import {failingImageBuild} from './scripts.js'
import {cond, condTrue, fastCluster, getPool, layeredPool, podLog, setupLayering, waitFor} from './helpers.js'
import {BUILDAH_BUILD_SH, WAIT_SH} from './assets.js'
import {BASE_OS_IMAGE, EXTENSIONS_IMAGE} from './fixture-gen.js'
import {MCO_NS} from './names.js'

const EXPECTED_DOCKERFILE = (R: string, pool: string) => `# This Dockerfile is not intended to be directly built. Instead, it is embedded
# within the Build Controller binary (see //go:embed) and templatized with
# certain options around base image pullspecs.
#
# Decode and extract the MachineConfig from the gzipped ConfigMap and move it
# into position. We do this in a separate stage so that we don't have the
# gzipped MachineConfig laying around.
FROM ${BASE_OS_IMAGE} AS extract
COPY ./machineconfig/machineconfig.json.gz /tmp/machineconfig.json.gz
RUN mkdir -p /etc/machine-config-daemon && \\
\tcat /tmp/machineconfig.json.gz | base64 -d | gunzip - > /etc/machine-config-daemon/currentconfig


# Pull our extensions image. Not sure yet what / how this should be wired up
# though. Ideally, I'd like to use some Buildah tricks to have the extensions
# directory mounted into the container at build-time so that I don't have to
# copy the RPMs into the container, configure the repo, and do the
# installation. Alternatively, I'd have to start a pod with an HTTP server.
FROM ${EXTENSIONS_IMAGE} AS extensions



FROM ${BASE_OS_IMAGE} AS configs
# Copy the extracted MachineConfig into the expected place in the image.
COPY --from=extract /etc/machine-config-daemon/currentconfig /etc/machine-config-daemon/currentconfig
# Do the ignition live-apply, extracting the Ignition config from the MachineConfig.
# Not sure why Ignition explicitly requires the container env var to be set
# since it should be set by the container runtime / builder.
RUN container="oci" exec -a ignition-apply /usr/lib/dracut/modules.d/30ignition/ignition --ignore-unsupported <(cat /etc/machine-config-daemon/currentconfig | jq '.spec.config') && \\
\tostree container commit

LABEL machineconfig=${R}
LABEL machineconfigpool=${pool}
LABEL releaseversion=4.14.12
LABEL baseOSContainerImage=${BASE_OS_IMAGE}


`

const BUILD_LABELS = (R: string, pool: string) => ({
  'machineconfiguration.openshift.io/buildPod': '',
  'machineconfiguration.openshift.io/targetMachineConfigPool': pool,
  'machineconfiguration.openshift.io/desiredConfig': R,
})

/** Records every distinct set of True Build* conditions a pool goes through. */
function recordBuildStates(cluster: Cluster, pool: string) {
  const states: string[] = []
  const inf = new Informer(cluster.client, R.pools).on((_t, p) => {
    if (p.metadata.name !== pool) return
    const s = ['BuildPending', 'Building', 'BuildSuccess', 'BuildFailed'].filter((t) => condTrue(p, t)).join('+') || 'none'
    if (states[states.length - 1] !== s) states.push(s)
  })
  return {states, inf}
}

describe('sim: BuildController', () => {
  let cluster: Cluster
  const extra: Array<{stop(): Promise<void>}> = []
  afterEach(async () => {
    for (const e of extra.splice(0)) await e.stop()
    await cluster?.stop()
  })

  it('builds an opted-in pool: objects as the operator makes them, then the image annotation and cleanup', async () => {
    cluster = await fastCluster({delays: {buildMs: 400}})
    const c = cluster.client
    const {states, inf} = recordBuildStates(cluster, 'layered')
    extra.push(inf)
    await inf.start()
    const cms = new Map<string, Obj>()
    const cmInf = new Informer(c, R.configmaps, {namespace: MCO_NS}).on((_t, o) => cms.set(o.metadata.name, o))
    extra.push(cmInf)
    await cmInf.start()

    await setupLayering(c)
    const pod = await waitFor(
      'the build pod',
      async () => (await c.list(R.pods, MCO_NS, 'machineconfiguration.openshift.io/buildPod')).items[0],
    )
    const pool = (await getPool(c, 'layered'))!
    const rendered: string = pool.spec.configuration.name
    expect(rendered).to.match(/^rendered-layered-[0-9a-f]{32}$/)

    // the pod, exactly
    expect(pod.metadata.name).to.equal(`build-${rendered}`)
    expect(pod.metadata.namespace).to.equal(MCO_NS)
    expect(pod.metadata.labels).to.deep.equal(BUILD_LABELS(rendered, 'layered'))
    expect(pod.metadata.annotations).to.deep.equal({'machineconfiguration.openshift.io/pool': ''})
    expect(pod.metadata.ownerReferences ?? []).to.deep.equal([])
    expect(pod.spec.restartPolicy).to.equal('Never')
    expect(pod.spec.serviceAccountName).to.equal('machine-os-builder')
    expect(pod.spec.nodeSelector).to.equal(undefined)
    const env = [
      {name: 'DIGEST_CONFIGMAP_NAME', value: `digest-${rendered}`},
      {name: 'HOME', value: '/home/build'},
      {name: 'TAG', value: `quay.io/example/os-image:${rendered}`},
      {name: 'BASE_IMAGE_PULL_CREDS', value: '/tmp/base-image-pull-creds/config.json'},
      {name: 'FINAL_IMAGE_PUSH_CREDS', value: '/tmp/final-image-push-creds/config.json'},
    ]
    const mounts = [
      {name: 'machineconfig', mountPath: '/tmp/machineconfig'},
      {name: 'dockerfile', mountPath: '/tmp/dockerfile'},
      {name: 'base-image-pull-creds', mountPath: '/tmp/base-image-pull-creds'},
      {name: 'final-image-push-creds', mountPath: '/tmp/final-image-push-creds'},
      {name: 'done', mountPath: '/tmp/done'},
    ]
    const [build, wait] = pod.spec.containers
    expect(pod.spec.containers.map((x: Obj) => x.name)).to.deep.equal(['image-build', 'wait-for-done'])
    expect(build.image).to.equal('quay.io/buildah/stable:latest')
    expect(wait.image).to.equal(BASE_OS_IMAGE)
    expect(build.command).to.deep.equal(['/bin/bash', '-c', BUILDAH_BUILD_SH])
    expect(wait.command).to.deep.equal(['/bin/bash', '-c', WAIT_SH])
    for (const x of [build, wait]) {
      expect(x.env).to.deep.equal(env)
      expect(x.volumeMounts).to.deep.equal(mounts)
      expect(x.imagePullPolicy).to.equal('Always')
      expect(x.securityContext).to.deep.equal({runAsUser: 1000, runAsGroup: 1000})
    }
    expect(BUILDAH_BUILD_SH).to.match(
      /buildah bud[\s\S]*--storage-driver vfs[\s\S]*--authfile="\$BASE_IMAGE_PULL_CREDS"[\s\S]*--tag "\$TAG"[\s\S]*--file="\$build_context\/Dockerfile"/,
    )
    expect(BUILDAH_BUILD_SH).to.match(
      /buildah push[\s\S]*--authfile="\$FINAL_IMAGE_PUSH_CREDS"[\s\S]*--digestfile=\/tmp\/done\/digestfile[\s\S]*--cert-dir \/var\/run\/secrets\/kubernetes.io\/serviceaccount/,
    )
    expect(WAIT_SH).to.include('while [ ! -f /tmp/done/digestfile ]')
    // (a server may default defaultMode; the operator sets none)
    const strip = (v: Obj) => JSON.parse(JSON.stringify(v, (k, val) => (k === 'defaultMode' ? undefined : val)))
    expect(pod.spec.volumes.map(strip)).to.deep.equal([
      {name: 'machineconfig', configMap: {name: `mc-${rendered}`}},
      {name: 'dockerfile', configMap: {name: `dockerfile-${rendered}`}},
      {
        name: 'base-image-pull-creds',
        secret: {secretName: 'builder-dockercfg-7wq9x-canonical', items: [{key: '.dockerconfigjson', path: 'config.json'}]},
      },
      {name: 'final-image-push-creds', secret: {secretName: 'push-secret', items: [{key: '.dockerconfigjson', path: 'config.json'}]}},
      {name: 'done', emptyDir: {medium: 'Memory'}},
    ])

    // the ConfigMaps: labels, the encoded MachineConfig and the byte-exact Dockerfile
    const mcCM = await c.get(R.configmaps, MCO_NS, `mc-${rendered}`)
    const dfCM = await c.get(R.configmaps, MCO_NS, `dockerfile-${rendered}`)
    for (const cm of [mcCM!, dfCM!]) {
      expect(cm.metadata.labels).to.deep.equal(BUILD_LABELS(rendered, 'layered'))
      expect(cm.metadata.annotations).to.deep.equal({'machineconfiguration.openshift.io/pool': ''})
    }
    const decoded = JSON.parse(gunzipSync(Buffer.from(mcCM!.data['machineconfig.json.gz'], 'base64')).toString('utf8'))
    const renderedMC = (await c.get(R.machineconfigs, undefined, rendered))!
    expect(decoded.metadata.name).to.equal(rendered)
    expect(decoded.spec).to.deep.equal(renderedMC.spec)
    expect(Object.keys(decoded).slice(0, 4)).to.deep.equal(['kind', 'apiVersion', 'metadata', 'spec'])
    expect(dfCM!.data.Dockerfile).to.equal(EXPECTED_DOCKERFILE(rendered, 'layered'))

    // the legacy builder secret was canonicalised and the config map points at the copy
    const canonical = (await c.get(R.secrets, MCO_NS, 'builder-dockercfg-7wq9x-canonical'))!
    expect(canonical.type).to.equal('kubernetes.io/dockerconfigjson')
    const legacy = (await c.get(R.secrets, MCO_NS, 'builder-dockercfg-7wq9x'))!
    expect(JSON.parse(Buffer.from(canonical.data['.dockerconfigjson'], 'base64').toString())).to.deep.equal({
      auths: JSON.parse(Buffer.from(legacy.data['.dockercfg'], 'base64').toString()),
    })
    const obc = (await c.get(R.configmaps, MCO_NS, 'on-cluster-build-config'))!
    expect(obc.data.baseImagePullSecretName).to.equal('builder-dockercfg-7wq9x-canonical')
    expect(obc.data.finalImagePushSecretName).to.equal('push-secret')

    // while building: the pod is referenced from spec and status configuration.source
    const building = await waitFor('Building', async () => {
      const p = await getPool(c, 'layered')
      return condTrue(p, 'Building') ? p : undefined
    })
    const ref = {kind: 'Pod', name: `build-${rendered}`, namespace: MCO_NS, uid: pod.metadata.uid}
    expect(building.spec.configuration.source).to.deep.include(ref)
    expect(building.status.configuration.source).to.deep.include(ref)
    expect(cond(building, 'Building')!.reason).to.equal('BuildRunning')

    const done = await waitFor('BuildSuccess', async () => {
      const p = await getPool(c, 'layered')
      return condTrue(p, 'BuildSuccess') ? p : undefined
    })
    const digest = cms.get(`digest-${rendered}`)?.data?.digest
    expect(digest).to.match(/^sha256:[0-9a-f]{64}$/)
    expect(done.metadata.annotations['machineconfiguration.openshift.io/newestImageEquivalentConfig']).to.equal(
      `quay.io/example/os-image@${digest}`,
    )
    expect(cond(done, 'BuildSuccess')!.reason).to.equal('BuildSucceeded')
    expect(condTrue(done, 'Degraded')).to.equal(false)
    expect(done.spec.configuration.source.some((s: Obj) => s.kind === 'Pod')).to.equal(false)
    expect(done.status.configuration?.source?.some((s: Obj) => s.kind === 'Pod') ?? false).to.equal(false)
    expect(states).to.include.members(['BuildPending', 'Building', 'BuildSuccess'])
    expect(states.indexOf('BuildPending')).to.be.lessThan(states.indexOf('Building'))
    expect(states.indexOf('Building')).to.be.lessThan(states.indexOf('BuildSuccess'))

    // cleanup of the pod and the three ConfigMaps
    await waitFor('cleanup', async () => {
      const names = (await c.list(R.configmaps, MCO_NS)).items.map((o) => o.metadata.name)
      const pods = (await c.list(R.pods, MCO_NS, 'machineconfiguration.openshift.io/buildPod')).items
      return !pods.length && !names.some((n) => n.endsWith(rendered))
    })

    // no rebuild for the same rendered config
    await new Promise((r) => setTimeout(r, 200))
    expect((await c.list(R.pods, MCO_NS, 'machineconfiguration.openshift.io/buildPod')).items).to.have.length(0)

    // the builder's log tells the story
    const mob = (await c.list(R.pods, MCO_NS, 'k8s-app=machine-os-builder')).items[0]
    const mobLog = await podLog(c, mob.metadata.name, 'machine-os-builder')
    expect(mobLog.text).to.include(`Build build-${rendered} for pool layered succeeded, image: quay.io/example/os-image@${digest}`)
  })

  it("rebuilds when a new MachineConfig changes the pool's rendered config", async () => {
    cluster = await fastCluster()
    const c = cluster.client
    await setupLayering(c)
    const first = await waitFor('the first image', async () => {
      const p = await getPool(c, 'layered')
      return condTrue(p, 'BuildSuccess') ? p : undefined
    })
    const firstImage = first.metadata.annotations['machineconfiguration.openshift.io/newestImageEquivalentConfig']
    await c.create(R.machineconfigs, undefined, {
      apiVersion: 'machineconfiguration.openshift.io/v1',
      kind: 'MachineConfig',
      metadata: {name: '70-layered-chrony', labels: {'machineconfiguration.openshift.io/role': 'layered'}},
      spec: {
        config: {
          ignition: {version: '3.4.0'},
          storage: {files: [{path: '/etc/chrony.conf', contents: {source: 'data:,pool%20ntp.example%20iburst%0A'}}]},
        },
      },
    })
    const second = await waitFor('a second image', async () => {
      const p = await getPool(c, 'layered')
      const img = p?.metadata.annotations?.['machineconfiguration.openshift.io/newestImageEquivalentConfig']
      return img && img !== firstImage && condTrue(p, 'BuildSuccess') ? p : undefined
    })
    expect(second.spec.configuration.name).to.not.equal(first.spec.configuration.name)
    expect(second.spec.configuration.source.map((s: Obj) => s.name)).to.include('70-layered-chrony')
  })

  it('a failed build keeps every object and marks the pool BuildFailed and Degraded; opting out cleans up', async () => {
    cluster = await fastCluster({
      scripts: [
        failingImageBuild(),
        {match: {podName: /^build-/, container: 'wait-for-done'}, logLines: ['terminated'], exitCode: 137, durationMs: 60},
      ],
    })
    const c = cluster.client
    await setupLayering(c)
    const failed = await waitFor('BuildFailed', async () => {
      const p = await getPool(c, 'layered')
      return condTrue(p, 'BuildFailed') ? p : undefined
    })
    const rendered = failed.spec.configuration.name
    expect(cond(failed, 'BuildFailed')).to.include({status: 'True', reason: 'BuildFailed'})
    expect(condTrue(failed, 'Degraded')).to.equal(true)
    expect(cond(failed, 'RenderDegraded')).to.include({
      status: 'True',
      message: 'Failed to build configuration for pool layered: build failed',
    })
    expect(condTrue(failed, 'Building') || condTrue(failed, 'BuildPending') || condTrue(failed, 'BuildSuccess')).to.equal(false)
    expect(failed.metadata.annotations?.['machineconfiguration.openshift.io/newestImageEquivalentConfig']).to.equal(undefined)
    await new Promise((r) => setTimeout(r, 150))
    const pod = await c.get(R.pods, MCO_NS, `build-${rendered}`)
    expect(pod!.status.phase).to.equal('Failed')
    expect(await c.get(R.configmaps, MCO_NS, `mc-${rendered}`)).to.not.equal(undefined)
    expect(await c.get(R.configmaps, MCO_NS, `dockerfile-${rendered}`)).to.not.equal(undefined)
    expect((await getPool(c, 'layered'))!.spec.configuration.source).to.deep.include({
      kind: 'Pod',
      name: `build-${rendered}`,
      namespace: MCO_NS,
      uid: pod!.metadata.uid,
    })
    const log = await podLog(c, `build-${rendered}`, 'image-build')
    expect(log.text).to.include('Error: building at STEP')

    // opt-out (§5.5): everything goes, conditions and annotation dropped, builder stopped
    await c.patch(R.pools, undefined, 'layered', {metadata: {labels: {'machineconfiguration.openshift.io/layering-enabled': null}}})
    const clean = await waitFor('opt-out cleanup', async () => {
      const p = await getPool(c, 'layered')
      const leftovers = (await c.list(R.configmaps, MCO_NS)).items.filter((o) => o.metadata.name.endsWith(rendered))
      const pods = (await c.list(R.pods, MCO_NS)).items
      const buildConds = (p!.status.conditions ?? []).filter((x: Obj) => x.type.startsWith('Build'))
      return !leftovers.length && !pods.length && !buildConds.length ? p : undefined
    })
    expect(clean.spec.configuration.source.some((s: Obj) => s.kind === 'Pod')).to.equal(false)
    await waitFor('the deployment to go', async () => !(await c.get(R.deployments, MCO_NS, 'machine-os-builder')))
  })

  it('reproduces the 4.14 hang: image-build fails, wait-for-done keeps looping, the pod stays Running', async () => {
    cluster = await fastCluster({scripts: [failingImageBuild()]})
    const c = cluster.client
    await setupLayering(c)
    const pod = await waitFor('image-build to terminate', async () => {
      const p = (await c.list(R.pods, MCO_NS, 'machineconfiguration.openshift.io/buildPod')).items[0]
      const st = p?.status?.containerStatuses?.find((s: Obj) => s.name === 'image-build')
      return st?.state?.terminated ? p : undefined
    })
    await new Promise((r) => setTimeout(r, 400))
    const now = (await c.get(R.pods, MCO_NS, pod.metadata.name))!
    expect(now.status.phase).to.equal('Running')
    const st = (n: string) => now.status.containerStatuses.find((s: Obj) => s.name === n)
    expect(st('image-build').state.terminated).to.include({exitCode: 1, reason: 'Error'})
    expect(st('image-build').state.terminated.startedAt).to.be.a('string')
    expect(st('image-build').state.terminated.finishedAt).to.be.a('string')
    expect(st('wait-for-done').state.running.startedAt).to.be.a('string')
    expect(cond(now, 'Ready')).to.include({status: 'False', reason: 'ContainersNotReady'})
    const pool = (await getPool(c, 'layered'))!
    expect(condTrue(pool, 'Building')).to.equal(true)
    expect(condTrue(pool, 'BuildFailed')).to.equal(false)
    expect(await c.get(R.configmaps, MCO_NS, `digest-${pool.spec.configuration.name}`)).to.equal(undefined)
  })

  it('joins a build pod someone else created with the three labels instead of starting another', async () => {
    cluster = await fastCluster()
    const c = cluster.client
    await setupLayering(c, {label: false})
    const pool = await waitFor(
      'a rendered config',
      async () => (await getPool(c, 'layered'))?.spec?.configuration?.name && getPool(c, 'layered'),
    )
    const rendered: string = pool!.spec.configuration.name
    const meta = (name: string) => ({
      name,
      namespace: MCO_NS,
      labels: BUILD_LABELS(rendered, 'layered'),
      annotations: {'machineconfiguration.openshift.io/pool': ''},
    })
    const mc = (await c.get(R.machineconfigs, undefined, rendered))!
    const {encodeMachineConfig, renderDockerfile} = await import('./assets.js')
    await c.create(R.configmaps, MCO_NS, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta(`mc-${rendered}`),
      data: {'machineconfig.json.gz': encodeMachineConfig(mc)},
    })
    await c.create(R.configmaps, MCO_NS, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta(`dockerfile-${rendered}`),
      data: {
        Dockerfile: renderDockerfile({baseImage: BASE_OS_IMAGE, renderedConfig: rendered, pool: 'layered', releaseVersion: '4.14.12'}),
      },
    })
    const mine = await c.create(
      R.pods,
      MCO_NS,
      buildPod({
        poolName: 'layered',
        rendered,
        tag: `quay.io/example/os-image:${rendered}`,
        baseImage: BASE_OS_IMAGE,
        cfg: {
          baseImagePullSecretName: 'push-secret',
          finalImagePushSecretName: 'push-secret',
          finalImagePullspec: 'quay.io/example/os-image:latest',
          imageBuilderType: 'custom-pod-builder',
        },
        meta: meta(`build-${rendered}`),
      }),
    )
    await c.patch(R.pools, undefined, 'layered', {metadata: {labels: {'machineconfiguration.openshift.io/layering-enabled': ''}}})
    const done = await waitFor('BuildSuccess', async () => {
      const p = await getPool(c, 'layered')
      return condTrue(p, 'BuildSuccess') ? p : undefined
    })
    expect(done.metadata.annotations['machineconfiguration.openshift.io/newestImageEquivalentConfig']).to.match(
      /^quay\.io\/example\/os-image@sha256:[0-9a-f]{64}$/,
    )
    const mob = (await c.list(R.pods, MCO_NS, 'k8s-app=machine-os-builder')).items[0]
    const log = (await podLog(c, mob.metadata.name, 'machine-os-builder')).text
    expect(log).to.not.include('Starting build for pool layered')
    expect(log).to.include(`Build pod (build-${rendered}) is`)
    void mine
    void layeredPool
  })
})
