/**
 * `npm run demo`: oc-mob's main job on a laptop with no cluster.
 *
 * Starts the emulated OpenShift 4.14 cluster (API server, kubelet, Machine Config Operator, machine
 * API) — with real image builds when buildah and docker-registry are installed, scripted builds
 * otherwise — then works through on-cluster layering as an administrator would, printing each
 * command before its output, and stops everything it started; then does the same briefly on an
 * OpenShift 4.18+ cluster, where a MachineOSConfig opts a pool in. Steps that oc-mob does not cover
 * are done through the API and printed as the `oc` commands they stand for.
 */
import {execa} from 'execa'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {startCluster} from '../emulator/sim/index.js'
import {KubeClient} from '../src/lib/kube/client.js'
import {loadKubeconfig} from '../src/lib/kube/kubeconfig.js'
import {R} from '../src/lib/kube/resources.js'
import type {Node, Secret} from '../src/lib/kube/types.js'

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
    env: {KUBECONFIG: kubeconfig},
    extendEnv: true,
    reject: false,
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  if (r.exitCode !== expectExit) throw new Error(`oc mob ${args.join(' ')} exited ${r.exitCode}, expected ${expectExit}`)
}

function manual(command: string): void {
  process.stdout.write(
    `${bold('$ ' + command)}   ${process.stdout.isTTY ? '\u001B[2m' : ''}(by hand)${process.stdout.isTTY ? '\u001B[22m' : ''}\n`,
  )
}

const b64 = (s: string): string => Buffer.from(s).toString('base64')

async function main(): Promise<void> {
  say('Starting an emulated OpenShift 4.14 cluster on 127.0.0.1')
  // OC_MOB_SIM_BUILDS=scripted|real|auto (default auto) picks how the simulated kubelet builds.
  const cluster = await startCluster({delays: {buildMs: 2000, rebootMs: 1500}, mode: 'auto'})
  const stop = async (): Promise<void> => {
    await cluster.stop()
  }

  process.once('SIGINT', () => {
    void stop().finally(() => process.exit(130))
  })
  try {
    const {sim} = cluster
    process.stdout.write(
      sim.mode === 'real'
        ? `Real image builds: buildah builds and pushes to a registry on ${sim.registry!.host}; base OS image ${sim.baseImage}\n`
        : `Scripted image builds (${sim.why}): each RUN step's echo and exit are played, nothing is built; install buildah and docker-registry for real ones\n`,
    )
    process.stdout.write(`KUBECONFIG=${cluster.kubeconfig}\n`)
    const kc = cluster.kubeconfig
    const client = new KubeClient(loadKubeconfig({kubeconfig: kc}))

    say('Where things stand before any setup')
    await ocMob(kc, ['status'])

    say("The registry credentials and the content to build in are the administrator's own")
    const registry = sim.mode === 'real' ? sim.registry!.host : 'quay.io'
    manual(`oc create secret docker-registry os-image-push -n ${MCO_NS} --docker-server=${registry} --docker-username=demo ...`)
    await client.create<Secret>(R.secrets, {
      data: {'.dockerconfigjson': b64(JSON.stringify({auths: {[registry]: {auth: b64('demo:demo')}}}))},
      metadata: {name: 'os-image-push', namespace: MCO_NS},
      type: 'kubernetes.io/dockerconfigjson',
    })
    if (sim.mode !== 'real') {
      // The nodes must be able to pull the image: the global pull secret needs the registry too.
      manual(`oc set data secret/pull-secret -n openshift-config --from-file=.dockerconfigjson=<(... with ${registry} added)`)
      await client.update<Secret>(
        R.secrets,
        'pull-secret',
        (sec) => {
          const cfg = JSON.parse(Buffer.from(sec.data!['.dockerconfigjson'], 'base64').toString())
          cfg.auths[registry] = {auth: b64('demo:demo')}
          sec.data = {'.dockerconfigjson': b64(JSON.stringify(cfg))}
        },
        {namespace: 'openshift-config'},
      )
    }

    manual(`oc create -f 99-${POOL}-motd.yaml   # a MachineConfig for role ${POOL} writing /etc/motd.d/oc-mob-demo`)
    await client.create(R.machineConfigs, {
      metadata: {labels: {'machineconfiguration.openshift.io/role': POOL}, name: `99-${POOL}-motd`},
      spec: {
        config: {
          ignition: {version: '3.4.0'},
          storage: {
            files: [
              {
                contents: {source: 'data:,built%20on%20the%20cluster%20by%20oc-mob%0A'},
                mode: 420,
                overwrite: true,
                path: '/etc/motd.d/oc-mob-demo',
              },
            ],
          },
        },
      },
    })

    say('Setting up: checks, a plan, the secrets, the build config and the pool')
    const finalPullspec = `${registry}/openshift-machine-config-operator/os-image`
    const setup = [
      'setup',
      '--no-registry-check',
      '--pool',
      POOL,
      '--final-pullspec',
      finalPullspec,
      '--clone-global-pull-secret',
      '--push-secret',
      'os-image-push',
      '--yes',
    ]
    await ocMob(kc, setup)
    say('Setup can run again safely: nothing changes the second time')
    await ocMob(kc, setup)

    say('Opting the pool in and following the machine-os-builder and its build')
    await ocMob(kc, ['enable', POOL, '--wait'])

    say('Moving a worker into the layered pool: cordoned, updated and rebooted into the image')
    const nodes = await client.list<Node>(R.nodes, {labelSelector: 'node-role.kubernetes.io/worker'})
    const worker = nodes.items[0].metadata.name!
    await ocMob(kc, ['nodes', 'add', POOL, worker, '--yes', '--wait'])
    await ocMob(kc, ['status', POOL])

    say('The Dockerfile the cluster builds for the pool, at any time, and its whole build context')
    await ocMob(kc, ['dockerfile', POOL])
    const ctx = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-mob-demo-ctx-'))
    await ocMob(kc, ['dockerfile', POOL, '--export', ctx, '--force'])

    say('A custom Dockerfile with a typo is refused before anything is changed')
    const dockerfile = path.join(ctx, 'custom.Dockerfile')
    fs.writeFileSync(dockerfile, 'FROM configs AS final\nRUNN echo typo\n')
    await ocMob(kc, [...setup, '--custom-dockerfile', dockerfile], 7)

    say('A custom Dockerfile whose build fails: its log lines are shown, the objects kept for inspection')
    fs.writeFileSync(dockerfile, 'FROM configs AS final\nRUN echo "checking the image" && exit 3\n')
    await ocMob(kc, [...setup, '--custom-dockerfile', dockerfile, '--force'])
    await ocMob(kc, ['build', POOL, '--rebuild'], 8)
    await ocMob(kc, ['logs', POOL, '--tail', '3'])
    await ocMob(kc, ['status', POOL])

    say('Cleaning up after the failed build, without touching the pool label')
    await ocMob(kc, ['cleanup', POOL, '--yes'])

    say('Fixed and built again (in 4.14 a changed custom Dockerfile alone never triggers a build)')
    fs.writeFileSync(dockerfile, 'FROM configs AS final\nRUN echo "built with oc-mob" > /etc/oc-mob-release\n')
    await ocMob(kc, [...setup, '--custom-dockerfile', dockerfile, '--force'])
    await ocMob(kc, ['build', POOL, '--rebuild', '--follow'])
    fs.rmSync(ctx, {force: true, recursive: true})

    say('The images this pool has had, and rolling back to the previous one')
    await ocMob(kc, ['status', POOL, '--history'])
    await ocMob(kc, ['rollback', POOL, '--yes', '--wait'])
    await ocMob(kc, ['status', POOL])

    say('The same, for scripts')
    await ocMob(kc, ['status', POOL, '-o', 'json'])
  } finally {
    say('Stopping the emulated cluster')
    await stop()
  }

  await newerGeneration()
}

/** OpenShift 4.18+: a MachineOSConfig opts a pool in; oc mob shows, follows and rebuilds its builds, and renders its Containerfile. */
async function newerGeneration(): Promise<void> {
  say('Starting an emulated OpenShift 4.18+ cluster (MachineOSConfig API, scripted builds)')
  const cluster = await startCluster({
    controllers: {machineOS: true},
    delays: {lineMs: 150},
    emulator: {groups: {machineOS: true}},
    mode: 'scripted',
  })
  try {
    const kc = cluster.kubeconfig
    const client = new KubeClient(loadKubeconfig({kubeconfig: kc}))
    manual(`oc create secret docker-registry os-image-push -n ${MCO_NS} --docker-server=quay.io --docker-username=demo ...`)
    await client.create<Secret>(R.secrets, {
      data: {'.dockerconfigjson': b64(JSON.stringify({auths: {'quay.io': {auth: b64('demo:demo')}}}))},
      metadata: {name: 'os-image-push', namespace: MCO_NS},
      type: 'kubernetes.io/dockerconfigjson',
    })

    say("Setting up writes the pool's MachineOSConfig, which opts it in")
    await ocMob(kc, [
      'setup',
      '--no-registry-check',
      '--pool',
      'worker',
      '--final-pullspec',
      'quay.io/myorg/os-image',
      '--push-secret',
      'os-image-push',
      '--yes',
    ])

    say('The machine-os-builder starts a build at once: enable --wait follows it and the rollout to the nodes')
    await ocMob(kc, ['enable', 'worker', '--wait'])
    await ocMob(kc, ['status'])

    say('The Containerfile the machine-os-builder builds for the pool, and the build context its Job gets')
    await ocMob(kc, ['dockerfile', 'worker'])
    const ctx = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-mob-demo-mosc-'))
    try {
      await ocMob(kc, ['dockerfile', 'worker', '--export', ctx])
    } finally {
      fs.rmSync(ctx, {force: true, recursive: true})
    }

    say("Building again (the rebuild annotation), with the log of the Job's pod")
    await ocMob(kc, ['build', 'worker', '--rebuild', '--follow'])
    await ocMob(kc, ['status', 'worker'])
  } finally {
    say('Stopping the emulated cluster')
    await cluster.stop()
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`demo failed: ${(error as Error).stack ?? String(error)}\n`)
    process.exit(1)
  },
)
