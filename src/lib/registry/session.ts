/**
 * A real Docker Registry v2 login with a secret's credentials, and the probes oc-mob needs of a
 * repository: pull, push (an upload session opened and cancelled: nothing is pushed) and delete (a
 * DELETE of a manifest digest that cannot exist: 404 where deletes are allowed, 405 where the
 * registry has them disabled, 401/403 where they are not permitted). Every outcome carries the
 * registry's own answer; nothing here ever returns or prints a credential.
 */
import {type Action, type Challenge, parseChallenges, registryErrorCode, registryErrorText, scopeFor, tokenUrl} from './challenge.js'
import {DEFAULT_CAS, type RegistryResponse, RegistryNetError, registryRequest, type TrustedCAs} from './http.js'
import {type Credentials, credentialsOf, findCredentials, parseDockerSecret} from './auth.js'
import {type ImageReference, parseReference} from './reference.js'
import type {Secret} from '../kube/types.js'

export interface SessionOptions {
  timeoutMs: number
  cas: TrustedCAs
  /** Where to connect instead of the host itself (e.g. the internal registry's route). */
  address?: string
  signal?: AbortSignal
}

export type ProbeStatus = 'denied' | 'error' | 'ok' | 'unreachable' | 'unsupported' | 'missing'

export interface ProbeResult {
  status: ProbeStatus
  /** What the registry (or the network) answered, e.g. `HTTP 401 UNAUTHORIZED: authentication required`. */
  answer: string
  /** How the login went, e.g. `Bearer token from https://host/token`, `Basic`, `anonymous`. */
  login?: string
}

/** A digest no image has: the sha256 of "oc-mob doctor: no image has this digest". */
export const PROBE_DIGEST = 'sha256:f85bf9fd63285bcb6f9c7ddeaae759063d8b3a84ce45d21f3d2fb525d80219dd'

const PLAIN_HTTP_SIGNS = /WRONG_VERSION_NUMBER|wrong version number|EPROTO|ECONNRESET|packet length too long/
const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/

function httpAnswer(res: RegistryResponse, what: string): string {
  const text = registryErrorText(res.body)
  return `${what}: HTTP ${res.status}${text ? ` ${text}` : ''}`
}

export class RegistrySession {
  private base?: string
  private challenge?: Challenge | null
  private readonly tokens = new Map<string, Promise<{header?: string; login: string; failure?: ProbeResult}>>()

  constructor(
    readonly host: string,
    private readonly creds: Credentials | undefined,
    private readonly opts: SessionOptions,
  ) {}

  private async send(url: string, method: string, headers: Record<string, string> = {}): Promise<RegistryResponse> {
    return registryRequest(url, {cas: this.opts.cas, headers, method, signal: this.opts.signal, timeoutMs: this.opts.timeoutMs})
  }

  /** GET /v2/: which scheme answers (HTTPS; plain HTTP only for loopback hosts) and how it wants to be logged into. */
  private async ping(): Promise<void> {
    if (this.base) return
    const address = this.opts.address ?? this.host
    let res: RegistryResponse
    try {
      res = await this.send(`https://${address}/v2/`, 'GET')
      this.base = `https://${address}`
    } catch (error) {
      // A plain-HTTP registry answers a TLS hello with garbage ("wrong version number"); on loopback
      // (where container tools allow plain HTTP) that means: try HTTP. Certificate errors stay errors.
      if (!(error instanceof RegistryNetError) || !LOOPBACK.test(address) || !PLAIN_HTTP_SIGNS.test(`${error.code} ${error.message}`))
        throw error
      res = await this.send(`http://${address}/v2/`, 'GET')
      this.base = `http://${address}`
    }

    if (res.status === 401) {
      const challenges = parseChallenges(res.headers['www-authenticate'])
      this.challenge =
        challenges.find((c) => c.scheme === 'bearer' && c.params.realm) ?? challenges.find((c) => c.scheme === 'basic') ?? null
    } else {
      this.challenge = null
    }
  }

  /** The Authorization header for a scope: a Bearer token from the registry's token service, Basic credentials, or none. */
  private authorize(scope: string): Promise<{header?: string; login: string; failure?: ProbeResult}> {
    let p = this.tokens.get(scope)
    if (!p) {
      p = this.fetchAuthorization(scope)
      this.tokens.set(scope, p)
    }

    return p
  }

  private async fetchAuthorization(scope: string): Promise<{header?: string; login: string; failure?: ProbeResult}> {
    const c = this.creds
    const basic =
      c?.username !== undefined && c.password !== undefined
        ? `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`
        : undefined
    if (c?.registryToken) return {header: `Bearer ${c.registryToken}`, login: 'registry token'}
    if (!this.challenge) return {login: 'anonymous (the registry asks for no login)'}
    if (this.challenge.scheme === 'basic') return {header: basic, login: basic ? 'Basic' : 'anonymous'}
    if (this.challenge.scheme !== 'bearer') return {login: `anonymous (unsupported challenge ${this.challenge.scheme})`}
    const url = tokenUrl(this.challenge, scope)
    const realm = new URL(this.challenge.params.realm)
    const login = `Bearer token from ${realm.origin}${realm.pathname}${basic || c?.identityToken ? '' : ' (anonymous)'}`
    let res: RegistryResponse
    try {
      if (c?.identityToken) {
        const form = new URLSearchParams({
          client_id: 'oc-mob',
          grant_type: 'refresh_token',
          refresh_token: c.identityToken,
          scope,
          service: this.challenge.params.service ?? '',
        })
        res = await registryRequest(realm.toString(), {
          body: form.toString(),
          cas: this.opts.cas,
          headers: {'Content-Length': String(Buffer.byteLength(form.toString())), 'Content-Type': 'application/x-www-form-urlencoded'},
          method: 'POST',
          signal: this.opts.signal,
          timeoutMs: this.opts.timeoutMs,
        })
      } else {
        res = await this.send(url, 'GET', basic ? {Authorization: basic} : {})
      }
    } catch (error) {
      if (error instanceof RegistryNetError)
        return {failure: {answer: `token service ${realm.host}: ${error.message}`, login, status: 'unreachable'}, login}
      throw error
    }

    if (res.status !== 200) {
      return {
        failure: {
          answer: httpAnswer(res, `token service ${realm.origin}${realm.pathname}`),
          login,
          status: res.status === 401 || res.status === 403 ? 'denied' : 'error',
        },
        login,
      }
    }

    let token: string | undefined
    try {
      const body = JSON.parse(res.body) as {token?: string; access_token?: string}
      token = body.token ?? body.access_token
    } catch {
      token = undefined
    }

    if (!token)
      return {failure: {answer: `token service ${realm.origin}${realm.pathname}: HTTP 200 without a token`, login, status: 'error'}, login}
    return {header: `Bearer ${token}`, login}
  }

  /** One authorised request for `actions` on `repository`, or the failure that stopped it. */
  private async call(
    repository: string,
    actions: Action[],
    method: string,
    path: string,
  ): Promise<{res: RegistryResponse; login: string} | ProbeResult> {
    try {
      await this.ping()
      const auth = await this.authorize(scopeFor(repository, actions))
      if (auth.failure) return auth.failure
      const res = await this.send(`${this.base}${path}`, method, auth.header ? {Authorization: auth.header} : {})
      return {login: auth.login, res}
    } catch (error) {
      if (error instanceof RegistryNetError) return {answer: error.message, status: 'unreachable'}
      throw error
    }
  }

  /** Pull: HEAD of the manifest `reference`, or (no reference) the repository's tag list. */
  async pull(repository: string, reference?: string): Promise<ProbeResult> {
    const what = reference ? `HEAD /v2/${repository}/manifests/${reference}` : `GET /v2/${repository}/tags/list`
    const r = await this.call(
      repository,
      ['pull'],
      reference ? 'HEAD' : 'GET',
      reference ? `/v2/${repository}/manifests/${reference}` : `/v2/${repository}/tags/list`,
    )
    if (!('res' in r)) return r
    const {login, res} = r
    const answer = httpAnswer(res, what)
    if (res.status === 200) return {answer, login, status: 'ok'}
    if (res.status === 404) return {answer: reference && !res.body ? `${answer} (not found)` : answer, login, status: 'missing'}
    return {answer, login, status: res.status === 401 || res.status === 403 ? 'denied' : 'error'}
  }

  /** Push: open an upload session and cancel it at once (nothing is uploaded). */
  async push(repository: string): Promise<ProbeResult> {
    const r = await this.call(repository, ['pull', 'push'], 'POST', `/v2/${repository}/blobs/uploads/`)
    if (!('res' in r)) return r
    const {login, res} = r
    const answer = httpAnswer(res, `POST /v2/${repository}/blobs/uploads/`)
    if (res.status !== 202) return {answer, login, status: res.status === 401 || res.status === 403 ? 'denied' : 'error'}
    const location = res.headers.location
    if (!location) return {answer: `${answer}, without a Location to cancel`, login, status: 'ok'}
    const cancel = await this.call(
      repository,
      ['pull', 'push'],
      'DELETE',
      new URL(location, `${this.base}/`).pathname + new URL(location, `${this.base}/`).search,
    )
    const cancelled =
      'res' in cancel ? `upload session cancelled (HTTP ${cancel.res.status})` : `cancelling the upload session failed: ${cancel.answer}`
    return {answer: `${answer}; ${cancelled}`, login, status: 'ok'}
  }

  /** Delete: DELETE of a manifest digest that does not exist; nothing can be deleted. */
  async delete(repository: string): Promise<ProbeResult> {
    const r = await this.call(repository, ['delete'], 'DELETE', `/v2/${repository}/manifests/${PROBE_DIGEST}`)
    if (!('res' in r)) return r
    const {login, res} = r
    const answer = httpAnswer(res, `DELETE /v2/${repository}/manifests/<a digest no image has>`)
    const code = registryErrorCode(res.body)
    if (res.status === 404 || res.status === 202) return {answer, login, status: 'ok'}
    if (res.status === 405 || code === 'UNSUPPORTED') return {answer, login, status: 'unsupported'}
    return {answer, login, status: res.status === 401 || res.status === 403 ? 'denied' : 'error'}
  }
}

/** A session for one image, logged in with the credentials a docker config secret holds for its registry. */
export interface ImageSession {
  session: RegistrySession
  /** The image, parsed. */
  ref: ImageReference
  /** Whether the secret holds credentials for the image's registry (else requests go anonymously). */
  hasCredentials: boolean
}

/**
 * The registry session for `image` with the credentials of a docker config secret (a pool's push
 * secret): the auths entry container tools would pick for its registry and repository.
 */
export function sessionForImage(image: string, secret: Secret | undefined, opts: Partial<SessionOptions> = {}): ImageSession {
  const ref = parseReference(image)
  let creds: Credentials | undefined
  if (secret) {
    const auths = parseDockerSecret(secret).auths
    const key = findCredentials(auths, ref.registry, ref.repository)
    creds = key ? credentialsOf(auths[key]) : undefined
  }

  return {
    hasCredentials: Boolean(creds),
    ref,
    session: new RegistrySession(ref.registry, creds, {cas: DEFAULT_CAS, timeoutMs: 15_000, ...opts}),
  }
}
