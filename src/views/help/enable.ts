/** The help of `oc mob enable`: its description and examples. */

export const description = `Opt a MachineConfigPool into on-cluster builds.

Runs the same preflight checks as setup on the build settings in the cluster (permissions, secrets
and their registry credentials, the global pull secret, the pullspec, degraded pools, the custom
Dockerfile), then adds the label machineconfiguration.openshift.io/layering-enabled to the pool (a
JSON merge patch of that label only). The Machine Config Operator then starts the
machine-os-builder, which builds the pool's image; nodes of the pool roll onto it.

--wait follows all of it: the machine-os-builder starting (or, if it cannot, why: the operator's
MachineOSBuilderFailed status, or the builder's own log), the build (a failed build shows the end of
its log), and the rollout, node by node. --build runs the build from this workstation (as
\`oc mob build\` does) instead of waiting for the cluster's builder.

On OpenShift 4.18+ the pool's MachineOSConfig, which \`oc mob setup\` writes, is the opt-in: enable
checks it the same way and, with --wait, follows the MachineOSBuild of the pool's rendered config
and the rollout; a pool without one is told to run setup (exit 6).

A build that cannot make progress ends --wait with exit code 8, its cause and what to do (the build is
left as it is): the machine-os-builder or the build pod unschedulable (the scheduler's message is
shown), an image that cannot be pulled, an evicted or OOMKilled build, or a digest ConfigMap that does
not appear within --stall-timeout after image-build finished. On 4.18+ a failed attempt that the Job
retries is reported ("attempt 2 of 4") and the wait goes on.`

export const examples = [
  {command: 'oc mob enable layering', description: 'Opt in and return.'},
  {command: 'oc mob enable layering --wait', description: 'Opt in and follow the builder, the build and the rollout.'},
  {command: 'oc mob enable layering --build --wait', description: 'Opt in, build from here, then follow the rollout.'},
]
