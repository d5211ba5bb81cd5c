// A tiny certificate authority for the emulator: ECDSA P-256 keys from node:crypto and X.509 v3
// certificates encoded by hand in DER. Generating a CA plus a few leaf certificates takes milliseconds,
// and nothing is cached between runs.
import {generateKeyPairSync, randomBytes, sign, type KeyObject} from 'node:crypto'
import {isIP} from 'node:net'

// ---- minimal DER encoder ----------------------------------------------------------------------------
function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n])
  const bytes: number[] = []
  while (n > 0) {
    bytes.unshift(n & 0xff)
    n >>= 8
  }
  return Buffer.from([0x80 | bytes.length, ...bytes])
}
function tlv(tag: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), len(body.length), body])
}
const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items))
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items))
const ctx = (n: number, body: Buffer, constructed = true) => tlv((constructed ? 0xa0 : 0x80) | n, body)
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]))
const octets = (b: Buffer) => tlv(0x04, b)
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'))
function integer(b: Buffer): Buffer {
  let i = 0
  while (i < b.length - 1 && b[i] === 0 && b[i + 1] < 0x80) i++
  b = b.subarray(i)
  if (b[0] >= 0x80) b = Buffer.concat([Buffer.from([0]), b])
  return tlv(0x02, b)
}
function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number)
  const out = [parts[0] * 40 + parts[1]]
  for (const p of parts.slice(2)) {
    const stack = [p & 0x7f]
    let v = Math.floor(p / 128)
    while (v > 0) {
      stack.unshift((v & 0x7f) | 0x80)
      v = Math.floor(v / 128)
    }
    out.push(...stack)
  }
  return tlv(0x06, Buffer.from(out))
}
function bitString(b: Buffer, unusedBits = 0): Buffer {
  return tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), b]))
}
function time(d: Date): Buffer {
  const p = (n: number, w = 2) => String(n).padStart(w, '0')
  const y = d.getUTCFullYear()
  const body = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`
  // RFC 5280: UTCTime up to 2049, GeneralizedTime from 2050 on.
  return y < 2050 ? tlv(0x17, Buffer.from(p(y % 100) + body)) : tlv(0x18, Buffer.from(p(y, 4) + body))
}

const OID = {
  ecPublicKey: '1.2.840.10045.2.1',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
}

function name(cn: string, orgs: string[] = []): Buffer {
  const rdns = orgs.map((o) => set(seq(oid(OID.organization), utf8(o))))
  rdns.push(set(seq(oid(OID.commonName), utf8(cn))))
  return seq(...rdns)
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value))
}

// keyUsage bits: digitalSignature(0) keyEncipherment(2) keyCertSign(5) cRLSign(6), as a DER BIT STRING.
function keyUsage(bits: number[]): Buffer {
  let v = 0
  for (const b of bits) v |= 0x80 >> b
  const hi = v & 0xff
  let unused = 0
  while (unused < 8 && !(hi & (1 << unused))) unused++
  return bitString(Buffer.from([hi]), unused)
}

export interface KeyPair {
  /** PEM "CERTIFICATE" */
  certPem: string
  /** PEM PKCS#8 "PRIVATE KEY" */
  keyPem: string
  key: KeyObject
  /** DER SubjectKeyIdentifier, used to link leaves to their CA */
  keyId: Buffer
  subject: Buffer
}

export interface CertOptions {
  commonName: string
  organizations?: string[]
  dnsNames?: string[]
  ipAddresses?: string[]
  usage: 'server' | 'client' | 'server+client'
  validDays?: number
}

function pem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/.{1,64}/g, '$&\n')
  return `-----BEGIN ${label}-----\n${b64}-----END ${label}-----\n`
}

function newKey(): {key: KeyObject; spki: Buffer; keyPem: string; keyId: Buffer} {
  const {privateKey, publicKey} = generateKeyPairSync('ec', {namedCurve: 'prime256v1'})
  const spki = publicKey.export({type: 'spki', format: 'der'})
  const keyPem = privateKey.export({type: 'pkcs8', format: 'pem'}).toString()
  // SubjectKeyIdentifier: a hash of the key is conventional; any unique value is valid.
  const keyId = Buffer.from(spki.subarray(spki.length - 20))
  return {key: privateKey, spki, keyPem, keyId}
}

function certificate(opts: {
  subject: Buffer
  issuer: Buffer
  spki: Buffer
  signer: KeyObject
  extensions: Buffer[]
  validDays: number
}): Buffer {
  const sigAlg = seq(oid(OID.ecdsaWithSHA256))
  const serial = randomBytes(16)
  serial[0] &= 0x7f
  const notBefore = new Date(Date.now() - 60 * 60 * 1000)
  const notAfter = new Date(Date.now() + opts.validDays * 24 * 60 * 60 * 1000)
  const tbs = seq(
    ctx(0, integer(Buffer.from([2]))),
    integer(serial),
    sigAlg,
    opts.issuer,
    seq(time(notBefore), time(notAfter)),
    opts.subject,
    opts.spki,
    ctx(3, seq(...opts.extensions)),
  )
  const signature = sign('sha256', tbs, opts.signer)
  return seq(tbs, sigAlg, bitString(signature))
}

/** A self-signed CA certificate. */
export function createCA(commonName = 'oc-mob-emulator-ca', validDays = 365): KeyPair {
  const k = newKey()
  const subject = name(commonName)
  const der = certificate({
    subject,
    issuer: subject,
    spki: k.spki,
    signer: k.key,
    validDays,
    extensions: [
      extension(OID.basicConstraints, true, seq(bool(true))),
      extension(OID.keyUsage, true, keyUsage([0, 5, 6])),
      extension(OID.subjectKeyId, false, octets(k.keyId)),
    ],
  })
  return {certPem: pem('CERTIFICATE', der), keyPem: k.keyPem, key: k.key, keyId: k.keyId, subject}
}

/** A leaf certificate signed by `ca`. */
export function issueCert(ca: KeyPair, opts: CertOptions): KeyPair {
  const k = newKey()
  const subject = name(opts.commonName, opts.organizations)
  const sans: Buffer[] = []
  for (const d of opts.dnsNames ?? []) sans.push(tlv(0x82, Buffer.from(d)))
  for (const ip of opts.ipAddresses ?? []) {
    if (isIP(ip) === 4) sans.push(tlv(0x87, Buffer.from(ip.split('.').map(Number))))
    else if (isIP(ip) === 6) sans.push(tlv(0x87, ipv6Bytes(ip)))
  }
  const usages = opts.usage === 'server' ? [OID.serverAuth] : opts.usage === 'client' ? [OID.clientAuth] : [OID.serverAuth, OID.clientAuth]
  const extensions = [
    extension(OID.basicConstraints, true, seq()),
    extension(OID.keyUsage, true, keyUsage([0, 2])),
    extension(OID.extKeyUsage, false, seq(...usages.map(oid))),
    extension(OID.subjectKeyId, false, octets(k.keyId)),
    extension(OID.authorityKeyId, false, seq(ctx(0, ca.keyId, false))),
  ]
  if (sans.length > 0) extensions.push(extension(OID.subjectAltName, false, seq(...sans)))
  const der = certificate({subject, issuer: ca.subject, spki: k.spki, signer: ca.key, validDays: opts.validDays ?? 365, extensions})
  return {certPem: pem('CERTIFICATE', der), keyPem: k.keyPem, key: k.key, keyId: k.keyId, subject}
}

function ipv6Bytes(ip: string): Buffer {
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined]
  const h = head ? head.split(':') : []
  const t = tail ? tail.split(':') : []
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t]
  const out = Buffer.alloc(16)
  for (const [i, g] of groups.entries()) out.writeUInt16BE(parseInt(g || '0', 16), i * 2)
  return out
}

export interface Pki {
  ca: KeyPair
  server: KeyPair
  /** issue a client certificate for `user` in `groups` */
  client(user: string, groups?: string[]): KeyPair
}

/** A CA, a serving certificate for 127.0.0.1/localhost, and a factory for client certificates. */
export function createPki(hosts: string[] = ['127.0.0.1', 'localhost', '::1']): Pki {
  const ca = createCA()
  const server = issueCert(ca, {
    commonName: 'kube-apiserver',
    dnsNames: hosts.filter((h) => !isIP(h)).concat(['kubernetes', 'kubernetes.default', 'kubernetes.default.svc']),
    ipAddresses: hosts.filter((h) => isIP(h)),
    usage: 'server',
  })
  return {
    ca,
    server,
    client: (user, groups = []) => issueCert(ca, {commonName: user, organizations: groups, usage: 'client'}),
  }
}
