// meta.k8s.io/v1 Table rendering (what `kubectl get` asks for with Accept: ...;as=Table).
import {humanDuration, NAME_COLUMN, type Column, type ResourceDef} from './resources.js'

export function wantsTable(accept: string | undefined): boolean {
  if (!accept) return false
  return accept.split(',').some((part) => /;\s*as=Table/.test(part) && /;\s*g=meta\.k8s\.io/.test(part))
}

function tableVersion(accept: string | undefined): string {
  const first = (accept ?? '').split(',').find((p) => /;\s*as=Table/.test(p))
  return first && /;\s*v=v1beta1/.test(first) ? 'meta.k8s.io/v1beta1' : 'meta.k8s.io/v1'
}

export interface TableOptions {
  accept?: string
  includeObject?: string | null
  columns: Column[]
}

function cell(col: Column, o: any): unknown {
  const v = col.value(o)
  if (col.type === 'date') {
    if (!v) return col.name === 'Age' ? '<unknown>' : null
    const t = Date.parse(String(v))
    return Number.isNaN(t) ? String(v) : humanDuration(Date.now() - t)
  }
  if (v === undefined || v === null) return null
  if (typeof v === 'object') return JSON.stringify(v)
  return v
}

export function columnsFor(res: ResourceDef, crdColumns?: Column[]): Column[] {
  if (crdColumns) return [NAME_COLUMN, ...crdColumns]
  return [NAME_COLUMN, ...(res.columns ?? [])]
}

function tableRows(objs: any[], opts: TableOptions): any[] {
  const include = opts.includeObject ?? 'Metadata'
  return objs.map((o) => {
    const row: any = {cells: opts.columns.map((c) => cell(c, o))}
    if (include === 'Object') row.object = o
    else if (include !== 'None') row.object = {kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata}
    return row
  })
}

export function toTable(objs: any[], listMeta: Record<string, unknown>, opts: TableOptions, withColumns = true): any {
  const t: any = {kind: 'Table', apiVersion: tableVersion(opts.accept), metadata: listMeta}
  if (withColumns) {
    t.columnDefinitions = opts.columns.map((c) => ({
      name: c.name,
      type: c.type === 'date' ? 'string' : c.type,
      format: c.format ?? '',
      description: c.description,
      priority: c.priority,
    }))
  } else t.columnDefinitions = null
  t.rows = tableRows(objs, opts)
  return t
}
