// The Machine Config Operator's side of OS image streams (reference §12.5; 4.23/5.0, where OSImageStream
// v1 is served): the singleton `cluster` lists the streams with their base OS images and names the
// default (rhel-9 on 4.x, rhel-10 on 5.x); each pool reports the stream it is on in
// status.osImageStream.name (its spec.osImageStream.name, else the default). The default stream's image
// is the release's base OS image (machine-config-osimageurl); the other stream's is a stand-in pullspec.
import {createHash} from 'node:crypto'
import {type SimClient, Informer, type Obj, R} from './client.js'
import {type Logger, Loop} from './loop.js'
import {MCO_NS, OSIMAGEURL_CONFIG} from './names.js'
import {releaseFeatures} from '../generation.js'

const SINGLETON = 'cluster'
const STREAMS = ['rhel-9', 'rhel-10']

export class OSImageStreamController {
  private readonly pools: Informer
  private readonly streams: Informer
  private readonly loop: Loop
  private readonly defaultStream: string

  constructor(
    private readonly client: SimClient,
    private readonly log: Logger,
    opts: {retryMs?: number; resyncMs?: number; release?: string} = {},
  ) {
    const onError = (e: unknown) => log(`osimagestream: watch: ${(e as Error).message}`)
    this.defaultStream = releaseFeatures(opts.release).defaultStream
    this.pools = new Informer(client, R.pools, {onError})
    this.streams = new Informer(client, R.osimagestreams, {onError})
    this.loop = new Loop('osimagestream', () => this.pass(), {log, ...opts})
    for (const i of [this.pools, this.streams]) i.on(() => this.loop.kick())
  }

  async start(): Promise<void> {
    await Promise.all([this.pools.start(), this.streams.start()])
    this.loop.start()
  }

  async stop(): Promise<void> {
    await this.loop.stop()
    await Promise.all([this.pools.stop(), this.streams.stop()])
  }

  private async images(): Promise<Array<{name: string; osImage: string; osExtensionsImage: string}>> {
    const cm = await this.client.get(R.configmaps, MCO_NS, OSIMAGEURL_CONFIG)
    const stand = (name: string, what: string) =>
      `quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:${createHash('sha256').update(`${name}/${what}`).digest('hex')}`
    return STREAMS.map((name) => ({
      name,
      osExtensionsImage: (name === this.defaultStream && cm?.data?.baseOSExtensionsContainerImage) || stand(name, 'extensions'),
      osImage: (name === this.defaultStream && cm?.data?.baseOSContainerImage) || stand(name, 'os'),
    }))
  }

  private async pass(): Promise<void> {
    let cluster = this.streams.get(SINGLETON)
    if (!cluster) {
      cluster = await this.client.create(R.osimagestreams, undefined, {
        apiVersion: 'machineconfiguration.openshift.io/v1',
        kind: 'OSImageStream',
        metadata: {name: SINGLETON},
        spec: {},
      })
      this.log(`osimagestream: created ${SINGLETON}`)
    }

    const defaultStream = cluster!.spec?.defaultStream || this.defaultStream
    if (!cluster!.status?.availableStreams || cluster!.status.defaultStream !== defaultStream) {
      const status = {availableStreams: await this.images(), defaultStream}
      await this.client.patch(R.osimagestreams, undefined, SINGLETON, {status}, 'merge', 'status')
    }

    for (const pool of this.pools.list()) {
      const want = pool.spec?.osImageStream?.name || defaultStream
      if (!STREAMS.includes(want) || pool.status?.osImageStream?.name === want) continue
      await this.client.update(
        R.pools,
        undefined,
        pool.metadata.name,
        (p: Obj) => {
          p.status ??= {}
          if (p.status.osImageStream?.name === want) return false
          p.status.osImageStream = {name: want}
        },
        {status: true},
      )
    }
  }
}
