/**
 * Diffs of objects as a person reviews them before --force: unified diffs of YAML, with secrets
 * reduced to the registries they hold credentials for (whether credentials changed is said, never
 * what they are).
 */
import {createTwoFilesPatch, FILE_HEADERS_ONLY} from 'diff'
import {stringify} from 'yaml'
import type {Secret} from '../kube/types.js'
import {type AuthMap, dockerSecretKey, parseDockerSecret} from '../registry/auth.js'
import {compareText} from '../order.js'

export const REDACTED = '(redacted)'

/** A unified diff between two texts; undefined when they are equal. */
export function unifiedDiff(
  name: string,
  before: string,
  after: string,
  labels: [string, string] = ['in the cluster', 'wanted'],
): string | undefined {
  if (before === after) return undefined
  const patch = createTwoFilesPatch(`${name} (${labels[0]})`, `${name} (${labels[1]})`, before, after, undefined, undefined, {
    context: 3,
    headerOptions: FILE_HEADERS_ONLY,
  })
  return patch.trimEnd()
}

export function yamlOf(value: unknown): string {
  return stringify(value, {lineWidth: 0})
}

/** A copy of a secret safe to print: every data value replaced. */
export function redactSecret(secret: Secret): Secret {
  const data = secret.data ? Object.fromEntries(Object.keys(secret.data).map((k) => [k, REDACTED])) : undefined
  const stringData = secret.stringData ? Object.fromEntries(Object.keys(secret.stringData).map((k) => [k, REDACTED])) : undefined
  const copy: Secret = {...secret, metadata: {...secret.metadata}}
  if (data) copy.data = data
  if (stringData) copy.stringData = stringData
  return copy
}

function authsOf(secret: Secret | undefined): AuthMap | undefined {
  if (!secret) return undefined
  try {
    return parseDockerSecret(secret).auths
  } catch {
    return undefined
  }
}

/**
 * What a docker config secret looks like to a reviewer: its type, the registries it has credentials
 * for, and (markChanged) which of them hold other credentials than in `other`. No value, no fingerprint.
 */
export function secretView(secret: Secret, other?: Secret, opts: {markChanged?: boolean} = {}): string {
  const key = dockerSecretKey(secret.type)
  const auths = authsOf(secret)
  const otherAuths = authsOf(other)
  const lines = [`type: ${secret.type ?? '(none)'}`]
  if (!key || !auths) {
    lines.push(
      `data keys: ${
        Object.keys(secret.data ?? {})
          .sort()
          .join(', ') || '(none)'
      }`,
    )
    if (other && JSON.stringify(secret.data ?? {}) !== JSON.stringify(other.data ?? {})) lines.push('data: differs')
    return lines.join('\n') + '\n'
  }

  lines.push('registries:')
  for (const host of Object.keys(auths).sort()) {
    const changed =
      opts.markChanged && otherAuths && otherAuths[host] !== undefined && JSON.stringify(otherAuths[host]) !== JSON.stringify(auths[host])
    lines.push(`  - ${host}${changed ? ' (credentials differ)' : ''}`)
  }

  return lines.join('\n') + '\n'
}

/** Whether two secrets carry the same type and data. */
export function sameSecretContent(a: Secret, b: Secret): boolean {
  return (a.type ?? '') === (b.type ?? '') && JSON.stringify(sortKeys(a.data ?? {})) === JSON.stringify(sortKeys(b.data ?? {}))
}

function sortKeys(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([x], [y]) => compareText(x, y)))
}
