/**
 * oc-mob on a real pseudo-terminal, for what only happens at a terminal (prompts, spinners, Ctrl-C).
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {cliPath, ROOT} from './harness.js'

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences start with the ESC control character
const ANSI = /\u001B\[[0-9;?]*[ -/]*[@-~]|\u001B\][^\u0007]*\u0007|\u001B[()][0-9A-Z]|\u001B[=>78]|\r/g

// biome-ignore lint/suspicious/noControlCharactersInRegex: what a terminal draws is made of control characters
const TOKENS = /\u001B\[[0-9;?]*[ -/]*[@-~]|\u001B\][^\u0007]*\u0007|\u001B[()][0-9A-Z]|\u001B[=>78]|\r|\n|[^\u001B\r\n]/gu

const quote = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`

/**
 * oc-mob on a real pseudo-terminal (util-linux `script`): what it prints is read back without
 * colours and cursor movement, and answers are typed as keys once the question is on screen.
 */
export class Terminal {
  private raw = ''
  private mark = 0
  readonly exited: Promise<number>
  private readonly child: ChildProcess

  constructor(args: string[], env: Record<string, string | undefined> = {}) {
    const cmd = `stty cols 200 rows 60; exec ${[process.execPath, cliPath(), ...args].map(quote).join(' ')}`
    this.child = spawn('script', ['-qfec', cmd, '/dev/null'], {
      cwd: ROOT,
      env: {...process.env, CI: undefined, FORCE_COLOR: undefined, NO_COLOR: undefined, TERM: 'xterm-256color', ...env},
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    this.child.stdout!.on('data', (d: Buffer) => {
      this.raw += d.toString('utf8')
    })
    this.child.stderr!.on('data', (d: Buffer) => {
      this.raw += d.toString('utf8')
    })
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code) => resolve(code ?? 1))
    })
  }

  get text(): string {
    return this.raw.replace(ANSI, '')
  }

  /**
   * What the terminal shows once everything is drawn: carriage returns, cursor-to-column and
   * erase-in-line applied to each line (a spinner's frames overwritten, as on screen); other escape
   * sequences dropped. Lines that scrolled away are kept.
   */
  get screen(): string {
    const out: string[] = []
    let line: string[] = []
    let col = 0
    const tokens = this.raw.match(TOKENS) ?? []
    for (const t of tokens) {
      if (t === '\n') {
        out.push(line.join('').trimEnd())
        line = []
        col = 0
      } else if (t === '\r') {
        col = 0
      } else if (t.startsWith('\u001B[')) {
        const m = /^.\[(\d*)([GK])$/.exec(t)
        if (m?.[2] === 'G') col = Math.max(0, Number(m[1] || 1) - 1)
        else if (m?.[2] === 'K') line = m[1] === '2' ? [] : m[1] === '1' ? line.map((c, i) => (i <= col ? ' ' : c)) : line.slice(0, col)
      } else if (!t.startsWith('\u001B')) {
        while (line.length < col) line.push(' ')
        line[col++] = t
      }
    }

    if (line.length > 0) out.push(line.join('').trimEnd())
    return out.join('\n')
  }

  /** Wait until `what` appears after everything matched so far. */
  async see(what: RegExp | string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const text = this.text
      const rest = text.slice(this.mark)
      const at = typeof what === 'string' ? rest.indexOf(what) : rest.search(what)
      if (at >= 0) {
        const len = typeof what === 'string' ? what.length : (rest.match(what)?.[0].length ?? 0)
        this.mark += at + len
        return
      }

      if (Date.now() > deadline || this.child.exitCode !== null) {
        throw new Error(`did not see ${what} on the terminal; it shows:\n${text.slice(-3000)}`)
      }

      await new Promise((r) => setTimeout(r, 30))
    }
  }

  async answer(question: RegExp | string, keys: string): Promise<void> {
    await this.see(question)
    // Let the prompt finish drawing before typing.
    await new Promise((r) => setTimeout(r, 150))
    this.child.stdin!.write(keys)
  }

  /** Type keys now (Ctrl-C is '\u0003': the terminal turns it into SIGINT, as for a person). */
  press(keys: string): void {
    this.child.stdin!.write(keys)
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL')
  }
}
