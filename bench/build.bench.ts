/**
 * How soon `oc mob build` notices that its build pod succeeded: the time from the pod's status
 * turning Succeeded (written by this benchmark playing the kubelet) to the build driver reporting
 * success, which includes reading the digest, removing the ephemeral objects and recording the image
 * on the pool. Watch-driven: there is no polling interval to wait for. Target: median under 100 ms.
 *
 * `npx tsx bench/build.bench.ts [--quick]`
 */
import {runBuild} from '../src/lib/layering/generation.js'
import {KubeClient} from '../src/lib/kube/client.js'
import {loadKubeconfig} from '../src/lib/kube/kubeconfig.js'
import {R} from '../src/lib/kube/resources.js'
import type {Pod} from '../src/lib/kube/types.js'
import {waitFor} from '../src/lib/kube/watch.js'
import {type Emulator, startEmulator} from '../emulator/index.js'
import {loadFixture} from '../emulator/sim/index.js'
import {type BenchResult, standalone} from './run.js'

const NS = 'openshift-machine-config-operator'
const b64 = (s: string): string => Buffer.from(s).toString('base64')

/**
 * The default fixture with a build configuration (one dockerconfigjson secret for pulls and pushes to
 * the internal registry), and the name of the worker pool's rendered config. The pool is not opted in yet.
 */
export function buildFixture(): {objects: ReturnType<typeof loadFixture>; rendered: string} {
  const objects = loadFixture()
  const rendered = objects.find((o) => o.kind === 'MachineConfigPool' && o.metadata.name === 'worker')!.spec.configuration.name as string
  const internal = 'image-registry.openshift-image-registry.svc:5000'
  const creds = {[internal]: {auth: b64('u:p')}, 'quay.io': {auth: b64('u:p')}}
  objects.push(
    {
      apiVersion: 'v1',
      data: {'.dockerconfigjson': b64(JSON.stringify({auths: creds}))},
      kind: 'Secret',
      metadata: {name: 'bench-secret', namespace: NS},
      type: 'kubernetes.io/dockerconfigjson',
    },
    {
      apiVersion: 'v1',
      data: {
        baseImagePullSecretName: 'bench-secret',
        finalImagePullspec: `${internal}/${NS}/os-image:latest`,
        finalImagePushSecretName: 'bench-secret',
        imageBuilderType: 'custom-pod-builder',
      },
      kind: 'ConfigMap',
      metadata: {name: 'on-cluster-build-config', namespace: NS},
    },
  )
  return {objects, rendered}
}

/**
 * Plays the kubelet and the build for round `i`: waits for the build pod and for the build driver to
 * watch it (a real build runs for minutes, so the driver is always watching when it ends), publishes a
 * digest, runs `before` (e.g. to start a competitor waiting), then turns the pod Succeeded; returns when
 * it did, by `clock`.
 */
export async function finishBuildPod(
  client: KubeClient,
  emu: Emulator,
  rendered: string,
  i: number,
  clock: () => number,
  before?: () => Promise<void>,
): Promise<number> {
  const name = `build-${rendered}`
  const from = emu.requests.length
  await waitFor<Pod, true>(client, R.pods, name, (p) => (p ? true : undefined), {namespace: NS, timeoutMs: 30_000})
  // The driver's watch of the pod that comes after it created the pod (earlier ones waited for an old pod to go).
  const watching = (): boolean => {
    const created = emu.requests.findIndex((r, k) => k >= from && r.method === 'POST' && r.path.endsWith('/pods'))
    return created >= 0 && emu.requests.slice(created).some((r) => r.watch && r.path.endsWith('/pods') && r.query.includes(name))
  }
  for (const end = Date.now() + 30_000; !watching(); ) {
    if (Date.now() > end) throw new Error(`the build driver never watched pod ${name}`)
    await new Promise((r) => setTimeout(r, 5))
  }

  const digest = `sha256:${String(i).padStart(64, '0')}`
  await client.create(R.configMaps, {data: {digest}, metadata: {name: `digest-${rendered}`, namespace: NS}})
  const pod = await client.get<Pod>(R.pods, name, NS)
  await before?.()
  const at = clock()
  await client.replace<Pod>(R.pods, {...pod, status: {...pod.status, phase: 'Succeeded'}}, {namespace: NS, subresource: 'status'})
  return at
}

export async function run(opts: {quick: boolean}): Promise<BenchResult[]> {
  const rounds = opts.quick ? 3 : 15
  // The API server with the default fixture and no controllers: this benchmark is the kubelet.
  const {objects, rendered} = buildFixture()
  const emu = await startEmulator({objects})
  const client = new KubeClient(loadKubeconfig({kubeconfig: emu.kubeconfig}))
  await client.patch(R.machineConfigPools, 'worker', {metadata: {labels: {'machineconfiguration.openshift.io/layering-enabled': ''}}})
  const latencies: number[] = []
  try {
    for (let i = 0; i < rounds; i++) {
      const kubelet = finishBuildPod(client, emu, rendered, i, () => performance.now())
      await runBuild(client, 'worker', {rebuild: true})
      const done = performance.now()
      latencies.push(done - (await kubelet))
    }
  } finally {
    await emu.close()
  }

  latencies.sort((a, b) => a - b)
  const median = latencies[Math.floor(latencies.length / 2)]
  return [
    {name: 'build pod Succeeded -> success reported (median)', ok: median < 100, target: '< 100 ms', unit: 'ms', value: median},
    {name: 'build pod Succeeded -> success reported (worst)', unit: 'ms', value: latencies.at(-1)!},
  ]
}

await standalone(import.meta.url, run)
