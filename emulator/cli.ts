// `npm run cluster`: an emulated cluster (with the default fixture when present) until Ctrl-C.
//   --generation 4.14|4.19 (default 4.19: the MachineOSConfig API)  --fixture FILE  --no-fixture  --port N  --dir DIR
//   --no-image  --no-build  --no-machine  --no-machine-os (= --generation 4.14)
import {runCluster} from './index.js'

try {
  await runCluster(process.argv.slice(2))
  process.exit(0)
} catch (error) {
  process.stderr.write(`cluster: ${(error as Error).message}\n`)
  process.exit(1)
}
