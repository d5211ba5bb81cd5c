/** What `oc mob status` shows: the cluster, the pools table, a pool's nodes and image history, the problems. */
import type {ChalkInstance} from 'chalk'
import {age} from '../lib/mco/pool-state.js'
import type {BuildEvent, HistoryRow, NodeStatus, PoolStatus, Problem, StatusResult} from '../lib/status/index.js'
import {compactImage, table} from '../lib/ui/output.js'
import {parseReference, repositoryOf} from '../lib/registry/reference.js'

/** Where a MachineOSConfig's images go: its repository, tagged by the machine-os-builder with the MachineOSBuild name. */
function pushTarget(spec: string | null | undefined): string {
  if (!spec) return '?'
  try {
    return `${repositoryOf(parseReference(spec))}:<MachineOSBuild name>`
  } catch {
    return spec
  }
}

/** The line above each block of --watch (with the hint on a terminal that is redrawn). */
export const watchStamp = (c: ChalkInstance, redraw: boolean): string =>
  c.dim(`--- ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}${redraw ? ' (watching; Ctrl-C ends)' : ''}`)

export function statusText(s: StatusResult, c: ChalkInstance, opts: {wide?: boolean} = {}): string {
  // Images in full take a table past any terminal: the last path component and a short digest, unless -o wide.
  const img = (ref: string | null | undefined): string => (opts.wide ? (ref ?? '') : compactImage(ref))
  const builder = s.machineOSBuilder
  const restarts = builder.restarts > 0 ? `, ${builder.restarts} restart${builder.restarts === 1 ? '' : 's'}` : ''
  const builderText = builder.running
    ? c.green('running') +
      ` (${builder.pods
        .filter((p) => p.phase === 'Running')
        .map((p) => p.name)
        .join(', ')}${restarts})`
    : builder.deployed
      ? c.yellow('deployed, not running') +
        (builder.pods.length > 0
          ? ` (${builder.pods.map((p) => `${p.name}: ${p.phase}${p.reason ? ` ${p.reason}` : ''}`).join(', ')}${restarts})`
          : '')
      : 'not running'
  const cfg = s.buildConfig
  const moscs = s.pools
    .filter((p) => p.machineOSConfig)
    .map((p) => `${p.machineOSConfig!.name} (images to ${pushTarget(p.machineOSConfig!.renderedImagePushSpec)})`)
  const cfgText = cfg.present
    ? `builder ${cfg.backend === 'pod' ? 'build pod' : 'OpenShift Build'} (imageBuilderType ${cfg.imageBuilderType ?? 'unset: openshift-image-builder'}), images to ${cfg.finalImagePullspec ?? '?'}`
    : moscs.length > 0
      ? undefined
      : s.machineOSConfigApi
        ? 'not set up (no MachineOSConfig: `oc mob setup` writes one per pool)'
        : 'not set up (no on-cluster-build-config)'
  const lines = [`Cluster: ${s.server} (context ${s.context})`, `machine-os-builder: ${builderText}`]
  if (cfgText) lines.push(`build config: ${cfgText}`)
  if (moscs.length > 0) lines.push(`MachineOSConfigs: ${moscs.join(', ')}`)
  lines.push('')
  const buildPaint = (text: string, p: PoolStatus): string => {
    switch (p.build.state) {
      case 'failed': {
        return c.red(text)
      }
      case 'succeeded': {
        return c.green(text)
      }
      case 'building':
      case 'pending': {
        return c.yellow(text)
      }
      default: {
        return text
      }
    }
  }

  lines.push(
    table<PoolStatus>(s.pools, [
      {get: (p) => p.name, header: 'POOL'},
      {get: (p) => (p.optIn === 'machineosconfig' ? 'yes (MOSC)' : p.layered ? 'yes' : 'no'), header: 'LAYERED'},
      {get: (p) => p.builder ?? '', header: 'BUILDER'},
      {
        get: (p) =>
          p.build.state === 'none'
            ? ''
            : p.build.state +
              (p.build.hung ? ' (hung)' : '') +
              (p.build.since ? ` (${age(p.build.since)})` : '') +
              (p.build.attempts ? ` ${attemptText(p.build.attempts)}` : ''),
        header: 'BUILD',
        paint: buildPaint,
      },
      {get: (p) => p.renderedConfig ?? '', header: 'RENDERED CONFIG'},
      // 5.0/4.23+: the OS stream, where the cluster serves them.
      ...(s.pools.some((p) => p.osImageStream) ? [{get: (p: PoolStatus) => streamName(p) ?? '', header: 'STREAM'}] : []),
      {get: (p) => img(p.image), header: 'IMAGE'},
      {get: (p) => p.imageMatchesConfig ?? '', header: 'MATCHES', paint: (t, p) => (p.imageMatchesConfig === 'no' ? c.yellow(t) : t)},
      {get: (p) => `${p.nodes.updated}/${p.nodes.total}`, header: 'UPDATED'},
      {get: (p) => String(p.nodes.updating), header: 'UPDATING'},
      {get: (p) => String(p.nodes.degraded), header: 'DEGRADED', paint: (t, p) => (p.nodes.degraded > 0 ? c.red(t) : t)},
      {get: (p) => poolState(p), header: 'STATE', paint: (t, p) => (p.degraded ? c.red(t) : p.updating ? c.yellow(t) : t)},
    ]),
  )

  if (s.nodes) {
    const p = s.pools[0]
    if (p.image)
      lines.push('', `Image: ${p.image}`, `  built from ${p.renderedConfig ?? '-'}: ${p.imageMatchesConfig} (${p.imageEvidence})`)
    lines.push(...buildLines(p, c), ...streamLines(p, img), ...eventLines(p, c))
    lines.push(
      '',
      s.nodes.length === 0
        ? `No nodes in pool ${p.name}.`
        : table<NodeStatus>(s.nodes, [
            {get: (x) => x.name, header: 'NODE'},
            {
              get: (x) => x.state ?? '',
              header: 'STATE',
              paint: (t, x) =>
                x.state === 'Degraded' || x.state === 'Unreconcilable' ? c.red(t) : x.state === 'Working' ? c.yellow(t) : t,
            },
            {get: (x) => (x.ready ? 'Ready' : 'NotReady') + (x.schedulable ? '' : ',SchedulingDisabled'), header: 'READY'},
            {get: (x) => x.desiredConfig ?? '', header: 'DESIRED CONFIG'},
            {get: (x) => (x.currentConfig === x.desiredConfig ? '=' : (x.currentConfig ?? '')), header: 'CURRENT CONFIG'},
            {get: (x) => img(x.desiredImage), header: 'DESIRED IMAGE'},
            {
              get: (x) => (x.currentImage === x.desiredImage && x.currentImage ? '=' : img(x.currentImage)),
              header: 'CURRENT IMAGE',
            },
          ]),
    )
  }

  if (s.history) {
    lines.push(
      '',
      s.history.length === 0
        ? `No image history for pool ${s.pools[0].name} yet (oc mob build records one).`
        : `Image history of pool ${s.pools[0].name}, newest first (\`oc mob rollback ${s.pools[0].name} --to N\`):\n` +
            table<HistoryRow>(s.history, [
              {get: (h) => String(h.index), header: 'N'},
              {get: (h) => h.time.replace(/\.\d+Z$/, 'Z'), header: 'RECORDED'},
              {get: (h) => h.source, header: 'SOURCE'},
              {get: (h) => h.renderedConfig, header: 'RENDERED CONFIG'},
              {get: (h) => img(h.image), header: 'IMAGE'},
              // 4.18+: the build, and whether the spec that produced it is known (rollback restores it).
              ...(s.history.some((h) => h.machineOSBuild)
                ? [
                    {
                      get: (h: HistoryRow) =>
                        h.machineOSBuild ? `${h.machineOSBuild}${h.machineOSConfigSpec ? '' : ' (spec not recorded)'}` : '',
                      header: 'MACHINEOSBUILD',
                    },
                  ]
                : []),
              {get: (h) => (h.current ? 'current' : ''), header: 'NOW', paint: (t, h) => (h.current ? c.green(t) : t)},
            ]),
    )
  }

  if (s.problems.length > 0) {
    lines.push('', 'Problems:')
    for (const p of s.problems) lines.push(...problemLines(p, c))
  }

  return lines.join('\n')
}

/** `attempt 2 of 4`: the Job's pods so far. */
export const attemptText = (a: NonNullable<PoolStatus['build']['attempts']>): string => `attempt ${a.attempt} of ${a.of}`

/** `status POOL`: the MachineOSBuild under way or failed, its cause and each failed attempt. */
function buildLines(p: PoolStatus, c: ChalkInstance): string[] {
  const b = p.build
  if (b.object?.kind !== 'MachineOSBuild' || (b.state !== 'failed' && !b.attempts)) return []
  const out = ['', `Build: MachineOSBuild ${b.object.name} ${b.state}${b.attempts ? ` (${attemptText(b.attempts)})` : ''}`]
  if (b.state === 'failed') {
    out.push(
      b.cause
        ? `  cause: ${c.red(b.cause)}`
        : `  cause: not recorded (the MachineOSBuild says only "Build Failed"): read it in the build log, \`oc mob logs ${p.name}\``,
    )
  }

  for (const [i, f] of (b.attempts?.failed ?? []).entries()) out.push(`  failed attempt ${i + 1}: pod ${f.pod}: ${f.reason}`)
  return out
}

const streamName = (p: PoolStatus): string | null => {
  const st = p.osImageStream
  if (!st) return null
  const name = st.current ?? st.requested
  if (!name) return 'default'
  return st.requested && st.current && st.requested !== st.current ? `${st.current} -> ${st.requested}` : name
}

/** `status POOL`, 5.0/4.23+: the pool's OS stream and its base image. */
function streamLines(p: PoolStatus, img: (ref: string | null | undefined) => string): string[] {
  const st = p.osImageStream
  if (!st) return []
  const asked = st.requested ? `asks for ${st.requested}` : 'asks for none: the default stream'
  return ['', `OS image stream: ${st.current ?? '(not reported yet)'} (${asked})${st.osImage ? `, base image ${img(st.osImage)}` : ''}`]
}

/** `status POOL`, 5.0+: the latest events of the pool's MachineOSBuilds. */
function eventLines(p: PoolStatus, c: ChalkInstance): string[] {
  if (!p.events || p.events.length === 0) return []
  return [
    '',
    `Latest events of its builds, newest first:`,
    table<BuildEvent>(p.events, [
      {get: (e) => (e.time ? age(e.time) : ''), header: 'AGE'},
      {get: (e) => e.type, header: 'TYPE', paint: (t, e) => (e.type === 'Warning' ? c.yellow(t) : t)},
      {get: (e) => e.reason, header: 'REASON'},
      {get: (e) => e.build, header: 'MACHINEOSBUILD'},
      {get: (e) => e.message + (e.count > 1 ? ` (x${e.count})` : ''), header: 'MESSAGE'},
    ]),
  ]
}

function problemLines(p: Problem, c: ChalkInstance): string[] {
  const mark = p.severity === 'error' ? c.red('✖') : c.yellow('!')
  const out = [`${mark} ${p.severity === 'error' ? c.red(p.message) : p.message}`]
  if (p.next) out.push(`  next: ${p.next}`)
  return out
}

function poolState(p: PoolStatus): string {
  if (p.degraded) return 'Degraded'
  if (p.paused) return 'Paused'
  if (p.updating) return 'Updating'
  if (p.updated) return 'Updated'
  return ''
}
