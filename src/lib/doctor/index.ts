/**
 * `oc mob doctor`: proves, before the cluster finds out, that a pool's builds can pull the base image
 * and push the result, that its nodes can pull that result, that pruning may delete, that no token in
 * use is about to expire, and that the pool itself is fit for layered images. Everything is read,
 * every registry is asked for real (logins and probes that change nothing), all at once; the answer is
 * a list of checks, each ok, warn or fail with its cause and next step.
 */
import type {KubeClient} from '../kube/client.js'
import {ReadCache} from '../kube/read-cache.js'
import {R} from '../kube/resources.js'
import type {MachineConfigPool, Node} from '../kube/types.js'
import {MCO_NAMESPACE} from '../mco/constants.js'
import {type ImageReference, parseReference} from '../registry/reference.js'
import {readOsImage} from '../build/inputs.js'
import {detectBackend} from '../layering/generation.js'
import {poolNotFound} from '../cluster/pools.js'
import {DEFAULT_CAS, type TrustedCAs} from '../registry/http.js'
import {containerfileChecks, nodeChecks, settingsCheck, poolNodes, type PoolWithStream, streamOf} from './pool.js'
import {poolNeeds, registryChecks, type Need} from './needs.js'
import {
  type ControllerConfig,
  globalPullSecret,
  internalPullSecret,
  readSecret,
  secretCheck,
  type SecretInUse,
  tokenChecks,
} from './secrets.js'
import {tokenFixFor} from './fix.js'
import type {DoctorCheck, DoctorResult, TokenFix} from './types.js'

export interface DoctorOptions {
  pool?: string
  /** Time-box of each registry request (default 10 s). */
  timeoutMs?: number
  cas?: TrustedCAs
  /** host -> host[:port] to connect to instead (e.g. the internal registry's route). */
  addresses?: Record<string, string>
  signal?: AbortSignal
  now?: number
}

export const DEFAULT_TIMEOUT_MS = 10_000
/** The CAs registry logins trust unless told otherwise (setup's preflight uses them too). */
export {DEFAULT_CAS}

function ref(spec: string): ImageReference | undefined {
  try {
    return parseReference(spec)
  } catch {
    return undefined
  }
}

export async function runDoctor(client: KubeClient, opts: DoctorOptions = {}): Promise<DoctorResult> {
  const signal = opts.signal
  const backend = await detectBackend(client, {readOnly: true})

  const [poolList, nodeList, cc, osImage, global] = await Promise.all([
    client.list<MachineConfigPool>(R.machineConfigPools, {signal}),
    client.list<Node>(R.nodes, {signal}),
    client.find<ControllerConfig>(R.controllerConfigs, 'machine-config-controller', undefined, signal),
    readOsImage(client).catch((error: Error) => error),
    globalPullSecret(client, signal),
  ])
  let pools: MachineConfigPool[]
  if (opts.pool) {
    const p = poolList.items.find((x) => x.metadata.name === opts.pool)
    if (!p) throw poolNotFound(opts.pool, poolList.items, 'doctor')
    pools = [p]
  }

  // Which pools build on the cluster, and their settings, asked together (one round trip).
  const candidates = opts.pool ? pools! : poolList.items
  // The server's dry run of each pool's settings starts now too (it reads them itself, then writes nothing).
  // The pools' settings objects are listed once for every pool's checks.
  const reads = new ReadCache(client)
  const dryRuns = new Map(
    candidates.map((p) => {
      const d = backend.dryRunSettings(client, p.metadata.name!, signal, reads).then(
        (v) => ({v}),
        (error: unknown) => ({error}),
      )
      return [p.metadata.name!, d] as const
    }),
  )
  const [enabled, settingsOf] = await Promise.all([
    opts.pool ? candidates.map(() => true) : Promise.all(candidates.map((p) => backend.isEnabled(client, p, reads))),
    // A pool that turns out not to build may fail to answer: only an enabled pool's failure counts.
    Promise.all(candidates.map((p) => backend.readSettings(client, p.metadata.name!, reads).catch((error: unknown) => error as Error))),
  ])
  pools = candidates.filter((_p, i) => enabled[i])
  const settingsByPool = new Map<string, Awaited<ReturnType<typeof backend.readSettings>>>()
  for (const [i, p] of candidates.entries()) {
    const settings = settingsOf[i]
    if (!enabled[i]) continue
    if (settings instanceof Error) throw settings
    settingsByPool.set(p.metadata.name!, settings)
  }

  const checks: DoctorCheck[] = []
  const fixes: TokenFix[] = []
  const needs: Need[] = []
  const secretRows = new Map<string, DoctorCheck>()
  const internal = internalPullSecret(cc)
  const addSecretRow = (use: SecretInUse, hint: string): void => {
    if (!secretRows.has(use.ref)) secretRows.set(use.ref, secretCheck(use, hint))
  }

  if (pools.length === 0) {
    checks.push({
      cause: 'no pool is opted into on-cluster builds',
      id: 'pool:none',
      next: 'set one up with `oc mob setup`, or name a pool: `oc mob doctor POOL`',
      section: 'pool',
      status: 'fail',
      subject: 'pools',
    })
  }

  const base = osImage instanceof Error ? undefined : ref(osImage.baseImage)
  if (osImage instanceof Error)
    checks.push({
      cause: osImage.message,
      id: 'pool:base-image',
      next: 'check `oc get co machine-config`',
      section: 'pool',
      status: 'fail',
      subject: 'base OS image (machine-config-osimageurl)',
    })
  addSecretRow(global, `check \`oc get secret pull-secret -n openshift-config\``)
  if (internal) addSecretRow(internal, 'check the machine-config-controller ControllerConfig')

  await Promise.all(
    pools.map(async (pool) => {
      const name = pool.metadata.name!
      const members = poolNodes(pool, nodeList.items)
      checks.push(...nodeChecks(pool, members, nodeList.items, cc?.spec?.infra?.status?.controlPlaneTopology))
      const settings = settingsByPool.get(name)
      if (!settings) {
        checks.push({
          cause: `pool ${name} has no build settings (no ${backend.settingsObject})`,
          id: 'pool:settings',
          next: `run \`oc mob setup --pool ${name}\``,
          section: 'pool',
          status: 'fail',
          subject: `pool ${name}`,
        })
        return
      }

      // The server's dry run of the settings and the two secrets, side by side.
      const hint = `create or fix it, or pick another with \`oc mob setup --pool ${name} --force\``
      const [dryRun, pull, push] = await Promise.all([
        dryRuns.get(name)!.then((r) => {
          if ('error' in r) throw r.error
          return r.v
        }),
        settings.baseImagePullSecret
          ? readSecret(client, 'base', settings.baseImagePullSecret, MCO_NAMESPACE, signal)
          : Promise.resolve({...global, label: 'global pull secret (the base image pull secret by default)', role: 'base' as const}),
        readSecret(client, 'push', settings.finalImagePushSecret, MCO_NAMESPACE, signal),
      ])
      if (dryRun) checks.push(settingsCheck(dryRun))
      const edit = backend.editCustomDockerfile(name)
      checks.push(
        ...containerfileChecks({
          content: settings.customDockerfile,
          edit,
          finalStage: backend.finalStage,
          pool: name,
          stream: streamOf(pool as PoolWithStream),
        }),
      )
      addSecretRow(pull, hint)
      addSecretRow(push, hint)
      const final = ref(settings.finalImagePullspec)
      if (!final) {
        checks.push({
          cause: `"${settings.finalImagePullspec}" is not a valid image pullspec`,
          id: 'pool:pullspec',
          next: `run \`oc mob setup --pool ${name} --force\` with a pullspec like quay.io/org/os-image`,
          section: 'pool',
          status: 'fail',
          subject: `pool ${name} final image`,
        })
        return
      }

      needs.push(...poolNeeds({base, final, global, internal, prunes: backend.prunesImages, pull, push}))
      const fix = tokenFixFor({final, name, push})
      const tokenRows = [
        ...tokenChecks(
          push,
          [final].map((r) => ({host: r.registry, repository: r.repository})),
          fix?.text ?? '',
          opts.now,
        ),
        ...tokenChecks(
          pull,
          base ? [{host: base.registry, repository: base.repository}] : [],
          `refresh the credentials in ${pull.ref}`,
          opts.now,
        ),
      ]
      checks.push(...tokenRows.map((t) => t.check))
      if (fix && tokenRows.some((t) => t.wantsLongLived && t.check.id === 'token:push')) {
        fixes.push({
          ...fix.plan,
          serviceAccount:
            tokenRows
              .find((t) => t.serviceAccount)
              ?.serviceAccount?.split('/')
              .pop() ?? fix.plan.serviceAccount,
        })
      }
    }),
  )

  checks.push(
    ...(await registryChecks(needs, {
      addresses: opts.addresses ?? {},
      cas: opts.cas ?? DEFAULT_CAS,
      signal,
      timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    })),
  )
  const order = {pool: 3, registries: 1, secrets: 0, tokens: 2}
  const all = [...secretRows.values(), ...checks].sort((a, b) => order[a.section] - order[b.section])
  const count = (s: string): number => all.filter((c) => c.status === s).length
  return {
    checks: all,
    context: client.context,
    fixes,
    generation: backend.generation,
    pools: pools.map((p) => p.metadata.name!),
    server: client.server,
    summary: {fail: count('fail'), ok: count('ok'), warn: count('warn')},
  }
}
