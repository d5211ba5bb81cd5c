import {expect} from 'chai'
import type {Emulator} from '../../emulator/index.js'
import {basicCluster, MCO_NS, pool, run, startEmulator} from './harness.js'

// 4.14/4.15: what an interrupted build leaves, which status used to show as "no build, no problem":
// the mc-<R>/dockerfile-<R> ConfigMaps of the pool's rendered config without a build pod or Build, and
// a layered pool whose Build* conditions are gone while it keeps its image annotation.
const P = 'machineconfiguration.openshift.io'
const R_LEFT = 'rendered-left-0123456789abcdef0123456789abcdef'
const R_BUSY = 'rendered-busy-0123456789abcdef0123456789abcdef'
const R_FRESH = 'rendered-fresh-0123456789abcdef0123456789abcdef'
const IMAGE = `quay.io/org/os@sha256:${'c'.repeat(64)}`
const OLD = '2026-11-20T10:00:00Z'

function buildConfigMap(name: string, poolName: string, rendered: string, created: string, labelled = true) {
  return {
    apiVersion: 'v1',
    data: {Dockerfile: 'FROM x'},
    kind: 'ConfigMap',
    metadata: {
      annotations: {[`${P}/pool`]: ''},
      creationTimestamp: created,
      labels: labelled ? {[`${P}/buildPod`]: '', [`${P}/desiredConfig`]: rendered, [`${P}/targetMachineConfigPool`]: poolName} : {},
      name,
      namespace: MCO_NS,
    },
  }
}

describe('oc mob status: what an interrupted 4.14 build leaves (end to end)', function () {
  this.timeout(60_000)
  let emu: Emulator

  before(async () => {
    const succeeded: Array<[string, string, string?, string?]> = [
      ['Updated', 'True'],
      ['BuildSuccess', 'True', 'BuildSucceeded'],
    ]
    emu = await startEmulator({
      groups: {machineOS: false},
      objects: [
        ...basicCluster(),
        // Conditions lost, image kept.
        pool('lost', {conditions: [['Updated', 'True']], image: IMAGE, layered: true}),
        // Orphaned ConfigMaps of its rendered config, and a look-alike without the build labels (not reported).
        pool('left', {conditions: succeeded, image: IMAGE, layered: true, rendered: R_LEFT}),
        buildConfigMap(`mc-${R_LEFT}`, 'left', R_LEFT, OLD),
        buildConfigMap(`dockerfile-${R_LEFT}`, 'left', R_LEFT, OLD),
        buildConfigMap(`digest-${R_LEFT}`, 'left', R_LEFT, OLD, false),
        // A build under way: its ConfigMaps go with its pod.
        pool('busy', {
          conditions: [
            ['Updated', 'True'],
            ['Building', 'True', 'BuildRunning'],
          ],
          image: IMAGE,
          layered: true,
          rendered: R_BUSY,
        }),
        buildConfigMap(`mc-${R_BUSY}`, 'busy', R_BUSY, OLD),
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            labels: {[`${P}/buildPod`]: '', [`${P}/desiredConfig`]: R_BUSY, [`${P}/targetMachineConfigPool`]: 'busy'},
            name: `build-${R_BUSY}`,
            namespace: MCO_NS,
          },
          spec: {containers: [{image: 'quay.io/buildah/stable:latest', name: 'image-build'}]},
          status: {phase: 'Running'},
        },
        // Just made: the operator creates the ConfigMaps a moment before the pod.
        pool('fresh', {conditions: succeeded, image: IMAGE, layered: true, rendered: R_FRESH}),
        buildConfigMap(`mc-${R_FRESH}`, 'fresh', R_FRESH, new Date().toISOString().replace(/\.\d+Z$/, 'Z')),
      ],
    })
    // status records the images it sees on pools in oc-mob's history once (its one write, not what is tested here).
    expect((await run(['status', '--kubeconfig', emu.kubeconfig])).exitCode).to.equal(0)
  })
  after(async () => emu?.close())

  const status = async (...args: string[]) => {
    emu.resetRequests()
    const r = await run(['status', ...args, '--kubeconfig', emu.kubeconfig])
    return {...r, writes: emu.requests.filter((q) => q.method !== 'GET')}
  }

  it('reports both, each with its next step, in json and text; writes nothing', async () => {
    const json = await status('-o', 'json')
    expect(json.exitCode, json.stderr).to.equal(0)
    expect(json.writes).to.deep.equal([])
    const doc = JSON.parse(json.stdout)
    const byName = (n: string) => doc.pools.find((p: {name: string}) => p.name === n)
    expect(byName('left')).to.deep.include({buildConditionsLost: false, orphanedConfigMaps: [`dockerfile-${R_LEFT}`, `mc-${R_LEFT}`]})
    expect(byName('lost')).to.deep.include({buildConditionsLost: true, orphanedConfigMaps: []})
    expect(byName('lost').build.state).to.equal('none')
    expect(byName('busy')).to.deep.include({buildConditionsLost: false, orphanedConfigMaps: []})
    expect(byName('fresh')).to.deep.include({buildConditionsLost: false, orphanedConfigMaps: []})
    // Not layered: neither key.
    expect(byName('master')).to.not.have.property('orphanedConfigMaps')

    const problem = (pool: string, start: string) =>
      doc.problems.find((p: {pool: string; message: string}) => p.pool === pool && p.message.startsWith(start))
    const orphans = problem('left', 'pool left has build ConfigMaps')
    expect(orphans).to.deep.include({
      message: `pool left has build ConfigMaps of ${R_LEFT} without a build pod or Build: configmap/dockerfile-${R_LEFT}, configmap/mc-${R_LEFT} (an interrupted build left them; the next build of ${R_LEFT} fails on them)`,
      next: 'remove them with `oc mob cleanup left`, then build with `oc mob build left`',
      severity: 'error',
    })
    const lost = problem('lost', 'pool lost has an image but none of its build conditions')
    expect(lost).to.deep.include({severity: 'error'})
    expect(lost.next).to.equal('build again with `oc mob build lost` (after `oc mob cleanup lost` if a build left objects behind)')
    for (const quiet of ['busy', 'fresh']) {
      expect(
        doc.problems.filter((p: {pool: string; message: string}) => p.pool === quiet && /ConfigMaps|conditions/.test(p.message)),
      ).to.deep.equal([])
    }

    const text = await status('left')
    expect(text.exitCode, text.stderr).to.equal(0)
    expect(text.writes).to.deep.equal([])
    expect(text.stdout).to.include(`✖ pool left has build ConfigMaps of ${R_LEFT} without a build pod or Build`)
    expect(text.stdout).to.include('  next: remove them with `oc mob cleanup left`, then build with `oc mob build left`')
  })

  it('cleanup finds the same ConfigMaps (one way to recognise them)', async () => {
    const r = await run(['cleanup', 'left', '--dry-run', '-o', 'json', '--kubeconfig', emu.kubeconfig])
    expect(r.exitCode, r.stderr).to.equal(0)
    const names = JSON.parse(r.stdout).items.map((i: {name: string}) => i.name)
    expect(names).to.include.members([`mc-${R_LEFT}`, `dockerfile-${R_LEFT}`])
  })
})
