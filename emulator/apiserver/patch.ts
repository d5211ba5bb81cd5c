// JSON merge patch (RFC 7386), JSON patch (RFC 6902) and the subset of strategic merge patch that
// built-in kinds need (maps merge; lists of named things merge by their key; directives $patch,
// $deleteFromPrimitiveList, $setElementOrder, $retainKeys).

const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v)

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return patch
  const out: Record<string, any> = isObj(target) ? {...target} : {}
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k]
    else out[k] = mergePatch(out[k], v)
  }
  return out
}

export class JsonPatchError extends Error {}

function decodePointer(path: string): string[] {
  if (path === '') return []
  if (!path.startsWith('/')) throw new JsonPatchError(`invalid JSON pointer: ${path}`)
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]))
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a)
    const kb = Object.keys(b)
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]))
  }
  return false
}
export {deepEqual}

/** Applies RFC 6902 operations to a deep copy of `doc`. Throws JsonPatchError on any failure. */
export function jsonPatch(doc: unknown, ops: any[]): unknown {
  let root: any = structuredClone(doc)
  const parentOf = (tokens: string[]): {parent: any; key: string} => {
    let cur = root
    for (const t of tokens.slice(0, -1)) {
      if (Array.isArray(cur)) {
        const i = Number(t)
        if (!/^\d+$/.test(t) || i >= cur.length) throw new JsonPatchError(`missing path element ${t}`)
        cur = cur[i]
      } else if (isObj(cur)) {
        if (!(t in cur)) throw new JsonPatchError(`doc is missing path: ${t}`)
        cur = cur[t]
      } else throw new JsonPatchError(`cannot traverse ${t}`)
    }
    return {parent: cur, key: tokens[tokens.length - 1]}
  }
  const get = (path: string): unknown => {
    const tokens = decodePointer(path)
    if (tokens.length === 0) return root
    const {parent, key} = parentOf(tokens)
    if (Array.isArray(parent)) {
      const i = Number(key)
      if (!/^\d+$/.test(key) || i >= parent.length) throw new JsonPatchError(`no element at ${path}`)
      return parent[i]
    }
    if (!isObj(parent) || !(key in parent)) throw new JsonPatchError(`no value at ${path}`)
    return parent[key]
  }
  const remove = (path: string): unknown => {
    const tokens = decodePointer(path)
    if (tokens.length === 0) throw new JsonPatchError('cannot remove the root')
    const {parent, key} = parentOf(tokens)
    if (Array.isArray(parent)) {
      const i = Number(key)
      if (!/^\d+$/.test(key) || i >= parent.length) throw new JsonPatchError(`no element at ${path}`)
      return parent.splice(i, 1)[0]
    }
    if (!isObj(parent) || !(key in parent)) throw new JsonPatchError(`no value at ${path}`)
    const v = parent[key]
    delete parent[key]
    return v
  }
  const add = (path: string, value: unknown, replace: boolean) => {
    const tokens = decodePointer(path)
    if (tokens.length === 0) {
      root = value
      return
    }
    const {parent, key} = parentOf(tokens)
    if (Array.isArray(parent)) {
      if (replace) {
        const i = Number(key)
        if (!/^\d+$/.test(key) || i >= parent.length) throw new JsonPatchError(`no element at ${path}`)
        parent[i] = value
        return
      }
      if (key === '-') parent.push(value)
      else {
        const i = Number(key)
        if (!/^\d+$/.test(key) || i > parent.length) throw new JsonPatchError(`index out of range at ${path}`)
        parent.splice(i, 0, value)
      }
    } else if (isObj(parent)) {
      if (replace && !(key in parent)) throw new JsonPatchError(`replace operation does not apply: doc is missing key: ${path}`)
      parent[key] = value
    } else throw new JsonPatchError(`cannot add at ${path}`)
  }
  for (const op of ops) {
    if (!isObj(op) || typeof op.path !== 'string') throw new JsonPatchError('invalid operation')
    switch (op.op) {
      case 'add':
        add(op.path, structuredClone(op.value), false)
        break
      case 'replace':
        add(op.path, structuredClone(op.value), true)
        break
      case 'remove':
        remove(op.path)
        break
      case 'move': {
        const v = remove(op.from)
        add(op.path, v, false)
        break
      }
      case 'copy':
        add(op.path, structuredClone(get(op.from)), false)
        break
      case 'test':
        if (!deepEqual(get(op.path), op.value)) throw new JsonPatchError(`testing value ${op.path} failed`)
        break
      default:
        throw new JsonPatchError(`unexpected kind: ${op.op}`)
    }
  }
  return root
}

// ---- strategic merge patch ----
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  env: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  ports: 'containerPort',
  conditions: 'type',
  imagePullSecrets: 'name',
  addresses: 'type',
  hostAliases: 'ip',
  ownerReferences: 'uid',
  secrets: 'name',
  resourceClaims: 'name',
}
const PRIMITIVE_MERGE = new Set(['finalizers'])

export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  return smpValue(target, patch)
}

function smpValue(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return structuredClone(patch)
  if (patch.$patch === 'replace') {
    const {$patch: _p, ...rest} = patch
    return stripDirectives(rest)
  }
  if (patch.$patch === 'delete') return undefined
  return smpMap(isObj(target) ? target : {}, patch)
}

function stripDirectives(v: any): any {
  if (Array.isArray(v)) return v.map(stripDirectives)
  if (!isObj(v)) return v
  const out: Record<string, any> = {}
  for (const [k, x] of Object.entries(v)) if (!k.startsWith('$')) out[k] = stripDirectives(x)
  return out
}

function smpMap(target: Record<string, any>, patch: Record<string, any>): Record<string, any> {
  const out: Record<string, any> = {...target}
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/')) continue
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length)
      if (Array.isArray(out[field]) && Array.isArray(v)) out[field] = out[field].filter((x: unknown) => !v.includes(x))
      continue
    }
    if (v === null) {
      delete out[k]
      continue
    }
    if (Array.isArray(v)) {
      out[k] = smpList(k, out[k], v)
      continue
    }
    const merged = smpValue(out[k], v)
    if (merged === undefined) delete out[k]
    else out[k] = merged
  }
  return out
}

function smpList(field: string, target: unknown, patch: any[]): any[] {
  const key = MERGE_KEYS[field]
  const cur = Array.isArray(target) ? target : []
  if (PRIMITIVE_MERGE.has(field)) {
    const out = [...cur]
    for (const v of patch) if (!out.includes(v)) out.push(v)
    return out
  }
  if (!key || !patch.every((p) => isObj(p) && key in p)) {
    if (patch.some((p) => isObj(p) && p.$patch === 'replace')) return stripDirectives(patch.filter((p) => !(isObj(p) && p.$patch)))
    return stripDirectives(patch)
  }
  const out = cur.map((x) => x)
  for (const p of patch) {
    const i = out.findIndex((x) => isObj(x) && x[key] === p[key])
    if (p.$patch === 'delete') {
      if (i >= 0) out.splice(i, 1)
      continue
    }
    if (i >= 0) out[i] = smpMap(out[i], p)
    else out.push(stripDirectives(p))
  }
  return out
}
