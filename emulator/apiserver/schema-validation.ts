// Validation of a custom resource against its CRD's openAPIV3Schema, as kube-apiserver does it, in its order:
// the OpenAPI schema (type, required, enum, lengths, item counts, pattern, formats, bounds), the list-type
// invariants (`x-kubernetes-list-type: map/set` keys must be unique), then the `x-kubernetes-validations` CEL
// rules, which are skipped with a note when the schema already failed in a blocking way. On an update,
// unchanged parts of the object are not re-judged (kube-apiserver's validation ratcheting), and transition
// rules see `oldSelf`. Causes carry the real server's field paths, reasons and messages.
import type {StatusCause} from './errors.js'
import {compileRule, isDateTime, Optional, toCel, usesOldSelf} from './cel.js'
import {deepEqual} from './patch.js'

/** A field path as kube-apiserver prints it; `null` is the object's root, printed `<nil>`. */
type Path = string | null
const ROOT = '<nil>'
const child = (p: Path, k: string): string => (p === null ? k : `${p}.${k}`)
const index = (p: Path, i: number): string => `${p ?? ''}[${i}]`
const key = (p: Path, k: string): string => `${p ?? ''}[${k}]`
const shown = (p: Path): string => p ?? ROOT

/** A value as Go's field errors print it (%q for strings, %v for numbers, %#v for maps and lists). */
function goValue(v: unknown): string {
  if (v === null || v === undefined) return '"null"'
  if (typeof v === 'string') return JSON.stringify(v)
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v)
  return goSyntax(v)
}

function goSyntax(v: unknown): string {
  if (v === null || v === undefined) return 'interface {}(nil)'
  if (typeof v === 'string') return JSON.stringify(v)
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  if (Array.isArray(v)) return `[]interface {}{${v.map(goSyntax).join(', ')}}`
  const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return `map[string]interface {}{${entries.map(([k, x]) => `${JSON.stringify(k)}:${goSyntax(x)}`).join(', ')}}`
}

const cause = (reason: string, field: Path, message: string): StatusCause => ({reason, message, field: shown(field)})
const invalid = (field: Path, value: unknown, detail: string) =>
  cause('FieldValueInvalid', field, `Invalid value: ${goValue(value)}: ${detail}`)
const typeInvalid = (field: Path, value: unknown, detail: string) =>
  cause('FieldValueTypeInvalid', field, `Invalid value: ${goValue(value)}: ${detail}`)

function jsonType(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number'
  return typeof v
}

// The formats kube-apiserver checks (it ignores the others, e.g. int32/int64 on strings).
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/
const FORMAT_CHECKS: Record<string, (s: string) => boolean> = {
  'date-time': isDateTime,
  datetime: isDateTime,
  date: (s) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(s)),
  uuid: (s) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(s),
  byte: (s) => /^[A-Za-z0-9+/]*={0,2}$/.test(s) && s.length % 4 === 0,
  ipv4: (s) => IPV4.test(s),
  hostname: (s) =>
    s.length <= 255 && /^[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*$/.test(s),
}

const BLOCKING = new Set([
  'FieldValueNotSupported',
  'FieldValueRequired',
  'FieldValueTooLong',
  'FieldValueTooMany',
  'FieldValueTypeInvalid',
])
const RULES_NOT_CHECKED =
  'some validation rules were not checked because the object was invalid; correct the existing errors to complete validation'

/**
 * Validates `obj` (already pruned and defaulted) against the CRD schema. `old` is the stored object on an
 * update (or a status update), undefined on a create. `prior` are the causes found before (metadata): a
 * blocking one among them also keeps the CEL rules from running, as on the real server.
 */
export function validateCustomResource(schema: any, obj: any, old: any | undefined, prior: StatusCause[] = []): StatusCause[] {
  if (!schema) return []
  const out: StatusCause[] = []
  // metadata is validated as ObjectMeta (before this), not by the schema
  const {metadata: _m, ...root} = obj
  const oldRoot = old ? (({metadata: _o, ...rest}) => rest)(old) : undefined
  openApi(schema, root, '', oldRoot, old !== undefined, out)
  // list-type invariants are ratcheted as a whole: only checked when the old object kept them
  if (!old || listTypes(schema, old, null).length === 0) out.push(...listTypes(schema, obj, null))
  if (hasRules(schema)) {
    if ([...prior, ...out].some((c) => BLOCKING.has(c.reason))) out.push(invalid(null, null, RULES_NOT_CHECKED))
    else celRules(schema, obj, null, old, old !== undefined, false, true, out)
  }
  return out
}

// ---------------------------------------------------------------- OpenAPI schema
/** kube-openapi's paths: `spec.a[0].b`; `''` is the root. */
const oaChild = (p: string, k: string) => (p ? `${p}.${k}` : k)
const oaField = (p: string): Path => (p ? p : null)

function openApi(s: any, v: unknown, p: string, old: unknown, correlated: boolean, out: StatusCause[]) {
  if (!s || v === undefined) return
  // validation ratcheting: an unchanged value is not judged again
  if (correlated && old !== undefined && deepEqual(v, old)) return
  const f = oaField(p)
  const name = p || '.'
  if (v === null) {
    if (!s.nullable && s.type) out.push(typeInvalid(f, 'null', `${name} in body must be of type ${s.type}: "null"`))
    return
  }
  const t = jsonType(v)
  if (s['x-kubernetes-int-or-string']) {
    if (t !== 'integer' && t !== 'string') {
      out.push(typeInvalid(f, t, `${name} in body must be of type integer,string: ${JSON.stringify(t)}`))
      return
    }
  } else if (s.type && !(s.type === t || (s.type === 'number' && t === 'integer'))) {
    out.push(typeInvalid(f, t, `${name} in body must be of type ${s.type}: ${JSON.stringify(t)}`))
    return
  }
  if (typeof v === 'string') {
    const len = [...v].length
    if (s.maxLength !== undefined && len > s.maxLength)
      out.push(cause('FieldValueTooLong', f, `Too long: may not be more than ${s.maxLength} bytes`))
    if (s.minLength !== undefined && len < s.minLength)
      out.push(invalid(f, v, `${name} in body should be at least ${s.minLength} chars long`))
    if (s.pattern !== undefined && !pattern(s.pattern).test(v)) out.push(invalid(f, v, `${name} in body should match '${s.pattern}'`))
    const check = s.format ? FORMAT_CHECKS[s.format] : undefined
    if (check && !check(v)) out.push(typeInvalid(f, v, `${name} in body must be of type ${s.format}: ${JSON.stringify(v)}`))
  }
  if (typeof v === 'number') {
    if (s.minimum !== undefined && (s.exclusiveMinimum ? v <= s.minimum : v < s.minimum)) {
      out.push(invalid(f, v, `${name} in body should be greater than ${s.exclusiveMinimum ? '' : 'or equal to '}${s.minimum}`))
    }
    if (s.maximum !== undefined && (s.exclusiveMaximum ? v >= s.maximum : v > s.maximum)) {
      out.push(invalid(f, v, `${name} in body should be less than ${s.exclusiveMaximum ? '' : 'or equal to '}${s.maximum}`))
    }
    if (s.multipleOf !== undefined && (v / s.multipleOf) % 1 !== 0)
      out.push(invalid(f, v, `${name} in body should be a multiple of ${s.multipleOf}`))
  }
  if (Array.isArray(v)) {
    const oldList = Array.isArray(old) ? old : undefined
    v.forEach((x, i) => {
      const o = correlated && oldList ? correlateItem(s, x, oldList) : undefined
      openApi(s.items, x, `${p}[${i}]`, o, o !== undefined, out)
    })
    if (s.minItems !== undefined && v.length < s.minItems)
      out.push(invalid(f, v.length, `${name} in body should have at least ${s.minItems} items`))
    if (s.maxItems !== undefined && v.length > s.maxItems)
      out.push(cause('FieldValueTooMany', f, `Too many: ${v.length}: must have at most ${s.maxItems} items`))
  }
  if (s.enum && !s.enum.some((e: unknown) => deepEqual(e, v))) {
    const allowed = s.enum.map((e: unknown) => (typeof e === 'string' ? JSON.stringify(e) : JSON.stringify(JSON.stringify(e)))).join(', ')
    out.push(cause('FieldValueNotSupported', f, `Unsupported value: ${goValue(v)}: supported values: ${allowed}`))
  }
  if (t === 'object') {
    const o = v as Record<string, unknown>
    const oldMap = old && typeof old === 'object' && !Array.isArray(old) ? (old as Record<string, unknown>) : undefined
    const mapCorrelated = correlated && s['x-kubernetes-map-type'] !== 'atomic'
    for (const k of s.required ?? []) if (!(k in o)) out.push(cause('FieldValueRequired', oaChild(p, k), 'Required value'))
    const props = s.properties ?? {}
    // the schema's properties in its order (kube-apiserver's is random), then any additional ones
    const names = [...Object.keys(props).filter((k) => k in o), ...Object.keys(o).filter((k) => !(k in props))]
    for (const k of names) {
      const x = o[k]
      const sub = props[k] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined)
      if (!sub) continue
      const ov = mapCorrelated ? oldMap?.[k] : undefined
      openApi(sub, x, oaChild(p, k), ov, mapCorrelated && ov !== undefined, out)
    }
    const n = Object.keys(o).length
    if (s.maxProperties !== undefined && n > s.maxProperties)
      out.push(cause('FieldValueTooMany', f, `Too many: ${n}: must have at most ${s.maxProperties} items`))
    if (s.minProperties !== undefined && n < s.minProperties)
      out.push(invalid(f, n, `${name} in body should have at least ${s.minProperties} properties`))
  }
}

const patterns = new Map<string, RegExp>()
/** A schema pattern (Go RE2 syntax, which JavaScript reads alike for the patterns CRDs use). */
function pattern(src: string): RegExp {
  let rx = patterns.get(src)
  if (!rx) {
    try {
      rx = new RegExp(src, 'u')
    } catch {
      rx = new RegExp(src)
    }
    patterns.set(src, rx)
  }
  return rx
}

/** The old item of a `x-kubernetes-list-type: map` list with the same keys (only those lists correlate). */
function correlateItem(s: any, item: unknown, oldList: unknown[]): unknown {
  const keys: string[] | undefined = s['x-kubernetes-list-map-keys']
  if (s['x-kubernetes-list-type'] !== 'map' || !keys?.length || !item || typeof item !== 'object') return undefined
  const it = item as Record<string, unknown>
  return oldList.find((o) => o && typeof o === 'object' && keys.every((k) => deepEqual((o as any)[k], it[k])))
}

// ---------------------------------------------------------------- list types
function listTypes(s: any, v: unknown, p: Path): StatusCause[] {
  const out: StatusCause[] = []
  if (!s || v === null || v === undefined) return out
  if (Array.isArray(v)) {
    const lt = s['x-kubernetes-list-type']
    if (lt === 'set') {
      for (const i of firstRepeats(v)) out.push(cause('FieldValueDuplicate', index(p, i), `Duplicate value: ${goValue(v[i])}`))
    } else if (lt === 'map') {
      const bad = v.findIndex((x) => x !== null && (typeof x !== 'object' || Array.isArray(x)))
      if (bad >= 0) return [invalid(index(p, bad), v[bad], 'must be an object for an array of list-type map')]
      const keys: string[] = s['x-kubernetes-list-map-keys'] ?? []
      const ids = v.map((x: any) => {
        const id: Record<string, unknown> = {}
        for (const k of keys) if (x && k in x) id[k] = x[k]
        return id
      })
      for (const i of firstRepeats(ids)) out.push(cause('FieldValueDuplicate', index(p, i), `Duplicate value: ${goValue(ids[i])}`))
    }
    for (const [i, x] of v.entries()) out.push(...listTypes(s.items, x, index(p, i)))
    return out
  }
  if (typeof v === 'object') {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (s.properties?.[k]) out.push(...listTypes(s.properties[k], x, child(p, k)))
      else if (typeof s.additionalProperties === 'object') out.push(...listTypes(s.additionalProperties, x, key(p, k)))
    }
  }
  return out
}

/** Indices of the second appearance of each repeated value (as kube-apiserver reports them). */
function firstRepeats(values: unknown[]): number[] {
  const seen = new Map<string, number>()
  const out: number[] = []
  values.forEach((x, i) => {
    const id = JSON.stringify(x)
    const n = seen.get(id) ?? 0
    if (n === 1) out.push(i)
    seen.set(id, n + 1)
  })
  return out
}

// ---------------------------------------------------------------- CEL rules
function hasRules(s: any): boolean {
  if (!s || typeof s !== 'object') return false
  if (s['x-kubernetes-validations']?.length) return true
  if (s.items && hasRules(s.items)) return true
  if (typeof s.additionalProperties === 'object' && hasRules(s.additionalProperties)) return true
  return Object.values(s.properties ?? {}).some(hasRules)
}

/**
 * Runs the rules at `s` and below. `correlated`: `old` is this value's earlier self (else transition rules
 * are skipped, as kube-apiserver does). `unchanged`: the nearest correlated ancestor is unchanged, so
 * non-transition rules only warn (validation ratcheting).
 */
function celRules(s: any, v: unknown, p: Path, old: unknown, correlated: boolean, unchanged: boolean, root: boolean, out: StatusCause[]) {
  if (!s || v === null || v === undefined) return
  if (!hasRules(s)) return
  const same = correlated ? old !== undefined && deepEqual(v, old) : unchanged
  for (const rule of s['x-kubernetes-validations'] ?? []) {
    const transition = usesOldSelf(rule.rule)
    const hasOld = correlated && old !== undefined && old !== null
    if (transition && !hasOld && !rule.optionalOldSelf) continue
    const type = s.type ?? ''
    const label = String(rule.message ?? '').trim() || String(rule.rule).trim()
    let fn: (ctx: Record<string, unknown>) => unknown
    try {
      fn = compileRule(rule.rule)
    } catch (error) {
      out.push(invalid(p, type, `rule compile error: ${(error as Error).message}`))
      continue
    }
    const self = celValue(v, s, root)
    const oldSelf = hasOld ? celValue(old, s, root) : undefined
    const ctx: Record<string, unknown> = {self, oldSelf: rule.optionalOldSelf ? (hasOld ? Optional.of(oldSelf) : Optional.none()) : oldSelf}
    let result: unknown
    try {
      result = fn(ctx)
    } catch (error) {
      out.push(invalid(p, type, `${(error as Error).message} evaluating rule: ${label}`))
      continue
    }
    if (result === true) continue
    if (!transition && same) continue
    const at = rule.fieldPath ? ruleFieldPath(p, rule.fieldPath) : p
    let detail = String(rule.message ?? '').trim() || `failed rule: ${String(rule.rule).trim()}`
    if (rule.messageExpression) {
      try {
        const m = compileRule(rule.messageExpression)(ctx)
        if (typeof m === 'string' && m.trim() && !m.includes('\n')) detail = m.trim()
      } catch {
        // kube-apiserver falls back to the message
      }
    }
    switch (rule.reason) {
      case 'FieldValueForbidden':
        out.push(cause('FieldValueForbidden', at, `Forbidden: ${detail}`))
        break
      case 'FieldValueRequired':
        out.push(cause('FieldValueRequired', at, `Required value: ${detail}`))
        break
      case 'FieldValueDuplicate':
        out.push(cause('FieldValueDuplicate', at, `Duplicate value: ${goValue(type)}`))
        break
      default:
        out.push(invalid(at, type, detail))
    }
  }
  if (Array.isArray(v)) {
    const oldList = correlated && Array.isArray(old) ? old : undefined
    v.forEach((x, i) => {
      const o = oldList ? correlateItem(s, x, oldList) : undefined
      const isMapList = s['x-kubernetes-list-type'] === 'map'
      celRules(s.items, x, index(p, i), o, isMapList && oldList !== undefined, same, false, out)
    })
    return
  }
  if (typeof v === 'object') {
    const oldMap = correlated && old && typeof old === 'object' && !Array.isArray(old) ? (old as Record<string, unknown>) : undefined
    const atomic = s['x-kubernetes-map-type'] === 'atomic'
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (root && (k === 'metadata' || k === 'apiVersion' || k === 'kind')) continue
      const sub = s.properties?.[k]
      const add = !sub && typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined
      if (!sub && !add) continue
      celRules(
        sub ?? add,
        x,
        sub ? child(p, k) : key(p, k),
        atomic ? undefined : oldMap?.[k],
        !atomic && oldMap !== undefined,
        same,
        false,
        out,
      )
    }
  }
}

/** What a rule sees as `self`: typed by the schema; at the root, apiVersion, kind and metadata.name/generateName. */
function celValue(v: unknown, s: any, root: boolean): unknown {
  if (!root || !v || typeof v !== 'object') return toCel(v, s)
  const {metadata, ...rest} = v as Record<string, any>
  const out = toCel(rest, s) as Record<string, unknown>
  const meta: Record<string, unknown> = {}
  if (metadata?.name !== undefined) meta.name = metadata.name
  if (metadata?.generateName !== undefined) meta.generateName = metadata.generateName
  out.metadata = meta
  return out
}

/** A rule's fieldPath (`.a.b` or `.a['b']`) below the rule's own path. */
function ruleFieldPath(p: Path, fieldPath: string): Path {
  let at = p
  for (const m of fieldPath.matchAll(/\.([^.[\]]+)|\['((?:[^'\\]|\\.)*)'\]/g)) at = child(at, m[1] ?? m[2])
  return at
}
