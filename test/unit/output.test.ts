import {expect} from 'chai'
import {formatData, loadYamlWriter, shortDigest, table} from '../../src/lib/ui/output.js'
import {detectTerm} from '../../src/lib/ui/term.js'

describe('output', () => {
  it('aligns table columns and shows "-" for empty cells', () => {
    const t = table(
      [
        {a: 'x', b: ''},
        {a: 'longer', b: 'y'},
      ],
      [
        {get: (r) => r.a, header: 'A'},
        {get: (r) => r.b, header: 'B'},
      ],
    )
    expect(t.split('\n')).to.deep.equal(['A        B', 'x        -', 'longer   y'])
  })

  it('prints JSON and YAML', async () => {
    expect(JSON.parse(formatData({a: [1]}, 'json'))).to.deep.equal({a: [1]})
    await loadYamlWriter()
    expect(formatData({a: [1]}, 'yaml')).to.equal('a:\n  - 1')
  })

  it('shortens digests only when they are digests', () => {
    const d = 'quay.io/x/y@sha256:' + 'a'.repeat(64)
    expect(shortDigest(d)).to.equal('quay.io/x/y@sha256:aaaaaaaaaaaa')
    expect(shortDigest('quay.io/x/y:tag')).to.equal('quay.io/x/y:tag')
    expect(shortDigest(null)).to.equal('')
  })

  it('uses no colour or spinner when NO_COLOR is set, output is not a terminal, or the output is JSON', () => {
    const tty = {isTTY: true}
    expect(detectTerm({env: {NO_COLOR: '1'}, stderr: tty, stdin: tty, stdout: tty})).to.include({interactive: false})
    expect(detectTerm({env: {NO_COLOR: '1'}, stderr: tty, stdin: tty, stdout: tty}).out.level).to.equal(0)
    expect(detectTerm({env: {}, stderr: {isTTY: false}, stdin: tty, stdout: {isTTY: false}}).out.level).to.equal(0)
    expect(detectTerm({env: {}, output: 'json', stderr: tty, stdin: tty, stdout: tty}).out.level).to.equal(0)
    const person = detectTerm({env: {}, stderr: tty, stdin: tty, stdout: tty})
    expect(person.out.level).to.be.greaterThan(0)
    expect(person.interactive).to.equal(true)
    expect(person.canPrompt).to.equal(true)
  })
})
