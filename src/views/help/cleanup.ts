/** The help of `oc mob cleanup`: its description and examples. */

export const description = `Delete what a failed or abandoned build of a pool left behind and clear the pool's stuck build
conditions, so a new build can start, without removing and re-adding the layering label.

What it deletes, found strictly by the operator's build labels of the pool and the names derived from
the rendered config they name (openshift-machine-config-operator namespace):
  - the build pod or OpenShift Build build-<rendered>
  - the ConfigMaps mc-<rendered>, dockerfile-<rendered> and digest-<rendered>
  - <name>-canonical secret copies when on-cluster-build-config names <name> (the next build makes
    them again); a copy the build config points at itself is kept, as builds need it
Then on the pool: the Build* conditions are removed (as onclustertesting's clear-build-status does),
the Degraded and RenderDegraded a failed build caused are set back to False, and build references
in spec/status configuration.source are dropped. The build config, the custom Dockerfile ConfigMap,
the pull and push secrets and everything of other pools are never touched.

The list is shown first and confirmed (on a terminal; --yes otherwise). A build that is still
running is refused unless --force (a build pod that stays Running after image-build failed, the 4.14
hang, counts as failed). --save DIR first saves the Dockerfile, the decoded MachineConfig, the
digest and the logs of every container (and their previous run) of what is deleted.

When the pool has no image yet, the cluster's machine-os-builder starts a new build by itself once
the conditions are cleared; otherwise run \`oc mob build POOL\`.

OpenShift 4.18+ (a pool with a MachineOSConfig): a MachineOSBuild that failed or was interrupted
keeps the machine-os-builder from building the same config again, and the next build deletes it with
its evidence. Cleanup deletes that MachineOSBuild, its Job build-<mosb> and the Job's pods, and its
ephemeral ConfigMaps and secret copies (found by the builder's labels of the pool); a Job left behind
by a deleted build (it would stop a new build of that name); and clears a current-machine-os-build
annotation naming a build that no longer exists. The builder then starts a new build by itself. The
MachineOSConfig, succeeded builds and their images are never touched. A rebuild annotation the
builder has not acted on, the pool's ImageBuildDegraded and degradations that stop the builder are
reported. --save DIR first keeps the MachineOSBuild, MachineOSConfig and Job (YAML and conditions),
the log of every attempt of the Job, the events, the Containerfile and the MachineConfig.`

export const examples = [
  {command: 'oc mob cleanup layering', description: 'Show what is left of the failed build, confirm, clean up.'},
  {command: 'oc mob cleanup layering --dry-run', description: 'Only show it.'},
  {
    command: 'oc mob cleanup layering --save ./build-failure --yes',
    description: 'Keep the evidence for a bug report, then clean up without asking.',
  },
  {command: 'oc mob cleanup --all', description: 'Every pool.'},
]
