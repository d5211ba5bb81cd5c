// The inputs the 4.19 machine-os-builder prepares for a MachineOSBuild's Job (reference §8.3): the
// ConfigMaps containerfile-<mosb> (Containerfile rendered from the 4.19 template), mc-<mosb> (the
// rendered MachineConfig, gzipped and base64-encoded), additionaltrustbundle-<mosb> (binaryData from
// the ControllerConfig's additionalTrustBundle) and, when the rendered config writes them,
// etc-policy-<mosb> / etc-registries-<mosb> (/etc/containers/policy.json and registries.conf). All carry
// the ephemeral build labels. Written independently of oc-mob's own rendering, so that comparing the two
// (`oc mob dockerfile --diff`) tests something.
import {gunzipSync} from 'node:zlib'
import {encodeMachineConfig} from './assets.js'
import {type SimClient, type Obj, isNotFound, R} from './client.js'
import {MCO_NS} from './names.js'

const P = 'machineconfiguration.openshift.io'

/** Packages of each extension the 4.19 builder knows. */
const EXTENSIONS_419: Record<string, string[]> = {
  'two-node-ha': ['pacemaker', 'pcs', 'fence-agents-all'],
  wasm: ['crun-wasm'],
  ipsec: ['NetworkManager-libreswan', 'libreswan'],
  usbguard: ['usbguard'],
  kerberos: ['krb5-workstation', 'libkadm5'],
  'kernel-devel': ['kernel-devel', 'kernel-headers'],
  'sandboxed-containers': ['kata-containers'],
  sysstat: ['sysstat'],
}

interface Containerfile419Inputs {
  baseImage: string
  extensionsImage?: string
  extensionPackages: string[]
  renderedConfig: string
  pool: string
  userContainerfile?: string
}

/** The 4.19 template (pkg/controller/build/buildrequest/assets/Containerfile.on-cluster-build-template), rendered. */
function renderContainerfile419(i: Containerfile419Inputs): string {
  const lines: string[] = [
    '# This Dockerfile is not intended to be directly built. Instead, it is embedded',
    '# within the Build Controller binary (see //go:embed) and templatized with',
    '# certain options around base image pullspecs.',
    '#',
    '# Decode and extract the MachineConfig from the gzipped ConfigMap and move it',
    "# into position. We do this in a separate stage so that we don't have the",
    '# gzipped MachineConfig laying around.',
    `FROM ${i.baseImage} AS extract`,
    'COPY ./machineconfig/machineconfig.json.gz /tmp/machineconfig.json.gz',
    'RUN mkdir -p /etc/machine-config-daemon && \\',
    '\tcat /tmp/machineconfig.json.gz | base64 -d | gunzip - > /etc/machine-config-daemon/currentconfig',
    '',
    `FROM ${i.baseImage} AS configs`,
    '# Copy the extracted MachineConfig into the expected place in the image.',
    'COPY --from=extract /etc/machine-config-daemon/currentconfig /etc/machine-config-daemon/currentconfig',
    '# Do the ignition live-apply, extracting the Ignition config from the MachineConfig.',
    '# Not sure why Ignition explicitly requires the container env var to be set',
    '# since it should be set by the container runtime / builder.',
    'RUN container="oci" exec -a ignition-apply /usr/lib/dracut/modules.d/30ignition/ignition --ignore-unsupported <(cat /etc/machine-config-daemon/currentconfig | jq \'.spec.config\') && \\',
    '\tostree container commit',
    '# Install any extensions specified',
  ]
  // {{if and .ExtensionsImage .ExtensionsPackages}} keeps the newline after it.
  if (i.extensionsImage && i.extensionPackages.length > 0) {
    lines.push(
      '',
      '# Mount the extensions image to use the content from it',
      '# and add the extensions repo to /etc/yum.repos.d/coreos-extensions.repo',
      `RUN --mount=type=bind,from=${i.extensionsImage},source=/,target=/tmp/mco-extensions/os-extensions-content,bind-propagation=rshared,z \\`,
      '    echo -e "[coreos-extensions]\\n\\',
      'enabled=1\\n\\',
      'metadata_expire=1m\\n\\',
      'baseurl=/tmp/mco-extensions/os-extensions-content/usr/share/rpm-ostree/extensions/\\n\\',
      'gpgcheck=0\\n\\',
      'skip_if_unavailable=False" > /etc/yum.repos.d/coreos-extensions.repo && \\',
      '    chmod 644 /etc/yum.repos.d/coreos-extensions.repo && \\',
      `    extensions="${i.extensionPackages.join(' ')}" && \\`,
      '    echo "Installing extension packages: $extensions" && \\',
      '    rpm-ostree install $extensions && \\',
      '    rm /etc/yum.repos.d/coreos-extensions.repo',
      'RUN ostree container commit',
    )
  }

  lines.push(
    '',
    '',
    '# Hardcoded tmpfiles configuration for usbguard and ipsec.',
    '# Eventually when https://github.com/USBGuard/usbguard/pull/652 is backported to RHEL, we will be able to remove the usbguard patch',
    '# For now, libreswan (ipsec) patch will live here until we find a better alternative',
    'RUN test ! -f /usr/lib/tmpfiles.d/usbguard.conf || rm /usr/lib/tmpfiles.d/usbguard.conf',
    'RUN echo -e "d /var/log/usbguard 0755 root root -\\nd /var/lib/ipsec 0700 root root -\\nd /var/lib/ipsec/nss 0700 root root -" > /usr/lib/tmpfiles.d/usbguard_ipsec.conf',
    '',
    'COPY ./openshift-config-user-ca-bundle.crt /etc/pki/ca-trust/source/anchors/openshift-config-user-ca-bundle.crt',
    'RUN update-ca-trust',
    '',
    `LABEL machineconfig=${i.renderedConfig}`,
    `LABEL machineconfigpool=${i.pool}`,
    `LABEL baseOSContainerImage=${i.baseImage}`,
    '',
  )
  if (i.userContainerfile) lines.push('', i.userContainerfile)
  return lines.join('\n') + '\n\n'
}

/** A file the rendered MachineConfig writes, decoded from its Ignition data URL (and gzip). */
function ignitionFile(mc: Obj, file: string): string | undefined {
  const f = (mc.spec?.config?.storage?.files ?? []).find((x: Obj) => x.path === file)
  if (!f) return undefined
  const src: string = f.contents?.source ?? 'data:,'
  const comma = src.indexOf(',')
  const meta = src.slice(5, comma)
  const raw = meta.split(';').includes('base64')
    ? Buffer.from(src.slice(comma + 1), 'base64')
    : Buffer.from(decodeURIComponent(src.slice(comma + 1)))
  return (f.contents?.compression === 'gzip' ? gunzipSync(raw) : raw).toString('utf8')
}

/** The names of the ConfigMaps prepared for a MachineOSBuild. */
const machineOSInputNames = (mosb: string): string[] =>
  ['containerfile', 'mc', 'additionaltrustbundle', 'etc-policy', 'etc-registries'].map((p) => `${p}-${mosb}`)

/** Creates the Job's input ConfigMaps for a MachineOSBuild (existing ones are left as they are). */
export async function createMachineOSInputs(client: SimClient, mosc: Obj, mosb: Obj): Promise<void> {
  const name = mosb.metadata.name
  const rendered = mosb.spec.machineConfig.name
  const pool = mosc.spec.machineConfigPool.name
  const [mc, osimageurl, cc] = await Promise.all([
    client.get(R.machineconfigs, undefined, rendered),
    client.get(R.configmaps, MCO_NS, 'machine-config-osimageurl'),
    client.get(R.controllerconfigs, undefined, 'machine-config-controller'),
  ])
  if (!mc || !osimageurl) return
  const labels = {
    [`${P}/ephemeral-build-object`]: '',
    [`${P}/machine-os-build`]: name,
    [`${P}/machine-os-config`]: mosc.metadata.name,
    [`${P}/on-cluster-layering`]: '',
    [`${P}/rendered-machine-config`]: rendered,
    [`${P}/target-machine-config-pool`]: pool,
  }
  const cm = (cmName: string, body: Obj): Obj => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      annotations: {[`${P}/machine-os-build`]: name, [`${P}/machine-os-config`]: mosc.metadata.name},
      labels,
      name: cmName,
      namespace: MCO_NS,
    },
    ...body,
  })
  const user = (mosc.spec.containerFile ?? []).find((f: Obj) => (f.containerfileArch ?? 'NoArch') === 'NoArch')?.content
  const containerfile = renderContainerfile419({
    baseImage: osimageurl.data.baseOSContainerImage,
    extensionPackages: (mc.spec?.extensions ?? []).flatMap((e: string) => EXTENSIONS_419[e] ?? []),
    extensionsImage: osimageurl.data.baseOSExtensionsContainerImage || undefined,
    pool,
    renderedConfig: rendered,
    userContainerfile: user || undefined,
  })
  const objects = [
    cm(`containerfile-${name}`, {data: {Containerfile: containerfile}}),
    cm(`mc-${name}`, {data: {'machineconfig.json.gz': encodeMachineConfig(mc)}}),
    cm(`additionaltrustbundle-${name}`, {binaryData: {'openshift-config-user-ca-bundle.crt': cc?.spec?.additionalTrustBundle ?? ''}}),
  ]
  const policy = ignitionFile(mc, '/etc/containers/policy.json')
  if (policy !== undefined) objects.push(cm(`etc-policy-${name}`, {data: {'policy.json': policy}}))
  const registries = ignitionFile(mc, '/etc/containers/registries.conf')
  if (registries !== undefined) objects.push(cm(`etc-registries-${name}`, {data: {'registries.conf': registries}}))
  for (const o of objects) {
    try {
      await client.create(R.configmaps, MCO_NS, o)
    } catch (e) {
      if (!/already exists/i.test((e as Error).message)) throw e
    }
  }
}

/** Deletes them, as the builder cleans up after a successful build or a deleted MachineOSBuild. */
export async function deleteMachineOSInputs(client: SimClient, mosb: string): Promise<void> {
  for (const n of machineOSInputNames(mosb)) {
    try {
      await client.delete(R.configmaps, MCO_NS, n)
    } catch (e) {
      if (!isNotFound(e)) throw e
    }
  }
}
