/**
 * Kubeconfig loading with kubectl's rules, handed to @kubernetes/client-node for auth and TLS.
 *
 * client-node's own `loadFromDefault` differs from kubectl in ways an `oc` plugin cannot afford
 * (later files' current-context wins, duplicate names throw, a missing file in $KUBECONFIG throws,
 * no kubeconfig silently means http://localhost:8080). So the files are merged here the way kubectl
 * merges them, then loaded into a KubeConfig, which does the credential work (token, token file,
 * client certificates, exec plugins, CA data, insecure-skip-tls-verify).
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
// js-yaml, as client-node (loaded anyway) uses it: the `yaml` package would be loaded on every run for this alone.
import {load as parseYaml} from 'js-yaml'
import {KubeConfig} from '@kubernetes/client-node/dist/config.js'
import {ExitCode, MobError} from '../errors.js'

export interface KubeconfigFlags {
  kubeconfig?: string
  context?: string
}

export interface LoadedKubeconfig {
  kc: KubeConfig
  /** The files that were read, in precedence order (empty for in-cluster config). */
  files: string[]
  context: string
  server: string
  /** The default namespace of the context, if it names one. */
  namespace?: string
}

interface Named {
  name: string
  [k: string]: unknown
}

interface RawConfig {
  clusters?: Named[]
  users?: Named[]
  contexts?: Named[]
  'current-context'?: string
  [k: string]: unknown
}

const FILE_FIELDS: Record<'cluster' | 'user', string[]> = {
  cluster: ['certificate-authority'],
  user: ['client-certificate', 'client-key', 'tokenFile'],
}

/** kubectl resolves relative paths in a kubeconfig against the directory of the file they are in. */
function resolvePaths(raw: RawConfig, dir: string): void {
  for (const c of raw.clusters ?? []) {
    const cluster = c.cluster as Record<string, unknown> | undefined
    if (!cluster) continue
    for (const f of FILE_FIELDS.cluster) {
      const v = cluster[f]
      if (typeof v === 'string' && v && !path.isAbsolute(v)) cluster[f] = path.resolve(dir, v)
    }
  }

  for (const u of raw.users ?? []) {
    const user = u.user as Record<string, unknown> | undefined
    if (!user) continue
    for (const f of FILE_FIELDS.user) {
      const v = user[f]
      if (typeof v === 'string' && v && !path.isAbsolute(v)) user[f] = path.resolve(dir, v)
    }

    const exec = user.exec as Record<string, unknown> | undefined
    if (exec && typeof exec.command === 'string' && exec.command.includes('/') && !path.isAbsolute(exec.command)) {
      exec.command = path.resolve(dir, exec.command)
    }
  }
}

function readKubeconfigFile(file: string): RawConfig {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (error) {
    throw new MobError(`cannot read kubeconfig ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
      cause: error,
      exitCode: ExitCode.Config,
      next: 'check the --kubeconfig path or the KUBECONFIG variable, or run `oc login`',
    })
  }

  let raw: unknown
  try {
    // Merge keys (<<) are read as kubectl reads them (js-yaml's default schema has them); a key given twice is refused.
    raw = parseYaml(text)
  } catch (error) {
    throw new MobError(`kubeconfig ${file} is not valid YAML: ${(error as Error).message.split('\n')[0]}`, {
      cause: error,
      exitCode: ExitCode.Config,
      next: 'fix the file, or point --kubeconfig at another one',
    })
  }

  if (raw === null || raw === undefined) return {}
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new MobError(`kubeconfig ${file} is not a kubeconfig (expected a mapping)`, {
      exitCode: ExitCode.Config,
      next: 'point --kubeconfig at a kubeconfig file',
    })
  }

  const cfg = raw as RawConfig
  resolvePaths(cfg, path.dirname(path.resolve(file)))
  return cfg
}

/**
 * Merge kubeconfig files as kubectl does: for clusters, users and contexts the first file to define a
 * name wins; the first file that sets current-context wins.
 */
export function mergeKubeconfigs(configs: RawConfig[]): RawConfig {
  const merged: Required<Pick<RawConfig, 'clusters' | 'contexts' | 'users'>> & RawConfig = {
    apiVersion: 'v1',
    clusters: [],
    contexts: [],
    kind: 'Config',
    users: [],
  }
  const seen = {clusters: new Set<string>(), contexts: new Set<string>(), users: new Set<string>()}
  for (const cfg of configs) {
    for (const key of ['clusters', 'contexts', 'users'] as const) {
      for (const item of cfg[key] ?? []) {
        if (!item || typeof item.name !== 'string' || seen[key].has(item.name)) continue
        seen[key].add(item.name)
        merged[key].push(item)
      }
    }

    if (!merged['current-context'] && cfg['current-context']) merged['current-context'] = cfg['current-context']
  }

  return merged
}

/** Which files kubectl would read, in order. */
export function kubeconfigFiles(flags: KubeconfigFlags, env: NodeJS.ProcessEnv = process.env): {explicit: boolean; files: string[]} {
  if (flags.kubeconfig) return {explicit: true, files: [flags.kubeconfig]}
  const fromEnv = env.KUBECONFIG
  if (fromEnv !== undefined && fromEnv !== '') {
    const files = fromEnv.split(path.delimiter).filter(Boolean)
    // kubectl silently skips files in $KUBECONFIG that do not exist.
    return {explicit: false, files: files.filter((f) => fs.existsSync(f))}
  }

  const home = env.HOME ?? os.homedir()
  const def = path.join(home, '.kube', 'config')
  return {explicit: false, files: fs.existsSync(def) ? [def] : []}
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount'

function noCluster(why: string): MobError {
  return new MobError(`no cluster configured: ${why}`, {
    code: 'NoCluster',
    exitCode: ExitCode.Config,
    next: 'run `oc login` (or `kubectl config use-context NAME`), or pass --kubeconfig FILE',
  })
}

export function loadKubeconfig(flags: KubeconfigFlags, env: NodeJS.ProcessEnv = process.env): LoadedKubeconfig {
  const {explicit, files} = kubeconfigFiles(flags, env)
  const kc = new KubeConfig()

  if (files.length === 0) {
    if (!explicit && env.KUBERNETES_SERVICE_HOST && fs.existsSync(path.join(SA_DIR, 'token'))) {
      kc.loadFromCluster()
      const cluster = kc.getCurrentCluster()!
      return {context: kc.getCurrentContext(), files: [], kc, namespace: readNamespaceFile(), server: cluster.server}
    }

    const where = env.KUBECONFIG
      ? `none of the files in KUBECONFIG exist (${env.KUBECONFIG})`
      : 'no kubeconfig found (~/.kube/config does not exist and KUBECONFIG is not set)'
    throw noCluster(where)
  }

  const merged = mergeKubeconfigs(files.map((f) => readKubeconfigFile(f)))
  try {
    kc.loadFromString(JSON.stringify(merged))
  } catch (error) {
    throw new MobError(`kubeconfig ${files.join(path.delimiter)} could not be loaded: ${(error as Error).message}`, {
      cause: error,
      exitCode: ExitCode.Config,
      next: 'check the file with `oc config view`',
    })
  }

  if (flags.context) {
    if (!kc.getContextObject(flags.context)) {
      const names = kc.getContexts().map((c) => c.name)
      throw new MobError(`context "${flags.context}" not found in kubeconfig`, {
        code: 'ContextNotFound',
        exitCode: ExitCode.Config,
        next: names.length > 0 ? `use one of: ${names.join(', ')}` : 'run `oc login` to create one',
      })
    }

    kc.setCurrentContext(flags.context)
  }

  const context = kc.getCurrentContext()
  if (!context) throw noCluster(`the kubeconfig (${files.join(path.delimiter)}) has no current context`)
  const ctx = kc.getContextObject(context)
  if (!ctx) {
    throw new MobError(`current context "${context}" is not defined in the kubeconfig`, {
      code: 'ContextNotFound',
      exitCode: ExitCode.Config,
      next: 'run `oc config use-context NAME` with an existing context, or pass --context',
    })
  }

  const cluster = kc.getCurrentCluster()
  if (!cluster?.server) {
    throw new MobError(`context "${context}" refers to cluster "${ctx.cluster}", which is not defined or has no server`, {
      exitCode: ExitCode.Config,
      next: 'run `oc login SERVER` to recreate it',
    })
  }

  if (ctx.user && !kc.getUser(ctx.user)) {
    throw new MobError(`context "${context}" refers to user "${ctx.user}", which is not defined in the kubeconfig`, {
      exitCode: ExitCode.Config,
      next: 'run `oc login` to recreate the credentials',
    })
  }

  return {context, files, kc, namespace: ctx.namespace, server: cluster.server}
}

function readNamespaceFile(): string | undefined {
  try {
    return fs.readFileSync(path.join(SA_DIR, 'namespace'), 'utf8').trim()
  } catch {
    return undefined
  }
}
