/** The help of `oc mob machineconfig`: its description and examples. */

export const description = `Print the rendered MachineConfig that is, or will be, built into a pool's image.

While a build is under way, it is decoded from the build's mc-<rendered> ConfigMap (base64, gzip, JSON: the operator's encoding) and a note on stderr says so; otherwise it is the pool's rendered MachineConfig (spec.configuration.name) itself.

Output is the MachineConfig alone, as indented JSON (the default, and -o json) or YAML (-o yaml), so it can be piped to jq or saved. --config-only prints just .spec.config, the Ignition config the build applies to the image.`

export const examples = [
  {command: 'oc mob machineconfig layering', description: 'The whole rendered MachineConfig, as JSON.'},
  {command: 'oc mob mc layering --config-only | jq .storage.files[].path', description: 'The files the build writes.'},
  {command: 'oc mob mc layering -o yaml', description: 'As YAML.'},
]
