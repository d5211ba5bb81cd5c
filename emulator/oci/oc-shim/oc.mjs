#!/usr/bin/env node
// `oc` stand-in for containers run by the oc-mob cluster emulator's host
// runner (the MCO build pod's wait-for-done container runs it). It implements
// only
//
//   oc create configmap NAME [--namespace NS | -n NS]
//       [--from-file=[KEY=]PATH ...] [--from-literal=KEY=VALUE ...]
//
// and talks to the API server the in-cluster way: KUBERNETES_SERVICE_HOST /
// KUBERNETES_SERVICE_PORT, the service account token and ca.crt under
// /var/run/secrets/kubernetes.io/serviceaccount (OC_SHIM_SERVICEACCOUNT_DIR
// overrides the dir, for tests). Output and errors are worded like oc's.
import {readFileSync} from 'node:fs'
import https from 'node:https'
import path from 'node:path'

const SA_DIR = process.env.OC_SHIM_SERVICEACCOUNT_DIR || '/var/run/secrets/kubernetes.io/serviceaccount'

function fail(message, code = 1) {
  process.stderr.write(`error: ${message}\n`)
  process.exit(code)
}

const USAGE = 'Usage:\n  oc create configmap NAME [--from-file=[key=]source] [--from-literal=key1=value1] [options]'

function parseArgs(argv) {
  const positional = []
  const opts = {namespace: undefined, fromFile: [], fromLiteral: []}
  const takeValue = (name, inline, i) => {
    if (inline !== undefined) return [inline, i]
    if (i + 1 >= argv.length) fail(`flag needs an argument: --${name}`)
    return [argv[i + 1], i + 1]
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    let m
    if ((m = /^--(namespace|from-file|from-literal)(?:=(.*))?$/s.exec(arg))) {
      let value
      ;[value, i] = takeValue(m[1], m[2], i)
      if (m[1] === 'namespace') opts.namespace = value
      else if (m[1] === 'from-file') opts.fromFile.push(value)
      else opts.fromLiteral.push(value)
    } else if ((m = /^-n(?:=?(.+))?$/s.exec(arg))) {
      let value
      ;[value, i] = takeValue('namespace', m[1], i)
      opts.namespace = value
    } else if (arg === '--') {
      positional.push(...argv.slice(i + 1))
      break
    } else if (arg.startsWith('-')) {
      fail(`unknown flag: ${arg.split('=')[0]}\nSee 'oc create configmap -h' for help and examples`)
    } else {
      positional.push(arg)
    }
  }
  return {positional, opts}
}

const KEY_RE = /^[-._a-zA-Z0-9]+$/

function validKey(key) {
  return key.length <= 253 && KEY_RE.test(key) && key !== '.' && key !== '..'
}

function buildData(opts) {
  const data = {}
  const binaryData = {}
  const add = (key, value, source) => {
    if (!validKey(key))
      fail(
        `"${key}" is not a valid key name for a ConfigMap: a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
      )
    if (key in data || key in binaryData)
      fail(`cannot add key "${key}", another key by that name already exists in Data for ConfigMap "${source}"`)
    if (Buffer.isBuffer(value)) {
      const text = value.toString('utf8')
      if (Buffer.from(text, 'utf8').equals(value)) data[key] = text
      else binaryData[key] = value.toString('base64')
    } else {
      data[key] = value
    }
  }
  for (const spec of opts.fromFile) {
    const eq = spec.indexOf('=')
    const key = eq >= 0 ? spec.slice(0, eq) : path.basename(spec)
    const file = eq >= 0 ? spec.slice(eq + 1) : spec
    if (eq === 0 || !file) fail(`key names or file paths cannot contain '='`)
    let content
    try {
      content = readFileSync(file)
    } catch (error) {
      if (error.code === 'EISDIR') fail(`directories are not supported by this oc stand-in: ${file}`)
      fail(`error reading ${file}: no such file or directory`)
    }
    add(key, content, opts.name)
  }
  for (const spec of opts.fromLiteral) {
    const eq = spec.indexOf('=')
    if (eq <= 0) fail(`invalid literal source ${spec}, expected key=value`)
    add(spec.slice(0, eq), spec.slice(eq + 1), opts.name)
  }
  return {data, binaryData}
}

function readServiceAccount(file) {
  try {
    return readFileSync(path.join(SA_DIR, file), 'utf8')
  } catch {
    return undefined
  }
}

function request(method, urlPath, body) {
  const host = process.env.KUBERNETES_SERVICE_HOST
  const port = process.env.KUBERNETES_SERVICE_PORT || '443'
  if (!host) {
    fail('unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined')
  }
  const token = readServiceAccount('token')
  const ca = readServiceAccount('ca.crt')
  if (token === undefined) fail(`open ${SA_DIR}/token: no such file or directory`)
  const hostPart = host.includes(':') ? `[${host}]` : host
  const url = `https://${hostPart}:${port}${urlPath}`
  const payload = Buffer.from(JSON.stringify(body))
  return new Promise((resolve) => {
    const req = https.request(
      url,
      {
        method,
        ca: ca === undefined ? undefined : [ca],
        headers: {
          authorization: `Bearer ${token.trim()}`,
          'content-type': 'application/json',
          accept: 'application/json',
          'content-length': payload.length,
          'user-agent': 'oc/4.14.0 (linux/amd64) kubernetes/oc-mob-shim',
        },
        timeout: 30_000,
      },
      (res) => {
        const chunks = []
        res.on('data', (c) => chunks.push(c))
        res.on('end', () => resolve({status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8')}))
        res.on('error', (e) => resolve({error: e, url}))
      },
    )
    req.on('timeout', () => req.destroy(new Error('net/http: request canceled (Client.Timeout exceeded while awaiting headers)')))
    req.on('error', (error) => resolve({error, url}))
    req.end(payload)
  })
}

async function createConfigMap(args) {
  const {positional, opts} = parseArgs(args)
  if (positional.length === 0) fail(`exactly one NAME is required, got 0\nSee 'oc create configmap -h' for help and examples`)
  if (positional.length > 1)
    fail(`exactly one NAME is required, got ${positional.length}\nSee 'oc create configmap -h' for help and examples`)
  const name = positional[0]
  opts.name = name
  const namespace = opts.namespace || readServiceAccount('namespace')?.trim() || 'default'
  const {data, binaryData} = buildData(opts)
  const body = {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name, namespace}, data}
  if (Object.keys(binaryData).length > 0) body.binaryData = binaryData
  const query = '?fieldManager=kubectl-create&fieldValidation=Strict'
  const res = await request('POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps${query}`, body)
  if (res.error) {
    const cause = res.error.code === 'ECONNREFUSED' ? `dial tcp ${new URL(res.url).host}: connect: connection refused` : res.error.message
    fail(`failed to create configmap: Post "${res.url}": ${cause}`)
  }
  if (res.status === 201 || res.status === 200) {
    process.stdout.write(`configmap/${name} created\n`)
    return
  }
  let message
  try {
    const status = JSON.parse(res.body)
    message = status.message
  } catch {}
  if (!message)
    message =
      res.status === 401 ? 'Unauthorized' : `the server responded with status ${res.status}${res.body ? `: ${res.body.trim()}` : ''}`
  fail(`failed to create configmap: ${message}`)
}

async function main(argv) {
  if (argv[0] === 'create' && argv[1] === 'configmap') return createConfigMap(argv.slice(2))
  if (argv[0] === 'create' && argv[1] === 'cm') return createConfigMap(argv.slice(2))
  if (argv.length === 0 || argv[0] === 'help' || argv[0] === '-h' || argv[0] === '--help') {
    process.stdout.write(`oc stand-in of the oc-mob cluster emulator\n\n${USAGE}\n`)
    return
  }
  fail(`this oc stand-in only implements "oc create configmap" (got: oc ${argv.join(' ')})`)
}

await main(process.argv.slice(2))
