import {expect} from 'chai'
import {DEFAULT_GENERATION, parseGeneration, servesMachineOS} from './generation.js'
import {parseClusterArgs} from './index.js'

describe('emulator: one generation switch for npm run cluster and cluster:sim', () => {
  it('maps release numbers onto the two generations, and refuses others', () => {
    expect(parseGeneration('4.14')).to.equal('4.14')
    expect(parseGeneration('4.15')).to.equal('4.14')
    for (const v of ['4.18', '4.19', '4.21', '5.0']) expect(parseGeneration(v), v).to.equal('4.19')
    expect(() => parseGeneration('4.16')).to.throw('--generation 4.16: use 4.14')
  })

  it('defaults to the MachineOSConfig generation in both', () => {
    expect(DEFAULT_GENERATION).to.equal('4.19')
    expect(servesMachineOS(DEFAULT_GENERATION)).to.equal(true)
    // npm run cluster serves every group unless told otherwise: the MachineOSConfig API is on.
    expect(parseClusterArgs(['--no-fixture']).groups?.machineOS).to.equal(undefined)
    expect(parseClusterArgs(['--no-fixture', '--generation', '4.14']).groups?.machineOS).to.equal(false)
    expect(parseClusterArgs(['--no-fixture', '--generation=4.19']).groups?.machineOS).to.equal(true)
  })
})
