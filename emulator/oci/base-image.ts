// The simulated "RHCOS" base OS image of the cluster emulator: a few MB built
// FROM scratch out of host binaries, just enough for the MCO's build
// Containerfile to run in it:
//
// - bash, also as /bin/sh: buildah runs RUN lines with `/bin/sh -c`, and the
//   template's ignition line uses bash process substitution `<( … )`, which a
//   POSIX sh rejects. RHCOS's /bin/sh is bash too.
// - busybox (static) for cat, base64, gunzip, mkdir, sed, … as applet links.
// - jq with its shared libraries (collected with ldd, like bash's).
// - /usr/lib/dracut/modules.d/30ignition/ignition: a stand-in applying files,
//   directories, links and systemd units of an Ignition config (image/ignition).
// - /usr/bin/ostree: a stand-in accepting `ostree container commit` (image/ostree).
// - /usr/lib/os-release saying it is a simulation, and labels like the real image's.
//
// The image is built once per process and content (an OCI layout kept in a
// temp dir) and then copied blob by blob to each registry that asks for it, so
// every registry gets the same digest and later calls take milliseconds.
import {createHash} from 'node:crypto'
import {existsSync, rmSync} from 'node:fs'
import {chmod, copyFile, mkdir, mkdtemp, readFile, readlink, realpath, symlink, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {execa} from 'execa'
import {pushOciLayout, type Registry} from './registry.js'
import {buildahEnv, type BuildahStorage} from './storage.js'
import {missingTools} from './tools.js'

const here = path.dirname(fileURLToPath(import.meta.url))
export const imageAssetsDir = path.join(here, 'image')

export const BASE_IMAGE_VERSION = '416.94.202311230000-0'

const baseImageLabels: Record<string, string> = {
  version: BASE_IMAGE_VERSION,
  'ostree.bootable': 'true',
  'io.openshift.build.version-display-names': 'machine-os=Red Hat Enterprise Linux CoreOS',
  'io.openshift.build.versions': `machine-os=${BASE_IMAGE_VERSION}`,
  'org.opencontainers.image.title': 'oc-mob simulated RHCOS base image',
  'org.opencontainers.image.description':
    'Not a real RHCOS: host busybox, bash and jq plus Ignition/ostree stand-ins for the oc-mob cluster emulator',
  'io.oc-mob.simulated': 'true',
}

const IMAGE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
const HOST_BUSYBOX = '/usr/bin/busybox'
const HOST_BINARIES = ['/usr/bin/bash', '/usr/bin/jq']
/** Names never linked to busybox because the image has the real thing. */
const NOT_APPLETS = new Set(['sh', 'bash', 'jq', 'busybox', 'ostree', 'linuxrc'])

export interface BaseImage {
  /** `host/repo@sha256:…` */
  pullspec: string
  /** `host/repo:latest`, the same image by tag */
  tag: string
  digest: string
  /** Milliseconds this call took (building and/or copying to the registry). */
  elapsedMs: number
  /** True when the image came from this process's cache instead of a buildah build. */
  cached: boolean
}

export interface BuildBaseImageOptions {
  registry: Pick<Registry, 'host' | 'url' | 'auth'>
  /** Repository in the registry (default `ocp/rhcos`). */
  repo?: string
  /** Tag pushed besides the digest (default `latest`). */
  tagName?: string
  storage: BuildahStorage
}

/** Shared libraries (absolute paths) a dynamically linked binary needs, from ldd. */
export async function sharedLibraries(binary: string): Promise<string[]> {
  const {stdout, exitCode} = await execa('ldd', [binary], {reject: false})
  if (exitCode !== 0) return [] // "not a dynamic executable"
  const libs: string[] = []
  for (const line of stdout.split('\n')) {
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line)
    if (m) libs.push(m[1])
  }
  return libs
}

/** Where a host library path goes in the image, whose /lib and /lib64 are links into /usr. */
function imageLibPath(hostPath: string): string {
  if (hostPath.startsWith('/usr/')) return hostPath
  return '/usr' + hostPath
}

interface RootfsFile {
  /** path in the image */
  dest: string
  /** host file to copy, or literal contents */
  from?: string
  contents?: string
  mode: number
}

interface RootfsPlan {
  dirs: Array<{path: string; mode: number}>
  links: Array<{path: string; target: string}>
  files: RootfsFile[]
}

async function planRootfs(): Promise<RootfsPlan> {
  const dirs = [
    ...['/usr/bin', '/usr/sbin', '/usr/lib', '/usr/lib64', '/usr/local/bin', '/usr/local/sbin', '/usr/lib/systemd/system'].map((p) => ({
      path: p,
      mode: 0o755,
    })),
    ...['/etc/systemd/system', '/etc/machine-config-daemon', '/var/lib', '/var/log', '/run', '/home', '/proc', '/sys', '/dev'].map((p) => ({
      path: p,
      mode: 0o755,
    })),
    {path: '/root', mode: 0o550},
    {path: '/tmp', mode: 0o1777},
    {path: '/var/tmp', mode: 0o1777},
    {path: '/usr/lib/dracut/modules.d/30ignition', mode: 0o755},
  ]
  const links = [
    {path: '/bin', target: 'usr/bin'},
    {path: '/sbin', target: 'usr/sbin'},
    {path: '/lib', target: 'usr/lib'},
    {path: '/lib64', target: 'usr/lib64'},
    {path: '/usr/bin/sh', target: 'bash'},
    {path: '/etc/os-release', target: '../usr/lib/os-release'},
  ]
  const files: RootfsFile[] = [
    {dest: '/usr/bin/busybox', from: HOST_BUSYBOX, mode: 0o755},
    {dest: '/usr/lib/dracut/modules.d/30ignition/ignition', from: path.join(imageAssetsDir, 'ignition'), mode: 0o755},
    {dest: '/usr/bin/ostree', from: path.join(imageAssetsDir, 'ostree'), mode: 0o755},
    {dest: '/usr/lib/os-release', from: path.join(imageAssetsDir, 'os-release'), mode: 0o644},
    {
      dest: '/etc/passwd',
      contents: 'root:x:0:0:root:/root:/bin/bash\ncore:x:1000:1000:CoreOS Admin:/var/home/core:/bin/bash\n',
      mode: 0o644,
    },
    {dest: '/etc/group', contents: 'root:x:0:\nwheel:x:10:core\ncore:x:1000:\n', mode: 0o644},
    {dest: '/etc/hostname', contents: 'localhost\n', mode: 0o644},
  ]
  const libs = new Set<string>()
  for (const bin of HOST_BINARIES) {
    files.push({dest: bin, from: bin, mode: 0o755})
    for (const lib of await sharedLibraries(bin)) libs.add(lib)
  }
  for (const lib of [...libs].sort()) files.push({dest: imageLibPath(lib), from: await realpath(lib), mode: 0o755})

  const {stdout} = await execa(HOST_BUSYBOX, ['--list'])
  for (const applet of stdout
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (NOT_APPLETS.has(applet) || applet.includes('/')) continue
    links.push({path: `/usr/bin/${applet}`, target: 'busybox'})
  }
  return {dirs, links, files}
}

async function planDigest(plan: RootfsPlan): Promise<string> {
  const h = createHash('sha256')
  h.update(JSON.stringify({v: 1, dirs: plan.dirs, links: plan.links, labels: baseImageLabels, path: IMAGE_PATH}))
  for (const f of plan.files) {
    h.update(`\0${f.dest}\0${f.mode}\0`)
    h.update(f.from ? await readFile(f.from) : f.contents!)
  }
  return h.digest('hex')
}

async function populate(root: string, plan: RootfsPlan): Promise<void> {
  const at = (p: string) => path.join(root, p)
  for (const d of plan.dirs) {
    await mkdir(at(d.path), {recursive: true})
    await chmod(at(d.path), d.mode)
  }
  for (const f of plan.files) {
    await mkdir(path.dirname(at(f.dest)), {recursive: true})
    if (f.from) await copyFile(f.from, at(f.dest))
    else await writeFile(at(f.dest), f.contents!)
    await chmod(at(f.dest), f.mode)
  }
  for (const l of plan.links) {
    if (existsSync(at(l.path))) {
      // a directory created above for the same path would be a mistake in the plan
      if ((await readlink(at(l.path)).catch(() => undefined)) === l.target) continue
      throw new Error(`base image: ${l.path} exists, cannot link it to ${l.target}`)
    }
    await symlink(l.target, at(l.path))
  }
}

let cacheRoot: string | undefined
function processCacheDir(): string {
  if (!cacheRoot) {
    const dir = path.join(os.tmpdir(), `oc-mob-base-image-${process.pid}-${Date.now().toString(36)}`)
    cacheRoot = dir
    process.once('exit', () => rmSync(dir, {recursive: true, force: true}))
  }
  return cacheRoot
}

/** content digest -> OCI layout dir holding the built image */
const layouts = new Map<string, Promise<string>>()

async function buildLayout(plan: RootfsPlan, key: string, storage: BuildahStorage): Promise<string> {
  const env = buildahEnv(storage)
  const buildah = (args: string[]) => execa('buildah', ['--storage-driver', storage.driver, ...args], {env, extendEnv: false})
  const ctr = (await buildah(['from', 'scratch'])).stdout.trim()
  let committed = false
  try {
    const mnt = (await buildah(['mount', ctr])).stdout.trim()
    try {
      await populate(mnt, plan)
    } finally {
      await buildah(['umount', ctr])
    }
    const labels = Object.entries(baseImageLabels).flatMap(([k, v]) => ['--label', `${k}=${v}`])
    await buildah(['config', ...labels, '--env', `PATH=${IMAGE_PATH}`, '--cmd', '/bin/bash', '--workingdir', '/', ctr])
    const name = `localhost/oc-mob/base-image:${key.slice(0, 16)}`
    await buildah(['commit', '--rm', '--quiet', '--format', 'oci', '--timestamp', '0', ctr, name])
    committed = true
    const cache = processCacheDir()
    await mkdir(cache, {recursive: true})
    const layout = await mkdtemp(path.join(cache, 'layout-'))
    await buildah(['push', '--quiet', name, `oci:${layout}`])
    return layout
  } finally {
    if (!committed) await buildah(['rm', ctr]).catch(() => {})
  }
}

/**
 * Builds (or reuses) the simulated RHCOS base image and pushes it to
 * `registry` as `repo:latest`, returning its digested pullspec.
 */
export async function buildBaseImage(opts: BuildBaseImageOptions): Promise<BaseImage> {
  const started = performance.now()
  const missing = await missingTools('buildah', 'busybox', 'bash', 'jq', 'ldd')
  if (missing) throw new Error(`cannot build the base image: ${missing}`)
  const repo = opts.repo ?? 'ocp/rhcos'
  const tagName = opts.tagName ?? 'latest'
  const plan = await planRootfs()
  const key = await planDigest(plan)
  let cached = true
  let layout = layouts.get(key)
  if (!layout) {
    cached = false
    layout = buildLayout(plan, key, opts.storage)
    layouts.set(key, layout)
    layout.catch(() => layouts.delete(key))
  }
  const digest = await pushOciLayout(opts.registry, await layout, repo, tagName)
  return {
    pullspec: `${opts.registry.host}/${repo}@${digest}`,
    tag: `${opts.registry.host}/${repo}:${tagName}`,
    digest,
    elapsedMs: Math.round(performance.now() - started),
    cached,
  }
}
