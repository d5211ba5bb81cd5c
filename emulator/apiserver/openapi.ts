// OpenAPI v3 discovery (/openapi/v3 and one document per group-version), built from the CRDs the emulator
// carries and a small schema set for the core kinds: what `kubectl explain` reads.
import {createHash} from 'node:crypto'
import type {CrdInfo} from './crds.js'
import type {Registry, ResourceDef} from './resources.js'

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1'
const ref = (name: string, description: string, extra: Record<string, unknown> = {}) => ({
  description,
  ...extra,
  allOf: [{$ref: `#/components/schemas/${name}`}],
})
const str = (description: string) => ({type: 'string', description})
const strMap = (description: string) => ({type: 'object', description, additionalProperties: {type: 'string', default: ''}})
const strList = (description: string) => ({type: 'array', description, items: {type: 'string', default: ''}})

/** ObjectMeta and the types it points to, in the emulator's own words */
const META_SCHEMAS: Record<string, any> = {
  [`${META}.ObjectMeta`]: {
    type: 'object',
    description: 'The metadata every persisted object carries: its identity, labels, annotations and lifecycle.',
    properties: {
      name: str('The object name, unique in its namespace (or cluster-wide for cluster-scoped kinds).'),
      generateName: str('A prefix the server completes with a random suffix when name is empty.'),
      namespace: str('The namespace the object lives in; empty for cluster-scoped kinds.'),
      uid: str('A value the server assigns at creation that is unique over time.'),
      resourceVersion: str('An opaque version the server changes on every write; used for optimistic concurrency and watches.'),
      generation: {type: 'integer', format: 'int64', description: 'Counts changes to the desired state.'},
      creationTimestamp: ref(`${META}.Time`, 'When the server created the object.'),
      deletionTimestamp: ref(`${META}.Time`, 'When the object is to be deleted; set by the server on a graceful delete.'),
      deletionGracePeriodSeconds: {type: 'integer', format: 'int64', description: 'Seconds the object is given to terminate.'},
      labels: strMap('Keys and values used to select and group objects.'),
      annotations: strMap('Keys and values for tools to store non-identifying data.'),
      ownerReferences: {
        type: 'array',
        description: 'The objects this one depends on; when every owner is gone the object is garbage collected.',
        items: {default: {}, allOf: [{$ref: `#/components/schemas/${META}.OwnerReference`}]},
        'x-kubernetes-list-map-keys': ['uid'],
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-patch-merge-key': 'uid',
        'x-kubernetes-patch-strategy': 'merge',
      },
      finalizers: {...strList('Conditions to meet before the object is removed from storage.'), 'x-kubernetes-list-type': 'set'},
      managedFields: {
        type: 'array',
        description: 'Which field manager owns which fields, as recorded by the server on every write.',
        items: {default: {}, allOf: [{$ref: `#/components/schemas/${META}.ManagedFieldsEntry`}]},
      },
    },
  },
  [`${META}.OwnerReference`]: {
    type: 'object',
    description: 'Identifies an owner of an object.',
    required: ['apiVersion', 'kind', 'name', 'uid'],
    properties: {
      apiVersion: {...str('API version of the owner.'), default: ''},
      kind: {...str('Kind of the owner.'), default: ''},
      name: {...str('Name of the owner.'), default: ''},
      uid: {...str('UID of the owner.'), default: ''},
      controller: {type: 'boolean', description: 'True when the owner is the managing controller.'},
      blockOwnerDeletion: {type: 'boolean', description: 'True when the owner cannot be deleted in the foreground before this object.'},
    },
    'x-kubernetes-map-type': 'atomic',
  },
  [`${META}.ManagedFieldsEntry`]: {
    type: 'object',
    description: 'The fields one manager owns, and the operation that made it their owner.',
    properties: {
      manager: str('The name of the field manager.'),
      operation: str('Apply or Update.'),
      apiVersion: str('The version of the resource the fields are written in.'),
      time: ref(`${META}.Time`, 'When the entry last changed.'),
      fieldsType: str('The format of fieldsV1; always FieldsV1.'),
      fieldsV1: ref(`${META}.FieldsV1`, 'The owned fields as a tree.'),
      subresource: str('The subresource the fields were written through, if any.'),
    },
  },
  [`${META}.FieldsV1`]: {type: 'object', description: 'A set of fields in the FieldsV1 tree form.'},
  [`${META}.Time`]: {type: 'string', format: 'date-time', description: 'A timestamp in RFC 3339 form, to the second.'},
}

const objectMeta = ref(`${META}.ObjectMeta`, 'Standard object metadata.', {default: {}})
const typeMeta = {
  apiVersion: str('The versioned schema of this representation of the object.'),
  kind: str('The REST resource this object represents.'),
}

/** the core kinds the emulator documents: their top-level fields (enough for `kubectl explain`) */
const CORE: Record<string, {description: string; properties: Record<string, unknown>}> = {
  ConfigMap: {
    description: 'Non-secret configuration data for pods and controllers to read.',
    properties: {
      data: strMap('UTF-8 values by key.'),
      binaryData: {
        type: 'object',
        description: 'Binary values by key, base64-encoded.',
        additionalProperties: {type: 'string', format: 'byte'},
      },
      immutable: {type: 'boolean', description: 'When true the data can no longer change.'},
    },
  },
  Secret: {
    description: 'Sensitive data such as credentials, tokens or keys.',
    properties: {
      data: {type: 'object', description: 'Values by key, base64-encoded.', additionalProperties: {type: 'string', format: 'byte'}},
      stringData: strMap('Write-only plain values, merged into data by the server.'),
      type: str('What the secret holds, e.g. Opaque or kubernetes.io/dockerconfigjson.'),
      immutable: {type: 'boolean', description: 'When true the data can no longer change.'},
    },
  },
  Namespace: {
    description: 'A scope for names; objects in it are removed when it is deleted.',
    properties: {
      spec: {
        type: 'object',
        description: 'The finalizers of the namespace.',
        properties: {finalizers: strList('Finalizers of the namespace.')},
      },
      status: {type: 'object', description: 'The phase of the namespace.', properties: {phase: str('Active or Terminating.')}},
    },
  },
  Node: {
    description: 'A machine in the cluster that runs pods.',
    properties: {
      spec: {
        type: 'object',
        description: 'How the node is configured.',
        properties: {
          unschedulable: {type: 'boolean', description: 'When true no new pods are scheduled to the node.'},
          taints: {type: 'array', description: 'Taints that keep pods without a matching toleration away.', items: {type: 'object'}},
          providerID: str('The identity of the machine at its provider.'),
        },
      },
      status: {type: 'object', description: 'What the kubelet last reported about the node.'},
    },
  },
  Pod: {
    description: 'A group of containers scheduled together on one node.',
    properties: {
      spec: {
        type: 'object',
        description: 'The desired containers, volumes and scheduling of the pod.',
        properties: {
          containers: {type: 'array', description: 'The containers of the pod.', items: {type: 'object'}},
          nodeName: str('The node the pod is bound to.'),
          restartPolicy: str('Always, OnFailure or Never.'),
          serviceAccountName: str('The service account the pod runs as.'),
        },
      },
      status: {type: 'object', description: 'The observed state of the pod.'},
    },
  },
  ServiceAccount: {
    description: 'An identity for processes that run in pods.',
    properties: {
      secrets: {type: 'array', description: 'Secrets the service account may use.', items: {type: 'object'}},
      imagePullSecrets: {type: 'array', description: 'Secrets used to pull images for pods of this account.', items: {type: 'object'}},
    },
  },
}

const reversedGroup = (g: string) => g.split('.').reverse().join('.')
const schemaName = (r: ResourceDef) => (r.group ? `${reversedGroup(r.group)}.${r.version}.${r.kind}` : `io.k8s.api.core.v1.${r.kind}`)
const gvk = (r: ResourceDef) => [{group: r.group, kind: r.kind, version: r.version}]

/** the path of a group-version under /openapi/v3 (`api/v1`, `apis/<group>/<version>`) */
const gvPath = (group: string, version: string) => (group ? `apis/${group}/${version}` : `api/${version}`)

const queryParam = (name: string, description: string, schema: Record<string, unknown> = {type: 'string'}) => ({
  name,
  in: 'query',
  description,
  schema,
})

/** the query parameters of a PATCH; kubectl leaves checking unknown fields to the server when fieldValidation is among them */
const PATCH_PARAMETERS = [
  queryParam('dryRun', 'All: check the request without storing anything.'),
  queryParam('fieldManager', 'The name of the actor making the change, for field ownership.'),
  queryParam('fieldValidation', 'Ignore, Warn (the default) or Strict: what to do with fields the schema does not know.'),
  queryParam('force', 'Server-side apply only: take over fields other managers own.', {type: 'boolean'}),
]

/**
 * The path of one object of a kind: its GET operation names the kind (explain finds the schema by it), its
 * PATCH operation the query parameters the server takes.
 */
function objectPath(r: ResourceDef): [string, unknown] {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`
  const path = `${base}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.plural}/{name}`
  const get = {
    description: `read the specified ${r.kind}`,
    operationId: `read${r.kind}`,
    responses: {'200': {description: 'OK', content: {'application/json': {schema: {$ref: `#/components/schemas/${schemaName(r)}`}}}}},
    'x-kubernetes-action': 'get',
    'x-kubernetes-group-version-kind': gvk(r)[0],
  }
  const patch = {
    description: `partially update the specified ${r.kind}`,
    operationId: `patch${r.kind}`,
    parameters: PATCH_PARAMETERS,
    responses: {'200': {description: 'OK', content: {'application/json': {schema: {$ref: `#/components/schemas/${schemaName(r)}`}}}}},
    'x-kubernetes-action': 'patch',
    'x-kubernetes-group-version-kind': gvk(r)[0],
  }
  return [path, {get, patch}]
}

export class OpenApiV3 {
  private docs = new Map<string, string>()

  constructor(registry: Registry, crds: Map<string, CrdInfo>, gitVersion: string) {
    const byGv = new Map<string, Record<string, any>>()
    const pathsByGv = new Map<string, Record<string, unknown>>()
    for (const r of registry.list) {
      let schema: any
      const crd = crds.get(r.plural)
      if (crd?.schema) {
        schema = structuredClone(crd.schema)
        schema.properties = {...schema.properties, metadata: objectMeta}
      } else if (!r.group && CORE[r.kind]) {
        const c = CORE[r.kind]
        schema = {type: 'object', description: c.description, properties: {...typeMeta, metadata: objectMeta, ...c.properties}}
      } else continue
      schema['x-kubernetes-group-version-kind'] = gvk(r)
      const path = gvPath(r.group, r.version)
      const schemas = byGv.get(path) ?? {...META_SCHEMAS}
      schemas[schemaName(r)] = schema
      byGv.set(path, schemas)
      const paths = pathsByGv.get(path) ?? {}
      const [p, ops] = objectPath(r)
      paths[p] = ops
      pathsByGv.set(path, paths)
    }
    for (const [path, schemas] of byGv) {
      const doc = {openapi: '3.0.0', info: {title: 'Kubernetes', version: gitVersion}, paths: pathsByGv.get(path), components: {schemas}}
      this.docs.set(path, JSON.stringify(doc))
    }
  }

  /** the root: each group-version's document with a hash of its content, as clients cache them by it */
  root(): string {
    const paths: Record<string, {serverRelativeURL: string}> = {}
    for (const [path, body] of [...this.docs].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const hash = createHash('sha512').update(body).digest('hex').slice(0, 128).toUpperCase()
      paths[path] = {serverRelativeURL: `/openapi/v3/${path}?hash=${hash}`}
    }
    return JSON.stringify({paths})
  }

  /** one group-version's document (`api/v1`, `apis/<group>/<version>`), or undefined */
  doc(path: string): string | undefined {
    return this.docs.get(path)
  }
}
