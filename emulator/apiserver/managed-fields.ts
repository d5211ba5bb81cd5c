// Field ownership as kube-apiserver keeps it: `metadata.managedFields` entries (manager, operation,
// apiVersion, time, fieldsType FieldsV1, fieldsV1, subresource) for every create, update and patch, and
// server-side apply (merge of an applied configuration, conflicts with other owners, force, removal of
// fields a manager stopped applying). Field sets are kept in their FieldsV1 form: nested maps whose keys
// are `f:<field>`, `k:<json of the list-map keys>`, `v:<json value>` and `.` (the node itself).
import {ApiError} from './errors.js'
import {deepEqual} from './patch.js'

export type FieldSet = {[k: string]: FieldSet}

export interface ManagedFieldsEntry {
  manager: string
  operation: 'Apply' | 'Update'
  apiVersion: string
  time: string
  fieldsType: 'FieldsV1'
  fieldsV1: FieldSet
  subresource?: string
}

const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v)
const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')

// ---------------------------------------------------------------- shapes (what a list or map is)
type ListType = {type: 'map'; keys: string[]} | {type: 'set'} | {type: 'atomic'}

/** What the schema says about one node: how its lists merge, whether a map is atomic. */
export interface Shape {
  child(name: string): Shape
  item(): Shape
  list(items: unknown[]): ListType
  atomic: boolean
}

// built-in kinds: the list merge keys kube-apiserver's schemas declare for the fields the emulator meets
const BUILTIN_MAP_LISTS: Record<string, string[]> = {
  containers: ['name'],
  initContainers: ['name'],
  ephemeralContainers: ['name'],
  volumes: ['name'],
  env: ['name'],
  volumeMounts: ['mountPath'],
  volumeDevices: ['devicePath'],
  ports: ['containerPort', 'protocol'],
  conditions: ['type'],
  imagePullSecrets: ['name'],
  addresses: ['type'],
  hostAliases: ['ip'],
  ownerReferences: ['uid'],
  secrets: ['name'],
  resourceClaims: ['name'],
  containerStatuses: ['name'],
}
const BUILTIN_SETS = new Set(['finalizers'])

const builtinShape = (field?: string): Shape => ({
  atomic: false,
  child: (name) => builtinShape(name),
  item: () => builtinShape(),
  list(items) {
    if (field && BUILTIN_SETS.has(field)) return {type: 'set'}
    const keys = field ? BUILTIN_MAP_LISTS[field] : undefined
    if (!keys) return {type: 'atomic'}
    // a key the items leave out (protocol) is still part of the identity when the first key is there
    if (items.every((i) => isObj(i) && i[keys[0]] !== undefined))
      return {type: 'map', keys: keys.filter((k, n) => n === 0 || items.some((i: any) => i[k] !== undefined))}
    return {type: 'atomic'}
  },
})

/** A custom resource's shape from its structural schema; metadata follows the built-in rules. */
export function schemaShape(s: any): Shape {
  return {
    atomic: s?.['x-kubernetes-map-type'] === 'atomic',
    child(name) {
      if (!s) return schemaShape(undefined)
      if (s.properties?.[name])
        return name === 'metadata' && !s.properties.metadata.properties ? builtinShape() : schemaShape(s.properties[name])
      if (isObj(s.additionalProperties)) return schemaShape(s.additionalProperties)
      if (name === 'metadata') return builtinShape()
      return schemaShape(undefined)
    },
    item: () => schemaShape(s?.items),
    list() {
      const t = s?.['x-kubernetes-list-type']
      if (t === 'map') return {type: 'map', keys: s['x-kubernetes-list-map-keys'] ?? []}
      if (t === 'set') return {type: 'set'}
      return {type: 'atomic'}
    },
  }
}

export const BUILTIN_SHAPE = builtinShape()

// ---------------------------------------------------------------- path elements
const keyOf = (item: any, keys: string[]) => {
  const o: Record<string, unknown> = {}
  for (const k of [...keys].sort()) if (item[k] !== undefined) o[k] = item[k]
  return `k:${JSON.stringify(o)}`
}

/** A FieldsV1 key as a path element in the server's conflict messages: `.data`, `[name="c"]`, `[="v"]`. */
function printElement(k: string): string {
  if (k.startsWith('f:')) return `.${k.slice(2)}`
  if (k.startsWith('v:')) return `[=${k.slice(2)}]`
  if (k.startsWith('i:')) return `[${k.slice(2)}]`
  if (k.startsWith('k:')) {
    const o = JSON.parse(k.slice(2)) as Record<string, unknown>
    return `[${Object.entries(o)
      .map(([n, v]) => `${n}=${JSON.stringify(v)}`)
      .join(',')}]`
  }
  return ''
}

// ---------------------------------------------------------------- sets from objects
const STRIPPED_META = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'creationTimestamp',
  'generation',
  'managedFields',
  'selfLink',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
])

/** The fields a value sets. Apply sets name leaves and list items only; update sets also name new maps. */
function setOf(v: unknown, shape: Shape, withMaps: boolean): FieldSet {
  if (Array.isArray(v)) {
    const lt = shape.list(v)
    if (lt.type === 'atomic' || v.length === 0) return {}
    const out: FieldSet = {}
    for (const item of v) {
      if (lt.type === 'set') out[`v:${JSON.stringify(item)}`] = {}
      else if (isObj(item)) out[keyOf(item, lt.keys)] = {'.': {}, ...setOf(item, shape.item(), withMaps)}
    }
    return out
  }
  if (isObj(v) && !shape.atomic) {
    const out: FieldSet = {}
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined) continue
      const child = setOf(x, shape.child(k), withMaps)
      if (withMaps && isObj(x) && Object.keys(x).length > 0 && !shape.child(k).atomic) child['.'] = {}
      out[`f:${k}`] = child
    }
    return out
  }
  return {}
}

/** The fields of a whole object that a manager can own (identity and server-kept metadata left out). */
export function objectFields(obj: any, shape: Shape, opts: {withMaps: boolean; status: 'only' | 'without' | 'with'}): FieldSet {
  const {apiVersion: _a, kind: _k, metadata, status, ...rest} = obj ?? {}
  const meta: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(metadata ?? {})) if (!STRIPPED_META.has(k)) meta[k] = v
  const body: Record<string, unknown> = opts.status === 'only' ? {} : rest
  if (opts.status !== 'only' && Object.keys(meta).length) body.metadata = meta
  if (opts.status !== 'without' && status !== undefined) body.status = status
  const out = setOf(body, shape, opts.withMaps)
  // the root and metadata are never owned as nodes
  delete out['.']
  if (out['f:metadata']) delete out['f:metadata']['.']
  return out
}

/** The fields that differ between two objects' sets: those new or changed in `next`. */
function changed(prev: unknown, next: unknown, set: FieldSet, shape: Shape): FieldSet {
  const out: FieldSet = {}
  for (const [k, sub] of Object.entries(set)) {
    if (k === '.') {
      if (prev === undefined) out['.'] = {}
      continue
    }
    const [pv, nv, childShape] = step(prev, next, k, shape)
    if (Object.keys(sub).filter((x) => x !== '.').length === 0) {
      if (pv === undefined || !deepEqual(pv, nv)) out[k] = sub['.'] ? {'.': {}} : {}
      continue
    }
    const c = changed(pv, nv, sub, childShape)
    if (Object.keys(c).length) out[k] = c
  }
  return out
}

/** the values at one path element in two objects, and the shape below it */
function step(a: unknown, b: unknown, k: string, shape: Shape): [unknown, unknown, Shape] {
  if (k.startsWith('f:')) {
    const f = k.slice(2)
    return [isObj(a) ? a[f] : undefined, isObj(b) ? b[f] : undefined, shape.child(f)]
  }
  if (k.startsWith('k:')) {
    const want = JSON.parse(k.slice(2)) as Record<string, unknown>
    const find = (l: unknown) =>
      Array.isArray(l) ? l.find((i) => isObj(i) && Object.entries(want).every(([n, v]) => deepEqual(i[n], v))) : undefined
    return [find(a), find(b), shape.item()]
  }
  if (k.startsWith('v:')) {
    const want = JSON.parse(k.slice(2))
    const find = (l: unknown) => (Array.isArray(l) && l.some((i) => deepEqual(i, want)) ? want : undefined)
    return [find(a), find(b), shape.item()]
  }
  return [undefined, undefined, shape]
}

// ---------------------------------------------------------------- set algebra
export function union(a: FieldSet, b: FieldSet): FieldSet {
  const out: FieldSet = {...a}
  for (const [k, v] of Object.entries(b)) out[k] = out[k] ? union(out[k], v) : v
  return out
}

/** `a` without the leaves (and `.` members) of `b` */
export function minus(a: FieldSet, b: FieldSet): FieldSet {
  const out: FieldSet = {}
  for (const [k, v] of Object.entries(a)) {
    const o = b[k]
    if (!o) {
      out[k] = v
      continue
    }
    const isLeafA = Object.keys(v).length === 0
    const isLeafB = Object.keys(o).length === 0
    if (isLeafA && isLeafB) continue
    if (isLeafA) continue // b owns the node's subtree; a owned only the node
    const rest = isLeafB ? v : minus(v, o)
    if (Object.keys(rest).length) out[k] = rest
  }
  return out
}

/** every leaf path of a set, as lists of FieldsV1 keys (`.` marks ownership of the node itself) */
export function leaves(s: FieldSet, prefix: string[] = []): string[][] {
  const out: string[][] = []
  for (const [k, v] of Object.entries(s)) {
    if (k === '.') out.push([...prefix, '.'])
    else if (Object.keys(v).length === 0) out.push([...prefix, k])
    else out.push(...leaves(v, [...prefix, k]))
  }
  return out
}

function hasPath(s: FieldSet, path: string[]): boolean {
  let cur: FieldSet | undefined = s
  for (const k of path) {
    cur = cur?.[k]
    if (!cur) return false
  }
  return true
}

/** a set keeping only the paths still present in `obj` */
function present(s: FieldSet, obj: unknown, shape: Shape): FieldSet {
  const out: FieldSet = {}
  for (const [k, v] of Object.entries(s)) {
    if (k === '.') {
      out['.'] = {}
      continue
    }
    const [x, , childShape] = step(obj, undefined, k, shape)
    if (x === undefined) continue
    out[k] = Object.keys(v).length ? present(v, x, childShape) : {}
    if (Object.keys(v).length && Object.keys(out[k]).length === 0) delete out[k]
  }
  return out
}

function sortSet(s: FieldSet): FieldSet {
  const out: FieldSet = {}
  for (const k of Object.keys(s).sort((a, b) => (a === '.' ? -1 : b === '.' ? 1 : a < b ? -1 : a > b ? 1 : 0))) out[k] = sortSet(s[k])
  return out
}

const printPath = (p: string[]) =>
  p
    .filter((k) => k !== '.')
    .map(printElement)
    .join('')

// ---------------------------------------------------------------- entries
export interface Manager {
  manager: string
  apiVersion: string
  subresource?: string
}

function entry(m: Manager, operation: 'Apply' | 'Update', set: FieldSet): ManagedFieldsEntry {
  const e: ManagedFieldsEntry = {
    manager: m.manager,
    operation,
    apiVersion: m.apiVersion,
    time: now(),
    fieldsType: 'FieldsV1',
    fieldsV1: sortSet(set),
  }
  if (m.subresource) e.subresource = m.subresource
  return e
}

const sameOwner = (e: ManagedFieldsEntry, m: Manager, op: string) =>
  e.manager === m.manager &&
  e.operation === op &&
  (op === 'Apply' || e.apiVersion === m.apiVersion) &&
  (e.subresource ?? '') === (m.subresource ?? '')

const statusMode = (m: Manager, hasStatus: boolean) => (m.subresource === 'status' ? 'only' : hasStatus ? 'without' : 'with')

/** managedFields after a create by `m` (operation Update: every field the stored object sets) */
export function managedOnCreate(obj: any, shape: Shape, m: Manager, hasStatus: boolean): ManagedFieldsEntry[] {
  const set = objectFields(obj, shape, {withMaps: true, status: statusMode(m, hasStatus)})
  return Object.keys(set).length ? [entry(m, 'Update', set)] : []
}

/**
 * managedFields after an update or non-apply patch by `m`: the fields it changed become its own (taken from
 * any other owner without a conflict), and fields no longer in the object leave every owner.
 */
export function managedOnUpdate(old: any, next: any, shape: Shape, m: Manager, hasStatus: boolean): ManagedFieldsEntry[] {
  const prev: ManagedFieldsEntry[] = Array.isArray(old.metadata?.managedFields) ? old.metadata.managedFields : []
  const nextSet = objectFields(next, shape, {withMaps: true, status: statusMode(m, hasStatus)})
  const mine = changed(old, next, nextSet, shape)
  const out: ManagedFieldsEntry[] = []
  let own: ManagedFieldsEntry | undefined
  for (const e of prev) {
    if (sameOwner(e, m, 'Update')) {
      own = e
      continue
    }
    const kept = present(minus(e.fieldsV1, mine), next, shape)
    if (Object.keys(kept).length) out.push({...e, fieldsV1: sortSet(kept)})
  }
  const ownSet = union(own ? present(own.fieldsV1, next, shape) : {}, mine)
  if (Object.keys(ownSet).length) {
    const e = own && Object.keys(mine).length === 0 ? {...own, fieldsV1: sortSet(ownSet)} : entry(m, 'Update', ownSet)
    const at = own ? prev.indexOf(own) : prev.length
    out.splice(Math.min(at, out.length), 0, e)
  }
  return out
}

/** merges an applied configuration into a live object the way server-side apply does */
export function applyMerge(live: unknown, applied: unknown, shape: Shape): unknown {
  if (Array.isArray(applied)) {
    const lt = shape.list(applied)
    if (lt.type === 'atomic' || !Array.isArray(live)) return structuredClone(applied)
    if (lt.type === 'set') return [...live, ...applied.filter((v) => !live.some((x) => deepEqual(x, v)))]
    const out = live.map((x) => x)
    for (const a of applied) {
      if (!isObj(a)) continue
      const k = keyOf(a, lt.keys)
      const i = out.findIndex((x) => isObj(x) && keyOf(x, lt.keys) === k)
      if (i >= 0) out[i] = applyMerge(out[i], a, shape.item())
      else out.push(structuredClone(a))
    }
    return out
  }
  if (isObj(applied) && !shape.atomic) {
    const out: Record<string, unknown> = isObj(live) ? {...live} : {}
    for (const [k, v] of Object.entries(applied)) {
      if (v === null) delete out[k]
      else out[k] = applyMerge(out[k], v, shape.child(k))
    }
    return out
  }
  return structuredClone(applied)
}

/** removes the paths of `s` from `obj` (leaves; a list item whose `.` is listed goes as a whole) */
function removePaths(obj: any, s: FieldSet, shape: Shape): void {
  for (const [k, sub] of Object.entries(s)) {
    if (k === '.') continue
    const whole = Object.keys(sub).length === 0 || '.' in sub
    if (k.startsWith('f:') && isObj(obj)) {
      const f = k.slice(2)
      if (whole && Object.keys(sub).length === 0) delete obj[f]
      else if (obj[f] !== undefined) {
        removePaths(obj[f], sub, shape.child(f))
        if (isObj(obj[f]) && Object.keys(obj[f]).length === 0 && '.' in sub) delete obj[f]
      }
    } else if ((k.startsWith('k:') || k.startsWith('v:')) && Array.isArray(obj)) {
      const [x] = step(obj, undefined, k, shape)
      const i = obj.indexOf(x)
      if (i < 0) continue
      if (k.startsWith('v:') || whole) obj.splice(i, 1)
      else removePaths(obj[i], sub, shape.item())
    }
  }
}

export interface ApplyResult {
  obj: any
  managedFields: ManagedFieldsEntry[]
}

/**
 * Server-side apply of `applied` (already decoded) by `m` onto `live`: 409 Conflict naming the owners of
 * fields whose value would change, unless `force`; fields `m` applied before and leaves out now are removed
 * when nobody else owns them.
 */
export function serverSideApply(live: any, applied: any, shape: Shape, m: Manager, o: {force: boolean; hasStatus: boolean}): ApplyResult {
  const prev: ManagedFieldsEntry[] = Array.isArray(live.metadata?.managedFields) ? live.metadata.managedFields : []
  const mode = statusMode(m, o.hasStatus)
  const appliedSet = sortSet(objectFields(applied, shape, {withMaps: false, status: mode}))
  const {metadata: _m, ...appliedBody} = applied
  const appliedMeta: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(applied.metadata ?? {})) if (!STRIPPED_META.has(k)) appliedMeta[k] = v
  const merged: any = applyMerge(live, {...appliedBody, metadata: appliedMeta}, shape)
  merged.metadata = {...merged.metadata}
  if (mode === 'only') {
    for (const k of Object.keys(merged)) if (!['metadata', 'status', 'apiVersion', 'kind'].includes(k)) merged[k] = live[k]
    merged.metadata = live.metadata
  } else if (mode === 'without') {
    if (live.status === undefined) delete merged.status
    else merged.status = live.status
  }
  const mine = prev.find((e) => sameOwner(e, m, 'Apply'))
  const others = prev.filter((e) => e !== mine)
  const conflicts: {manager: ManagedFieldsEntry; path: string[]}[] = []
  for (const e of others) {
    for (const p of leaves(appliedSet)) {
      if (p[p.length - 1] === '.' || !hasPath(e.fieldsV1, p)) continue
      let a: unknown = live
      let b: unknown = merged
      let sh = shape
      for (const k of p) [a, b, sh] = step(a, b, k, sh)
      if (!deepEqual(a, b)) conflicts.push({manager: e, path: p})
    }
  }
  if (conflicts.length && !o.force) throw applyConflict(conflicts)
  const taken = o.force ? appliedSet : {}
  const kept: ManagedFieldsEntry[] = []
  for (const e of others) {
    const rest = minus(e.fieldsV1, taken)
    if (Object.keys(rest).length) kept.push(rest === e.fieldsV1 ? e : {...e, fieldsV1: sortSet(rest)})
  }
  if (mine) {
    const othersSet = kept.reduce<FieldSet>((s, e) => union(s, e.fieldsV1), {})
    const dropped = minus(minus(mine.fieldsV1, appliedSet), othersSet)
    removePaths(merged, dropped, shape)
  }
  const out: ManagedFieldsEntry[] = []
  const own = entry(m, 'Apply', appliedSet)
  const unchangedOwn = mine && deepEqual(mine.fieldsV1, own.fieldsV1) && deepEqual(stripMeta(live), stripMeta(merged))
  const ownEntry = unchangedOwn ? mine : own
  let placed = false
  for (const e of prev) {
    if (e === mine) {
      out.push(ownEntry)
      placed = true
    } else {
      const k = kept.find(
        (x) => x.manager === e.manager && x.operation === e.operation && x.subresource === e.subresource && x.apiVersion === e.apiVersion,
      )
      if (k) out.push(k)
    }
  }
  if (!placed) out.push(ownEntry)
  return {obj: merged, managedFields: out}
}

const stripMeta = (o: any) => {
  const {metadata, ...rest} = o
  const {managedFields: _m, resourceVersion: _r, ...meta} = metadata ?? {}
  return {...rest, metadata: meta}
}

function describeManager(e: ManagedFieldsEntry): string {
  let s = JSON.stringify(e.manager)
  if (e.subresource) s += ` with subresource ${JSON.stringify(e.subresource)}`
  if (e.operation === 'Update' && e.time) return `${s} using ${e.apiVersion} at ${e.time}`
  return `${s} using ${e.apiVersion}`
}

function applyConflict(conflicts: {manager: ManagedFieldsEntry; path: string[]}[]): ApiError {
  const causes = conflicts.map((c) => ({
    reason: 'FieldManagerConflict',
    message: `conflict with ${describeManager(c.manager)}`,
    field: printPath(c.path),
  }))
  let message: string
  if (conflicts.length === 1)
    message = `Apply failed with 1 conflict: conflict with ${describeManager(conflicts[0].manager)}: ${printPath(conflicts[0].path)}`
  else {
    const by = new Map<string, string[]>()
    for (const c of conflicts) {
      const d = describeManager(c.manager)
      by.set(d, [...(by.get(d) ?? []), printPath(c.path)])
    }
    const lines: string[] = []
    for (const d of [...by.keys()].sort()) lines.push(`conflicts with ${d}:`, ...by.get(d)!.map((p) => `- ${p}`))
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`
  }
  return new ApiError(409, 'Conflict', message, {causes})
}

/** The manager of a request without ?fieldManager: the User-Agent up to its first "/", as kube-apiserver names it. */
export function managerFromUserAgent(ua: string | undefined): string {
  return (ua ?? '').split('/')[0].slice(0, 128)
}
