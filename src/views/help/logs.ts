/** The help of `oc mob logs`: its description and examples. */

export const description = `Show the log of a pool's current or most recent build, or of the machine-os-builder.

The build is the pool's build pod in openshift-machine-config-operator (container image-build, or wait-for-done with -c), found by the operator's labels: build-<rendered config> when it exists, otherwise the pool's most recent build pod (a note on stderr says when it is for an older rendered config). When on-cluster-build-config selects the OpenShift image builder (imageBuilderType absent or openshift-image-builder) and a Build exists, the Build's log is shown instead. On OpenShift 4.18+, a pool with a MachineOSConfig builds in the pod of the Job build-<MachineOSBuild>: the MachineOSBuild of the pool's rendered config (otherwise its newest), the Job's newest pod.

Without a pool, the only pool with a build is used; --all shows every pool with a build, each line prefixed with "[pool] " (with -f interleaved as lines arrive, otherwise one pool after another). --all -f also follows the builds that start while it runs (a pool opted in, or given a new rendered config), and ends once no pool is building.

-f follows the log until the container (or Build) ends, waiting for a build pod that has not started yet and resuming a dropped connection without losing or repeating lines. Ctrl-C stops following (exit 130); the build goes on in the cluster.

When there is no build pod, the command says why — the build succeeded and the operator removed the pod, the build was never started (\`oc mob build POOL\` starts one), the pool is not opted in — and exits 6. The log is plain text: -o json and -o yaml are refused (exit 2).`

export const examples = [
  {command: 'oc mob logs layering -f', description: "Follow the pool's build to its end."},
  {command: 'oc mob logs layering -c wait-for-done', description: 'The container that publishes the digest.'},
  {command: 'oc mob logs --all -f', description: 'Every build until none is running, lines prefixed with the pool.'},
  {command: 'oc mob logs --builder -f --tail 50', description: "The machine-os-builder's log."},
]
