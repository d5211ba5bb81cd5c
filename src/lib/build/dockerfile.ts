/**
 * The Dockerfile the Machine Config Operator builds for a pool (4.14/4.15 template), the encoding of
 * the rendered MachineConfig it builds in, and validation of a pool's custom Dockerfile.
 *
 * The rendering must be byte-identical to the operator's Go template, comments and blank lines
 * included: `oc mob dockerfile --diff` compares it with the live `dockerfile-<rendered>` ConfigMap,
 * and the build pods oc-mob creates must be indistinguishable from the operator's.
 */
import {gunzipSync, gzipSync} from 'node:zlib'

export interface DockerfileInputs {
  /** `baseOSContainerImage` from the machine-config-osimageurl ConfigMap. */
  baseImage: string
  /** `baseOSExtensionsContainerImage`; the template adds an (unused) stage when it is set. */
  extensionsImage?: string
  /** `releaseVersion` from machine-config-osimageurl. */
  releaseVersion: string
  pool: string
  /** The rendered MachineConfig name (the pool's spec.configuration.name). */
  renderedConfig: string
  /** The pool's entry in on-cluster-build-custom-dockerfile, appended verbatim. */
  customDockerfile?: string
}

// The text of the operator's template (pkg/controller/build/assets/Dockerfile.on-cluster-build-template,
// identical in 4.14 and 4.15), split where its template actions are.
export const HEAD = `# This Dockerfile is not intended to be directly built. Instead, it is embedded
# within the Build Controller binary (see //go:embed) and templatized with
# certain options around base image pullspecs.
#
# Decode and extract the MachineConfig from the gzipped ConfigMap and move it
# into position. We do this in a separate stage so that we don't have the
# gzipped MachineConfig laying around.
`
export const EXTRACT_BODY = ` AS extract
COPY ./machineconfig/machineconfig.json.gz /tmp/machineconfig.json.gz
RUN mkdir -p /etc/machine-config-daemon && \\
\tcat /tmp/machineconfig.json.gz | base64 -d | gunzip - > /etc/machine-config-daemon/currentconfig

`
const EXTENSIONS_COMMENT = `
# Pull our extensions image. Not sure yet what / how this should be wired up
# though. Ideally, I'd like to use some Buildah tricks to have the extensions
# directory mounted into the container at build-time so that I don't have to
# copy the RPMs into the container, configure the repo, and do the
# installation. Alternatively, I'd have to start a pod with an HTTP server.
`
/** The config stage both builders' templates share, up to its commit. */
export const CONFIGS_STAGE = ` AS configs
# Copy the extracted MachineConfig into the expected place in the image.
COPY --from=extract /etc/machine-config-daemon/currentconfig /etc/machine-config-daemon/currentconfig
# Do the ignition live-apply, extracting the Ignition config from the MachineConfig.
# Not sure why Ignition explicitly requires the container env var to be set
# since it should be set by the container runtime / builder.
RUN container="oci" exec -a ignition-apply /usr/lib/dracut/modules.d/30ignition/ignition --ignore-unsupported <(cat /etc/machine-config-daemon/currentconfig | jq '.spec.config') && \\
\tostree container commit
`
const CONFIGS_BODY = `${CONFIGS_STAGE}\n`

export function renderDockerfile(i: DockerfileInputs): string {
  let out = HEAD + `FROM ${i.baseImage}` + EXTRACT_BODY
  if (i.extensionsImage) out += EXTENSIONS_COMMENT + `FROM ${i.extensionsImage} AS extensions\n`
  out += `\n\n\nFROM ${i.baseImage}` + CONFIGS_BODY
  out += labelLines([
    ['machineconfig', i.renderedConfig],
    ['machineconfigpool', i.pool],
    ['releaseversion', i.releaseVersion],
    ['baseOSContainerImage', i.baseImage],
  ])
  return out + appended(i.customDockerfile)
}

/** The LABEL lines both builders write after the config stage, one per label, then a blank line. */
export const labelLines = (labels: Array<[string, string]>): string => `${labels.map(([k, v]) => `LABEL ${k}=${v}\n`).join('')}\n`

/** The user's content as both builders append it: after a blank line, and a blank line at the end. */
export const appended = (content: string | undefined): string => (content ? `\n${content}\n` : '') + '\n'

/** The first line of the custom Dockerfile inside the rendered Dockerfile (1-based). */
export function customDockerfileOffset(i: DockerfileInputs): number {
  // Everything rendered without custom content precedes it; it starts on the next line.
  const before = renderDockerfile({...i, customDockerfile: undefined})
  return before.split('\n').length
}

/**
 * JSON as Go's encoding/json writes it: compact, with <, > and & escaped as \u003c, \u003e, \u0026
 * and U+2028/U+2029 escaped, so the encoded MachineConfig matches the operator's byte for byte
 * before compression.
 */
export function goJson(value: unknown): string {
  return JSON.stringify(value)
    .replaceAll('<', String.raw`\u003c`)
    .replaceAll('>', String.raw`\u003e`)
    .replaceAll('&', String.raw`\u0026`)
    .replaceAll('\u2028', String.raw`\u2028`)
    .replaceAll('\u2029', String.raw`\u2029`)
}

/**
 * The value of `machineconfig.json.gz` in `mc-<rendered>`: standard base64 (padded, unwrapped) of
 * the gzip (best compression) of the MachineConfig's JSON. The key says .gz but the value is text;
 * the Dockerfile decodes it with `base64 -d | gunzip`.
 */
export function encodeMachineConfig(mc: unknown): string {
  return gzipSync(Buffer.from(goJson(mc), 'utf8'), {level: 9}).toString('base64')
}

export function decodeMachineConfig(encoded: string): unknown {
  let gz: Buffer
  try {
    gz = Buffer.from(encoded.trim(), 'base64')
    return JSON.parse(gunzipSync(gz).toString('utf8'))
  } catch (error) {
    throw new Error(`not a base64-encoded gzipped MachineConfig: ${(error as Error).message}`)
  }
}

/** ConfigMaps are capped at 1 MiB of data (keys and values), as the API server counts it. */
export const CONFIGMAP_LIMIT_BYTES = 1_048_576

export function configMapDataSize(data: Record<string, string>): number {
  let size = 0
  for (const [k, v] of Object.entries(data)) size += Buffer.byteLength(k) + Buffer.byteLength(v)
  return size
}
