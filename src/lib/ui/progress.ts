import type {Term} from './term.js'

export interface Progress {
  /** Set the current phase; on a terminal the spinner text changes, otherwise a line is printed. */
  update(text: string): void
  /** Print a line above the spinner (it keeps spinning). */
  log(text: string): void
  succeed(text: string): void
  fail(text: string): void
  /** Stop without a final line. */
  stop(): void
}

function elapsed(start: number): string {
  const s = Math.floor((Date.now() - start) / 1000)
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
}

export async function startProgress(term: Term, text: string, stream: NodeJS.WriteStream = process.stderr): Promise<Progress> {
  const start = Date.now()
  if (!term.interactive) {
    let last = ''
    const line = (t: string): void => {
      stream.write(`${t}\n`)
    }

    const update = (t: string): void => {
      if (t !== last) line(t)
      last = t
    }

    update(text)
    return {
      fail: (t) => line(`${term.err.red('✖')} ${t}`),
      log: line,
      stop() {},
      succeed: (t) => line(`${term.err.green('✔')} ${t}`),
      update,
    }
  }

  const {default: ora} = await import('ora')
  let current = text
  // discardStdin off: ora would put the terminal in raw mode, and then Ctrl-C is a byte on stdin
  // that nothing reads instead of a SIGINT. In cooked mode the terminal itself sends SIGINT, which
  // the base command turns into a prompt, clean stop (exit 130) however busy the command is.
  const spinner = ora({discardStdin: false, stream, text: `${current} (${elapsed(start)})`}).start()
  const timer = setInterval(() => {
    spinner.text = `${current} (${elapsed(start)})`
  }, 1000)
  timer.unref()
  const end = (): void => clearInterval(timer)
  return {
    fail(t) {
      end()
      spinner.fail(`${t} (${elapsed(start)})`)
    },
    log(t) {
      spinner.clear()
      stream.write(`${t}\n`)
      spinner.render()
    },
    stop() {
      end()
      spinner.stop()
    },
    succeed(t) {
      end()
      spinner.succeed(`${t} (${elapsed(start)})`)
    },
    update(t) {
      current = t
      spinner.text = `${current} (${elapsed(start)})`
    },
  }
}
