/**
 * `oc mob setup`: the seed's "Prerequisites" and "Initial Setup" as one idempotent operation.
 *
 * 1. Resolve the input: from flags, or (on a terminal, when values are missing) from a wizard that
 *    offers what it discovered in the cluster. Without a terminal a missing value is an error that
 *    names its flag.
 * 2. Plan: for every object (ImageStream, the clone of the global pull secret, the build settings,
 *    the pool, the opt-in label) decide create / update / unchanged / conflict, with a diff for
 *    objects that exist and differ (conflicts are only overwritten with --force).
 * 3. Preflight checks: permissions (SelfSubjectAccessReview), secrets and their registry credentials,
 *    the global pull secret, the pullspec, degraded pools, the custom Dockerfile, the builder.
 * 4. Confirm, then apply in order. A failure midway says what was done and what was not; running the
 *    same command again completes the setup (what is already there counts as unchanged).
 */
import {readFile} from 'node:fs/promises'
import {type OsImage, readOsImage} from '../build/inputs.js'
import {ExitCode, MobError} from '../errors.js'
import {ApiError} from '../kube/api-error.js'
import {confirmationNeeded} from '../ui/confirm.js'
import type {KubeClient} from '../kube/client.js'
import {discover} from '../kube/discovery.js'
import {R} from '../kube/resources.js'
import type {KubeObject, LabelSelector, MachineConfigPool, Secret} from '../kube/types.js'
import {waitFor} from '../kube/watch.js'
import {ReadCache} from '../kube/read-cache.js'
import {GLOBAL_PULL_SECRET, MCO_NAMESPACE, ON_CLUSTER_BUILD_CONFIG, OPENSHIFT_CONFIG_NAMESPACE} from '../mco/constants.js'
import {DOCKER_CONFIG_JSON, DockerSecretError, dockerConfigFromFile, parseDockerSecret, registriesIn} from '../registry/auth.js'
import {accessCheck} from './access.js'
import {BUILDER_TYPES, sameSecretName} from './configmap/backend.js'
import {redactSecret, sameSecretContent, secretView, unifiedDiff, yamlOf} from './diff.js'
import {type BuilderKind, type BuildSettings, detectBackend, type LayeringBackend, type Step} from './generation.js'
import {INTERNAL_REGISTRY, isBuilderSecret, settingsChecks, throwIfFailed} from './preflight.js'
import type {RegistryCheck} from './registry-check.js'
import {type Access, type Check, objectRef, type PlanItem} from './types.js'
import type {Prompter} from '../ui/confirm.js'
import {askSetupInput, type WizardContext} from './wizard.js'
import {replaceStep, unchangedStep} from './steps.js'
import {compareText} from '../order.js'

const NS = MCO_NAMESPACE
export const DEFAULT_POOL = 'layering'
export const GLOBAL_PULL_SECRET_COPY = 'global-pull-secret-copy'
const ROLE_LABEL = 'machineconfiguration.openshift.io/role'

/** What the user asked for (flags or wizard answers). Undefined means "not given". */
export interface SetupInput {
  pool?: string
  /** External registry: where the built image is pushed. */
  finalPullspec?: string
  /** Internal registry: an ImageStream in the MCO namespace (created when missing). */
  imageStream?: string
  basePullSecret?: string
  cloneGlobalPullSecret?: boolean
  pushSecret?: string
  /** A docker config file to create (or, with --force, update) the push secret `pushSecret` from. */
  pushSecretFile?: string
  /** Path of a file with the pool's custom Dockerfile ("": none, and the wizard does not ask). */
  customDockerfile?: string
  builder?: BuilderKind
  /** Also opt the pool in (label it). */
  enable?: boolean
  /** Node selector of a new pool: `key=value` or `key` (value ""). */
  nodeSelector?: string
  /** Roles whose MachineConfigs a new pool takes (machineConfigSelector role In [...]). */
  configRoles?: string[]
}

export interface SetupPlan {
  /** The cluster-side API generation, e.g. `configmap`. */
  generation: string
  pool: string
  /** The pool does not exist yet and is created. */
  newPool: boolean
  target: {kind: 'external' | 'imagestream'; imageStream?: string; pullspec: string}
  settings: {
    baseImagePullSecret: string
    finalImagePushSecret: string
    finalImagePullspec: string
    imageBuilderType: string
    customDockerfile: string | null
  }
  enable: boolean
  /** The pool is (or, with enable, will be) opted into on-cluster builds. */
  optedIn: boolean
  checks: Check[]
  items: PlanItem[]
  /** Things worth knowing about the plan (what the builder choice means, rotation, canonical copies). */
  notes: string[]
  /** Settings no flag gave, kept at their current values (without a terminal, re-runs change only what is given). */
  kept: KeptSetting[]
}

export type KeptSetting = 'baseImagePullSecret' | 'finalImagePullspec' | 'finalImagePushSecret' | 'imageBuilderType'

export interface SetupResult extends SetupPlan {
  outcome: 'applied' | 'cancelled' | 'dry-run' | 'unchanged'
  /** The objects created or changed, in order (`kind/name`). */
  applied: string[]
}

export interface SetupOptions {
  dryRun?: boolean
  force?: boolean
  /** Do not ask for confirmation. */
  yes?: boolean
  /** Ask for missing values (a terminal is there). Without it, missing values keep their current settings, or are errors naming their flag. */
  ask?: Prompter
  /** Ask whether to go ahead with the plan; without it (and without yes) a plan with changes is refused. */
  confirm?: (plan: SetupPlan) => Promise<boolean>
  onChecks?: (checks: Check[]) => void
  onPlan?: (plan: SetupPlan) => void
  onStep?: (text: string) => void
  /** Log into the registries with the secrets about to be configured (doctor's probes); left out: no registry is asked. */
  registryCheck?: RegistryCheck
  signal?: AbortSignal
}

function usage(message: string, next: string): MobError {
  return new MobError(message, {code: 'MissingValue', exitCode: ExitCode.Usage, next})
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

export function checkPoolName(name: string): string | undefined {
  if (!DNS_LABEL.test(name) || name.length > 63)
    return `"${name}" is not a valid pool name (lower-case letters, digits and -, at most 63 characters)`
  return undefined
}

export function parseNodeSelector(text: string): {key: string; value: string} {
  const t = text.trim()
  const eq = t.indexOf('=')
  const key = eq < 0 ? t : t.slice(0, eq)
  const value = eq < 0 ? '' : t.slice(eq + 1)
  if (
    !/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(key) ||
    !/^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/.test(value)
  ) {
    throw usage(`"${text}" is not a node label (KEY or KEY=VALUE)`, 'use for example --node-selector node-role.kubernetes.io/layering=')
  }

  return {key, value}
}

export function poolManifest(name: string, roles: string[], selector: {key: string; value: string}): MachineConfigPool {
  return {
    apiVersion: 'machineconfiguration.openshift.io/v1',
    kind: 'MachineConfigPool',
    metadata: {name},
    spec: {
      machineConfigSelector: {matchExpressions: [{key: ROLE_LABEL, operator: 'In', values: roles}]},
      nodeSelector: {matchLabels: {[selector.key]: selector.value}},
    },
  }
}

function imageStreamManifest(name: string): KubeObject {
  return {apiVersion: 'image.openshift.io/v1', kind: 'ImageStream', metadata: {name, namespace: NS}}
}

interface ImageStream extends KubeObject {
  status?: {dockerImageRepository?: string}
}

/** What the cluster holds that setup (and its wizard) chooses from. */
interface Inventory {
  pools: MachineConfigPool[]
  secrets: Secret[]
  imageStreams: ImageStream[]
  imageApi: boolean
  buildApi: boolean
  globalPullSecret?: Secret
  osImage?: OsImage
  osImageProblem?: string
}

async function readInventory(client: KubeClient): Promise<Inventory> {
  const d = await discover(client)
  const [pools, secrets, imageStreams, globalPullSecret, osImage] = await Promise.all([
    client.list<MachineConfigPool>(R.machineConfigPools),
    client.list<Secret>(R.secrets, {namespace: NS}),
    d.image ? client.list<ImageStream>(R.imageStreams, {namespace: NS}) : Promise.resolve({items: [] as ImageStream[], metadata: {}}),
    client.find<Secret>(R.secrets, GLOBAL_PULL_SECRET, OPENSHIFT_CONFIG_NAMESPACE),
    readOsImage(client).then(
      (o) => ({o}),
      (error: unknown) => ({e: (error as Error).message}),
    ),
  ])
  return {
    buildApi: d.build,
    globalPullSecret,
    imageApi: d.image,
    imageStreams: imageStreams.items,
    osImage: 'o' in osImage ? osImage.o : undefined,
    osImageProblem: 'e' in osImage ? osImage.e : undefined,
    pools: pools.items,
    secrets: secrets.items,
  }
}

/** The builder service account's docker config secret for the internal registry, if any. */
export function findBuilderSecret(secrets: Secret[]): Secret | undefined {
  return secrets
    .filter((s) => isBuilderSecret(s))
    .sort((a, b) => compareText(b.metadata.creationTimestamp ?? '', a.metadata.creationTimestamp ?? ''))[0]
}

function wizardContext(inv: Inventory, current: BuildSettings | undefined, backend: LayeringBackend): WizardContext {
  const docker = inv.secrets
    .filter((s) => s.type === 'kubernetes.io/dockerconfigjson' || s.type === 'kubernetes.io/dockercfg')
    .filter((s) => !s.metadata.name!.endsWith('-canonical'))
    .map((s) => {
      let registries: string[] = []
      try {
        registries = registriesIn(parseDockerSecret(s).auths)
      } catch {
        registries = []
      }

      return {builder: isBuilderSecret(s), name: s.metadata.name!, registries}
    })
    .sort((a, b) => compareText(a.name, b.name))
  return {
    builderSecret: findBuilderSecret(inv.secrets)?.metadata.name,
    current,
    defaultBuilder: backend.defaultBuilder,
    globalPullSecretCopy: GLOBAL_PULL_SECRET_COPY,
    imageApi: inv.imageApi,
    imageStreams: inv.imageStreams.map((i) => ({name: i.metadata.name!, repository: i.status?.dockerImageRepository})),
    machineOS: backend.generation === 'machineosconfig',
    pools: inv.pools,
    secrets: docker,
  }
}

/** Whether the input lacks something setup cannot default. */
function missingValues(input: SetupInput, generation: LayeringBackend['generation'] = 'configmap'): string[] {
  const missing: string[] = []
  if (!input.finalPullspec && !input.imageStream) missing.push('--final-pullspec or --imagestream')
  // A MachineOSConfig without a base image pull secret pulls with the cluster's global pull secret.
  if (!input.basePullSecret && !input.cloneGlobalPullSecret && generation === 'configmap')
    missing.push('--base-pull-secret or --clone-global-pull-secret')
  if (input.finalPullspec && !input.pushSecret) missing.push('--push-secret')
  return missing
}

function checkExclusive(input: SetupInput): void {
  if (input.pushSecretFile && !input.pushSecret)
    throw usage(
      '--push-secret-from-file needs --push-secret NAME: the name of the secret it creates',
      'give both, e.g. `--push-secret os-image-push --push-secret-from-file ~/.docker/config.json`',
    )
  if (input.finalPullspec && input.imageStream)
    throw usage('--final-pullspec and --imagestream exclude each other', 'give the external registry pullspec or the ImageStream, not both')
  if (input.basePullSecret && input.cloneGlobalPullSecret)
    throw usage(
      '--base-pull-secret and --clone-global-pull-secret exclude each other',
      'pick an existing secret or clone the global pull secret, not both',
    )
}

async function readDockerfile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    throw new MobError(
      `cannot read the custom Dockerfile ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
      {
        exitCode: ExitCode.Usage,
        next: 'give the path of a readable file with --custom-dockerfile',
      },
    )
  }
}

async function planImageStream(
  client: KubeClient,
  inv: Inventory,
  name: string,
): Promise<{step: Step; pullspec: string; resolve: () => Promise<string>}> {
  const predicted = `${INTERNAL_REGISTRY}/${NS}/${name}`
  const existing = inv.imageStreams.find((i) => i.metadata.name === name)
  const item = {kind: 'ImageStream', name, namespace: NS}
  if (existing) {
    const repo = existing.status?.dockerImageRepository || predicted
    return {
      pullspec: repo,
      resolve: async () => repo,
      step: unchangedStep({...item, manifest: imageStreamManifest(name), summary: `exists (${repo})`}),
    }
  }

  let resolved: string | undefined
  return {
    pullspec: predicted,
    resolve: async () => resolved ?? predicted,
    step: {
      access: [{group: 'image.openshift.io', namespace: NS, resource: 'imagestreams', verb: 'create'}],
      item: {
        ...item,
        action: 'create',
        manifest: imageStreamManifest(name),
        summary: `create; the image goes to its repository (${predicted})`,
      },
      async run() {
        await client.create(R.imageStreams, imageStreamManifest(name))
        // The registry fills status.dockerImageRepository; give it a moment, then use the usual name.
        resolved = await waitFor<ImageStream, string>(client, R.imageStreams, name, (i) => i?.status?.dockerImageRepository || undefined, {
          namespace: NS,
          timeoutMs: 5000,
        }).catch(() => predicted)
      },
    },
  }
}

function planGlobalPullSecretCopy(client: KubeClient, inv: Inventory, force: boolean): Step | undefined {
  const source = inv.globalPullSecret
  if (!source) return undefined
  const wanted: Secret = {
    apiVersion: 'v1',
    data: {...source.data},
    kind: 'Secret',
    metadata: {name: GLOBAL_PULL_SECRET_COPY, namespace: NS},
    type: source.type,
  }
  const from = `${OPENSHIFT_CONFIG_NAMESPACE}/${GLOBAL_PULL_SECRET}`
  return planSecret(client, inv, wanted, {made: `a copy of ${from}`, source: from}, force)
}

/**
 * A docker config secret in the MCO namespace made from `origin.source` (another secret, or a file):
 * created when missing, unchanged when it holds the same, otherwise replaced only with --force.
 * The plan shows registries, never values.
 */
function planSecret(client: KubeClient, inv: Inventory, wanted: Secret, origin: {made: string; source: string}, force: boolean): Step {
  const name = wanted.metadata.name!
  const current = inv.secrets.find((s) => s.metadata.name === name)
  const item = {kind: 'Secret', manifest: redactSecret(wanted), name, namespace: NS}
  if (!current) {
    return {
      access: [{group: '', namespace: NS, resource: 'secrets', verb: 'create'}],
      item: {...item, action: 'create', summary: `create as ${origin.made} (registries: ${registryList(wanted)})`},
      async run() {
        await client.create<Secret>(R.secrets, wanted)
      },
    }
  }

  if (sameSecretContent(current, wanted)) return unchangedStep({...item, summary: `already ${origin.made}`})
  return replaceStep(
    force,
    {
      ...item,
      diff: unifiedDiff(`secret/${name}`, secretView(current), secretView(wanted, current, {markChanged: true}), [
        'in the cluster',
        origin.made,
      ]),
    },
    {
      forced: `overwrite with the current content of ${origin.source}`,
      refused: `differs from ${origin.source} (overwritten only with --force)`,
    },
    [{group: '', name, namespace: NS, resource: 'secrets', verb: 'update'}],
    async () => {
      await client.update<Secret>(
        R.secrets,
        name,
        (s) => {
          s.type = wanted.type
          s.data = wanted.data
        },
        {namespace: NS},
      )
    },
  )
}

/** Which flag (or wizard question) sets a field of the settings objects, for the API server's refusals. */
const FIELD_ORIGINS: Array<[RegExp, string]> = [
  [/renderedImagePushSpec|finalImagePullspec/, '--final-pullspec or --imagestream (the wizard: where the image is pushed)'],
  [/renderedImagePushSecret|finalImagePushSecret/, '--push-secret (the wizard: the push secret)'],
  [/baseImagePullSecret/, '--base-pull-secret or --clone-global-pull-secret (the wizard: the base image pull secret)'],
  [/containerFile|on-cluster-build-custom-dockerfile/, '--custom-dockerfile (the wizard: the custom Dockerfile)'],
  [/machineConfigPool|^metadata\.name$|^<nil>$/, '--pool (the wizard: the pool)'],
]

/**
 * The settings objects as setup would write them, sent as server-side dry runs: what the cluster's
 * schema and validation rules refuse (a newer CRD than oc-mob knows, a rule it does not check) is a
 * failed check naming the field and the flag that set it, before anything is written.
 */
async function serverDryRuns(steps: Step[]): Promise<Check[]> {
  const out: Check[] = []
  for (const s of steps) {
    if (!s.dryRun) continue
    const subject = `${s.item.kind} ${s.item.name}`
    try {
      await s.dryRun()
      out.push({
        id: 'server-dry-run',
        message: `the API server accepts ${subject} as setup would write it`,
        title: 'server-side dry run',
        verdict: 'pass',
      })
    } catch (error) {
      if (!(error instanceof ApiError) || (error.status !== 422 && error.status !== 400)) throw error
      const causes = error.body?.details?.causes ?? []
      const origin = (field: string): string => FIELD_ORIGINS.find(([re]) => re.test(field))?.[1] ?? 'setup'
      out.push({
        // The causes by field (422 Invalid); else what oc-mob made of the answer (e.g. a field the CRD does not know).
        details:
          causes.length > 0
            ? causes.map((c) => `${c.field ?? '(object)'}: ${c.message ?? c.reason ?? ''} (set by ${origin(c.field ?? '')})`)
            : [error.message],
        fix:
          causes.length > 0
            ? 'give other values for the flags named above (nothing was written)'
            : `${error.next ?? 'give other values'} (nothing was written)`,
        id: 'server-dry-run',
        message: `the API server refuses ${subject} as setup would write it (${error.status} ${error.reason || 'Invalid'})`,
        title: 'server-side dry run',
        verdict: 'fail',
      })
    }
  }

  return out
}

/** The push secret to create from a docker config file (`--push-secret-from-file`), read and checked. */
async function pushSecretFromFile(name: string, file: string): Promise<Secret> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new MobError(`cannot read the docker config file ${file}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`, {
      exitCode: ExitCode.Usage,
      next: 'give the path of a readable docker config file with --push-secret-from-file',
    })
  }

  try {
    const {json} = dockerConfigFromFile(text, file)
    return {
      apiVersion: 'v1',
      data: {'.dockerconfigjson': Buffer.from(json).toString('base64')},
      kind: 'Secret',
      metadata: {name, namespace: NS},
      type: DOCKER_CONFIG_JSON,
    }
  } catch (error) {
    if (!(error instanceof DockerSecretError)) throw error
    throw new MobError(error.message, {
      exitCode: ExitCode.Invalid,
      next: `log in into a file that holds the credentials (\`podman login --authfile ${file} REGISTRY\`, or \`oc registry login --to ${file}\`) and run setup again`,
    })
  }
}

function registryList(secret: Secret): string {
  try {
    return registriesIn(parseDockerSecret(secret).auths).join(', ') || '(none)'
  } catch {
    return '(not a docker config)'
  }
}

function selectorOf(pool: MachineConfigPool): {mc?: LabelSelector; node?: LabelSelector} {
  return {mc: pool.spec?.machineConfigSelector, node: pool.spec?.nodeSelector}
}

function planPool(client: KubeClient, inv: Inventory, name: string, input: SetupInput, force: boolean): {step: Step; created: boolean} {
  const roles = input.configRoles && input.configRoles.length > 0 ? input.configRoles : [name, 'worker']
  const selector = input.nodeSelector ? parseNodeSelector(input.nodeSelector) : {key: `node-role.kubernetes.io/${name}`, value: ''}
  const wanted = poolManifest(name, roles, selector)
  const existing = inv.pools.find((p) => p.metadata.name === name)
  const what = `machineConfigSelector ${ROLE_LABEL} In [${roles.join(', ')}], nodeSelector ${selector.key}=${selector.value}`
  if (!existing) {
    return {
      created: true,
      step: {
        access: [{group: 'machineconfiguration.openshift.io', resource: 'machineconfigpools', verb: 'create'}],
        item: {action: 'create', kind: 'MachineConfigPool', manifest: wanted, name, summary: `create with ${what}`},
        async run() {
          await client.create<MachineConfigPool>(R.machineConfigPools, wanted)
        },
      },
    }
  }

  const manifest: MachineConfigPool = {
    apiVersion: wanted.apiVersion,
    kind: wanted.kind,
    metadata: {name},
    spec: {machineConfigSelector: selectorOf(existing).mc, nodeSelector: selectorOf(existing).node},
  }
  // An existing pool keeps its selectors unless other ones were asked for explicitly.
  if (!input.nodeSelector && !(input.configRoles && input.configRoles.length > 0)) {
    return {created: false, step: unchangedStep({kind: 'MachineConfigPool', manifest, name, summary: 'exists (its selectors are kept)'})}
  }

  const want = {
    machineConfigSelector: input.configRoles?.length ? wanted.spec!.machineConfigSelector : existing.spec?.machineConfigSelector,
    nodeSelector: input.nodeSelector ? wanted.spec!.nodeSelector : existing.spec?.nodeSelector,
  }
  const before = {machineConfigSelector: existing.spec?.machineConfigSelector, nodeSelector: existing.spec?.nodeSelector}
  const diff = unifiedDiff(`machineconfigpool/${name} spec`, yamlOf(before), yamlOf(want))
  if (!diff)
    return {created: false, step: unchangedStep({kind: 'MachineConfigPool', manifest, name, summary: 'exists with these selectors'})}
  return {
    created: false,
    step: {
      access: [{group: 'machineconfiguration.openshift.io', name, resource: 'machineconfigpools', verb: 'update'}],
      item: {
        action: force ? 'update' : 'conflict',
        diff,
        kind: 'MachineConfigPool',
        manifest: {...manifest, spec: want} as MachineConfigPool,
        name,
        summary: force ? 'change its selectors' : 'exists with other selectors (changed only with --force)',
      },
      async run() {
        // Replaced, not merged: a merge patch would keep the old selector's labels next to the new ones.
        await client.update<MachineConfigPool>(R.machineConfigPools, name, (p) => {
          p.spec = {...p.spec, machineConfigSelector: want.machineConfigSelector, nodeSelector: want.nodeSelector}
        })
      },
    },
  }
}

/** The input with everything filled in (wizard or defaults), or a usage error naming the missing flags. */
async function resolveInput(
  backend: LayeringBackend,
  inv: Inventory,
  given: SetupInput,
  opts: SetupOptions,
  /** The pool's current settings, read alongside the inventory. */
  currentSettings: () => Promise<BuildSettings | undefined>,
): Promise<{input: SetupInput; kept: KeptSetting[]}> {
  checkExclusive(given)
  // 4.18+ builds with a Job whatever the builder, and the MachineOSConfig is the opt-in: nothing to ask.
  const input =
    backend.generation === 'machineosconfig'
      ? {...given, builder: given.builder ?? ('pod' as BuilderKind), enable: given.enable ?? true}
      : given
  const missing = missingValues(input, backend.generation)
  if (missing.length > 0 && opts.ask) {
    const current = await currentSettings()
    const answered = await askSetupInput(wizardContext(inv, current, backend), input, opts.ask)
    checkExclusive(answered)
    return {input: answered, kept: []}
  }

  // Without a terminal, what is not given keeps its current value, so a re-run can change one thing.
  const current = opts.ask ? undefined : await currentSettings()
  const filled = current ? keepCurrent(input, current, inv) : {input, kept: []}
  const still = missingValues(filled.input, backend.generation)
  if (still.length > 0) {
    throw usage(
      `setup needs ${still.join(', and ')} (there is no terminal to ask on)`,
      'give the missing flags, or run `oc mob setup` in a terminal to be asked; see `oc mob setup --help`',
    )
  }

  return filled
}

/**
 * Fill what the flags leave out from the current build settings: where the image goes, the two
 * secrets (the operator's `-canonical` copy of a legacy secret counts as the secret it was made
 * from) and the builder when the ConfigMap names one. Returns which settings were kept.
 */
export function keepCurrent(
  input: SetupInput,
  current: BuildSettings,
  inv: {imageStreams: ImageStream[]; secrets: Secret[]},
): {input: SetupInput; kept: KeptSetting[]} {
  const out = {...input}
  const kept: KeptSetting[] = []
  const original = (name: string): string => {
    const base = name.replace(/-canonical$/, '')
    return base !== name && inv.secrets.some((s) => s.metadata.name === base) ? base : name
  }

  if (!out.finalPullspec && !out.imageStream && current.finalImagePullspec) {
    const spec = current.finalImagePullspec
    const repo = spec.replace(/@.*$/, '').replace(/:[^/:]*$/, '')
    const stream = inv.imageStreams.find(
      (i) => (i.status?.dockerImageRepository || `${INTERNAL_REGISTRY}/${NS}/${i.metadata.name}`) === repo,
    )
    if (stream) {
      out.imageStream = stream.metadata.name
    } else {
      out.finalPullspec = spec
    }

    kept.push('finalImagePullspec')
  }

  if (!out.basePullSecret && !out.cloneGlobalPullSecret && current.baseImagePullSecret) {
    out.basePullSecret = original(current.baseImagePullSecret)
    kept.push('baseImagePullSecret')
  }

  if (!out.pushSecret && current.finalImagePushSecret) {
    out.pushSecret = original(current.finalImagePushSecret)
    kept.push('finalImagePushSecret')
  }

  if (!out.builder && current.builder) {
    out.builder = current.builder
    kept.push('imageBuilderType')
  }

  return {input: out, kept}
}

/** Notes on the settings being written (none when on-cluster-build-config is left as it is). */
function settingsNotes(
  plan: {items: PlanItem[]; settings: SetupPlan['settings']; target: SetupPlan['target']},
  pushSecret: Secret | undefined,
): string[] {
  const config = plan.items.find((i) => i.kind === 'ConfigMap' && i.name === ON_CLUSTER_BUILD_CONFIG)
  if (!config || !['create', 'update', 'conflict'].includes(config.action)) return []
  const notes: string[] = []
  const type = plan.settings.imageBuilderType
  notes.push(
    type === BUILDER_TYPES.pod
      ? `imageBuilderType is written explicitly as ${BUILDER_TYPES.pod}: builds run as the pod build-<rendered config> (what \`oc mob build\` and \`oc mob logs\` follow); without the key the 4.14 operator would use OpenShift Builds (${BUILDER_TYPES.build})`
      : `imageBuilderType is written explicitly as ${BUILDER_TYPES.build}: builds run as OpenShift Builds`,
  )
  if (plan.target.kind === 'imagestream') {
    notes.push(
      `the image is pushed to the internal registry through ImageStream ${plan.target.imageStream} (${plan.target.pullspec}), tagged with the rendered config name`,
    )
  }

  if (pushSecret && isBuilderSecret(pushSecret)) {
    notes.push(
      `${pushSecret.metadata.name} is a legacy .dockercfg secret: the operator converts it into ${pushSecret.metadata.name}-canonical and points on-cluster-build-config at that copy (setup treats both names as the same)`,
    )
  }

  return notes
}

function changing(steps: Step[]): Step[] {
  return steps.filter((s) => s.item.action === 'create' || s.item.action === 'update')
}

/** Plan (and, unless dry-run or cancelled, apply) the setup. Never prints; reports through callbacks. */
export async function runSetup(client: KubeClient, given: SetupInput, opts: SetupOptions = {}): Promise<SetupResult> {
  const progress = {writing: false}
  try {
    return await setupSteps(client, given, opts, progress)
  } catch (error) {
    if (progress.writing || (error as MobError).exitCode !== ExitCode.Interrupted) throw error
    throw new MobError('interrupted before setup changed anything: nothing was changed', {
      code: 'Interrupted',
      exitCode: ExitCode.Interrupted,
      next: 'run the same command again when ready',
    })
  }
}

async function setupSteps(client: KubeClient, given: SetupInput, opts: SetupOptions, progress: {writing: boolean}): Promise<SetupResult> {
  const checks: Check[] = []
  let backend: LayeringBackend
  try {
    backend = await detectBackend(client, {readOnly: opts.dryRun})
  } catch (error) {
    if (!(error instanceof MobError)) throw error
    checks.push({
      exitCode: error.exitCode,
      fix: error.next,
      id: 'machineconfig-api',
      message: error.message,
      title: 'MachineConfig API',
      verdict: 'fail',
    })
    opts.onChecks?.(checks)
    throw error
  }

  checks.push({
    id: 'machineconfig-api',
    message: `the cluster serves the MachineConfig API: ${backend.title}`,
    title: 'MachineConfig API',
    verdict: 'pass',
  })
  // The pool's current settings are read with the inventory (one round trip); a failure counts only if they are needed.
  // Lists the plan reads again (the pool's settings object, which pools are opted in) are asked for once.
  const reads = new ReadCache(client)
  const settingsRead = backend.readSettings(client, given.pool ?? DEFAULT_POOL, reads).then(
    (v) => ({v}),
    (error: unknown) => ({error}),
  )
  const currentSettings = async (): Promise<BuildSettings | undefined> => {
    const r = await settingsRead
    if ('error' in r) throw r.error
    return r.v
  }

  const inv = await readInventory(client)
  const machineOS = backend.generation === 'machineosconfig'
  if (machineOS && given.enable === false) {
    throw usage(
      'on OpenShift 4.18+ the MachineOSConfig that setup writes is what opts the pool in, so --no-enable cannot be honoured',
      'leave out --no-enable (or do not run setup until the pool should build)',
    )
  }

  const {input, kept} = await resolveInput(backend, inv, given, opts, currentSettings)
  const poolName = input.pool ?? DEFAULT_POOL
  const poolProblem = checkPoolName(poolName)
  if (poolProblem) throw usage(poolProblem, 'give another name with --pool')
  // An empty path means "no custom Dockerfile" (the pool's entry, if any, is left as it is).
  const customDockerfile = input.customDockerfile ? await readDockerfile(input.customDockerfile) : undefined
  const force = Boolean(opts.force)

  const steps: Step[] = []
  // 1. Where the image goes.
  let pullspec: string
  let resolvePullspec: (() => Promise<string>) | undefined
  if (input.imageStream) {
    if (!inv.imageApi) {
      checks.push({
        exitCode: ExitCode.Unavailable,
        fix: 'use an external registry with --final-pullspec',
        id: 'imagestream',
        message: 'the cluster does not serve image.openshift.io/v1 (ImageStreams of the internal registry)',
        title: 'internal registry',
        verdict: 'fail',
      })
      opts.onChecks?.(checks)
      throwIfFailed(checks, 'setup cannot use an ImageStream', {shown: Boolean(opts.onChecks)})
    }

    const is = await planImageStream(client, inv, input.imageStream)
    steps.push(is.step)
    pullspec = is.pullspec
    if (is.step.item.action === 'create') resolvePullspec = is.resolve
  } else {
    pullspec = input.finalPullspec!.trim()
  }

  // 2. The secrets. 4.18+: no base image pull secret (or "clone") means the global pull secret, which
  // the operator itself copies (into global-pull-secret-copy, which it owns) while a pool is layered.
  const globalDefault = machineOS && (input.cloneGlobalPullSecret || !input.basePullSecret)
  const pullName = globalDefault ? '' : input.cloneGlobalPullSecret ? GLOBAL_PULL_SECRET_COPY : input.basePullSecret!
  let pullSecret = globalDefault ? inv.globalPullSecret : inv.secrets.find((s) => s.metadata.name === pullName)
  let pullOrigin: string | undefined = globalDefault
    ? "the cluster's global pull secret, used when the MachineOSConfig names none"
    : undefined
  if (input.cloneGlobalPullSecret && !machineOS) {
    const copy = planGlobalPullSecretCopy(client, inv, force)
    if (copy) {
      steps.push(copy)
      pullSecret = inv.globalPullSecret && {...inv.globalPullSecret, metadata: {name: pullName, namespace: NS}}
      pullOrigin = `a copy of ${OPENSHIFT_CONFIG_NAMESPACE}/${GLOBAL_PULL_SECRET}`
    }
  }

  let pushName = input.pushSecret
  if (!pushName) {
    const builder = findBuilderSecret(inv.secrets)
    if (!builder) {
      throw usage(
        `no builder-dockercfg-* secret was found in ${NS} to push to the internal registry`,
        'name a push secret with --push-secret',
      )
    }

    pushName = builder.metadata.name!
  }

  let pushSecret = inv.secrets.find((s) => s.metadata.name === pushName)
  if (input.pushSecretFile) {
    // Written before the settings that name it, so a setup stopped midway never names a missing secret.
    const wanted = await pushSecretFromFile(pushName, input.pushSecretFile)
    steps.push(planSecret(client, inv, wanted, {made: `the credentials of ${input.pushSecretFile}`, source: input.pushSecretFile}, force))
    pushSecret = wanted
  }

  const builder: BuilderKind = input.builder ?? 'pod'
  const settings: BuildSettings = {
    baseImagePullSecret: pullName,
    builder,
    customDockerfile,
    finalImagePullspec: pullspec,
    finalImagePushSecret: pushName,
    pool: poolName,
  }

  // 3. Build settings, pool, opt-in.
  steps.push(...(await backend.planSettings(client, settings, {dryRun: opts.dryRun, force, reads, resolvePullspec})))
  const poolPlan = planPool(client, inv, poolName, input, force)
  steps.push(poolPlan.step)
  const existingPool = inv.pools.find((p) => p.metadata.name === poolName)
  // 4.18+: the MachineOSConfig of the settings step is the opt-in.
  if (input.enable && !machineOS) {
    steps.push(await backend.planOptIn(client, existingPool ?? {metadata: {labels: {}, name: poolName}}, true))
  }

  // 4. Preflight.
  checks.push(
    ...settingsChecks({
      buildApi: inv.buildApi,
      defaultBuilder: backend.defaultBuilder,
      generation: backend.generation,
      globalPullSecret: inv.globalPullSecret,
      osImage: inv.osImage,
      pools: inv.pools,
      pullSecret,
      pullSecretOrigin: pullOrigin,
      pushSecret,
      pushSecretConfigured: sameSecretName((await currentSettings().catch(() => undefined))?.finalImagePushSecret, pushName),
      settings: globalDefault ? {...settings, baseImagePullSecret: `${OPENSHIFT_CONFIG_NAMESPACE}/${GLOBAL_PULL_SECRET}`} : settings,
    }),
  )
  if (opts.registryCheck) {
    checks.push(
      ...(await opts.registryCheck({
        baseImage: inv.osImage?.baseImage,
        finalPullspec: pullspec,
        globalPullSecret: inv.globalPullSecret,
        prunes: backend.prunesImages,
        pullSecret,
        pullSecretName: pullName,
        pushSecret,
        pushSecretName: pushName,
        signal: opts.signal,
      })),
    )
  }

  if (inv.osImageProblem) {
    checks.push({
      fix: 'check `oc get co machine-config`',
      id: 'base-image',
      message: inv.osImageProblem,
      title: 'base OS image',
      verdict: 'fail',
    })
  }

  if (input.cloneGlobalPullSecret && !inv.globalPullSecret) {
    checks.push({
      exitCode: ExitCode.NotFound,
      fix: `name an existing secret with --base-pull-secret`,
      id: 'global-pull-secret-copy',
      message: `${OPENSHIFT_CONFIG_NAMESPACE}/${GLOBAL_PULL_SECRET} does not exist, so there is nothing to clone`,
      title: 'global pull secret copy',
      verdict: 'fail',
    })
  }

  const access: Access[] = changing(steps).flatMap((s) => s.access)
  if (access.length > 0) checks.unshift(await accessCheck(client, access, 'make these changes', opts.signal))
  // The API server's verdict comes last, on what passed every check here (so nothing is said twice).
  if (!checks.some((c) => c.verdict === 'fail')) checks.push(...(await serverDryRuns(changing(steps))))
  opts.onChecks?.(checks)
  throwIfFailed(checks, 'setup preflight failed', {shown: Boolean(opts.onChecks)})

  const plan: SetupPlan = {
    checks,
    enable: machineOS || Boolean(input.enable),
    generation: backend.generation,
    items: steps.map((s) => s.item),
    kept,
    newPool: poolPlan.created,
    notes: [],
    optedIn: machineOS || Boolean(input.enable) || (existingPool ? await backend.isEnabled(client, existingPool, reads) : false),
    pool: poolName,
    settings: {
      baseImagePullSecret: pullName,
      customDockerfile: customDockerfile ?? null,
      finalImagePullspec: pullspec,
      finalImagePushSecret: pushName,
      imageBuilderType: machineOS ? 'Job' : BUILDER_TYPES[builder],
    },
    target: input.imageStream ? {imageStream: input.imageStream, kind: 'imagestream', pullspec} : {kind: 'external', pullspec},
  }
  const optedInPools = await Promise.all(inv.pools.map((p) => backend.isEnabled(client, p, reads)))
  plan.notes = [
    ...(machineOS ? [] : settingsNotes(plan, pushSecret)),
    ...backend.planNotes(plan.items, {
      anyOptedIn: optedInPools.some(Boolean),
      optedIn: Boolean(existingPool && optedInPools[inv.pools.indexOf(existingPool)]),
      pool: poolName,
    }),
  ]
  opts.onPlan?.(plan)

  const conflicts = steps.filter((s) => s.item.action === 'conflict')
  if (opts.dryRun) return {...plan, applied: [], outcome: 'dry-run'}
  if (conflicts.length > 0) {
    throw new MobError(
      `${conflicts.length} existing object${conflicts.length === 1 ? ' differs' : 's differ'} from what setup would write: ${conflicts.map((c) => objectRef(c.item)).join(', ')}; nothing was changed`,
      {
        code: 'Conflict',
        exitCode: ExitCode.Invalid,
        next: 'review the diff above; re-run with --force to overwrite, or with values that match what is there',
      },
    )
  }

  const todo = changing(steps)
  if (todo.length === 0) return {...plan, applied: [], outcome: 'unchanged'}
  if (!opts.yes) {
    if (!opts.confirm) {
      throw confirmationNeeded(
        `setup would change ${todo.length} object${todo.length === 1 ? '' : 's'} and there is no terminal to confirm on; nothing was changed`,
        're-run with --yes to go ahead (or with --dry-run to look first)',
      )
    }

    if (!(await opts.confirm(plan))) return {...plan, applied: [], outcome: 'cancelled'}
  }

  const applied: string[] = []
  progress.writing = true
  for (const [i, step] of todo.entries()) {
    const ref = objectRef(step.item)
    // What each write does is in the plan just shown: the progress line names the object only.
    opts.onStep?.(`${step.item.action === 'create' ? 'creating' : 'updating'} ${ref}`)
    try {
      if (opts.signal?.aborted) throw new MobError('interrupted', {exitCode: ExitCode.Interrupted})
      await step.run()
    } catch (error) {
      const rest = todo.slice(i).map((s) => `${s.item.action} ${objectRef(s.item)}`)
      throw new MobError(`setup stopped at ${step.item.action} ${ref}: ${(error as Error).message}`, {
        cause: error,
        code: 'SetupIncomplete',
        details: [`done: ${applied.length > 0 ? applied.join(', ') : 'nothing'}`, `not done: ${rest.join(', ')}`],
        exitCode: error instanceof MobError ? error.exitCode : ExitCode.Failed,
        // a field the cluster's CRD does not know: its own next step (check the cluster version) comes first
        next: `${error instanceof MobError && error.code === 'UnknownField' ? `${error.next}; then run` : 'fix the cause and run'} the same command again: what is already there is kept, and the rest is done`,
      })
    }

    applied.push(`${step.item.action === 'create' ? 'created' : 'updated'} ${ref}`)
  }

  if (resolvePullspec) {
    const actual = await resolvePullspec()
    if (actual !== plan.settings.finalImagePullspec) {
      plan.settings.finalImagePullspec = actual
      plan.target.pullspec = actual
    }
  }

  return {...plan, applied, outcome: 'applied'}
}
