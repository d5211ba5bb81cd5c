/** The help of `oc mob setup`: its description and examples. */

export const description = `Set up on-cluster OS image builds, interactively or from flags.

Does the "Prerequisites" and "Initial Setup" of on-cluster builds, checking every assumption first:
- where the image goes: an ImageStream in openshift-machine-config-operator (internal registry;
  created when missing) or an external registry pullspec;
- the base image pull secret: a copy of the global pull secret (global-pull-secret-copy) or an
  existing secret; the push secret: the builder-dockercfg-* secret for the internal registry, or
  an existing secret;
- the on-cluster-build-config ConfigMap (imageBuilderType written explicitly: custom-pod-builder
  unless --builder build) and, with --custom-dockerfile, the pool's entry in
  on-cluster-build-custom-dockerfile (other pools' entries are kept);
- the pool (created when missing: MachineConfigs of roles [POOL, worker], nodes labelled
  node-role.kubernetes.io/POOL=) and, with --enable, its opt-in label.

On a terminal, values that are missing are asked for (with what the cluster has as choices and
the current settings as defaults). Without one, settings not given keep their current values in
on-cluster-build-config (registry, secrets, builder: a re-run changes only what its flags say), and
a value that has none is an error naming its flag.

On OpenShift 4.18+ (the MachineOSConfig API is served), setup writes the pool's MachineOSConfig
instead (imageBuilderType Job, renderedImagePushSpec, renderedImagePushSecret, baseImagePullSecret
unless the global pull secret is used, the custom Dockerfile as its containerFile, at most 4096
characters), and creating it opts the pool in, so the first build starts at once.

Preflight checks (permissions, MachineConfig API, secrets and their registry credentials, the global
pull secret nodes pull with, the pullspec, degraded pools, the custom Dockerfile) run before
anything changes; then the plan is shown (secrets by name only) and confirmed (--yes skips).
Running it again changes nothing; objects that exist with other content are shown as a diff and
only overwritten with --force. If it stops midway, it says what was done; run it again to finish.`

export const examples = [
  {command: 'oc mob setup', description: 'Interactive: answer the questions.'},
  {
    command: 'oc mob setup --pool layering --imagestream os-image --clone-global-pull-secret --yes',
    description: 'Internal registry, from flags only.',
  },
  {
    command:
      'oc mob setup --final-pullspec quay.io/myorg/os-image --clone-global-pull-secret --push-secret quay-push --custom-dockerfile ./Dockerfile --enable --yes',
    description: 'External registry, a custom Dockerfile, and opt the pool in.',
  },
  {
    command: 'oc mob setup --imagestream os-image --clone-global-pull-secret --dry-run -o yaml',
    description: 'Print the objects that would be written.',
  },
  {
    command: 'oc mob setup --custom-dockerfile ./Dockerfile --yes',
    description: 'Change only the custom Dockerfile; everything else stays as it is.',
  },
]
