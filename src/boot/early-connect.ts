/**
 * Opens the connection to the API server while the CLI loads (src/lib/kube/early-connection.ts says
 * how the client adopts it, and when it does not). bin/run.cjs calls connectEarly() before it loads
 * the bundle; built separately into dist/connect.js, with js-yaml and nothing else.
 *
 * The kubeconfig is resolved as the client resolves it (the same files, merged by the same code in
 * kubeconfig-files.ts, the same context), and the TLS material read as client-node reads it. When
 * anything could make the client connect otherwise, nothing is opened here: a user whose exec plugin
 * or auth provider may supply a client certificate, a proxy, plain HTTP, HTTP/2 turned off, or
 * arguments that are not a command talking to a cluster. Any error is left for the client to meet
 * and report with its own words.
 */
import fs from 'node:fs'
import tls from 'node:tls'
import {offerEarlyConnection, type TlsMaterial} from '../lib/kube/early-connection.js'
import {connectOptions} from '../lib/kube/h2.js'
import {type KubeconfigFlags, kubeconfigFiles, mergeKubeconfigs, type Named, readKubeconfigFile} from '../lib/kube/kubeconfig-files.js'

/** Commands that never talk to a cluster. */
const OFFLINE = new Set(['autocomplete', 'help'])

/** The --kubeconfig and --context given, or undefined when these arguments should not connect early. */
export function connectFlags(args: string[]): KubeconfigFlags | undefined {
  if (args.length === 0 || args[0].startsWith('-') || OFFLINE.has(args[0])) return undefined
  // Shell completion lists names from the cluster, but contexts from the kubeconfig alone.
  if (args[0] === 'completion-names' && args[1] === 'contexts') return undefined
  const flags: KubeconfigFlags = {}
  for (let i = 0; i < args.length; i++) {
    const a = args[i]
    if (a === '--') break
    if (a === '--help' || a === '-h') return undefined
    const m = /^--(kubeconfig|context)(?:=(.*))?$/.exec(a)
    if (!m) continue
    const name = m[1] as keyof KubeconfigFlags
    const value = m[2] ?? args[++i]
    // Given twice, or without a value: oclif refuses it, nothing to connect to.
    if (value === undefined || flags[name] !== undefined) return undefined
    flags[name] = value
  }

  return flags
}

const entry = (list: Named[] | undefined, name: unknown, key: string): Record<string, unknown> | undefined => {
  const found = list?.find((x) => x.name === name)?.[key]
  return found && typeof found === 'object' ? (found as Record<string, unknown>) : undefined
}

/** As client-node's bufferFromFileOrString: the file if named, else the base64 data. */
function fileOrData(file: unknown, data: unknown): Buffer | undefined {
  if (typeof file === 'string' && file) return fs.readFileSync(file)
  if (typeof data === 'string' && data) return Buffer.from(data, 'base64')
  return undefined
}

/** The TLS material the client will connect with, or undefined when the client may connect otherwise. */
export function earlyMaterial(flags: KubeconfigFlags, env: NodeJS.ProcessEnv = process.env): TlsMaterial | undefined {
  if (env.DISABLE_HTTP2) return undefined
  const {files} = kubeconfigFiles(flags, env)
  if (files.length === 0) return undefined
  const cfg = mergeKubeconfigs(files.map((f) => readKubeconfigFile(f)))
  const context = entry(cfg.contexts, flags.context ?? cfg['current-context'], 'context')
  const cluster = entry(cfg.clusters, context?.cluster, 'cluster')
  // client-node applies no TLS material for a context without a user.
  const user = entry(cfg.users, context?.user, 'user')
  if (!cluster || !user || typeof cluster.server !== 'string' || cluster['proxy-url']) return undefined
  if (user.exec || user['auth-provider']) return undefined
  const server = new URL(cluster.server)
  if (server.protocol !== 'https:') return undefined
  const servername = cluster['tls-server-name']
  return {
    ca: fileOrData(cluster['certificate-authority'], cluster['certificate-authority-data']),
    cert: fileOrData(user['client-certificate'], user['client-certificate-data']),
    key: fileOrData(user['client-key'], user['client-key-data']),
    origin: server.origin,
    rejectUnauthorized: cluster['insecure-skip-tls-verify'] !== true,
    servername: typeof servername === 'string' && servername ? servername : undefined,
  }
}

/** Opens the connection these arguments will use, if that is clear; returns whether one was opened. Never throws. */
export function connectEarly(args: string[], env: NodeJS.ProcessEnv = process.env): boolean {
  try {
    const flags = connectFlags(args)
    const material = flags && earlyMaterial(flags, env)
    if (!material) return false
    const secureContext = tls.createSecureContext({ca: material.ca, cert: material.cert, key: material.key})
    const socket = tls.connect(connectOptions(new URL(material.origin), {...material, secureContext}))
    // A CLI that ends before it needs the connection is not kept alive by it.
    socket.unref()
    const early = {material, secure: false, secureContext, socket}
    socket.once('secureConnect', () => {
      early.secure = true
    })
    // The client opens its own and meets the error again, reported in its words.
    socket.on('error', () => socket.destroy())
    offerEarlyConnection(early)
    return true
  } catch {
    return false
  }
}
