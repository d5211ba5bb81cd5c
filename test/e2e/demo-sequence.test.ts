import {expect} from 'chai'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {KubeClient} from '../../src/lib/kube/client.js'
import {loadKubeconfig} from '../../src/lib/kube/kubeconfig.js'
import {R} from '../../src/lib/kube/resources.js'
import type {ConfigMap, MachineConfigPool, Pod} from '../../src/lib/kube/types.js'
import type {Cluster} from '../../emulator/sim/index.js'
import {MCO_NS, run, startCluster} from './harness.js'

const POOL = 'layering'
const IMAGE_ANNOTATION = 'machineconfiguration.openshift.io/newestImageEquivalentConfig'

// `npm run demo`'s sequence on a machine without buildah: in scripted mode a build succeeds or fails
// as its Dockerfile's RUN steps say, so a failing build, the cleanup and the fixed rebuild run the
// same way as with real builds, and the rebuild ends.
describe("the demo's sequence with scripted builds: failing build, cleanup, fixed rebuild (end to end)", function () {
  this.timeout(240_000)
  let cluster: Cluster
  let client: KubeClient
  let dir: string

  before(async () => {
    cluster = await startCluster({delays: {buildMs: 400, podStartMs: 50, pollMs: 100, rebootMs: 300, restartMs: 200}, mode: 'scripted'})
    client = new KubeClient(loadKubeconfig({kubeconfig: cluster.kubeconfig}))
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-mob-demo-seq-'))
  })
  after(async () => {
    await cluster?.stop()
    if (dir) fs.rmSync(dir, {force: true, recursive: true})
  })

  it("fails with the RUN step's output, cleans up, then builds the fixed Dockerfile to its digest", async () => {
    const kc = ['--kubeconfig', cluster.kubeconfig]
    const dockerfile = path.join(dir, 'custom.Dockerfile')
    const plain = [
      'setup',
      '--no-registry-check',
      ...kc,
      '--pool',
      POOL,
      '--imagestream',
      'os-image',
      '--clone-global-pull-secret',
      '--yes',
    ]
    const setup = [...plain, '--custom-dockerfile', dockerfile, '--force']
    const s0 = await run(plain)
    expect(s0.exitCode, s0.stderr).to.equal(0)
    const enable = await run(['enable', POOL, ...kc, '--wait', '--timeout', '2m'])
    expect(enable.exitCode, enable.stdout + enable.stderr).to.equal(0)

    fs.writeFileSync(dockerfile, 'FROM configs AS final\nRUN echo "checking the image" && exit 3\n')
    const s1 = await run(setup)
    expect(s1.exitCode, s1.stderr).to.equal(0)

    const failed = await run(['build', POOL, ...kc, '--rebuild'])
    expect(failed.exitCode, failed.stdout + failed.stderr).to.equal(8)
    expect(failed.stderr).to.include('checking the image')
    expect(failed.stderr).to.include(
      'Error: building at STEP "RUN echo "checking the image" && exit 3": while running runtime: exit status 3',
    )
    const rendered = (await client.get<MachineConfigPool>(R.machineConfigPools, POOL)).spec!.configuration!.name!
    expect(await client.find<ConfigMap>(R.configMaps, `digest-${rendered}`, MCO_NS)).to.equal(undefined)

    const cleanup = await run(['cleanup', POOL, ...kc, '--yes'])
    expect(cleanup.exitCode, cleanup.stderr).to.equal(0)
    expect(await client.find<Pod>(R.pods, `build-${rendered}`, MCO_NS)).to.equal(undefined)

    fs.writeFileSync(dockerfile, 'FROM configs AS final\nRUN echo "built with oc-mob" > /etc/oc-mob-release\n')
    const s2 = await run(setup)
    expect(s2.exitCode, s2.stderr).to.equal(0)
    const rebuilt = await run(['build', POOL, ...kc, '--rebuild', '--follow', '-o', 'json'])
    expect(rebuilt.exitCode, rebuilt.stderr).to.equal(0)
    const result = JSON.parse(rebuilt.stdout)
    expect(result).to.include({outcome: 'succeeded', pool: POOL})
    expect(result.image).to.match(/@sha256:[0-9a-f]{64}$/)
    const pool = await client.get<MachineConfigPool>(R.machineConfigPools, POOL)
    expect(pool.metadata.annotations![IMAGE_ANNOTATION]).to.equal(result.image)
  })
})
