import {expect} from 'chai'
import {type Obj, R} from './client.js'
import type {Cluster} from './index.js'
import {dockerconfigjson, fastCluster, layeredPool, podLog, waitFor} from './helpers.js'
import {MCO_NS} from './names.js'

const events = async (cluster: Cluster) =>
  (await cluster.client.list(R.events, MCO_NS)).items.filter((e: Obj) => e.reason === 'MachineOSBuilderFailed')

const mobPods = async (cluster: Cluster) => (await cluster.client.list(R.pods, MCO_NS, 'k8s-app=machine-os-builder')).items

describe('sim: operator and machine-os-builder', () => {
  let cluster: Cluster
  beforeEach(async () => {
    cluster = await fastCluster()
  })
  afterEach(async () => {
    await cluster?.stop()
  })

  it("refuses to start the builder without on-cluster-build-config, then without its secrets, with the operator's messages", async () => {
    const c = cluster.client
    await c.create(R.pools, undefined, layeredPool('layered', {label: true}))
    const e1 = await waitFor('a MachineOSBuilderFailed event', async () => (await events(cluster))[0])
    expect(e1.message).to.equal('Failed to resync 4.14.12 because: on-cluster-build-config ConfigMap missing, did you create it?')
    expect(e1.type).to.equal('Warning')
    expect(e1.involvedObject).to.include({kind: 'ClusterOperator', name: 'machine-config'})
    const co = await waitFor('ClusterOperator machine-config Degraded', async () => {
      const o = await c.get(R.clusteroperators, undefined, 'machine-config')
      return o?.status?.conditions?.find((x: Obj) => x.type === 'Degraded' && x.status === 'True')
    })
    expect(co).to.include({
      message: 'Failed to resync 4.14.12 because: on-cluster-build-config ConfigMap missing, did you create it?',
      reason: 'MachineOSBuilderFailed',
    })
    expect(await c.get(R.deployments, MCO_NS, 'machine-os-builder')).to.equal(undefined)

    await c.create(R.configmaps, MCO_NS, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {name: 'on-cluster-build-config', namespace: MCO_NS},
      data: {
        baseImagePullSecretName: 'global-pull-secret-copy',
        finalImagePushSecretName: 'push-secret',
        finalImagePullspec: 'quay.io/example/os:latest',
      },
    })
    const e2 = await waitFor('the missing secret event', async () => (await events(cluster)).find((e) => e.message.includes('secret')))
    expect(e2.message).to.equal(
      'Failed to resync 4.14.12 because: secret global-pull-secret-copy from on-cluster-build-config is not found. Did you use the right secret name?',
    )
    await new Promise((r) => setTimeout(r, 100))
    expect(await c.get(R.deployments, MCO_NS, 'machine-os-builder')).to.equal(undefined)
    expect(await mobPods(cluster)).to.have.length(0)
  })

  it('starts machine-os-builder while a pool is layered and deletes it (and its pod) when none is', async () => {
    const c = cluster.client
    await c.create(R.secrets, MCO_NS, {...dockerconfigjson(), metadata: {name: 'push-secret', namespace: MCO_NS}})
    await c.create(R.configmaps, MCO_NS, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {name: 'on-cluster-build-config', namespace: MCO_NS},
      data: {
        baseImagePullSecretName: 'push-secret',
        finalImagePushSecretName: 'push-secret',
        finalImagePullspec: 'quay.io/example/os:latest',
        imageBuilderType: 'custom-pod-builder',
      },
    })
    await c.create(R.pools, undefined, layeredPool('infra', {label: false}))
    await new Promise((r) => setTimeout(r, 100))
    expect(await c.get(R.deployments, MCO_NS, 'machine-os-builder')).to.equal(undefined)

    await c.patch(R.pools, undefined, 'infra', {metadata: {labels: {'machineconfiguration.openshift.io/layering-enabled': ''}}})
    const d = await waitFor('the deployment', () => c.get(R.deployments, MCO_NS, 'machine-os-builder'))
    expect(d.spec.replicas).to.equal(1)
    expect(d.spec.selector).to.deep.equal({matchLabels: {'k8s-app': 'machine-os-builder'}})
    const tpl = d.spec.template
    expect(tpl.metadata.labels).to.deep.equal({'k8s-app': 'machine-os-builder'})
    expect(tpl.metadata.annotations).to.deep.equal({'target.workload.openshift.io/management': '{"effect": "PreferredDuringScheduling"}'})
    expect(tpl.spec.serviceAccountName).to.equal('machine-os-builder')
    expect(tpl.spec.containers).to.have.length(1)
    expect(tpl.spec.containers[0]).to.include({name: 'machine-os-builder'})
    expect(tpl.spec.containers[0].command).to.deep.equal(['/usr/bin/machine-os-builder'])
    expect(tpl.spec.containers[0].args).to.deep.equal(['start', '-v4'])

    const pod = await waitFor('a running builder pod', async () => (await mobPods(cluster)).find((p) => p.status?.phase === 'Running'))
    expect(pod.metadata.name).to.match(/^machine-os-builder-[a-z0-9]{10}-[a-z0-9]{5}$/)
    expect(pod.spec.nodeName).to.match(/compute\.internal$/)
    const log = await waitFor('builder log', async () => {
      const l = await podLog(c, pod.metadata.name, 'machine-os-builder')
      return l.text.includes('Watching MachineConfigPools') ? l : undefined
    })
    expect(log.status).to.equal(200)
    expect(log.text).to.match(/^I\d{4} \d\d:\d\d:\d\d\.\d{6} +1 start\.go:\d+\] Version: 4\.14\.12/m)
    expect(log.text).to.include('Starting MachineOSBuilder with image builder type "custom-pod-builder"')
    expect(log.text).to.include('[infra]')

    await c.patch(R.pools, undefined, 'infra', {metadata: {labels: {'machineconfiguration.openshift.io/layering-enabled': null}}})
    await waitFor('the deployment to go', async () => !(await c.get(R.deployments, MCO_NS, 'machine-os-builder')))
    await waitFor('the builder pod to go', async () => (await mobPods(cluster)).length === 0)
  })
})
