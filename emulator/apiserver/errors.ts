// Status bodies exactly as kube-apiserver writes them (field order included: kind, apiVersion, metadata,
// status, message, reason, details, code).
import {qualifiedKind, qualifiedResource, type ResourceDef} from './resources.js'

export interface StatusCause {
  reason: string
  message: string
  field?: string
}
export interface StatusDetails {
  name?: string
  group?: string
  kind?: string
  uid?: string
  causes?: StatusCause[]
  retryAfterSeconds?: number
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string | undefined,
    message: string,
    readonly details?: StatusDetails,
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
  }

  status(): Record<string, unknown> {
    return statusBody(this.code, this.reason, this.message, this.details)
  }
}

export function statusBody(code: number, reason: string | undefined, message: string, details?: StatusDetails): Record<string, unknown> {
  const body: Record<string, unknown> = {kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message}
  if (reason) body.reason = reason
  if (details) body.details = orderedDetails(details)
  body.code = code
  return body
}

function orderedDetails(d: StatusDetails): StatusDetails {
  const out: StatusDetails = {}
  if (d.name) out.name = d.name
  if (d.group) out.group = d.group
  if (d.kind) out.kind = d.kind
  if (d.uid) out.uid = d.uid
  if (d.causes)
    out.causes = d.causes.map((c) =>
      c.field === undefined ? {reason: c.reason, message: c.message} : {reason: c.reason, message: c.message, field: c.field},
    )
  if (d.retryAfterSeconds) out.retryAfterSeconds = d.retryAfterSeconds
  return out
}

const resDetails = (r: ResourceDef, name?: string): StatusDetails => ({
  name: name || undefined,
  group: r.group || undefined,
  kind: r.plural,
})

/** Go's %q for the strings the server quotes (names, values). */
export function q(s: string): string {
  return JSON.stringify(s)
}

export const notFound = (r: ResourceDef, name: string) =>
  new ApiError(404, 'NotFound', `${qualifiedResource(r)} ${q(name)} not found`, resDetails(r, name))

export const namespaceNotFound = (ns: string) =>
  new ApiError(404, 'NotFound', `namespaces ${q(ns)} not found`, {name: ns, kind: 'namespaces'})

export const alreadyExists = (r: ResourceDef, name: string) =>
  new ApiError(409, 'AlreadyExists', `${qualifiedResource(r)} ${q(name)} already exists`, resDetails(r, name))

export const conflict = (
  r: ResourceDef,
  name: string,
  why = 'the object has been modified; please apply your changes to the latest version and try again',
) => new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(r)} ${q(name)}: ${why}`, resDetails(r, name))

export function invalid(r: ResourceDef, name: string, causes: StatusCause[]): ApiError {
  // the message lists each distinct cause once, as the real server's error aggregate does
  const parts = [...new Set(causes.map((c) => `${c.field}: ${c.message}`))]
  const agg = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`
  return new ApiError(422, 'Invalid', `${qualifiedKind(r)} ${q(name)} is invalid: ${agg}`, {
    name: name || undefined,
    group: r.group || undefined,
    kind: r.kind,
    causes,
  })
}

export const badRequest = (message: string) => new ApiError(400, 'BadRequest', message)

export const unauthorized = () => new ApiError(401, 'Unauthorized', 'Unauthorized')

export function forbidden(opts: {
  user: string
  verb: string
  group: string
  resource: string
  subresource?: string
  namespace?: string
  name?: string
}): ApiError {
  const res = opts.subresource ? `${opts.resource}/${opts.subresource}` : opts.resource
  const scope = opts.namespace ? `in the namespace ${q(opts.namespace)}` : 'at the cluster scope'
  const reason = `User ${q(opts.user)} cannot ${opts.verb} resource ${q(res)} in API group ${q(opts.group)} ${scope}`
  const qr = opts.group ? `${opts.resource}.${opts.group}` : opts.resource
  const message = opts.name ? `${qr} ${q(opts.name)} is forbidden: ${reason}` : `${qr} is forbidden: ${reason}`
  return new ApiError(403, 'Forbidden', message, {name: opts.name, group: opts.group || undefined, kind: opts.resource})
}

export const pathNotFound = () => new ApiError(404, 'NotFound', 'the server could not find the requested resource', {})

export const methodNotAllowed = () =>
  new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {})

export const tooLarge = () => new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728')

export const unsupportedMediaType = (accepted: string[]) =>
  new ApiError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
  )

export const notAcceptable = () =>
  new ApiError(
    406,
    'NotAcceptable',
    'only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf',
  )

export function expired(message: string): ApiError {
  return new ApiError(410, 'Expired', message)
}

/** reason for a bare HTTP status (used by injected faults and kubelet errors) */
export function reasonFor(code: number): string | undefined {
  switch (code) {
    case 400:
      return 'BadRequest'
    case 401:
      return 'Unauthorized'
    case 403:
      return 'Forbidden'
    case 404:
      return 'NotFound'
    case 405:
      return 'MethodNotAllowed'
    case 406:
      return 'NotAcceptable'
    case 409:
      return 'Conflict'
    case 410:
      return 'Expired'
    case 413:
      return 'RequestEntityTooLarge'
    case 415:
      return 'UnsupportedMediaType'
    case 422:
      return 'Invalid'
    case 429:
      return 'TooManyRequests'
    case 500:
      return 'InternalError'
    case 503:
      return 'ServiceUnavailable'
    case 504:
      return 'Timeout'
    default:
      return undefined
  }
}

/** the message the real server uses for a bare status code */
export function defaultMessageFor(code: number): string {
  switch (code) {
    case 429:
      return 'Too many requests, please try again later.'
    case 500:
      return 'Internal error occurred: injected fault'
    case 503:
      return 'the server is currently unable to handle the request'
    case 504:
      return 'Timeout: request did not complete within the allotted timeout'
    case 404:
      return 'the server could not find the requested resource'
    case 409:
      return 'the server reported a conflict'
    case 401:
      return 'Unauthorized'
    case 403:
      return 'forbidden'
    default:
      return `the server responded with the status code ${code} but did not return more information`
  }
}
