import {expect} from 'chai'
import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

function files(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), {recursive: true, withFileTypes: true})
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)))
}

describe('the shape of the house (ARCHITECTURE.md)', () => {
  it('keeps every command thin: at most 100 lines, the screen text in src/views', () => {
    const long = files('src/commands')
      .map((f) => ({f, lines: readFileSync(path.join(ROOT, f), 'utf8').split('\n').length - 1}))
      .filter((x) => x.lines > 100)
    expect(long, 'move screen text to src/views and behaviour to src/lib').to.deep.equal([])
  })

  it('keeps the emulator out of the CLI: nothing under src imports emulator/ or test/', () => {
    const offenders = files('src').filter((f) => /from '(?:\.\.\/)+(?:emulator|test)\//.test(readFileSync(path.join(ROOT, f), 'utf8')))
    expect(offenders).to.deep.equal([])
  })

  it('starts every end-to-end cluster through test/e2e/harness.ts, so every write oc-mob makes is re-checked as a strict dry run', () => {
    const direct = files('test/e2e')
      .filter((f) => !f.endsWith('harness.ts'))
      .filter((f) =>
        /import \{[^}]*\bstart(?:Emulator|Cluster)\b[^}]*\} from '\.\.\/\.\.\/emulator\//.test(readFileSync(path.join(ROOT, f), 'utf8')),
      )
    expect(direct, 'import startEmulator/startCluster from ./harness.js').to.deep.equal([])
  })

  it("sorts text with lib/order.ts's compareText, never by the locale: the same order on every machine, and no ICU collator set up on every run", () => {
    const localeSorts = files('src').filter((f) => /\.localeCompare\(|Intl\.Collator/.test(readFileSync(path.join(ROOT, f), 'utf8')))
    expect(localeSorts).to.deep.equal([])
  })
})

describe('arguments come from the command line only', () => {
  it('no command reads a missing argument from standard input (oclif does unless told not to)', async () => {
    const {COMMANDS} = await import('../../src/index.js')
    const readsStdin = Object.entries(COMMANDS).flatMap(([id, cmd]) =>
      Object.entries(cmd.args ?? {})
        .filter(([, arg]) => !arg.ignoreStdin)
        .map(([name]) => `${id} ${name.toUpperCase()}`),
    )
    // `oc get ... | oc mob status` or a `while read` loop would otherwise hand its input to the command as a pool name.
    expect(readsStdin).to.deep.equal([])
  })
})
