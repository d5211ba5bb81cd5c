import {expect} from 'chai'
import type {MachineConfigPool, Node, Pod, Secret} from '../../src/lib/kube/types.js'
import {BUILDER_TYPES, builderKind, sameSecretName} from '../../src/lib/layering/configmap/backend.js'
import {redactSecret, secretView, unifiedDiff} from '../../src/lib/layering/diff.js'
import {builderHealth} from '../../src/lib/cluster/builder.js'
import {nodeProgress} from '../../src/lib/rollout/follow-nodes.js'
import {batches, isControlPlane, maxUnavailable, poolLabels} from '../../src/lib/layering/nodes.js'
import {
  degradedPoolsCheck,
  dockerfileRegistries,
  pullspecCheck,
  settingsChecks,
  type SettingsCheckInput,
  throwIfFailed,
} from '../../src/lib/layering/preflight.js'
import {checkPoolName, findBuilderSecret, parseNodeSelector, poolManifest} from '../../src/lib/layering/setup.js'
import {describeAccess} from '../../src/lib/layering/types.js'
import type {Prompter} from '../../src/lib/ui/confirm.js'
import {askSetupInput, type WizardContext} from '../../src/lib/layering/wizard.js'

const b64 = (s: string): string => Buffer.from(s).toString('base64')
const docker = (name: string, auths: Record<string, unknown>, type = 'kubernetes.io/dockerconfigjson'): Secret => ({
  data:
    type === 'kubernetes.io/dockercfg' ? {'.dockercfg': b64(JSON.stringify(auths))} : {'.dockerconfigjson': b64(JSON.stringify({auths}))},
  metadata: {name, namespace: 'openshift-machine-config-operator'},
  type,
})
const cred = {auth: b64('user:pa55word')}
const pool = (
  name: string,
  conditions: Array<[string, string, string?]> = [],
  extra: Partial<MachineConfigPool> = {},
): MachineConfigPool => ({
  metadata: {labels: {}, name},
  spec: {configuration: {name: `rendered-${name}-1`}, nodeSelector: {matchLabels: {[`node-role.kubernetes.io/${name}`]: ''}}},
  status: {conditions: conditions.map(([type, status, message]) => ({message, status: status as 'False' | 'True', type}))},
  ...extra,
})

function input(over: Partial<SettingsCheckInput> = {}): SettingsCheckInput {
  return {
    buildApi: true,
    defaultBuilder: 'build',
    globalPullSecret: docker('pull-secret', {'quay.io': cred}),
    osImage: {baseImage: 'quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:' + 'a'.repeat(64), releaseVersion: '4.14.12'},
    pools: [pool('master'), pool('worker')],
    pullSecret: docker('global-pull-secret-copy', {'quay.io': cred}),
    pushSecret: docker('push', {'quay.io/myorg': cred}),
    settings: {
      baseImagePullSecret: 'global-pull-secret-copy',
      builder: 'pod',
      finalImagePullspec: 'quay.io/myorg/os',
      finalImagePushSecret: 'push',
      pool: 'layering',
    },
    ...over,
  }
}

const byId = (checks: ReturnType<typeof settingsChecks>, id: string) => checks.find((c) => c.id === id)

describe('layering: preflight checks', () => {
  it('passes a complete external setup', () => {
    const checks = settingsChecks(input())
    expect(checks.filter((c) => c.verdict !== 'pass').map((c) => c.id)).to.deep.equal([])
    expect(byId(checks, 'global-pull-secret')!.message).to.include('holds pull credentials for quay.io')
  })

  it('judges the pullspec: invalid and digests fail, tags warn', () => {
    expect(pullspecCheck('Quay.io/UPPER/case').check.verdict).to.equal('fail')
    expect(pullspecCheck(`quay.io/org/os@sha256:${'b'.repeat(64)}`).check).to.include({verdict: 'fail'})
    const tagged = pullspecCheck('quay.io/org/os:latest').check
    expect(tagged.verdict).to.equal('warn')
    expect(tagged.message).to.include(
      'the tag "latest" of quay.io/org/os:latest is ignored: images are pushed as quay.io/org/os:<rendered config name>',
    )
    expect(pullspecCheck('quay.io/org/os').check.verdict).to.equal('pass')
  })

  it('on 4.18+, fails a pullspec the MachineOSConfig CRD refuses (a dotted namespace, a host without a dot), before writing', () => {
    const mos = (p: string) => pullspecCheck(p, 'MachineOSBuild name').check
    const dotted = mos('quay.io/my.org/os-image')
    expect(dotted.verdict).to.equal('fail')
    expect(dotted.message).to.equal(
      'quay.io/my.org/os-image is not accepted as a MachineOSConfig\'s renderedImagePushSpec: the API requires host[:port][/namespace]/name:tag, with no "." in the namespace',
    )
    expect(dotted.fix).to.include('quay.io/my-org/os-image')
    expect(mos('registry:5000/org/os').verdict).to.equal('fail')
    expect(mos('os-image').verdict).to.equal('fail')
    expect(mos('quay.io/my-org/os-image').verdict).to.equal('pass')
    expect(mos('quay.io/org/os:v1').verdict).to.equal('pass')
    expect(mos('image-registry.openshift-image-registry.svc:5000/openshift-machine-config-operator/os-image').verdict).to.equal('pass')
    // before 4.18 (a ConfigMap, no CRD rule) the same pullspec is fine
    expect(pullspecCheck('quay.io/my.org/os-image').check.verdict).to.equal('pass')
  })

  it('fails secrets that are missing, not docker configs, or without credentials for the registry, and names what they have', () => {
    const missing = byId(settingsChecks(input({pushSecret: undefined})), 'push-secret')!
    expect(missing).to.include({exitCode: 6, verdict: 'fail'})
    const opaque = byId(settingsChecks(input({pushSecret: {data: {x: 'eA=='}, metadata: {name: 'push'}, type: 'Opaque'}})), 'push-secret')!
    expect(opaque.message).to.include('secret push has type Opaque')
    const elsewhere = byId(settingsChecks(input({pushSecret: docker('push', {'registry.example.com': cred})})), 'push-secret')!
    expect(elsewhere.verdict).to.equal('fail')
    expect(elsewhere.details).to.deep.equal(['it has credentials for: registry.example.com'])
    const otherRepo = byId(settingsChecks(input({pushSecret: docker('push', {'quay.io/otherorg': cred})})), 'push-secret')!
    expect(otherRepo.verdict).to.equal('fail')
    const basePull = byId(
      settingsChecks(input({pullSecret: docker('global-pull-secret-copy', {'registry.redhat.io': cred})})),
      'pull-secret',
    )!
    expect(basePull.message).to.include('has no credentials for quay.io, where the base OS image')
  })

  it('the global pull secret: a failure for an external registry, a warning for the internal one', () => {
    const external = byId(
      settingsChecks(input({globalPullSecret: docker('pull-secret', {'registry.redhat.io': cred})})),
      'global-pull-secret',
    )!
    expect(external.verdict).to.equal('fail')
    const internalInput = input({
      globalPullSecret: docker('pull-secret', {'registry.redhat.io': cred}),
      pushSecret: docker('builder-dockercfg-abcde', {'image-registry.openshift-image-registry.svc:5000': cred}, 'kubernetes.io/dockercfg'),
      settings: {
        ...input().settings,
        finalImagePullspec: 'image-registry.openshift-image-registry.svc:5000/openshift-machine-config-operator/os-image',
        finalImagePushSecret: 'builder-dockercfg-abcde',
      },
    })
    const internal = settingsChecks(internalInput)
    expect(byId(internal, 'global-pull-secret')!.verdict).to.equal('warn')
    expect(byId(internal, 'push-secret')!.message).to.include(
      'legacy .dockercfg secret: the operator copies it into builder-dockercfg-abcde-canonical',
    )
    expect(byId(internal, 'push-secret-rotation')!.verdict).to.equal('warn')
    // Once it is the configured push secret, the warning is not repeated on every run.
    const configured = settingsChecks({...internalInput, pushSecretConfigured: true})
    expect(byId(configured, 'push-secret-rotation')).to.equal(undefined)
    expect(byId(configured, 'push-secret')!.verdict).to.equal(byId(internal, 'push-secret')!.verdict)
  })

  it('checks the custom Dockerfile and warns about registries the pull secret cannot log in to', () => {
    const bad = settingsChecks(input({settings: {...input().settings, customDockerfile: 'FROM quay.io/centos/centos:stream9\nRUN true\n'}}))
    expect(byId(bad, 'dockerfile')!.verdict).to.equal('fail')
    const good = settingsChecks(
      input({
        settings: {
          ...input().settings,
          customDockerfile: 'FROM docker.io/mikefarah/yq:latest AS yq\nFROM configs AS final\nCOPY --from=yq /usr/bin/yq /usr/bin/yq\n',
        },
      }),
    )
    expect(byId(good, 'dockerfile')!.verdict).to.equal('pass')
    expect(byId(good, 'dockerfile-registries')!.message).to.include('pulls from docker.io')
    expect(dockerfileRegistries('FROM quay.io/a/b AS one\nFROM one AS two\nFROM configs AS final\n').map((r) => r.registry)).to.deep.equal([
      'quay.io',
    ])
  })

  it("the builder: OpenShift Builds need the build API; an unset type is the operator's default", () => {
    expect(byId(settingsChecks(input({buildApi: false, settings: {...input().settings, builder: 'build'}})), 'builder')!.verdict).to.equal(
      'fail',
    )
    expect(byId(settingsChecks(input({settings: {...input().settings, builder: undefined}})), 'builder')!.verdict).to.equal('warn')
    expect(byId(settingsChecks(input()), 'builder')!.message).to.include('build-<rendered config>')
  })

  it('lists degraded pools with their reason, and a failed build points to cleanup', () => {
    const c = degradedPoolsCheck([
      pool('worker'),
      pool('layering', [
        ['BuildFailed', 'True'],
        ['Degraded', 'True'],
        ['RenderDegraded', 'True', 'Failed to build configuration for pool layering: build failed'],
      ]),
    ])
    expect(c.verdict).to.equal('fail')
    expect(c.details).to.deep.equal([
      'pool layering: RenderDegraded: Failed to build configuration for pool layering: build failed (its build failed: `oc mob cleanup layering`)',
    ])
  })

  it("throwIfFailed: nothing for passes, the first failure's exit code otherwise", () => {
    expect(() =>
      throwIfFailed(
        [
          {id: 'a', message: 'ok', title: 'a', verdict: 'pass'},
          {id: 'b', message: 'meh', title: 'b', verdict: 'warn'},
        ],
        'x',
      ),
    ).not.to.throw()
    try {
      throwIfFailed(
        [
          {id: 'a', message: 'ok', title: 'a', verdict: 'pass'},
          {exitCode: 6, id: 'b', message: 'gone', title: 'b', verdict: 'fail'},
          {id: 'c', message: 'bad', title: 'c', verdict: 'fail'},
        ],
        'setup preflight failed',
      )
      expect.fail('should throw')
    } catch (error) {
      expect((error as {exitCode: number}).exitCode).to.equal(6)
      expect((error as Error).message).to.equal('setup preflight failed: 2 preflight checks failed; nothing was changed')
    }
  })
})

describe('layering: secrets, diffs and names', () => {
  it('shows secrets by registry, never by value', () => {
    const before = docker('copy', {'quay.io': cred})
    const after = docker('copy', {'quay.io': {auth: b64('other:credential')}, 'registry.example.com': cred})
    const diff = unifiedDiff('secret/copy', secretView(before), secretView(after, before, {markChanged: true}))!
    expect(diff).to.include('+  - quay.io (credentials differ)').and.include('+  - registry.example.com')
    expect(diff).not.to.include(cred.auth).and.not.include('pa55word')
    expect(redactSecret(after).data).to.deep.equal({'.dockerconfigjson': '(redacted)'})
    expect(unifiedDiff('x', 'a\n', 'a\n')).to.equal(undefined)
  })

  it("treats the operator's canonical copy as the same secret, and maps builder types", () => {
    expect(sameSecretName('builder-dockercfg-x-canonical', 'builder-dockercfg-x')).to.equal(true)
    expect(sameSecretName('builder-dockercfg-y', 'builder-dockercfg-x')).to.equal(false)
    expect(BUILDER_TYPES).to.deep.equal({build: 'openshift-image-builder', pod: 'custom-pod-builder'})
    expect(builderKind('custom-pod-builder')).to.equal('pod')
    expect(builderKind('')).to.equal(undefined)
  })

  it("finds the newest builder-dockercfg secret, validates names and node selectors, and builds the seed's pool", () => {
    const older = {
      ...docker('builder-dockercfg-aaaaa', {}, 'kubernetes.io/dockercfg'),
      metadata: {creationTimestamp: '2024-01-01T00:00:00Z', name: 'builder-dockercfg-aaaaa'},
    }
    const newer = {
      ...docker('builder-dockercfg-bbbbb', {}, 'kubernetes.io/dockercfg'),
      metadata: {creationTimestamp: '2024-02-01T00:00:00Z', name: 'builder-dockercfg-bbbbb'},
    }
    expect(findBuilderSecret([older, docker('other', {}), newer])!.metadata.name).to.equal('builder-dockercfg-bbbbb')
    expect(checkPoolName('layering')).to.equal(undefined)
    expect(checkPoolName('Bad_Name')).to.include('not a valid pool name')
    expect(parseNodeSelector('node-role.kubernetes.io/x=')).to.deep.equal({key: 'node-role.kubernetes.io/x', value: ''})
    expect(parseNodeSelector('disk=ssd')).to.deep.equal({key: 'disk', value: 'ssd'})
    expect(() => parseNodeSelector('bad key=x')).to.throw('is not a node label')
    expect(poolManifest('layering', ['layering', 'worker'], {key: 'node-role.kubernetes.io/layering', value: ''}).spec).to.deep.equal({
      machineConfigSelector: {
        matchExpressions: [{key: 'machineconfiguration.openshift.io/role', operator: 'In', values: ['layering', 'worker']}],
      },
      nodeSelector: {matchLabels: {'node-role.kubernetes.io/layering': ''}},
    })
    expect(
      describeAccess({group: 'machineconfiguration.openshift.io', name: 'layering', resource: 'machineconfigpools', verb: 'patch'}),
    ).to.equal('patch machineconfigpools.machineconfiguration.openshift.io "layering" (cluster scope)')
    expect(describeAccess({group: '', namespace: 'ns', resource: 'secrets', verb: 'create'})).to.equal('create secrets in namespace ns')
  })
})

describe('layering: nodes and rollouts', () => {
  const node = (
    name: string,
    labels: Record<string, string>,
    ann: Record<string, string> = {},
    ready = true,
    unschedulable = false,
  ): Node => ({
    metadata: {annotations: ann, labels, name},
    spec: {unschedulable},
    status: {conditions: [{status: ready ? 'True' : 'Unknown', type: 'Ready'}]},
  })
  const P = 'machineconfiguration.openshift.io'

  it('reads maxUnavailable as the node controller does, and orders batches by name', () => {
    expect(maxUnavailable(undefined, 5)).to.equal(1)
    expect(maxUnavailable(pool('p', [], {spec: {maxUnavailable: 3}}), 5)).to.equal(3)
    expect(maxUnavailable(pool('p', [], {spec: {maxUnavailable: '50%'}}), 5)).to.equal(2)
    expect(maxUnavailable(pool('p', [], {spec: {maxUnavailable: '10%'}}), 5)).to.equal(1)
    expect(batches(['c', 'a', 'b'], 2)).to.deep.equal([['a', 'b'], ['c']])
    expect(isControlPlane(node('m', {'node-role.kubernetes.io/control-plane': ''}))).to.equal(true)
    expect(poolLabels(pool('layering'))).to.deep.equal({'node-role.kubernetes.io/layering': ''})
    expect(() => poolLabels(pool('x', [], {spec: {nodeSelector: {matchExpressions: [{key: 'a', operator: 'Exists'}]}}}))).to.throw(
      'cannot tell which label to set',
    )
  })

  it("tells each phase of a node on its way to a layered pool's image", () => {
    const layering = {
      ...pool('layering'),
      metadata: {
        annotations: {[`${P}/newestImageEquivalentConfig`]: 'reg/os@sha256:1'},
        labels: {[`${P}/layering-enabled`]: ''},
        name: 'layering',
      },
    }
    const pools = [
      pool('worker', [], {
        spec: {configuration: {name: 'rendered-worker-1'}, nodeSelector: {matchLabels: {'node-role.kubernetes.io/worker': ''}}},
      }),
      layering,
    ]
    const opts = {
      imageOf: (p: MachineConfigPool) => p.metadata.annotations?.[`${P}/newestImageEquivalentConfig`],
      waitsForImage: (p: MachineConfigPool) => Object.hasOwn(p.metadata.labels ?? {}, `${P}/layering-enabled`),
    }
    const labels = {'node-role.kubernetes.io/layering': '', 'node-role.kubernetes.io/worker': ''}
    const at = (ann: Record<string, string>, ready = true, cordoned = false) =>
      nodeProgress(node('n', labels, ann, ready, cordoned), pools, opts)
    expect(at({[`${P}/desiredConfig`]: 'rendered-worker-1', [`${P}/state`]: 'Done'}).phase).to.equal('queued')
    const desired = {[`${P}/desiredConfig`]: 'rendered-layering-1', [`${P}/desiredImage`]: 'reg/os@sha256:1'}
    expect(at({...desired, [`${P}/state`]: 'Working'}, true, true)).to.include({
      message: 'cordoned and drained; rebasing onto reg/os@sha256:1',
      phase: 'updating',
    })
    expect(at({...desired, [`${P}/state`]: 'Working'}, false, true).phase).to.equal('rebooting')
    expect(
      at({...desired, [`${P}/currentConfig`]: 'rendered-layering-1', [`${P}/currentImage`]: 'reg/os@sha256:1', [`${P}/state`]: 'Done'}),
    ).to.include({message: 'on reg/os@sha256:1', phase: 'done'})
    expect(at({[`${P}/reason`]: 'boom', [`${P}/state`]: 'Degraded'})).to.include({message: 'Degraded: boom', phase: 'degraded'})
    const noImage = nodeProgress(node('n', labels), [pools[0], {...layering, metadata: {...layering.metadata, annotations: {}}}], opts)
    expect(noImage.message).to.equal('waiting for the image of pool layering to be built')
  })

  it('sees a crashing machine-os-builder', () => {
    const pod = (state: Record<string, unknown>, extra: Record<string, unknown> = {}): Pod => ({
      metadata: {name: 'machine-os-builder-abc'},
      status: {containerStatuses: [{name: 'machine-os-builder', ready: false, state, ...extra}], phase: 'Running'},
    })
    expect(builderHealth([pod({running: {}}, {ready: true})])).to.deep.equal({running: true})
    expect(builderHealth([pod({waiting: {reason: 'CrashLoopBackOff'}}, {lastState: {terminated: {exitCode: 255}}})]).failing).to.include({
      restarted: true,
    })
    expect(builderHealth([pod({terminated: {exitCode: 1, reason: 'Error'}})]).failing!.why).to.equal(
      'its container exited with code 1 (Error)',
    )
    expect(builderHealth([])).to.deep.equal({running: false})
  })
})

describe('layering: the setup wizard', () => {
  /** A Prompter that answers from a script (undefined: the default) and records the questions. */
  function scripted(answers: Record<string, unknown>): Prompter & {asked: string[]} {
    const asked: string[] = []
    const pick = (message: string): unknown => {
      asked.push(message)
      const key = Object.keys(answers).find((k) => message.includes(k))
      return key === undefined ? undefined : answers[key]
    }

    return {
      asked,
      async confirm(q) {
        const a = pick(q.message)
        return (a ?? q.default ?? false) as boolean
      },
      async input(q) {
        const a = pick(q.message) as string | undefined
        const value = a ?? q.default ?? ''
        const valid = q.validate?.(value) ?? true
        if (valid !== true) throw new Error(`invalid answer "${value}": ${valid}`)
        return value
      },
      async select<T>(q: {message: string; choices: Array<{name: string; value: T}>; default?: T}) {
        const a = pick(q.message)
        if (a === undefined) return q.default ?? q.choices[0].value
        const choice = q.choices.find((c) => c.value === a || c.name.includes(String(a)))
        if (!choice) throw new Error(`no choice ${String(a)} in ${q.choices.map((c) => c.name).join(' | ')}`)
        return choice.value
      },
    }
  }

  const ctx = (over: Partial<WizardContext> = {}): WizardContext => ({
    builderSecret: 'builder-dockercfg-7wq9x',
    defaultBuilder: 'build',
    globalPullSecretCopy: 'global-pull-secret-copy',
    imageApi: true,
    imageStreams: [
      {name: 'rhel-coreos', repository: 'image-registry.openshift-image-registry.svc:5000/openshift-machine-config-operator/rhel-coreos'},
    ],
    pools: [pool('master'), pool('worker')],
    secrets: [
      {builder: true, name: 'builder-dockercfg-7wq9x', registries: ['image-registry.openshift-image-registry.svc:5000']},
      {builder: false, name: 'quay-push', registries: ['quay.io']},
    ],
    ...over,
  })

  it('with every default: a new pool "layering", the os-image ImageStream, a global pull secret copy, the builder secret, the build pod', async () => {
    const ask = scripted({})
    const out = await askSetupInput(ctx(), {}, ask)
    expect(out).to.deep.equal({
      builder: 'pod',
      cloneGlobalPullSecret: true,
      enable: false,
      imageStream: 'os-image',
      pool: 'layering',
      pushSecret: 'builder-dockercfg-7wq9x',
    })
    expect(ask.asked.some((q) => q.includes('rhel-coreos'))).to.equal(false)
  })

  it('asks only for what the flags left out, and takes the current settings as defaults', async () => {
    const ask = scripted({})
    const out = await askSetupInput(
      ctx({
        current: {
          baseImagePullSecret: 'quay-push',
          builder: 'build',
          finalImagePullspec: 'quay.io/myorg/os',
          finalImagePushSecret: 'quay-push',
          pool: 'layering',
        },
        pools: [pool('master'), pool('worker'), pool('layering')],
      }),
      {customDockerfile: undefined, enable: true, pool: 'layering'},
      ask,
    )
    expect(out).to.include({
      basePullSecret: 'quay-push',
      builder: 'build',
      finalPullspec: 'quay.io/myorg/os',
      pool: 'layering',
      pushSecret: 'quay-push',
    })
    expect(ask.asked.some((q) => q.includes('Which MachineConfigPool'))).to.equal(false)
    expect(ask.asked.some((q) => q.includes('Opt pool'))).to.equal(false)
  })

  it('--no-enable and an empty --custom-dockerfile are answers too: those questions are not asked', async () => {
    const ask = scripted({})
    const out = await askSetupInput(ctx(), {customDockerfile: '', enable: false}, ask)
    expect(out).to.include({customDockerfile: '', enable: false})
    expect(ask.asked.some((q) => q.includes('Path of a custom Dockerfile') || q.includes('Opt pool'))).to.equal(false)
  })

  it('custom selectors for a new pool, and an external registry', async () => {
    const out = await askSetupInput(
      ctx(),
      {},
      scripted({
        'MachineConfig roles': 'gpu, worker',
        'Name of the new pool': 'gpu',
        'Node selector': 'nodes.example.com/gpu=true',
        'Use these selectors': false,
        'Where should the built image be pushed': 'an external registry',
        'Final image pullspec': 'quay.io/myorg/gpu-os',
        'push the image': 'quay-push',
      }),
    )
    expect(out).to.include({
      finalPullspec: 'quay.io/myorg/gpu-os',
      nodeSelector: 'nodes.example.com/gpu=true',
      pool: 'gpu',
      pushSecret: 'quay-push',
    })
    expect(out.configRoles).to.deep.equal(['gpu', 'worker'])
  })

  it('an external registry no listed secret fits: another secret is typed in, without starting over', async () => {
    const ask = scripted({
      'Where should the built image be pushed': 'an external registry',
      'Final image pullspec': 'registry.example.com/org/os',
      'push the image': 'another secret',
      'Name of the push secret': 'example-push',
    })
    const out = await askSetupInput(ctx(), {pool: 'layering'}, ask)
    expect(out).to.include({finalPullspec: 'registry.example.com/org/os', pushSecret: 'example-push'})
    // A name that cannot be a secret's is refused by the question itself.
    const bad = scripted({
      'Where should the built image be pushed': 'an external registry',
      'Final image pullspec': 'registry.example.com/org/os',
      'push the image': 'another secret',
      'Name of the push secret': 'Not A Name',
    })
    let refused: Error | undefined
    await askSetupInput(ctx(), {pool: 'layering'}, bad).catch((error: Error) => {
      refused = error
    })
    expect(refused?.message).to.equal('invalid answer "Not A Name": a secret name: lower-case letters, digits, - and .')
  })
})
