// Small HTTPS helpers for the emulator's own tests.
import {request} from 'node:https'
import type {IncomingMessage} from 'node:http'
import type {Emulator} from '../index.js'

export interface CallOptions {
  body?: unknown
  /** raw body text (instead of JSON) */
  raw?: string | Buffer
  token?: string | null
  headers?: Record<string, string>
  cert?: {certPem: string; keyPem: string}
  ca?: string | null
}

export interface CallResult {
  status: number
  headers: IncomingMessage['headers']
  text: string
  json: any
  /** the Warning headers of the answer, one entry each */
  warnings: string[]
}

export function call(em: Emulator, method: string, path: string, o: CallOptions = {}): Promise<CallResult> {
  const payload = o.raw !== undefined ? Buffer.from(o.raw) : o.body !== undefined ? Buffer.from(JSON.stringify(o.body)) : undefined
  const headers: Record<string, string> = {Accept: 'application/json', ...(o.headers ?? {})}
  const token = o.token === undefined ? em.tokens.admin : o.token
  if (token) headers.Authorization = `Bearer ${token}`
  if (payload) {
    headers['Content-Type'] ??= 'application/json'
    headers['Content-Length'] = String(payload.length)
  }
  return new Promise((resolve, reject) => {
    const req = request(
      `${em.url}${path}`,
      {
        method,
        headers,
        ca: o.ca === null ? undefined : (o.ca ?? em.caPem),
        rejectUnauthorized: o.ca !== null,
        cert: o.cert?.certPem,
        key: o.cert?.keyPem,
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c) => chunks.push(c))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          let json: any
          try {
            json = text ? JSON.parse(text) : undefined
          } catch {
            json = undefined
          }
          resolve({status: res.statusCode ?? 0, headers: res.headers, text, json, warnings: res.headersDistinct.warning ?? []})
        })
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(payload)
  })
}

export interface Stream {
  status: number
  headers: IncomingMessage['headers']
  /** parsed JSON lines received so far */
  events: any[]
  /** raw text received so far */
  text: string
  ended: boolean
  /** resolves once `n` events have arrived (rejects after `ms`) */
  waitFor(n: number, ms?: number): Promise<any[]>
  /** resolves when the server ends the response */
  end(ms?: number): Promise<void>
  /** resolves once the text contains `s` */
  waitForText(s: string, ms?: number): Promise<string>
  close(): void
}

/** opens a streaming GET (watch or log follow) */
export function stream(em: Emulator, path: string, o: {token?: string; headers?: Record<string, string>} = {}): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${em.url}${path}`,
      {method: 'GET', ca: em.caPem, headers: {Authorization: `Bearer ${o.token ?? em.tokens.admin}`, ...(o.headers ?? {})}},
      (res) => {
        const waiters: Array<() => void> = []
        const poke = () => {
          for (const w of [...waiters]) w()
        }
        let buf = ''
        const s: Stream = {
          status: res.statusCode ?? 0,
          headers: res.headers,
          events: [],
          text: '',
          ended: false,
          waitFor(n, ms = 3000) {
            return until(
              () => s.events.length >= n,
              ms,
              `${n} events (have ${s.events.length}: ${JSON.stringify(s.events.map((e) => e.type))})`,
            ).then(() => s.events)
          },
          end(ms = 3000) {
            return until(() => s.ended, ms, 'end of stream')
          },
          waitForText(t, ms = 3000) {
            return until(() => s.text.includes(t), ms, `text ${JSON.stringify(t)} (have ${JSON.stringify(s.text)})`).then(() => s.text)
          },
          close() {
            req.destroy()
          },
        }
        const until = (cond: () => boolean, ms: number, what: string) =>
          new Promise<void>((ok, fail) => {
            if (cond()) return ok()
            const check = () => {
              if (cond()) {
                clearTimeout(t)
                waiters.splice(waiters.indexOf(check), 1)
                ok()
              }
            }
            const t = setTimeout(() => {
              waiters.splice(waiters.indexOf(check), 1)
              fail(new Error(`timed out waiting for ${what}`))
            }, ms)
            waiters.push(check)
          })
        res.setEncoding('utf8')
        res.on('data', (c: string) => {
          s.text += c
          buf += c
          let i: number
          while ((i = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, i)
            buf = buf.slice(i + 1)
            if (line.trim()) {
              try {
                s.events.push(JSON.parse(line))
              } catch {
                // log text
              }
            }
          }
          poke()
        })
        res.on('end', () => {
          s.ended = true
          poke()
        })
        res.on('error', () => {
          s.ended = true
          poke()
        })
        resolve(s)
      },
    )
    req.on('error', reject)
    req.end()
  })
}

export const cm = (name: string, ns = 'default', data: Record<string, string> = {a: '1'}, labels?: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: {name, namespace: ns, ...(labels ? {labels} : {})},
  data,
})

export const pool = (name: string, labels?: Record<string, string>) => ({
  apiVersion: 'machineconfiguration.openshift.io/v1',
  kind: 'MachineConfigPool',
  metadata: {name, ...(labels ? {labels} : {})},
  spec: {
    machineConfigSelector: {matchLabels: {'machineconfiguration.openshift.io/role': name}},
    nodeSelector: {matchLabels: {[`node-role.kubernetes.io/${name}`]: ''}},
    paused: false,
  },
})

export const MCP = '/apis/machineconfiguration.openshift.io/v1/machineconfigpools'
