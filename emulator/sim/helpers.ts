// Test helpers for the simulated cluster.
import {type Cluster, type ClusterOptions, startCluster} from './index.js'
import {type SimClient, type Obj, R} from './client.js'
import {MCO_NS} from './names.js'

/** Short delays so a whole scenario runs in well under a second or two. */
export const FAST = {
  podStartMs: 30,
  rebootMs: 120,
  machineReplaceMs: 150,
  buildMs: 150,
  pollMs: 20,
  restartMs: 100,
  retryMs: 40,
  resyncMs: 1000,
  lineMs: 2,
}

export async function fastCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  return startCluster({
    mode: 'scripted',
    ...opts,
    delays: {...FAST, ...opts.delays},
    log: process.env.SIM_LOG ? (l) => console.log(l) : undefined,
  })
}

/** Polls `fn` until it returns something truthy; fails with `what` after `ms`. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false | null> | T | undefined | false | null,
  ms = 10_000,
): Promise<T> {
  const end = Date.now() + ms
  let last: unknown
  for (;;) {
    try {
      const v = await fn()
      if (v) return v as T
    } catch (e) {
      last = e
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

const b64 = (s: string) => Buffer.from(s).toString('base64')

export const dockerconfigjson = (auths: Obj = {'quay.io': {auth: b64('user:pass')}}) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  type: 'kubernetes.io/dockerconfigjson',
  data: {'.dockerconfigjson': b64(JSON.stringify({auths}))},
})

/** Creates on-cluster-build-config, a push secret, and a `layered` pool selecting worker configs. */
export async function setupLayering(
  client: SimClient,
  opts: {
    pool?: string
    label?: boolean
    pullspec?: string
    pushSecret?: Obj
    pullSecretName?: string
    maxUnavailable?: number
    paused?: boolean
  } = {},
): Promise<void> {
  const pool = opts.pool ?? 'layered'
  await client.create(R.secrets, MCO_NS, {...(opts.pushSecret ?? dockerconfigjson()), metadata: {name: 'push-secret', namespace: MCO_NS}})
  await client.create(R.configmaps, MCO_NS, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {name: 'on-cluster-build-config', namespace: MCO_NS},
    data: {
      baseImagePullSecretName: opts.pullSecretName ?? 'builder-dockercfg-7wq9x',
      finalImagePushSecretName: 'push-secret',
      finalImagePullspec: opts.pullspec ?? 'quay.io/example/os-image:latest',
      imageBuilderType: 'custom-pod-builder',
    },
  })
  await client.create(
    R.pools,
    undefined,
    layeredPool(pool, {label: opts.label ?? true, maxUnavailable: opts.maxUnavailable, paused: opts.paused}),
  )
}

export function layeredPool(name: string, o: {label?: boolean; maxUnavailable?: number; paused?: boolean} = {}): Obj {
  return {
    apiVersion: 'machineconfiguration.openshift.io/v1',
    kind: 'MachineConfigPool',
    metadata: {name, labels: o.label ? {'machineconfiguration.openshift.io/layering-enabled': ''} : {}},
    spec: {
      machineConfigSelector: {
        matchExpressions: [{key: 'machineconfiguration.openshift.io/role', operator: 'In', values: ['worker', name]}],
      },
      nodeSelector: {matchLabels: {[`node-role.kubernetes.io/${name}`]: ''}},
      ...(o.maxUnavailable !== undefined ? {maxUnavailable: o.maxUnavailable} : {}),
      ...(o.paused ? {paused: true} : {}),
    },
  }
}

export const cond = (pool: Obj | undefined, type: string) => (pool?.status?.conditions ?? []).find((c: Obj) => c.type === type)
export const condTrue = (pool: Obj | undefined, type: string) => cond(pool, type)?.status === 'True'

export const getPool = (c: SimClient, name: string) => c.get(R.pools, undefined, name)

/** Text of GET pods/log through the API server (which proxies to the simulated kubelet). */
export async function podLog(c: SimClient, name: string, container: string, query = ''): Promise<{status: number; text: string}> {
  const r = await c.raw('GET', `/api/v1/namespaces/${MCO_NS}/pods/${name}/log?container=${container}${query ? `&${query}` : ''}`)
  return {status: r.status, text: r.body?.message ?? r.text}
}
