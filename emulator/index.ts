// Public entry of the Kubernetes API server emulator: an HTTPS kube-apiserver look-alike on 127.0.0.1
// for oc-mob's tests and demo.
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {request as httpsRequest} from 'node:https'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseAllDocuments} from 'yaml'
import {Authenticator} from './apiserver/auth.js'
import {defaultCrdDir, loadCrds} from './apiserver/crds.js'
import {FaultTable, type Faults} from './apiserver/faults.js'
import {ObjectService} from './apiserver/objects.js'
import {Registry, RESOURCES, apiVersionOf} from './apiserver/resources.js'
import {ApiServer, type RequestRecord} from './apiserver/server.js'
import {Store} from './apiserver/store.js'
import {createPki} from './pki.js'
import {parseGeneration, servesMachineOS} from './generation.js'

export {startFakeKubelet, type FakeKubelet} from './apiserver/fake-kubelet.js'
export {createCA} from './pki.js'

interface RestrictedIdentity {
  user: string
  token: string
  rules: Array<{verbs: string[]; resources: string[]; apiGroups?: string[]; namespaces?: string[]}>
}

export interface EmulatorOptions {
  /** optional API groups served; all default true but osImageStream (5.0/4.23+, default false). machineOS = machineosconfigs/machineosbuilds (false: a 4.14-style cluster) */
  groups?: {image?: boolean; build?: boolean; machine?: boolean; machineOS?: boolean; machineConfig?: boolean; osImageStream?: boolean}
  /** initial objects of any served kind */
  objects?: any[]
  /** path to a multi-document YAML file of initial objects (adds to `objects`) */
  fixture?: string
  /** how many past events (per resource) a watch can resume from (default 1000); older -> 410 Expired */
  watchHistory?: number
  /**
   * period of the etcd-like compaction (default 300000, kube-apiserver's 5 minutes; 0: never): each period
   * drops the revisions older than the previous one, and a watch from before them gets 410 Expired
   */
  compactionIntervalMs?: number
  /** extra identities with limited rights (the default "developer" may only get/list/watch, the default "restricted" has no bindings; an entry of either name replaces it) */
  restricted?: RestrictedIdentity[]
  /** default 0 (ephemeral) */
  port?: number
  /** where kubeconfigs and CA files are written (default: a new temp dir, removed on close) */
  dir?: string
  /** gitVersion reported by /version (default v1.27.16+openshift) */
  gitVersion?: string
  /** interval of BOOKMARK events on watches that allow them (default 1000 ms) */
  bookmarkIntervalMs?: number
  /** host:port prefix of ImageStream status.dockerImageRepository (default image-registry.openshift-image-registry.svc:5000) */
  imageRegistry?: string
  /** folder with the OpenShift CRD manifests (default: $OC_MOB_CRDS_DIR, else the project's copy in emulator/crds); false = don't use CRDs */
  crdDir?: string | false
  /**
   * remove the dependents of deleted owners (ownerReferences; background and foreground propagation) as the
   * controller-manager's garbage collector would (default true); a simulation turns it off and runs its own
   */
  garbageCollector?: boolean
  /** keep the User-Agent and body of every POST/PUT/PATCH in `requests` (for re-submitting them with dryRun=All) */
  recordWrites?: boolean
  /** offer HTTP/2 in the TLS handshake, as kube-apiserver does (default true; false: HTTP/1.1 only, as behind a proxy that speaks no HTTP/2) */
  http2?: boolean
}

export interface Emulator {
  /** https://127.0.0.1:PORT */
  url: string
  /** CA that signed the serving cert (and client certs) */
  caPem: string
  /** path of an admin kubeconfig (bearer token, certificate-authority-data), context "emulator" */
  kubeconfig: string
  /** writes & returns a kubeconfig path for an identity */
  kubeconfigFor(identity: 'admin' | 'developer' | 'cert' | 'bad-token' | 'insecure' | string): string
  /** user -> bearer token */
  tokens: Record<string, string>
  faults: Faults
  /** every request served, in order */
  requests: RequestRecord[]
  resetRequests(): void
  /** admin HTTPS call, JSON in/out */
  request(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{status: number; body: any; headers: Record<string, string>}>
  /** stops the server, ends all watches/log streams, removes the temp dir */
  close(): Promise<void>
  /** the directory holding kubeconfigs and ca.crt */
  dir: string
  /** the port the server listens on */
  port: number
  /** the current global resourceVersion */
  resourceVersion(): string
  /** compacts the watch history up to now, as etcd's compaction: watches from an earlier resourceVersion get 410 Expired */
  compact(): void
  /** issues a client certificate (PEM cert + key) signed by the emulator's CA */
  clientCertificate(user: string, groups?: string[]): {certPem: string; keyPem: string}
}

const SEED_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease']
const here = dirname(fileURLToPath(import.meta.url))

/** emulator/fixtures/default.yaml when it exists */
export function defaultFixturePath(): string | undefined {
  const p = join(here, 'fixtures', 'default.yaml')
  return existsSync(p) ? p : undefined
}

/** parses a multi-document YAML file into objects (List kinds are expanded) */
export function readFixture(path: string): any[] {
  const out: any[] = []
  for (const doc of parseAllDocuments(readFileSync(path, 'utf8'))) {
    if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors[0].message}`)
    const o = doc.toJS()
    if (o === null || o === undefined) continue
    out.push(o)
  }
  return out
}

function expandLists(objs: any[]): any[] {
  return objs.flatMap((o) =>
    o && typeof o.kind === 'string' && o.kind.endsWith('List') && Array.isArray(o.items) ? expandLists(o.items) : [o],
  )
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const groups = {image: true, build: true, machine: true, machineOS: true, ...(opts.groups ?? {})}
  const registry = new Registry(groups)
  const store = new Store(opts.watchHistory ?? 1000)
  const crdDir = opts.crdDir === false ? undefined : (opts.crdDir ?? defaultCrdDir())
  const crds = loadCrds(crdDir, registry.list)
  const pki = createPki()
  const kubeletClient = pki.client('system:kube-apiserver', ['kube-master'])
  const ownDir = !opts.dir
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'oc-mob-emulator-'))
  mkdirSync(dir, {recursive: true})

  const saRes = registry.find('', 'v1', 'serviceaccounts')!
  const objects: ObjectService = new ObjectService(store, registry, crds, {
    imageRegistry: opts.imageRegistry ?? 'image-registry.openshift-image-registry.svc:5000',
    garbageCollector: opts.garbageCollector ?? true,
    // the service account controller: every namespace gets a "default" ServiceAccount
    onNamespaceCreated: (ns) => {
      if (!store.get(saRes, ns, 'default'))
        objects.create(saRes, ns, {apiVersion: 'v1', kind: 'ServiceAccount', metadata: {name: 'default', namespace: ns}}, {load: true})
    },
  })

  // initial state
  const initial = expandLists([...(opts.objects ?? []), ...(opts.fixture ? readFixture(opts.fixture) : [])])
  const nsRes = registry.find('', 'v1', 'namespaces')!
  const isNs = (o: any) => o?.kind === 'Namespace' && (o.apiVersion ?? 'v1') === 'v1'
  for (const name of SEED_NAMESPACES) {
    if (!initial.some((o) => isNs(o) && o.metadata?.name === name))
      objects.create(nsRes, undefined, {apiVersion: 'v1', kind: 'Namespace', metadata: {name}}, {load: true})
  }
  for (const o of [...initial.filter(isNs), ...initial.filter((x) => !isNs(x))]) {
    if (!o || typeof o !== 'object') throw new Error('initial objects must be Kubernetes objects')
    const r = registry.forKind(String(o.apiVersion ?? ''), String(o.kind ?? ''))
    if (!r) {
      // kinds of an optional group that is switched off are left out silently
      if (RESOURCES.some((x) => apiVersionOf(x) === o.apiVersion && x.kind === o.kind)) continue
      throw new Error(
        `initial object ${o.kind ?? '?'} ${o.metadata?.name ?? '?'}: kind ${o.kind} of ${o.apiVersion} is not served by the emulator`,
      )
    }
    const ns = o.metadata?.namespace ?? (r.namespaced ? 'default' : undefined)
    // a fixture may spell out what the emulator creates by itself (seed namespaces, "default" service accounts)
    if (o.metadata?.name && store.get(r, ns, o.metadata.name) && (r === nsRes || (r === saRes && o.metadata.name === 'default'))) {
      store.remove(r, ns, o.metadata.name)
    }
    try {
      objects.create(r, ns, o, {load: true})
    } catch (error) {
      throw new Error(
        `initial object ${o.kind} ${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name}: ${(error as Error).message}`,
      )
    }
  }

  const auth = new Authenticator(opts.restricted ?? [])
  const faults = new FaultTable()
  const requests: RequestRecord[] = []
  const server = new ApiServer({
    store,
    registry,
    objects,
    crds,
    auth,
    faults,
    requests,
    tls: {key: pki.server.keyPem, cert: pki.server.certPem, ca: pki.ca.certPem},
    kubeletClient: {cert: kubeletClient.certPem, key: kubeletClient.keyPem},
    gitVersion: opts.gitVersion ?? 'v1.27.16+openshift',
    bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 1000,
    recordWrites: opts.recordWrites,
    http2: opts.http2,
  })
  const port = await server.listen(opts.port ?? 0)
  const url = `https://127.0.0.1:${port}`
  writeFileSync(join(dir, 'ca.crt'), pki.ca.certPem)
  const caData = Buffer.from(pki.ca.certPem).toString('base64')

  const kubeconfigText = (user: string, userBlock: string[], insecure = false) =>
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: emulator',
      '  cluster:',
      `    server: ${url}`,
      insecure ? '    insecure-skip-tls-verify: true' : `    certificate-authority-data: ${caData}`,
      'contexts:',
      '- name: emulator',
      '  context:',
      '    cluster: emulator',
      `    user: ${user}`,
      '    namespace: default',
      'current-context: emulator',
      'preferences: {}',
      'users:',
      `- name: ${user}`,
      '  user:',
      ...userBlock.map((l) => `    ${l}`),
      '',
    ].join('\n')

  const kubeconfigFor = (identity: string): string => {
    let text: string
    if (identity === 'cert') {
      const c = pki.client('admin', ['system:masters'])
      text = kubeconfigText('admin-cert', [
        `client-certificate-data: ${Buffer.from(c.certPem).toString('base64')}`,
        `client-key-data: ${Buffer.from(c.keyPem).toString('base64')}`,
      ])
    } else if (identity === 'bad-token') {
      text = kubeconfigText('bad-token', ['token: sha256~not-a-valid-token'])
    } else if (identity === 'insecure') {
      text = kubeconfigText('admin', [`token: ${auth.tokens.admin}`], true)
    } else {
      const tok = auth.tokens[identity]
      if (!tok) throw new Error(`unknown identity ${identity}: known are ${Object.keys(auth.tokens).join(', ')}, cert, bad-token, insecure`)
      text = kubeconfigText(identity, [`token: ${tok}`])
    }
    const p = join(dir, identity === 'admin' ? 'kubeconfig' : `kubeconfig-${identity.replace(/[^A-Za-z0-9_.-]/g, '_')}`)
    writeFileSync(p, text, {mode: 0o600})
    return p
  }
  const kubeconfig = kubeconfigFor('admin')

  const every = opts.compactionIntervalMs ?? 300_000
  const compaction = every > 0 ? setInterval(() => store.compactionTick(), every) : undefined
  compaction?.unref()

  let closed = false
  const emulator: Emulator = {
    url,
    port,
    dir,
    caPem: pki.ca.certPem,
    kubeconfig,
    kubeconfigFor,
    tokens: auth.tokens,
    faults,
    requests,
    resetRequests: () => {
      requests.length = 0
    },
    resourceVersion: () => String(store.rv),
    compact: () => store.compact(),
    clientCertificate: (user, g = []) => {
      const c = pki.client(user, g)
      return {certPem: c.certPem, keyPem: c.keyPem}
    },
    request: (method, path, body, headers = {}) =>
      new Promise((resolve, reject) => {
        const payload =
          body === undefined
            ? undefined
            : typeof body === 'string' || Buffer.isBuffer(body)
              ? Buffer.from(body as any)
              : Buffer.from(JSON.stringify(body))
        const req = httpsRequest(
          `${url}${path}`,
          {
            method,
            ca: pki.ca.certPem,
            headers: {
              Authorization: `Bearer ${auth.tokens.admin}`,
              Accept: 'application/json',
              ...(payload ? {'Content-Type': 'application/json', 'Content-Length': String(payload.length)} : {}),
              ...headers,
            },
          },
          (res) => {
            const chunks: Buffer[] = []
            res.on('data', (c) => chunks.push(c))
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8')
              let parsed: any = text
              try {
                parsed = text ? JSON.parse(text) : undefined
              } catch {
                // not JSON (logs, watch streams): keep the text
              }
              const h: Record<string, string> = {}
              for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h[k] = Array.isArray(v) ? v.join(', ') : v
              resolve({status: res.statusCode ?? 0, body: parsed, headers: h})
            })
            res.on('error', reject)
          },
        )
        req.on('error', reject)
        req.end(payload)
      }),
    close: async () => {
      if (closed) return
      closed = true
      if (compaction) clearInterval(compaction)
      await server.close()
      if (ownDir) rmSync(dir, {recursive: true, force: true})
    },
  }
  return emulator
}

// ---------------------------------------------------------------------------------------------------
// `npm run cluster` support, usable by other scripts that start the emulator plus more in one process.

/** Parses `npm run cluster` arguments into emulator options (the default fixture is used when present). */
export function parseClusterArgs(argv: string[]): EmulatorOptions {
  const o: EmulatorOptions = {groups: {}}
  let fixture = defaultFixturePath()
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const value = () => {
      const eq = a.indexOf('=')
      if (eq >= 0) return a.slice(eq + 1)
      const v = argv[++i]
      if (v === undefined) throw new Error(`${a} needs a value`)
      return v
    }
    const flag = a.split('=')[0]
    if (flag === '--fixture') fixture = value()
    else if (flag === '--port') o.port = Number(value())
    else if (flag === '--dir') o.dir = value()
    else if (a === '--no-image') o.groups!.image = false
    else if (a === '--no-build') o.groups!.build = false
    else if (a === '--no-machine') o.groups!.machine = false
    else if (flag === '--generation') o.groups!.machineOS = servesMachineOS(parseGeneration(value()))
    else if (a === '--no-machine-os') o.groups!.machineOS = false
    else if (a === '--no-fixture') fixture = undefined
    else
      throw new Error(
        `unknown argument ${a} (known: --generation 4.14|4.19, --fixture FILE, --no-fixture, --port N, --dir DIR, --no-image, --no-build, --no-machine, --no-machine-os)`,
      )
  }
  if (o.port !== undefined && !Number.isInteger(o.port)) throw new Error('--port needs a number')
  if (fixture) o.fixture = fixture
  return o
}

/** Prints the KUBECONFIG line on stdout and a short description on stderr. */
export function announce(
  em: Emulator,
  io: {out: NodeJS.WritableStream; err: NodeJS.WritableStream} = {out: process.stdout, err: process.stderr},
): void {
  io.out.write(`KUBECONFIG=${em.kubeconfig}\n`)
  io.err.write(`emulator listening on ${em.url}\n`)
  io.err.write(`  admin kubeconfig:      ${em.kubeconfig}\n`)
  io.err.write(`  developer kubeconfig:  ${em.kubeconfigFor('developer')} (may only get, list and watch)\n`)
  io.err.write(`  restricted kubeconfig: ${em.kubeconfigFor('restricted')} (a user with no RBAC bindings: everything is 403)\n`)
  io.err.write(`  CA: ${join(em.dir, 'ca.crt')}\n`)
  io.err.write('stop with Ctrl-C\n')
}

/** Resolves on the first SIGINT or SIGTERM. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (s: NodeJS.Signals) => {
      process.off('SIGINT', on)
      process.off('SIGTERM', on)
      resolve(s)
    }
    process.on('SIGINT', on)
    process.on('SIGTERM', on)
  })
}

/**
 * What `npm run cluster` does: start an emulator from CLI arguments, announce it, run until a signal,
 * then run `cleanups` (e.g. simulated controllers) and close the emulator.
 */
export async function runCluster(
  argv: string[],
  hooks: {started?: (em: Emulator) => Promise<void> | void; cleanups?: Array<() => Promise<void> | void>} = {},
): Promise<void> {
  const em = await startEmulator(parseClusterArgs(argv))
  try {
    await hooks.started?.(em)
    announce(em)
    await untilSignal()
  } finally {
    for (const c of hooks.cleanups ?? []) await c()
    await em.close()
  }
}
