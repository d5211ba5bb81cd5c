// The Ignition and ostree stand-ins of the simulated base image, run on the
// host with --root (they only need bash, jq and coreutils/busybox).
import {expect} from 'chai'
import {lstat, mkdir, mkdtemp, readFile, readlink, rm, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {gzipSync} from 'node:zlib'
import {execa} from 'execa'
import {imageAssetsDir} from './base-image.js'
import {missingTools, skipWith} from './tools.js'

const ignition = path.join(imageAssetsDir, 'ignition')

describe('Ignition stand-in (image/ignition)', function () {
  this.timeout(30_000)
  let root: string

  before(async function () {
    const missing = await missingTools('bash', 'jq')
    if (missing) skipWith(this, missing)
  })
  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'oc-mob-ignition-'))
  })
  afterEach(async () => {
    await rm(root, {recursive: true, force: true})
  })

  /** Runs the stand-in like the Containerfile does: config on a /dev/fd pipe via process substitution. */
  async function apply(config: unknown, ...flags: string[]) {
    const cfg = path.join(root, '..', `${path.basename(root)}.json`)
    await writeFile(cfg, typeof config === 'string' ? config : JSON.stringify(config))
    try {
      return await execa('bash', ['-c', `exec -a ignition-apply "$0" "$@" <(cat "${cfg}")`, ignition, '--root', root, ...flags], {
        reject: false,
        all: true,
      })
    } finally {
      await rm(cfg, {force: true})
    }
  }
  const at = (p: string) => path.join(root, p)
  const text = (p: string) => readFile(at(p), 'utf8')
  const mode = async (p: string) => (await lstat(at(p))).mode & 0o7777

  it('writes files from both data URL forms, with modes, parents, gzip and append', async () => {
    const res = await apply({
      ignition: {version: '3.2.0'},
      storage: {
        files: [
          {path: '/etc/plain', mode: 420, contents: {source: 'data:,a%20b%0Ac%25%5C%0A'}},
          {path: '/etc/deep/er/b64', mode: 384, contents: {source: `data:;base64,${Buffer.from('bin\u0000ary\n').toString('base64')}`}},
          {path: '/etc/typed', contents: {source: `data:text/plain;charset=utf-8;base64,${Buffer.from('typed\n').toString('base64')}`}},
          {
            path: '/etc/zipped',
            mode: 493,
            contents: {source: `data:;base64,${gzipSync('unzipped\n').toString('base64')}`, compression: 'gzip'},
            append: [{source: 'data:,tail%0A'}],
          },
          {path: '/etc/empty'},
          {path: '/etc/trailing', contents: {source: 'data:,keep%0A%0A%0A'}},
        ],
      },
    })
    expect(res.exitCode, res.all).to.equal(0)
    expect(await text('etc/plain')).to.equal('a b\nc%\\\n')
    expect(await readFile(at('etc/deep/er/b64'))).to.deep.equal(Buffer.from('bin\u0000ary\n'))
    expect(await mode('etc/deep/er/b64')).to.equal(0o600)
    expect(await mode('etc/deep/er')).to.equal(0o755)
    expect(await text('etc/typed')).to.equal('typed\n')
    expect(await text('etc/zipped')).to.equal('unzipped\ntail\n')
    expect(await mode('etc/zipped')).to.equal(0o755)
    expect(await text('etc/empty')).to.equal('')
    expect(await mode('etc/empty')).to.equal(0o644)
    expect(await text('etc/trailing')).to.equal('keep\n\n\n')
    expect(res.stdout).to.contain('ignition-apply: wrote file /etc/plain')
  })

  it('respects overwrite: replaces with true, refuses with false', async () => {
    await mkdir(at('etc'), {recursive: true})
    await writeFile(at('etc/existing'), 'old\n')
    let res = await apply({
      ignition: {version: '3.2.0'},
      storage: {files: [{path: '/etc/existing', overwrite: true, contents: {source: 'data:,new'}}]},
    })
    expect(res.exitCode, res.all).to.equal(0)
    expect(await text('etc/existing')).to.equal('new')
    res = await apply({ignition: {version: '3.2.0'}, storage: {files: [{path: '/etc/existing', contents: {source: 'data:,newer'}}]}})
    expect(res.exitCode).to.equal(1)
    expect(res.stderr).to.contain('ignition-apply: error: file /etc/existing already exists and overwrite is false')
    expect(await text('etc/existing')).to.equal('new')
  })

  it('creates directories and links', async () => {
    const res = await apply({
      ignition: {version: '3.4.0'},
      storage: {
        directories: [{path: '/var/lib/oc-mob', mode: 448}],
        files: [{path: '/etc/target', contents: {source: 'data:,t'}}],
        links: [
          {path: '/etc/localtime', target: '../usr/share/zoneinfo/UTC'},
          {path: '/etc/hard', target: '/etc/target', hard: true},
        ],
      },
    })
    expect(res.exitCode, res.all).to.equal(0)
    expect((await lstat(at('var/lib/oc-mob'))).isDirectory()).to.equal(true)
    expect(await mode('var/lib/oc-mob')).to.equal(0o700)
    expect(await readlink(at('etc/localtime'))).to.equal('../usr/share/zoneinfo/UTC')
    expect((await lstat(at('etc/hard'))).ino).to.equal((await lstat(at('etc/target'))).ino)
  })

  it('writes systemd units and dropins, enables by [Install], disables and masks', async () => {
    await mkdir(at('etc/systemd/system/multi-user.target.wants'), {recursive: true})
    await mkdir(at('usr/lib/systemd/system'), {recursive: true})
    await writeFile(at('usr/lib/systemd/system/vendor.service'), '[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=timers.target\n')
    await writeFile(at('etc/systemd/system/old.service'), '[Service]\nExecStart=/bin/true\n')
    await import('node:fs/promises').then((fs) =>
      fs.symlink('/etc/systemd/system/old.service', at('etc/systemd/system/multi-user.target.wants/old.service')),
    )
    const unit =
      '[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target default.target\nRequiredBy=network.target\n'
    const res = await apply({
      ignition: {version: '3.2.0'},
      systemd: {
        units: [
          {name: 'x.service', enabled: true, contents: unit, dropins: [{name: '10-env.conf', contents: '[Service]\nEnvironment=A=1\n'}]},
          {name: 'noinstall.service', enabled: true, contents: '[Service]\nExecStart=/bin/true\n'},
          {name: 'vendor.service', enabled: true},
          {name: 'old.service', enabled: false},
          {name: 'masked.service', mask: true},
          {name: 'dropin-only.service', dropins: [{name: 'a.conf', contents: '[Unit]\n'}]},
        ],
      },
    })
    expect(res.exitCode, res.all).to.equal(0)
    const sd = 'etc/systemd/system'
    expect(await text(`${sd}/x.service`)).to.equal(unit)
    expect(await text(`${sd}/x.service.d/10-env.conf`)).to.equal('[Service]\nEnvironment=A=1\n')
    expect(await readlink(at(`${sd}/multi-user.target.wants/x.service`))).to.equal('/etc/systemd/system/x.service')
    expect(await readlink(at(`${sd}/default.target.wants/x.service`))).to.equal('/etc/systemd/system/x.service')
    expect(await readlink(at(`${sd}/network.target.requires/x.service`))).to.equal('/etc/systemd/system/x.service')
    expect(await readlink(at(`${sd}/multi-user.target.wants/noinstall.service`))).to.equal('/etc/systemd/system/noinstall.service')
    expect(await readlink(at(`${sd}/timers.target.wants/vendor.service`))).to.equal('/usr/lib/systemd/system/vendor.service')
    let gone = false
    await lstat(at(`${sd}/multi-user.target.wants/old.service`)).catch(() => (gone = true))
    expect(gone, 'disabled unit link removed').to.equal(true)
    expect(await readlink(at(`${sd}/masked.service`))).to.equal('/dev/null')
    expect(await text(`${sd}/dropin-only.service.d/a.conf`)).to.equal('[Unit]\n')
  })

  it('rejects unsupported sections unless --ignore-unsupported, and bad configs', async () => {
    const config = {
      ignition: {version: '3.2.0'},
      passwd: {users: [{name: 'core', sshAuthorizedKeys: ['ssh-ed25519 AAAA']}]},
      storage: {disks: [{device: '/dev/vdb'}], files: [{path: '/etc/f', contents: {source: 'data:,f'}}]},
    }
    let res = await apply(config)
    expect(res.exitCode).to.equal(1)
    expect(res.stderr).to.contain('cannot be applied to a running system: storage.disks, passwd.users (use --ignore-unsupported)')
    res = await apply(config, '--ignore-unsupported')
    expect(res.exitCode, res.all).to.equal(0)
    expect(res.stdout).to.contain('ignoring unsupported config sections: storage.disks, passwd.users')
    expect(await text('etc/f')).to.equal('f')

    res = await apply('not json')
    expect(res.stderr).to.contain('config is not a JSON object')
    res = await apply({storage: {}})
    expect(res.stderr).to.contain('config has no ignition.version')
    res = await apply({ignition: {version: '2.2.0'}})
    expect(res.stderr).to.contain('unsupported config version 2.2.0')
    res = await apply({ignition: {version: '3.2.0'}, storage: {files: [{path: '/etc/r', contents: {source: 'https://example.com/x'}}]}})
    expect(res.exitCode).to.equal(1)
    expect(res.stderr).to.contain('cannot fetch https URLs here, only data: URLs are supported')
    res = await apply({ignition: {version: '3.2.0'}, storage: {files: [{path: 'relative', contents: {source: 'data:,x'}}]}})
    expect(res.stderr).to.contain('file path relative is not absolute')
  })

  it('ostree stand-in: only `ostree container commit` succeeds', async function () {
    const ostree = path.join(imageAssetsDir, 'ostree')
    // run in a private mount namespace with its own /tmp so the host /tmp is never emptied; the
    // script is opened before the mounts, since the checkout itself may live under /tmp
    const isRoot = process.getuid?.() === 0
    if (!isRoot || (await missingTools('unshare')))
      skipWith(this, 'needs root and unshare (util-linux) to give the stand-in a private /tmp')
    const res = await execa(
      'unshare',
      [
        '--mount',
        '--propagation',
        'private',
        'bash',
        '-c',
        `exec 3<"${ostree}" && mount -n -t tmpfs t /tmp && mount -n -t tmpfs t /var/tmp && touch /tmp/x && bash /dev/fd/3 container commit && test ! -e /tmp/x`,
      ],
      {reject: false, all: true},
    )
    expect(res.exitCode, res.all).to.equal(0)
    const bad = await execa('bash', [ostree, 'admin', 'status'], {reject: false})
    expect(bad.exitCode).to.equal(1)
    expect(bad.stderr).to.contain("only 'ostree container commit' is supported")
  })
})
