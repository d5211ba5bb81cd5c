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
import path from 'node:path'
import {KubeConfig} from '@kubernetes/client-node/dist/config.js'
import {ExitCode, MobError} from '../errors.js'
import {type KubeconfigFlags, kubeconfigFiles, mergeKubeconfigs, readKubeconfigFile} from './kubeconfig-files.js'

export interface LoadedKubeconfig {
  kc: KubeConfig
  /** The files that were read, in precedence order (empty for in-cluster config). */
  files: string[]
  context: string
  server: string
  /** The default namespace of the context, if it names one. */
  namespace?: string
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
