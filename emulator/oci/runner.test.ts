import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {
  containerEnv,
  hostRunnerAvailable,
  ocShimDir,
  runOnHost,
  SERVICE_ACCOUNT_DIR,
  type HostContainerSpec,
  type RunningContainer,
} from './runner.js'
import {createBuildahStorage, type BuildahStorage} from './storage.js'
import {skipWith} from './tools.js'

/** Processes (host view) whose command line contains `marker`, as "STAT ARGS" lines. */
function processesWith(marker: string): string[] {
  const out = execFileSync('ps', ['-eo', 'stat=,args='], {encoding: 'utf8'})
  return out.split('\n').filter((l) => l.includes(marker) && !l.includes('ps -eo'))
}

/** Until `sleep ARG` runs `count` times (the container's command started; setting up a container can take a while on a busy machine). */
async function untilSleeping(arg: string, count: number): Promise<void> {
  for (let waited = 0; sleeps(arg).length < count; waited += 50) {
    if (waited > 20_000) throw new Error(`sleep ${arg} did not start ${count} times`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** `sleep ARG` processes (host view), zombies included. */
function sleeps(arg: string): string[] {
  return processesWith(`sleep ${arg}`).filter((l) => /^\S+\s+(sleep |\[sleep\])/.test(l.trim()))
}

describe('host container runner', function () {
  this.timeout(60_000)
  let storage: BuildahStorage | undefined
  let work: string | undefined
  const containers: RunningContainer[] = []

  function run(spec: Partial<HostContainerSpec> & {command: string[]}): RunningContainer {
    const c = runOnHost({env: {}, mounts: [], ...spec}, storage!)
    containers.push(c)
    return c
  }
  async function sh(script: string, spec: Partial<HostContainerSpec> = {}) {
    const c = run({command: ['/bin/bash', '-c', script], ...spec})
    const exit = await c.exited
    return {...exit, logs: c.logs()}
  }

  before(async function () {
    const ok = await hostRunnerAvailable()
    if (!ok.ok) skipWith(this, ok.why!)
    storage = await createBuildahStorage()
    work = await mkdtemp(path.join(os.tmpdir(), 'oc-mob-runner-test-'))
  })
  after(async () => {
    for (const c of containers) c.kill('SIGKILL')
    await Promise.all(containers.map((c) => c.exited))
    await storage?.cleanup()
    if (work) await rm(work, {recursive: true, force: true})
  })

  it('gives the command exactly the container environment', async () => {
    process.env.OC_MOB_HOST_ONLY = 'leak'
    try {
      const res = await sh('env', {
        env: {FOO: 'bar baz', BUILDAH_ISOLATION: 'oci', HOME: '/home/build'},
        extraPath: ['/opt/first', ocShimDir],
      })
      expect(res.exitCode, res.logs).to.equal(0)
      const env = Object.fromEntries(
        res.logs
          .trim()
          .split('\n')
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      )
      expect(env.FOO).to.equal('bar baz')
      expect(env.BUILDAH_ISOLATION, 'the pod env overrides image defaults').to.equal('oci')
      expect(env.CONTAINERS_STORAGE_CONF).to.equal(storage!.storageConf)
      expect(env.CONTAINERS_REGISTRIES_CONF).to.equal(storage!.registriesConf)
      expect(env.HOME).to.equal('/home/build')
      expect(env.PATH.split(':').slice(0, 3)).to.deep.equal(['/opt/first', ocShimDir, '/usr/local/sbin'])
      expect(env).to.not.have.property('OC_MOB_HOST_ONLY')
      expect(env).to.not.have.property('TMPDIR')
    } finally {
      delete process.env.OC_MOB_HOST_ONLY
    }
    const defaults = containerEnv({env: {}}, storage!)
    expect(defaults.HOME).to.equal('/root')
    expect(defaults.BUILDAH_ISOLATION).to.equal('chroot')
  })

  it('mounts ConfigMap-like files, read-only when asked, at paths the host does not have', async () => {
    const base = `/tmp/oc-mob-runner-${process.pid}-${Date.now()}`
    const res = await sh(
      `set -e; cat ${base}/cm/key; cat ${base}/cm/nested/dir/file; od -An -tx1 ${base}/bin/blob | tr -d ' \\n'; echo
       if touch ${base}/cm/new 2>/dev/null; then echo WRITABLE; else echo read-only; fi
       test -d "$HOME" && test -d ${SERVICE_ACCOUNT_DIR} && echo dirs-ok
       echo scratch > /tmp/oc-mob-private-${process.pid}; echo private > /var/tmp/oc-mob-private-${process.pid}
       pwd`,
      {
        env: {HOME: '/home/build'},
        workingDir: '/home/build/context',
        mounts: [
          {mountPath: `${base}/cm`, files: {key: 'value\n', 'nested/dir/file': 'deep\n'}, readOnly: true},
          {mountPath: `${base}/bin`, files: {blob: Buffer.from([0, 1, 2, 255])}},
        ],
      },
    )
    expect(res.exitCode, res.logs).to.equal(0)
    expect(res.logs).to.equal('value\ndeep\n000102ff\nread-only\ndirs-ok\n/home/build/context\n')
    // nothing of it reached the host
    expect(existsSync(base)).to.equal(false)
    expect(existsSync('/home/build')).to.equal(false)
    expect(existsSync(`/tmp/oc-mob-private-${process.pid}`)).to.equal(false)
    expect(existsSync(`/var/tmp/oc-mob-private-${process.pid}`)).to.equal(false)
    expect(existsSync('/run/secrets/kubernetes.io')).to.equal(false)
  })

  it('shares an emptyDir between containers running at the same time, and writes it through to the host', async () => {
    const shared = path.join(work!, 'done')
    const mounts = [{mountPath: '/tmp/done', emptyDir: {shared}}]
    const waiter = run({
      command: ['/bin/bash', '-c', 'while [ ! -f /tmp/done/flag ]; do sleep 0.1; done; cat /tmp/done/flag'],
      env: {},
      mounts,
    })
    const writer = run({
      command: ['/bin/bash', '-c', 'sleep 0.3; printf from-writer > /tmp/done/.flag; mv /tmp/done/.flag /tmp/done/flag'],
      env: {},
      mounts,
    })
    expect((await writer.exited).exitCode).to.equal(0)
    expect(await waiter.exited).to.deep.equal({exitCode: 0})
    expect(waiter.logs()).to.equal('from-writer')
    expect(await readFile(path.join(shared, 'flag'), 'utf8')).to.equal('from-writer')
  })

  it('mounts over an existing host dir without changing it', async () => {
    const existing = path.join(work!, 'existing')
    await import('node:fs/promises').then((fs) => fs.mkdir(existing))
    await writeFile(path.join(existing, 'host-file'), 'host')
    const res = await sh(`ls ${existing}; echo x > ${existing}/from-container`, {
      mounts: [{mountPath: existing, files: {'volume-file': 'v'}}],
    })
    expect(res.exitCode, res.logs).to.equal(0)
    expect(res.logs).to.equal('volume-file\n')
    expect(await readdir(existing)).to.deep.equal(['host-file'])
  })

  it('keeps the storage bundle visible under a volume mounted over one of its parents (an emptyDir at /tmp)', async () => {
    const tmpVolume = path.join(work!, 'tmp-volume')
    const res = await sh(
      'test -f "$CONTAINERS_STORAGE_CONF" && echo conf-visible; touch /tmp/in-volume; buildah --storage-driver vfs containers --quiet >/dev/null && echo buildah-ok',
      {
        mounts: [{mountPath: '/tmp', emptyDir: {shared: tmpVolume}}],
      },
    )
    expect(res.exitCode, res.logs).to.equal(0)
    expect(res.logs).to.equal('conf-visible\nbuildah-ok\n')
    // the volume got the file (and an empty mount point dir for the bundle); the host /tmp did not
    expect(existsSync(path.join(tmpVolume, 'in-volume'))).to.equal(true)
    expect(existsSync('/tmp/in-volume')).to.equal(false)
  })

  it('keeps stdout and stderr in one stream in the order written', async () => {
    const c = run({command: ['/bin/bash', '-c', 'for i in $(seq 1 200); do echo "out $i"; echo "err $i" >&2; done'], env: {}, mounts: []})
    let streamed = ''
    c.output.on('data', (d: Buffer) => (streamed += d.toString()))
    const ended = new Promise((resolve) => c.output.on('end', resolve))
    expect((await c.exited).exitCode).to.equal(0)
    await ended
    const expected = Array.from({length: 200}, (_, i) => `out ${i + 1}\nerr ${i + 1}\n`).join('')
    expect(streamed).to.equal(expected)
    expect(c.logs()).to.equal(expected)
  })

  it('reports exit codes like a container runtime', async () => {
    expect((await sh('exit 3')).exitCode).to.equal(3)
    const missing = await sh('', {command: ['no-such-command-oc-mob']} as Partial<HostContainerSpec>)
    expect(missing.exitCode).to.equal(127)
    const badMount = run({command: ['/bin/true'], env: {}, mounts: [{mountPath: '/etc/hostname', files: {}}]})
    expect((await badMount.exited).exitCode).to.equal(125)
    expect(badMount.logs()).to.contain('/etc/hostname exists and is not a directory')
    expect(() => run({command: ['/bin/true'], env: {}, mounts: [{mountPath: 'relative'}]})).to.throw(/not an absolute path/)
    expect(() => run({command: [], env: {}, mounts: []})).to.throw(/no command/)
  })

  it('kill(): SIGTERM reaches PID 1 only through a handler; SIGKILL ends everything, leaving no process or zombie', async () => {
    const marker = `98765${process.pid % 1000}`
    const trapped = run({command: ['/bin/bash', '-c', `trap 'echo got TERM; exit 42' TERM; sleep ${marker} & wait`], env: {}, mounts: []})
    await untilSleeping(marker, 1)
    trapped.kill()
    expect(await trapped.exited).to.deep.equal({exitCode: 42})
    expect(trapped.logs()).to.contain('got TERM')

    const stubborn = run({command: ['/bin/bash', '-c', `sleep ${marker} & sleep ${marker} & wait`], env: {}, mounts: []})
    await untilSleeping(marker, 2)
    expect(sleeps(marker)).to.have.length(2)
    stubborn.kill('SIGTERM') // bash as PID 1 has no handler: ignored
    const early = await Promise.race([stubborn.exited, new Promise((r) => setTimeout(() => r('running'), 500))])
    expect(early).to.equal('running')
    const exit = await stubborn.stop(100)
    expect(exit).to.deep.equal({exitCode: 137, signal: 'SIGKILL'})
    await new Promise((r) => setTimeout(r, 200))
    expect(processesWith(marker), 'children and zombies').to.deep.equal([])
  })

  it('ends processes left behind when PID 1 exits', async () => {
    const marker = `87654${process.pid % 1000}`
    const res = await sh(`sleep ${marker} & echo started`)
    expect(res.exitCode).to.equal(0)
    await new Promise((r) => setTimeout(r, 200))
    expect(processesWith(marker)).to.deep.equal([])
  })

  it('lets buildah inside use the bundle storage on the host', async () => {
    const res = await sh(
      'buildah --storage-driver vfs from --name oc-mob-runner-test scratch && buildah containers --format "{{.ContainerName}}"',
      {env: {HOME: '/home/build'}},
    )
    expect(res.exitCode, res.logs).to.equal(0)
    expect(res.logs).to.contain('oc-mob-runner-test')
    // the container record is in the storage dir on the host
    const record = await readFile(path.join(storage!.dir, 'graph', 'vfs-containers', 'containers.json'), 'utf8')
    expect(record).to.contain('oc-mob-runner-test')
  })
})
