// Reads the file system of an image straight from the registry: fetches the
// layers, un-gzips them and applies them in order (with OCI whiteouts), so
// tests can look at what a build produced without buildah or skopeo.
import {gunzipSync} from 'node:zlib'
import {getBlob, getManifest, type Registry} from './registry.js'

export type ImageEntry =
  | {type: 'file'; mode: number; uid: number; gid: number; content: Buffer}
  | {type: 'dir'; mode: number; uid: number; gid: number}
  | {type: 'symlink'; mode: number; uid: number; gid: number; target: string}
  | {type: 'hardlink'; mode: number; uid: number; gid: number; target: string}
  | {type: 'other'; mode: number; uid: number; gid: number; typeflag: string}

interface TarEntry {
  path: string
  typeflag: string
  mode: number
  uid: number
  gid: number
  linkname: string
  content: Buffer
}

function cstring(buf: Buffer, start: number, len: number): string {
  const raw = buf.subarray(start, start + len)
  const nul = raw.indexOf(0)
  return raw.subarray(0, nul < 0 ? raw.length : nul).toString('utf8')
}

function octal(buf: Buffer, start: number, len: number): number {
  const raw = buf.subarray(start, start + len)
  if (raw[0] & 0x80) {
    // base-256 (GNU) for large values
    let v = 0
    for (let i = 1; i < raw.length; i++) v = v * 256 + raw[i]
    return v
  }
  const s = cstring(buf, start, len).trim()
  return s ? Number.parseInt(s, 8) : 0
}

function paxRecords(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {}
  let pos = 0
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos)
    if (space < 0) break
    const len = Number.parseInt(data.subarray(pos, space).toString('ascii'), 10)
    if (!len) break
    const record = data.subarray(space + 1, pos + len - 1).toString('utf8')
    const eq = record.indexOf('=')
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1)
    pos += len
  }
  return out
}

/** Parses an (uncompressed) tar archive: ustar, GNU long names and PAX headers. */
function parseTar(tar: Buffer): TarEntry[] {
  const entries: TarEntry[] = []
  let pos = 0
  let longName: string | undefined
  let longLink: string | undefined
  let pax: Record<string, string> = {}
  while (pos + 512 <= tar.length) {
    const header = tar.subarray(pos, pos + 512)
    if (header.every((b) => b === 0)) break
    const size = octal(header, 124, 12)
    const typeflag = String.fromCharCode(header[156] || 0x30)
    const data = tar.subarray(pos + 512, pos + 512 + size)
    pos += 512 + Math.ceil(size / 512) * 512
    if (typeflag === 'L') {
      longName = cstring(data, 0, data.length)
      continue
    }
    if (typeflag === 'K') {
      longLink = cstring(data, 0, data.length)
      continue
    }
    if (typeflag === 'x') {
      pax = {...pax, ...paxRecords(data)}
      continue
    }
    if (typeflag === 'g') continue
    const prefix = header.subarray(257, 263).toString('ascii').startsWith('ustar') ? cstring(header, 345, 155) : ''
    let name = pax.path ?? longName ?? (prefix ? `${prefix}/${cstring(header, 0, 100)}` : cstring(header, 0, 100))
    const linkname = pax.linkpath ?? longLink ?? cstring(header, 157, 100)
    name = name
      .replace(/^(\.\/)+/, '')
      .replace(/^\/+/, '')
      .replace(/\/+$/, '')
    entries.push({
      path: '/' + name,
      typeflag,
      mode: octal(header, 100, 8) & 0o7777,
      uid: pax.uid ? Number(pax.uid) : octal(header, 108, 8),
      gid: pax.gid ? Number(pax.gid) : octal(header, 116, 8),
      linkname,
      content: Buffer.from(data),
    })
    longName = longLink = undefined
    pax = {}
  }
  return entries
}

/** Applies tar entries of one layer on top of `fs` (OCI whiteouts included). */
function applyLayer(fs: Map<string, ImageEntry>, entries: TarEntry[]): void {
  for (const e of entries) {
    const base = e.path.slice(e.path.lastIndexOf('/') + 1)
    const dir = e.path.slice(0, e.path.lastIndexOf('/')) || '/'
    if (base === '.wh..wh..opq') {
      for (const p of [...fs.keys()]) if (p.startsWith(dir === '/' ? '/' : dir + '/') && p !== dir) fs.delete(p)
      continue
    }
    if (base.startsWith('.wh.')) {
      const victim = (dir === '/' ? '' : dir) + '/' + base.slice(4)
      for (const p of [...fs.keys()]) if (p === victim || p.startsWith(victim + '/')) fs.delete(p)
      continue
    }
    const meta = {mode: e.mode, uid: e.uid, gid: e.gid}
    if (e.path === '/') continue
    switch (e.typeflag) {
      case '0':
      case '\0':
      case '7':
        fs.set(e.path, {type: 'file', ...meta, content: e.content})
        break
      case '5':
        fs.set(e.path, {type: 'dir', ...meta})
        break
      case '2':
        fs.set(e.path, {type: 'symlink', ...meta, target: e.linkname})
        break
      case '1': {
        const target = '/' + e.linkname.replace(/^(\.\/)+/, '').replace(/^\/+/, '')
        const original = fs.get(target)
        fs.set(e.path, original?.type === 'file' ? {...original} : {type: 'hardlink', ...meta, target})
        break
      }
      default:
        fs.set(e.path, {type: 'other', ...meta, typeflag: e.typeflag})
    }
  }
}

/** The merged file system of `repo:reference` in `registry`, keyed by absolute path. */
export async function readImageFs(
  registry: Pick<Registry, 'url' | 'auth'>,
  repo: string,
  reference: string,
): Promise<Map<string, ImageEntry>> {
  const {manifest} = await getManifest(registry, repo, reference)
  const fs = new Map<string, ImageEntry>()
  for (const layer of manifest.layers) {
    let blob = await getBlob(registry, repo, layer.digest)
    if (layer.mediaType.endsWith('gzip') || (blob[0] === 0x1f && blob[1] === 0x8b)) blob = gunzipSync(blob)
    else if (layer.mediaType.endsWith('zstd'))
      throw new Error(`layer ${layer.digest} is zstd-compressed, which this reader does not support`)
    applyLayer(fs, parseTar(blob))
  }
  return fs
}

/** Content of a regular file in an image file system read by readImageFs (symlinks followed). */
export function fileText(fs: Map<string, ImageEntry>, file: string, depth = 0): string | undefined {
  const e = fs.get(file)
  if (!e) return undefined
  if (e.type === 'file') return e.content.toString('utf8')
  if (e.type === 'symlink' && depth < 16) {
    const dir = file.slice(0, file.lastIndexOf('/')) || '/'
    const target = e.target.startsWith('/') ? e.target : `${dir === '/' ? '' : dir}/${e.target}`
    const parts: string[] = []
    for (const part of target.split('/')) {
      if (!part || part === '.') continue
      if (part === '..') parts.pop()
      else parts.push(part)
    }
    return fileText(fs, '/' + parts.join('/'), depth + 1)
  }
  return undefined
}
