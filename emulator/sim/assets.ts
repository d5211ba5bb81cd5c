// The text assets of the 4.14 build: the Dockerfile the operator renders into
// dockerfile-<R>, and the two scripts the build pod's containers run.
import {gzipSync} from 'node:zlib'
import type {Obj} from './client.js'

export interface DockerfileInputs {
  baseImage: string
  extensionsImage?: string
  renderedConfig: string
  pool: string
  releaseVersion: string
  customDockerfile?: string
}

/**
 * Renders the 4.14 on-cluster build Dockerfile, byte for byte as the
 * operator's Go template produces it (the `{{if}}` blocks keep their
 * surrounding newlines, which is why blank lines appear where they do).
 */
export function renderDockerfile(i: DockerfileInputs): string {
  const ext = i.extensionsImage
    ? '\n# Pull our extensions image. Not sure yet what / how this should be wired up\n' +
      "# though. Ideally, I'd like to use some Buildah tricks to have the extensions\n" +
      "# directory mounted into the container at build-time so that I don't have to\n" +
      '# copy the RPMs into the container, configure the repo, and do the\n' +
      "# installation. Alternatively, I'd have to start a pod with an HTTP server.\n" +
      `FROM ${i.extensionsImage} AS extensions\n`
    : ''
  const custom = i.customDockerfile ? `\n${i.customDockerfile}\n` : ''
  return (
    '# This Dockerfile is not intended to be directly built. Instead, it is embedded\n' +
    '# within the Build Controller binary (see //go:embed) and templatized with\n' +
    '# certain options around base image pullspecs.\n' +
    '#\n' +
    '# Decode and extract the MachineConfig from the gzipped ConfigMap and move it\n' +
    "# into position. We do this in a separate stage so that we don't have the\n" +
    '# gzipped MachineConfig laying around.\n' +
    `FROM ${i.baseImage} AS extract\n` +
    'COPY ./machineconfig/machineconfig.json.gz /tmp/machineconfig.json.gz\n' +
    'RUN mkdir -p /etc/machine-config-daemon && \\\n' +
    '\tcat /tmp/machineconfig.json.gz | base64 -d | gunzip - > /etc/machine-config-daemon/currentconfig\n' +
    '\n' +
    ext +
    '\n\n\n' +
    `FROM ${i.baseImage} AS configs\n` +
    '# Copy the extracted MachineConfig into the expected place in the image.\n' +
    'COPY --from=extract /etc/machine-config-daemon/currentconfig /etc/machine-config-daemon/currentconfig\n' +
    '# Do the ignition live-apply, extracting the Ignition config from the MachineConfig.\n' +
    '# Not sure why Ignition explicitly requires the container env var to be set\n' +
    '# since it should be set by the container runtime / builder.\n' +
    'RUN container="oci" exec -a ignition-apply /usr/lib/dracut/modules.d/30ignition/ignition --ignore-unsupported <(cat /etc/machine-config-daemon/currentconfig | jq \'.spec.config\') && \\\n' +
    '\tostree container commit\n' +
    '\n' +
    `LABEL machineconfig=${i.renderedConfig}\n` +
    `LABEL machineconfigpool=${i.pool}\n` +
    `LABEL releaseversion=${i.releaseVersion}\n` +
    `LABEL baseOSContainerImage=${i.baseImage}\n` +
    '\n' +
    custom +
    '\n'
  )
}

/** Go's json.Marshal order for a MachineConfig object (kind, apiVersion, metadata, spec). */
function goOrder(mc: Obj): Obj {
  const out: Obj = {}
  if (mc.kind) out.kind = mc.kind
  if (mc.apiVersion) out.apiVersion = mc.apiVersion
  out.metadata = mc.metadata ?? {}
  out.spec = mc.spec ?? {}
  for (const [k, v] of Object.entries(mc)) if (!(k in out)) out[k] = v
  return out
}

/** `machineconfig.json.gz` as the operator stores it: base64(gzip level 9(json(MC))). */
export function encodeMachineConfig(mc: Obj): string {
  return gzipSync(Buffer.from(JSON.stringify(goOrder(mc))), {level: 9}).toString('base64')
}

/** The image-build container's script (buildah-build.sh of the 4.14 build pod). */
export const BUILDAH_BUILD_SH = `#!/usr/bin/env bash
#
# image-build: assemble the build context from the mounted ConfigMaps, build
# the OS image with buildah and push it, leaving the digest for wait-for-done.
set -xeuo pipefail

build_context="$HOME/context"

# The build context: the rendered Dockerfile plus the encoded MachineConfig.
mkdir -p "$build_context/machineconfig"
cp /tmp/dockerfile/Dockerfile "$build_context/"
cp /tmp/machineconfig/machineconfig.json.gz "$build_context/machineconfig/"

# Every FROM is pulled with the base image pull secret.
buildah bud \\
	--storage-driver vfs \\
	--authfile="$BASE_IMAGE_PULL_CREDS" \\
	--tag "$TAG" \\
	--file="$build_context/Dockerfile" \\
	"$build_context"

# Push with the final image push secret; the digest file is the signal that
# the build is done.
buildah push \\
	--storage-driver vfs \\
	--authfile="$FINAL_IMAGE_PUSH_CREDS" \\
	--digestfile=/tmp/done/digestfile \\
	--cert-dir /var/run/secrets/kubernetes.io/serviceaccount \\
	"$TAG"
`

/** The wait-for-done container's script (wait.sh of the 4.14 build pod). */
export const WAIT_SH = `#!/usr/bin/env bash
#
# wait-for-done: wait for image-build to write the digest file, then publish
# the digest as a ConfigMap. There is no failure signal: if image-build fails,
# this loop never ends and the pod stays Running.
while [ ! -f /tmp/done/digestfile ]; do
	sleep 1
done

oc create configmap "$DIGEST_CONFIGMAP_NAME" \\
	--namespace openshift-machine-config-operator \\
	--from-file=digest=/tmp/done/digestfile
`
