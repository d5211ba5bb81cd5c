import {expect} from 'chai'
import {startTokenRegistry, type TokenRegistry} from '../oci/token-registry.js'
import {type Obj, R} from './client.js'
import {FAST, waitFor} from './helpers.js'
import {type Cluster, startCluster} from './index.js'

// Scripted mode with a registry stand-in: the machine-os-builder reuses a successful build of the
// same hash only while its image exists there, builds it again when it is gone, and deletes the image
// of a deleted build unless a node uses it (reference §8.5, §12.3, §12.4).
const P = 'machineconfiguration.openshift.io'

describe('sim: the machine-os-builder and a registry (scripted mode)', function () {
  this.timeout(60_000)
  let reg: TokenRegistry
  let cluster: Cluster
  const repo = 'org/os'

  before(async () => {
    reg = await startTokenRegistry({auth: 'basic', users: {robot: {actions: ['pull', 'push', 'delete'], password: 'secret'}}})
    cluster = await startCluster({
      controllers: {machineOS: true},
      delays: {...FAST, lineMs: 2, podStartMs: 50},
      emulator: {groups: {machineOS: true}},
      mode: 'scripted',
      registry: {auth: {password: 'secret', user: 'robot'}, host: reg.host, url: reg.url},
    })
    await cluster.client.create(R.machineosconfigs, undefined, {
      apiVersion: `${P}/v1`,
      kind: 'MachineOSConfig',
      metadata: {name: 'worker'},
      spec: {
        imageBuilder: {imageBuilderType: 'Job'},
        machineConfigPool: {name: 'worker'},
        renderedImagePushSecret: {name: 'push'},
        renderedImagePushSpec: `${reg.host}/${repo}:latest`,
      },
    })
  })

  after(async () => {
    await cluster?.stop()
    await reg?.stop()
  })

  const mosc = async (): Promise<Obj> => (await cluster.client.get(R.machineosconfigs, undefined, 'worker'))!
  const builds = async (): Promise<Obj[]> => (await cluster.client.list(R.machineosbuilds)).items
  /** The current build once it succeeded and the MachineOSConfig reports its image; its image made to exist ("pushed"). */
  const settled = async (not?: Obj): Promise<Obj> => {
    const b = await waitFor('a current successful build', async () => {
      const c = await mosc()
      const cur = (await builds()).find((x) => x.metadata.name === c.metadata.annotations?.[`${P}/current-machine-os-build`])
      const image = cur?.status?.digestedImagePushSpec
      return image && c.status?.currentImagePullSpec === image && cur.metadata.uid !== not?.metadata.uid ? cur : undefined
    })
    reg.addImage(repo, b.status.digestedImagePushSpec.split('@')[1])
    return b
  }

  const setContainerfile = async (content: string | undefined): Promise<void> => {
    await cluster.client.update(R.machineosconfigs, undefined, 'worker', (c) => {
      if (content === undefined) delete c.spec.containerFile
      else c.spec.containerFile = [{containerfileArch: 'NoArch', content}]
    })
  }

  it('reuses an earlier build when its spec comes back and its image exists; builds it again when the image is gone', async () => {
    const first = await settled()
    await setContainerfile('FROM configs AS final\nRUN echo two\n')
    const second = await settled(first)
    expect(second.metadata.name).to.not.equal(first.metadata.name)

    // Back to the first spec: the same hash, the build reused, no new MachineOSBuild.
    await setContainerfile(undefined)
    await waitFor(
      'the first build current again',
      async () => (await mosc()).status?.currentImagePullSpec === first.status.digestedImagePushSpec,
    )
    const now = await builds()
    expect(now.map((b) => b.metadata.uid).sort()).to.deep.equal([first.metadata.uid, second.metadata.uid].sort())

    // The second build's image is deleted from the registry: going back to its spec builds it again.
    const digest = second.status.digestedImagePushSpec.split('@')[1]
    await fetch(`${reg.url}/v2/${repo}/manifests/${digest}`, {
      headers: {authorization: `Basic ${Buffer.from('robot:secret').toString('base64')}`},
      method: 'DELETE',
    })
    expect(reg.hasImage(repo, digest)).to.equal(false)
    await setContainerfile('FROM configs AS final\nRUN echo two\n')
    const rebuilt = await waitFor('the second build made again', async () => {
      const b = (await builds()).find((x) => x.metadata.name === second.metadata.name)
      return b && b.metadata.uid !== second.metadata.uid ? b : undefined
    })
    expect(rebuilt.metadata.name).to.equal(second.metadata.name)
    await settled(second)
  })

  it('deletes the image of a deleted build that no node uses', async () => {
    const before = await settled()
    await setContainerfile('FROM configs AS final\nRUN echo three\n')
    const current = await settled(before)
    // The node controller follows the build the MachineOSConfig names, though several builds share the rendered config.
    await waitFor(
      'the worker nodes on the current image',
      async () =>
        (await cluster.client.list(R.nodes, undefined, 'node-role.kubernetes.io/worker')).items.every(
          (n) => n.metadata.annotations?.[`${P}/currentImage`] === current.status.digestedImagePushSpec,
        ),
      30_000,
    )
    const nodes = (await cluster.client.list(R.nodes)).items
    const used = new Set(
      nodes.flatMap((n) => [n.metadata.annotations?.[`${P}/currentImage`], n.metadata.annotations?.[`${P}/desiredImage`]]),
    )
    const old = (await builds()).find(
      (b) => b.metadata.name !== current.metadata.name && b.status?.digestedImagePushSpec && !used.has(b.status.digestedImagePushSpec),
    )!
    const oldDigest = old.status.digestedImagePushSpec.split('@')[1]
    expect(reg.hasImage(repo, oldDigest)).to.equal(true)
    await cluster.client.delete(R.machineosbuilds, undefined, old.metadata.name)
    await waitFor('the old image deleted', () => !reg.hasImage(repo, oldDigest))
  })
})
