// Create / update / patch / delete with the real server's rules: defaulting, validation, status
// subresource handling, generation, preconditions, finalizers, dry run and garbage collection.
import {randomUUID} from 'node:crypto'
import type {CrdInfo} from './crds.js'
import {fieldPath, OBJECT_META, pruneAndDefault, typedPath, unknownFieldPaths} from './crds.js'
import {
  ApiError,
  alreadyExists,
  badRequest,
  conflict,
  invalid,
  namespaceNotFound,
  notFound,
  q,
  unsupportedMediaType,
  type StatusCause,
} from './errors.js'
import {duplicateFields} from './strict-json.js'
import {deepEqual, jsonPatch, JsonPatchError, mergePatch, strategicMergePatch} from './patch.js'
import {apiVersionOf, qualifiedResource, type Registry, type ResourceDef} from './resources.js'
import type {Entry, Store} from './store.js'
import {validateCustomResource} from './schema-validation.js'
import {
  BUILTIN_SHAPE,
  type ManagedFieldsEntry,
  managedOnCreate,
  managedOnUpdate,
  objectFields,
  schemaShape,
  serverSideApply,
  type Shape,
} from './managed-fields.js'
import {
  badBase64Offset,
  forbiddenField,
  invalidValue,
  required,
  tooLong,
  validateConfigKeys,
  validateMetadata,
  validateName,
} from './validation.js'
import {parse as parseYaml} from 'yaml'

const MAX_DATA = 1048576
const NOT_READY = 'node.kubernetes.io/not-ready'
const FOREGROUND = 'foregroundDeletion'
const GEN_NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789'

/**
 * What the server does with fields of a custom resource its CRD does not know (?fieldValidation): drop them
 * silently, drop them and warn, or refuse the write. kube-apiserver's default is Warn.
 */
export type FieldValidation = 'Ignore' | 'Warn' | 'Strict'

export interface WriteOptions {
  dryRun?: boolean
  /** unset: Warn, as kube-apiserver defaults it */
  fieldValidation?: FieldValidation
  /** the keys the request's JSON body sets twice (strict-json.ts), reported under Warn and Strict for any kind */
  duplicates?: string[]
  /** loading initial objects: keep status, create missing namespaces */
  load?: boolean
  /** the field manager the write is recorded under (?fieldManager, else from the User-Agent) */
  manager?: string
}

interface ReplaceOptions extends WriteOptions {
  sub?: string
  /** managedFields computed by server-side apply (instead of those of an update) */
  managed?: ManagedFieldsEntry[]
}

export interface WriteResult {
  code: number
  /** JSON text of the response body */
  json: string
  obj: any
  /** `unknown field "spec.foo"` for each field dropped under fieldValidation=Warn (the answer's Warning headers) */
  warnings?: string[]
}

const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')
const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v)

export class ObjectService {
  constructor(
    readonly store: Store,
    readonly registry: Registry,
    readonly crds: Map<string, CrdInfo>,
    readonly opts: {
      imageRegistry: string
      onNamespaceCreated?: (ns: string) => void
      /**
       * collect dependents of deleted owners here (the controller-manager's garbage collector, for an emulator
       * without a simulation); false when a simulation runs its own controller-manager
       */
      garbageCollector?: boolean
    },
  ) {}

  hasStatus(r: ResourceDef) {
    return r.subresources.includes('status')
  }

  // ---------------------------------------------------------------- create
  create(r: ResourceDef, ns: string | undefined, body: unknown, o: WriteOptions & {applied?: any} = {}): WriteResult {
    const obj = this.decode(r, body)
    const warnings = this.unknownOnDecode(r, obj, o.fieldValidation, o.duplicates)
    const meta = obj.metadata
    if (r.namespaced) {
      if (meta.namespace && ns && meta.namespace !== ns)
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request')
      meta.namespace = ns ?? meta.namespace
      if (!meta.namespace) throw badRequest('the server could not find the requested resource')
    } else delete meta.namespace
    if (!meta.name && meta.generateName) {
      let n = ''
      for (let i = 0; i < 5; i++) n += GEN_NAME_CHARS[Math.floor(Math.random() * GEN_NAME_CHARS.length)]
      meta.name = String(meta.generateName) + n
    }
    if (!meta.name) throw invalid(r, '', [required('metadata.name', 'name or generateName is required')])
    if (r.namespaced && !this.store.get(this.ns(), undefined, meta.namespace)) {
      if (o.load) this.ensureNamespace(meta.namespace)
      else throw namespaceNotFound(meta.namespace)
    }
    if (!o.load && !o.dryRun && r.namespaced) {
      const nsObj = this.store.get(this.ns(), undefined, meta.namespace)?.obj
      if (nsObj?.metadata?.deletionTimestamp) {
        throw new ApiError(
          403,
          'Forbidden',
          `${qualifiedResource(r)} ${q(meta.name)} is forbidden: unable to create new content in namespace ${meta.namespace} because it is being terminated`,
          {name: meta.name, group: r.group || undefined, kind: r.plural},
        )
      }
    }
    // server-managed metadata
    for (const k of [
      'uid',
      'resourceVersion',
      'creationTimestamp',
      'deletionTimestamp',
      'deletionGracePeriodSeconds',
      'generation',
      'selfLink',
      'managedFields',
    ]) {
      if (!(o.load && (k === 'uid' || k === 'creationTimestamp'))) delete meta[k]
    }
    meta.uid ??= randomUUID()
    meta.creationTimestamp ??= now()
    if (r.generation !== 'none') meta.generation = 1
    if (!o.load && this.hasStatus(r) && r.kind !== 'Node') delete obj.status
    if (!o.load || r.kind !== 'Node') this.defaultOnCreate(r, obj)
    const out = this.prune(r, obj)
    if (!o.load) {
      const m = {manager: o.manager ?? '', apiVersion: apiVersionOf(r)}
      const shape = this.shape(r)
      if (o.applied) {
        const set = objectFields(o.applied, shape, {withMaps: false, status: this.hasStatus(r) ? 'without' : 'with'})
        out.metadata.managedFields = [
          {manager: m.manager, operation: 'Apply', apiVersion: m.apiVersion, time: now(), fieldsType: 'FieldsV1', fieldsV1: set},
        ]
      } else {
        const mf = managedOnCreate(out, shape, m, this.hasStatus(r) && r.kind !== 'Node')
        if (mf.length) out.metadata.managedFields = mf
      }
    }
    const causes = [...validateName(meta.name, r.nameRule), ...validateMetadata(meta), ...this.validate(r, obj, undefined)]
    if (!o.load) causes.push(...this.validateSchema(r, out, undefined, causes))
    if (causes.length) throw invalid(r, meta.name, causes)
    if (this.store.get(r, meta.namespace, meta.name)) throw alreadyExists(r, meta.name)
    if (o.dryRun) return {code: 201, json: JSON.stringify(out), obj: out, warnings}
    const e = this.store.put(r, out)
    if (r.plural === 'namespaces') this.opts.onNamespaceCreated?.(meta.name)
    return {code: 201, json: e.json, obj: e.obj, warnings}
  }

  private ns(): ResourceDef {
    return this.registry.find('', 'v1', 'namespaces')!
  }

  ensureNamespace(name: string) {
    if (this.store.get(this.ns(), undefined, name)) return
    this.create(this.ns(), undefined, {apiVersion: 'v1', kind: 'Namespace', metadata: {name}}, {load: true})
  }

  /** parses and checks apiVersion/kind of a request body, returning a mutable copy */
  decode(r: ResourceDef, body: unknown): any {
    if (!isObj(body)) throw badRequest(`the object provided is unrecognized (must be of type ${r.kind})`)
    const obj = structuredClone(body)
    const av = apiVersionOf(r)
    if (obj.apiVersion !== undefined && obj.apiVersion !== av && obj.apiVersion !== '') {
      throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${av})`)
    }
    if (obj.kind !== undefined && obj.kind !== r.kind && obj.kind !== '') {
      throw badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (${r.kind})`)
    }
    // apiVersion and kind first, as the real server serializes them
    const {apiVersion: _a, kind: _k, ...rest} = obj
    const out: any = {kind: r.kind, apiVersion: av, ...rest}
    if (!isObj(out.metadata)) out.metadata = {}
    // ObjectMeta leaves empty maps and lists out when it serializes
    for (const k of ['labels', 'annotations', 'finalizers', 'ownerReferences', 'managedFields']) {
      const v = out.metadata[k]
      if ((Array.isArray(v) && v.length === 0) || (isObj(v) && Object.keys(v).length === 0)) delete out.metadata[k]
    }
    if (r.kind === 'Secret') this.normalizeSecret(out)
    if (r.kind === 'ConfigMap') {
      for (const [k, v] of Object.entries<any>(out.binaryData ?? {})) {
        const bad = typeof v === 'string' ? badBase64Offset(v) : 0
        if (bad >= 0)
          throw badRequest(`ConfigMap in version "v1" cannot be handled as a ConfigMap: illegal base64 data at input byte ${bad}`)
        void k
      }
    }
    return out
  }

  private normalizeSecret(s: any) {
    for (const v of Object.values<any>(s.data ?? {})) {
      const bad = typeof v === 'string' ? badBase64Offset(v) : 0
      if (bad >= 0) throw badRequest(`Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte ${bad}`)
    }
    if (isObj(s.stringData)) {
      s.data = {...(s.data ?? {})}
      for (const [k, v] of Object.entries(s.stringData)) s.data[k] = Buffer.from(String(v), 'utf8').toString('base64')
    }
    delete s.stringData
  }

  private defaultOnCreate(r: ResourceDef, obj: any) {
    switch (r.kind) {
      case 'Namespace':
        obj.metadata.labels = {...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name}
        obj.spec = {finalizers: ['kubernetes'], ...(obj.spec ?? {})}
        obj.status = {phase: 'Active'}
        break
      case 'Secret':
        obj.type ||= 'Opaque'
        break
      case 'Pod':
        defaultPodSpec((obj.spec ??= {}))
        if (!obj.status) obj.status = {phase: 'Pending', qosClass: qosClass(obj.spec)}
        break
      case 'Deployment': {
        const s = (obj.spec ??= {})
        s.replicas ??= 1
        s.revisionHistoryLimit ??= 10
        s.progressDeadlineSeconds ??= 600
        s.strategy ??= {type: 'RollingUpdate', rollingUpdate: {maxUnavailable: '25%', maxSurge: '25%'}}
        if (s.template) defaultPodSpec((s.template.spec ??= {}))
        obj.status ??= {}
        break
      }
      case 'Job': {
        const s = (obj.spec ??= {})
        s.parallelism ??= 1
        s.completions ??= 1
        s.backoffLimit ??= 6
        s.completionMode ??= 'NonIndexed'
        s.suspend ??= false
        s.podReplacementPolicy ??= 'TerminatingOrFailed'
        if (!s.manualSelector) {
          const uid = obj.metadata.uid
          s.selector = {matchLabels: {'batch.kubernetes.io/controller-uid': uid}}
          const t = (s.template ??= {})
          t.metadata ??= {}
          t.metadata.labels = {
            ...(t.metadata.labels ?? {}),
            'batch.kubernetes.io/controller-uid': uid,
            'batch.kubernetes.io/job-name': obj.metadata.name,
            'controller-uid': uid,
            'job-name': obj.metadata.name,
          }
        }
        if (s.template) defaultPodSpec((s.template.spec ??= {}))
        obj.status ??= {}
        break
      }
      case 'ImageStream':
        obj.spec ??= {lookupPolicy: {local: false}}
        obj.status = {
          dockerImageRepository: `${this.opts.imageRegistry}/${obj.metadata.namespace}/${obj.metadata.name}`,
          ...(obj.status ?? {}),
        }
        break
      case 'Build':
        obj.status ??= {phase: 'New'}
        break
      case 'ServiceAccount':
        break
      case 'Node': {
        // the TaintNodesByCondition admission plugin: a new Node is not ready until its controller says so
        const taints = (obj.spec ??= {}).taints ?? []
        if (!taints.some((t: any) => t?.key === NOT_READY && t?.effect === 'NoSchedule'))
          obj.spec.taints = [...taints, {key: NOT_READY, effect: 'NoSchedule'}]
        break
      }
    }
  }

  private validate(r: ResourceDef, obj: any, old: any | undefined): StatusCause[] {
    const out: StatusCause[] = []
    switch (r.kind) {
      case 'ConfigMap': {
        out.push(...validateConfigKeys('data', obj.data), ...validateConfigKeys('binaryData', obj.binaryData))
        let size = 0
        for (const v of Object.values<any>(obj.data ?? {})) size += Buffer.byteLength(String(v), 'utf8')
        for (const v of Object.values<any>(obj.binaryData ?? {})) size += Buffer.from(String(v), 'base64').length
        if (size > MAX_DATA) out.push(tooLong('[]', MAX_DATA))
        break
      }
      case 'Secret': {
        out.push(...validateConfigKeys('data', obj.data))
        let size = 0
        for (const v of Object.values<any>(obj.data ?? {})) size += Buffer.from(String(v), 'base64').length
        if (size > MAX_DATA) out.push(tooLong('data', MAX_DATA))
        const data = obj.data ?? {}
        const need = (k: string) => {
          if (!(k in data)) out.push(required(`data[${k}]`))
          return k in data
        }
        if (obj.type === 'kubernetes.io/dockerconfigjson' && need('.dockerconfigjson'))
          checkJson(out, '.dockerconfigjson', data['.dockerconfigjson'])
        if (obj.type === 'kubernetes.io/dockercfg' && need('.dockercfg')) checkJson(out, '.dockercfg', data['.dockercfg'])
        if (obj.type === 'kubernetes.io/tls') {
          need('tls.crt')
          need('tls.key')
        }
        if (old && old.type !== obj.type) out.push(invalidValue('type', obj.type, 'field is immutable'))
        if (old?.immutable && (!deepEqual(old.data, obj.data) || !obj.immutable))
          out.push(forbiddenField('data', 'field is immutable when `immutable` is set'))
        break
      }
      case 'Pod': {
        const cs = obj.spec?.containers
        if (!Array.isArray(cs) || cs.length === 0) out.push(required('spec.containers'))
        else
          cs.forEach((c: any, i: number) => {
            if (!c?.name) out.push(required(`spec.containers[${i}].name`))
            if (!c?.image && !old) out.push(required(`spec.containers[${i}].image`))
          })
        if (old && !podSpecUpdateAllowed(old.spec, obj.spec)) {
          out.push(
            forbiddenField(
              'spec',
              'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
            ),
          )
        }
        break
      }
    }
    return out
  }

  /** a custom resource against its CRD's schema and validation rules (create: no `old`) */
  private validateSchema(r: ResourceDef, obj: any, old: any | undefined, prior: StatusCause[]): StatusCause[] {
    const schema = this.crds.get(r.plural)?.schema
    return schema ? validateCustomResource(schema, obj, old, prior) : []
  }

  /** how the kind's lists and maps merge, for field ownership */
  private shape(r: ResourceDef): Shape {
    const schema = this.crds.get(r.plural)?.schema
    return schema ? schemaShape(schema) : BUILTIN_SHAPE
  }

  private prune(r: ResourceDef, obj: any): any {
    const crd = this.crds.get(r.plural)
    if (!crd?.schema) return obj
    const out = pruneAndDefault(obj, crd.schema)
    if (isObj(out.metadata)) for (const k of Object.keys(out.metadata)) if (!OBJECT_META.has(k)) delete out.metadata[k]
    return out
  }

  /**
   * fieldValidation for a create or update body: keys set twice, and the fields of a custom resource its CRD
   * does not know, are refused (Strict: 400, as kube-apiserver's strict decoding answers) or become warnings
   * (Warn); unknown fields are pruned later either way. Built-in kinds have no schema here, so only their
   * duplicate keys are reported (a real server would check their fields against their Go types too).
   */
  private unknownOnDecode(r: ResourceDef, obj: any, fv: FieldValidation = 'Warn', duplicates: string[] = []): string[] | undefined {
    if (fv === 'Ignore') return undefined
    const unknown = [...duplicates.map((d) => `duplicate field ${q(d)}`), ...this.unknown(r, obj, fv)]
    if (!unknown.length) return undefined
    if (fv === 'Strict')
      throw badRequest(`${r.kind} in version ${q(r.version)} cannot be handled as a ${r.kind}: ${strictDecodingError(unknown)}`)
    return unknown
  }

  /** `unknown field "<path>"` for each field of a custom resource its CRD does not know (none under Ignore) */
  private unknown(r: ResourceDef, obj: any, fv: FieldValidation): string[] {
    if (fv === 'Ignore') return []
    const schema = this.crds.get(r.plural)?.schema
    return unknownFieldPaths(obj, schema).map((p) => `unknown field ${q(fieldPath(p))}`)
  }

  // ---------------------------------------------------------------- update
  /**
   * Replaces an object. `sub` = 'status' for the status subresource. `next` is the full desired object
   * (already decoded).
   */
  update(r: ResourceDef, ns: string | undefined, name: string, body: unknown, o: ReplaceOptions = {}): WriteResult {
    const cur = this.store.get(r, ns, name)
    if (!cur) throw notFound(r, name)
    const next = this.decode(r, body)
    const warnings = this.unknownOnDecode(r, next, o.fieldValidation, o.duplicates)
    return withWarnings(this.replace(r, cur, next, o), warnings)
  }

  private replace(r: ResourceDef, cur: Entry, next: any, o: ReplaceOptions): WriteResult {
    const old = cur.obj
    const name = old.metadata.name
    const meta = next.metadata
    if (meta.name !== undefined && meta.name !== '' && meta.name !== name) {
      throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${name})`)
    }
    if (r.namespaced && meta.namespace && meta.namespace !== old.metadata.namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request')
    }
    if (meta.resourceVersion && meta.resourceVersion !== old.metadata.resourceVersion) throw conflict(r, name)
    let obj: any
    if (o.sub === 'status') {
      obj = structuredClone(old)
      if (next.status === undefined) delete obj.status
      else obj.status = next.status
    } else {
      obj = next
      const m = obj.metadata
      m.name = name
      if (r.namespaced) m.namespace = old.metadata.namespace
      else delete m.namespace
      m.uid = old.metadata.uid
      m.creationTimestamp = old.metadata.creationTimestamp
      for (const k of ['deletionTimestamp', 'deletionGracePeriodSeconds', 'generation']) {
        if (old.metadata[k] !== undefined) m[k] = old.metadata[k]
        else delete m[k]
      }
      if (this.hasStatus(r)) {
        if (old.status === undefined) delete obj.status
        else obj.status = old.status
      }
      if (r.kind === 'Secret' && obj.type === undefined) obj.type = old.type
      if (r.kind === 'Namespace') obj.status = old.status
      if (r.generation !== 'none' && specChanged(r, old, obj, this.hasStatus(r))) m.generation = (old.metadata.generation ?? 0) + 1
    }
    obj.metadata.resourceVersion = old.metadata.resourceVersion
    obj = this.prune(r, obj)
    const causes = [...validateMetadata(obj.metadata), ...this.validate(r, obj, old)]
    causes.push(...this.validateSchema(r, obj, old, causes))
    if (causes.length) throw invalid(r, name, causes)
    this.recordManagers(r, old, obj, o)
    if (old.metadata.deletionTimestamp) {
      // finalizers may only be removed; once empty the object goes away
      if (!obj.metadata.finalizers || obj.metadata.finalizers.length === 0) {
        if (o.dryRun) return {code: 200, json: JSON.stringify(obj), obj}
        const e = this.store.put(r, obj)
        this.store.remove(r, old.metadata.namespace, name)
        this.collectDependents(old.metadata.uid)
        return {code: 200, json: e.json, obj: e.obj}
      }
    }
    if (deepEqual(obj, old)) return {code: 200, json: cur.json, obj: cur.obj}
    if (o.dryRun) return {code: 200, json: JSON.stringify(obj), obj}
    const e = this.store.put(r, obj)
    return {code: 200, json: e.json, obj: e.obj}
  }

  /** metadata.managedFields of the object an update, patch or apply writes */
  private recordManagers(r: ResourceDef, old: any, obj: any, o: ReplaceOptions) {
    const meta = obj.metadata
    if (o.managed) {
      if (o.managed.length) meta.managedFields = o.managed
      else delete meta.managedFields
      return
    }
    // managedFields the request carries replace the stored ones (an empty list keeps them; [{}] clears them)
    const given = meta.managedFields
    const base =
      Array.isArray(given) && given.length > 0 ? given.filter((e: any) => isObj(e) && isObj(e.fieldsV1)) : old.metadata.managedFields
    delete meta.managedFields
    const {managedFields: _m, ...oldMeta} = old.metadata
    if (deepEqual({...obj, metadata: meta}, {...old, metadata: oldMeta})) {
      if (base?.length) meta.managedFields = base
      return
    }
    const m = {manager: o.manager ?? '', apiVersion: apiVersionOf(r), subresource: o.sub}
    const live = {...old, metadata: {...old.metadata, managedFields: base}}
    const mf = managedOnUpdate(live, obj, this.shape(r), m, this.hasStatus(r) && r.kind !== 'Node')
    if (mf.length) meta.managedFields = mf
  }

  // ---------------------------------------------------------------- patch
  patch(
    r: ResourceDef,
    ns: string | undefined,
    name: string,
    raw: string,
    contentType: string,
    o: WriteOptions & {sub?: string; fieldManager?: string | null; force?: boolean} = {},
  ): WriteResult {
    const ct = contentType.split(';')[0].trim().toLowerCase()
    const accepted = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml']
    if (r.builtin) accepted.splice(2, 0, 'application/strategic-merge-patch+json')
    if (!accepted.includes(ct)) throw unsupportedMediaType(accepted)
    if (ct === 'application/apply-patch+yaml') return this.apply(r, ns, name, raw, o)
    const cur = this.store.get(r, ns, name)
    if (!cur) throw notFound(r, name)
    let patch: unknown
    try {
      patch = JSON.parse(raw)
    } catch (error) {
      throw badRequest(`error decoding patch: ${(error as Error).message}`)
    }
    const original = JSON.parse(cur.json)
    let result: any
    if (ct === 'application/json-patch+json') {
      if (!Array.isArray(patch)) {
        throw badRequest(`json: cannot unmarshal ${isObj(patch) ? 'object' : typeof patch} into Go value of type []handlers.jsonPatchOp`)
      }
      try {
        result = jsonPatch(original, patch)
      } catch (error) {
        if (error instanceof JsonPatchError)
          throw new ApiError(422, 'Invalid', 'the server rejected our request due to an error in our request', {})
        throw error
      }
    } else {
      if (!isObj(patch))
        throw badRequest(
          `json: cannot unmarshal ${Array.isArray(patch) ? 'array' : typeof patch} into Go value of type map[string]interface {}`,
        )
      result = ct === 'application/merge-patch+json' ? mergePatch(original, patch) : strategicMergePatch(original, patch)
    }
    if (!isObj(result)) throw badRequest('the patched object is not an object')
    if (!isObj(result.metadata)) result.metadata = {}
    // fieldValidation looks at the patched object, and refuses it as kube-apiserver's patch handler does: 422
    // with the patched object (its JSON, keys sorted as Go writes a map) as the invalid value of `patch`
    const fv = o.fieldValidation ?? 'Warn'
    // keys the patch sets twice come first (a JSON patch's own, as `json patch duplicate field "[1].path"`)
    const dups = fv === 'Ignore' ? [] : duplicateFields(raw)
    const unknown = [
      ...dups.map((d) => `${ct === 'application/json-patch+json' ? 'json patch ' : ''}duplicate field ${q(d)}`),
      ...this.unknown(r, result, fv),
    ]
    if (unknown.length && fv === 'Strict') {
      const detail = `Invalid value: ${q(JSON.stringify(sortKeys(result)))}: ${strictDecodingError(unknown)}`
      throw new ApiError(422, 'Invalid', ` "" is invalid: patch: ${detail}`, {
        causes: [{reason: 'FieldValueInvalid', message: detail, field: 'patch'}],
      })
    }
    // a resourceVersion carried by the patch is a precondition; otherwise the patch applies to the current object
    const patchedRV = result.metadata.resourceVersion
    const next = this.decode(r, result)
    next.metadata.resourceVersion = patchedRV === cur.obj.metadata.resourceVersion ? undefined : patchedRV
    return withWarnings(this.replace(r, cur, next, o), unknown.length ? unknown : undefined)
  }

  /** server-side apply: create if missing, otherwise merge the applied fields under the manager's ownership */
  private apply(
    r: ResourceDef,
    ns: string | undefined,
    name: string,
    raw: string,
    o: WriteOptions & {sub?: string; fieldManager?: string | null; force?: boolean},
  ): WriteResult {
    if (!o.fieldManager) throw badRequest('PATCH requests require fieldManager to be set when using server-side apply')
    let body: any
    try {
      body = parseYaml(raw)
    } catch (error) {
      throw badRequest(`error decoding YAML: ${(error as Error).message}`)
    }
    if (!isObj(body)) throw badRequest('error decoding YAML: the object is not a map')
    if (body.metadata?.name && body.metadata.name !== name) {
      throw badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`)
    }
    if (Array.isArray(body.metadata?.managedFields) && body.metadata.managedFields.length > 0)
      throw badRequest('metadata.managedFields must be nil')
    const applied = this.decode(r, body)
    // server-side apply converts the applied configuration to the schema's types, and a field the schema does
    // not declare fails that conversion whatever ?fieldValidation says (kube-apiserver answers it with a 500)
    const undeclared = unknownFieldPaths(applied, this.crds.get(r.plural)?.schema)
    if (undeclared.length) {
      const errs = undeclared.map((p) => `${typedPath(p)}: field not declared in schema`)
      const why = errs.length === 1 ? errs[0] : ['errors:', ...errs.map((e) => `  ${e}`)].join('\n')
      const gvk = `${r.group ? `${r.group}/` : '/'}${r.version}, Kind=${r.kind}`
      throw new ApiError(500, undefined, `failed to create typed patch object (${ns ?? ''}/${name}; ${gvk}): ${why}`)
    }
    const manager = o.fieldManager
    const cur = this.store.get(r, ns, name)
    if (!cur) {
      if (o.sub) throw notFound(r, name)
      const obj = {...applied, metadata: {...applied.metadata, name}}
      return this.create(r, ns, obj, {...o, manager, applied, fieldValidation: 'Ignore'})
    }
    const m = {manager, apiVersion: apiVersionOf(r), subresource: o.sub}
    const {obj, managedFields} = serverSideApply(JSON.parse(cur.json), applied, this.shape(r), m, {
      force: o.force === true,
      hasStatus: this.hasStatus(r) && r.kind !== 'Node',
    })
    const next = this.decode(r, obj)
    next.metadata.resourceVersion = applied.metadata.resourceVersion
    return this.replace(r, cur, next, {...o, manager, managed: managedFields})
  }

  // ---------------------------------------------------------------- delete
  delete(r: ResourceDef, ns: string | undefined, name: string, options: any = {}, o: WriteOptions = {}): WriteResult {
    const cur = this.store.get(r, ns, name)
    if (!cur) throw notFound(r, name)
    const old = cur.obj
    const pre = options?.preconditions
    if (pre?.uid && pre.uid !== old.metadata.uid) {
      throw conflict(r, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid}`)
    }
    if (pre?.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(
        r,
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`,
      )
    }
    let finalizers: string[] = old.metadata.finalizers ?? []
    // foreground propagation: the owner stays, marked, until the garbage collector has removed its dependents
    const foreground = options?.propagationPolicy === 'Foreground' && r.kind !== 'Namespace' && !old.metadata.deletionTimestamp
    if (foreground && !finalizers.includes(FOREGROUND)) finalizers = [...finalizers, FOREGROUND]
    if (finalizers.length > 0 && r.kind !== 'Namespace') {
      const obj = JSON.parse(cur.json)
      obj.metadata.finalizers = finalizers
      if (!obj.metadata.deletionTimestamp) {
        obj.metadata.deletionTimestamp = now()
        obj.metadata.deletionGracePeriodSeconds = 0
        if (r.generation !== 'none') obj.metadata.generation = (obj.metadata.generation ?? 0) + 1
      }
      if (o.dryRun) return {code: 200, json: JSON.stringify(obj), obj}
      if (old.metadata.deletionTimestamp) return {code: 200, json: cur.json, obj: cur.obj}
      const e = this.store.put(r, obj)
      if (finalizers.includes(FOREGROUND)) this.collectForeground(r, e.obj)
      return {code: 200, json: e.json, obj: e.obj}
    }
    if (r.kind === 'Pod') {
      // graceful deletion: a pod on a node stays (Terminating) until its kubelet deletes it with grace 0
      const grace = Number(options?.gracePeriodSeconds ?? old.spec?.terminationGracePeriodSeconds ?? 30)
      const immediate = !old.spec?.nodeName || ['Succeeded', 'Failed'].includes(old.status?.phase) || grace <= 0
      if (!immediate) {
        const current = old.metadata.deletionGracePeriodSeconds
        if (old.metadata.deletionTimestamp && current !== undefined && current <= grace) return {code: 200, json: cur.json, obj: cur.obj}
        const obj = JSON.parse(cur.json)
        obj.metadata.deletionTimestamp = new Date(Date.now() + grace * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')
        obj.metadata.deletionGracePeriodSeconds = grace
        if (o.dryRun) return {code: 200, json: JSON.stringify(obj), obj}
        const e = this.store.put(r, obj)
        return {code: 200, json: e.json, obj: e.obj}
      }
    }
    let shown: any = old
    if (r.kind === 'Namespace') {
      shown = JSON.parse(cur.json)
      shown.metadata.deletionTimestamp = now()
      shown.status = {phase: 'Terminating'}
    }
    if (!o.dryRun) {
      if (r.kind === 'Namespace') this.deleteNamespaceContents(name)
      const e = this.store.remove(r, ns, name)!
      if (r.kind !== 'Namespace') shown = e.obj
      if (options?.propagationPolicy !== 'Orphan' && options?.orphanDependents !== true) this.collectDependents(old.metadata.uid)
    }
    if (r.returnDeletedObject) return {code: 200, json: JSON.stringify(shown), obj: shown}
    const status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: {name, group: r.group || undefined, kind: r.plural, uid: old.metadata.uid},
    }
    return {code: 200, json: JSON.stringify(status), obj: status}
  }

  private deleteNamespaceContents(ns: string) {
    for (const r of this.registry.list) {
      if (!r.namespaced) continue
      for (const e of [...this.store.list(r, ns)]) this.store.remove(r, ns, e.obj.metadata.name)
    }
  }

  /** foreground garbage collection: the dependents of a marked owner go first, then its foregroundDeletion finalizer */
  private collectForeground(r: ResourceDef, owner: any) {
    if (this.opts.garbageCollector === false) return
    const uid = owner.metadata.uid
    setImmediate(() => {
      for (const d of this.registry.list) {
        for (const e of [...this.store.list(d)]) {
          if (!(e.obj.metadata.ownerReferences ?? []).some((x: any) => x?.uid === uid)) continue
          try {
            this.delete(d, e.obj.metadata.namespace, e.obj.metadata.name, {propagationPolicy: 'Foreground'})
          } catch {
            // already gone
          }
        }
      }
      const cur = this.store.get(r, owner.metadata.namespace, owner.metadata.name)
      if (!cur || cur.obj.metadata.uid !== uid) return
      const next = JSON.parse(cur.json)
      next.metadata.finalizers = (next.metadata.finalizers ?? []).filter((f: string) => f !== FOREGROUND)
      try {
        this.update(r, owner.metadata.namespace, owner.metadata.name, next, {manager: 'garbage-collector'})
      } catch {
        // changed meanwhile: the owner's next update settles it
      }
    })
  }

  /** background garbage collection of objects owned by `uid` */
  private collectDependents(uid: string) {
    if (this.opts.garbageCollector === false) return
    setImmediate(() => {
      for (const r of this.registry.list) {
        for (const e of [...this.store.list(r)]) {
          const refs = e.obj.metadata.ownerReferences
          if (!Array.isArray(refs) || !refs.some((x: any) => x?.uid === uid)) continue
          try {
            this.delete(r, e.obj.metadata.namespace, e.obj.metadata.name, {propagationPolicy: 'Background'})
          } catch {
            // already gone
          }
        }
      }
    })
  }
}

function checkJson(out: StatusCause[], key: string, b64: unknown) {
  try {
    JSON.parse(Buffer.from(String(b64), 'base64').toString('utf8'))
  } catch (error) {
    out.push(invalidValue(`data[${key}]`, '<secret contents redacted>', (error as Error).message))
  }
}

function defaultPodSpec(s: any) {
  s.restartPolicy ??= 'Always'
  s.terminationGracePeriodSeconds ??= 30
  s.dnsPolicy ??= 'ClusterFirst'
  s.securityContext ??= {}
  s.schedulerName ??= 'default-scheduler'
  s.serviceAccountName ??= s.serviceAccount ?? 'default'
  s.serviceAccount ??= s.serviceAccountName
  s.enableServiceLinks ??= true
  s.preemptionPolicy ??= 'PreemptLowerPriority'
  s.priority ??= 0
  const tol = (s.tolerations ??= [])
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    if (!tol.some((t: any) => t?.key === key || (t?.operator === 'Exists' && !t?.key)))
      tol.push({key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300})
  }
  for (const list of [s.containers, s.initContainers]) {
    for (const c of Array.isArray(list) ? list : []) {
      if (!isObj(c)) continue
      c.resources ??= {}
      c.terminationMessagePath ??= '/dev/termination-log'
      c.terminationMessagePolicy ??= 'File'
      if (!c.imagePullPolicy) {
        const img = String(c.image ?? '')
        const tag = img.includes('@') ? 'digest' : /:[^/]+$/.exec(img)?.[0].slice(1)
        c.imagePullPolicy = !tag || tag === 'latest' ? 'Always' : 'IfNotPresent'
      }
    }
  }
}

function qosClass(spec: any): string {
  const cs = [...(spec.containers ?? []), ...(spec.initContainers ?? [])]
  const any = cs.some((c: any) => Object.keys(c?.resources?.requests ?? {}).length || Object.keys(c?.resources?.limits ?? {}).length)
  if (!any) return 'BestEffort'
  const guaranteed = cs.every((c: any) => {
    const l = c?.resources?.limits ?? {}
    const rq = c?.resources?.requests ?? {}
    return l.cpu && l.memory && (!rq.cpu || rq.cpu === l.cpu) && (!rq.memory || rq.memory === l.memory)
  })
  return guaranteed ? 'Guaranteed' : 'Burstable'
}

function podSpecUpdateAllowed(oldSpec: any, newSpec: any): boolean {
  const a = structuredClone(oldSpec ?? {})
  const b = structuredClone(newSpec ?? {})
  for (const s of [a, b]) {
    for (const list of [s.containers, s.initContainers]) for (const c of Array.isArray(list) ? list : []) if (isObj(c)) delete c.image
    delete s.activeDeadlineSeconds
    delete s.terminationGracePeriodSeconds
  }
  const ta: any[] = a.tolerations ?? []
  const tb: any[] = b.tolerations ?? []
  if (!ta.every((t) => tb.some((x) => deepEqual(x, t)))) return false
  delete a.tolerations
  delete b.tolerations
  return deepEqual(a, b)
}

function specChanged(r: ResourceDef, old: any, next: any, hasStatus: boolean): boolean {
  switch (r.generation) {
    case 'spec':
      return !deepEqual(old.spec, next.spec)
    case 'spec+annotations':
      return !deepEqual(old.spec, next.spec) || !deepEqual(old.metadata.annotations, next.metadata.annotations)
    case 'content': {
      const strip = (o: any) => {
        const {metadata: _m, status: _s, ...rest} = o
        return hasStatus ? rest : {...rest, status: _s}
      }
      return !deepEqual(strip(old), strip(next))
    }
    default:
      return false
  }
}

/** kube-apiserver's strict decoding error: its messages joined by ", " */
function strictDecodingError(messages: string[]): string {
  return `strict decoding error: ${messages.join(', ')}`
}

function withWarnings(out: WriteResult, warnings: string[] | undefined): WriteResult {
  return warnings?.length ? {...out, warnings} : out
}

/** a copy with every map's keys in order, as Go's encoding/json writes a map */
function sortKeys(v: any): any {
  if (Array.isArray(v)) return v.map(sortKeys)
  if (!isObj(v)) return v
  const out: Record<string, any> = {}
  for (const k of Object.keys(v).sort()) out[k] = sortKeys(v[k])
  return out
}
