import {expect} from 'chai'
import fs from 'node:fs'
import {KubeClient} from '../../src/lib/kube/client.js'
import {loadKubeconfig} from '../../src/lib/kube/kubeconfig.js'
import {R} from '../../src/lib/kube/resources.js'
import type {Pod} from '../../src/lib/kube/types.js'
import type {Cluster} from '../../emulator/sim/index.js'
import {MCO_NS, run, startCluster} from './harness.js'
import {Terminal} from './terminal.js'

const POOL = 'layering'
const CTRL_C = '\u0003'
const BUILD_POD_LABEL = 'machineconfiguration.openshift.io/buildPod'
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * Ctrl-C on a real pseudo-terminal while a spinner runs: the terminal sends SIGINT, the command stops
 * following on the first press (exit 130) and says how to pick up again; the build goes on.
 */
describe('Ctrl-C during a spinner (end to end, on a pseudo-terminal)', function () {
  this.timeout(240_000)
  let cluster: Cluster
  let client: KubeClient
  const terminals: Terminal[] = []

  before(async function () {
    if (!fs.existsSync('/usr/bin/script')) this.skip()
    // A build that runs for minutes: only Ctrl-C can end the commands below in time.
    cluster = await startCluster({delays: {buildMs: 600_000, podStartMs: 50, pollMs: 100, rebootMs: 300, restartMs: 200}, mode: 'scripted'})
    client = new KubeClient(loadKubeconfig({kubeconfig: cluster.kubeconfig}))
    const s = await run([
      'setup',
      '--no-registry-check',
      '--kubeconfig',
      cluster.kubeconfig,
      '--pool',
      POOL,
      '--imagestream',
      'os-image',
      '--clone-global-pull-secret',
      '--yes',
    ])
    expect(s.exitCode, s.stderr).to.equal(0)
  })

  afterEach(() => {
    for (const t of terminals.splice(0)) t.kill()
  })
  after(async () => cluster?.stop())

  const open = (args: string[], env: Record<string, string> = {}): Terminal => {
    const t = new Terminal([...args, '--kubeconfig', cluster.kubeconfig], env)
    terminals.push(t)
    return t
  }

  async function runningBuildPod(): Promise<Pod> {
    const deadline = Date.now() + 60_000
    for (;;) {
      const pods = await client.list<Pod>(R.pods, {labelSelector: BUILD_POD_LABEL, namespace: MCO_NS})
      const pod = pods.items.find((p) => p.status?.phase === 'Running')
      if (pod) return pod
      if (Date.now() > deadline) throw new Error('no build pod came to run')
      await sleep(200)
    }
  }

  /** One Ctrl-C; the command must be gone within a few seconds, with exit 130. */
  async function interrupt(t: Terminal): Promise<void> {
    await sleep(1000) // the spinner turns a few frames
    const at = Date.now()
    t.press(CTRL_C)
    const code = await Promise.race([t.exited, sleep(10_000).then(() => 'still running 10 s after Ctrl-C')])
    expect(code, t.text.slice(-2000)).to.equal(130)
    expect(Date.now() - at).to.be.below(5000)
  }

  it('enable --wait stops on the first Ctrl-C and says the cluster goes on and how to follow it', async () => {
    const t = open(['enable', POOL, '--wait'])
    await t.see(`opting pool ${POOL} in`)
    const pod = await runningBuildPod()
    await interrupt(t)
    expect(t.text).to.include(`error: interrupted while waiting for the image of pool ${POOL}; the cluster goes on by itself`)
    expect(t.text).to.include(
      `next: the build goes on in the cluster: follow it with \`oc mob status ${POOL}\` or \`oc mob logs ${POOL} -f\``,
    )
    // Stopping to follow did not stop the build.
    const after = await client.get<Pod>(R.pods, pod.metadata.name!, MCO_NS)
    expect(after.status?.phase).to.equal('Running')
  })

  it('build --follow stops on the first Ctrl-C, leaves the build running, and says how to re-attach', async () => {
    const pod = await runningBuildPod()
    const t = open(['build', POOL, '--follow'])
    await t.see(`building pool ${POOL}`)
    await t.see('joining') // it joined the running build and follows its log under the spinner
    await interrupt(t)
    expect(t.text).to.match(new RegExp(`error: interrupted: build \\S+ of pool ${POOL} goes on in the cluster`))
    expect(t.text).to.include(
      `next: re-attach with \`oc mob build ${POOL}\` (it joins the running build and records its result), or follow it with \`oc mob logs ${POOL} -f\``,
    )
    const after = await client.get<Pod>(R.pods, pod.metadata.name!, MCO_NS)
    expect(after.status?.phase).to.equal('Running')
    expect(after.metadata.deletionTimestamp).to.equal(undefined)
  })

  it('build --follow with NO_COLOR (no spinner) ends the same way', async () => {
    await runningBuildPod()
    const t = open(['build', POOL, '--follow'], {NO_COLOR: '1'})
    await t.see(`building pool ${POOL}`)
    await interrupt(t)
    expect(t.text).to.include(`next: re-attach with \`oc mob build ${POOL}\``)
  })
})
