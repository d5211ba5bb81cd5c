/** The help of `oc mob status`: its description and examples. */

export const description = `Show where on-cluster image builds stand.

For every MachineConfigPool: whether it is opted into on-cluster builds, the builder backend (a build
pod or an OpenShift Build, from on-cluster-build-config's imageBuilderType), the state of its build
with its age (a 4.14 build pod that stays Running after image-build failed counts as failed), the
rendered config it targets, the image built for it and whether that image was built from the current
rendered config (from oc-mob's image history and the build objects in the cluster; "unknown" when
neither can tell), and how many of its nodes are updated, updating and degraded. Then the
machine-os-builder (its pods, restarts, and the machine-config ClusterOperator's MachineOSBuilderFailed)
and every problem found, each with the next step.

On OpenShift 4.18+, a pool with a MachineOSConfig is shown as opted in by it ("yes (MOSC)"), built
by a Job: its build is the MachineOSBuild of its rendered config, its image the one the
MachineOSConfig reports as current, which matches the config when that build made it. A build under
way or failed shows its Job's attempt ("attempt 2 of 4") and why earlier attempts failed; a failed one
its cause as the MachineOSBuild records it (4.22+; before, only "Build Failed": then the build log
holds it); the pool's ImageBuildDegraded (4.20+) is a problem; where the cluster serves OSImageStream
(4.23/5.0+), the pool's OS stream and its base image; with a pool name, the latest events of its
builds (5.0+).

On 4.14/4.15, a build interrupted midway can leave the mc-/dockerfile- ConfigMaps of the pool's
rendered config without a build pod, or clear the pool's Build* conditions while its image stays:
both are problems, with the cleanup and build that fix them.

With a pool name, adds a row per node with its desired and current config and image and its
machine-config daemon state; --history lists the pool's image history (the entries
\`oc mob rollback POOL --to N\` takes).

--watch keeps the view current from watches on the API server (no polling): on a terminal it redraws
in place, otherwise it prints a new block (or JSON document) each time something shown changes.
Ctrl-C ends it (exit 0).

Reads only, with one list per kind of object whatever the size of the cluster. The one write: an
image seen on a pool that oc-mob's image history does not know yet is recorded there as "observed"
(skipped silently without the right to do so).

-o json|yaml prints the same information in a stable shape (see the README).`

export const examples = [
  {command: 'oc mob status', description: 'All pools.'},
  {command: 'oc mob status layering', description: 'One pool and its nodes.'},
  {command: 'oc mob status layering --history', description: 'The images the pool had, to pick one for `oc mob rollback`.'},
  {command: 'oc mob status --watch', description: 'Follow changes as they happen.'},
  {command: 'oc mob status -o json | jq .pools[].image', description: 'For scripts.'},
]
