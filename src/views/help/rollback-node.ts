/** The help of `oc mob rollback node`: its description and examples. */

export const description = `Take one node off its layered image: replace its machine, or move it out of its layered pool.

--replace-machine (IPI clusters with the machine API): deletes the node's Machine (the
machine.openshift.io/machine annotation names it) and the Node, so that its MachineSet provisions a
fresh worker from the non-layered OS image — the seed's procedure for OpenShift 4.14, with checks
first: the machine API is served, the node has a Machine owned by a MachineSet with replicas, the
node is not a control-plane node, and its pool keeps enough nodes available (maxUnavailable). The
replacement is a new node in pool worker; --wait waits until it is Ready.

--remove-from-pool: removes the label the pool's nodeSelector matches (node-role.kubernetes.io/POOL),
so the node goes back to its previous pool (usually worker). Only OpenShift 4.18 and later (the
MachineOSConfig API is served) can roll a node back from a layered image; on the 4.14/4.15
generation the node goes Degraded ("rolling back from a layered to non-layered configuration is not
currently supported"), so there this needs --force. --wait waits until the node is Done without an
image (or fails at once if it goes Degraded).

What would happen is shown first and confirmed (on a terminal; --yes otherwise).`

export const examples = [
  {
    command: 'oc mob rollback node ip-10-0-1-23.ec2.internal --replace-machine --wait',
    description: 'Replace the machine and wait for the new node.',
  },
  {command: 'oc mob rollback node worker-2 --remove-from-pool', description: 'Move the node back to the worker pool (OpenShift 4.18+).'},
  {command: 'oc mob rollback node worker-2 --replace-machine --dry-run', description: 'Only show the checks and what would be deleted.'},
]
