import {expect} from 'chai'
import {buildModeFromEnv, realModeAvailable} from './index.js'

describe('sim: OC_MOB_SIM_BUILDS picks the build mode', () => {
  it('is auto when unset or empty; scripted and real as given, in any case', () => {
    expect(buildModeFromEnv({})).to.equal('auto')
    expect(buildModeFromEnv({OC_MOB_SIM_BUILDS: ''})).to.equal('auto')
    expect(buildModeFromEnv({OC_MOB_SIM_BUILDS: 'Scripted'})).to.equal('scripted')
    expect(buildModeFromEnv({OC_MOB_SIM_BUILDS: ' real '})).to.equal('real')
  })

  it('refuses anything else, naming the three modes', () => {
    expect(() => buildModeFromEnv({OC_MOB_SIM_BUILDS: 'fast'})).to.throw(
      'OC_MOB_SIM_BUILDS=fast is not a build mode: use scripted, real or auto',
    )
  })

  it('scripted makes real builds unavailable, so tests that need them skip with that reason', async () => {
    const saved = process.env.OC_MOB_SIM_BUILDS
    process.env.OC_MOB_SIM_BUILDS = 'scripted'
    try {
      expect(await realModeAvailable()).to.deep.equal({ok: false, why: 'OC_MOB_SIM_BUILDS=scripted asks for scripted builds'})
    } finally {
      if (saved === undefined) delete process.env.OC_MOB_SIM_BUILDS
      else process.env.OC_MOB_SIM_BUILDS = saved
    }
  })
})
