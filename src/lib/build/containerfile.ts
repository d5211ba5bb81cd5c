/**
 * The Containerfile the machine-os-builder of OpenShift 4.18+ renders for a MachineOSBuild, and the
 * files of its build context that come out of the rendered MachineConfig. Pure: no cluster access.
 *
 * The rendering must be byte-identical to the builder's Go template, blank lines included, because
 * `oc mob dockerfile --diff` compares it with the build's own `containerfile-<mosb>` ConfigMap. The
 * template changed between releases (reference §3.3 and §12.5), so the release's builder is chosen
 * from the `releaseVersion` of `machine-config-osimageurl` (the value the builder hashes too):
 *
 * - 4.18/4.19: extensions are installed only when the MachineConfig asks for some; no kernel swap;
 *   base and extensions images from machine-config-osimageurl;
 * - 4.20/4.21: a heredoc that adds the extensions repository whenever there is an extensions image,
 *   installs the extensions and swaps the kernel packages to match `kernelType`;
 * - 4.22+: the same template, with the base and extensions images taken from the rendered
 *   MachineConfig (`osImageURL`, `baseOSExtensionsContainerImage`).
 */
import {gunzipSync} from 'node:zlib'
import {DockerfileParser} from 'dockerfile-ast'
import {byLine, type DockerfileProblem, parserProblems} from './validate.js'
import {appended, CONFIGS_STAGE, EXTRACT_BODY, HEAD, labelLines} from './dockerfile.js'

/** The template generations of the 4.18+ builder. */
export type TemplateRelease = '4.18' | '4.20'

export interface BuilderRelease {
  /** The template the builder renders. */
  template: TemplateRelease
  /** Where the builder takes the base OS and extensions images from. */
  imagesFrom: 'machine-config-osimageurl' | 'rendered MachineConfig'
  /** The packages of each extension the builder knows (MachineConfig spec.extensions). */
  extensions: Record<string, string[]>
  /** For people: e.g. "4.20/4.21". */
  releases: string
}

const BASE_EXTENSIONS: Record<string, string[]> = {
  ipsec: ['NetworkManager-libreswan', 'libreswan'],
  kerberos: ['krb5-workstation', 'libkadm5'],
  'kernel-devel': ['kernel-devel', 'kernel-headers'],
  'sandboxed-containers': ['kata-containers'],
  sysstat: ['sysstat'],
  'two-node-ha': ['pacemaker', 'pcs', 'fence-agents-all'],
  usbguard: ['usbguard'],
}

/** The kernel packages the builder swaps in for each kernelType (4.20+). */
export const KERNEL_PACKAGES: Record<string, string[]> = {
  '64k-pages': ['kernel-64k-core', 'kernel-64k-modules', 'kernel-64k-modules-core', 'kernel-64k-modules-extra'],
  default: ['kernel', 'kernel-core', 'kernel-modules', 'kernel-modules-core', 'kernel-modules-extra'],
  realtime: ['kernel-rt-core', 'kernel-rt-modules', 'kernel-rt-modules-extra', 'kernel-rt-kvm'],
}

/**
 * The builder of a release, from `machine-config-osimageurl`'s releaseVersion (`4.19.7`, `5.0.1`).
 * A version that does not parse is taken to be the newest builder.
 */
export function builderRelease(releaseVersion: string): BuilderRelease {
  const m = /^(\d+)\.(\d+)/.exec(releaseVersion.trim())
  const [major, minor] = m ? [Number(m[1]), Number(m[2])] : [Number.POSITIVE_INFINITY, 0]
  const withWasm = {...BASE_EXTENSIONS, wasm: ['crun-wasm']}
  if (major === 4 && minor < 20)
    return {extensions: withWasm, imagesFrom: 'machine-config-osimageurl', releases: '4.18/4.19', template: '4.18'}
  if (major === 4 && minor < 22)
    return {extensions: withWasm, imagesFrom: 'machine-config-osimageurl', releases: '4.20/4.21', template: '4.20'}
  if (major === 4 && minor === 22)
    return {extensions: BASE_EXTENSIONS, imagesFrom: 'rendered MachineConfig', releases: '4.22', template: '4.20'}
  return {
    extensions: {...BASE_EXTENSIONS, ipsec: [...BASE_EXTENSIONS.ipsec, 'openvswitch3.5-ipsec']},
    imagesFrom: 'rendered MachineConfig',
    releases: '4.23+',
    template: '4.20',
  }
}

export interface ContainerfileInputs {
  release: BuilderRelease
  baseImage: string
  /** The extensions image; the extensions step needs one. */
  extensionsImage?: string
  /** MachineConfig spec.extensions. */
  extensions?: string[]
  /** MachineConfig spec.kernelType (empty/unknown: default). */
  kernelType?: string
  /** The MachineOSBuild's spec.machineConfig.name (the pool's rendered config). */
  renderedConfig: string
  /** The MachineOSConfig's spec.machineConfigPool.name. */
  pool: string
  /** The MachineOSConfig's NoArch containerFile content, appended verbatim. */
  containerFile?: string
}

/** The kernelType as the builder reads it: realtime and 64k-pages, anything else is default. */
export function canonicalKernelType(kernelType: string | undefined): string {
  return kernelType === 'realtime' || kernelType === '64k-pages' ? kernelType : 'default'
}

/** The packages of the MachineConfig's extensions, in order; unknown names are returned apart (the builder refuses them). */
export function extensionPackages(release: BuilderRelease, extensions: string[] = []): {packages: string[]; unknown: string[]} {
  const packages: string[] = []
  const unknown: string[] = []
  for (const e of extensions) {
    const p = release.extensions[e]
    if (p) packages.push(...p)
    else unknown.push(e)
  }

  return {packages, unknown}
}

/** The NoArch entry of a MachineOSConfig's containerFile, the only one the builder uses. */
export function noArchContainerFile(entries: Array<{containerfileArch?: string; content?: string}> | undefined): string | undefined {
  return entries?.find((f) => (f.containerfileArch ?? 'NoArch') === 'NoArch')?.content || undefined
}

// The opening comment and the extract stage are the same text as in the 4.14/4.15 template.
const EXTRACT = EXTRACT_BODY
const CONFIGS = `${CONFIGS_STAGE}# Install any extensions specified\n`
const MOUNT_COMMENT = `
# Mount the extensions image to use the content from it
# and add the extensions repo to /etc/yum.repos.d/coreos-extensions.repo
`
const mount = (image: string): string =>
  `RUN --mount=type=bind,from=${image},source=/,target=/tmp/mco-extensions/os-extensions-content,bind-propagation=rshared,z \\\n`
const BASEURL = 'baseurl=/tmp/mco-extensions/os-extensions-content/usr/share/rpm-ostree/extensions/'

/** 4.18/4.19: one RUN with an echo -e of the repository file. */
function extensions418(image: string, packages: string[]): string {
  return (
    MOUNT_COMMENT +
    mount(image) +
    '    echo -e "[coreos-extensions]\\n\\\nenabled=1\\n\\\nmetadata_expire=1m\\n\\\n' +
    BASEURL +
    '\\n\\\ngpgcheck=0\\n\\\n' +
    'skip_if_unavailable=False" > /etc/yum.repos.d/coreos-extensions.repo && \\\n' +
    '    chmod 644 /etc/yum.repos.d/coreos-extensions.repo && \\\n' +
    `    extensions="${packages.join(' ')}" && \\\n` +
    '    echo "Installing extension packages: $extensions" && \\\n' +
    '    rpm-ostree install $extensions && \\\n' +
    '    rm /etc/yum.repos.d/coreos-extensions.repo\n' +
    'RUN ostree container commit\n'
  )
}

function kernelSwap(kernelType: string): string {
  const pkgs = (t: string): string => KERNEL_PACKAGES[t].join(' ')
  const branch = (
    query: string,
    type: string,
    name: string,
    first: boolean,
  ): string => `${first ? 'if' : 'elif'} rpm -q ${query} > /dev/null 2>&1; then
\tif [[ "${kernelType}" != "${type}" ]]; then
\t\techo "Base Image has ${name} kernel, new KernelType is '${kernelType}'"
\t\tkernelOldPkgs="${pkgs(type)}"
\tfi
`
  return `
kernelOldPkgs=""
# Detect current kernel and compare with desired .KernelType
${branch('kernel-rt-core', 'realtime', 'RT', true)}${branch('kernel-64k-core', '64k-pages', '64k-pages', false)}${branch('kernel', 'default', 'Default', false)}else
\techo "Error: Unknown base kernel type. Unable to perform the kernel swap to '${kernelType}'"
\texit 1;
fi

# Override existing kernel packages if it differs from the requested kernel type
if [ -n "$kernelOldPkgs" ]; then
\tinstallKernelPkgs="${pkgs(kernelType)}"
\t(echo "remove $kernelOldPkgs"; echo "install $installKernelPkgs"; echo run) | dnf -y shell
fi
`
}

/** 4.20+: a heredoc that adds the repository, installs the extensions and swaps the kernel. */
function extensions420(image: string, packages: string[], kernelType: string): string {
  let out =
    MOUNT_COMMENT +
    mount(image) +
    `    bash <<'EOF'
set -xeuo pipefail

# Add extensions repo
cat > /etc/yum.repos.d/coreos-extensions.repo <<REPO
[coreos-extensions]
enabled=1
metadata_expire=1m
${BASEURL}
gpgcheck=0
skip_if_unavailable=False
REPO

chmod 644 /etc/yum.repos.d/coreos-extensions.repo

`
  if (packages.length > 0) {
    out += `
# Install extension packages
extensions="${packages.join(' ')}"
echo "Installing extension packages: $extensions"
rpm-ostree install $extensions
`
  }

  out += '\n\n'
  if (kernelType !== 'default') out += kernelSwap(kernelType)
  return (
    out +
    `

rm /etc/yum.repos.d/coreos-extensions.repo
EOF

RUN ostree container commit
`
  )
}

const TAIL = `

# Hardcoded tmpfiles configuration for usbguard and ipsec.
# Eventually when https://github.com/USBGuard/usbguard/pull/652 is backported to RHEL, we will be able to remove the usbguard patch
# For now, libreswan (ipsec) patch will live here until we find a better alternative
RUN test ! -f /usr/lib/tmpfiles.d/usbguard.conf || rm /usr/lib/tmpfiles.d/usbguard.conf
RUN echo -e "d /var/log/usbguard 0755 root root -\\nd /var/lib/ipsec 0700 root root -\\nd /var/lib/ipsec/nss 0700 root root -" > /usr/lib/tmpfiles.d/usbguard_ipsec.conf

COPY ./openshift-config-user-ca-bundle.crt /etc/pki/ca-trust/source/anchors/openshift-config-user-ca-bundle.crt
RUN update-ca-trust

`

/** The Containerfile of a MachineOSBuild, as the builder of `i.release` renders it. */
export function renderContainerfile(i: ContainerfileInputs): string {
  const {packages} = extensionPackages(i.release, i.extensions)
  let out = HEAD + `FROM ${i.baseImage}` + EXTRACT + `FROM ${i.baseImage}` + CONFIGS
  if (i.release.template === '4.18') {
    if (i.extensionsImage && packages.length > 0) out += extensions418(i.extensionsImage, packages)
  } else if (i.extensionsImage) {
    out += extensions420(i.extensionsImage, packages, canonicalKernelType(i.kernelType))
  }

  out += TAIL
  out += labelLines([
    ['machineconfig', i.renderedConfig],
    ['machineconfigpool', i.pool],
    ['baseOSContainerImage', i.baseImage],
  ])
  return out + appended(i.containerFile)
}

/** The first line of the containerFile content inside the rendered Containerfile (1-based). */
export function containerFileOffset(i: ContainerfileInputs): number {
  return renderContainerfile({...i, containerFile: undefined}).split('\n').length
}

/**
 * Problems of a MachineOSConfig's containerFile, checked inside the Containerfile it is appended to:
 * what a Dockerfile parser finds, no FROM at all (newer builders refuse it), and a last stage that is
 * not built on `configs` (the build succeeds, but its image is no OS image with the pool's config).
 */
export function validateContainerFile(content: string, inputs: ContainerfileInputs): DockerfileProblem[] {
  if (!content.trim()) return []
  const problems: DockerfileProblem[] = []
  const offset = containerFileOffset({...inputs, containerFile: content})
  problems.push(...parserProblems(renderContainerfile({...inputs, containerFile: content}), offset))

  const froms = DockerfileParser.parse(content).getFROMs()
  if (froms.length === 0) {
    problems.push({
      line: 1,
      message: 'no FROM instruction: the builder of 4.23+ refuses a Containerfile without one; start with `FROM configs AS final`',
      severity: 'error',
    })
  } else {
    const last = froms.at(-1)!
    const stages = new Set(froms.map((f) => f.getBuildStage()?.toLowerCase()).filter(Boolean))
    const image = last.getImageName() ?? ''
    if (image !== 'configs' && !stages.has(image.toLowerCase())) {
      const line = last.getRange().start.line + 1
      problems.push({
        line,
        message: `the last stage is built FROM ${image}, not on \`configs\`: that stage is the image the nodes get, without the pool's config`,
        severity: 'warning',
      })
    }
  }

  return byLine(problems)
}

// ------------------------------------------------------------------ files from the rendered config

interface IgnitionFile {
  path?: string
  contents?: {source?: string; compression?: string}
}

/** Decodes an Ignition `data:` URL (RFC 2397: percent-encoded, or `;base64`). */
export function decodeDataUrl(url: string): Buffer {
  const m = /^data:([^,]*),(.*)$/s.exec(url)
  if (!m) throw new Error('not a data URL')
  return m[1].split(';').includes('base64') ? Buffer.from(m[2], 'base64') : Buffer.from(decodeURIComponent(m[2]), 'utf8')
}

/**
 * The contents of a file the rendered MachineConfig writes (its Ignition `storage.files`), as the
 * builder extracts /etc/containers/policy.json and registries.conf for its etc-policy- and
 * etc-registries- ConfigMaps; undefined when the config has no such file.
 */
export function machineConfigFile(mc: {spec?: {config?: Record<string, unknown>}}, filePath: string): string | undefined {
  const storage = mc.spec?.config?.storage as {files?: IgnitionFile[]} | undefined
  const file = storage?.files?.find((f) => f.path === filePath)
  if (!file) return undefined
  const source = file.contents?.source
  if (source === undefined) return ''
  let data: Buffer
  try {
    data = decodeDataUrl(source)
  } catch (error) {
    throw new Error(`${filePath} in the rendered MachineConfig: ${(error as Error).message}`)
  }

  const compression = file.contents?.compression ?? ''
  if (compression === 'gzip') return gunzipSync(data).toString('utf8')
  if (compression !== '') throw new Error(`${filePath} in the rendered MachineConfig: unsupported compression ${compression}`)
  return data.toString('utf8')
}
