import {expect} from 'chai'
import type {Condition} from '../../src/lib/kube/types.js'
import {
  buildsOf,
  currentBuild,
  CURRENT_MOSB_ANNOTATION,
  type MachineOSBuild,
  type MachineOSConfig,
  mosbStatus,
} from '../../src/lib/mco/machine-os.js'

const P = 'machineconfiguration.openshift.io'
const cond = (type: string, reason = type, message = '') => ({
  lastTransitionTime: '2026-11-20T10:00:00Z',
  message,
  reason,
  status: 'True' as const,
  type,
})
const build = (name: string, rendered: string, created: string, conditions: Condition[] = []): MachineOSBuild => ({
  metadata: {creationTimestamp: created, name},
  spec: {machineConfig: {name: rendered}, machineOSConfig: {name: 'worker'}},
  status: {conditions},
})
const config: MachineOSConfig = {metadata: {name: 'worker'}, spec: {machineConfigPool: {name: 'worker'}}}

describe('MachineOSBuild states and the current build (4.18+)', () => {
  it('reads the state from the condition that is True; terminal ones win; none yet is pending', () => {
    expect(mosbStatus(build('a', 'r', 't', [cond('Prepared')])).state).to.equal('pending')
    expect(mosbStatus(build('a', 'r', 't', [cond('Building')])).state).to.equal('running')
    expect(mosbStatus(build('a', 'r', 't', [cond('Building'), cond('Failed', 'Failed', 'Build Failed')]))).to.deep.include({
      condition: 'Failed',
      message: 'Build Failed',
      state: 'failed',
    })
    expect(mosbStatus(build('a', 'r', 't', [cond('Interrupted')])).state).to.equal('interrupted')
    expect(mosbStatus(build('a', 'r', 't', [cond('Succeeded', 'Ready')]))).to.deep.include({reason: 'Ready', state: 'succeeded'})
    expect(mosbStatus(build('a', 'r', '2026-11-20T09:00:00Z'))).to.deep.include({
      condition: null,
      since: '2026-11-20T09:00:00Z',
      state: 'pending',
    })
  })

  it("takes the build of the pool's rendered config, the one the MachineOSConfig names first, else the newest", () => {
    const builds = [
      build('old', 'r1', '2026-11-20T09:00:00Z'),
      build('b', 'r2', '2026-11-20T10:00:00Z'),
      build('c', 'r2', '2026-11-20T11:00:00Z'),
      {...build('x', 'r2', '2026-11-20T12:00:00Z'), spec: {machineConfig: {name: 'r2'}, machineOSConfig: {name: 'other'}}},
    ]
    expect(buildsOf(builds, config).map((b) => b.metadata.name)).to.deep.equal(['c', 'b', 'old'])
    expect(currentBuild(builds, config, 'r2')?.metadata.name).to.equal('c')
    expect(
      currentBuild(builds, {...config, metadata: {annotations: {[CURRENT_MOSB_ANNOTATION]: 'b'}, name: 'worker'}}, 'r2')?.metadata.name,
    ).to.equal('b')
    expect(currentBuild(builds, config, 'r3')).to.equal(undefined)
    expect(currentBuild(builds, config, undefined)).to.equal(undefined)
    // Found by label as well (the controller sets both).
    const labelled: MachineOSBuild = {
      metadata: {creationTimestamp: 't', labels: {[`${P}/machine-os-config`]: 'worker'}, name: 'l'},
      spec: {machineConfig: {name: 'r9'}},
    }
    expect(currentBuild([labelled], config, 'r9')?.metadata.name).to.equal('l')
  })
})
