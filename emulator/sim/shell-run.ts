// What a scripted build prints and returns for one Dockerfile `RUN` step, so that scripted builds
// succeed or fail the way a real one would for the simple steps the demo and the tests use: `echo`
// (its words on the log unless redirected), `exit N`, `true`, `false` and `:`, joined by `&&`, `||`
// and `;`. Any other command is taken to succeed silently (a scripted build has no root file system).

/** A shell-form command line split into lists of words and the operators between them. */
interface Chain {
  commands: string[][]
  /** operators[i] joins commands[i] and commands[i + 1]. */
  operators: Array<'&&' | '||' | ';'>
}

function parse(line: string): Chain {
  const commands: string[][] = [[]]
  const operators: Chain['operators'] = []
  let word = ''
  let inWord = false
  let quote: '"' | "'" | undefined
  const endWord = (): void => {
    if (inWord) commands[commands.length - 1].push(word)
    word = ''
    inWord = false
  }

  for (let i = 0; i < line.length; i++) {
    const c = line[i]
    if (quote) {
      if (c === quote) quote = undefined
      else if (c === '\\' && quote === '"' && i + 1 < line.length) word += line[++i]
      else word += c
      continue
    }

    if (c === '"' || c === "'") {
      quote = c
      inWord = true
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i]
      inWord = true
    } else if (/\s/.test(c)) endWord()
    else if ((c === '&' || c === '|') && line[i + 1] === c) {
      endWord()
      operators.push(c === '&' ? '&&' : '||')
      commands.push([])
      i++
    } else if (c === ';') {
      endWord()
      operators.push(';')
      commands.push([])
    } else {
      word += c
      inWord = true
    }
  }

  endWord()
  return {commands, operators}
}

/** Runs one simple command: its output lines, its status, and whether it ends the shell (`exit`). */
function simple(words: string[]): {exit?: boolean; output: string[]; status: number} {
  const redirected = words.findIndex((w) => /^\d?>>?/.test(w))
  const args = redirected === -1 ? words : words.slice(0, redirected)
  const [cmd, ...rest] = args
  switch (cmd) {
    case undefined:
    case ':':
    case 'true': {
      return {output: [], status: 0}
    }

    case 'false': {
      return {output: [], status: 1}
    }

    case 'echo': {
      return {output: redirected === -1 ? [rest.join(' ')] : [], status: 0}
    }

    case 'exit': {
      const n = Number(rest[0] ?? 0)
      return {exit: true, output: [], status: Number.isInteger(n) ? n & 0xff : 2}
    }

    default: {
      return {output: [], status: 0}
    }
  }
}

/** The log lines and exit status of `/bin/sh -c LINE` as far as the commands above go. */
export function scriptedShell(line: string): {exitCode: number; output: string[]} {
  const {commands, operators} = parse(line)
  const output: string[] = []
  let status = 0
  for (let i = 0; i < commands.length; i++) {
    const op = i === 0 ? ';' : operators[i - 1]
    if ((op === '&&' && status !== 0) || (op === '||' && status === 0)) continue
    const r = simple(commands[i])
    output.push(...r.output)
    status = r.status
    if (r.exit) break
  }

  return {exitCode: status, output}
}

/** The shell command of a Dockerfile instruction if it is a shell-form `RUN` (flags such as --mount skipped). */
export function runCommandOf(instruction: string): string | undefined {
  const m = /^RUN\s+((?:--\S+\s+)*)(.*)$/is.exec(instruction)
  if (!m || m[2].trimStart().startsWith('[')) return undefined
  return m[2]
}
