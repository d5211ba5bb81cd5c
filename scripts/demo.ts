/**
 * `npm run demo`: oc-mob's main job on a laptop with no cluster.
 *
 * Starts the emulated OpenShift 4.14 cluster (API server, kubelet, Machine Config Operator, machine
 * API) — with real image builds when buildah and docker-registry are installed, scripted builds
 * otherwise — then works through on-cluster layering as an administrator would, printing each
 * command before its output, and stops everything it started. Steps that oc-mob does not cover yet
 * are done through the API and printed as the `oc` commands they stand for.
 */
import {execa} from 'execa'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {startCluster} from '../test/emulator/sim/index.js'
import {KubeClient} from '../src/lib/kube/client.js'
import {loadKubeconfig} from '../src/lib/kube/kubeconfig.js'
import {R} from '../src/lib/kube/resources.js'
import type {MachineConfigPool, Node, Secret} from '../src/lib/kube/types.js'
import {waitFor} from '../src/lib/kube/watch.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const MCO_NS = 'openshift-machine-config-operator'
const POOL = 'layering'
const bold = (s: string): string => (process.stdout.isTTY && !process.env.NO_COLOR ? `\u001B[1m${s}\u001B[22m` : s)

function say(text: string): void {
  process.stdout.write(`\n${bold('# ' + text)}\n`)
}

async function ocMob(kubeconfig: string, args: string[], expectExit = 0): Promise<void> {
  process.stdout.write(`${bold('$ oc mob ' + args.join(' '))}\n`)
  const r = await execa(process.execPath, [path.join(ROOT, 'bin', 'dev.js'), ...args], {
    env: {KUBECONFIG: kubeconfig}, extendEnv: true, reject: false, stdio: ['ignore', 'inherit', 'inherit'],
  })
  if (r.exitCode !== expectExit) throw new Error(`oc mob ${args.join(' ')} exited ${r.exitCode}, expected ${expectExit}`)
}

function manual(command: string): void {
  process.stdout.write(`${bold('$ ' + command)}   ${process.stdout.isTTY ? '\u001B[2m' : ''}(by hand: not an oc-mob command yet)${process.stdout.isTTY ? '\u001B[22m' : ''}\n`)
}

const b64 = (s: string): string => Buffer.from(s).toString('base64')

async function main(): Promise<void> {
  say('Starting an emulated OpenShift 4.14 cluster on 127.0.0.1')
  const cluster = await startCluster({delays: {buildMs: 2000, rebootMs: 1500}, mode: 'auto'})
  const stop = async (): Promise<void> => {
    await cluster.stop()
  }

  process.once('SIGINT', () => {
    void stop().finally(() => process.exit(130))
  })
  try {
    const {sim} = cluster
    process.stdout.write(sim.mode === 'real'
      ? `Real image builds: buildah builds and pushes to a registry on ${sim.registry!.host}; base OS image ${sim.baseImage}\n`
      : `Scripted image builds (${sim.why}); install buildah and docker-registry for real ones\n`)
    process.stdout.write(`KUBECONFIG=${cluster.kubeconfig}\n`)
    const kc = cluster.kubeconfig
    const client = new KubeClient(loadKubeconfig({kubeconfig: kc}))

    say('Where things stand before any setup')
    await ocMob(kc, ['status'])

    say('Setting up on-cluster builds (oc mob setup will do all of this, with checks)')
    const registry = sim.mode === 'real' ? sim.registry!.host : 'image-registry.openshift-image-registry.svc:5000'
    const finalPullspec = `${registry}/openshift-machine-config-operator/os-image:latest`
    manual(`oc create secret docker-registry global-pull-secret-copy -n ${MCO_NS} --from-file=.dockerconfigjson=<(global pull secret)`)
    const global = await client.get<Secret>(R.secrets, 'pull-secret', 'openshift-config')
    await client.create<Secret>(R.secrets, {
      data: {'.dockerconfigjson': global.data!['.dockerconfigjson']}, metadata: {name: 'global-pull-secret-copy', namespace: MCO_NS}, type: 'kubernetes.io/dockerconfigjson',
    })
    manual(`oc create secret docker-registry os-image-push -n ${MCO_NS} --docker-server=${registry} ...`)
    await client.create<Secret>(R.secrets, {
      data: {'.dockerconfigjson': b64(JSON.stringify({auths: {[registry]: {auth: b64('demo:demo')}}}))},
      metadata: {name: 'os-image-push', namespace: MCO_NS}, type: 'kubernetes.io/dockerconfigjson',
    })
    manual(`oc create configmap on-cluster-build-config -n ${MCO_NS} --from-literal=finalImagePullspec=${finalPullspec} ...`)
    await client.create(R.configMaps, {
      data: {baseImagePullSecretName: 'global-pull-secret-copy', finalImagePullspec: finalPullspec, finalImagePushSecretName: 'os-image-push', imageBuilderType: 'custom-pod-builder'},
      metadata: {name: 'on-cluster-build-config', namespace: MCO_NS},
    })
    manual(`oc create -f mcp-${POOL}.yaml   # selects MachineConfigs of roles ${POOL} and worker`)
    await client.create<MachineConfigPool>(R.machineConfigPools, {
      metadata: {name: POOL},
      spec: {
        machineConfigSelector: {matchExpressions: [{key: 'machineconfiguration.openshift.io/role', operator: 'In', values: [POOL, 'worker']}]},
        nodeSelector: {matchLabels: {[`node-role.kubernetes.io/${POOL}`]: ''}},
      },
    })
    manual(`oc create -f 99-${POOL}-motd.yaml   # a MachineConfig writing /etc/motd.d/oc-mob-demo`)
    await client.create(R.machineConfigs, {
      metadata: {labels: {'machineconfiguration.openshift.io/role': POOL}, name: `99-${POOL}-motd`},
      spec: {config: {ignition: {version: '3.4.0'}, storage: {files: [{contents: {source: 'data:,built%20on%20the%20cluster%20by%20oc-mob%0A'}, mode: 420, overwrite: true, path: '/etc/motd.d/oc-mob-demo'}]}}},
    })
    const rendered = await waitFor<MachineConfigPool, string>(client, R.machineConfigPools, POOL, (p) => p?.spec?.configuration?.name || undefined, {timeoutMs: 30_000})
    process.stdout.write(`pool ${POOL} renders to ${rendered}\n`)

    say('Opting the pool in: the operator starts the machine-os-builder, which starts a build')
    manual(`oc label mcp/${POOL} machineconfiguration.openshift.io/layering-enabled=`)
    await client.patch(R.machineConfigPools, POOL, {metadata: {labels: {'machineconfiguration.openshift.io/layering-enabled': ''}}})

    say('Following that build from the workstation: oc mob build joins it instead of starting another')
    await ocMob(kc, ['build', POOL, '--follow'])
    await ocMob(kc, ['status'])

    say('Moving a worker into the layered pool: it is cordoned, updated and rebooted into the image')
    const image = (await client.get<MachineConfigPool>(R.machineConfigPools, POOL)).metadata.annotations!['machineconfiguration.openshift.io/newestImageEquivalentConfig']
    const nodes = await client.list<Node>(R.nodes, {labelSelector: 'node-role.kubernetes.io/worker'})
    const worker = nodes.items[0].metadata.name!
    manual(`oc label node/${worker} node-role.kubernetes.io/${POOL}=`)
    await client.patch(R.nodes, worker, {metadata: {labels: {[`node-role.kubernetes.io/${POOL}`]: ''}}}, {type: 'strategic'})
    await waitFor<Node, true>(client, R.nodes, worker, (n) => {
      const a = n?.metadata.annotations ?? {}
      return a['machineconfiguration.openshift.io/currentImage'] === image && a['machineconfiguration.openshift.io/state'] === 'Done' ? true : undefined
    }, {timeoutMs: 120_000})
    await ocMob(kc, ['status', POOL])

    say('The Dockerfile the cluster builds for the pool, at any time, and its whole build context')
    await ocMob(kc, ['dockerfile', POOL])
    const ctx = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-mob-demo-ctx-'))
    await ocMob(kc, ['dockerfile', POOL, '--export', ctx, '--force'])
    fs.rmSync(ctx, {force: true, recursive: true})

    say('A custom Dockerfile with a typo is refused before anything is created')
    manual(`oc create configmap on-cluster-build-custom-dockerfile -n ${MCO_NS} --from-file=${POOL}=Dockerfile`)
    await client.create(R.configMaps, {data: {[POOL]: 'FROM configs AS final\nRUNN echo typo\n'}, metadata: {name: 'on-cluster-build-custom-dockerfile', namespace: MCO_NS}})
    await ocMob(kc, ['build', POOL, '--rebuild'], 7)

    say('A custom Dockerfile whose build fails: the log lines are shown, the objects kept for inspection')
    await client.patch(R.configMaps, 'on-cluster-build-custom-dockerfile', {data: {[POOL]: 'FROM configs AS final\nRUN echo "checking the image" && exit 3\n'}}, {namespace: MCO_NS})
    if (sim.mode === 'scripted') {
      sim.addScripts([{exitCode: 3, logLines: ['STEP 9/10: RUN echo "checking the image" && exit 3', 'checking the image', 'error building at STEP "RUN echo "checking the image" && exit 3": exit status 3'], match: {container: 'image-build', podName: /^build-/}}])
    }

    await ocMob(kc, ['build', POOL, '--rebuild'], 8)
    await ocMob(kc, ['logs', POOL, '--tail', '3'])
    await ocMob(kc, ['status', POOL])

    say('Fixed, and built again (a changed custom Dockerfile alone never triggers a build in 4.14: --rebuild does)')
    await client.patch(R.configMaps, 'on-cluster-build-custom-dockerfile', {data: {[POOL]: 'FROM configs AS final\nRUN echo "built with oc-mob" > /etc/oc-mob-release\n'}}, {namespace: MCO_NS})
    if (sim.mode === 'scripted') sim.addScripts([{exitCode: 0, logLines: ['STEP 9/10: RUN echo "built with oc-mob" > /etc/oc-mob-release', 'Writing manifest to image destination'], match: {container: 'image-build', podName: /^build-/}}])
    await ocMob(kc, ['build', POOL, '--rebuild'])

    say('The same, for scripts')
    await ocMob(kc, ['status', POOL, '-o', 'json'])

    say('Commands still to come say so, and change nothing')
    await ocMob(kc, ['rollback', POOL], 10)
  } finally {
    say('Stopping the emulated cluster')
    await stop()
  }
}

main().then(() => process.exit(0), (error: unknown) => {
  process.stderr.write(`demo failed: ${(error as Error).stack ?? String(error)}\n`)
  process.exit(1)
})
