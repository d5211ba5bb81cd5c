/**
 * `oc mob doctor` on the demo cluster (the emulator's default fixture, OpenShift 4.18+, the worker
 * pool with a MachineOSConfig), with its registry on loopback (the in-process token registry: the
 * Bearer flow, an upload session opened and cancelled, the delete probe), as a user runs it: the
 * packed CLI, spawned. Target: the whole doctor under 2 s.
 *
 * `npx tsx bench/doctor.bench.ts [--quick]`.
 */
import {defaultFixturePath, type Emulator, startEmulator} from '../emulator/index.js'
import {startTokenRegistry, type TokenRegistry} from '../emulator/oci/token-registry.js'
import {packedCli} from './packed.js'
import {type BenchResult, standalone} from './run.js'
import {measure} from './measure.js'

const NS = 'openshift-machine-config-operator'
const DIGEST = `sha256:${'cd'.repeat(32)}`
const b64 = (s: string): string => Buffer.from(s).toString('base64')

/**
 * The demo cluster (4.18+, the worker pool with a MachineOSConfig) with its registry on loopback: what
 * doctor checks (also used by bench/network.bench.ts).
 */
export async function doctorCluster(): Promise<{emu: Emulator; reg: TokenRegistry}> {
  const reg = await startTokenRegistry({
    images: {'ocp/rhcos': [DIGEST]},
    users: {builder: {actions: ['pull', 'push', 'delete'], password: 'bench-password'}},
  })
  const emu = await startEmulator({fixture: defaultFixturePath(), groups: {machineOS: true}})
  const auths = b64(JSON.stringify({auths: {[reg.host]: {auth: b64('builder:bench-password')}}}))
  const cm = await emu.request('GET', `/api/v1/namespaces/${NS}/configmaps/machine-config-osimageurl`)
  await emu.request('PUT', `/api/v1/namespaces/${NS}/configmaps/machine-config-osimageurl`, {
    ...cm.body,
    data: {...cm.body.data, baseOSContainerImage: `${reg.host}/ocp/rhcos@${DIGEST}`},
  })
  const global = await emu.request('GET', '/api/v1/namespaces/openshift-config/secrets/pull-secret')
  await emu.request('PUT', '/api/v1/namespaces/openshift-config/secrets/pull-secret', {
    ...global.body,
    data: {'.dockerconfigjson': auths},
  })
  await emu.request('POST', `/api/v1/namespaces/${NS}/secrets`, {
    apiVersion: 'v1',
    data: {'.dockerconfigjson': auths},
    kind: 'Secret',
    metadata: {name: 'push-creds', namespace: NS},
    type: 'kubernetes.io/dockerconfigjson',
  })
  await emu.request('POST', '/apis/machineconfiguration.openshift.io/v1/machineosconfigs', {
    apiVersion: 'machineconfiguration.openshift.io/v1',
    kind: 'MachineOSConfig',
    metadata: {name: 'worker'},
    spec: {
      imageBuilder: {imageBuilderType: 'Job'},
      machineConfigPool: {name: 'worker'},
      renderedImagePushSecret: {name: 'push-creds'},
      renderedImagePushSpec: `${reg.host}/org/os-image:latest`,
    },
  })
  return {emu, reg}
}

export async function run(opts: {quick: boolean}): Promise<BenchResult[]> {
  const {emu, reg} = await doctorCluster()
  try {
    const m = await measure(process.execPath, [packedCli(), 'doctor', '--kubeconfig', emu.kubeconfig, '-o', 'json'], opts.quick ? 2 : 9)
    const checks = (JSON.parse(m.stdout) as {checks: unknown[]}).checks.length
    return [
      {
        name: `oc mob doctor, whole (${checks} checks, registry logins included; median)`,
        ok: m.median < 2000,
        target: '< 2000 ms',
        unit: 'ms',
        value: m.median,
      },
      {name: 'oc mob doctor peak memory', unit: 'MB', value: m.peakMb},
    ]
  } finally {
    await emu.close()
    await reg.stop()
  }
}

await standalone(import.meta.url, run)
