import {expect} from 'chai'
import {Readable} from 'node:stream'
import type {Answer, KubeClient} from '../../src/lib/kube/client.js'
import {R} from '../../src/lib/kube/resources.js'
import {watchAll} from '../../src/lib/kube/watch-many.js'

/**
 * A client whose lists are empty and whose watches stay open, sending nothing, until their request is
 * aborted; it counts the requests made and those still open.
 */
function quietCluster(): {client: KubeClient; open: () => number; requests: () => number} {
  let open = 0
  let requests = 0
  const aborted = (signal: AbortSignal | undefined): unknown => signal?.reason ?? new Error('aborted')
  const list = async (_r: unknown, o: {signal?: AbortSignal} = {}) => {
    // The real client refuses a request whose signal has fired before sending it.
    if (o.signal?.aborted) throw aborted(o.signal)
    requests++
    return {items: [], metadata: {resourceVersion: '1'}}
  }
  const send = async (spec: {signal?: AbortSignal}): Promise<Answer> => {
    if (spec.signal?.aborted) throw aborted(spec.signal)
    requests++
    open++
    const body = new Readable({read() {}})
    spec.signal?.addEventListener('abort', () => {
      open--
      body.destroy(Object.assign(new Error('aborted'), {code: 'ABORT_ERR'}))
    })
    return Object.assign(body, {headers: {}, statusCode: 200})
  }
  const client = {context: 'test', list, send, server: 'https://127.0.0.1:6443'} as unknown as KubeClient
  return {client, open: () => open, requests: () => requests}
}

const SPECS = [
  {namespace: 'ns', resource: R.configMaps, source: 'digest'},
  {namespace: 'ns', resource: R.pods, source: 'pods'},
]

/** Drains the merged watch; rejects if it has not ended within `ms`. */
async function drain(stream: AsyncGenerator<unknown>, ms: number): Promise<string[]> {
  const seen: string[] = []
  let timer: NodeJS.Timeout | undefined
  const run = (async () => {
    try {
      for await (const t of stream) seen.push((t as {event: {type: string}}).event.type)
    } catch {
      // an interrupted wait ends with the signal's reason
    }
    return seen
  })()
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still watching after ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([run, late])
  } finally {
    clearTimeout(timer)
  }
}

describe('several watches as one (kube/watch-many.ts)', () => {
  it('a signal that fired before the first event was asked for: no request is made and the stream ends', async () => {
    const cluster = quietCluster()
    const ac = new AbortController()
    ac.abort()
    const seen = await drain(watchAll(cluster.client, SPECS, ac.signal), 2000)
    expect(seen).to.deep.equal([])
    expect(cluster.requests()).to.equal(0)
    expect(cluster.open()).to.equal(0)
  })

  it('a signal that fires while watching: every watch is closed and the stream ends', async () => {
    const cluster = quietCluster()
    const ac = new AbortController()
    const stream = watchAll(cluster.client, SPECS, ac.signal)
    const listed = [await stream.next(), await stream.next()].map((r) => `${r.value?.source} ${r.value?.event.type}`)
    expect(listed).to.have.members(['digest SYNCED', 'pods SYNCED'])
    // Both watches are open, sending nothing.
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(cluster.open()).to.equal(2)
    ac.abort()
    expect(await drain(stream, 2000)).to.deep.equal([])
    expect(cluster.open()).to.equal(0)
  })
})
