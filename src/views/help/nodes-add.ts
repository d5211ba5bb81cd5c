/** The help of `oc mob nodes add`: its description and examples. */

export const description = `Add nodes to a custom MachineConfigPool.

Sets the pool's node selector label (node-role.kubernetes.io/POOL= for pools made by setup) on each
node. Before changing anything it shows which nodes will be cordoned, drained and rebooted, and in
which order: the cluster updates them by name, maxUnavailable at a time. Control-plane nodes and
nodes of another custom pool are refused. --wait follows each node until it runs the pool's config
(and image, for an opted-in pool).`

export const examples = [
  {command: 'oc mob nodes add layering worker-0', description: 'Show the plan, confirm, label.'},
  {command: 'oc mob nodes add layering worker-0 worker-1 --yes --wait', description: 'Label both and follow their rollout.'},
]
