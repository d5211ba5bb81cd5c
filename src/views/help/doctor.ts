/** The help of `oc mob doctor`: its description and examples. */

export const description = `Prove that builds and nodes will get their images, before the cluster finds out.

For each secret in use (the base image pull secret, the push secret, the global pull secret as nodes see it, and the internal registry's pull secret for an ImageStream target): which registries it covers. Then a real Docker Registry v2 login (Bearer token or Basic) to every registry oc-mob needs, with the secret that will be used there: pull the base OS image, pull the built image as nodes will, push it (an upload session is opened and cancelled: nothing is pushed), and on 4.18+ delete (for pruning: a DELETE of a digest no image has). Each row gives the registry's own answer. Registry requests run in parallel, each time-boxed (--timeout).

Service-account tokens in those secrets are decoded (never shown): a token that expires within a day, or a builder-dockercfg-* secret the cluster rotates, is a warning whose fix is a long-lived token secret, given as \`oc\` commands, or made by --fix after confirmation (--yes).

The pool: nodes that are not CoreOS, not amd64, a single-node cluster, the MachineOSConfig as the API server judges it (server-side dry run), the custom Containerfile's final stage, and EL9 repository URLs on a rhel-10 stream.

Exit code 7 when a check fails; no secret value is ever printed.`

export const examples = [
  {command: 'oc mob doctor', description: 'Every opted-in pool.'},
  {command: 'oc mob doctor layering -o json', description: 'For scripts.'},
  {
    command:
      'oc mob doctor layering --registry-address image-registry.openshift-image-registry.svc:5000=default-route-openshift-image-registry.apps.example.com',
    description: 'Reach the internal registry through its route.',
  },
]
