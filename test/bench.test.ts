import {expect} from 'chai'
import {benchFiles, runAll, table} from '../bench/run.js'

// The benchmarks are not timed tests: this only runs each one in its quick mode so that none of
// them rots unnoticed. Their figures are read from `npm run bench`.
describe('benchmarks (quick mode, so they cannot rot)', function () {
  this.timeout(600_000)

  it('every bench/*.bench.ts runs and reports finite figures', async () => {
    const files = benchFiles()
    expect(files.length).to.be.greaterThan(0)
    const rows = await runAll({quick: true})
    const benches = new Set(rows.map((r) => r.bench))
    expect([...benches].sort()).to.deep.equal(files.map((f) => f.replace(/\.bench\.ts$/, '')).sort())
    for (const r of rows) {
      expect(Number.isFinite(r.value), `${r.bench}: ${r.name}`).to.equal(true)
      expect(r.unit, `${r.bench}: ${r.name}`).to.be.a('string')
    }

    expect(table(rows).split('\n')).to.have.length(rows.length + 1)
  })
})
