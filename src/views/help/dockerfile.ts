/** The help of `oc mob dockerfile`: its description and examples. */

export const description = `Show the Dockerfile the cluster builds for a pool's current rendered config, at any time, check the pool's custom Dockerfile, and export the whole build context so buildah can reproduce the build.

OpenShift 4.14/4.15: the Dockerfile is rendered from the operator's template with the base OS image of machine-config-osimageurl, the pool's rendered MachineConfig name and the pool's entry in the on-cluster-build-custom-dockerfile ConfigMap (none when the ConfigMap or the key is missing). While a build of the rendered config is under way (its dockerfile-<rendered> ConfigMap exists), the build's own copy is shown instead, and a note on stderr says so; --fresh renders afresh anyway and --diff shows how the build's copy differs from a fresh render.

OpenShift 4.18+: the Containerfile the machine-os-builder renders for the pool's MachineOSConfig: the builder's template of the cluster's release (machine-config-osimageurl's releaseVersion) with its base OS and extensions images, the rendered config's extensions and, from 4.20, its kernelType package swap, and the MachineOSConfig's NoArch containerFile. While the MachineOSBuild of the rendered config has its containerfile-<mosb> ConfigMap, that copy is shown (--fresh, --diff as above). A pool without a MachineOSConfig has no Containerfile (exit 6).

No secrets are needed. The custom part is checked with a Dockerfile parser (4.14/4.15 also against the operator's rule that its last stage is \`FROM configs AS final\`; 4.18+ warns when the last stage is not built on configs). Problems go to stderr after the output, each with its line in the custom part; errors make the command exit with code 7. --file checks and renders a local custom Dockerfile instead of the cluster's, to refine one before storing it.

--export DIR writes the build context as the build receives it: Dockerfile and machineconfig/machineconfig.json.gz (the rendered MachineConfig encoded exactly as the operator stores it); on 4.18+ Containerfile, machineconfig/machineconfig.json.gz, openshift-config-user-ca-bundle.crt, and the builder's policy.json and registries.conf when the rendered config has them. \`buildah build DIR\` then runs the cluster's build on this machine.

Exit codes: 0; 6 when the pool (4.18+: its MachineOSConfig) does not exist; 7 when the custom part has errors. --diff exits 0 whether or not the copies differ (-o json tells: .diff.identical), and 6 when no build is under way to compare with.`

export const examples = [
  {command: 'oc mob dockerfile layering', description: 'The Dockerfile (4.18+: Containerfile) of the next (or current) build.'},
  {command: 'oc mob dockerfile layering --file ./custom.Dockerfile --check', description: 'Check a custom Dockerfile before storing it.'},
  {command: 'oc mob dockerfile layering --diff', description: "How the running build's copy differs from a fresh render."},
  {
    command: 'oc mob dockerfile layering --export ./ctx && buildah build --authfile pull.json ./ctx',
    description: 'Reproduce the build locally.',
  },
]
