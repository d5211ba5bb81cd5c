import type {KubeClient, ListOptions} from './client.js'
import type {ResourceType} from './resources.js'
import type {KubeList, KubeObject} from './types.js'

/**
 * Lists asked for once over the span of one plan: the reads a command makes before it writes anything,
 * where several steps need the same list (setup reads the pool's MachineOSConfig with its first round,
 * plans from it, then asks which pools are opted in; doctor asks the same of every pool). Without it,
 * each step is another request, and a step that waits for an earlier one another round trip.
 *
 * Not for use after a write: a list here is what the cluster held when it was first asked for.
 */
export class ReadCache {
  private readonly lists = new Map<string, Promise<KubeList<KubeObject>>>()

  constructor(readonly client: KubeClient) {}

  list<T extends KubeObject>(r: ResourceType, opts: ListOptions = {}): Promise<KubeList<T>> {
    const key = JSON.stringify([r.group, r.version, r.plural, opts.namespace ?? '', opts.labelSelector ?? '', opts.fieldSelector ?? ''])
    let listed = this.lists.get(key)
    if (!listed) {
      listed = this.client.list<KubeObject>(r, opts)
      this.lists.set(key, listed)
    }

    return listed as Promise<KubeList<T>>
  }
}
