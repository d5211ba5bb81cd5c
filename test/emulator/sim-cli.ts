// Runs the simulated OpenShift 4.14 cluster's controllers (kubelet, MCO pieces,
// machine API) against any API server, until Ctrl-C.
//
//   tsx test/emulator/sim-cli.ts --kubeconfig FILE [--scripted | --real] [--quiet]
//   tsx test/emulator/sim-cli.ts --start-apiserver [--scripted]   # emulator + fixture + simulation
import {parseArgs} from 'node:util'
import {startCluster, startSimulation} from './sim/index.js'

const usage = `usage: cluster:sim -- --kubeconfig FILE [--scripted | --real] [--quiet]
       cluster:sim -- --start-apiserver [--scripted | --real] [--quiet]

Runs the simulated cluster (kubelet, Machine Config Operator, machine-os-builder,
node rollout, machine API) as API clients of the cluster in FILE until Ctrl-C.
--start-apiserver starts the emulated API server with the default fixture first
and prints its kubeconfig. Builds run for real with buildah and a loopback
registry when those are installed (auto), or from scripts (--scripted).`

async function main(): Promise<void> {
  const {values} = parseArgs({
    options: {
      kubeconfig: {type: 'string'},
      scripted: {type: 'boolean', default: false},
      real: {type: 'boolean', default: false},
      quiet: {type: 'boolean', short: 'q', default: false},
      'start-apiserver': {type: 'boolean', default: false},
      help: {type: 'boolean', short: 'h', default: false},
    },
  })
  if (values.help) {
    console.log(usage)
    return
  }
  if (values.scripted && values.real) throw new Error('--scripted and --real exclude each other')
  const mode = values.scripted ? 'scripted' : values.real ? 'real' : 'auto'
  const log = values.quiet ? undefined : (line: string) => console.log(`${new Date().toISOString()} ${line}`)
  let stop: () => Promise<void>
  if (values['start-apiserver']) {
    const cluster = await startCluster({mode, log})
    console.log(`API server: ${cluster.emulator.url}\nkubeconfig: ${cluster.kubeconfig}`)
    report(cluster.sim.mode, cluster.sim.why)
    stop = () => cluster.stop()
  } else {
    const kubeconfig = values.kubeconfig ?? process.env.KUBECONFIG?.split(':')[0]
    if (!kubeconfig) throw new Error(`--kubeconfig is required\n${usage}`)
    const sim = await startSimulation({kubeconfig, mode, log})
    report(sim.mode, sim.why)
    stop = () => sim.stop()
  }
  await new Promise<void>(resolve => {
    process.once('SIGINT', () => resolve())
    process.once('SIGTERM', () => resolve())
  })
  console.log('stopping…')
  await stop()
}

function report(mode: string, why?: string): void {
  console.log(`simulation running in ${mode} mode${why ? ` (${why})` : ''}; Ctrl-C to stop`)
}

main().catch(e => {
  console.error(`error: ${(e as Error).message}`)
  process.exit(1)
})
