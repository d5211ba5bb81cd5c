/**
 * A write whose answer was lost: the request went out, the connection broke before the answer came
 * back. Reading the object tells whether the write is in effect (then it is done), plainly did not
 * happen (then it may be sent again), or cannot be told (someone else changed the object meanwhile,
 * a collection delete, a generated name, a subresource other than status).
 */
import {ExitCode, MobError} from '../errors.js'
import type {KubeObject} from './types.js'

export type WriteCheck = {state: 'applied'; object: KubeObject | undefined} | {state: 'not-applied'} | {state: 'unknown'}

interface WriteSpec {
  method: string
  path: string
  body?: unknown
  contentType?: string
}

/** The object a write is about (its path without a subresource), and that subresource. */
function target(spec: WriteSpec): {path: string; subresource?: string} | undefined {
  const parts = spec.path.split('/').filter(Boolean)
  const prefix = parts[0] === 'api' ? 2 : 3
  let rest = parts.slice(prefix)
  const nsPrefix = rest[0] === 'namespaces' && rest.length >= 3 ? 2 : 0
  rest = rest.slice(nsPrefix)
  const base = parts.slice(0, prefix + nsPrefix)
  if (spec.method === 'POST') {
    const name = (spec.body as KubeObject | undefined)?.metadata?.name
    if (rest.length !== 1 || !name) return undefined
    return {path: `/${[...base, rest[0], encodeURIComponent(name)].join('/')}`}
  }

  if (rest.length === 2) return {path: `/${[...base, ...rest].join('/')}`}
  if (rest.length === 3) return {path: `/${[...base, rest[0], rest[1]].join('/')}`, subresource: rest[2]}
  return undefined
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Whether `got` holds everything of `sent`: the server may add fields (defaults, status, metadata)
 * and list elements (a token volume), never drop or change what was sent.
 */
export function holds(sent: unknown, got: unknown): boolean {
  if (Array.isArray(sent)) return Array.isArray(got) && sent.every((s) => got.some((g) => holds(s, g)))
  if (isObject(sent)) return isObject(got) && Object.entries(sent).every(([k, v]) => v === undefined || holds(v, got[k]))
  return sent === got
}

/** Whether a JSON merge patch is in effect on `got` (null: the field is absent). */
export function mergePatchInEffect(patch: unknown, got: unknown): boolean {
  if (!isObject(patch)) return holds(patch, got)
  if (!isObject(got)) return false
  return Object.entries(patch).every(([k, v]) => (v === null ? !(k in got) : mergePatchInEffect(v, got[k])))
}

function pointer(obj: unknown, path: string): {found: boolean; value?: unknown} {
  let cur: unknown = obj
  for (const raw of path.split('/').slice(1)) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~')
    if (Array.isArray(cur) && /^\d+$/.test(key)) cur = cur[Number(key)]
    else if (isObject(cur) && key in cur) cur = cur[key]
    else return {found: false}
    if (cur === undefined) return {found: false}
  }

  return {found: true, value: cur}
}

/** Whether a JSON patch is in effect; undefined when that cannot be told (appends, moves). */
function jsonPatchInEffect(ops: unknown, got: KubeObject): boolean | undefined {
  if (!Array.isArray(ops)) return undefined
  for (const op of ops as Array<{op: string; path: string; value?: unknown}>) {
    if (op.op === 'test') continue
    if (op.path.endsWith('/-') || !['add', 'remove', 'replace'].includes(op.op)) return undefined
    const at = pointer(got, op.path)
    if (op.op === 'remove' ? at.found : !at.found || !holds(op.value, at.value)) return false
  }

  return true
}

/** The parts of an object a write sets: not its status (unless the write is to status), nor its version. */
function written(obj: KubeObject, subresource: string | undefined): unknown {
  if (subresource === 'status') return {status: (obj as {status?: unknown}).status}
  const {apiVersion: _a, kind: _k, metadata, status: _s, ...rest} = obj as KubeObject & {status?: unknown}
  return {...rest, metadata: {annotations: metadata?.annotations, labels: metadata?.labels, name: metadata?.name}}
}

function withoutVersion(patch: Record<string, unknown>): Record<string, unknown> {
  const {resourceVersion: _v, ...metadata} = patch.metadata as Record<string, unknown>
  return {...patch, metadata}
}

/** Reads the object a lost write was about and says whether the write is in effect. */
export async function checkWrite(spec: WriteSpec, find: (path: string) => Promise<KubeObject | undefined>): Promise<WriteCheck> {
  const t = target(spec)
  if (!t || (t.subresource && t.subresource !== 'status')) return {state: 'unknown'}
  const got = await find(t.path)
  const body = (typeof spec.body === 'string' ? JSON.parse(spec.body) : spec.body) as KubeObject | undefined
  switch (spec.method) {
    case 'POST': {
      if (!got) return {state: 'not-applied'}
      return holds(written(body!, undefined), got) ? {object: got, state: 'applied'} : {state: 'unknown'}
    }

    case 'PUT': {
      if (!got || !body) return {state: 'unknown'}
      const sentVersion = body.metadata?.resourceVersion
      if (sentVersion && got.metadata.resourceVersion === sentVersion) return {state: 'not-applied'}
      return holds(written(body, t.subresource), got) ? {object: got, state: 'applied'} : {state: 'unknown'}
    }

    case 'PATCH': {
      if (!got) return {state: 'unknown'}
      // A merge patch that names the resourceVersion it was made against: an object still at that
      // version did not take it; one that moved on took it or another write (then its effect decides,
      // and one no longer in effect cannot be told apart from one never made).
      const sentVersion = isObject(body) && isObject(body.metadata) ? body.metadata.resourceVersion : undefined
      if (typeof sentVersion === 'string' && got.metadata.resourceVersion === sentVersion) return {state: 'not-applied'}
      const patch = typeof sentVersion === 'string' ? withoutVersion(body as unknown as Record<string, unknown>) : body
      const inEffect = spec.contentType?.includes('json-patch') ? jsonPatchInEffect(patch, got) : mergePatchInEffect(patch, got)
      if (inEffect === undefined) return {state: 'unknown'}
      if (inEffect) return {object: got, state: 'applied'}
      return typeof sentVersion === 'string' ? {state: 'unknown'} : {state: 'not-applied'}
    }

    case 'DELETE': {
      const uid = (body as {preconditions?: {uid?: string}} | undefined)?.preconditions?.uid
      if (!got || got.metadata.deletionTimestamp || (uid && got.metadata.uid !== uid)) return {object: undefined, state: 'applied'}
      return {state: 'not-applied'}
    }

    default: {
      return {state: 'unknown'}
    }
  }
}

/** An answer that broke off midway: like a reset, worth another try for a read. */
export function answerCutOff(error: unknown, spec: WriteSpec, server: string, context: string): MobError {
  return new MobError(`cannot reach the cluster at ${server}: the answer to ${spec.method} ${spec.path} was cut off`, {
    cause: error,
    code: 'Unreachable',
    exitCode: ExitCode.Unreachable,
    next: `check that the API server is up and reachable from here (context "${context}"), then run the command again`,
  })
}

/** A write whose answer was lost and whose effect could not be told. */
export function lostWriteError(spec: WriteSpec, error: unknown, server: string, context: string): MobError {
  const why = error instanceof Error ? error.message.replace(/^cannot reach the cluster at \S+: /, '') : String(error)
  return new MobError(
    `the answer to ${spec.method} ${spec.path} was lost (${why}), and whether the change was made could not be told from the cluster at ${server}`,
    {
      cause: error,
      code: 'WriteUnconfirmed',
      exitCode: ExitCode.Unreachable,
      next: `check that the API server of context "${context}" is reachable, then run the command again: it starts from what is already in place`,
    },
  )
}
