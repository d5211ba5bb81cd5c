import {expect} from 'chai'
import {formatDuration, parseDuration} from '../../src/lib/duration.js'

describe('durations on the command line', () => {
  it('reads what kubectl and oc take: units, combinations, fractions, bare seconds, 0', () => {
    expect(parseDuration('30s')).to.equal(30_000)
    expect(parseDuration('1m')).to.equal(60_000)
    expect(parseDuration('1h30m')).to.equal(5_400_000)
    expect(parseDuration('500ms')).to.equal(500)
    expect(parseDuration('1m30s500ms')).to.equal(90_500)
    expect(parseDuration('1.5s')).to.equal(1500)
    expect(parseDuration('45')).to.equal(45_000)
    expect(parseDuration('0')).to.equal(0)
    expect(parseDuration('0s')).to.equal(0)
  })

  it('refuses anything else as a usage error (exit 2) with an example', () => {
    for (const bad of ['', 'soon', '10x', '5 s', 's', '-1s', '1.s']) {
      expect(() => parseDuration(bad), bad)
        .to.throw(`"${bad}" is not a duration`)
        .with.property('exitCode', 2)
    }
  })

  it('writes durations for messages', () => {
    expect(formatDuration(800)).to.equal('800ms')
    expect(formatDuration(2000)).to.equal('2s')
    expect(formatDuration(15_000)).to.equal('15s')
    expect(formatDuration(60_000)).to.equal('1m')
    expect(formatDuration(75_000)).to.equal('1m15s')
  })
})
