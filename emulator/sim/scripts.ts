// Scripted stand-ins for the build pod's containers (used when buildah and a
// registry are not available, or when a test asks for scripted mode). They
// keep the real pod's contract: image-build leaves a digest file in the shared
// `done` emptyDir, wait-for-done polls for it and then creates digest-<R>
// through the API; if image-build fails, wait-for-done never ends.
import {createHash} from 'node:crypto'
import {type Obj, R, isAlreadyExists, sleep} from './client.js'
import type {ContainerContext, ContainerProcess} from './kubelet.js'
import {MCO_NS} from './names.js'
import {runCommandOf, scriptedShell} from './shell-run.js'

export interface ScriptedBuildOptions {
  /** How long image-build takes. */
  buildMs?: number
  /** wait-for-done's poll interval (`sleep 1` in the real script). */
  pollMs?: number
}

/** Dockerfile instructions (continuation lines joined, comments dropped). */
function dockerfileSteps(text: string): string[] {
  const out: string[] = []
  let cur = ''
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\s+$/, '')
    if (!cur && (line.trim() === '' || line.trim().startsWith('#'))) continue
    if (line.endsWith('\\')) {
      cur += line.slice(0, -1).trim() + ' '
      continue
    }
    cur += line.trim()
    out.push(cur)
    cur = ''
  }
  if (cur) out.push(cur.trim())
  return out
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex')

/** Digest the scripted build "pushes": stable for the same tag and build inputs. */
const scriptedDigest = (tag: string, dockerfile: string, mc: string) => `sha256:${sha(`${tag}\n${dockerfile}\n${mc}`)}`

/**
 * buildah's output for the Dockerfile. `RUN` steps print what their commands would (see
 * shell-run.ts); the first one that fails ends the build with buildah's error and its exit status,
 * and nothing is committed or pushed.
 */
export function buildahLikeOutput(tag: string, dockerfile: string): {build: string[]; exitCode: number; push: string[]} {
  const steps = dockerfileSteps(dockerfile)
  const build: string[] = []
  let layer = 0
  for (const [i, s] of steps.entries()) {
    build.push(`STEP ${i + 1}/${steps.length}: ${s}`)
    const command = runCommandOf(s)
    if (command !== undefined) {
      const {exitCode, output} = scriptedShell(command)
      build.push(...output)
      if (exitCode !== 0) {
        build.push(`Error: building at STEP "${s}": while running runtime: exit status ${exitCode}`)
        return {build, exitCode: 1, push: []}
      }
    }

    const from = /^FROM\s+(\S+)/i.exec(s)
    if (
      from &&
      !steps.slice(0, i).some((p) => new RegExp(`^FROM\\s+${from[1].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`).test(p)) &&
      !/^(extract|configs)$/.test(from[1])
    ) {
      build.push(`Trying to pull ${from[1]}...`, 'Getting image source signatures')
      for (let b = 0; b < 3; b++) build.push(`Copying blob sha256:${sha(`${from[1]}/${b}`)}`)
      build.push(`Copying config sha256:${sha(`${from[1]}/config`)}`, 'Writing manifest to image destination', 'Storing signatures')
    }
    if (/^RUN\s/i.test(s) && s.includes('ignition')) {
      build.push(
        'Ignition 2.16.2',
        'Stage: fetch-offline',
        'Stage: files',
        'files: createFilesystemsFiles: createFiles: op(1): [started]  writing files',
        'files: createFilesystemsFiles: createFiles: op(1): [finished] writing files',
      )
    }
    if (/^(FROM|COPY|RUN|LABEL)/i.test(s) && i + 1 < steps.length && /^FROM\s/i.test(steps[i + 1])) {
      layer++
      build.push(`--> ${sha(`${tag}/${layer}`).slice(0, 11)}`)
    }
  }
  const image = sha(`${tag}/image`)
  build.push(`COMMIT ${tag}`, 'Getting image source signatures')
  for (let b = 0; b < 2; b++) build.push(`Copying blob sha256:${sha(`${tag}/blob/${b}`)}`)
  build.push(
    `Copying config sha256:${image}`,
    'Writing manifest to image destination',
    'Storing signatures',
    `--> ${image.slice(0, 11)}`,
    `Successfully tagged ${tag}`,
    image,
  )
  const push = ['Getting image source signatures']
  for (let b = 0; b < 4; b++) push.push(`Copying blob sha256:${sha(`${tag}/blob/${b}`)}`)
  push.push(`Copying config sha256:${image}`, 'Writing manifest to image destination', 'Storing signatures')
  return {build, exitCode: 0, push}
}

const envOf = (ctx: ContainerContext, name: string) => ctx.env(name) ?? ''

/** Default scripted image-build: buildah-like output, then the digest file. */
export function scriptedImageBuild(opts: ScriptedBuildOptions = {}): ContainerProcess {
  return {
    match: {namespace: MCO_NS, podName: /^build-/, container: 'image-build'},
    async run(ctx) {
      const tag = envOf(ctx, 'TAG')
      const vol = (name: string) => (ctx.pod.spec.volumes ?? []).find((v: Obj) => v.name === name)
      const cmName = (name: string) => vol(name)?.configMap?.name
      const dockerfile =
        (await ctx.client.get(R.configmaps, ctx.pod.metadata.namespace, cmName('dockerfile') ?? ''))?.data?.Dockerfile ?? ''
      const mc =
        (await ctx.client.get(R.configmaps, ctx.pod.metadata.namespace, cmName('machineconfig') ?? ''))?.data?.['machineconfig.json.gz'] ??
        ''
      const digest = scriptedDigest(tag, dockerfile, mc)
      const ctxDir = `${envOf(ctx, 'HOME')}/context`
      const {build, exitCode, push} = buildahLikeOutput(tag, dockerfile)
      const lines = [
        `+ build_context=${ctxDir}`,
        `+ mkdir -p ${ctxDir}/machineconfig`,
        `+ cp /tmp/dockerfile/Dockerfile ${ctxDir}/`,
        `+ cp /tmp/machineconfig/machineconfig.json.gz ${ctxDir}/machineconfig/`,
        `+ buildah bud --storage-driver vfs --authfile=${envOf(ctx, 'BASE_IMAGE_PULL_CREDS')} --tag ${tag} --file=${ctxDir}/Dockerfile ${ctxDir}`,
        ...build,
      ]
      // set -e: a failed buildah bud ends the script before the push, with no digest file
      if (exitCode === 0)
        lines.push(
          `+ buildah push --storage-driver vfs --authfile=${envOf(ctx, 'FINAL_IMAGE_PUSH_CREDS')} --digestfile=/tmp/done/digestfile --cert-dir /var/run/secrets/kubernetes.io/serviceaccount ${tag}`,
          ...push,
        )
      const per = (opts.buildMs ?? 300) / lines.length
      for (const l of lines) {
        if (ctx.signal.aborted) return 137
        ctx.log(l)
        await sleep(per, ctx.signal)
      }
      if (ctx.signal.aborted) return 137
      if (exitCode !== 0) return exitCode
      ctx.emptyDir('done').set('digestfile', digest)
      return 0
    },
  }
}

/** Default scripted wait-for-done: loops until the digest file exists, then creates digest-<R>. */
export function scriptedWaitForDone(opts: ScriptedBuildOptions = {}): ContainerProcess {
  return {
    match: {namespace: MCO_NS, podName: /^build-/, container: 'wait-for-done'},
    async run(ctx) {
      const done = ctx.emptyDir('done')
      while (!done.has('digestfile')) {
        if (ctx.signal.aborted) return 137
        await sleep(opts.pollMs ?? 50, ctx.signal)
      }
      const name = envOf(ctx, 'DIGEST_CONFIGMAP_NAME')
      try {
        await ctx.client.create(R.configmaps, MCO_NS, {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: {name, namespace: MCO_NS},
          data: {digest: done.get('digestfile')!},
        })
      } catch (e) {
        if (isAlreadyExists(e)) {
          ctx.log(`error: failed to create configmap: configmaps "${name}" already exists`)
          return 1
        }
        ctx.log(`error: ${(e as Error).message}`)
        return 1
      }
      ctx.log(`configmap/${name} created`)
      return 0
    },
  }
}

/** A ContainerScript that makes image-build fail the way a bad Dockerfile does. */
export function failingImageBuild(message = 'Error: building at STEP "RUN false": while running runtime: exit status 1') {
  return {
    match: {namespace: MCO_NS, podName: /^build-/, container: 'image-build'},
    logLines: [
      '+ build_context=/home/build/context',
      '+ mkdir -p /home/build/context/machineconfig',
      '+ buildah bud --storage-driver vfs ...',
      message,
    ],
    exitCode: 1,
  }
}
