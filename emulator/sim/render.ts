// Render controller: merges the MachineConfigs a pool selects into one
// `rendered-<pool>-<hash>` MachineConfig and points the pool at it.
import {createHash} from 'node:crypto'
import {Informer, type SimClient, type Obj, R, matchesSelector} from './client.js'
import {type Logger, Loop} from './loop.js'
import {CONTROLLER_VERSION, GENERATED_BY_ANNOTATION, RELEASE_IMAGE_VERSION_ANNOTATION, RELEASE_VERSION} from './names.js'

const MC_API = 'machineconfiguration.openshift.io/v1'

export interface RenderInputs {
  /** ControllerConfig `spec.osImageURL` (the base OS image every rendered config carries). */
  osImageURL?: string
  baseOSExtensionsContainerImage?: string
}

/**
 * Merges Ignition configs in order. Simplified from Ignition's merge rules:
 * files, directories and links are keyed by path, systemd units by name and
 * users by name (later wins; a user's SSH keys are unioned); every other
 * top-level section is taken from the last config that has it.
 */
export function mergeIgnition(configs: Obj[]): Obj {
  const files = new Map<string, Obj>()
  const dirs = new Map<string, Obj>()
  const links = new Map<string, Obj>()
  const units = new Map<string, Obj>()
  const users = new Map<string, Obj>()
  const other: Obj = {}
  for (const c of configs) {
    if (!c) continue
    for (const f of c.storage?.files ?? []) files.set(f.path, f)
    for (const d of c.storage?.directories ?? []) dirs.set(d.path, d)
    for (const l of c.storage?.links ?? []) links.set(l.path, l)
    for (const u of c.systemd?.units ?? []) units.set(u.name, u)
    for (const u of c.passwd?.users ?? []) {
      const prev = users.get(u.name)
      const keys = [...(prev?.sshAuthorizedKeys ?? [])]
      for (const kk of u.sshAuthorizedKeys ?? []) if (!keys.includes(kk)) keys.push(kk)
      users.set(u.name, {...prev, ...u, ...(keys.length ? {sshAuthorizedKeys: keys} : {})})
    }
    for (const [kk, v] of Object.entries(c)) {
      if (!['ignition', 'storage', 'systemd', 'passwd'].includes(kk)) other[kk] = v
    }
  }
  const out: Obj = {ignition: {version: '3.4.0'}}
  if (users.size) out.passwd = {users: [...users.values()]}
  const storage: Obj = {}
  if (dirs.size) storage.directories = [...dirs.values()]
  if (files.size) storage.files = [...files.values()]
  if (links.size) storage.links = [...links.values()]
  if (Object.keys(storage).length) out.storage = storage
  if (units.size) out.systemd = {units: [...units.values()]}
  for (const kk of Object.keys(other).sort()) out[kk] = other[kk]
  return out
}

/** The MachineConfigs a pool selects (never other rendered configs), sorted by name. */
function selectConfigs(pool: Obj, mcs: Obj[]): Obj[] {
  return mcs
    .filter((mc) => !mc.metadata?.name?.startsWith('rendered-'))
    .filter((mc) => !mc.metadata?.deletionTimestamp)
    .filter((mc) => matchesSelector(pool.spec?.machineConfigSelector, mc.metadata?.labels))
    .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0))
}

/**
 * The merged spec of a set of MachineConfigs. Field order is fixed so the hash
 * is stable: osImageURL (last MC that sets it, else the ControllerConfig's),
 * extensions image, Ignition config, kernel arguments (concatenated),
 * extensions (union), fips (any), kernelType (last non-empty, else "default").
 */
function mergeSpec(configs: Obj[], inputs: RenderInputs): Obj {
  let osImageURL = inputs.osImageURL ?? ''
  let kernelType = ''
  let fips = false
  const kargs: string[] = []
  const extensions: string[] = []
  for (const mc of configs) {
    const s = mc.spec ?? {}
    if (s.osImageURL) osImageURL = s.osImageURL
    if (s.kernelType) kernelType = s.kernelType
    if (s.fips) fips = true
    for (const a of s.kernelArguments ?? []) kargs.push(a)
    for (const e of s.extensions ?? []) if (!extensions.includes(e)) extensions.push(e)
  }
  return {
    osImageURL,
    baseOSExtensionsContainerImage: inputs.baseOSExtensionsContainerImage ?? '',
    config: mergeIgnition(configs.map((mc) => mc.spec?.config)),
    kernelArguments: kargs,
    extensions,
    fips,
    kernelType: kernelType || 'default',
  }
}

/** JSON with object keys sorted at every level, so the hash ignores key order. */
function canonicalJSON(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJSON).join(',')}]`
  if (v && typeof v === 'object') {
    return `{${Object.keys(v as Obj)
      .filter((k) => (v as Obj)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJSON((v as Obj)[k])}`)
      .join(',')}}`
  }
  return JSON.stringify(v)
}

/** Hex md5 of the merged spec (32 hex characters), the suffix of `rendered-<pool>-<hash>`. */
export const specHash = (spec: Obj): string => createHash('md5').update(canonicalJSON(spec)).digest('hex')

export interface Rendered {
  name: string
  spec: Obj
  sources: Obj[]
}

/** What the render controller produces for a pool, or undefined when it selects nothing. */
export function renderPool(pool: Obj, mcs: Obj[], inputs: RenderInputs): Rendered | undefined {
  const selected = selectConfigs(pool, mcs)
  if (!selected.length) return undefined
  const spec = mergeSpec(selected, inputs)
  return {
    name: `rendered-${pool.metadata.name}-${specHash(spec)}`,
    spec,
    sources: selected.map((mc) => ({apiVersion: MC_API, kind: 'MachineConfig', name: mc.metadata.name})),
  }
}

/** The rendered MachineConfig object as the controller creates it. */
export function renderedObject(pool: Obj, r: Rendered): Obj {
  return {
    apiVersion: MC_API,
    kind: 'MachineConfig',
    metadata: {
      name: r.name,
      annotations: {
        [GENERATED_BY_ANNOTATION]: CONTROLLER_VERSION,
        [RELEASE_IMAGE_VERSION_ANNOTATION]: RELEASE_VERSION,
      },
      ownerReferences: [
        {
          apiVersion: MC_API,
          kind: 'MachineConfigPool',
          name: pool.metadata.name,
          uid: pool.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: r.spec,
  }
}

export const inputsFromControllerConfig = (cc: Obj | undefined): RenderInputs => ({
  osImageURL: cc?.spec?.osImageURL,
  baseOSExtensionsContainerImage: cc?.spec?.baseOSExtensionsContainerImage,
})

export class RenderController {
  private readonly pools: Informer
  private readonly mcs: Informer
  private readonly ccs: Informer
  private readonly loop: Loop

  constructor(
    private readonly client: SimClient,
    private readonly log: Logger,
    opts: {retryMs?: number; resyncMs?: number} = {},
  ) {
    const onError = (e: unknown) => log(`render: watch: ${(e as Error).message}`)
    this.pools = new Informer(client, R.pools, {onError})
    this.mcs = new Informer(client, R.machineconfigs, {onError})
    this.ccs = new Informer(client, R.controllerconfigs, {onError})
    this.loop = new Loop('render', () => this.pass(), {log, ...opts})
    const kick = () => this.loop.kick()
    this.pools.on(kick)
    this.mcs.on(kick)
    this.ccs.on(kick)
  }

  async start(): Promise<void> {
    await Promise.all([this.pools.start(), this.mcs.start(), this.ccs.start()])
    this.loop.start()
  }

  async stop(): Promise<void> {
    await this.loop.stop()
    await Promise.all([this.pools.stop(), this.mcs.stop(), this.ccs.stop()])
  }

  private async pass(): Promise<void> {
    const inputs = inputsFromControllerConfig(this.ccs.get('machine-config-controller'))
    const mcs = this.mcs.list()
    for (const pool of this.pools.list()) {
      if (pool.metadata?.deletionTimestamp) continue
      const r = renderPool(pool, mcs, inputs)
      if (!r) continue
      if (!this.mcs.get(r.name)) {
        try {
          await this.client.create(R.machineconfigs, undefined, renderedObject(pool, r))
          this.log(`render: generated machineconfig ${r.name} from ${r.sources.length} configs`)
        } catch (e) {
          if (!(e as any).status || (e as any).status !== 409) throw e
        }
      }
      if (pool.spec?.configuration?.name !== r.name) {
        await this.client.update(R.pools, undefined, pool.metadata.name, (p) => {
          if (p.spec?.configuration?.name === r.name) return false
          p.spec ??= {}
          p.spec.configuration = {name: r.name, source: r.sources}
        })
        this.log(`render: pool ${pool.metadata.name} now targets ${r.name}`)
      }
    }
  }
}
