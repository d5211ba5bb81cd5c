import {expect} from 'chai'
import {BUNDLED_CRD_DIR, loadCrds} from '../apiserver/crds.js'
import {Registry} from '../apiserver/resources.js'
import {validateCustomResource} from '../apiserver/schema-validation.js'
import {buildEnd, mosbConditions} from './machineos.js'

// The simulated machine-os-builder writes only MachineOSBuild statuses the CRD accepts, so that it runs
// unchanged against a real API server.
describe('sim: MachineOSBuild statuses the machine-os-builder writes pass the CRD', () => {
  const registry = new Registry({image: false, build: false, machine: false, machineOS: true})
  const schema = loadCrds(BUNDLED_CRD_DIR, registry.list).get('machineosbuilds')!.schema
  const mosb = (status?: any) => ({
    apiVersion: 'machineconfiguration.openshift.io/v1',
    kind: 'MachineOSBuild',
    metadata: {name: 'worker-abc'},
    spec: {
      machineConfig: {name: 'rendered-worker-0123456789'},
      machineOSConfig: {name: 'worker'},
      renderedImagePushSpec: 'quay.io/org/os:latest',
    },
    ...(status ? {status} : {}),
  })
  const check = (status: any, old?: any) =>
    validateCustomResource(schema, mosb(status), old === undefined ? mosb() : mosb(old)).map((c) => `${c.field}: ${c.message}`)

  it("every state's conditions, from Prepared through Building to an end", () => {
    const start = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')
    const prepared = {
      buildStart: start,
      builder: {
        imageBuilderType: 'Job',
        job: {group: 'batch', name: 'build-worker-abc', namespace: 'openshift-machine-config-operator', resource: 'jobs'},
      },
      conditions: mosbConditions('Prepared'),
    }
    expect(check(prepared)).to.deep.equal([])
    const building = {...prepared, conditions: mosbConditions('Building')}
    expect(check(building, prepared)).to.deep.equal([])
    for (const end of ['Succeeded', 'Failed', 'Interrupted'] as const) {
      // a build that ends within the second it started still gets a buildEnd after its buildStart
      expect(check({...building, buildEnd: buildEnd(start), conditions: mosbConditions(end)}, building), end).to.deep.equal([])
    }
  })

  it('buildEnd is strictly after buildStart, and now when that is later', () => {
    expect(Date.parse(buildEnd('2030-01-01T00:00:00Z'))).to.equal(Date.parse('2030-01-01T00:00:01Z'))
    expect(Date.parse(buildEnd('2020-01-01T00:00:00Z'))).to.be.greaterThan(Date.parse('2025-01-01T00:00:00Z'))
  })
})
