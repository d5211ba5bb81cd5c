/**
 * The pool's side of `oc mob doctor`: its nodes (CoreOS only, amd64, not a single-node cluster), its
 * MachineOSConfig as the API server judges it (a server-side dry run of an update to the same
 * object), and its custom Containerfile (the final stage, and EL9 repository URLs on a rhel-10
 * stream). Pure functions over what was read, except the dry run.
 */
import {DockerfileParser} from 'dockerfile-ast'
import {validateCustomDockerfile} from '../build/validate.js'
import type {MachineConfigPool, Node} from '../kube/types.js'
import type {LayeringBackend, SettingsDryRun} from '../layering/generation.js'
import type {DoctorCheck} from './types.js'

import type {PoolWithStream} from '../mco/os-image-stream.js'

export type {PoolWithStream} from '../mco/os-image-stream.js'
type NodeInfo = Node & {status?: {nodeInfo?: {architecture?: string; osImage?: string}}}

/** Nodes the pool's nodeSelector (matchLabels) selects. */
export function poolNodes(pool: MachineConfigPool, nodes: Node[]): Node[] {
  const want = pool.spec?.nodeSelector?.matchLabels ?? {}
  if (Object.keys(want).length === 0) return []
  return nodes.filter((n) => Object.entries(want).every(([k, v]) => n.metadata.labels?.[k] === v))
}

const list = (names: string[]): string =>
  names.length <= 3 ? names.join(', ') : `${names.slice(0, 3).join(', ')} and ${names.length - 3} more`

export function nodeChecks(pool: MachineConfigPool, members: Node[], allNodes: Node[], topology: string | undefined): DoctorCheck[] {
  const name = pool.metadata.name!
  const subject = `pool ${name} nodes`
  const out: DoctorCheck[] = []
  if (members.length === 0) {
    out.push({
      cause: 'the pool selects no node: nothing will run the image',
      id: 'pool:nodes',
      next: `add nodes with \`oc mob nodes add ${name} NODE\``,
      section: 'pool',
      status: 'warn',
      subject,
    })
  }

  const info = members as NodeInfo[]
  const notCoreOS = info.filter((n) => !/CoreOS/i.test(n.status?.nodeInfo?.osImage ?? ''))
  if (members.length > 0)
    out.push(
      notCoreOS.length > 0
        ? {
            cause: `not CoreOS: ${list(notCoreOS.map((n) => `${n.metadata.name} (${n.status?.nodeInfo?.osImage || 'unknown OS'})`))}; only CoreOS nodes can run a layered image and the operator rejects the pool`,
            id: 'pool:nodes-os',
            next: `move them out of the pool: \`oc mob nodes remove ${name} ${notCoreOS.map((n) => n.metadata.name).join(' ')}\``,
            section: 'pool',
            status: 'fail',
            subject,
          }
        : {
            cause: `${members.length} node${members.length === 1 ? '' : 's'}, all CoreOS`,
            id: 'pool:nodes-os',
            section: 'pool',
            status: 'ok',
            subject,
          },
    )
  const other = info.filter((n) => (n.status?.nodeInfo?.architecture ?? 'amd64') !== 'amd64')
  if (other.length > 0) {
    out.push({
      cause: `not amd64: ${list(other.map((n) => `${n.metadata.name} (${n.status?.nodeInfo?.architecture})`))}; only amd64 is supported, and only the NoArch Containerfile is honoured`,
      id: 'pool:nodes-arch',
      next: 'keep other architectures in a pool without on-cluster builds',
      section: 'pool',
      status: 'warn',
      subject,
    })
  }

  if (topology === 'SingleReplica' || allNodes.length === 1) {
    out.push({
      cause: 'a single-node cluster: on-cluster builds are not supported there (the node would build and reboot into its own image)',
      id: 'pool:sno',
      next: 'use a cluster with separate control-plane and worker nodes',
      section: 'pool',
      status: 'warn',
      subject: 'cluster topology',
    })
  }

  return out
}

/** The server-side dry run (`dryRun=All`) of an update of the pool's settings object to itself: does the API server accept it as it is? */
export function settingsCheck(r: SettingsDryRun): DoctorCheck {
  return r.rejected === undefined
    ? {
        cause: 'the API server accepts it (server-side dry run of an update)',
        id: 'pool:machineosconfig',
        section: 'pool',
        status: 'ok',
        subject: r.subject,
      }
    : {
        cause: `the API server rejects it: ${r.rejected}`,
        id: 'pool:machineosconfig',
        next: r.fix,
        section: 'pool',
        status: 'fail',
        subject: r.subject,
      }
}

const EL9 = /\b(?:el9|rhel-?9|epel-?9|centos-?stream-?9|c9s|stream9)\b|releasever=9\b|\/9\/(?:BaseOS|AppStream|Everything)\b/i

export function containerfileChecks(opts: {
  pool: string
  content?: string
  finalStage: LayeringBackend['finalStage']
  stream?: string
  edit: string
}): DoctorCheck[] {
  const {content, pool} = opts
  const subject = `pool ${pool} custom Containerfile`
  if (!content?.trim())
    return [
      {
        cause: 'none: the image is the base OS image plus the MachineConfigs',
        id: 'pool:containerfile',
        section: 'pool',
        status: 'ok',
        subject,
      },
    ]
  const out: DoctorCheck[] = []
  const problems = validateCustomDockerfile(content)
  const finalRule = (m: string): boolean => m.includes('FROM configs AS final') || m.includes('no FROM instruction')
  const errors = problems.filter((p) => p.severity === 'error' && (opts.finalStage === 'required' || !finalRule(p.message)))
  if (errors.length > 0) {
    out.push({
      cause: errors.map((p) => `line ${p.line}: ${p.message}`).join('; '),
      id: 'pool:containerfile',
      next: `fix it (${opts.edit}); \`oc mob dockerfile ${pool}\` shows the whole file`,
      section: 'pool',
      status: 'fail',
      subject,
    })
  } else if (opts.finalStage === 'last-stage') {
    const froms = DockerfileParser.parse(content).getFROMs()
    const stages = new Set(['configs'])
    for (const f of froms.slice(0, -1)) if (f.getBuildStage()) stages.add(f.getBuildStage()!.toLowerCase())
    const last = froms.at(-1)
    const image = last?.getImageName()?.toLowerCase()
    out.push(
      image && !stages.has(image)
        ? {
            cause: `its last stage is \`FROM ${last!.getImage()}\`: the image built would not be the OS image`,
            id: 'pool:containerfile',
            next: 'end it with a stage built on the OS image (`FROM configs AS final`)',
            section: 'pool',
            status: 'warn',
            subject,
          }
        : {cause: 'valid; its last stage builds on the OS image', id: 'pool:containerfile', section: 'pool', status: 'ok', subject},
    )
  } else {
    out.push({cause: 'valid and ends with `FROM configs AS final`', id: 'pool:containerfile', section: 'pool', status: 'ok', subject})
  }

  if (opts.stream && /-10$/.test(opts.stream)) {
    const lines = content
      .split('\n')
      .map((l, i) => [i + 1, l] as const)
      .filter(([, l]) => EL9.test(l))
    if (lines.length > 0) {
      out.push({
        cause: `the pool uses the ${opts.stream} stream, but line${lines.length === 1 ? '' : 's'} ${lines.map(([n]) => n).join(', ')} name${lines.length === 1 ? 's' : ''} EL9 repositories`,
        id: 'pool:containerfile-stream',
        next: 'use EL10 repositories (or keep the pool on the rhel-9 stream)',
        section: 'pool',
        status: 'warn',
        subject,
      })
    }
  }

  return out
}

export function streamOf(pool: PoolWithStream): string | undefined {
  return pool.spec?.osImageStream?.name || pool.status?.osImageStream?.name || undefined
}
