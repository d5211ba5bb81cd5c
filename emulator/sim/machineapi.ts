// Machine API: a deleted Machine takes its Node with it, and its MachineSet
// brings the replica count back with a new Machine that, after a
// provisioning delay, joins the cluster as a fresh (non-layered) worker Node.
// Deleting a Node whose Machine still exists deletes that Machine too, as a
// MachineHealthCheck would (simplification: no health checks, no drain).
import {randomBytes} from 'node:crypto'
import {Informer, type SimClient, type Obj, R, isAlreadyExists, matchesSelector, now, sleep} from './client.js'
import {type Logger, Loop} from './loop.js'
import {MACHINE_ANNOTATION, MACHINE_API_NS, NODE_CURRENT_CONFIG, NODE_DESIRED_CONFIG, NODE_REASON, NODE_STATE} from './names.js'
import {nodeStatus} from './fixture-gen.js'

const SAFE = 'bcdfghjklmnpqrstvwxz2456789'
const suffix = () => [...randomBytes(5)].map((b) => SAFE[b % SAFE.length]).join('')

export class MachineAPI {
  private readonly machines: Informer
  private readonly sets: Informer
  private readonly nodes: Informer
  private readonly loop: Loop
  private readonly provisioning = new Set<string>()
  private readonly ac = new AbortController()
  private readonly work = new Set<Promise<void>>()

  constructor(
    private readonly client: SimClient,
    private readonly log: Logger,
    private readonly opts: {machineReplaceMs?: number; retryMs?: number; resyncMs?: number} = {},
  ) {
    const onError = (e: unknown) => log(`machine-api: watch: ${(e as Error).message}`)
    this.machines = new Informer(client, R.machines, {namespace: MACHINE_API_NS, onError})
    this.sets = new Informer(client, R.machinesets, {namespace: MACHINE_API_NS, onError})
    this.nodes = new Informer(client, R.nodes, {onError})
    this.loop = new Loop('machine-api', () => this.pass(), {log, retryMs: opts.retryMs, resyncMs: opts.resyncMs})
    this.machines.on(() => this.loop.kick())
    this.sets.on(() => this.loop.kick())
    this.nodes.on((type, node) => {
      const m = node.metadata?.annotations?.[MACHINE_ANNOTATION]
      if (type === 'DELETED' && m) void this.nodeGone(m).catch((e) => log(`machine-api: ${e.message}`))
      this.loop.kick()
    })
  }

  async start(): Promise<void> {
    await Promise.all([this.machines.start(), this.sets.start(), this.nodes.start()])
    this.loop.start()
  }

  async stop(): Promise<void> {
    this.ac.abort()
    await this.loop.stop()
    await Promise.all([...this.work])
    await Promise.all([this.machines.stop(), this.sets.stop(), this.nodes.stop()])
  }

  private async nodeGone(ref: string): Promise<void> {
    const [ns, name] = ref.split('/')
    const m = await this.client.get(R.machines, ns, name)
    if (m && !m.metadata.deletionTimestamp) {
      this.log(`machine-api: node of machine ${name} was deleted: deleting the machine`)
      await this.client.delete(R.machines, ns, name)
    }
  }

  private async pass(): Promise<void> {
    // Machines being deleted: remove their node, then the finalizer.
    for (const m of this.machines.list()) {
      if (!m.metadata.deletionTimestamp) continue
      const nodeName = m.status?.nodeRef?.name
      if (nodeName && this.nodes.get(nodeName)) {
        await this.client.delete(R.nodes, undefined, nodeName)
        this.log(`machine-api: machine ${m.metadata.name} deleted: deleted node ${nodeName}`)
      }
      if (m.metadata.finalizers?.length) {
        await this.client.patch(R.machines, m.metadata.namespace, m.metadata.name, {metadata: {finalizers: null}})
      }
    }
    for (const set of this.sets.list()) {
      if (set.metadata.deletionTimestamp) continue
      const owned = this.machines
        .list()
        .filter((m) => !m.metadata.deletionTimestamp && matchesSelector(set.spec?.selector, m.metadata?.labels))
      const want = set.spec?.replicas ?? 0
      const pending = [...this.provisioning].filter((k) => k.startsWith(`${set.metadata.name}/`)).length
      for (let i = owned.length + pending; i < want; i++) this.provision(set)
      const ready = owned.filter((m) => m.status?.phase === 'Running').length
      const st = set.status ?? {}
      if (st.replicas !== owned.length || st.readyReplicas !== ready) {
        await this.client
          .patch(
            R.machinesets,
            set.metadata.namespace,
            set.metadata.name,
            {
              status: {
                replicas: owned.length,
                fullyLabeledReplicas: owned.length,
                readyReplicas: ready,
                availableReplicas: ready,
                observedGeneration: set.metadata.generation ?? 1,
              },
            },
            'merge',
            'status',
          )
          .catch(() => undefined)
      }
    }
  }

  private provision(set: Obj): void {
    const name = `${set.metadata.name}-${suffix()}`
    const key = `${set.metadata.name}/${name}`
    this.provisioning.add(key)
    const p = this.create(set, name)
      .catch((e) => this.log(`machine-api: provisioning ${name}: ${(e as Error).message}`))
      .finally(() => {
        this.provisioning.delete(key)
        this.work.delete(p)
        this.loop.kick()
      })
    this.work.add(p)
  }

  private async create(set: Obj, name: string): Promise<void> {
    const ns = set.metadata.namespace
    const tpl = set.spec?.template ?? {}
    const zone = tpl.spec?.providerSpec?.value?.placement?.availabilityZone ?? 'us-east-2a'
    const region = tpl.spec?.providerSpec?.value?.placement?.region ?? 'us-east-2'
    const a = 16 + Math.floor(Math.random() * 16)
    const b = 2 + Math.floor(Math.random() * 250)
    const ip = `10.0.${a}.${b}`
    const nodeName = `ip-10-0-${a}-${b}.${region}.compute.internal`
    const instanceId = `i-0${randomBytes(8).toString('hex').slice(0, 16)}`
    const machine = await this.client.create(R.machines, ns, {
      apiVersion: 'machine.openshift.io/v1beta1',
      kind: 'Machine',
      metadata: {
        name,
        namespace: ns,
        generateName: `${set.metadata.name}-`,
        labels: {...tpl.metadata?.labels},
        annotations: {'machine.openshift.io/instance-state': 'pending'},
        finalizers: ['machine.machine.openshift.io'],
        ownerReferences: [
          {
            apiVersion: 'machine.openshift.io/v1beta1',
            kind: 'MachineSet',
            name: set.metadata.name,
            uid: set.metadata.uid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: {...structuredClone(tpl.spec ?? {}), providerID: `aws:///${zone}/${instanceId}`},
    })
    this.log(`machine-api: machineset ${set.metadata.name}: created machine ${name}`)
    await this.client
      .patch(R.machines, ns, name, {status: {phase: 'Provisioning', lastUpdated: now()}}, 'merge', 'status')
      .catch(() => undefined)
    await sleep(this.opts.machineReplaceMs ?? 200, this.ac.signal)
    if (this.ac.signal.aborted) return
    if (!(await this.client.get(R.machines, ns, name))) return
    const worker = await this.client.get(R.pools, undefined, 'worker')
    const config = worker?.spec?.configuration?.name ?? ''
    const status = nodeStatus(nodeName)
    const node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: nodeName,
        labels: {
          'beta.kubernetes.io/arch': 'amd64',
          'beta.kubernetes.io/instance-type': 'm6i.large',
          'beta.kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          'kubernetes.io/hostname': nodeName.split('.')[0],
          'kubernetes.io/os': 'linux',
          'node-role.kubernetes.io/worker': '',
          'node.kubernetes.io/instance-type': 'm6i.large',
          'node.openshift.io/os_id': 'rhcos',
          'topology.kubernetes.io/region': region,
          'topology.kubernetes.io/zone': zone,
        },
        annotations: {
          [MACHINE_ANNOTATION]: `${ns}/${name}`,
          [NODE_CURRENT_CONFIG]: config,
          [NODE_DESIRED_CONFIG]: config,
          'machineconfiguration.openshift.io/desiredDrain': `uncordon-${config}`,
          'machineconfiguration.openshift.io/lastAppliedDrain': `uncordon-${config}`,
          [NODE_REASON]: '',
          [NODE_STATE]: 'Done',
          'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
        },
      },
      spec: {providerID: `aws:///${zone}/${instanceId}`},
      status,
    }
    try {
      await this.client.create(R.nodes, undefined, node)
    } catch (e) {
      if (!isAlreadyExists(e)) throw e
    }
    await this.client.patch(R.nodes, undefined, nodeName, {status}, 'merge', 'status')
    await this.client.patch(R.machines, ns, name, {metadata: {annotations: {'machine.openshift.io/instance-state': 'running'}}})
    await this.client.patch(
      R.machines,
      ns,
      name,
      {
        status: {
          phase: 'Running',
          lastUpdated: now(),
          nodeRef: {kind: 'Node', name: nodeName},
          addresses: [
            {address: ip, type: 'InternalIP'},
            {address: nodeName, type: 'InternalDNS'},
            {address: nodeName.split('.')[0], type: 'Hostname'},
          ],
          providerStatus: {instanceId, instanceState: 'running'},
        },
      },
      'merge',
      'status',
    )
    void machine
    this.log(`machine-api: machine ${name} is Running as node ${nodeName}`)
  }
}
