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

describe('help of the shipped CLI fits the terminal', function () {
  this.timeout(180_000)

  it('joins each description paragraph and wraps it at the width asked for; usage is the command, its arguments and [FLAGS]', async () => {
    const wide = await runBin(['build', '--help'], {NO_COLOR: '1', OCLIF_COLUMNS: '160'})
    expect(wide.exitCode, wide.stderr).to.equal(0)
    expect(wide.stdout).to.include('USAGE\n  $ oc-mob build POOL [FLAGS]\n')
    expect(wide.stdout).to.not.match(/\| ]|buildah\|podman ]/)
    // The first paragraph of the description, 88 characters, on one line; the next one runs past 100 columns.
    expect(wide.stdout).to.include("\n  Build the OS image for a pool's current rendered config, and follow the build to its end.\n")
    const lines = wide.stdout.split('\n')
    expect(Math.max(...lines.map((l) => l.length))).to.be.within(101, 160)
    // The summary is the first line, not repeated in the description.
    expect(wide.stdout.split('Build the OS image of a pool now, and follow it.').length - 1).to.equal(1)

    const piped = await runBin(['build', '--help'], {NO_COLOR: '1'})
    expect(Math.max(...piped.stdout.split('\n').map((l) => l.length))).to.be.at.most(80)
    expect(piped.stdout).to.include('$ oc-mob build POOL [FLAGS]')
  })

  it('a command that takes several values marks only its last argument with "..."', async () => {
    const r = await runBin(['nodes', 'add', '--help'], {NO_COLOR: '1'})
    expect(r.stdout).to.include('$ oc-mob nodes add POOL NODES... [FLAGS]')
    expect(r.stdout).to.match(/\n {2}POOL {6}The pool the nodes join\.\n {2}NODES\.\.\. {2}Names of the nodes/)
  })
})
