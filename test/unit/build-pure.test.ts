import {expect} from 'chai'
import {parseDuration} from '../../src/lib/duration.js'
import {hasBuildLabels, hungFailure} from '../../src/lib/layering/configmap/build.js'
import {buildPod, buildSelector} from '../../src/lib/build/objects.js'
import {applyConditions, BUILD_PENDING, BUILD_SUCCEEDED, buildFailed} from '../../src/lib/mco/conditions.js'

describe('build: pure parts', () => {
  it('parses durations', () => {
    expect(parseDuration('90')).to.equal(90_000)
    expect(parseDuration('90s')).to.equal(90_000)
    expect(parseDuration('1h30m')).to.equal(5_400_000)
    expect(() => parseDuration('ten')).to.throw('"ten" is not a duration')
    expect(() => parseDuration('10x')).to.throw(/not a duration/)
  })

  it('writes conditions like setMCPBuildConditions: only changes, timestamps move with status', () => {
    const t0 = new Date('2026-01-01T00:00:00Z')
    const t1 = new Date('2026-01-01T00:01:00Z')
    const pending = applyConditions([{lastTransitionTime: '2025-01-01T00:00:00Z', status: 'False', type: 'Building'}], BUILD_PENDING, t0)
    expect(pending.find((c) => c.type === 'BuildPending')).to.deep.include({
      lastTransitionTime: '2026-01-01T00:00:00Z',
      reason: 'BuildPending',
      status: 'True',
    })
    expect(pending.find((c) => c.type === 'Building')!.lastTransitionTime).to.equal('2025-01-01T00:00:00Z')
    const done = applyConditions(pending, BUILD_SUCCEEDED, t1)
    expect(done.find((c) => c.type === 'BuildSuccess')).to.deep.include({reason: 'BuildSucceeded', status: 'True'})
    expect(done.find((c) => c.type === 'BuildPending')!.status).to.equal('True') // markBuildSucceeded leaves BuildPending alone
    const failed = applyConditions(pending, buildFailed('layering'), t1)
    expect(failed.find((c) => c.type === 'RenderDegraded')).to.deep.include({
      message: 'Failed to build configuration for pool layering: build failed',
      status: 'True',
    })
    expect(failed.find((c) => c.type === 'Degraded')!.status).to.equal('True')
  })

  it('detects the 4.14 hang from the image-build container state', () => {
    const pod = (exitCode?: number) => ({
      metadata: {name: 'build-x'},
      status: {
        containerStatuses: [
          {
            name: 'image-build',
            state: exitCode === undefined ? {running: {}} : {terminated: {exitCode, reason: exitCode ? 'Error' : 'Completed'}},
          },
          {name: 'wait-for-done', state: {running: {}}},
        ],
        phase: 'Running' as const,
      },
    })
    expect(hungFailure(pod())).to.equal(undefined)
    expect(hungFailure(pod(0))).to.equal(undefined)
    expect(hungFailure(pod(1))).to.equal('container image-build exited with code 1 (Error)')
  })

  it('recognises build objects only by all three labels', () => {
    const p = buildPod({
      baseImage: 'b',
      dockerfile: '',
      encodedMachineConfig: '',
      pool: 'layering',
      pullSecret: 'pull',
      pushSecret: 'push',
      rendered: 'rendered-layering-1',
      tag: 't',
    })
    expect(hasBuildLabels(p, 'layering', 'rendered-layering-1')).to.equal(true)
    expect(hasBuildLabels(p, 'worker')).to.equal(false)
    expect(hasBuildLabels({metadata: {labels: {'machineconfiguration.openshift.io/buildPod': ''}}})).to.equal(false)
    expect(buildSelector('layering', 'r')).to.equal(
      'machineconfiguration.openshift.io/buildPod,machineconfiguration.openshift.io/targetMachineConfigPool=layering,machineconfiguration.openshift.io/desiredConfig=r',
    )
  })

  it('builds the pod exactly as the operator does', () => {
    const p = buildPod({
      baseImage: 'quay.io/rhcos@sha256:1',
      dockerfile: '',
      encodedMachineConfig: '',
      pool: 'layering',
      pullSecret: 'pull',
      pushSecret: 'push-canonical',
      rendered: 'rendered-layering-1',
      tag: 'quay.io/org/os:rendered-layering-1',
    })
    expect(p.metadata).to.deep.equal({
      annotations: {'machineconfiguration.openshift.io/pool': ''},
      labels: {
        'machineconfiguration.openshift.io/buildPod': '',
        'machineconfiguration.openshift.io/desiredConfig': 'rendered-layering-1',
        'machineconfiguration.openshift.io/targetMachineConfigPool': 'layering',
      },
      name: 'build-rendered-layering-1',
      namespace: 'openshift-machine-config-operator',
    })
    const [build, wait] = p.spec!.containers
    expect([build.name, build.image, wait.name, wait.image]).to.deep.equal([
      'image-build',
      'quay.io/buildah/stable:latest',
      'wait-for-done',
      'quay.io/rhcos@sha256:1',
    ])
    expect(build.env).to.deep.equal(wait.env)
    expect(build.env).to.deep.equal([
      {name: 'DIGEST_CONFIGMAP_NAME', value: 'digest-rendered-layering-1'},
      {name: 'HOME', value: '/home/build'},
      {name: 'TAG', value: 'quay.io/org/os:rendered-layering-1'},
      {name: 'BASE_IMAGE_PULL_CREDS', value: '/tmp/base-image-pull-creds/config.json'},
      {name: 'FINAL_IMAGE_PUSH_CREDS', value: '/tmp/final-image-push-creds/config.json'},
    ])
    expect(build.securityContext).to.deep.equal({runAsGroup: 1000, runAsUser: 1000})
    expect(build.imagePullPolicy).to.equal('Always')
    expect(build.command!.slice(0, 2)).to.deep.equal(['/bin/bash', '-c'])
    expect(build.command![2]).to.include('buildah bud').and.include('--digestfile="/tmp/done/digestfile"')
    expect(wait.command![2]).to.include('oc create configmap').and.include('--from-file=digest=/tmp/done/digestfile')
    expect(p.spec!.restartPolicy).to.equal('Never')
    expect(p.spec!.serviceAccountName).to.equal('machine-os-builder')
    expect(p.spec!.volumes).to.deep.equal([
      {configMap: {name: 'mc-rendered-layering-1'}, name: 'machineconfig'},
      {configMap: {name: 'dockerfile-rendered-layering-1'}, name: 'dockerfile'},
      {name: 'base-image-pull-creds', secret: {items: [{key: '.dockerconfigjson', path: 'config.json'}], secretName: 'pull'}},
      {name: 'final-image-push-creds', secret: {items: [{key: '.dockerconfigjson', path: 'config.json'}], secretName: 'push-canonical'}},
      {emptyDir: {medium: 'Memory'}, name: 'done'},
    ])
    expect(build.volumeMounts!.map((m) => m.mountPath)).to.deep.equal([
      '/tmp/machineconfig',
      '/tmp/dockerfile',
      '/tmp/base-image-pull-creds',
      '/tmp/final-image-push-creds',
      '/tmp/done',
    ])
  })
})
