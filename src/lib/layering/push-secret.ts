/** The secret a layered pool's builds push with, from its generation's settings (for status). */
import type {ConfigMap} from '../kube/types.js'
import type {MachineOSConfig} from '../mco/machine-os.js'
import {configMapPushSecret} from './configmap/pool-status.js'
import {machineOSPushSecret} from './machine-os/pool-status.js'
import type {PoolView} from './pool-view.js'

/** Its name in openshift-machine-config-operator: the MachineOSConfig's (4.18+), or on-cluster-build-config's for a labelled pool. */
export function pushSecretOf(
  p: Pick<PoolView, 'layered' | 'optIn'>,
  mosc: MachineOSConfig | undefined,
  buildConfig: ConfigMap | undefined,
): string | undefined {
  if (p.optIn === 'machineosconfig') return mosc ? machineOSPushSecret(mosc) : undefined
  return p.layered ? configMapPushSecret(buildConfig) : undefined
}
