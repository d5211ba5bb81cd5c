/** The help of `oc mob disable`: its description and examples. */

export const description = `Opt a MachineConfigPool out of on-cluster builds.

Removes the label machineconfiguration.openshift.io/layering-enabled from the pool. The cluster then
stops and removes the pool's build objects, drops its image annotation and Build* conditions, and
removes the machine-os-builder when no opted-in pool remains; --wait waits for that.

On OpenShift 4.14/4.15 a node that already runs a layered image cannot roll back by itself: its
machine-config daemon refuses and the node goes Degraded. The command says which nodes that concerns
and asks for confirmation (--yes skips it); see \`oc mob rollback node\`.

On OpenShift 4.18+ it deletes the pool's MachineOSConfig instead: the machine-os-builder deletes its
MachineOSBuilds and the nodes return to the plain OS image (they can on that generation); --wait
waits until the MachineOSConfig is gone.`

export const examples = [
  {command: 'oc mob disable layering', description: 'Show the warnings, confirm, opt out.'},
  {command: 'oc mob disable layering --yes --wait', description: "Opt out and wait for the cluster's cleanup."},
]
