/** The help of `oc mob build`: its description, examples, and the flags of --local. */
import {Flags} from '@oclif/core'
import {ENGINES} from '../../lib/build/local.js'

export const description = `Build the OS image for a pool's current rendered config, and follow the build to its end.

Does once, from this workstation, what the cluster's BuildController does: checks the inputs (build
config, both secrets and their registry credentials, pullspec, custom Dockerfile, the 1 MiB limit),
creates mc-<rendered>, dockerfile-<rendered> and the build-<rendered> pod with the operator's exact
names and labels, records BuildPending/Building/BuildSuccess/BuildFailed on the pool, and on success
writes the digested image to the pool's newestImageEquivalentConfig annotation and removes the
ephemeral objects, so the nodes roll to the image as usual. On failure the objects stay for
inspection and the last log lines are shown.

If a build for the rendered config already exists (started by the cluster's machine-os-builder or by
another oc-mob), it is joined, not duplicated. A failed build whose pod stays Running (the 4.14
wait-for-done defect) is reported as failed at once.

On OpenShift 4.18+, a pool with a MachineOSConfig is built by the machine-os-builder from that object:
the command joins the MachineOSBuild of the pool's rendered config (or waits for the builder to create
it) and follows it; with --rebuild, or to retry a failed one, it sets the
machineconfiguration.openshift.io/rebuild annotation on the MachineOSConfig, which makes the builder
build it again. --local builds the build context the builder's Job gets (\`oc mob dockerfile POOL
--export DIR\` shows it) on this machine, pulling with the MachineOSConfig's baseImagePullSecret (else
the global pull secret) and, with --push, pushing with its renderedImagePushSecret.

A build that cannot make progress ends the wait with exit code 8, its cause and what to do, and is
left as it is: a build pod no node can take (the scheduler's message is shown), an image that cannot be
pulled (the image and the pull secrets are named), an evicted or OOMKilled build, or an image-build
that finished without its digest ConfigMap appearing within --stall-timeout. On 4.18+ a failed attempt
that the Job retries is reported ("attempt 2 of 4") with the end of its log, and the wait goes on.
With --follow, a log that cannot be read is a warning (the build is still followed to its end).

Ctrl-C or --timeout stop waiting and leave the build running in the cluster; run the same command
again to re-attach.`

export const examples = [
  {command: 'oc mob build layering', description: 'Build and wait, with a spinner.'},
  {command: 'oc mob build layering --follow', description: 'Stream the build log while waiting.'},
  {command: 'oc mob build layering --rebuild', description: 'Build again, e.g. after changing the custom Dockerfile.'},
  {command: 'oc mob build layering --dry-run -o yaml', description: 'Show every object that would be created.'},
  {command: 'oc mob build layering --local', description: 'Build the same context with buildah on this machine (no cluster changes).'},
  {
    command: 'oc mob build layering --local --push --engine podman',
    description: 'Build locally and push with the push secret; prints the digest.',
  },
]

/** The flags of a build on this machine (`--local` and what only it takes). */
export const localFlags = {
  'context-dir': Flags.string({dependsOn: ['local'], description: 'With --local: write the build context here and keep it.'}),
  engine: Flags.option({
    dependsOn: ['local'],
    description: 'With --local: the engine to build with (default: buildah if on PATH, else podman).',
    options: ENGINES,
  })(),
  isolation: Flags.string({
    dependsOn: ['local'],
    description: "With --local: the engine's --isolation (oci, chroot, rootless); default $BUILDAH_ISOLATION.",
  }),
  local: Flags.boolean({
    description:
      "Build the pool's build context on this machine with buildah or podman instead of in the cluster. Changes nothing in the cluster.",
  }),
  push: Flags.boolean({
    dependsOn: ['local'],
    description: 'With --local: push the image with the final image push secret (4.18+: renderedImagePushSecret) and report its digest.',
  }),
  tag: Flags.string({
    dependsOn: ['local'],
    description: "With --local: the image name to build (default: the tag the cluster's build pushes).",
  }),
  'tls-verify': Flags.boolean({
    allowNo: true,
    description: "With --local: verify registries' TLS (--no-tls-verify for plain-HTTP or self-signed registries).",
  }),
}
