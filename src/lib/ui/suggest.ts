/** "Did you mean": the known word closest to a mistyped one, when it is close enough to be meant. */
import {distance} from 'fastest-levenshtein'

export function closest(word: string, known: Iterable<string>): string | undefined {
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  for (const candidate of known) {
    const d = candidate.startsWith(word) && word.length >= 2 ? 0.5 : distance(word, candidate)
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }

  // A third of the word may be wrong (one typo in a short word): more is a different word.
  return bestDistance <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined
}

/**
 * A flag-parsing error of oclif's as `error:` and `next:`: without oclif's own "See more help" line
 * (the next step says it), and with the flag that was meant for an unknown one.
 */
export function usageError(err: Error & {flags?: unknown}, command: string, flagNames: Iterable<string>): {message: string; next: string} {
  const message = err.message.replace(/\n*See more help with --help\s*$/, '')
  const help = `see \`oc mob ${command} --help\``
  const unknown = Array.isArray(err.flags) ? err.flags.filter((f): f is string => typeof f === 'string') : []
  if (unknown.length === 0) return {message, next: help}
  const known = [...flagNames].map((n) => `--${n}`)
  const meant = unknown.map((f) => [f, closest(f.split('=')[0], known)] as const).filter(([, m]) => m !== undefined)
  return {
    message: `unknown flag${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')}`,
    next: meant.length > 0 ? `did you mean ${meant.map(([, m]) => m).join(', ')}? (${help})` : help,
  }
}
