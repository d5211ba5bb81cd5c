/** The help of `oc mob nodes remove`: its description and examples. */

export const description = `Remove nodes from a custom MachineConfigPool.

Removes the pool's node selector label from each node, which moves it back to the worker pool; the
plan shows which nodes will be cordoned, drained and rebooted, in which order (maxUnavailable of
the worker pool). On OpenShift 4.14/4.15 a node that runs a layered image cannot roll back to a
non-layered configuration: its daemon refuses and the node goes Degraded. Such nodes are refused
unless --force is given (see \`oc mob rollback node NODE\` for the way back). On OpenShift 4.18+
(MachineOSConfig pools) nodes return to the plain image by themselves, so no --force is needed.`

export const examples = [
  {command: 'oc mob nodes remove layering worker-1', description: 'Show the plan, confirm, unlabel.'},
  {
    command: 'oc mob nodes remove layering worker-1 --force --yes',
    description: 'Also for a node on a layered image (it will go Degraded on 4.14).',
  },
]
