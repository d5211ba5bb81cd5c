/** The plain shapes `oc mob doctor` returns: one row per check, with the registry's own answer where there is one. */

export type DoctorStatus = 'fail' | 'ok' | 'warn'

export interface DoctorCheck {
  /** secrets: what each secret in use holds; registries: logins and rights; tokens: expiry; pool: nodes, config, Containerfile. */
  section: 'pool' | 'registries' | 'secrets' | 'tokens'
  /** Stable identifier, e.g. `secret:push`, `registry:push`, `token:push`, `pool:nodes-os`. */
  id: string
  /** What was checked, e.g. `push to quay.io/org/os-image (push secret my-push)`. */
  subject: string
  status: DoctorStatus
  /** The finding (for ok rows too). */
  cause: string
  /** What to do about it (warn and fail rows). */
  next?: string
  /** What the registry (or network) answered. */
  answer?: string
  /** How the login went: Bearer token from ..., Basic, anonymous. */
  login?: string
}

export interface TokenFix {
  pool: string
  /** The service account whose long-lived token replaces the rotating one. */
  serviceAccount: string
  namespace: string
  /** The secret it would create. */
  secret: string
  /** Registry hosts the new secret holds credentials for. */
  registries: string[]
  /** The secret it replaces in the pool's settings. */
  replaces: string
  /** The same fix as commands a person can run. */
  commands: string[]
}

export interface DoctorResult {
  context: string
  server: string
  generation: 'configmap' | 'machineosconfig'
  pools: string[]
  checks: DoctorCheck[]
  summary: {ok: number; warn: number; fail: number}
  /** Fixes `--fix` can make (long-lived token secrets). */
  fixes: TokenFix[]
}
