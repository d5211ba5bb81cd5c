/** The help of `oc mob prune`: its description and examples. */

export const description = `Delete a pool's old successful MachineOSBuilds, so the machine-os-builder deletes their images.

OpenShift 4.18+ (a pool with a MachineOSConfig) keeps every successful MachineOSBuild and its image
until someone deletes the build; deleting one makes the builder delete its image from the registry
with the push secret, unless a node runs or is to run it. prune deletes the successful
MachineOSBuilds older than the newest N (--keep N, at least 1), and never the MachineOSConfig's
current build (current-machine-os-build, status.currentImagePullSpec) or one whose image a node uses
(its currentImage or desiredImage annotation): those are kept and the plan says why. Failed and
running builds are left to \`oc mob cleanup\`.

Before anything is deleted, the registry is asked with the push secret whether it deletes images (a
DELETE of a digest no image has): a registry with deletes disabled answers 405, a secret without
delete rights 401/403; then the plan says that the images will not really be deleted, only the
MachineOSBuilds. The list is shown first and confirmed (on a terminal; --yes otherwise). oc-mob's
image history keeps the records of deleted builds: \`oc mob rollback\` can still restore their spec
(a new build of that content).

On a cluster of the OpenShift 4.14/4.15 generation there are no build objects to prune (exit 10).`

export const examples = [
  {command: 'oc mob prune worker --keep 3 --dry-run', description: 'Show which builds would go and whether the registry deletes images.'},
  {command: 'oc mob prune worker --keep 1 --yes', description: 'Keep only the newest build (and any a node uses).'},
]
