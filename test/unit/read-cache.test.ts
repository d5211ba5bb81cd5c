import {expect} from 'chai'
import type {KubeClient, ListOptions} from '../../src/lib/kube/client.js'
import {ReadCache} from '../../src/lib/kube/read-cache.js'
import {R, type ResourceType} from '../../src/lib/kube/resources.js'

describe('ReadCache', () => {
  const counting = () => {
    const asked: string[] = []
    const client = {
      async list(r: ResourceType, opts: ListOptions = {}) {
        asked.push(`${r.plural} ${opts.namespace ?? ''} ${opts.labelSelector ?? ''}`)
        if (r.plural === 'secrets') throw new Error('forbidden')
        return {items: [{metadata: {name: `${r.plural}-${asked.length}`}}], metadata: {}}
      },
    } as unknown as KubeClient
    return {asked, reads: new ReadCache(client)}
  }

  it('asks once for the same list, however often and however concurrently it is wanted', async () => {
    const {asked, reads} = counting()
    const [a, b] = await Promise.all([reads.list(R.machineOSConfigs), reads.list(R.machineOSConfigs)])
    const c = await reads.list(R.machineOSConfigs)
    expect(asked).to.deep.equal(['machineosconfigs  '])
    expect(a).to.equal(b).and.to.equal(c)
  })

  it('keeps lists of other kinds, namespaces or selectors apart', async () => {
    const {asked, reads} = counting()
    await reads.list(R.configMaps, {namespace: 'a'})
    await reads.list(R.configMaps, {namespace: 'b'})
    await reads.list(R.configMaps, {labelSelector: 'x=y', namespace: 'a'})
    await reads.list(R.pods, {namespace: 'a'})
    expect(asked).to.have.length(4)
  })

  it('gives every caller the same failure', async () => {
    const {asked, reads} = counting()
    for (let i = 0; i < 2; i++) {
      const error = await reads.list(R.secrets).then(
        () => undefined,
        (e: Error) => e,
      )
      expect(error?.message).to.equal('forbidden')
    }

    expect(asked).to.have.length(1)
  })
})
