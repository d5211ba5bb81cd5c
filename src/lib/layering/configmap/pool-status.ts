/** 4.14/4.15: a pool opted in by the layering-enabled label, its build pod or Build, and oc-mob's image history. */
import {DEFAULT_STALL_GRACE_MS, recognizeStall, type Stall} from '../../build/stall.js'
import type {BuildObjectInfo} from '../../cluster/build-objects.js'
import {digestOf, type HistoryEntry} from '../../cluster/history.js'
import type {ConfigMap, MachineConfigPool} from '../../kube/types.js'
import {BUILD_CONDITIONS, BUILD_CONFIG_KEYS, buildNames} from '../../mco/constants.js'
import {condition, isLayered, poolBuild, poolImage, renderedConfig} from '../../mco/pool-state.js'
import type {BuildPods, BuildProblem, ImageMatch, PoolBuild, PoolContext, PoolView, ViewedPool} from '../pool-view.js'
import {recognizeBuildObject} from './cleanup.js'

const n = <T>(v: T | undefined): T | null => v ?? null

/**
 * The pool's `mc-<R>`/`dockerfile-<R>` ConfigMaps of its rendered config R (recognised as cleanup
 * recognises them: the operator's three build labels and the names a build of R uses) that no build
 * pod or Build goes with: an interrupted build left them, and the next build of R fails on them. Those
 * younger than `graceMs` are left out: the operator creates them just before the build object.
 */
export function orphanedBuildConfigMaps(
  pool: string,
  rendered: string | undefined,
  configMaps: ConfigMap[],
  objects: BuildObjectInfo[],
  now: number,
  graceMs = DEFAULT_STALL_GRACE_MS,
): string[] {
  if (!rendered || objects.some((o) => o.renderedConfig === rendered)) return []
  return configMaps
    .filter((cm) => {
      const r = recognizeBuildObject(cm, 'ConfigMap')
      if (!r || r.pool !== pool || r.renderedConfig !== rendered) return false
      if (r.role !== 'machineconfig' && r.role !== 'dockerfile') return false
      const created = Date.parse(cm.metadata.creationTimestamp ?? '')
      return !cm.metadata.deletionTimestamp && (Number.isNaN(created) || now - created >= graceMs)
    })
    .map((cm) => cm.metadata.name!)
    .sort()
}

/**
 * A layered pool with an image but none of the Build* conditions (an interrupted build or a hand edit
 * cleared them), and no build of its rendered config under way: the node controller rolls the image
 * out only while BuildSuccess is True, and the builder starts no build while the image annotation is set.
 */
export function buildConditionsLost(p: MachineConfigPool, current: BuildObjectInfo | undefined): boolean {
  if (!isLayered(p) || !poolImage(p)) return false
  if (current && !current.terminating && current.state !== 'succeeded') return false
  return BUILD_CONDITIONS.every((t) => condition(p, t) === undefined)
}

/**
 * Whether the pool's image was built from its current rendered config: from oc-mob's history and
 * from the build objects in the cluster; "unknown" when neither can tell.
 */
export function imageMatch(
  image: string,
  rendered: string | undefined,
  entries: HistoryEntry[],
  current: BuildObjectInfo | undefined,
): {match: ImageMatch; evidence: string} {
  const strong = entries.filter((e) => e.image === image && e.source !== 'observed' && e.renderedConfig)
  const exact = strong.find((e) => e.renderedConfig === rendered)
  if (exact) {
    const how =
      exact.source === 'rollback'
        ? 'rolled back to by oc-mob'
        : exact.source === 'joined'
          ? 'built by the cluster, followed by oc-mob'
          : 'built by oc-mob'
    return {evidence: `image history: ${how} for ${exact.renderedConfig} at ${exact.time}`, match: 'yes'}
  }

  if (current && (current.state === 'running' || current.state === 'pending')) {
    return {
      evidence: `a build for ${rendered} is ${current.state === 'pending' ? 'pending' : 'running'} (${current.kind.toLowerCase()} ${current.name}); the image is from an earlier build`,
      match: 'no',
    }
  }

  if (current?.state === 'failed') {
    return {
      evidence: `the build for ${rendered} failed (${current.kind.toLowerCase()} ${current.name}); the image is from an earlier build`,
      match: 'no',
    }
  }

  if (strong.length > 0) return {evidence: `image history: built for ${strong[0].renderedConfig}, not for ${rendered}`, match: 'no'}
  const seen = entries.find((e) => e.image === image)
  if (seen)
    return {
      evidence: `seen on the pool at ${seen.time} while it targeted ${seen.renderedConfig || 'an unknown config'}; oc-mob did not see it built`,
      match: 'unknown',
    }
  return {evidence: 'no record of the rendered config it was built from: oc-mob neither built nor followed it', match: 'unknown'}
}

export function configMapPoolView(p: MachineConfigPool, ctx: PoolContext): PoolView {
  const cond = poolBuild(p)
  const rendered = renderedConfig(p)
  const layered = isLayered(p)
  const current = rendered ? ctx.objects.find((o) => o.renderedConfig === rendered) : undefined
  const build: PoolBuild = {
    hung: false,
    message: n(cond.message),
    object: current ?? null,
    reason: n(cond.reason),
    since: n(cond.since),
    state: cond.state,
  }
  if (current?.state === 'failed' && (cond.state !== 'failed' || current.hung)) {
    build.state = 'failed'
    build.hung = current.hung
    build.reason = current.hung ? 'ImageBuildFailed' : cond.state === 'failed' ? build.reason : 'BuildObjectFailed'
    build.message = current.hung
      ? `${current.reason}; the build pod stays Running (the 4.14 wait-for-done defect), so the cluster still reports the build as ${cond.state === 'pending' ? 'pending' : 'running'}`
      : current.reason
    if (cond.state !== 'failed') build.since = current.created
  } else if (
    current &&
    !current.terminating &&
    (current.state === 'pending' || current.state === 'running') &&
    (cond.state === 'none' || cond.state === 'succeeded')
  ) {
    // A build the pool's conditions do not show (yet): the object is the better witness.
    build.state = current.state === 'pending' ? 'pending' : 'building'
    build.reason = 'BuildObjectExists'
    build.message = `${current.kind.toLowerCase()} ${current.name} is ${current.phase}`
    build.since = current.created
  }

  const image = poolImage(p)
  let match: {match: ImageMatch; evidence: string} | undefined
  if (image && layered) match = imageMatch(image, rendered, ctx.history, current)
  const view: PoolView = {
    build,
    builder: layered ? (current ? (current.kind === 'Build' ? 'build' : 'pod') : ctx.backend) : null,
    image: n(image),
    imageDigest: image?.includes('@') ? digestOf(image) : null,
    imageEvidence: match?.evidence ?? null,
    imageMatchesConfig: match?.match ?? null,
    layered,
    machineOSConfig: null,
    optIn: layered ? 'label' : null,
  }
  if (layered) {
    view.orphanedConfigMaps = orphanedBuildConfigMaps(
      p.metadata.name!,
      rendered,
      ctx.buildConfigMaps ?? [],
      ctx.objects,
      ctx.now ?? Date.now(),
    )
    view.buildConditionsLost = buildConditionsLost(p, current)
  }

  return view
}

/** Whether the pool's build pod makes no progress (src/lib/build/stall.ts). */
export function configMapStall(p: ViewedPool, pods: BuildPods, now: number): Stall | undefined {
  const object = p.build.object
  if (!object || !p.renderedConfig || object.state === 'succeeded' || object.kind !== 'Pod') return undefined
  const pod = pods.buildPods.find((x) => x.metadata.name === object.name)
  return pod
    ? recognizeStall({
        build: {digestConfigMap: buildNames(p.renderedConfig).digest, generation: 'configmap', pods: [pod], pool: p.name},
        graceMs: DEFAULT_STALL_GRACE_MS,
        now,
      })
    : undefined
}

/** The build problems of a pool opted in by the label; `failedForCause`: a stall already says why it failed. */
export function configMapProblems(p: ViewedPool, objects: BuildObjectInfo[], failedForCause: boolean): BuildProblem[] {
  const out: BuildProblem[] = []
  const add = (severity: BuildProblem['severity'], message: string, next: string | null): void => {
    out.push({message, next, severity})
  }

  const name = p.name
  if (p.build.state === 'failed' && failedForCause) {
    // Said above, with its cause.
  } else if (p.build.state === 'failed') {
    add(
      'error',
      `Build for pool ${name} failed${p.build.message ? `: ${p.build.message}` : ''}`,
      `see why with \`oc mob logs ${name}\`, then remove the failed build with \`oc mob cleanup ${name}\` and build again with \`oc mob build ${name}\``,
    )
  } else if ((p.build.state === 'building' || p.build.state === 'pending') && !p.build.object) {
    add(
      'warning',
      `pool ${name} says a build is ${p.build.state === 'pending' ? 'pending' : 'running'}, but there is no build object for ${p.renderedConfig ?? 'its rendered config'}`,
      `clear the stale state with \`oc mob cleanup ${name}\`, then \`oc mob build ${name}\``,
    )
  }

  const orphans = p.orphanedConfigMaps ?? []
  if (orphans.length > 0) {
    add(
      'error',
      `pool ${name} has build ConfigMaps of ${p.renderedConfig} without a build pod or Build: ${orphans.map((o) => `configmap/${o}`).join(', ')} (an interrupted build left them; the next build of ${p.renderedConfig} fails on them)`,
      `remove them with \`oc mob cleanup ${name}\`, then build with \`oc mob build ${name}\``,
    )
  }

  if (p.buildConditionsLost) {
    add(
      'error',
      `pool ${name} has an image but none of its build conditions (BuildPending, Building, BuildSuccess, BuildFailed): an interrupted build or an edit cleared them, and the node controller rolls the image out only while BuildSuccess is True`,
      `build again with \`oc mob build ${name}\` (after \`oc mob cleanup ${name}\` if a build left objects behind)`,
    )
  }

  if (!p.image && p.build.state === 'none') {
    add(
      'warning',
      `pool ${name} is layered but has no image yet`,
      `build one with \`oc mob build ${name}\` (or wait for the machine-os-builder)`,
    )
  }

  if (p.imageMatchesConfig === 'no' && p.build.state !== 'building' && p.build.state !== 'pending' && p.build.state !== 'failed') {
    add(
      'warning',
      `the image of pool ${name} was not built from its rendered config ${p.renderedConfig}: ${p.imageEvidence}`,
      `build it with \`oc mob build ${name} --rebuild\``,
    )
  }

  const stale = objects.filter((o) => o.renderedConfig !== p.renderedConfig)
  if (stale.length > 0) {
    add(
      'warning',
      `pool ${name} has build objects of an earlier rendered config: ${stale.map((o) => `${o.kind.toLowerCase()}/${o.name} (${o.state})`).join(', ')}`,
      `remove them with \`oc mob cleanup ${name}\``,
    )
  }

  return out
}

/** The secret every labelled pool's builds push with: on-cluster-build-config's finalImagePushSecretName. */
export function configMapPushSecret(buildConfig: ConfigMap | undefined): string | undefined {
  return buildConfig?.data?.[BUILD_CONFIG_KEYS.finalImagePushSecretName]?.trim() || undefined
}
