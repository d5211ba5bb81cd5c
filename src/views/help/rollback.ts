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

To take a single node off its layered image, see \`oc mob rollback node --help\`.`

export const examples = [
  {command: 'oc mob rollback layering', description: 'Back to the previous good image, after confirming.'},
  {command: 'oc mob rollback layering --to 2 --yes --wait', description: 'Back to entry 2 of the history, and wait for the nodes.'},
  {command: 'oc mob rollback layering --to sha256:3f2a9c1 --dry-run', description: 'Show what would happen.'},
]
