// An in-process stand-in for a Docker Registry v2 (distribution spec) with its token service, on
// 127.0.0.1, for the credential checks of `oc mob doctor`. It speaks the parts of the protocol a login
// and the checks use, the way distribution and its token servers answer them:
//
// - GET /v2/ answers 401 with a `Bearer realm=".../token",service="..."` challenge (or, in basic mode,
//   `Basic realm="..."`), and 200 to a valid Authorization;
// - GET /token?service=&scope=repository:NAME:pull,push checks HTTP Basic credentials (a user's
//   password, or a service-account-style JWT as the password, refused once its `exp` has passed) and
//   grants the asked actions the user is allowed, like docker's token servers (never more);
// - manifests (HEAD/GET), tags/list, blob upload sessions (POST, DELETE to cancel), manifest DELETE
//   (405 UNSUPPORTED when deletes are disabled; otherwise 202 and the image is gone when it exists,
//   404 MANIFEST_UNKNOWN when not), with 401 `error="insufficient_scope"` when the token lacks the action;
// - optionally HTTPS with a given certificate, and a mode that accepts connections and never answers.
//
// Nothing is stored: it knows the images it was started with or was told of (addImage), forgets the
// ones deleted, and records every request it served.
import {randomBytes, randomUUID} from 'node:crypto'
import http from 'node:http'
import https from 'node:https'
import type {AddressInfo} from 'node:net'

type Action = 'delete' | 'pull' | 'push'

interface TokenRegistryUser {
  password: string
  /** Actions granted on every repository (default pull, push). */
  actions?: Action[]
}

export interface TokenRegistryOptions {
  /** user name -> password and rights. */
  users?: Record<string, TokenRegistryUser>
  /** Accept a JWT as the Basic password of any user name (as OpenShift's registry takes service-account tokens), with these rights. */
  jwtActions?: Action[]
  /** `bearer` (default): a token service; `basic`: HTTP Basic on every request. */
  auth?: 'basic' | 'bearer'
  /** Manifest deletes enabled (default true); false answers 405 UNSUPPORTED as distribution does. */
  deletes?: boolean
  /** repository -> tags and digests that exist. */
  images?: Record<string, string[]>
  /** Serve HTTPS with this certificate (PEM). */
  tls?: {certPem: string; keyPem: string}
  /** Seconds a token lives (default 300). */
  tokenTtl?: number
}

interface ServedRequest {
  method: string
  path: string
  /** Whether an Authorization header came with it (never its value). */
  authorized: boolean
}

export interface TokenRegistry {
  /** `127.0.0.1:PORT` */
  host: string
  url: string
  requests: ServedRequest[]
  /** Upload sessions opened and not cancelled. */
  openUploads(): string[]
  /** Makes a tag or digest of a repository exist (as if pushed). */
  addImage(repository: string, reference: string): void
  /** Whether a tag or digest of a repository exists. */
  hasImage(repository: string, reference: string): boolean
  /** Turns manifest deletes on or off (off: 405 UNSUPPORTED, as distribution with deletes disabled). */
  setDeletes(enabled: boolean): void
  stop(): Promise<void>
}

interface Grant {
  user: string
  repository: string
  actions: Set<Action>
  expires: number
}

function jwtExp(token: string): number | undefined {
  const parts = token.split('.')
  if (parts.length !== 3) return undefined
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as {exp?: number}
    return typeof claims.exp === 'number' ? claims.exp : Number.POSITIVE_INFINITY
  } catch {
    return undefined
  }
}

function errorBody(code: string, message: string): string {
  return JSON.stringify({errors: [{code, detail: null, message}]})
}

export async function startTokenRegistry(opts: TokenRegistryOptions = {}): Promise<TokenRegistry> {
  const requests: ServedRequest[] = []
  const uploads = new Set<string>()
  const grants = new Map<string, Grant[]>()
  const mode = opts.auth ?? 'bearer'
  let deletes = opts.deletes ?? true
  const images: Record<string, string[]> = Object.fromEntries(Object.entries(opts.images ?? {}).map(([k, v]) => [k, [...v]]))
  const service = 'oc-mob-token-registry'
  let origin = ''

  /** The actions a Basic Authorization header gives, or undefined when it is refused. */
  const basicRights = (header: string | undefined): {user: string; actions: Action[]} | undefined => {
    const m = /^Basic (.+)$/i.exec(header ?? '')
    if (!m) return undefined
    const decoded = Buffer.from(m[1], 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    const [user, password] = [decoded.slice(0, colon), decoded.slice(colon + 1)]
    const known = opts.users?.[user]
    if (known && known.password === password) return {actions: known.actions ?? ['pull', 'push'], user}
    if (opts.jwtActions) {
      const exp = jwtExp(password)
      if (exp !== undefined && exp * 1000 > Date.now()) return {actions: opts.jwtActions, user}
    }

    return undefined
  }

  const challenge = (scope?: string, error?: string): string =>
    mode === 'basic'
      ? `Basic realm="${service}"`
      : `Bearer realm="${origin}/token",service="${service}"${scope ? `,scope="${scope}"` : ''}${error ? `,error="${error}"` : ''}`

  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const url = new URL(req.url ?? '/', origin)
    requests.push({authorized: Boolean(req.headers.authorization), method: req.method ?? 'GET', path: url.pathname})
    const send = (status: number, body = '', headers: Record<string, string> = {}): void => {
      res.writeHead(status, {'Content-Type': 'application/json', 'Docker-Distribution-Api-Version': 'registry/2.0', ...headers})
      res.end(req.method === 'HEAD' ? undefined : body)
    }

    req.resume()
    if (url.pathname === '/token' && mode === 'bearer') {
      const rights = basicRights(req.headers.authorization)
      if (req.headers.authorization && !rights) return send(401, JSON.stringify({details: 'incorrect username or password'}))
      const scope = url.searchParams.get('scope') ?? ''
      const m = /^repository:([^:]+):([a-z,*]+)$/.exec(scope)
      const asked = m ? (m[2].split(',') as Action[]) : []
      const granted = new Set(asked.filter((a) => rights?.actions.includes(a)))
      const token = randomBytes(24).toString('base64url')
      const ttl = opts.tokenTtl ?? 300
      grants.set(token, [{actions: granted, expires: Date.now() + ttl * 1000, repository: m?.[1] ?? '', user: rights?.user ?? ''}])
      return send(200, JSON.stringify({access_token: token, expires_in: ttl, issued_at: new Date().toISOString(), token}))
    }

    if (!url.pathname.startsWith('/v2/')) return send(404, errorBody('NOT_FOUND', 'not found'))
    const route = /^\/v2\/(.+)\/(manifests\/[^/]+|tags\/list|blobs\/uploads\/[^/]*)$/.exec(url.pathname)
    const repository = route?.[1] ?? ''
    const need: Action | undefined = !route
      ? undefined
      : req.method === 'DELETE' && route[2].startsWith('manifests/')
        ? 'delete'
        : route[2].startsWith('blobs/uploads')
          ? 'push'
          : 'pull'
    const allowed = (): boolean => {
      const auth = req.headers.authorization ?? ''
      if (mode === 'basic') {
        const rights = basicRights(auth)
        return Boolean(rights) && (!need || rights!.actions.includes(need))
      }

      const bearer = /^Bearer (.+)$/i.exec(auth)?.[1]
      const grant = bearer ? grants.get(bearer)?.[0] : undefined
      if (!grant || grant.expires < Date.now()) return false
      return !need || (grant.repository === repository && grant.actions.has(need))
    }

    if (url.pathname === '/v2/') {
      return allowed()
        ? send(200, '{}')
        : send(401, errorBody('UNAUTHORIZED', 'authentication required'), {'WWW-Authenticate': challenge()})
    }

    if (!route) return send(404, errorBody('NOT_FOUND', 'not found'))
    if (!allowed()) {
      const scope = `repository:${repository}:${need}`
      const authed = Boolean(req.headers.authorization)
      return send(
        401,
        errorBody('UNAUTHORIZED', authed ? 'access to the requested resource is not authorized' : 'authentication required'),
        {
          'WWW-Authenticate': challenge(scope, authed && mode === 'bearer' ? 'insufficient_scope' : undefined),
        },
      )
    }

    const known = images[repository]
    const kind = route[2].split('/')[0]
    const ref = kind === 'blobs' ? route[2].slice('blobs/uploads/'.length) : route[2].split('/').slice(1).join('/')
    if (kind === 'tags')
      return known
        ? send(200, JSON.stringify({name: repository, tags: known.filter((t) => !t.startsWith('sha256:'))}))
        : send(404, errorBody('NAME_UNKNOWN', 'repository name not known to registry'))
    if (kind === 'manifests' && req.method === 'DELETE') {
      if (!deletes) return send(405, errorBody('UNSUPPORTED', 'The operation is unsupported.'))
      if (!known?.includes(ref)) return send(404, errorBody('MANIFEST_UNKNOWN', 'manifest unknown'))
      images[repository] = known.filter((r) => r !== ref)
      return send(202)
    }

    if (kind === 'manifests') {
      if (known?.includes(ref))
        return send(200, '{}', {'Docker-Content-Digest': ref.startsWith('sha256:') ? ref : `sha256:${'0'.repeat(64)}`})
      return send(404, errorBody('MANIFEST_UNKNOWN', 'manifest unknown'))
    }

    // blobs/uploads
    if (req.method === 'POST' && ref === '') {
      const id = randomUUID()
      uploads.add(id)
      return send(202, '', {'Content-Length': '0', Location: `/v2/${repository}/blobs/uploads/${id}?_state=x`, Range: '0-0'})
    }

    if (req.method === 'DELETE' && uploads.delete(ref)) return send(204)
    return send(404, errorBody('BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry'))
  }

  const server = opts.tls ? https.createServer({cert: opts.tls.certPem, key: opts.tls.keyPem}, handler) : http.createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  origin = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`
  return {
    addImage: (repository, reference) => {
      images[repository] = [...(images[repository] ?? []).filter((r) => r !== reference), reference]
    },
    hasImage: (repository, reference) => Boolean(images[repository]?.includes(reference)),
    host: `127.0.0.1:${port}`,
    openUploads: () => [...uploads],
    setDeletes: (enabled) => {
      deletes = enabled
    },
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
    url: origin,
  }
}

/** A TCP listener on 127.0.0.1 that accepts connections and never answers: a registry that hangs. */
export async function startSilentServer(): Promise<{host: string; stop(): Promise<void>}> {
  const net = await import('node:net')
  const sockets = new Set<import('node:net').Socket>()
  const server = net.createServer((s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}
