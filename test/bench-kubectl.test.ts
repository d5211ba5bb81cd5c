import {expect} from 'chai'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {clientVersion, pickVersioned, resolveKubectl} from '../bench/kubectl.js'

// bench/kubectl.ts on fake installs: files that start like ELF binaries or scripts, and a probe that
// answers `version --client` for them by name.
describe('bench: the kubectl baseline is the real binary', () => {
  let dir: string
  const elf = (p: string) => {
    fs.mkdirSync(path.dirname(p), {recursive: true})
    fs.writeFileSync(p, Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(60)]), {mode: 0o755})
    return p
  }

  const script = (p: string, body: string) => {
    fs.mkdirSync(path.dirname(p), {recursive: true})
    fs.writeFileSync(p, `#!/bin/sh\n${body}\n`, {mode: 0o755})
    return p
  }

  const versions: Record<string, string> = {}
  const probe = async (bin: string) => {
    const v = versions[path.basename(bin)]
    if (!v) throw new Error(`unexpected probe of ${bin}`)
    return `Client Version: ${v}`
  }

  const resolve = (serverVersion: string | undefined, env: NodeJS.ProcessEnv = {}) =>
    resolveKubectl({env: {PATH: path.join(dir, 'bin'), ...env}, probe, serverVersion})
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-mob-bench-kubectl-'))
    Object.assign(versions, {
      kubectl: 'v1.32.4-dispatcher',
      'kubectl.1.27': 'v1.27.16',
      'kubectl.1.31': 'v1.31.9',
      'kubectl-real': 'v1.30.2',
    })
  })
  afterEach(() => {
    fs.rmSync(dir, {force: true, recursive: true})
  })

  it('follows a version dispatcher (behind a symlink) to the kubectl.<major>.<minor> it runs for the server', async () => {
    const sdk = path.join(dir, 'sdk', 'bin')
    elf(path.join(sdk, 'kubectl'))
    elf(path.join(sdk, 'kubectl.1.27'))
    elf(path.join(sdk, 'kubectl.1.31'))
    fs.mkdirSync(path.join(dir, 'bin'))
    fs.symlinkSync(path.join(sdk, 'kubectl'), path.join(dir, 'bin', 'kubectl'))
    const r = await resolve('v1.27.16+openshift')
    expect(r).to.deep.include({path: path.join(sdk, 'kubectl.1.27'), version: 'Client Version: v1.27.16'})
    expect((r as {how: string}).how)
      .to.contain(`${path.join(dir, 'bin', 'kubectl')} -> ${path.join(sdk, 'kubectl')}`)
      .and.contain('a version dispatcher (v1.32.4-dispatcher) running kubectl.1.27 (for server v1.27)')
    expect(await resolve('v1.31.0')).to.include({path: path.join(sdk, 'kubectl.1.31')})
    expect(await resolve(undefined)).to.include({path: path.join(sdk, 'kubectl.1.31')})
  })

  it('uses a kubectl that is not a dispatcher as it is', async () => {
    versions.kubectl = 'v1.33.1'
    elf(path.join(dir, 'bin', 'kubectl'))
    expect(await resolve('v1.27.16')).to.deep.equal({
      how: 'kubectl on PATH',
      path: path.join(dir, 'bin', 'kubectl'),
      version: 'Client Version: v1.33.1',
    })
  })

  it('follows a launcher script to the binary it execs, or to the versioned ones in the folder it names', async () => {
    const real = elf(path.join(dir, 'opt', 'kubectl-real'))
    script(path.join(dir, 'bin', 'kubectl'), `exec ${real} "$@"`)
    expect(await resolve('v1.27.16')).to.include({path: real, version: 'Client Version: v1.30.2'})

    fs.rmSync(path.join(dir, 'bin', 'kubectl'))
    const versioned = path.join(dir, 'versions')
    elf(path.join(versioned, 'kubectl.1.27'))
    elf(path.join(versioned, 'kubectl.1.31'))
    script(path.join(dir, 'bin', 'kubectl'), `v=$(server_minor)\nexec ${versioned}/kubectl.1.$v "$@"`)
    const r = await resolve('v1.31.4')
    expect(r).to.include({path: path.join(versioned, 'kubectl.1.31'), version: 'Client Version: v1.31.9'})
    expect((r as {how: string}).how).to.contain('a script running')
  })

  it('skips the baseline, saying why, when there is no kubectl or its binary cannot be found', async () => {
    expect(await resolve('v1.27.16')).to.deep.equal({skipped: 'kubectl not found: baseline skipped'})
    script(path.join(dir, 'bin', 'kubectl'), 'exec "$KUBECTL_REAL" "$@"')
    expect(((await resolve('v1.27.16')) as {skipped: string}).skipped).to.match(
      /is a script whose kubectl binary was not found \(set OC_MOB_BENCH_KUBECTL\): baseline skipped$/,
    )
    fs.rmSync(path.join(dir, 'bin', 'kubectl'))
    elf(path.join(dir, 'bin', 'kubectl'))
    expect(((await resolve('v1.27.16')) as {skipped: string}).skipped).to.match(
      /is a version dispatcher with no kubectl\.<major>\.<minor> beside it/,
    )
  })

  it('takes OC_MOB_BENCH_KUBECTL as it is, and refuses one that is not an executable', async () => {
    const chosen = elf(path.join(dir, 'elsewhere', 'kubectl.1.27'))
    expect(await resolve('v1.31.0', {OC_MOB_BENCH_KUBECTL: chosen})).to.deep.equal({
      how: 'set by OC_MOB_BENCH_KUBECTL',
      path: chosen,
      version: 'Client Version: v1.27.16',
    })
    await resolve('v1.31.0', {OC_MOB_BENCH_KUBECTL: path.join(dir, 'nope')}).then(
      () => expect.fail('resolved a missing override'),
      (error: Error) => expect(error.message).to.equal(`OC_MOB_BENCH_KUBECTL=${path.join(dir, 'nope')}: not an executable file`),
    )
  })

  it('picks the same minor, else the nearest (the newer on a tie), else the newest', () => {
    const list = [
      {major: 1, minor: 27, path: 'k27'},
      {major: 1, minor: 31, path: 'k31'},
      {major: 1, minor: 33, path: 'k33'},
    ]
    expect(pickVersioned(list, 'v1.31.2+abc')).to.deep.equal({path: 'k31', why: 'for server v1.31'})
    expect(pickVersioned(list, 'v1.29.0')).to.deep.equal({path: 'k31', why: 'nearest to server v1.29'})
    expect(pickVersioned(list, 'v1.26.0')?.path).to.equal('k27')
    expect(pickVersioned(list, 'v2.1.0')?.path).to.equal('k33')
    expect(pickVersioned(list, undefined)?.path).to.equal('k33')
    expect(pickVersioned([], 'v1.27.0')).to.equal(undefined)
  })

  it('reads `version --client` of new and old clients', async () => {
    const json = script(
      path.join(dir, 'k-json'),
      `echo '{"clientVersion":{"gitVersion":"v1.33.1","major":"1"},"kustomizeVersion":"v5.6.0"}'`,
    )
    expect(await clientVersion(json)).to.equal('Client Version: v1.33.1')
    const old = script(
      path.join(dir, 'k-old'),
      `[ "$3" = "-o" ] && exit 1\necho 'Client Version: version.Info{Major:"1", Minor:"27", GitVersion:"v1.27.16", GitCommit:"cbb86e0"}'`,
    )
    expect(await clientVersion(old)).to.equal('Client Version: v1.27.16')
  })
})
