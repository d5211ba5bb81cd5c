import {expect} from 'chai'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {KubeClient} from '../../src/lib/kube/client.js'
import {loadKubeconfig} from '../../src/lib/kube/kubeconfig.js'
import {R} from '../../src/lib/kube/resources.js'
import type {ConfigMap, MachineConfigPool, Secret} from '../../src/lib/kube/types.js'
import {fileText, readImageFs} from '../../emulator/oci/image-fs.js'
import {inspectImage, type Registry, startRegistry} from '../../emulator/oci/registry.js'
import {type Cluster, realModeAvailable} from '../../emulator/sim/index.js'
import {MCO_NS, run, startCluster} from './harness.js'

const NS = MCO_NS
const POOL = 'layering'

describe('setup with an external registry (htpasswd) and enable --build: a real buildah build', function () {
  this.timeout(300_000)
  let registry: Registry | undefined
  let cluster: Cluster | undefined
  let client: KubeClient
  let tmp: string

  before(async function () {
    const avail = await realModeAvailable()
    if (!avail.ok) {
      console.log(`      (real builds skipped: ${avail.why})`)
      this.skip()
    }

    registry = await startRegistry({auth: {password: 'n0t-the-real-one', user: 'pusher'}})
    // The cluster's own builder stays down: the build is the one enable --build runs.
    cluster = await startCluster({controllers: {operator: false}, delays: {podStartMs: 50}, mode: 'real', registry})
    client = new KubeClient(loadKubeconfig({kubeconfig: cluster.kubeconfig}))
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-mob-enable-build-'))
  })

  after(async () => {
    await cluster?.stop()
    await registry?.stop()
    if (tmp) fs.rmSync(tmp, {force: true, recursive: true})
  })

  it('sets up from flags only (a second run changes nothing), opts in and builds into the authenticated registry', async () => {
    const host = registry!.host
    const authJson = fs.readFileSync(registry!.authfile!, 'utf8')
    await client.create<Secret>(R.secrets, {
      data: {'.dockerconfigjson': Buffer.from(authJson).toString('base64')},
      metadata: {name: 'loopback-push', namespace: NS},
      type: 'kubernetes.io/dockerconfigjson',
    })
    const dockerfile = path.join(tmp, 'Dockerfile')
    fs.writeFileSync(dockerfile, 'FROM configs AS final\nRUN echo "built by oc mob enable --build" > /etc/oc-mob-custom\n')
    const args = [
      'setup',
      '--no-registry-check',
      '--kubeconfig',
      cluster!.kubeconfig,
      '--pool',
      POOL,
      '--final-pullspec',
      `${host}/ocp/os-image`,
      '--clone-global-pull-secret',
      '--push-secret',
      'loopback-push',
      '--custom-dockerfile',
      dockerfile,
      '--yes',
    ]
    const r = await run(args)
    expect(r.exitCode, r.stderr).to.equal(0)
    expect(r.stderr).to.include(`✔ final image push secret: loopback-push holds credentials for ${host}`)
    expect(r.stderr).to.include(
      `✔ global pull secret: openshift-config/pull-secret holds pull credentials for ${host}: nodes can pull the built image`,
    )
    expect(r.stdout + r.stderr)
      .not.to.include('n0t-the-real-one')
      .and.not.include(Buffer.from('pusher:n0t-the-real-one').toString('base64'))
    const cm = await client.get<ConfigMap>(R.configMaps, 'on-cluster-build-config', NS)
    expect(cm.data).to.deep.equal({
      baseImagePullSecretName: 'global-pull-secret-copy',
      finalImagePullspec: `${host}/ocp/os-image`,
      finalImagePushSecretName: 'loopback-push',
      imageBuilderType: 'custom-pod-builder',
    })

    const again = await run(args)
    expect(again.exitCode, again.stderr).to.equal(0)
    expect(again.stdout).to.include('nothing to do: everything is set up already')

    const built = await run(['enable', POOL, '--kubeconfig', cluster!.kubeconfig, '--build', '-o', 'json'])
    expect(built.exitCode, built.stderr).to.equal(0)
    const result = JSON.parse(built.stdout)
    expect(result.outcome).to.equal('enabled')
    expect(result.build).to.include({joined: false, outcome: 'succeeded', pool: POOL})
    const pool = await client.get<MachineConfigPool>(R.machineConfigPools, POOL)
    const rendered = pool.spec!.configuration!.name!
    const info = await inspectImage(registry!, 'ocp/os-image', rendered)
    expect(result.image).to.equal(`${host}/ocp/os-image@${info.digest}`)
    expect(pool.metadata.annotations!['machineconfiguration.openshift.io/newestImageEquivalentConfig']).to.equal(result.image)
    expect(pool.metadata.labels).to.have.property('machineconfiguration.openshift.io/layering-enabled', '')
    expect(info.labels).to.include({machineconfig: rendered, machineconfigpool: POOL})
    const files = await readImageFs(registry!, 'ocp/os-image', rendered)
    expect(fileText(files, '/etc/oc-mob-custom')).to.equal('built by oc mob enable --build\n')
  })
})
