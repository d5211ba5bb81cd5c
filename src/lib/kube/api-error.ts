/**
 * Turning API server answers and transport failures into MobErrors a person can act on.
 */
import {ExitCode, MobError, type ExitCodeValue} from '../errors.js'
import type {Status} from './types.js'

export interface RequestContext {
  server: string
  context: string
  method: string
  path: string
}

/** An error answer from the API server, with its Status body. */
export class ApiError extends MobError {
  readonly status: number
  readonly reason: string
  readonly serverMessage: string
  readonly body?: Status
  readonly retryAfterSeconds?: number
  readonly request: RequestContext

  constructor(status: number, body: Status | undefined, raw: string, req: RequestContext, retryAfterSeconds?: number) {
    const serverMessage = body?.message ?? (raw.trim() || httpText(status))
    const {code, exitCode, message, next} = describe(status, body, serverMessage, req)
    super(message, {code: code ?? (body?.reason || httpText(status).replaceAll(' ', '')), exitCode, next})
    this.name = 'ApiError'
    this.status = status
    this.reason = body?.reason ?? ''
    this.serverMessage = serverMessage
    this.body = body
    this.request = req
    this.retryAfterSeconds = retryAfterSeconds
  }
}

const HTTP_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  410: 'Gone',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
}

function httpText(status: number): string {
  return HTTP_TEXT[status] ?? `HTTP ${status}`
}

function describe(
  status: number,
  body: Status | undefined,
  msg: string,
  req: RequestContext,
): {message: string; next?: string; exitCode: ExitCodeValue; code?: string} {
  switch (status) {
    case 401: {
      return {
        exitCode: ExitCode.Auth,
        message: `the cluster at ${req.server} rejected the credentials of context "${req.context}" (401 Unauthorized)`,
        next: `run \`oc login ${req.server}\` to get new credentials`,
      }
    }

    case 403: {
      return {
        exitCode: ExitCode.Auth,
        message: `permission denied: ${msg}`,
        next: 'oc-mob needs cluster-admin rights for this: log in as a cluster administrator (`oc login`) or ask one to grant them',
      }
    }

    case 404: {
      if (!body?.details?.name && !body?.details?.kind) {
        return {
          exitCode: ExitCode.Unavailable,
          message: `the cluster does not serve ${req.path} (404 ${msg})`,
          next: 'check that this is an OpenShift cluster with the Machine Config Operator, and the version oc-mob expects',
        }
      }

      return {exitCode: ExitCode.NotFound, message: msg}
    }

    case 409: {
      return {
        exitCode: ExitCode.Invalid,
        message: msg,
        next: body?.reason === 'Conflict' ? 'someone changed the object at the same time; run the command again' : undefined,
      }
    }

    case 400:
    case 422: {
      const unknown = unknownFields(msg)
      if (unknown) return unknown
      return {exitCode: ExitCode.Invalid, message: msg}
    }

    case 410:
    case 413:
    case 415: {
      return {exitCode: ExitCode.Invalid, message: msg}
    }

    case 429:
    case 500:
    case 502:
    case 503:
    case 504: {
      return {
        exitCode: ExitCode.Unreachable,
        message: `the API server at ${req.server} answered ${status} ${httpText(status)} to ${req.method} ${req.path}: ${msg}`,
        next: "wait a moment and try again; if it persists, check the cluster's API server",
      }
    }

    default: {
      return {exitCode: ExitCode.Failed, message: `${req.method} ${req.path}: ${status} ${httpText(status)}: ${msg}`}
    }
  }
}

const STRICT = 'strict decoding error: '

/**
 * The refusal of a write oc-mob sent with fieldValidation=Strict because the cluster's schema does not know
 * a field of it: 400 `<Kind> in version "v1" cannot be handled as a <Kind>: strict decoding error: unknown
 * field "spec.foo", ...` for a create or replace, 422 `... patch: Invalid value: "...": strict decoding error:
 * ...` for a patch. The fields are named; the cluster runs a version whose CRD differs from what oc-mob writes.
 */
function unknownFields(msg: string): {message: string; next: string; exitCode: ExitCodeValue; code: string} | undefined {
  const at = msg.lastIndexOf(STRICT)
  if (at < 0) return undefined
  const fields = [...msg.slice(at + STRICT.length).matchAll(/unknown field "([^"]+)"/g)].map((m) => m[1])
  if (fields.length === 0) return undefined
  const kind = /^(\w+) in version "[^"]+" cannot be handled as a /.exec(msg)?.[1]
  const what = fields.length === 1 ? `the field ${fields[0]}` : `the fields ${fields.join(', ')}`
  return {
    code: 'UnknownField',
    exitCode: ExitCode.Invalid,
    message: `the cluster's ${kind ?? 'schema'} does not know ${what} oc-mob writes${kind ? ' (its CRD is older or newer than this oc-mob expects)' : ''}: the server refused the write`,
    next: 'check that the cluster runs an OpenShift version this oc-mob supports (`oc get clusterversion`); if it does, report this message',
  }
}

export function apiErrorFromResponse(status: number, text: string, req: RequestContext, retryAfter?: string): ApiError {
  let body: Status | undefined
  try {
    const parsed = JSON.parse(text) as Status
    if (parsed && parsed.kind === 'Status') body = parsed
  } catch {
    // Not JSON: keep the raw text as the message.
  }

  const seconds = retryAfter ? Number.parseInt(retryAfter, 10) : undefined
  return new ApiError(status, body, text, req, Number.isFinite(seconds) ? seconds : undefined)
}

const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'ERR_SSL_WRONG_VERSION_NUMBER',
])

const CONN_TEXT: Record<string, string> = {
  EAI_AGAIN: 'the host name could not be resolved (temporary DNS failure)',
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'the connection was reset',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  ENOTFOUND: 'the host name could not be resolved',
  EPIPE: 'the connection was closed',
  ETIMEDOUT: 'the connection timed out',
  // HTTP/2: the stream or the whole connection ended before the answer did
  ERR_HTTP2_GOAWAY_SESSION: 'the connection was closed by the server',
  ERR_HTTP2_INVALID_SESSION: 'the connection was closed',
  ERR_HTTP2_SESSION_ERROR: 'the connection was reset',
  ERR_HTTP2_STREAM_CANCEL: 'the connection was closed',
  ERR_HTTP2_STREAM_ERROR: 'the connection was reset',
  ERR_STREAM_PREMATURE_CLOSE: 'the connection was closed',
}

/** A failure below HTTP: DNS, TCP, TLS, timeouts. */
export function transportError(error: unknown, server: string, context: string): MobError {
  const code = (error as NodeJS.ErrnoException).code ?? ''
  const text = (error as Error).message ?? String(error)
  // A connection that broke during the handshake ("socket disconnected before secure TLS connection
  // was established", ECONNRESET) is a network problem, not a certificate one.
  if (TLS_CODES.has(code) || (!Object.hasOwn(CONN_TEXT, code) && /certificate|SSL|TLS/i.test(text))) {
    return new MobError(`TLS verification of ${server} failed: ${text}${code && !text.includes(code) ? ` (${code})` : ''}`, {
      cause: error,
      code: 'TLSError',
      exitCode: ExitCode.Unreachable,
      next: `check the certificate-authority of the cluster used by context "${context}" in your kubeconfig, or run \`oc login ${server}\` again`,
    })
  }

  const why = (CONN_TEXT[code] ?? text) + (code && /before secure TLS connection/.test(text) ? ' during the TLS handshake' : '')
  return new MobError(`cannot reach the cluster at ${server}: ${why}`, {
    cause: error,
    code: 'Unreachable',
    exitCode: ExitCode.Unreachable,
    next: `check that the API server is up and reachable from here (context "${context}"), or pick another context with --context`,
  })
}
