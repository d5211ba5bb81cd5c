// Authentication (bearer tokens, client certificates) and an RBAC-like authoriser for restricted users.
import {randomBytes} from 'node:crypto'
import type {IncomingMessage} from 'node:http'
import type {TLSSocket} from 'node:tls'

export interface Rule {
  verbs: string[]
  resources: string[]
  apiGroups?: string[]
  namespaces?: string[]
}

export interface Identity {
  user: string
  groups: string[]
  /** undefined: unrestricted (cluster-admin) */
  rules?: Rule[]
}

export interface Attributes {
  verb: string
  group: string
  resource: string
  subresource?: string
  namespace?: string
  name?: string
}

const DEVELOPER_RULES: Rule[] = [{verbs: ['get', 'list', 'watch'], resources: ['*'], apiGroups: ['*']}]

export class Authenticator {
  readonly tokens: Record<string, string> = {}
  private byToken = new Map<string, Identity>()
  private restricted = new Map<string, Rule[]>()

  constructor(restricted: Array<{user: string; token: string; rules: Rule[]}>) {
    this.add({user: 'admin', groups: ['system:masters', 'system:authenticated']}, token())
    const dev = restricted.find((r) => r.user === 'developer')
    this.add({user: 'developer', groups: ['system:authenticated'], rules: dev?.rules ?? DEVELOPER_RULES}, dev?.token ?? token())
    // "restricted": authenticated, bound to no role (only discovery and its own access reviews)
    const bare = restricted.find((r) => r.user === 'restricted')
    this.add({user: 'restricted', groups: ['system:authenticated'], rules: bare?.rules ?? []}, bare?.token ?? token())
    for (const r of restricted) {
      if (r.user === 'developer' || r.user === 'restricted') continue
      this.add({user: r.user, groups: ['system:authenticated'], rules: r.rules}, r.token)
    }
  }

  private add(id: Identity, tok: string) {
    this.tokens[id.user] = tok
    this.byToken.set(tok, id)
    if (id.rules) this.restricted.set(id.user, id.rules)
  }

  /** undefined: no credentials; null: credentials presented but invalid */
  authenticate(req: IncomingMessage): Identity | undefined | null {
    const h = req.headers.authorization
    if (h) {
      const m = /^Bearer\s+(.+)$/i.exec(h.trim())
      if (!m) return null
      return this.byToken.get(m[1].trim()) ?? null
    }
    const sock = req.socket as TLSSocket
    if (typeof sock.getPeerCertificate === 'function' && sock.authorized) {
      const cert = sock.getPeerCertificate()
      const cn = cert?.subject?.CN
      if (cn) {
        const o = cert.subject.O
        const groups = Array.isArray(o) ? [...o] : o ? [o] : []
        groups.push('system:authenticated')
        const user = Array.isArray(cn) ? cn[0] : cn
        const unrestricted = user === 'admin' || groups.includes('system:masters')
        return {user, groups, rules: unrestricted ? undefined : (this.restricted.get(user) ?? [])}
      }
    }
    return undefined
  }
}

function token(): string {
  return `sha256~${randomBytes(24).toString('base64url')}`
}

const matches = (list: string[] | undefined, v: string) => !list || list.includes('*') || list.includes(v)

export function authorize(id: Identity, a: Attributes): boolean {
  if (!id.rules) return true
  // every authenticated user may review its own access (system:basic-user)
  if (a.group === 'authorization.k8s.io' && a.resource === 'selfsubjectaccessreviews') return true
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource
  return id.rules.some((r) => {
    if (!matches(r.verbs, a.verb)) return false
    if (!matches(r.apiGroups, a.group)) return false
    const resOk = r.resources.some((x) => x === '*' || x === combined || (a.subresource && x === `*/${a.subresource}`))
    if (!resOk) return false
    if (r.namespaces && r.namespaces.length > 0) {
      if (!a.namespace) return false
      if (!r.namespaces.includes('*') && !r.namespaces.includes(a.namespace)) return false
    }
    return true
  })
}
