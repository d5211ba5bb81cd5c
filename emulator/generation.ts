// Which OpenShift generation of on-cluster layering an emulated cluster plays. One switch for the API
// server (`npm run cluster`) and the simulation (`npm run cluster:sim`), with the same default, so
// that what the one serves the other acts on.
//   4.14: on-cluster-build-config and the pool label (the 4.14/4.15 developer preview); no
//         MachineOSConfig/MachineOSBuild API.
//   4.19: the MachineOSConfig/MachineOSBuild API (GA since 4.19) and its machine-os-builder.

export type Generation = '4.14' | '4.19'

/** What supported clusters run. */
export const DEFAULT_GENERATION: Generation = '4.19'

/** `4.14`/`4.15` and `4.18`/`4.19`/`4.2x`/`5.x` name one of the two generations. */
export function parseGeneration(value: string): Generation {
  const v = value.trim()
  if (v === '4.14' || v === '4.15') return '4.14'
  if (/^4\.(18|19|[2-9]\d)$/.test(v) || /^5\.\d+$/.test(v)) return '4.19'
  throw new Error(
    `--generation ${value}: use 4.14 (the pool label and on-cluster-build-config) or 4.19 (MachineOSConfig; also 4.18, 4.2x, 5.x)`,
  )
}

/** Whether a cluster of this generation serves the MachineOSConfig API and runs its builder. */
export const servesMachineOS = (g: Generation): boolean => g === '4.19'

/**
 * Finer than the generation, for what later releases of the 4.19 generation add (reference §12.2,
 * §12.5): the release a simulated cluster plays, e.g. '4.19' (the default), '4.22', '5.0'.
 */
export interface ReleaseFeatures {
  /** 4.22 (and the 4.19 backports): a failed MachineOSBuild's message carries the cause, not only "Build Failed". */
  failureCause: boolean
  /** 5.0: the machine-os-builder records events on its MachineOSBuilds. */
  buildEvents: boolean
  /** 4.23/5.0: OSImageStream v1 is served, pools report their stream. */
  osImageStream: boolean
  /** The default OS stream: rhel-9 on 4.x, rhel-10 on 5.x. */
  defaultStream: string
}

export function releaseFeatures(release = '4.19'): ReleaseFeatures {
  const m = /^(\d+)\.(\d+)$/.exec(release.trim())
  if (!m) throw new Error(`release ${release}: use MAJOR.MINOR, e.g. 4.19, 4.22 or 5.0`)
  const v = Number(m[1]) * 100 + Number(m[2])
  return {
    buildEvents: v >= 500,
    defaultStream: v >= 500 ? 'rhel-10' : 'rhel-9',
    failureCause: v >= 422,
    osImageStream: v >= 423,
  }
}
