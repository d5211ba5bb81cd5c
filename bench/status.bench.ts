/**
 * `oc mob status` at scale: an emulated cluster with 5,000 nodes and 50 pools (10 of them layered,
 * with images, history, build pods in every state, the machine-os-builder and the ClusterOperator),
 * and `oc mob status -o json` spawned as a user runs it, against `kubectl get nodes,mcp -o json` on
 * the same emulator in the same run. Targets: wall time at most 1.5x kubectl, peak memory under
 * 150 MB. The API requests status makes are counted on the emulator, and counted again with 500
 * nodes, to show they do not grow with the node count (one paginated list per kind, never a request
 * per node). `oc mob status POOL` (which lists the pool's nodes too, by label) is measured the same way.
 *
 * `npx tsx bench/status.bench.ts [--quick]`. The CLI is spawned as `node bin/run.cjs` of the packed
 * package (bench/packed.ts), as users run it.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {type Emulator, startEmulator} from '../emulator/index.js'
import {packedCli} from './packed.js'
import {type BenchResult, standalone} from './run.js'
import {measure, once} from './measure.js'
import {kubectlFor} from './kubectl.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const NS = 'openshift-machine-config-operator'
const P = 'machineconfiguration.openshift.io/'
const POOLS = 50
const LAYERED = 10
const T = '2026-11-20T10:00:00Z'

const rendered = (pool: string): string => `rendered-${pool}-0123456789abcdef0123456789abcdef`
const image = (i: number): string => `quay.io/org/os@sha256:${i.toString(16).padStart(64, '0')}`

function node(i: number): unknown {
  const name = `ip-10-0-${Math.floor(i / 250)}-${i % 250}.us-east-2.compute.internal`
  const pool = `pool-${i % POOLS}`
  const layered = i % POOLS < LAYERED
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      annotations: {
        'machine.openshift.io/machine': `openshift-machine-api/worker-${i}`,
        [`${P}currentConfig`]: rendered(pool),
        [`${P}desiredConfig`]: rendered(pool),
        ...(layered ? {[`${P}currentImage`]: image(i % POOLS), [`${P}desiredImage`]: image(i % POOLS)} : {}),
        [`${P}reason`]: '',
        [`${P}state`]: 'Done',
      },
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': name,
        'node-role.kubernetes.io/worker': '',
        [`node-role.kubernetes.io/${pool}`]: '',
        'node.openshift.io/os_id': 'rhcos',
        'topology.kubernetes.io/zone': `us-east-2${'abc'[i % 3]}`,
      },
      name,
    },
    spec: {providerID: `aws:///us-east-2a/i-0${i.toString(16).padStart(16, '0')}`},
    status: {
      addresses: [
        {address: `10.0.${Math.floor(i / 250)}.${i % 250}`, type: 'InternalIP'},
        {address: name, type: 'Hostname'},
      ],
      allocatable: {cpu: '1500m', memory: '6884548Ki', pods: '250'},
      capacity: {cpu: '2', memory: '8035524Ki', pods: '250'},
      conditions: ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready'].map((type) => ({
        lastHeartbeatTime: T,
        lastTransitionTime: T,
        message: type === 'Ready' ? 'kubelet is posting ready status' : 'ok',
        reason: type === 'Ready' ? 'KubeletReady' : 'KubeletHasNoPressure',
        status: type === 'Ready' ? 'True' : 'False',
        type,
      })),
      nodeInfo: {kubeletVersion: 'v1.27.10+c79e5e2', osImage: 'Red Hat Enterprise Linux CoreOS 414.92.202401300000-0 (Plow)'},
    },
  }
}

function pool(i: number, nodes: number): unknown {
  const name = `pool-${i}`
  const layered = i < LAYERED
  const perPool = Math.floor(nodes / POOLS)
  const states: Array<Array<[string, string, string?]>> = [
    [['BuildSuccess', 'True', 'BuildSucceeded']],
    [['BuildPending', 'True', 'BuildPending']],
    [['Building', 'True', 'BuildRunning']],
    [
      ['BuildFailed', 'True', 'BuildFailed'],
      ['Degraded', 'True'],
    ],
    [['Building', 'True', 'BuildRunning']],
  ]
  const build = layered ? states[i % states.length] : []
  return {
    apiVersion: `${P}v1`,
    kind: 'MachineConfigPool',
    metadata: {
      annotations: layered ? {[`${P}newestImageEquivalentConfig`]: image(i)} : {},
      labels: layered ? {[`${P}layering-enabled`]: ''} : {},
      name,
    },
    spec: {
      configuration: {name: rendered(name)},
      machineConfigSelector: {matchExpressions: [{key: `${P}role`, operator: 'In', values: ['worker', name]}]},
      nodeSelector: {matchLabels: {[`node-role.kubernetes.io/${name}`]: ''}},
    },
    status: {
      conditions: [...['RenderDegraded', 'NodeDegraded', 'Updating'].map((t) => [t, 'False']), ['Updated', 'True'], ...build].map(
        ([type, status, reason]) => ({lastTransitionTime: T, message: '', reason: reason ?? '', status, type}),
      ),
      configuration: {name: rendered(name)},
      degradedMachineCount: 0,
      machineCount: perPool,
      observedGeneration: 2,
      readyMachineCount: perPool,
      unavailableMachineCount: 0,
      updatedMachineCount: perPool,
    },
  }
}

function extras(): unknown[] {
  const buildPod = (i: number, phase: string, imageBuild: Record<string, unknown>) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      labels: {[`${P}buildPod`]: '', [`${P}desiredConfig`]: rendered(`pool-${i}`), [`${P}targetMachineConfigPool`]: `pool-${i}`},
      name: `build-${rendered(`pool-${i}`)}`,
      namespace: NS,
    },
    spec: {
      containers: [
        {image: 'quay.io/buildah/stable:latest', name: 'image-build'},
        {image: 'rhcos', name: 'wait-for-done'},
      ],
      restartPolicy: 'Never',
    },
    status: {
      containerStatuses: [
        {name: 'image-build', state: imageBuild},
        {name: 'wait-for-done', state: {running: {}}},
      ],
      phase,
    },
  })
  const history: Record<string, string> = {}
  for (let i = 0; i < LAYERED; i += 2)
    history[`pool-${i}`] = JSON.stringify([
      {customDockerfileHash: '', image: image(i), renderedConfig: rendered(`pool-${i}`), source: 'built', time: T},
    ])
  return [
    {apiVersion: 'v1', kind: 'Namespace', metadata: {name: NS}},
    buildPod(1, 'Pending', {waiting: {reason: 'ContainerCreating'}}),
    buildPod(2, 'Running', {running: {}}),
    buildPod(3, 'Failed', {terminated: {exitCode: 1}}),
    buildPod(4, 'Running', {terminated: {exitCode: 1}}),
    {
      apiVersion: 'v1',
      data: {
        baseImagePullSecretName: 'p',
        finalImagePullspec: 'quay.io/org/os:latest',
        finalImagePushSecretName: 'p',
        imageBuilderType: 'custom-pod-builder',
      },
      kind: 'ConfigMap',
      metadata: {name: 'on-cluster-build-config', namespace: NS},
    },
    {apiVersion: 'v1', data: history, kind: 'ConfigMap', metadata: {name: 'oc-mob-image-history', namespace: NS}},
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {name: 'machine-os-builder', namespace: NS},
      spec: {
        replicas: 1,
        selector: {matchLabels: {'k8s-app': 'machine-os-builder'}},
        template: {metadata: {labels: {'k8s-app': 'machine-os-builder'}}, spec: {containers: [{image: 'mco', name: 'machine-os-builder'}]}},
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {labels: {'k8s-app': 'machine-os-builder'}, name: 'machine-os-builder-7c9f-abcde', namespace: NS},
      spec: {containers: [{image: 'mco', name: 'machine-os-builder'}]},
      status: {conditions: [{status: 'True', type: 'Ready'}], phase: 'Running'},
    },
    {
      apiVersion: 'config.openshift.io/v1',
      kind: 'ClusterOperator',
      metadata: {name: 'machine-config'},
      spec: {},
      status: {conditions: [{lastTransitionTime: T, message: '', reason: 'AsExpected', status: 'False', type: 'Degraded'}]},
    },
  ]
}

/** Requests of one run, after a first run (which may also record an image it sees in the history: one read, one write). */
async function requestsOf(emu: Emulator, script: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  await once(process.execPath, [script, ...args], {cwd: ROOT, env})
  emu.resetRequests()
  await once(process.execPath, [script, ...args], {cwd: ROOT, env})
  return emu.requests.length
}

/** The status benchmark's cluster: `nodes` nodes in 50 pools, 10 of them layered (also used by bench/network.bench.ts). */
export async function cluster(nodes: number): Promise<Emulator> {
  return startEmulator({
    objects: [...extras(), ...Array.from({length: nodes}, (_, i) => node(i)), ...Array.from({length: POOLS}, (_, i) => pool(i, nodes))],
  })
}

const round = (x: number): number => Math.round(x * 10) / 10

export async function run(opts: {quick: boolean}): Promise<BenchResult[]> {
  const runs = opts.quick ? 3 : 7
  // The packed CLI (bench/packed.ts), as users run it.
  const script = packedCli()
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-mob-bench-status-'))
  const results: BenchResult[] = []
  const requests: Record<number, {all: number; pool: number}> = {}
  try {
    for (const nodes of [5000, 500]) {
      const emu = await cluster(nodes)
      const env = {...process.env, HOME: home, KUBECONFIG: emu.kubeconfig, NO_COLOR: '1'}
      try {
        requests[nodes] = {
          all: await requestsOf(emu, script, ['status', '-o', 'json'], env),
          pool: await requestsOf(emu, script, ['status', 'pool-0', '-o', 'json'], env),
        }
        if (nodes !== 5000) continue
        const status = await measure(process.execPath, [script, 'status', '-o', 'json'], runs, {cwd: ROOT, env})
        const doc = JSON.parse(status.stdout) as {pools: unknown[]}
        if (doc.pools.length !== POOLS) throw new Error(`status listed ${doc.pools.length} pools, expected ${POOLS}`)
        const withPool = await measure(process.execPath, [script, 'status', 'pool-0', '-o', 'json'], runs, {cwd: ROOT, env})
        const poolDoc = JSON.parse(withPool.stdout) as {nodes: unknown[]}
        if (poolDoc.nodes.length !== nodes / POOLS)
          throw new Error(`status pool-0 listed ${poolDoc.nodes.length} nodes, expected ${nodes / POOLS}`)
        const memory: BenchResult[] = [
          {name: 'oc mob status -o json peak memory', ok: status.peakMb < 150, target: '< 150 MB', unit: 'MB', value: round(status.peakMb)},
          {
            name: 'oc mob status pool-0 -o json peak memory',
            ok: withPool.peakMb < 150,
            target: '< 150 MB',
            unit: 'MB',
            value: round(withPool.peakMb),
          },
        ]
        // The real kubectl binary (bench/kubectl.ts), not a dispatcher in front of it.
        const kb = await kubectlFor(emu)
        if ('skipped' in kb) {
          results.push(
            {baseline: kb.skipped, name: 'oc mob status -o json (5,000 nodes, 50 pools)', unit: 'ms', value: round(status.median)},
            {
              baseline: kb.skipped,
              name: "oc mob status pool-0 -o json (lists the pool's 100 nodes by label)",
              unit: 'ms',
              value: round(withPool.median),
            },
            ...memory,
          )
          continue
        }

        const kubectl = await measure(kb.path, ['get', 'nodes,mcp', '-o', 'json'], runs, {cwd: ROOT, env})
        const k = 'kubectl get nodes,mcp -o json'
        results.push(
          {name: `${k} (5,000 nodes, 50 pools)`, unit: 'ms', value: round(kubectl.median)},
          {
            baseline: k,
            name: 'oc mob status -o json (5,000 nodes, 50 pools)',
            ok: status.median / kubectl.median <= 1.5,
            ratio: Math.round((status.median / kubectl.median) * 100) / 100,
            target: '<= 1.5x kubectl',
            unit: 'ms',
            value: round(status.median),
          },
          {
            baseline: k,
            name: "oc mob status pool-0 -o json (lists the pool's 100 nodes by label)",
            ok: withPool.median / kubectl.median <= 1.5,
            ratio: Math.round((withPool.median / kubectl.median) * 100) / 100,
            target: '<= 1.5x kubectl',
            unit: 'ms',
            value: round(withPool.median),
          },
          ...memory,
          {name: `${k} peak memory`, unit: 'MB', value: round(kubectl.peakMb)},
        )
      } finally {
        await emu.close()
      }
    }
  } finally {
    fs.rmSync(home, {force: true, recursive: true})
  }

  const all = requests[5000].all
  const small = requests[500].all
  results.push(
    {
      baseline: 'the same with 500 nodes',
      name: 'API requests of status -o json, 5,000 nodes',
      ok: all === small,
      ratio: Math.round((all / small) * 100) / 100,
      target: 'same as with 500 nodes',
      unit: 'req',
      value: all,
    },
    {name: 'API requests of status -o json, 500 nodes', unit: 'req', value: small},
    {name: 'API requests of status pool-0 -o json, 5,000 nodes', unit: 'req', value: requests[5000].pool},
    {name: 'API requests of status pool-0 -o json, 500 nodes', unit: 'req', value: requests[500].pool},
  )
  return results
}

await standalone(import.meta.url, run)
