/**
 * A TLS connection to the API server opened while the CLI is still loading, handed to the client
 * that would have opened the same one.
 *
 * bin/run.cjs resolves the kubeconfig as the client will and opens the connection before it loads
 * the bundle (src/boot/early-connect.ts), so that the TCP and TLS handshakes (two round trips over a
 * real network) go on while the CLI initialises rather than after it. The client adopts it only if
 * it would have opened exactly this one: the same server and the same TLS material, byte for byte
 * (CA, client certificate and key, server name, whether the certificate is verified). Otherwise the
 * early connection is closed and the client opens its own. No request is sent on it before then.
 */
import type tls from 'node:tls'

export interface TlsMaterial {
  /** the server's origin (https://host:port) */
  origin: string
  ca?: Buffer | string
  cert?: Buffer | string
  key?: Buffer | string
  servername?: string
  rejectUnauthorized: boolean
}

export interface EarlyConnection {
  material: TlsMaterial
  /** made from `material`: the client adopting the connection uses it for its other connections too */
  secureContext: tls.SecureContext
  socket: tls.TLSSocket
  /** the TLS handshake has finished */
  secure: boolean
}

const SLOT = Symbol.for('oc-mob.early-connection')
type Slot = {[SLOT]?: EarlyConnection}

/** Leaves a connection for the client to take (the last one offered wins; an earlier one is closed). */
export function offerEarlyConnection(c: EarlyConnection): void {
  const slot = globalThis as Slot
  slot[SLOT]?.socket.destroy()
  slot[SLOT] = c
}

const sameBytes = (a: Buffer | string | undefined, b: Buffer | string | undefined): boolean =>
  a === undefined || b === undefined ? a === b : Buffer.from(a).equals(Buffer.from(b))

/** Whether a connection made with `a` is the one the client would make with `b`. */
export function sameMaterial(a: TlsMaterial, b: TlsMaterial): boolean {
  return (
    a.origin === b.origin &&
    a.rejectUnauthorized === b.rejectUnauthorized &&
    a.servername === b.servername &&
    sameBytes(a.ca, b.ca) &&
    sameBytes(a.cert, b.cert) &&
    sameBytes(a.key, b.key)
  )
}

/**
 * The early connection, when one was opened with exactly this material and is still open. It is
 * taken: a second client opens its own. One opened with other material is closed, as is one asked
 * for with `material` undefined (the client does not speak HTTP/2 over TLS to this server).
 */
export function takeEarlyConnection(material: TlsMaterial | undefined): EarlyConnection | undefined {
  const slot = globalThis as Slot
  const c = slot[SLOT]
  if (!c) return undefined
  slot[SLOT] = undefined
  if (material && !c.socket.destroyed && sameMaterial(c.material, material)) return c
  c.socket.destroy()
  return undefined
}
