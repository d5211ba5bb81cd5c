import {expect} from 'chai'
import {request} from 'node:https'
import {startEmulator, type Emulator} from '../index.js'

const CM = '/api/v1/namespaces/default/configmaps'

/** POSTs `size` bytes, written in 64 KiB pieces as a client streams them; resolves with the status and body. */
function upload(em: Emulator, size: number, withLength: boolean): Promise<{status: number; body: string}> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${em.tokens.admin}`,
      'Content-Type': 'application/json',
      Accept: 'application/json',
    }
    if (withLength) headers['Content-Length'] = String(size)
    const req = request(`${em.url}${CM}`, {method: 'POST', headers, ca: em.caPem}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8')}))
      res.on('error', reject)
    })
    req.on('error', reject)
    const piece = Buffer.alloc(64 * 1024, 'x')
    let sent = 0
    const write = () => {
      while (sent < size) {
        const n = Math.min(piece.length, size - sent)
        sent += n
        if (!req.write(n === piece.length ? piece : piece.subarray(0, n))) {
          req.once('drain', write)
          return
        }
      }
      req.end()
    }
    write()
  })
}

describe('emulator: request bodies over 3 MiB', function () {
  this.timeout(120_000)
  let em: Emulator
  before(async () => {
    em = await startEmulator({objects: []})
  })
  after(async () => {
    await em.close()
  })

  it('answers 413 after reading the body, so the client always gets it (20 times, with and without Content-Length)', async () => {
    const want = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Request entity too large: limit is 3145728',
      reason: 'RequestEntityTooLarge',
      code: 413,
    }
    for (let i = 0; i < 20; i++) {
      const r = await upload(em, 4 * 1024 * 1024, i % 2 === 0)
      expect(r.status, `try ${i + 1}`).to.equal(413)
      expect(JSON.parse(r.body), `try ${i + 1}`).to.deep.equal(want)
    }
  })
})
