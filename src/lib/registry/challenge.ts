/**
 * The pure parts of a Docker Registry v2 login: the `WWW-Authenticate` challenge a registry answers
 * /v2/ with, the scope strings a token is asked for, the error codes of its JSON answers, and the
 * expiry of a JWT (service-account tokens, registry tokens) without ever showing the token.
 */

export interface Challenge {
  /** Lower case: `bearer` or `basic` (others are kept as they come). */
  scheme: string
  /** Parameter names lower case: realm, service, scope, error... */
  params: Record<string, string>
}

/**
 * Parses a `WWW-Authenticate` header (RFC 7235): one or more challenges, each a scheme followed by
 * comma-separated `name=value` or `name="quoted, value"` parameters.
 */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  const text = Array.isArray(header) ? header.join(', ') : (header ?? '')
  const out: Challenge[] = []
  let i = 0
  const skip = (re: RegExp): void => {
    while (i < text.length && re.test(text[i])) i++
  }

  while (i < text.length) {
    skip(/[\s,]/)
    const scheme = /^[!#$%&'*+.^_`|~\w-]+/.exec(text.slice(i))?.[0]
    if (!scheme) break
    i += scheme.length
    const challenge: Challenge = {params: {}, scheme: scheme.toLowerCase()}
    out.push(challenge)
    for (;;) {
      const save = i
      skip(/[\s,]/)
      const m = /^([!#$%&'*+.^_`|~\w-]+)\s*=\s*/.exec(text.slice(i))
      if (!m) {
        i = save
        break
      }

      i += m[0].length
      let value = ''
      if (text[i] === '"') {
        i++
        while (i < text.length && text[i] !== '"') {
          if (text[i] === '\\' && i + 1 < text.length) i++
          value += text[i++]
        }

        i++
      } else {
        const v = /^[^\s,]*/.exec(text.slice(i))![0]
        value = v
        i += v.length
      }

      challenge.params[m[1].toLowerCase()] = value
    }
  }

  return out
}

export type Action = 'delete' | 'pull' | 'push'

/** `repository:NAME:pull,push` as token services take it. */
export function scopeFor(repository: string, actions: Action[]): string {
  return `repository:${repository}:${actions.join(',')}`
}

/** The token endpoint's URL for a Bearer challenge and a scope. */
export function tokenUrl(challenge: Challenge, scope?: string): string {
  const url = new URL(challenge.params.realm)
  if (challenge.params.service) url.searchParams.set('service', challenge.params.service)
  if (scope) url.searchParams.set('scope', scope)
  return url.toString()
}

/** `UNAUTHORIZED: authentication required` from a registry's JSON error body, or undefined. */
export function registryErrorText(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as {errors?: Array<{code?: string; message?: string}>; details?: string; error?: string}
    if (Array.isArray(parsed.errors) && parsed.errors.length > 0) {
      return parsed.errors.map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ')
    }

    if (typeof parsed.error === 'string') return parsed.error + (typeof parsed.details === 'string' ? `: ${parsed.details}` : '')
    if (typeof parsed.details === 'string') return parsed.details
  } catch {
    // not JSON
  }

  return undefined
}

/** The first error code of a registry's JSON error body (e.g. MANIFEST_UNKNOWN), or undefined. */
export function registryErrorCode(body: string): string | undefined {
  try {
    return (JSON.parse(body) as {errors?: Array<{code?: string}>}).errors?.[0]?.code
  } catch {
    return undefined
  }
}

/** The claims of a JWT (its middle part), or undefined when `token` is not one. The signature is not checked. */
export function jwtClaims(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.')
  if (parts.length !== 3 || !parts[0].startsWith('eyJ')) return undefined
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as unknown
    return claims && typeof claims === 'object' && !Array.isArray(claims) ? (claims as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

export interface TokenExpiry {
  /** Not a JWT: nothing can be told. */
  jwt: boolean
  /** When it expires (ISO 8601), undefined for a JWT without `exp`. */
  expires?: string
  /** Seconds left (negative once expired). */
  secondsLeft?: number
  /** `system:serviceaccount:NS:NAME` for service-account tokens. */
  subject?: string
}

export function tokenExpiry(token: string, now = Date.now()): TokenExpiry {
  const claims = jwtClaims(token)
  if (!claims) return {jwt: false}
  const subject = typeof claims.sub === 'string' ? claims.sub : undefined
  if (typeof claims.exp !== 'number') return {jwt: true, subject}
  return {expires: new Date(claims.exp * 1000).toISOString(), jwt: true, secondsLeft: Math.floor(claims.exp - now / 1000), subject}
}

/** `3h 12m`, `2d 4h`, `45s`: a duration for people. */
export function humanDuration(seconds: number): string {
  const s = Math.abs(Math.floor(seconds))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m`
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`
}
