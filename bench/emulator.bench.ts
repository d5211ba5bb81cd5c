// Emulator benchmark: `npx tsx bench/emulator.bench.ts [--quick]`
// Seeds 5,000 nodes and 50 pools, then measures end-to-end HTTPS list latency, small-GET throughput
// and the process's peak RSS.
import {Agent, request} from 'node:https'
import {startEmulator, type Emulator} from '../emulator/index.js'
import {type BenchResult, standalone} from './run.js'

/** An object to seed the emulator with. */
interface Seed {
  apiVersion: string
  kind: string
  metadata: {name: string; [k: string]: unknown}
  [k: string]: unknown
}

function node(i: number): Seed {
  const name = `ip-10-0-${Math.floor(i / 250)}-${i % 250}.us-east-2.compute.internal`
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/instance-type': 'm6i.large',
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/hostname': name,
        'node-role.kubernetes.io/worker': '',
        'node.openshift.io/os_id': 'rhcos',
        'topology.kubernetes.io/region': 'us-east-2',
        'topology.kubernetes.io/zone': `us-east-2${'abc'[i % 3]}`,
      },
      annotations: {
        'machine.openshift.io/machine': `openshift-machine-api/worker-${i}`,
        'machineconfiguration.openshift.io/currentConfig': 'rendered-worker-880f1ec42adf8aeab76db213ffcfcbeb',
        'machineconfiguration.openshift.io/desiredConfig': 'rendered-worker-880f1ec42adf8aeab76db213ffcfcbeb',
        'machineconfiguration.openshift.io/reason': '',
        'machineconfiguration.openshift.io/state': 'Done',
      },
    },
    spec: {providerID: `aws:///us-east-2a/i-0${i.toString(16).padStart(16, '0')}`},
    status: {
      addresses: [
        {type: 'InternalIP', address: `10.0.${Math.floor(i / 250)}.${i % 250}`},
        {type: 'Hostname', address: name},
        {type: 'InternalDNS', address: name},
      ],
      allocatable: {cpu: '1500m', 'ephemeral-storage': '114396791822', memory: '6884548Ki', pods: '250'},
      capacity: {cpu: '2', 'ephemeral-storage': '125293548Ki', memory: '8035524Ki', pods: '250'},
      conditions: ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready'].map((type) => ({
        type,
        status: type === 'Ready' ? 'True' : 'False',
        lastHeartbeatTime: '2026-11-23T10:00:00Z',
        lastTransitionTime: '2026-11-20T10:00:00Z',
        reason: type === 'Ready' ? 'KubeletReady' : `KubeletHasNo${type}`,
        message: type === 'Ready' ? 'kubelet is posting ready status' : `kubelet has no ${type.toLowerCase()}`,
      })),
      daemonEndpoints: {kubeletEndpoint: {Port: 10250}},
      nodeInfo: {
        architecture: 'amd64',
        bootID: '5b5b7c4e-1111-4b0e-9f5e-000000000000',
        containerRuntimeVersion: 'cri-o://1.27.4-3.rhaos4.14.git914bcba.el9',
        kernelVersion: '5.14.0-284.45.1.el9_2.x86_64',
        kubeProxyVersion: 'v1.27.10+c79e5e2',
        kubeletVersion: 'v1.27.10+c79e5e2',
        machineID: 'ec2d7a0c0000000000000000000000',
        operatingSystem: 'linux',
        osImage: 'Red Hat Enterprise Linux CoreOS 414.92.202401300000-0 (Plow)',
        systemUUID: 'ec2d7a0c-0000-0000-0000-000000000000',
      },
    },
  }
}

function pool(i: number): Seed {
  return {
    apiVersion: 'machineconfiguration.openshift.io/v1',
    kind: 'MachineConfigPool',
    metadata: {name: `pool-${i}`, labels: {[`pools.operator.machineconfiguration.openshift.io/pool-${i}`]: ''}},
    spec: {
      machineConfigSelector: {
        matchExpressions: [{key: 'machineconfiguration.openshift.io/role', operator: 'In', values: ['worker', `pool-${i}`]}],
      },
      nodeSelector: {matchLabels: {[`node-role.kubernetes.io/pool-${i}`]: ''}},
      paused: false,
      configuration: {name: `rendered-pool-${i}-0123456789abcdef0123456789abcdef`},
    },
    status: {
      configuration: {name: `rendered-pool-${i}-0123456789abcdef0123456789abcdef`},
      machineCount: 100,
      readyMachineCount: 100,
      updatedMachineCount: 100,
      degradedMachineCount: 0,
      unavailableMachineCount: 0,
      observedGeneration: 2,
      conditions: ['RenderDegraded', 'NodeDegraded', 'Degraded', 'Updated', 'Updating'].map((type) => ({
        type,
        status: type === 'Updated' ? 'True' : 'False',
        lastTransitionTime: '2026-11-20T10:00:00Z',
        message: '',
        reason: '',
      })),
    },
  }
}

function get(em: Emulator, agent: Agent, path: string): Promise<{status: number; bytes: number; body: string}> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${em.url}${path}`,
      {agent, ca: em.caPem, headers: {Authorization: `Bearer ${em.tokens.admin}`, Accept: 'application/json'}},
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c) => chunks.push(c))
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8')
          resolve({status: res.statusCode ?? 0, bytes: body.length, body})
        })
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end()
  })
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

export async function run(opts: {quick: boolean}): Promise<BenchResult[]> {
  const runs = opts.quick ? 5 : 15
  const rpsSeconds = opts.quick ? 1 : 3
  const concurrency = 16
  let peakRss = process.memoryUsage().rss
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss)
  }, 20)
  const t0 = performance.now()
  const objects = [...Array.from({length: 5000}, (_, i) => node(i)), ...Array.from({length: 50}, (_, i) => pool(i))]
  const em = await startEmulator({objects})
  const startMs = performance.now() - t0
  const agent = new Agent({keepAlive: true, maxSockets: concurrency})
  const results: BenchResult[] = []
  try {
    // list of all nodes, end to end (request, transfer, JSON.parse on the client)
    const nodeTimes: number[] = []
    let listBytes = 0
    for (let i = 0; i < runs + 1; i++) {
      const t = performance.now()
      const r = await get(em, agent, '/api/v1/nodes')
      const list = JSON.parse(r.body)
      if (r.status !== 200 || list.items.length !== 5000) throw new Error(`node list failed: ${r.status} ${list.items?.length}`)
      if (i > 0) nodeTimes.push(performance.now() - t) // first run warms up
      listBytes = r.bytes
    }
    const poolTimes: number[] = []
    for (let i = 0; i < runs + 1; i++) {
      const t = performance.now()
      const r = await get(em, agent, '/apis/machineconfiguration.openshift.io/v1/machineconfigpools')
      if (JSON.parse(r.body).items.length !== 50) throw new Error('pool list failed')
      if (i > 0) poolTimes.push(performance.now() - t)
    }
    const selTimes: number[] = []
    for (let i = 0; i < runs; i++) {
      const t = performance.now()
      const r = await get(em, agent, `/api/v1/nodes?labelSelector=${encodeURIComponent('topology.kubernetes.io/zone=us-east-2a')}`)
      JSON.parse(r.body)
      selTimes.push(performance.now() - t)
    }
    // small GETs with concurrency
    let done = 0
    const end = performance.now() + rpsSeconds * 1000
    const names = objects.slice(0, 5000).map((o) => o.metadata.name)
    await Promise.all(
      Array.from({length: concurrency}, async (_, w) => {
        let i = w
        while (performance.now() < end) {
          const r = await get(em, agent, `/api/v1/nodes/${names[i % names.length]}`)
          if (r.status !== 200) throw new Error(`GET failed: ${r.status}`)
          done++
          i += concurrency
        }
      }),
    )
    const rps = done / rpsSeconds
    peakRss = Math.max(peakRss, process.memoryUsage().rss)
    results.push(
      {name: 'start with 5,000 nodes + 50 pools', value: round(startMs), unit: 'ms', target: '< 3000', ok: startMs < 3000},
      {
        name: 'list 5,000 nodes (median, end to end)',
        value: round(median(nodeTimes)),
        unit: 'ms',
        target: '< 1000',
        ok: median(nodeTimes) < 1000,
      },
      {name: 'node list size', value: round(listBytes / 1024 / 1024), unit: 'MiB'},
      {
        name: 'list 5,000 nodes by label (1/3 match, median)',
        value: round(median(selTimes)),
        unit: 'ms',
        target: '< 1000',
        ok: median(selTimes) < 1000,
      },
      {name: 'list 50 pools (median)', value: round(median(poolTimes)), unit: 'ms', target: '< 50', ok: median(poolTimes) < 50},
      {name: `small GETs, ${concurrency} concurrent`, value: Math.round(rps), unit: 'req/s', target: '> 500', ok: rps > 500},
      {
        name: 'peak RSS (emulator + client, one process)',
        value: round(peakRss / 1024 / 1024),
        unit: 'MiB',
        target: '< 1024',
        ok: peakRss < 1024 * 1024 * 1024,
      },
    )
  } finally {
    clearInterval(sampler)
    agent.destroy()
    await em.close()
  }
  return results
}

const round = (x: number) => Math.round(x * 10) / 10

await standalone(import.meta.url, run)
