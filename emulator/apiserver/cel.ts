// The CEL environment of x-kubernetes-validations rules: a CEL evaluator from npm (@marcbachmann/cel-js) with
// optional types, extended with the parts of the Kubernetes CEL library that CRD rules use (the `format`
// library; `matches`, `split`, `timestamp`, `has` and the list macros are standard or come with the evaluator).
// Values are handed to CEL typed by their schema, as kube-apiserver does: integers as int, numbers as double.
import {Environment, Optional} from '@marcbachmann/cel-js'
import {DNS1035_MSG, LABEL_MSG, LABEL_VALUE_MSG, QUALIFIED_MSG, SUBDOMAIN_MSG} from './validation.js'

class FormatLibrary {}

/** A named format of the Kubernetes `format` library: `format.dns1123Label().validate(s)`. */
class Format {
  constructor(
    readonly name: string,
    readonly check: (s: string) => string[],
  ) {}
}

const RX = {
  label: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
  subdomain: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
  dns1035: /^[a-z]([-a-z0-9]*[a-z0-9])?$/,
  qualified: /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/,
  labelValue: /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/,
  uuid: /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
  date: /^\d{4}-\d{2}-\d{2}$/,
  base64: /^[A-Za-z0-9+/]*={0,2}$/,
}

const maxLen = (s: string, n: number) => (s.length > n ? [`must be no more than ${n} characters`] : [])

export const isDateTime = (s: string) =>
  /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s.replace(' ', 'T')))

const FORMATS: Record<string, (s: string) => string[]> = {
  dns1123Label: (s) => [...maxLen(s, 63), ...(RX.label.test(s) ? [] : [LABEL_MSG])],
  dns1123Subdomain: (s) => [...maxLen(s, 253), ...(RX.subdomain.test(s) ? [] : [SUBDOMAIN_MSG])],
  dns1035Label: (s) => [...maxLen(s, 63), ...(RX.dns1035.test(s) ? [] : [DNS1035_MSG])],
  qualifiedName: (s) => {
    const parts = s.split('/')
    const name = parts.at(-1) ?? ''
    const out: string[] = []
    if (parts.length > 2)
      return [
        "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
      ]
    if (parts.length === 2) out.push(...(RX.subdomain.test(parts[0]) ? [] : [`prefix part ${SUBDOMAIN_MSG}`]))
    if (!name) out.push('name part must be non-empty')
    else out.push(...maxLen(name, 63).map((m) => `name part ${m}`), ...(RX.qualified.test(name) ? [] : [QUALIFIED_MSG]))
    return out
  },
  labelValue: (s) => [...maxLen(s, 63), ...(RX.labelValue.test(s) ? [] : [LABEL_VALUE_MSG])],
  uuid: (s) => (RX.uuid.test(s) ? [] : ['does not match the UUID format']),
  date: (s) => (RX.date.test(s) && !Number.isNaN(Date.parse(s)) ? [] : ['does not match the date format']),
  datetime: (s) => (isDateTime(s) ? [] : ['does not match the date-time format']),
  byte: (s) => (RX.base64.test(s) && s.length % 4 === 0 ? [] : ['invalid base64']),
}

function makeEnv(): Environment {
  const env = new Environment({enableOptionalTypes: true, homogeneousAggregateLiterals: false})
    .registerType('kubernetes.FormatLibrary', FormatLibrary)
    .registerType('kubernetes.NamedFormat', Format)
    .registerConstant('format', 'kubernetes.FormatLibrary', new FormatLibrary())
    .registerVariable('self', 'dyn')
    .registerVariable('oldSelf', 'dyn')
    .registerFunction('kubernetes.NamedFormat.validate(string): optional<list<string>>', (f: Format, s: string) => {
      const errs = f.check(s)
      return errs.length ? Optional.of(errs) : Optional.none()
    })
  for (const [name, check] of Object.entries(FORMATS)) {
    env.registerFunction(`kubernetes.FormatLibrary.${name}(): kubernetes.NamedFormat`, () => new Format(name, check))
  }
  return env
}

let shared: Environment | undefined
const compiled = new Map<string, (ctx: Record<string, unknown>) => unknown>()

/** Compiles a rule once; throws the evaluator's error for a rule that does not parse. */
export function compileRule(expr: string): (ctx: Record<string, unknown>) => unknown {
  let fn = compiled.get(expr)
  if (!fn) {
    shared ??= makeEnv()
    const parsed = shared.parse(expr)
    fn = (ctx) => parsed(ctx)
    compiled.set(expr, fn)
  }
  return fn
}

/** Whether a rule refers to oldSelf (a transition rule). */
export function usesOldSelf(expr: string): boolean {
  return /(^|[^A-Za-z0-9_.])oldSelf\b/.test(expr)
}

/** JSON value -> CEL value, typed by its schema (integers become int, everything numeric else double). */
export function toCel(v: unknown, s: any): unknown {
  if (v === null || v === undefined) return v
  if (Array.isArray(v)) return v.map((x) => toCel(x, s?.items))
  if (typeof v === 'number') {
    const t = s?.type
    if (t === 'number') return v
    if (t === 'integer' || (!t && Number.isInteger(v)) || s?.['x-kubernetes-int-or-string']) return Number.isInteger(v) ? BigInt(v) : v
    return v
  }
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      const sub = s?.properties?.[k] ?? (typeof s?.additionalProperties === 'object' ? s.additionalProperties : undefined)
      out[k] = toCel(x, sub)
    }
    return out
  }
  return v
}

export {Optional}
