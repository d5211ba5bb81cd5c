// Label and field selectors with kube-apiserver's semantics.
import {badRequest} from './errors.js'
import type {ResourceDef} from './resources.js'

type LabelReq =
  | {op: 'exists' | '!'; key: string}
  | {op: '=' | '!='; key: string; value: string}
  | {op: 'in' | 'notin'; key: string; values: string[]}
  | {op: 'gt' | 'lt'; key: string; value: number}

export type LabelSelector = (labels: Record<string, string> | undefined) => boolean

const KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/

function splitTop(s: string): string[] {
  const out: string[] = []
  let depth = 0
  let cur = ''
  for (const ch of s) {
    if (ch === '(') depth++
    if (ch === ')') depth--
    if (ch === ',' && depth === 0) {
      out.push(cur)
      cur = ''
    } else cur += ch
  }
  out.push(cur)
  return out
}

function parseLabelReq(raw: string): LabelReq {
  const s = raw.trim()
  let m: RegExpMatchArray | null
  if ((m = s.match(/^(\S+?)\s+(in|notin)\s*\(([^)]*)\)$/))) {
    const values = m[3].split(',').map((v) => v.trim())
    checkKey(m[1])
    return {op: m[2] as 'in' | 'notin', key: m[1], values}
  }
  if ((m = s.match(/^([^=!<>\s]+)\s*(==|=|!=)\s*(.*)$/))) {
    checkKey(m[1])
    return {op: m[2] === '!=' ? '!=' : '=', key: m[1], value: m[3].trim()}
  }
  if ((m = s.match(/^([^=!<>\s]+)\s*([<>])\s*(-?\d+)$/))) {
    checkKey(m[1])
    return {op: m[2] === '>' ? 'gt' : 'lt', key: m[1], value: Number(m[3])}
  }
  if ((m = s.match(/^!\s*(\S+)$/))) {
    checkKey(m[1])
    return {op: '!', key: m[1]}
  }
  if (/^\S+$/.test(s)) {
    checkKey(s)
    return {op: 'exists', key: s}
  }
  throw badRequest(`unable to parse requirement: found '${s}', expected: in, notin, =, ==, !=, gt, lt`)
}

function checkKey(key: string) {
  if (!KEY.test(key))
    throw badRequest(
      `unable to parse requirement: invalid label key "${key}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
    )
}

export function parseLabelSelector(sel: string | null | undefined): LabelSelector | undefined {
  if (!sel?.trim()) return undefined
  const reqs = splitTop(sel)
    .filter((p) => p.trim() !== '')
    .map(parseLabelReq)
  return (labels) => {
    const l = labels ?? {}
    for (const r of reqs) {
      const has = Object.hasOwn(l, r.key)
      const v = l[r.key]
      switch (r.op) {
        case 'exists':
          if (!has) return false
          break
        case '!':
          if (has) return false
          break
        case '=':
          if (!has || v !== r.value) return false
          break
        case '!=':
          if (has && v === r.value) return false
          break
        case 'in':
          if (!has || !r.values.includes(v)) return false
          break
        case 'notin':
          if (has && r.values.includes(v)) return false
          break
        case 'gt':
          if (!has || !(Number(v) > r.value)) return false
          break
        case 'lt':
          if (!has || !(Number(v) < r.value)) return false
          break
      }
    }
    return true
  }
}

export type FieldSelector = (obj: any) => boolean

interface FieldReq {
  field: string
  neg: boolean
  value: string
}

function unescapeField(v: string): string {
  return v.replace(/\\(.)/g, '$1')
}

export function parseFieldSelector(sel: string | null | undefined, r: ResourceDef): {match: FieldSelector; reqs: FieldReq[]} | undefined {
  if (!sel?.trim()) return undefined
  const reqs: FieldReq[] = []
  for (const part of sel.split(/(?<!\\),/)) {
    if (!part.trim()) continue
    const m = part.match(/^([^=!]+?)\s*(==|=|!=)\s*(.*)$/)
    if (!m) throw badRequest(`invalid selector: '${sel}'; can't understand '${part}'`)
    reqs.push({field: m[1].trim(), neg: m[2] === '!=', value: unescapeField(m[3])})
  }
  const getters = reqs.map((req) => {
    const get = fieldGetter(req.field, r)
    if (!get) throw badRequest(`field label not supported: ${req.field}`)
    return {get, ...req}
  })
  return {
    reqs,
    match: (o) => getters.every((g) => (g.get(o) === g.value) !== g.neg),
  }
}

function fieldGetter(field: string, r: ResourceDef): ((o: any) => string) | undefined {
  if (field === 'metadata.name') return (o) => o.metadata?.name ?? ''
  if (field === 'metadata.namespace' && (r.namespaced || r.plural === 'namespaces')) return (o) => o.metadata?.namespace ?? ''
  if (field === 'metadata.namespace') return () => ''
  return r.fields?.[field]
}
