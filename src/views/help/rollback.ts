/** The help of `oc mob rollback`: its description and examples. */

export const description = `Point a layered pool back at an earlier image, so its nodes reboot into it.

oc-mob keeps a history of every pool's images (ConfigMap oc-mob-image-history in
openshift-machine-config-operator): the ones \`oc mob build\` built or followed, the ones
\`oc mob status\` saw on the pool, and rollbacks. Without --to, the pool goes back to the newest
earlier image built from its current rendered config that was not itself rolled away from — for
example after a custom Dockerfile change produced a bad image. --to N picks entry N of
\`oc mob status POOL --history\` (0 is the newest), --to DIGEST an entry by (a prefix of) its digest.

The pool is pointed at the image the way onclustertesting's set-image does it: the
newestImageEquivalentConfig annotation, the Build* conditions cleared and BuildSuccess=True. The node
controller then rolls the pool's nodes to it, maxUnavailable at a time; each reboots. Which node
reboots into which image is shown first and confirmed (on a terminal; --yes otherwise).

Refused (exit 7, nothing changed) when there is no history to go back to, when a build of the pool is
running (it would replace the image again), and when the image was built from another rendered config
than the pool's (its nodes would run the other config's files); --force overrides the last two.

A pool with a MachineOSConfig (OpenShift 4.18+) is rolled back by restoring the MachineOSConfig spec
that produced an earlier MachineOSBuild, as the history recorded it (oc mob build and oc mob status
record a build's spec while it is the current one). The machine-os-builder names builds by a hash of
that spec, the pool's rendered config and the base OS image, so it finds the earlier build again and
reuses its image instead of building. When that build is gone, or the rendered config changed since,
restoring the spec is a new build of the old custom content with today's config; the plan says so.
First the image is looked up in its registry with the push secret, and the restored spec is sent to
the API server as a dry run: an image gone from the registry, a registry that cannot tell (--force
goes ahead anyway), or a spec the server no longer accepts is refused (exit 7, nothing changed).

To take a single node off its layered image, see \`oc mob rollback node --help\`.`

export const examples = [
  {command: 'oc mob rollback layering', description: 'Back to the previous good image, after confirming.'},
  {command: 'oc mob rollback layering --to 2 --yes --wait', description: 'Back to entry 2 of the history, and wait for the nodes.'},
  {command: 'oc mob rollback layering --to sha256:3f2a9c1 --dry-run', description: 'Show what would happen.'},
  {
    command: 'oc mob rollback worker --dry-run',
    description: 'A MachineOSConfig pool: the spec restored and whether the builder reuses the image.',
  },
]
