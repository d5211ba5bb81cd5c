/**
 * The screen text of `oc mob dockerfile`: notes on stderr, the Dockerfile/Containerfile (or the
 * --check summary, the --diff, the list of exported files) on stdout, and the custom part's problems,
 * for both generations (a 4.14/4.15 Dockerfile with its on-cluster-build-custom-dockerfile entry, a
 * 4.18+ Containerfile with its MachineOSConfig's containerFile).
 */
import type {ChalkInstance} from 'chalk'
import type {DockerfileProblemReport, DockerfileResult} from '../lib/build/render.js'
import {ExitCode, MobError} from '../lib/errors.js'
import {CUSTOM_DOCKERFILE_CONFIG, MCO_NAMESPACE} from '../lib/mco/constants.js'

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`
}

/** What the custom part is called in messages: the ConfigMap entry, the MachineOSConfig's containerFile, or the --file. */
function customWhere(r: DockerfileResult): string {
  if (r.customDockerfile.origin === 'file') return r.customDockerfile.location!
  return r.machineOS
    ? `MachineOSConfig ${r.machineOS.machineOSConfig}, spec.containerFile (NoArch)`
    : `${CUSTOM_DOCKERFILE_CONFIG}, key ${r.pool}`
}

/** Notes for the person at the terminal (stderr), before the output. */
export function dockerfileNotes(r: DockerfileResult, err: ChalkInstance): string[] {
  const notes: string[] = []
  if (!r.layered) notes.push(err.dim(`note: pool ${r.pool} is not opted into on-cluster builds; this is what a build of it would use`))
  if (r.liveConfigMap && r.source === 'live') {
    const failed = r.buildState === 'failed'
    const state = r.machineOS
      ? `MachineOSBuild ${r.machineOS.machineOSBuild} ${failed ? 'failed' : 'is under way'}`
      : failed
        ? `the failed build of ${r.renderedConfig}`
        : `a build of ${r.renderedConfig} is under way`
    notes.push(
      err.dim(
        `note: ${state}: showing its own copy from ConfigMap ${r.liveConfigMap}` +
          (r.liveMatchesRender
            ? ' (identical to a fresh render)'
            : '; it differs from a fresh render (--diff shows how, --fresh shows the fresh render)'),
      ),
    )
  }

  for (const n of r.machineOS?.notes ?? []) notes.push(err.yellow(`warning: ${n}`))
  if (r.diff?.identical) notes.push(err.dim(`note: ${r.diff.from} is identical to a fresh render`))
  if (r.exported && !r.exported.fitsConfigMap) {
    notes.push(
      err.yellow(
        `warning: the encoded MachineConfig is ${r.exported.configMapBytes} bytes; a ConfigMap holds at most 1048576, so the cluster cannot start this build`,
      ),
    )
  }

  return notes
}

/** The text on stdout: the file itself (byte-exact with `> FILE`), the --check summary, the diff, or what --export wrote. */
export function dockerfileText(r: DockerfileResult, check: boolean): string {
  if (check) {
    if (r.customDockerfile.origin === 'none') {
      return r.machineOS
        ? `MachineOSConfig ${r.machineOS.machineOSConfig} has no containerFile (NoArch): nothing to check.`
        : `Pool ${r.pool} has no custom Dockerfile (${CUSTOM_DOCKERFILE_CONFIG} has no entry for it): nothing to check.`
    }

    const errors = r.problems.filter((p) => p.severity === 'error').length
    const warnings = r.problems.length - errors
    const counts = `${plural(errors, 'error')}, ${plural(warnings, 'warning')}`
    const what =
      r.machineOS && r.customDockerfile.origin === 'cluster'
        ? `Containerfile of MachineOSConfig ${r.machineOS.machineOSConfig}`
        : `Custom Dockerfile ${r.customDockerfile.location}`
    return `${what} for pool ${r.pool}: ${errors + warnings === 0 ? 'no problems' : counts}.`
  }

  if (r.diff) return r.diff.text.replace(/\n$/, '')
  if (r.exported) {
    const e = r.exported
    const from = r.machineOS?.machineOSBuild ? `${r.renderedConfig}, MachineOSBuild ${r.machineOS.machineOSBuild}` : r.renderedConfig
    const lines = [
      `Wrote the build context of pool ${r.pool} (${from}, ${r.source === 'live' ? "the running build's copy" : 'rendered now'}) to ${e.dir}:`,
    ]
    const width = Math.max(...e.files.map((f) => f.path.length))
    for (const f of e.files) lines.push(`  ${f.path.padEnd(width)}   ${size(f.bytes)}`)
    const config = (name: string): boolean => e.files.some((f) => f.path.endsWith(name))
    if (r.machineOS) {
      const extras = [config('policy.json') ? 'policy.json' : '', config('registries.conf') ? 'registries.conf' : ''].filter(Boolean)
      if (extras.length > 0)
        lines.push(
          `(${extras.join(' and ')}: the builder's /etc/containers ${extras.length === 1 ? 'file' : 'files'}, used by buildah, not part of the image)`,
        )
      const env = config('registries.conf') ? `CONTAINERS_REGISTRIES_CONF=${e.dir}/registries.conf ` : ''
      const policy = config('policy.json') ? ` --signature-policy ${e.dir}/policy.json` : ''
      lines.push(
        '',
        `Build it as the cluster does: ${env}buildah build --authfile <base image pull secret as a docker config>${policy} --tag ${r.tag ?? '<image>'} ${e.dir}`,
      )
    } else {
      lines.push(
        '',
        `Build it as the cluster does: buildah build --authfile <base image pull secret as a docker config> --tag ${r.tag ?? '<image>'} ${e.dir}`,
      )
    }

    return lines.join('\n')
  }

  // The file as is (it ends with a newline; log() adds one), so `> Dockerfile` is byte-exact.
  return r.dockerfile.endsWith('\n') ? r.dockerfile.slice(0, -1) : r.dockerfile
}

/**
 * The custom part's problems, after the output: warnings as lines for stderr; errors as a MobError
 * (exit 7) the command throws.
 */
export function dockerfileProblems(r: DockerfileResult, check: boolean, yellow: ChalkInstance): {warnings: string[]; error?: MobError} {
  if (r.problems.length === 0) return {warnings: []}
  const where = customWhere(r)
  const show = (p: DockerfileProblemReport): string => {
    const line = r.source === 'rendered' && !check ? `line ${p.line} (${r.fileName} line ${p.dockerfileLine})` : `line ${p.line}`
    return `${line}: ${p.severity}: ${p.message}`
  }

  const errors = r.problems.filter((p) => p.severity === 'error')
  const what = r.machineOS ? 'the Containerfile' : 'the custom Dockerfile'
  if (errors.length === 0) {
    return {
      warnings: [
        yellow(`warning: ${what} (${where}) has ${plural(r.problems.length, 'warning')}:`),
        ...r.problems.map((p) => `  ${show(p)}`),
      ],
    }
  }

  const checkCmd = `oc mob dockerfile ${r.pool} --file FILE --check`
  const store = r.machineOS
    ? `\`oc mob setup --pool ${r.pool} --custom-dockerfile FILE --force\``
    : `\`oc edit configmap ${CUSTOM_DOCKERFILE_CONFIG} -n ${MCO_NAMESPACE}\``
  return {
    error: new MobError(`${what} (${where}) has ${plural(errors.length, 'error')}; a build would fail on it`, {
      code: 'CustomDockerfileInvalid',
      details: r.problems.map((p) => show(p)),
      exitCode: ExitCode.Invalid,
      next:
        r.customDockerfile.origin === 'file'
          ? `fix ${where} and check it again: \`oc mob dockerfile ${r.pool} --file ${where} --check\``
          : `fix it in a local file, check it with \`${checkCmd}\`, then store it (${store})`,
    }),
    warnings: [],
  }
}
