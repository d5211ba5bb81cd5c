/**
 * The plain shapes shared by setup, enable/disable and nodes: preflight checks with a verdict and a
 * fix, and plans of changes (what would be created, changed or left alone) that a command shows
 * before anything happens.
 */
import type {ExitCodeValue} from '../errors.js'
import type {KubeObject} from '../kube/types.js'

export type Verdict = 'fail' | 'pass' | 'warn'

export interface Check {
  /** Stable identifier, e.g. `access`, `machineconfig-api`, `push-secret`. */
  id: string
  /** What was checked, in a few words. */
  title: string
  verdict: Verdict
  /** The finding. */
  message: string
  /** What to do about it (for warnings and failures). */
  fix?: string
  /** More lines (e.g. each denied permission). */
  details?: string[]
  /** Exit code of the command when this check fails (default: 7, a failed check). */
  exitCode?: ExitCodeValue
}

export type PlanAction = 'conflict' | 'create' | 'delete' | 'unchanged' | 'update'

export interface PlanItem {
  /**
   * create: does not exist yet; update: exists and will be changed; unchanged: already as wanted;
   * conflict: exists and differs, and is only overwritten with --force; delete: exists and will be deleted.
   */
  action: PlanAction
  kind: string
  name: string
  namespace?: string
  /** One line saying what the change is. */
  summary: string
  /** A unified diff of the change (secret values never appear: registries are shown by name only). */
  diff?: string
  /** The object as it will be written (secret data redacted), for --dry-run -o yaml. */
  manifest?: KubeObject
}

/** A permission the current user needs, asked with a SelfSubjectAccessReview. */
export interface Access {
  verb: string
  group: string
  resource: string
  namespace?: string
  name?: string
  subresource?: string
}

export function describeAccess(a: Access): string {
  const res = (a.group ? `${a.resource}.${a.group}` : a.resource) + (a.subresource ? `/${a.subresource}` : '')
  const target = a.name ? `${res} "${a.name}"` : res
  return `${a.verb} ${target}${a.namespace ? ` in namespace ${a.namespace}` : ' (cluster scope)'}`
}

/** What a plan item does to its object, as a verb: `would ${verb} machineconfigpool/x`. */
export function actionVerb(item: Pick<PlanItem, 'action' | 'kind'>): string {
  if (item.action === 'delete') return 'delete'
  if (item.action === 'create') return 'create'
  return item.action === 'unchanged' ? 'leave' : 'patch'
}

export function objectRef(item: Pick<PlanItem, 'kind' | 'name' | 'namespace'>): string {
  return `${item.kind.toLowerCase()}/${item.name}${item.namespace ? ` -n ${item.namespace}` : ''}`
}
