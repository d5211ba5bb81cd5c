/**
 * Orders text by its UTF-16 code units: the order kubectl gives (Go compares bytes, and the names,
 * timestamps and keys sorted here are ASCII), the same on every machine.
 *
 * Not `localeCompare`: its order follows the user's locale, so a listing would differ between
 * workstations, and its first call in a process sets up ICU's collator, about 9 ms of every run.
 */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
