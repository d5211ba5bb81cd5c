// Real mode: the build pod's own scripts run buildah for real against a
// loopback registry. Skips (naming the Debian packages) when the tools or the
// host runner are missing.
import {expect} from 'chai'
import {R} from './client.js'
import type {Cluster} from './index.js'
import {realModeAvailable} from './index.js'
import {condTrue, fastCluster, getPool, setupLayering, waitFor} from './helpers.js'
import {fileText, readImageFs} from '../oci/image-fs.js'
import {inspectImage, manifestDigest} from '../oci/registry.js'
import {missingTools, skipWith} from '../oci/tools.js'

const A = 'machineconfiguration.openshift.io/'

describe('sim: real mode (buildah + docker-registry)', function () {
  this.timeout(120_000)
  let cluster: Cluster | undefined

  before(async function () {
    const missing = await missingTools('buildah', 'docker-registry', 'busybox', 'jq')
    if (missing) skipWith(this, missing)
    const avail = await realModeAvailable()
    if (!avail.ok) skipWith(this, avail.why!)
    cluster = await fastCluster({mode: 'real', delays: {rebootMs: 150}})
  })

  after(async () => {
    await cluster?.stop()
  })

  it('builds an opted-in pool into the loopback registry and rolls a node to the image', async () => {
    const c = cluster!.client
    expect(cluster!.sim.mode).to.equal('real')
    const registry = cluster!.sim.registry! as {host: string; url: string}
    const osimageurl = (await c.get(R.configmaps, 'openshift-machine-config-operator', 'machine-config-osimageurl'))!
    expect(osimageurl.data.baseOSContainerImage).to.equal(cluster!.sim.baseImage)

    const [node] = (await c.list(R.nodes, undefined, 'node-role.kubernetes.io/worker')).items
    await c.patch(R.nodes, undefined, node.metadata.name, {metadata: {labels: {'node-role.kubernetes.io/layered': ''}}})
    await c.create(R.machineconfigs, undefined, {
      apiVersion: 'machineconfiguration.openshift.io/v1',
      kind: 'MachineConfig',
      metadata: {name: '60-layered-motd', labels: {[`${A}role`]: 'layered'}},
      spec: {
        config: {
          ignition: {version: '3.4.0'},
          storage: {files: [{path: '/etc/motd', mode: 420, contents: {source: 'data:,built%20on-cluster%0A'}}]},
        },
      },
    })
    const started = Date.now()
    await setupLayering(c, {pullspec: `${registry.host}/ocp/os-image:latest`})

    const pool = await waitFor(
      'the build to finish',
      async () => {
        const p = await getPool(c, 'layered')
        if (condTrue(p, 'BuildFailed')) throw new Error('build failed')
        return condTrue(p, 'BuildSuccess') ? p : undefined
      },
      90_000,
    )
    const buildMs = Date.now() - started
    const rendered: string = pool.spec.configuration.name
    const image: string = pool.metadata.annotations[`${A}newestImageEquivalentConfig`]
    const digest = image.split('@')[1]
    expect(image).to.equal(`${registry.host}/ocp/os-image@${digest}`)
    expect(digest).to.match(/^sha256:[0-9a-f]{64}$/)

    // the registry has the image under the rendered config's tag, with the annotation's digest
    expect(await manifestDigest(registry, 'ocp/os-image', rendered)).to.equal(digest)
    const info = await inspectImage(registry, 'ocp/os-image', digest)
    expect(info.labels).to.include({
      machineconfig: rendered,
      machineconfigpool: 'layered',
      releaseversion: '4.14.12',
      baseOSContainerImage: cluster!.sim.baseImage,
    })

    // MachineConfig content was applied into the image by the template's ignition step
    const fs = await readImageFs(registry, 'ocp/os-image', digest)
    expect(fileText(fs, '/etc/motd')).to.equal('built on-cluster\n')
    expect(fileText(fs, '/etc/sysctl.d/inotify.conf')).to.equal(
      'fs.inotify.max_user_watches = 65536\nfs.inotify.max_user_instances = 8192\n',
    )
    const current = JSON.parse(fileText(fs, '/etc/machine-config-daemon/currentconfig')!)
    expect(current.metadata.name).to.equal(rendered)

    const rolled = await waitFor(
      'the node on the image',
      async () => {
        const n = (await c.get(R.nodes, undefined, node.metadata.name))!
        return n.metadata.annotations[`${A}currentImage`] === image && n.metadata.annotations[`${A}state`] === 'Done' ? n : undefined
      },
      20_000,
    )
    expect(rolled.metadata.annotations[`${A}currentConfig`]).to.equal(rendered)
    console.log(`      real build to BuildSuccess in ${buildMs} ms`)
  })
})
