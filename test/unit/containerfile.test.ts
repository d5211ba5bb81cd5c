import {expect} from 'chai'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {gzipSync} from 'node:zlib'
import {
  builderRelease,
  containerFileOffset,
  type ContainerfileInputs,
  decodeDataUrl,
  extensionPackages,
  KERNEL_PACKAGES,
  machineConfigFile,
  noArchContainerFile,
  renderContainerfile,
  validateContainerFile,
} from '../../src/lib/build/containerfile.js'
import {checkContextDir, CONTEXT_FILES, writeContextFiles} from '../../src/lib/build/render.js'

const base = (release: string, more: Partial<ContainerfileInputs> = {}): ContainerfileInputs => ({
  baseImage: 'quay.io/ocp/rhcos@sha256:1',
  extensionsImage: 'quay.io/ocp/ext@sha256:2',
  pool: 'worker',
  release: builderRelease(release),
  renderedConfig: 'rendered-worker-abc',
  ...more,
})
const CUSTOM = 'FROM configs AS final\nRUN echo hi'

describe('Containerfile rendering (the 4.18+ machine-os-builder templates)', () => {
  it('picks the builder of the release: template, where the images come from, the extensions it knows', () => {
    expect(builderRelease('4.19.7')).to.deep.include({imagesFrom: 'machine-config-osimageurl', releases: '4.18/4.19', template: '4.18'})
    expect(builderRelease('4.18.0').extensions.wasm).to.deep.equal(['crun-wasm'])
    expect(builderRelease('4.21.2')).to.deep.include({imagesFrom: 'machine-config-osimageurl', releases: '4.20/4.21', template: '4.20'})
    expect(builderRelease('4.22.1')).to.deep.include({imagesFrom: 'rendered MachineConfig', template: '4.20'})
    expect(builderRelease('4.22.1').extensions.wasm).to.equal(undefined)
    expect(builderRelease('5.0.0').extensions.ipsec).to.deep.equal(['NetworkManager-libreswan', 'libreswan', 'openvswitch3.5-ipsec'])
    expect(builderRelease('').releases, 'an unknown version is the newest builder').to.equal('4.23+')
    expect(extensionPackages(builderRelease('4.19.0'), ['usbguard', 'kerberos', 'nope'])).to.deep.equal({
      packages: ['usbguard', 'krb5-workstation', 'libkadm5'],
      unknown: ['nope'],
    })
  })

  it('4.18/4.19 without extensions or containerFile: the stages, the tmpfiles and CA steps, the labels, no extensions step', () => {
    const out = renderContainerfile(base('4.19.3'))
    const lines = out.split('\n')
    expect(lines[7]).to.equal('FROM quay.io/ocp/rhcos@sha256:1 AS extract')
    expect(lines[12]).to.equal('FROM quay.io/ocp/rhcos@sha256:1 AS configs')
    expect(lines.slice(19, 24)).to.deep.equal([
      '\tostree container commit',
      '# Install any extensions specified',
      '',
      '',
      '# Hardcoded tmpfiles configuration for usbguard and ipsec.',
    ])
    expect(out).not.to.include('coreos-extensions').and.not.include('LABEL releaseversion')
    expect(
      out.endsWith(
        'RUN update-ca-trust\n\nLABEL machineconfig=rendered-worker-abc\nLABEL machineconfigpool=worker\nLABEL baseOSContainerImage=quay.io/ocp/rhcos@sha256:1\n\n\n',
      ),
    ).to.equal(true)
  })

  it('appends the NoArch containerFile verbatim after the labels, and knows on which line it starts', () => {
    const inputs = base('4.19.3', {containerFile: CUSTOM})
    const out = renderContainerfile(inputs)
    expect(out.endsWith(`LABEL baseOSContainerImage=quay.io/ocp/rhcos@sha256:1\n\n\n${CUSTOM}\n\n`)).to.equal(true)
    const offset = containerFileOffset(inputs)
    expect(out.split('\n')[offset - 1]).to.equal('FROM configs AS final')
    expect(
      noArchContainerFile([
        {containerfileArch: 'AMD64', content: 'A'},
        {containerfileArch: 'NoArch', content: 'N'},
      ]),
    ).to.equal('N')
    expect(noArchContainerFile([{content: 'default arch is NoArch'}])).to.equal('default arch is NoArch')
    expect(noArchContainerFile([{containerfileArch: 'ARM64', content: 'A'}])).to.equal(undefined)
  })

  it('4.18/4.19 installs extensions in one RUN, only when the config asks for some; no kernel swap there', () => {
    const out = renderContainerfile(base('4.19.3', {extensions: ['usbguard', 'sysstat'], kernelType: 'realtime'}))
    expect(out).to.include('# Install any extensions specified\n\n# Mount the extensions image to use the content from it\n')
    expect(out).to.include(
      'RUN --mount=type=bind,from=quay.io/ocp/ext@sha256:2,source=/,target=/tmp/mco-extensions/os-extensions-content,bind-propagation=rshared,z \\\n    echo -e "[coreos-extensions]\\n\\\nenabled=1\\n\\\n',
    )
    expect(out)
      .to.include('    extensions="usbguard sysstat" && \\\n')
      .and.include('    rm /etc/yum.repos.d/coreos-extensions.repo\nRUN ostree container commit\n\n\n# Hardcoded')
    expect(out).not.to.include('kernelOldPkgs')
    expect(renderContainerfile(base('4.19.3', {extensions: ['usbguard'], extensionsImage: undefined}))).not.to.include('coreos-extensions')
  })

  it('4.20+: the heredoc adds the repository whenever there is an extensions image, and swaps the kernel for kernelType realtime', () => {
    const plain = renderContainerfile(base('4.20.1'))
    expect(plain)
      .to.include("    bash <<'EOF'\nset -xeuo pipefail\n")
      .and.include(
        'chmod 644 /etc/yum.repos.d/coreos-extensions.repo\n\n\n\n\n\nrm /etc/yum.repos.d/coreos-extensions.repo\nEOF\n\nRUN ostree container commit\n\n\n# Hardcoded',
      )
    expect(plain).not.to.include('rpm-ostree install').and.not.include('kernelOldPkgs')
    const rt = renderContainerfile(base('4.20.1', {extensions: ['usbguard'], kernelType: 'realtime'}))
    expect(rt).to.include(
      '\n# Install extension packages\nextensions="usbguard"\necho "Installing extension packages: $extensions"\nrpm-ostree install $extensions\n\n\n\nkernelOldPkgs=""\n',
    )
    expect(rt).to.include(
      `\tif [[ "realtime" != "default" ]]; then\n\t\techo "Base Image has Default kernel, new KernelType is 'realtime'"\n\t\tkernelOldPkgs="${KERNEL_PACKAGES.default.join(' ')}"\n`,
    )
    expect(rt).to.include(
      `\tinstallKernelPkgs="kernel-rt-core kernel-rt-modules kernel-rt-modules-extra kernel-rt-kvm"\n\t(echo "remove $kernelOldPkgs"; echo "install $installKernelPkgs"; echo run) | dnf -y shell\nfi\n\n\nrm /etc/yum.repos.d/coreos-extensions.repo\n`,
    )
    const k64 = renderContainerfile(base('5.0.0', {kernelType: '64k-pages'}))
    expect(k64)
      .to.include(`\tinstallKernelPkgs="${KERNEL_PACKAGES['64k-pages'].join(' ')}"`)
      .and.include(`echo "Base Image has RT kernel, new KernelType is '64k-pages'"`)
    // An unknown kernelType is the default kernel: nothing to swap. Without an extensions image there is no step at all.
    expect(renderContainerfile(base('4.20.1', {kernelType: 'weird'}))).to.equal(plain)
    expect(renderContainerfile(base('4.20.1', {extensionsImage: undefined, kernelType: 'realtime'}))).not.to.include('kernelOldPkgs')
  })

  it('checks the containerFile inside the Containerfile: parser errors on its own lines, no FROM, a last stage not on configs', () => {
    expect(validateContainerFile(CUSTOM, base('4.20.1'))).to.deep.equal([])
    expect(validateContainerFile('FROM configs AS final\nRUNN oops\n', base('4.20.1', {kernelType: 'realtime'}))).to.deep.equal([
      {line: 2, message: 'Unknown instruction: RUNN', severity: 'error'},
    ])
    expect(validateContainerFile('RUN echo hi\n', base('4.19.0')).map((p) => p.message)).to.include(
      'no FROM instruction: the builder of 4.23+ refuses a Containerfile without one; start with `FROM configs AS final`',
    )
    const alpine = validateContainerFile('FROM configs AS final\nRUN true\nFROM alpine\n', base('4.19.0'))
    expect(alpine).to.deep.equal([
      {
        line: 3,
        message: "the last stage is built FROM alpine, not on `configs`: that stage is the image the nodes get, without the pool's config",
        severity: 'warning',
      },
    ])
    expect(
      validateContainerFile('FROM configs AS one\nRUN true\nFROM one AS final\n', base('4.19.0')),
      'a stage built on an earlier one',
    ).to.deep.equal([])
  })
})

describe('files of the rendered config and the 4.18+ build context', () => {
  const mcWith = (files: unknown[]) => ({spec: {config: {ignition: {version: '3.4.0'}, storage: {files}}}})

  it('decodes Ignition data URLs (percent-encoded, base64, gzip) as the builder extracts /etc/containers files', () => {
    expect(decodeDataUrl('data:,a%20b%0A').toString()).to.equal('a b\n')
    expect(decodeDataUrl('data:text/plain;charset=utf-8;base64,aGk=').toString()).to.equal('hi')
    const gz = gzipSync(Buffer.from('{"default":[{"type":"insecureAcceptAnything"}]}')).toString('base64')
    const mc = mcWith([
      {contents: {compression: 'gzip', source: `data:;base64,${gz}`}, path: '/etc/containers/policy.json'},
      {contents: {source: 'data:,short-name-mode%20%3D%20%22%22%0A'}, path: '/etc/containers/registries.conf'},
      {path: '/etc/empty'},
    ])
    expect(machineConfigFile(mc, '/etc/containers/policy.json')).to.equal('{"default":[{"type":"insecureAcceptAnything"}]}')
    expect(machineConfigFile(mc, '/etc/containers/registries.conf')).to.equal('short-name-mode = ""\n')
    expect(machineConfigFile(mc, '/etc/empty')).to.equal('')
    expect(machineConfigFile(mc, '/etc/absent')).to.equal(undefined)
    expect(() => machineConfigFile(mcWith([{contents: {compression: 'xz', source: 'data:,x'}, path: '/p'}]), '/p')).to.throw(
      'unsupported compression xz',
    )
  })

  it('writes the context files, and a directory holding only a previous context may be reused', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-mob-ctx-unit-'))
    try {
      const written = await writeContextFiles(dir, [
        {content: 'FROM x\n', path: CONTEXT_FILES.containerfile},
        {content: 'H4sI', path: CONTEXT_FILES.machineConfig},
        {content: Buffer.from([0xff, 0x00]), path: CONTEXT_FILES.trustBundle},
        {content: 'x', path: CONTEXT_FILES.registries},
      ])
      expect(written.map((f) => [path.relative(dir, f.path), f.bytes])).to.deep.equal([
        ['Containerfile', 7],
        ['machineconfig/machineconfig.json.gz', 4],
        ['openshift-config-user-ca-bundle.crt', 2],
        ['registries.conf', 1],
      ])
      await checkContextDir(dir, {ownOnly: true})
      fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine')
      let refused = false
      await checkContextDir(dir, {ownOnly: true}).catch(() => {
        refused = true
      })
      expect(refused).to.equal(true)
    } finally {
      fs.rmSync(dir, {force: true, recursive: true})
    }
  })
})
