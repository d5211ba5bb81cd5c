/**
 * One HTTP request to a container registry, time-boxed, with the CA it was verified against kept
 * for messages. Failures come back as a RegistryNetError whose `kind` says what went wrong at the
 * transport (DNS, refused, timeout, TLS), never as a thrown HTTP status: the registry's own answer
 * is the caller's to judge.
 */
import {readFileSync} from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import {rootCertificates} from 'node:tls'
import {ExitCode, MobError} from '../errors.js'

export interface RegistryResponse {
  status: number
  headers: http.IncomingHttpHeaders
  /** The body, at most 64 KiB of it. */
  body: string
}

export type NetErrorKind = 'dns' | 'refused' | 'timeout' | 'tls' | 'other'

export class RegistryNetError extends Error {
  constructor(
    message: string,
    readonly kind: NetErrorKind,
    readonly code?: string,
  ) {
    super(message)
  }
}

/** The CAs HTTPS requests to registries trust. */
export interface TrustedCAs {
  /** PEM certificates added to Node's built-in list (from --registry-ca). */
  pem?: string
  /** For messages: e.g. "Node's built-in CA list and /path/ca.crt". */
  description: string
}

/** The CAs of --registry-ca FILE added to Node's list; the default list without one. */
export function trustedCAsFrom(file: string | undefined): TrustedCAs {
  if (!file) return DEFAULT_CAS
  try {
    return {description: `Node's built-in CA list and ${file}`, pem: readFileSync(file, 'utf8')}
  } catch (error) {
    throw new MobError(`cannot read --registry-ca ${file}: ${(error as Error).message}`, {
      exitCode: ExitCode.Usage,
      next: 'give a PEM file of CA certificates',
    })
  }
}

export const DEFAULT_CAS: TrustedCAs = {
  description:
    "Node's built-in CA list" + (process.env.NODE_EXTRA_CA_CERTS ? ` and NODE_EXTRA_CA_CERTS (${process.env.NODE_EXTRA_CA_CERTS})` : ''),
}

export interface RequestOptions {
  method?: string
  body?: string
  headers?: Record<string, string>
  timeoutMs: number
  cas: TrustedCAs
  signal?: AbortSignal
}

const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'EPROTO',
])
const LIMIT = 64 * 1024

function netError(error: NodeJS.ErrnoException, url: URL, opts: RequestOptions): RegistryNetError {
  const code = error.code ?? ''
  const host = url.host
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return new RegistryNetError(`${url.hostname} does not resolve (DNS: ${code})`, 'dns', code)
  if (code === 'ECONNREFUSED') return new RegistryNetError(`${host} refused the connection`, 'refused', code)
  if (code === 'ETIMEDOUT')
    return new RegistryNetError(`${host} did not answer within ${Math.round(opts.timeoutMs / 100) / 10} s`, 'timeout', code)
  if (TLS_CODES.has(code) || code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL')) {
    return new RegistryNetError(
      `TLS with ${host} failed: ${error.message} (${code}; verified against ${opts.cas.description})`,
      'tls',
      code,
    )
  }

  return new RegistryNetError(`${host}: ${error.message}${code ? ` (${code})` : ''}`, 'other', code)
}

let agentCache: {pem?: string; agent: https.Agent} | undefined
function agentFor(cas: TrustedCAs): https.Agent | undefined {
  if (!cas.pem) return undefined
  if (agentCache?.pem !== cas.pem)
    agentCache = {agent: new https.Agent({ca: [...rootCertificates, cas.pem], keepAlive: false}), pem: cas.pem}
  return agentCache.agent
}

/** Sends one request; resolves with any HTTP answer, rejects with a RegistryNetError. */
export function registryRequest(target: string, opts: RequestOptions): Promise<RegistryResponse> {
  const url = new URL(target)
  const mod = url.protocol === 'http:' ? http : https
  return new Promise<RegistryResponse>((resolve, reject) => {
    const req = mod.request(
      url,
      {
        agent: url.protocol === 'https:' ? agentFor(opts.cas) : undefined,
        headers: {'User-Agent': 'oc-mob', ...opts.headers},
        method: opts.method ?? 'GET',
        signal: opts.signal,
      },
      (res) => {
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (c: Buffer) => {
          if (size < LIMIT) chunks.push(c)
          size += c.length
        })
        res.on('end', () =>
          resolve({body: Buffer.concat(chunks).toString('utf8').slice(0, LIMIT), headers: res.headers, status: res.statusCode ?? 0}),
        )
        res.on('error', (e) => reject(netError(e, url, opts)))
      },
    )
    // The whole exchange is time-boxed, not only the wait for each packet.
    const timer = setTimeout(() => req.destroy(Object.assign(new Error('timeout'), {code: 'ETIMEDOUT'})), opts.timeoutMs)
    req.on('close', () => clearTimeout(timer))
    req.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      if (e.name === 'AbortError') reject(e)
      else reject(netError(e, url, opts))
    })
    req.end(opts.body)
  })
}
