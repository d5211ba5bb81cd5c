// Optional use of the OpenShift CRD manifests (when the shared CRD folder is present): printer columns
// for tables, and structural pruning/defaulting of custom resources per their openAPIV3Schema.
import {existsSync, readFileSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseAllDocuments} from 'yaml'
import type {Column, ResourceDef} from './resources.js'

export interface CrdInfo {
  columns: Column[]
  schema?: any
}

/** Where the CRDs are looked for: $OC_MOB_CRDS_DIR, else `../shared/crds` beside the repository root. */
export function defaultCrdDir(): string | undefined {
  if (process.env.OC_MOB_CRDS_DIR) return existsSync(process.env.OC_MOB_CRDS_DIR) ? process.env.OC_MOB_CRDS_DIR : undefined
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
  const dir = join(repoRoot, '..', 'shared', 'crds')
  return existsSync(dir) ? dir : undefined
}

export function loadCrds(dir: string | undefined, resources: ResourceDef[]): Map<string, CrdInfo> {
  const out = new Map<string, CrdInfo>()
  if (!dir) return out
  for (const r of resources) {
    if (!r.crd) continue
    const file = join(dir, r.crd)
    if (!existsSync(file)) continue
    for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
      const crd = doc.toJS()
      if (crd?.kind !== 'CustomResourceDefinition' || crd.spec?.names?.plural !== r.plural) continue
      const ver = (crd.spec.versions ?? []).find((v: any) => v.name === r.version)
      if (!ver) continue
      const columns: Column[] = [
        ...(ver.additionalPrinterColumns ?? []).map((c: any) => {
          const path = parseJsonPath(c.jsonPath)
          return {
            name: c.name,
            type: c.type,
            format: c.format ?? '',
            description: c.description ?? '',
            priority: c.priority ?? 0,
            value: (o: any) => {
              const v = evalJsonPath(o, path)
              return v.length ? v[0] : undefined
            },
          } satisfies Column
        }),
      ]
      if (!columns.some((c) => c.name === 'Age')) {
        columns.push({name: 'Age', type: 'date', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.', priority: 0, value: (o) => o.metadata?.creationTimestamp})
      }
      out.set(r.plural, {columns, schema: ver.schema?.openAPIV3Schema})
    }
  }
  return out
}

// ---- pruning and defaulting (structural schema) ----
export function pruneAndDefault(obj: any, schema: any): any {
  if (!schema) return obj
  const out = walk(obj, schema, true)
  return out
}

function walk(v: any, s: any, root = false): any {
  if (!s || v === null || v === undefined) return v
  if (Array.isArray(v)) {
    return s.items ? v.map((x) => walk(x, s.items)) : v
  }
  if (typeof v !== 'object') return v
  if (s['x-kubernetes-preserve-unknown-fields'] && !s.properties && !s.additionalProperties) return v
  const out: Record<string, any> = {}
  const props = s.properties ?? {}
  for (const [k, x] of Object.entries(v)) {
    if (root && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) out[k] = x
    else if (s['x-kubernetes-embedded-resource'] && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) out[k] = x
    else if (props[k]) out[k] = walk(x, props[k])
    else if (s.additionalProperties && typeof s.additionalProperties === 'object') out[k] = walk(x, s.additionalProperties)
    else if (s.additionalProperties === true || s['x-kubernetes-preserve-unknown-fields']) out[k] = x
    // else: pruned
  }
  for (const [k, ps] of Object.entries<any>(props)) {
    if (!(k in out) && ps && ps.default !== undefined) out[k] = structuredClone(ps.default)
  }
  return out
}

// ---- a small JSONPath for printer columns: .a.b, .a\.b, [n], [*], [?(@.x=="y")] ----
type Step = {key: string} | {index: number} | {all: true} | {filter: {path: string[]; value: string}}

export function parseJsonPath(expr: string): Step[] {
  let s = expr.trim()
  if (s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1)
  if (s.startsWith('$')) s = s.slice(1)
  const steps: Step[] = []
  let i = 0
  while (i < s.length) {
    if (s[i] === '.') {
      i++
      let key = ''
      while (i < s.length && s[i] !== '.' && s[i] !== '[') {
        if (s[i] === '\\' && i + 1 < s.length) {
          key += s[i + 1]
          i += 2
        } else key += s[i++]
      }
      if (key) steps.push({key})
    } else if (s[i] === '[') {
      const end = s.indexOf(']', i)
      const inner = s.slice(i + 1, end)
      i = end + 1
      if (inner === '*') steps.push({all: true})
      else if (/^\d+$/.test(inner)) steps.push({index: Number(inner)})
      else {
        const m = inner.match(/^\?\(@((?:\.[\w-]+)+)\s*==\s*["']([^"']*)["']\)$/)
        if (m) steps.push({filter: {path: m[1].slice(1).split('.'), value: m[2]}})
        else if (/^['"].*['"]$/.test(inner)) steps.push({key: inner.slice(1, -1)})
      }
    } else i++
  }
  return steps
}

export function evalJsonPath(obj: any, steps: Step[]): any[] {
  let cur: any[] = [obj]
  for (const st of steps) {
    const next: any[] = []
    for (const c of cur) {
      if (c === null || c === undefined) continue
      if ('key' in st) {
        if (typeof c === 'object' && !Array.isArray(c) && st.key in c) next.push(c[st.key])
      } else if ('index' in st) {
        if (Array.isArray(c) && st.index < c.length) next.push(c[st.index])
      } else if ('all' in st) {
        if (Array.isArray(c)) next.push(...c)
        else if (typeof c === 'object') next.push(...Object.values(c))
      } else if ('filter' in st) {
        if (!Array.isArray(c)) continue
        for (const e of c) {
          let v: any = e
          for (const p of st.filter.path) v = v?.[p]
          if (v !== undefined && String(v) === st.filter.value) next.push(e)
        }
      }
    }
    cur = next
  }
  return cur
}
