import {expect} from 'chai'
import {notFound} from '../../src/hooks/command-not-found.js'
import {closest, usageError} from '../../src/lib/ui/suggest.js'

const IDS = [
  'build',
  'cleanup',
  'disable',
  'dockerfile',
  'enable',
  'logs',
  'machineconfig',
  'mc',
  'nodes add',
  'nodes remove',
  'rollback',
  'rollback node',
  'setup',
  'status',
]

describe('did you mean', () => {
  it('picks the closest word when a third of it at most is wrong, or a prefix', () => {
    expect(closest('stauts', IDS)).to.equal('status')
    expect(closest('rollbak', IDS)).to.equal('rollback')
    expect(closest('dock', IDS)).to.equal('dockerfile')
    expect(closest('frobnicate', IDS)).to.equal(undefined)
    expect(closest('--wat', ['--wait', '--timeout'])).to.equal('--wait')
  })

  it('an unknown command names the meant one; a flag before the command gives the command line in order', () => {
    expect(notFound('stauts', [], IDS)).to.deep.equal({
      message: 'unknown command "stauts"',
      next: 'did you mean `oc mob status`? (`oc mob --help` lists the commands)',
    })
    expect(notFound('nodes:ad', [], IDS).next).to.include('`oc mob nodes add`')
    expect(notFound('frobnicate', [], IDS)).to.deep.equal({
      message: 'unknown command "frobnicate"',
      next: '`oc mob --help` lists the commands',
    })
    expect(notFound('--context', ['admin', 'status', 'layering'], IDS)).to.deep.equal({
      message: 'flags go after the command: --context comes before "status"',
      next: 'oc mob status --context admin layering',
    })
    expect(notFound('--kubeconfig', ['k', 'nodes', 'add', 'p', 'n'], IDS).next).to.equal('oc mob nodes add --kubeconfig k p n')
    expect(notFound('--debug', [], IDS)).to.deep.equal({
      message: '--debug is a flag, and no command was given',
      next: 'give a command first (`oc mob --help` lists them), then its flags',
    })
  })

  it("a flag error says it once, without oclif's help line, and names the flag that was meant", () => {
    const parseError = Object.assign(new Error('Nonexistent flag: --contxt\nSee more help with --help'), {flags: ['--contxt']})
    expect(usageError(parseError, 'status', ['context', 'kubeconfig', 'output'])).to.deep.equal({
      message: 'unknown flag --contxt',
      next: 'did you mean --context? (see `oc mob status --help`)',
    })
    expect(
      usageError(new Error('Expected --output=xml to be one of: table, json, yaml\nSee more help with --help'), 'status', []),
    ).to.deep.equal({
      message: 'Expected --output=xml to be one of: table, json, yaml',
      next: 'see `oc mob status --help`',
    })
  })
})

describe('help text paragraphs', () => {
  it('joins wrapped lines of a paragraph, and keeps blank lines, list items and indented lines', async () => {
    const {unwrapParagraphs} = await import('../../src/help.js')
    expect(unwrapParagraphs('one\ntwo\n\nthree\n- a\n- b\n  indented\nfour')).to.equal('one two\n\nthree\n- a\n- b\n  indented\nfour')
  })
})
