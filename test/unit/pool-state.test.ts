import {expect} from 'chai'
import type {MachineConfigPool, Node} from '../../src/lib/kube/types.js'
import {age, isLayered, matchesSelector, poolBuild, poolOfNode} from '../../src/lib/mco/pool-state.js'

const pool = (
  name: string,
  conditions: Array<[string, 'False' | 'True', string?]> = [],
  labels: Record<string, string> = {},
): MachineConfigPool => ({
  metadata: {labels, name},
  spec: {nodeSelector: {matchLabels: {[`node-role.kubernetes.io/${name}`]: ''}}},
  status: {conditions: conditions.map(([type, status, reason]) => ({lastTransitionTime: '2026-01-01T00:00:00Z', reason, status, type}))},
})

describe('pool state', () => {
  it('derives the build state from the Build* conditions, failure first', () => {
    expect(poolBuild(pool('p')).state).to.equal('none')
    expect(poolBuild(pool('p', [['BuildPending', 'True', 'BuildPending']])).state).to.equal('pending')
    expect(
      poolBuild(
        pool('p', [
          ['BuildPending', 'False'],
          ['Building', 'True', 'BuildRunning'],
        ]),
      ),
    ).to.include({reason: 'BuildRunning', state: 'building'})
    expect(poolBuild(pool('p', [['BuildSuccess', 'True', 'BuildSucceeded']])).state).to.equal('succeeded')
    expect(
      poolBuild(
        pool('p', [
          ['BuildSuccess', 'True'],
          ['BuildFailed', 'True', 'BuildFailed'],
        ]),
      ).state,
    ).to.equal('failed')
  })

  it('treats the layering label as present whatever its value', () => {
    expect(isLayered(pool('p', [], {'machineconfiguration.openshift.io/layering-enabled': ''}))).to.equal(true)
    expect(isLayered(pool('p'))).to.equal(false)
  })

  it('matches label selectors with expressions', () => {
    const sel = {
      matchExpressions: [
        {key: 'role', operator: 'In' as const, values: ['a', 'b']},
        {key: 'x', operator: 'DoesNotExist' as const},
      ],
    }
    expect(matchesSelector(sel, {role: 'a'})).to.equal(true)
    expect(matchesSelector(sel, {role: 'c'})).to.equal(false)
    expect(matchesSelector(sel, {role: 'a', x: ''})).to.equal(false)
    expect(matchesSelector({}, {})).to.equal(true)
    expect(matchesSelector(undefined, {})).to.equal(false)
  })

  it('puts a node selected by worker and a custom pool into the custom pool', () => {
    const node: Node = {metadata: {labels: {'node-role.kubernetes.io/layering': '', 'node-role.kubernetes.io/worker': ''}, name: 'w'}}
    expect(poolOfNode(node, [pool('worker'), pool('layering'), pool('master')])).to.equal('layering')
    expect(
      poolOfNode({metadata: {labels: {'node-role.kubernetes.io/worker': ''}, name: 'w'}}, [pool('worker'), pool('layering')]),
    ).to.equal('worker')
    expect(poolOfNode({metadata: {labels: {}, name: 'x'}}, [pool('worker')])).to.equal(undefined)
  })

  it('formats ages like kubectl', () => {
    const now = Date.parse('2026-01-01T00:00:00Z')
    expect(age('2025-12-31T23:59:30Z', now)).to.equal('30s')
    expect(age('2025-12-31T23:00:00Z', now)).to.equal('60m')
    expect(age('2025-12-30T01:00:00Z', now)).to.equal('47h')
    expect(age('2025-12-30T00:00:00Z', now)).to.equal('2d')
    expect(age('2025-12-01T00:00:00Z', now)).to.equal('31d')
    expect(age(undefined, now)).to.equal('')
  })
})
