import {expect} from 'chai'
import {Readable} from 'node:stream'
import type {Answer, KubeClient} from '../../src/lib/kube/client.js'
import {R} from '../../src/lib/kube/resources.js'
import {watchOnce} from '../../src/lib/kube/watch.js'

/** A client whose one watch answer brings an event, then fails with `error`. */
function cutAfterOneEvent(error: Error): KubeClient {
  const send = async (): Promise<Answer> => {
    const body = new Readable({read() {}})
    body.push(`${JSON.stringify({object: {metadata: {name: 'a', resourceVersion: '2'}}, type: 'ADDED'})}\n`)
    setTimeout(() => body.destroy(error), 10)
    return Object.assign(body, {headers: {}, statusCode: 200})
  }
  return {context: 'test', send, server: 'https://127.0.0.1:6443'} as unknown as KubeClient
}

describe('a watch whose connection is cut (kube/watch.ts)', () => {
  const cuts: Array<[string, string]> = [
    ['a reset (HTTP/1.1)', 'ECONNRESET'],
    ['a stream reset (HTTP/2)', 'ERR_HTTP2_STREAM_ERROR'],
    ['the HTTP/2 connection closed under it', 'ERR_HTTP2_SESSION_ERROR'],
    ['the HTTP/2 connection dropped for not answering its ping', 'ETIMEDOUT'],
  ]
  for (const [what, code] of cuts) {
    it(`ends quietly after its events on ${what}, for the informer to resume`, async () => {
      const events: string[] = []
      const client = cutAfterOneEvent(Object.assign(new Error(what), {code}))
      for await (const ev of watchOnce(client, R.configMaps, '1', {heartbeatMs: 0})) events.push(`${ev.type} ${ev.object.metadata.name}`)
      expect(events).to.deep.equal(['ADDED a'])
    })
  }

  it('throws anything else', async () => {
    const client = cutAfterOneEvent(Object.assign(new Error('bad certificate'), {code: 'CERT_HAS_EXPIRED'}))
    const run = async (): Promise<void> => {
      for await (const _ of watchOnce(client, R.configMaps, '1', {heartbeatMs: 0})) {
        // the one event
      }
    }
    const error = await run().then(
      () => undefined,
      (e: Error) => e,
    )
    expect(error?.message).to.equal('bad certificate')
  })
})
