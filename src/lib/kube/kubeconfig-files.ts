/**
 * The kubeconfig files kubectl would read, read and merged with its rules, as plain data: no
 * client-node here, so that the early connection (src/boot/early-connect.ts) resolves the same
 * cluster as the client without loading it.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
// js-yaml, as client-node (loaded anyway) uses it: the `yaml` package would be loaded on every run for this alone.
import {load as parseYaml} from 'js-yaml'
import {ExitCode, MobError} from '../errors.js'

export interface KubeconfigFlags {
  kubeconfig?: string
  context?: string
}

export interface Named {
  name: string
  [k: string]: unknown
}

export interface RawConfig {
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

export function readKubeconfigFile(file: string): RawConfig {
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
