/**
 * Durations as people type them on the command line, like kubectl and oc: 90s, 10m, 1h30m, 500ms,
 * 1.5s; a bare number is seconds.
 */
import {ExitCode, MobError} from './errors.js'

const UNIT_MS: Record<string, number> = {h: 3_600_000, m: 60_000, ms: 1, s: 1000}

/** Milliseconds in `text`; a usage error (exit 2) when it is not a duration. */
export function parseDuration(text: string): number {
  const t = text.trim()
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000)
  let total = 0
  let consumed = 0
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
    total += Number(m[1]) * UNIT_MS[m[2]]
    consumed += m[0].length
  }

  if (consumed !== t.length || consumed === 0) {
    throw new MobError(`"${text}" is not a duration`, {exitCode: ExitCode.Usage, next: 'use for example 90s, 10m or 1h30m'})
  }

  return Math.round(total)
}

/** A duration for messages: 500ms, 15s, 2m, 1m30s. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s}s`
  return s % 60 === 0 ? `${s / 60}m` : `${Math.floor(s / 60)}m${s % 60}s`
}
