// Runs the simulated OpenShift cluster's controllers (kubelet, MCO pieces, machine API) against any
// API server, until Ctrl-C.
//
//   tsx emulator/sim-cli.ts --kubeconfig FILE [--generation 4.14|4.19] [--scripted | --real] [--quiet]
//   tsx emulator/sim-cli.ts --start-apiserver [--generation 4.14|4.19] [--scripted]   # emulator + fixture + simulation
import {parseArgs} from 'node:util'
import {DEFAULT_GENERATION, parseGeneration, servesMachineOS} from './generation.js'
import {buildModeFromEnv, startCluster, startSimulation} from './sim/index.js'

const usage = `usage: cluster:sim -- --kubeconfig FILE [--generation 4.14|4.19] [--scripted | --real] [--quiet]
       cluster:sim -- --start-apiserver [--generation 4.14|4.19] [--scripted | --real] [--quiet]

Runs the simulated cluster (kubelet, Machine Config Operator, machine-os-builder,
node rollout, machine API) as API clients of the cluster in FILE until Ctrl-C.
--start-apiserver starts the emulated API server with the default fixture first
and prints its kubeconfig. --generation picks what the builder acts on, the same
switch and default (${DEFAULT_GENERATION}) as npm run cluster: 4.19 builds pools that
have a MachineOSConfig, 4.14 pools labelled for on-cluster builds. Builds run for
real with buildah and a loopback registry when those are installed, or from
scripts: OC_MOB_SIM_BUILDS=scripted|real|auto (default auto), or --scripted/--real.`

async function main(): Promise<void> {
  const {values} = parseArgs({
    options: {
      generation: {type: 'string', default: DEFAULT_GENERATION},
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
  const mode = values.scripted ? 'scripted' : values.real ? 'real' : buildModeFromEnv()
  const generation = parseGeneration(values.generation)
  const machineOS = servesMachineOS(generation)
  const log = values.quiet ? undefined : (line: string) => console.log(`${new Date().toISOString()} ${line}`)
  let stop: () => Promise<void>
  if (values['start-apiserver']) {
    const cluster = await startCluster({controllers: {machineOS}, emulator: {groups: {machineOS}}, log, mode})
    console.log(`API server: ${cluster.emulator.url}\nkubeconfig: ${cluster.kubeconfig}`)
    report(generation, cluster.sim.mode, cluster.sim.why)
    stop = () => cluster.stop()
  } else {
    const kubeconfig = values.kubeconfig ?? process.env.KUBECONFIG?.split(':')[0]
    if (!kubeconfig) throw new Error(`--kubeconfig is required\n${usage}`)
    const sim = await startSimulation({controllers: {machineOS}, kubeconfig, log, mode})
    report(generation, sim.mode, sim.why)
    stop = () => sim.stop()
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve())
    process.once('SIGTERM', () => resolve())
  })
  console.log('stopping…')
  await stop()
}

function report(generation: string, mode: string, why?: string): void {
  console.log(`simulation of an OpenShift ${generation} cluster running, ${mode} builds${why ? ` (${why})` : ''}; Ctrl-C to stop`)
}

main().catch((e) => {
  console.error(`error: ${(e as Error).message}`)
  process.exit(1)
})
