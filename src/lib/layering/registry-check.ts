/**
 * The registry logins setup proves before it writes: with the secrets it is about to configure, pull
 * the base OS image, push to the final repository (an upload opened and cancelled), let nodes pull it,
 * and delete where the generation prunes. The probes are doctor's (`oc mob doctor`): the caller hands
 * them in, as lib/doctor sits above lib/layering.
 */
import type {Secret} from '../kube/types.js'
import type {Check} from './types.js'

export interface RegistryCheckInput {
  /** The base OS image's pullspec (undefined when it could not be read). */
  baseImage?: string
  finalPullspec: string
  /** The base image pull secret as builds will see it (for a copy made in this run: its source). */
  pullSecret?: Secret
  /** Its name in the build settings (empty: the global pull secret). */
  pullSecretName: string
  pushSecret?: Secret
  pushSecretName: string
  /** openshift-config/pull-secret: what nodes pull the built image with. */
  globalPullSecret?: Secret
  /** The generation deletes old images (4.18+): the push secret needs delete rights. */
  prunes: boolean
  signal?: AbortSignal
}

/** Real logins and probes for `input`, as preflight checks (a registry out of reach from here is a warning). */
export type RegistryCheck = (input: RegistryCheckInput) => Promise<Check[]>
