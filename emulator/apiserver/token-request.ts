// POST /api/v1/namespaces/{ns}/serviceaccounts/{name}/token: a TokenRequest (authentication.k8s.io/v1),
// answered as kube-apiserver answers it: 201 with the TokenRequest, its spec defaulted (audiences: the
// server's, expirationSeconds: 3600) and status.token (a signed JWT for the service account, with
// `exp` at now + spec.expirationSeconds) and status.expirationTimestamp; 404 when the service account
// does not exist; 422 for a duration under 10 minutes or over 2^32 seconds, or a name or namespace
// in the body that is not the URL's; with dryRun=All the TokenRequest comes back without a status.
import {createSign, generateKeyPairSync, type KeyObject, randomUUID} from 'node:crypto'
import {ApiError, notFound, q, type StatusCause} from './errors.js'
import type {ResourceDef} from './resources.js'
import type {Store} from './store.js'

const GROUP = 'authentication.k8s.io'
/** kube-apiserver's --api-audiences / --service-account-issuer default on OpenShift. */
const ISSUER = 'https://kubernetes.default.svc'
const DEFAULT_SECONDS = 3600
const MIN_SECONDS = 600
const MAX_SECONDS = 2 ** 32

let signingKey: {key: KeyObject; kid: string} | undefined
function key(): {key: KeyObject; kid: string} {
  signingKey ??= {key: generateKeyPairSync('ec', {namedCurve: 'P-256'}).privateKey, kid: randomUUID()}
  return signingKey
}

const b64url = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url')

function sign(claims: Record<string, unknown>): string {
  const {key: k, kid} = key()
  const input = `${b64url({alg: 'ES256', kid})}.${b64url(claims)}`
  const signature = createSign('SHA256').update(input).sign({dsaEncoding: 'ieee-p1363', key: k})
  return `${input}.${signature.toString('base64url')}`
}

function invalid(name: string, causes: StatusCause[]): ApiError {
  const parts = causes.map((c) => `${c.field}: ${c.message}`)
  return new ApiError(
    422,
    'Invalid',
    `TokenRequest.${GROUP} ${q(name)} is invalid: ${parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`}`,
    {causes, group: GROUP, kind: 'TokenRequest', name},
  )
}

/** The answer to a TokenRequest for service account `name` in `namespace`: status code and JSON body. */
export function tokenRequest(
  store: Store,
  serviceAccounts: ResourceDef,
  namespace: string,
  name: string,
  body: any,
  opts: {dryRun: boolean; now?: number},
): {code: number; json: string} {
  const meta = body?.metadata ?? {}
  const spec = body?.spec ?? {}
  const causes: StatusCause[] = []
  if (meta.name && meta.name !== name)
    causes.push({
      field: 'metadata.name',
      message: `Invalid value: ${q(meta.name)}: must match the service account name if specified`,
      reason: 'FieldValueInvalid',
    })
  if (meta.namespace && meta.namespace !== namespace)
    causes.push({
      field: 'metadata.namespace',
      message: `Invalid value: ${q(meta.namespace)}: must match the service account namespace if specified`,
      reason: 'FieldValueInvalid',
    })
  if (causes.length > 0) throw invalid(name, causes)

  const sa = store.get(serviceAccounts, namespace, name)
  if (!sa) throw notFound(serviceAccounts, name)

  const seconds = spec.expirationSeconds ?? DEFAULT_SECONDS
  if (typeof seconds !== 'number' || !Number.isInteger(seconds))
    throw new ApiError(
      400,
      'BadRequest',
      `TokenRequest in version "v1" cannot be handled as a TokenRequest: spec.expirationSeconds: expected an integer`,
    )
  if (seconds < MIN_SECONDS)
    causes.push({
      field: 'spec.expirationSeconds',
      message: `Invalid value: ${seconds}: may not specify a duration less than 10 minutes`,
      reason: 'FieldValueInvalid',
    })
  if (seconds > MAX_SECONDS)
    causes.push({
      field: 'spec.expirationSeconds',
      message: `Invalid value: ${seconds}: may not specify a duration larger than 2^32 seconds`,
      reason: 'FieldValueInvalid',
    })
  if (causes.length > 0) throw invalid(name, causes)

  const audiences: string[] = Array.isArray(spec.audiences) && spec.audiences.length > 0 ? spec.audiences : [ISSUER]
  const out: Record<string, unknown> = {
    kind: 'TokenRequest',
    apiVersion: `${GROUP}/v1`,
    metadata: {name, namespace, creationTimestamp: null},
    spec: {audiences, expirationSeconds: seconds, boundObjectRef: spec.boundObjectRef ?? null},
    status: {token: '', expirationTimestamp: null},
  }
  if (opts.dryRun) return {code: 201, json: JSON.stringify(out)}

  const iat = Math.floor((opts.now ?? Date.now()) / 1000)
  const exp = iat + seconds
  const token = sign({
    aud: audiences,
    exp,
    iat,
    iss: ISSUER,
    jti: randomUUID(),
    'kubernetes.io': {namespace, serviceaccount: {name, uid: sa.obj.metadata.uid}},
    nbf: iat,
    sub: `system:serviceaccount:${namespace}:${name}`,
  })
  out.status = {token, expirationTimestamp: new Date(exp * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')}
  return {code: 201, json: JSON.stringify(out)}
}
