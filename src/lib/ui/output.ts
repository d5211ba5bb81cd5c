/**
 * Rendering results: aligned tables for people, JSON and YAML for scripts.
 */
import type {OutputFormat} from './term.js'

export interface Column<T> {
  header: string
  get: (row: T) => string
  /** Colour for the cell, applied after padding so alignment is kept. */
  paint?: (text: string, row: T) => string
}

/** kubectl-style table: upper-case headers, columns separated by three spaces, no borders. */
export function table<T>(rows: T[], columns: Array<Column<T>>): string {
  const cells = rows.map((r) => columns.map((c) => c.get(r) || '-'))
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i].length)))
  const line = (values: string[], paint?: (text: string, col: number) => string): string =>
    values
      .map((v, i) => {
        const padded = i === values.length - 1 ? v : v.padEnd(widths[i])
        return paint ? paint(padded, i) : padded
      })
      .join('   ')
      .trimEnd()
  const out = [line(columns.map((c) => c.header))]
  for (const [ri, row] of cells.entries()) {
    out.push(line(row, (text, ci) => columns[ci].paint?.(text, rows[ri]) ?? text))
  }

  return out.join('\n')
}

type Stringify = (value: unknown, options: {lineWidth: number}) => string
let toYaml: Stringify | undefined

/** The YAML writer is loaded only when -o yaml asks for it (see BaseCommand.init), not on every start. */
export async function loadYamlWriter(): Promise<void> {
  // A bundle may hand the CommonJS build of yaml over as its default export.
  const mod = (await import('yaml')) as {stringify?: Stringify; default?: {stringify: Stringify}}
  toYaml ??= mod.stringify ?? mod.default!.stringify
}

export function formatData(data: unknown, format: Exclude<OutputFormat, 'table'>): string {
  if (format === 'json') return JSON.stringify(data, null, 2)
  if (!toYaml) throw new Error('loadYamlWriter() must run before YAML output')
  return toYaml(data, {lineWidth: 0}).trimEnd()
}

/** `repo@sha256:0123456789ab…` → short form for tables; full values stay in -o json|yaml. */
export function shortDigest(ref: string | null | undefined, hexChars = 12): string {
  if (!ref) return ''
  const m = /^(.*@sha256:)([0-9a-f]{64})$/.exec(ref)
  return m ? `${m[1]}${m[2].slice(0, hexChars)}` : ref
}

/** "1 line", "2 lines": the lines of a text, a final newline not counted as the start of another. */
export function lineCount(text: string): string {
  const n = text === '' ? 0 : text.replace(/\n$/, '').split('\n').length
  return `${n} line${n === 1 ? '' : 's'}`
}

/**
 * An image reference short enough for a table: the repository's last path component and the first
 * hex digits of the digest (`os-image@sha256:0123456789ab`); `-o wide` shows it whole.
 */
export function compactImage(ref: string | null | undefined): string {
  if (!ref) return ''
  const short = shortDigest(ref)
  const at = short.indexOf('@')
  const name = at >= 0 ? short.slice(0, at) : short
  return name.slice(name.lastIndexOf('/') + 1) + (at >= 0 ? short.slice(at) : '')
}

/**
 * Write to stdout; when its buffer is full (a pipe read slowly), the returned promise settles once it
 * drains, so the log is read from the cluster no faster than it is consumed and memory stays flat.
 */
export function writeOut(text: string, signal: AbortSignal): Promise<void> | undefined {
  if (signal.aborted) return undefined
  if (process.stdout.write(text)) return undefined
  return new Promise((resolve) => {
    const done = (): void => {
      process.stdout.removeListener('drain', done)
      process.stdout.removeListener('close', done)
      process.stdout.removeListener('error', done)
      signal.removeEventListener('abort', done)
      resolve()
    }

    process.stdout.once('drain', done)
    process.stdout.once('close', done)
    process.stdout.once('error', done)
    signal.addEventListener('abort', done, {once: true})
  })
}
