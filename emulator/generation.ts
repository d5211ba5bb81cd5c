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
