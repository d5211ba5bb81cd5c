/** The help of `oc mob setup`: its description, examples, and the flags of the settings and the pool. */
import {Flags} from '@oclif/core'

export const description = `Set up on-cluster OS image builds, interactively or from flags.

Does the "Prerequisites" and "Initial Setup" of on-cluster builds, checking every assumption first:
- where the image goes: an ImageStream in openshift-machine-config-operator (internal registry;
  created when missing) or an external registry pullspec;
- the base image pull secret: a copy of the global pull secret (global-pull-secret-copy) or an
  existing secret; the push secret: the builder-dockercfg-* secret for the internal registry, an
  existing secret, or one made from a docker config file (--push-secret-from-file);
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
characters), and creating it opts the pool in, so the first build starts at once. Once every check
below passes, the MachineOSConfig is sent as a server-side dry run first, so a rule of the cluster's
CRD is a failed check naming the field and its flag, before anything is written.

Preflight checks (permissions, MachineConfig API, secrets and their registry credentials, the global
pull secret nodes pull with, the pullspec, degraded pools, the custom Dockerfile) run before
anything changes, with real logins to the registries using those secrets, as \`oc mob doctor\` does:
pull the base image, push to the final repository (an upload opened and cancelled; nothing is
pushed), pull it as nodes do, delete where old images are pruned (4.18+). A registry that refuses
fails the preflight; one this machine cannot reach is a warning (--no-registry-check: no logins); then the plan is shown (secrets by name only) and confirmed (--yes skips).
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

/** The flags that say what to set up (help groups SETTINGS and POOL). */
export const settingFlags = {
  'base-pull-secret': Flags.string({
    description: "Secret in openshift-machine-config-operator to pull the base OS image (and the custom Dockerfile's images) with.",
    exclusive: ['clone-global-pull-secret'],
    helpGroup: 'SETTINGS',
  }),
  builder: Flags.option({
    description: 'How images are built: pod (the build pod, custom-pod-builder) or build (OpenShift Builds, openshift-image-builder).',
    helpGroup: 'SETTINGS',
    options: ['pod', 'build'] as const,
  })(),
  'clone-global-pull-secret': Flags.boolean({
    description: 'Copy openshift-config/pull-secret into global-pull-secret-copy and pull with it.',
    exclusive: ['base-pull-secret'],
    helpGroup: 'SETTINGS',
  }),
  'config-roles': Flags.string({
    description: 'For a new pool: the MachineConfig roles it takes, comma-separated (default: POOL,worker).',
    helpGroup: 'POOL',
  }),
  'custom-dockerfile': Flags.string({
    description: 'File with the pool\'s custom Dockerfile (its last stage must be FROM configs AS final); "" for none (and do not ask).',
    helpGroup: 'SETTINGS',
  }),
  enable: Flags.boolean({
    allowNo: true,
    description: 'Also opt the pool into on-cluster builds (the build starts right away); --no-enable: do not, and do not ask.',
    helpGroup: 'POOL',
  }),
  'final-pullspec': Flags.string({
    description:
      'External registry repository for the built image, e.g. quay.io/myorg/os-image (its tag is replaced by the rendered config name).',
    exclusive: ['imagestream'],
    helpGroup: 'SETTINGS',
  }),
  imagestream: Flags.string({
    description:
      'Push to the internal registry through this ImageStream in openshift-machine-config-operator (created when missing), e.g. os-image.',
    exclusive: ['final-pullspec'],
    helpGroup: 'SETTINGS',
  }),
  'node-selector': Flags.string({
    description: 'For a new pool: the label its nodes carry, KEY=VALUE (default: node-role.kubernetes.io/POOL=).',
    helpGroup: 'POOL',
  }),
  pool: Flags.string({description: 'The MachineConfigPool to set up (default: layering; created when missing).', helpGroup: 'POOL'}),
  'push-secret': Flags.string({
    description:
      'Secret in openshift-machine-config-operator to push the image with (default with --imagestream: the builder-dockercfg-* secret).',
    helpGroup: 'SETTINGS',
  }),
  'push-secret-from-file': Flags.string({
    description:
      "Create the --push-secret secret from this docker config file (e.g. ~/.docker/config.json, podman's auth.json); with --force, update it. Its credentials are never shown.",
    helpGroup: 'SETTINGS',
  }),
}
