import {expect} from 'chai'
import {spawn} from 'node:child_process'
import type {Emulator} from '../../emulator/index.js'
import {basicCluster, cliPath, MCO_NS, node, pool, ROOT, run, STATUS_JSON_KEYS, startEmulator} from './harness.js'

const NS = MCO_NS
const A = 'machineconfiguration.openshift.io/'
const R = (p: string, h = '0123456789abcdef0123456789abcdef'): string => `rendered-${p}-${h}`
const IMG = (c: string): string => `quay.io/org/os@sha256:${c.repeat(64)}`
const T = '2026-11-20T10:00:00Z'

const labels = (p: string, r = R(p)) => ({[`${A}buildPod`]: '', [`${A}desiredConfig`]: r, [`${A}targetMachineConfigPool`]: p})
const podOf = (p: string, phase: string, imageBuild: Record<string, unknown>) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {annotations: {[`${A}pool`]: ''}, creationTimestamp: T, labels: labels(p), name: `build-${R(p)}`, namespace: NS},
  spec: {
    containers: [
      {image: 'quay.io/buildah/stable:latest', name: 'image-build'},
      {image: 'rhcos', name: 'wait-for-done'},
    ],
    restartPolicy: 'Never',
  },
  status: {
    containerStatuses: [
      {name: 'image-build', state: imageBuild},
      {name: 'wait-for-done', state: phase === 'Pending' ? {waiting: {reason: 'ContainerCreating'}} : {running: {}}},
    ],
    phase,
  },
})
const layered = (
  name: string,
  conditions: Array<[string, string, string?, string?]>,
  image?: string,
  extra: Partial<{degraded: number}> = {},
) => {
  const p = pool(name, {conditions: conditions.map(([t, s, r, m]) => [t, s, r, m]), counts: [2, 1], image, layered: true}) as ReturnType<
    typeof pool
  > & {status: {degradedMachineCount: number}}
  p.status.degradedMachineCount = extra.degraded ?? 0
  return p
}

const history = {
  otherconfig: [
    {
      customDockerfileHash: '',
      image: IMG('5'),
      renderedConfig: R('otherconfig', 'fedcba9876543210fedcba9876543210'),
      source: 'built',
      time: '2026-11-19T10:00:00.000Z',
    },
  ],
  succeeded: [
    {customDockerfileHash: '', image: IMG('4'), renderedConfig: R('succeeded'), source: 'built', time: '2026-11-20T09:00:00.000Z'},
  ],
}

function objects() {
  return [
    ...basicCluster(),
    pool('plain'),
    layered('noimage', [['Updated', 'True']]),
    layered('pending', [['BuildPending', 'True', 'BuildPending']]),
    podOf('pending', 'Pending', {waiting: {reason: 'ContainerCreating'}}),
    layered(
      'building',
      [
        ['BuildPending', 'False'],
        ['Building', 'True', 'BuildRunning'],
      ],
      IMG('2'),
    ),
    podOf('building', 'Running', {running: {startedAt: T}}),
    layered('succeeded', [['BuildSuccess', 'True', 'BuildSucceeded']], IMG('4')),
    layered('failed', [
      ['BuildFailed', 'True', 'BuildFailed'],
      ['Degraded', 'True'],
      ['RenderDegraded', 'True', '', 'Failed to build configuration for pool failed: build failed'],
    ]),
    podOf('failed', 'Failed', {terminated: {exitCode: 1, reason: 'Error'}}),
    layered('hung', [['Building', 'True', 'BuildRunning']]),
    podOf('hung', 'Running', {terminated: {exitCode: 1, finishedAt: T, reason: 'Error'}}),
    layered('stale', [['BuildPending', 'True', 'BuildPending']]),
    layered('observed', [['BuildSuccess', 'True', 'BuildSucceeded']], IMG('6')),
    layered('otherconfig', [['BuildSuccess', 'True', 'BuildSucceeded']], IMG('5')),
    layered('osbuild', [['Building', 'True', 'BuildRunning']]),
    {
      apiVersion: 'build.openshift.io/v1',
      kind: 'Build',
      metadata: {creationTimestamp: T, labels: labels('osbuild'), name: `build-${R('osbuild')}`, namespace: NS},
      spec: {},
      status: {phase: 'Running'},
    },
    layered('rebuilding', [['BuildSuccess', 'True', 'BuildSucceeded']], IMG('8')),
    podOf('rebuilding', 'Running', {running: {startedAt: T}}),
    layered(
      'degraded',
      [
        ['BuildSuccess', 'True', 'BuildSucceeded'],
        [
          'NodeDegraded',
          'True',
          '1 nodes are reporting degraded status on sync',
          'Node w-9 is reporting: "rolling back from a layered to non-layered configuration is not currently supported"',
        ],
        ['Degraded', 'True'],
      ],
      IMG('7'),
      {degraded: 1},
    ),
    node('w-9', ['worker', 'degraded'], {
      [`${A}currentImage`]: IMG('7'),
      [`${A}reason`]: 'rolling back from a layered to non-layered configuration is not currently supported',
      [`${A}state`]: 'Degraded',
    }),
    {
      apiVersion: 'v1',
      data: {baseImagePullSecretName: 'p', finalImagePullspec: 'quay.io/org/os:latest', finalImagePushSecretName: 'p'},
      kind: 'ConfigMap',
      metadata: {name: 'on-cluster-build-config', namespace: NS},
    },
    {
      apiVersion: 'v1',
      data: {otherconfig: JSON.stringify(history.otherconfig), succeeded: JSON.stringify(history.succeeded)},
      kind: 'ConfigMap',
      metadata: {name: 'oc-mob-image-history', namespace: NS},
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {name: 'machine-os-builder', namespace: NS},
      spec: {
        replicas: 1,
        selector: {matchLabels: {'k8s-app': 'machine-os-builder'}},
        template: {metadata: {labels: {'k8s-app': 'machine-os-builder'}}, spec: {containers: [{image: 'mco', name: 'machine-os-builder'}]}},
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {labels: {'k8s-app': 'machine-os-builder'}, name: 'machine-os-builder-7c9f-abcde', namespace: NS},
      spec: {containers: [{image: 'mco', name: 'machine-os-builder'}]},
      status: {
        conditions: [{status: 'False', type: 'Ready'}],
        containerStatuses: [{name: 'machine-os-builder', restartCount: 3, state: {waiting: {reason: 'CrashLoopBackOff'}}}],
        phase: 'Running',
      },
    },
    {
      apiVersion: 'config.openshift.io/v1',
      kind: 'ClusterOperator',
      metadata: {name: 'machine-config'},
      spec: {},
      status: {
        conditions: [
          {
            lastTransitionTime: T,
            message:
              'Failed to resync 4.14.12 because: secret p from on-cluster-build-config is not found. Did you use the right secret name?',
            reason: 'MachineOSBuilderFailed',
            status: 'True',
            type: 'Degraded',
          },
        ],
      },
    },
  ]
}

describe('oc mob status: every build state (end to end)', function () {
  this.timeout(120_000)
  let emu: Emulator
  let first: ReturnType<typeof JSON.parse>

  before(async () => {
    emu = await startEmulator({objects: objects()})
    // A read-only user gets the whole status; the one write (observed history) is skipped silently.
    const ro = await run(['status', '--kubeconfig', emu.kubeconfigFor('developer'), '-o', 'json'])
    expect(ro.exitCode, ro.stderr).to.equal(0)
    const r = await run(['status', '--kubeconfig', emu.kubeconfig, '-o', 'json'])
    expect(r.exitCode, r.stderr).to.equal(0)
    first = JSON.parse(r.stdout)
  })
  after(async () => emu?.close())

  const pool = (name: string) => first.pools.find((p: {name: string}) => p.name === name)
  const problem = (text: string) => first.problems.find((p: {message: string}) => p.message.includes(text))

  it('none, pending, building, succeeded, failed: from the conditions and the build objects', () => {
    expect(pool('plain').build).to.deep.equal({hung: false, message: null, object: null, reason: null, since: null, state: 'none'})
    expect(pool('plain')).to.include({builder: null, imageMatchesConfig: null, layered: false})
    expect(pool('noimage').build.state).to.equal('none')
    expect(pool('pending').build).to.deep.include({reason: 'BuildPending', state: 'pending'})
    expect(pool('pending').build.object).to.deep.equal({
      created: T,
      hung: false,
      kind: 'Pod',
      name: `build-${R('pending')}`,
      phase: 'Pending',
      reason: null,
      renderedConfig: R('pending'),
      state: 'pending',
      terminating: false,
    })
    expect(pool('building').build).to.deep.include({reason: 'BuildRunning', state: 'building'})
    expect(pool('succeeded').build).to.deep.include({reason: 'BuildSucceeded', state: 'succeeded'})
    expect(pool('failed').build).to.deep.include({reason: 'BuildFailed', state: 'failed'})
    expect(pool('failed').build.object).to.include({
      phase: 'Failed',
      reason: 'container image-build exited with code 1 (Error)',
      state: 'failed',
    })
  })

  it('a build object the conditions do not show yet is the better witness', () => {
    expect(pool('rebuilding').build).to.deep.include({
      message: `pod build-${R('rebuilding')} is Running`,
      reason: 'BuildObjectExists',
      since: T,
      state: 'building',
    })
    expect(pool('rebuilding').imageMatchesConfig).to.equal('no')
  })

  it('the 4.14 hang (pod Running, image-build failed) is failed, not building', () => {
    expect(pool('hung').build).to.deep.equal({
      hung: true,
      message:
        'container image-build exited with code 1 (Error); the build pod stays Running (the 4.14 wait-for-done defect), so the cluster still reports the build as running',
      object: {
        created: T,
        hung: true,
        kind: 'Pod',
        name: `build-${R('hung')}`,
        phase: 'Running',
        reason: 'container image-build exited with code 1 (Error)',
        renderedConfig: R('hung'),
        state: 'failed',
        terminating: false,
      },
      reason: 'ImageBuildFailed',
      since: T,
      state: 'failed',
    })
    expect(problem('Build for pool hung failed').next).to.include('oc mob logs hung').and.include('oc mob cleanup hung')
  })

  it('the builder backend: from imageBuilderType (unset: an OpenShift Build), or the build object that exists', () => {
    expect(first.buildConfig).to.deep.equal({
      backend: 'build',
      finalImagePullspec: 'quay.io/org/os:latest',
      imageBuilderType: null,
      present: true,
    })
    expect(pool('noimage').builder).to.equal('build')
    expect(pool('hung').builder).to.equal('pod')
    expect(pool('osbuild').builder).to.equal('build')
    expect(pool('osbuild').build.object).to.include({kind: 'Build', phase: 'Running', state: 'running'})
  })

  it('whether the image was built from the rendered config: yes, no, or an honest unknown', () => {
    expect(pool('succeeded')).to.include({imageDigest: 'sha256:' + '4'.repeat(64), imageMatchesConfig: 'yes'})
    expect(pool('succeeded').imageEvidence).to.equal(`image history: built by oc-mob for ${R('succeeded')} at 2026-11-20T09:00:00.000Z`)
    expect(pool('otherconfig').imageMatchesConfig).to.equal('no')
    expect(pool('otherconfig').imageEvidence).to.include('built for rendered-otherconfig-fedcba98')
    expect(problem('the image of pool otherconfig was not built from its rendered config').next).to.equal(
      'build it with `oc mob build otherconfig --rebuild`',
    )
    expect(pool('building').imageMatchesConfig).to.equal('no')
    expect(pool('building').imageEvidence).to.include('is running (pod build-rendered-building-')
    expect(pool('observed').imageMatchesConfig).to.equal('unknown')
    expect(pool('observed').imageEvidence).to.equal(
      'no record of the rendered config it was built from: oc-mob neither built nor followed it',
    )
  })

  it('records an image it sees on a pool that the history does not know, as observed', async () => {
    const cm = (await emu.request('GET', `/api/v1/namespaces/${NS}/configmaps/oc-mob-image-history`)).body
    const observed = JSON.parse(cm.data.observed)
    expect(observed).to.have.length(1)
    expect(observed[0]).to.include({customDockerfileHash: '', image: IMG('6'), renderedConfig: R('observed'), source: 'observed'})
    // Pools whose image may belong to an earlier config (a build is running) are not recorded.
    expect(cm.data).not.to.have.property('building')
    expect(JSON.parse(cm.data.succeeded)).to.have.length(1)
    const again = JSON.parse((await run(['status', 'observed', '--history', '--kubeconfig', emu.kubeconfig, '-o', 'json'])).stdout)
    expect(again.pools[0].imageMatchesConfig).to.equal('unknown')
    expect(again.pools[0].imageEvidence).to.match(/^seen on the pool at \S+ while it targeted rendered-observed-/)
    expect(again.history).to.deep.equal([{...observed[0], current: true, index: 0}])
  })

  it('problems come with their next step: degraded node, stale state, no image, the machine-os-builder', () => {
    const node = problem('node w-9 of pool degraded is degraded')
    expect(node).to.deep.include({node: 'w-9', pool: 'degraded', severity: 'error'})
    expect(node.message).to.include('rolling back from a layered to non-layered configuration is not currently supported')
    expect(node.next).to.include('oc mob rollback node w-9 --replace-machine')
    expect(problem('pool stale says a build is pending, but there is no build object').next).to.include('oc mob cleanup stale')
    expect(problem('pool noimage is layered but has no image yet').next).to.include('oc mob build noimage')
    const operator = problem('the Machine Config Operator cannot start the machine-os-builder')
    expect(operator.message).to.include('secret p from on-cluster-build-config is not found')
    expect(operator.next).to.include('oc mob setup')
    expect(problem('machine-os-builder pod machine-os-builder-7c9f-abcde is Running (CrashLoopBackOff), 3 restarts').next).to.include(
      'oc mob logs --builder',
    )
    expect(first.machineOSBuilder).to.deep.include({deployed: true, expected: true, restarts: 3, running: false})
    expect(first.machineOSBuilder.operator).to.deep.equal({
      degraded: true,
      message: 'Failed to resync 4.14.12 because: secret p from on-cluster-build-config is not found. Did you use the right secret name?',
      reason: 'MachineOSBuilderFailed',
    })
    expect(first.problems.map((p: {severity: string}) => p.severity)).to.deep.equal(
      [
        ...first.problems.filter((p: {severity: string}) => p.severity === 'error'),
        ...first.problems.filter((p: {severity: string}) => p.severity === 'warning'),
      ].map((p: {severity: string}) => p.severity),
    )
    expect(pool('degraded').nodes).to.deep.equal({degraded: 1, ready: 1, total: 2, unavailable: 0, updated: 1, updating: 0})
  })

  it('-o json is stable: the same cluster gives the same document, in the documented key order', async () => {
    const a = await run(['status', '--kubeconfig', emu.kubeconfig, '-o', 'json'])
    const b = await run(['status', '--kubeconfig', emu.kubeconfig, '-o', 'json'])
    expect(a.stdout).to.equal(b.stdout)
    const doc = JSON.parse(a.stdout)
    expect(Object.keys(doc)).to.deep.equal(STATUS_JSON_KEYS)
    expect(Object.keys(doc.pools[0])).to.deep.equal([
      'build',
      'builder',
      'currentConfig',
      'degraded',
      'image',
      'imageDigest',
      'imageEvidence',
      'imageMatchesConfig',
      'layered',
      'name',
      'nodes',
      'paused',
      'renderedConfig',
      'updated',
      'updating',
      'optIn',
      'machineOSConfig',
      // Added later, for a labelled pool only (4.14/4.15): after the earlier keys.
      'orphanedConfigMaps',
      'buildConditionsLost',
    ])
    const withPool = JSON.parse((await run(['status', 'degraded', '--kubeconfig', emu.kubeconfig, '-o', 'json'])).stdout)
    const withNodes = [...STATUS_JSON_KEYS]
    withNodes.splice(withNodes.indexOf('pools') + 1, 0, 'nodes')
    expect(Object.keys(withPool)).to.deep.equal(withNodes)
    expect(withPool.nodes.map((n: {name: string}) => n.name)).to.deep.equal(['w-9'])
  })

  it('the table: builder, build state with age, whether the image matches, and the problems', async () => {
    const r = await run(['status', '--kubeconfig', emu.kubeconfig])
    expect(r.exitCode, r.stderr).to.equal(0)
    const rows = r.stdout.split('\n')
    expect(rows.find((l) => l.startsWith('hung '))).to.match(
      /^hung\s+yes\s+pod\s+failed \(hung\) \(\d+[smhd]\)\s+rendered-hung-\S+\s+-\s+-\s+1\/2\s+1\s+0\s+-$/,
    )
    expect(rows.find((l) => l.startsWith('succeeded '))).to.match(
      /^succeeded\s+yes\s+build\s+succeeded \(\d+[smhd]\)\s+rendered-succeeded-\S+\s+os@sha256:444444444444\s+yes\s/,
    )
    expect(r.stdout).to.include(
      'build config: builder OpenShift Build (imageBuilderType unset: openshift-image-builder), images to quay.io/org/os:latest',
    )
    expect(r.stdout).to.include('Problems:\n✖ ')
    expect(r.stdout).to.include('  next: see why with `oc mob logs failed`')
  })

  it('reads one list per kind: never the nodes without a pool, and the same requests whatever the cluster size', async () => {
    // As every run after the first: discovery cached (then only /version is asked beside the lists).
    await run(['status', '--kubeconfig', emu.kubeconfig, '-o', 'json'])
    emu.resetRequests()
    await run(['status', '--kubeconfig', emu.kubeconfig, '-o', 'json'])
    const paths = emu.requests.map((q) => `${q.method} ${q.path}`)
    expect(paths.filter((p) => p.includes('/nodes'))).to.deep.equal([])
    expect(paths.every((p) => p.startsWith('GET '))).to.equal(true)
    // One list per kind (4.18+ adds the Job pods of the machine-os-builder, for stuck or retried builds),
    // and one GET per push secret of the layered pools (its token's expiry), whatever the cluster size.
    expect(paths.filter((p) => !p.includes('/secrets/')).length).to.be.at.most(13)
    expect(paths.filter((p) => p.includes('/secrets/'))).to.deep.equal([`GET /api/v1/namespaces/${MCO_NS}/secrets/p`])
  })

  it('reads the push secret the last run read in the same round as its lists, and a renamed one after them', async () => {
    await run(['status', '--kubeconfig', emu.kubeconfig, '-o', 'json'])
    emu.resetRequests()
    emu.faults.latency({path: /./}, 200)
    const r = await run(['status', '--kubeconfig', emu.kubeconfig, '-o', 'json']).finally(() => emu.faults.clear())
    expect(r.exitCode, r.stderr).to.equal(0)
    // Every read went out before the first answer came: one round trip.
    expect(Math.max(...emu.requests.map((q) => q.at))).to.be.below(Math.min(...emu.requests.map((q) => q.answeredAt!)))
    expect(emu.requests.filter((q) => q.path.includes('/secrets/')).map((q) => q.path)).to.deep.equal([
      `/api/v1/namespaces/${MCO_NS}/secrets/p`,
    ])

    // The build config names another push secret: it is read after the lists, and judged; the old one is not.
    const cm = await emu.request('GET', `/api/v1/namespaces/${MCO_NS}/configmaps/on-cluster-build-config`)
    const before = cm.body.data.finalImagePushSecretName
    try {
      await emu.request(
        'PATCH',
        `/api/v1/namespaces/${MCO_NS}/configmaps/on-cluster-build-config`,
        {data: {finalImagePushSecretName: 'renamed-push'}},
        {'Content-Type': 'application/merge-patch+json'},
      )
      emu.resetRequests()
      const renamed = await run(['status', '--kubeconfig', emu.kubeconfig, '-o', 'json'])
      expect(renamed.exitCode, renamed.stderr).to.equal(0)
      expect(emu.requests.filter((q) => q.path.includes('/secrets/')).map((q) => q.path)).to.deep.equal([
        `/api/v1/namespaces/${MCO_NS}/secrets/p`,
        `/api/v1/namespaces/${MCO_NS}/secrets/renamed-push`,
      ])
    } finally {
      await emu.request(
        'PATCH',
        `/api/v1/namespaces/${MCO_NS}/configmaps/on-cluster-build-config`,
        {data: {finalImagePushSecretName: before}},
        {'Content-Type': 'application/merge-patch+json'},
      )
    }
  })

  it('--history needs a pool (exit 2)', async () => {
    const r = await run(['status', '--history', '--kubeconfig', emu.kubeconfig])
    expect(r.exitCode).to.equal(2)
    expect(r.stderr).to.include('--history needs a pool')
  })

  it('--watch prints a new block on each change, from a watch, and ends on Ctrl-C with exit 0', async () => {
    const child = spawn(process.execPath, [cliPath(), 'status', '--watch', '--kubeconfig', emu.kubeconfig], {
      cwd: ROOT,
      env: {...process.env, NO_COLOR: '1'},
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => {
      out += String(d)
    })
    child.stderr.on('data', (d) => {
      err += String(d)
    })
    const until = async (pred: () => boolean, what: string): Promise<void> => {
      const end = Date.now() + 30_000
      while (!pred()) {
        if (Date.now() > end || child.exitCode !== null) throw new Error(`waiting for ${what}; stdout:\n${out}\nstderr:\n${err}`)
        await new Promise((r) => setTimeout(r, 50))
      }
    }

    try {
      await until(() => out.includes('Problems:'), 'the first block')
      expect(out.match(/^--- \d{4}-/gm)).to.have.length(1)
      emu.resetRequests()
      await emu.request(
        'PATCH',
        '/apis/machineconfiguration.openshift.io/v1/machineconfigpools/noimage',
        {metadata: {labels: {'machineconfiguration.openshift.io/layering-enabled': null}}},
        {'Content-Type': 'application/merge-patch+json'},
      )
      // The block is one write, but a pipe may still hand it over in pieces: wait for its pool table too.
      const second = (): string => out.slice(out.lastIndexOf('--- '))
      await until(() => (out.match(/^--- \d{4}-/gm) ?? []).length === 2 && /^noimage\s/m.test(second()), 'a second block')
      expect(second()).to.match(/^noimage\s+no\s/m)
      expect(second()).not.to.include('pool noimage is layered but has no image yet')
      // Nothing was listed again: the change came in on the watch.
      expect(emu.requests.filter((q) => q.method === 'GET' && !q.watch && q.path.endsWith('/machineconfigpools'))).to.have.length(0)
      child.kill('SIGINT')
      const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)))
      expect(code, err).to.equal(0)
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
  })
})
