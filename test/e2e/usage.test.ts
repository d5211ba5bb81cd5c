import {expect} from 'chai'
import {runBin} from './harness.js'

// The shipped CLI (packed and bundled): the command_not_found hook and flag errors in the house style.
describe('usage errors of the shipped CLI', function () {
  this.timeout(180_000)

  it('an unknown command: error, did you mean, exit 2', async () => {
    const r = await runBin(['stauts'], {NO_COLOR: '1'})
    expect(r.exitCode).to.equal(2)
    expect(r.stderr).to.equal('error: unknown command "stauts"\nnext: did you mean `oc mob status`? (`oc mob --help` lists the commands)')
    expect(r.stdout).to.equal('')
  })

  it('a flag before the command (kubectl mob --context x status): the command line that works', async () => {
    const r = await runBin(['--context', 'admin', 'status'], {NO_COLOR: '1'})
    expect(r.exitCode).to.equal(2)
    expect(r.stderr).to.equal('error: flags go after the command: --context comes before "status"\nnext: oc mob status --context admin')
  })

  it('an unknown flag: the flag meant, once, and no oclif help line', async () => {
    const r = await runBin(['status', '--contxt', 'admin'], {NO_COLOR: '1'})
    expect(r.exitCode).to.equal(2)
    expect(r.stderr).to.equal('error: unknown flag --contxt\nnext: did you mean --context? (see `oc mob status --help`)')
  })
})
