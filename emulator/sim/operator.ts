// The Machine Config Operator's part in on-cluster builds: start the
// machine-os-builder Deployment while at least one pool is layered (after
// validating on-cluster-build-config), delete it when none is, and report a
// bad config as MachineOSBuilderFailed. Also a minimal Deployment controller
// so that the Deployment gets its pod, and the machine-os-builder process that
// runs inside that pod (the BuildController, logging like the real binary).
import {createHash, randomBytes} from 'node:crypto'
import {Informer, type SimClient, type Obj, R, isAlreadyExists, now, sleep} from './client.js'
import {type Logger, Loop} from './loop.js'
import {BuildController, isLayered, validateOnClusterBuildConfig} from './buildcontroller.js'
import type {ContainerProcess} from './kubelet.js'
import {klogStamp} from './kubelet.js'
import {CONTROLLER_VERSION, MCO_IMAGE, MCO_NS, MOB_NAME, MOB_SA, ON_CLUSTER_BUILD_CONFIG, RELEASE_VERSION} from './names.js'

/** The machine-os-builder Deployment as the operator applies it. */
function mobDeployment(): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {name: MOB_NAME, namespace: MCO_NS},
    spec: {
      replicas: 1,
      selector: {matchLabels: {'k8s-app': MOB_NAME}},
      template: {
        metadata: {
          name: MOB_NAME,
          labels: {'k8s-app': MOB_NAME},
          annotations: {'target.workload.openshift.io/management': '{"effect": "PreferredDuringScheduling"}'},
        },
        spec: {
          serviceAccountName: MOB_SA,
          containers: [
            {
              name: MOB_NAME,
              image: MCO_IMAGE,
              command: ['/usr/bin/machine-os-builder'],
              args: ['start', '-v4'],
            },
          ],
        },
      },
    },
  }
}

const DEGRADED_REASON = 'MachineOSBuilderFailed'

export class Operator {
  private readonly pools: Informer
  private readonly cms: Informer
  private readonly secrets: Informer
  private readonly deployments: Informer
  /** 4.18+ (opts.machineOS): MachineOSConfigs also make pools layered. */
  private readonly configs?: Informer
  private readonly loop: Loop
  private lastProblem?: string

  constructor(
    private readonly client: SimClient,
    private readonly log: Logger,
    opts: {retryMs?: number; resyncMs?: number; machineOS?: boolean} = {},
  ) {
    const onError = (e: unknown) => log(`operator: watch: ${(e as Error).message}`)
    this.pools = new Informer(client, R.pools, {onError})
    this.cms = new Informer(client, R.configmaps, {namespace: MCO_NS, onError})
    this.secrets = new Informer(client, R.secrets, {namespace: MCO_NS, onError})
    this.deployments = new Informer(client, R.deployments, {namespace: MCO_NS, onError})
    if (opts.machineOS) this.configs = new Informer(client, R.machineosconfigs, {onError})
    this.loop = new Loop('operator', () => this.pass(), {log, ...opts})
    const kick = () => this.loop.kick()
    for (const i of [this.pools, this.cms, this.secrets, this.deployments, this.configs]) i?.on(kick)
  }

  async start(): Promise<void> {
    await Promise.all([this.pools.start(), this.cms.start(), this.secrets.start(), this.deployments.start(), this.configs?.start()])
    this.loop.start()
  }

  async stop(): Promise<void> {
    await this.loop.stop()
    await Promise.all([this.pools.stop(), this.cms.stop(), this.secrets.stop(), this.deployments.stop(), this.configs?.stop()])
  }

  /** 4.18+: pools referenced by a MachineOSConfig. */
  private machineOSPools(): Obj[] {
    const names = new Set((this.configs?.list() ?? []).map((c) => c.spec?.machineConfigPool?.name))
    return this.pools.list().filter((p) => names.has(p.metadata.name) && !isLayered(p))
  }

  private async pass(): Promise<void> {
    const labelled = this.pools.list().filter(isLayered)
    // The machine-os-builder runs while a pool is layered: by the label, or (4.18+) by a MachineOSConfig.
    const layered = [...labelled, ...this.machineOSPools()]
    const existing = this.deployments.get(MOB_NAME, MCO_NS)
    if (!layered.length) {
      this.lastProblem = undefined
      if (existing && !existing.metadata.deletionTimestamp) {
        await this.client.delete(R.deployments, MCO_NS, MOB_NAME)
        this.log('operator: no layered pools: deleted deployment machine-os-builder')
      }
      return
    }
    // on-cluster-build-config only matters to the pools the label opts in.
    const problem = labelled.length > 0 ? await validateOnClusterBuildConfig(this.client) : undefined
    if (problem) {
      if (problem !== this.lastProblem) {
        this.lastProblem = problem
        this.log(`operator: ${DEGRADED_REASON}: ${problem}`)
        await this.reportDegraded(problem)
      }
      return
    }
    if (this.lastProblem) {
      this.lastProblem = undefined
      await this.clearDegraded()
    }
    if (!(await this.client.get(R.serviceaccounts, MCO_NS, MOB_SA))) {
      await this.client
        .create(R.serviceaccounts, MCO_NS, {apiVersion: 'v1', kind: 'ServiceAccount', metadata: {name: MOB_SA, namespace: MCO_NS}})
        .catch((e) => {
          if (!isAlreadyExists(e)) throw e
        })
    }
    if (!existing) {
      await this.client.create(R.deployments, MCO_NS, mobDeployment()).catch((e) => {
        if (!isAlreadyExists(e)) throw e
      })
      this.log(`operator: layered pools [${layered.map((p) => p.metadata.name).join(' ')}]: created deployment machine-os-builder`)
    } else if (existing.spec?.replicas !== 1) {
      await this.client.patch(R.deployments, MCO_NS, MOB_NAME, {spec: mobDeployment().spec})
    }
  }

  /**
   * The real operator marks ClusterOperator/machine-config Degraded with reason
   * MachineOSBuilderFailed. When the API server serves config.openshift.io that
   * is done too; an Event in the MCO namespace is always written.
   */
  private async reportDegraded(problem: string): Promise<void> {
    const message = `Failed to resync ${RELEASE_VERSION} because: ${problem}`
    const ts = now()
    const name = `machine-config.${createHash('md5').update(message).digest('hex').slice(0, 16)}`
    const existing = await this.client.get(R.events, MCO_NS, name)
    if (existing) {
      await this.client.patch(R.events, MCO_NS, name, {count: (existing.count ?? 1) + 1, lastTimestamp: ts})
    } else {
      await this.client.create(R.events, MCO_NS, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: {name, namespace: MCO_NS},
        involvedObject: {apiVersion: 'config.openshift.io/v1', kind: 'ClusterOperator', name: 'machine-config'},
        reason: DEGRADED_REASON,
        message,
        type: 'Warning',
        source: {component: 'machine-config-operator'},
        reportingComponent: 'machine-config-operator',
        reportingInstance: '',
        firstTimestamp: ts,
        lastTimestamp: ts,
        count: 1,
      })
    }
    await this.setClusterOperatorDegraded(true, DEGRADED_REASON, message).catch(() => undefined)
  }

  private async clearDegraded(): Promise<void> {
    await this.setClusterOperatorDegraded(false, '', '').catch(() => undefined)
  }

  private async setClusterOperatorDegraded(degraded: boolean, reason: string, message: string): Promise<void> {
    const co = await this.client.get(R.clusteroperators, undefined, 'machine-config')
    if (!co) return
    await this.client.update(
      R.clusteroperators,
      undefined,
      'machine-config',
      (o) => {
        o.status ??= {}
        const conds: Obj[] = o.status.conditions ?? []
        const i = conds.findIndex((c) => c.type === 'Degraded')
        const next = {type: 'Degraded', status: degraded ? 'True' : 'False', reason, message, lastTransitionTime: now()}
        if (i >= 0) {
          if (conds[i].status === next.status && conds[i].message === message) return false
          conds[i] = next
        } else conds.push(next)
        o.status.conditions = conds
      },
      {status: true},
    )
  }
}

const SAFE = 'bcdfghjklmnpqrstvwxz2456789'
const safeEncode = (buf: Buffer, n: number) => [...buf.subarray(0, n)].map((b) => SAFE[b % SAFE.length]).join('')

/**
 * Minimal Deployment controller: keeps `replicas` pods of each Deployment in
 * the MCO namespace, named <deployment>-<template hash>-<5 chars>, and removes
 * them when the Deployment goes. Simplification: no ReplicaSets; pods are
 * owned by the Deployment directly and rollouts replace pods all at once.
 */
export class DeploymentController {
  private readonly deployments: Informer
  private readonly pods: Informer
  private readonly loop: Loop

  constructor(
    private readonly client: SimClient,
    private readonly log: Logger,
    opts: {retryMs?: number; resyncMs?: number} = {},
  ) {
    const onError = (e: unknown) => log(`deployments: watch: ${(e as Error).message}`)
    this.deployments = new Informer(client, R.deployments, {namespace: MCO_NS, onError})
    this.pods = new Informer(client, R.pods, {namespace: MCO_NS, onError})
    this.loop = new Loop('deployments', () => this.pass(), {log, ...opts})
    this.deployments.on(() => this.loop.kick())
    this.pods.on((_t, pod) => {
      if ((pod.metadata?.ownerReferences ?? []).some((o: Obj) => o.kind === 'Deployment')) this.loop.kick()
    })
  }

  async start(): Promise<void> {
    await Promise.all([this.deployments.start(), this.pods.start()])
    this.loop.start()
  }

  async stop(): Promise<void> {
    await this.loop.stop()
    await Promise.all([this.deployments.stop(), this.pods.stop()])
  }

  private async pass(): Promise<void> {
    const deployments = this.deployments.list()
    const owned = (pod: Obj) => (pod.metadata?.ownerReferences ?? []).find((o: Obj) => o.kind === 'Deployment')
    for (const pod of this.pods.list()) {
      const o = owned(pod)
      if (!o || pod.metadata.deletionTimestamp) continue
      const d = deployments.find((x) => x.metadata.uid === o.uid)
      const hash = d ? templateHash(d) : undefined
      if (!d || d.metadata.deletionTimestamp || pod.metadata.labels?.['pod-template-hash'] !== hash) {
        await this.client.delete(R.pods, pod.metadata.namespace, pod.metadata.name)
      }
    }
    for (const d of deployments) {
      if (d.metadata.deletionTimestamp) continue
      const hash = templateHash(d)
      const mine = this.pods
        .list()
        .filter(
          (p) => owned(p)?.uid === d.metadata.uid && !p.metadata.deletionTimestamp && p.metadata.labels?.['pod-template-hash'] === hash,
        )
      const want = d.spec?.replicas ?? 1
      for (let i = mine.length; i < want; i++) {
        const tpl = structuredClone(d.spec.template)
        const name = `${d.metadata.name}-${hash}-${safeEncode(randomBytes(5), 5)}`
        await this.client.create(R.pods, d.metadata.namespace, {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            ...tpl.metadata,
            name,
            namespace: d.metadata.namespace,
            generateName: `${d.metadata.name}-${hash}-`,
            labels: {...tpl.metadata?.labels, 'pod-template-hash': hash},
            ownerReferences: [
              {
                apiVersion: 'apps/v1',
                kind: 'Deployment',
                name: d.metadata.name,
                uid: d.metadata.uid,
                controller: true,
                blockOwnerDeletion: true,
              },
            ],
          },
          spec: {
            restartPolicy: 'Always',
            terminationGracePeriodSeconds: 30,
            dnsPolicy: 'ClusterFirst',
            schedulerName: 'default-scheduler',
            ...tpl.spec,
          },
        })
        this.log(`deployments: created pod ${name}`)
      }
      for (const extra of mine.slice(want)) await this.client.delete(R.pods, extra.metadata.namespace, extra.metadata.name)
      const ready = mine.filter((p) => (p.status?.conditions ?? []).some((c: Obj) => c.type === 'Ready' && c.status === 'True')).length
      const status = {
        observedGeneration: d.metadata.generation ?? 1,
        replicas: Math.min(mine.length, want),
        updatedReplicas: Math.min(mine.length, want),
        readyReplicas: ready,
        availableReplicas: ready,
        ...(want - ready > 0 ? {unavailableReplicas: want - ready} : {}),
        conditions: [
          {
            type: 'Available',
            status: ready >= want ? 'True' : 'False',
            reason: ready >= want ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
            message: ready >= want ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.',
            lastUpdateTime: now(),
            lastTransitionTime: now(),
          },
          {
            type: 'Progressing',
            status: 'True',
            reason: 'NewReplicaSetAvailable',
            message: `ReplicaSet "${d.metadata.name}-${hash}" has successfully progressed.`,
            lastUpdateTime: now(),
            lastTransitionTime: now(),
          },
        ],
      }
      const cur = d.status ?? {}
      if (
        cur.readyReplicas !== status.readyReplicas ||
        cur.replicas !== status.replicas ||
        cur.availableReplicas !== status.availableReplicas
      ) {
        await this.client.patch(R.deployments, d.metadata.namespace, d.metadata.name, {status}, 'merge', 'status').catch(() => undefined)
      }
    }
  }
}

function templateHash(d: Obj): string {
  return safeEncode(
    createHash('sha256')
      .update(JSON.stringify(d.spec?.template ?? {}))
      .digest(),
    10,
  )
}

export interface MobProcessOptions {
  client: SimClient
  updateDelayMs?: number
  retryMs?: number
  /** Also copy the builder's log lines here (tests, the CLI's --verbose). */
  log?: Logger
  onStart?: (bc: BuildController) => void
}

const klogLine = (level: string, file: string, msg: string) => `${level}${klogStamp()}       1 ${file}] ${msg}`

/**
 * The machine-os-builder binary, played in-process inside its pod: reads
 * on-cluster-build-config once (fatal if missing, as in 4.14), then runs the
 * BuildController until the pod is killed.
 */
export function machineOSBuilderProcess(opts: MobProcessOptions): ContainerProcess {
  return {
    match: {namespace: MCO_NS, podName: /^machine-os-builder-/, container: MOB_NAME},
    async run(ctx) {
      const out = (level: 'I' | 'W' | 'E' | 'F', file: string, msg: string) => {
        const line = klogLine(level, file, msg)
        ctx.log(line)
        opts.log?.(`machine-os-builder: ${line}`)
      }
      out(
        'I',
        'start.go:49',
        `Version: ${RELEASE_VERSION} (Raw: v${RELEASE_VERSION}-202402130420.p0.g${CONTROLLER_VERSION.slice(0, 7)}.assembly.stream, Hash: ${CONTROLLER_VERSION})`,
      )
      const cm = await opts.client.get(R.configmaps, MCO_NS, ON_CLUSTER_BUILD_CONFIG)
      if (!cm) {
        // 4.18+: pools opted in by a MachineOSConfig are built by the OSBuildController (the
        // simulation's MachineOSController, which runs outside this pod), which needs no ConfigMap.
        const machineOS = await opts.client.list(R.machineosconfigs).then(
          (l) => l.items.length > 0,
          () => false,
        )
        if (machineOS) {
          out('I', 'start.go:90', 'Starting OSBuildController for MachineOSConfigs')
          await sleep(1e10, ctx.signal).catch(() => undefined)
          return 143
        }
        out('F', 'start.go:61', `${ON_CLUSTER_BUILD_CONFIG} ConfigMap missing, did you create it?`)
        return 255
      }
      const builderType = cm.data?.imageBuilderType || 'openshift-image-builder'
      out('I', 'start.go:72', `Starting MachineOSBuilder with image builder type "${builderType}"`)
      if (builderType === 'openshift-image-builder') {
        out('W', 'start.go:75', 'OpenShift Builds are not run by this cluster; building with pods (custom-pod-builder) instead')
      }
      const bc = new BuildController({
        client: opts.client,
        klog: (level, file, msg) => out(level, file, msg),
        updateDelayMs: opts.updateDelayMs,
        retryMs: opts.retryMs,
      })
      out('I', 'build_controller.go:236', 'Starting MachineOSBuilder-BuildController')
      try {
        await bc.start()
        const layered = (await opts.client.list(R.pools)).items.filter(isLayered).map((p) => p.metadata.name)
        out(
          'I',
          'build_controller.go:247',
          `Watching MachineConfigPools with label machineconfiguration.openshift.io/layering-enabled: [${layered.join(' ')}]`,
        )
        opts.onStart?.(bc)
        await sleep(1e10, ctx.signal)
      } finally {
        await bc.stop()
      }
      return 143
    },
  }
}
