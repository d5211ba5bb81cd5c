// The shape of src/ that `npm run lint:deps` (dependency-cruiser) keeps.
//
// src/lib is layered: each folder (or single-file module) has a rank, and may import only from
// folders of a lower rank. Imports between folders then cannot go round in a cycle. Folders that
// share a rank are peers and may not import each other. A folder of src/lib that is not in RANKS
// is reported, so that a new folder is given its place here.

/** src/lib, low to high. `status` is both src/lib/status.ts and src/lib/status/. */
const RANKS = [
  ['errors'],
  ['duration', 'order'],
  ['kube'],
  ['mco'],
  ['registry'],
  ['ui'],
  ['cluster'],
  ['build'],
  ['logs'],
  ['rollout'],
  ['cleanup'],
  ['layering'],
  ['doctor'],
  ['status'],
]

/** A pattern for the files of src/lib/<name>: the folder src/lib/<name>/ or the module src/lib/<name>.ts. */
const lib = (names) => `^src/lib/(${names.join('|')})(/|[.]ts$)`

const rankRules = RANKS.flatMap((names, rank) => {
  const below = RANKS.slice(0, rank).flat()
  return names.map((name) => ({
    name: `lib-rank: ${name} imports only lower ranks`,
    severity: 'error',
    comment:
      `src/lib/${name} may import only from lower ranks of src/lib (${below.join(', ') || 'none'}). ` +
      'Move the shared code down, or the importing code up (see RANKS in .dependency-cruiser.cjs).',
    from: {path: lib([name])},
    to: {path: '^src/lib/', pathNot: [lib([name]), ...(below.length > 0 ? [lib(below)] : [])]},
  }))
})

/** node: builtins that reach outside the process: files, network, processes, the terminal. */
const IO_BUILTINS = (
  'fs fs/promises net tls http https http2 dgram dns dns/promises child_process cluster worker_threads ' +
  'readline readline/promises tty os inspector repl'
).split(' ')

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'Modules of src/ must not import each other in a cycle (at run time; a cycle closed only by `import type` is erased): ' +
        'break it by moving what both need into a lower module.',
      from: {path: '^src/'},
      to: {circular: true, viaOnly: {dependencyTypesNot: ['type-only']}},
    },
    {
      name: 'commands-only-from-index',
      severity: 'error',
      comment: 'Commands are entry points: only src/index.ts lists them. Shared code goes to src/lib (or src/views for rendering).',
      from: {path: '^src/', pathNot: ['^src/index[.]ts$', '^src/commands/']},
      to: {path: '^src/commands/'},
    },
    {
      name: 'lib-not-commands-or-views',
      severity: 'error',
      comment: 'src/lib is the layer below commands and views: it must not import src/commands or src/views.',
      from: {path: '^src/lib/'},
      to: {path: '^src/(commands|views)/'},
    },
    {
      name: 'kube-is-self-contained',
      severity: 'error',
      comment: 'src/lib/kube is the Kubernetes client layer: from src/lib it may use only errors.ts, duration.ts and order.ts.',
      from: {path: lib(['kube'])},
      to: {path: '^src/lib/', pathNot: [lib(['kube', 'errors', 'duration', 'order'])]},
    },
    {
      name: 'mco-is-pure: no I/O builtins',
      severity: 'error',
      comment:
        'src/lib/mco is pure logic over MCO objects: it reads no files, network, processes or terminal. Do the I/O in a higher rank.',
      from: {path: lib(['mco'])},
      to: {dependencyTypes: ['core'], path: `^(node:)?(${IO_BUILTINS.join('|')})$`},
    },
    {
      name: 'mco-is-pure: no kube client',
      severity: 'error',
      comment:
        'src/lib/mco is pure logic over MCO objects: it may use the types of src/lib/kube (import type), not its client or anything else that runs.',
      from: {path: lib(['mco'])},
      to: {path: lib(['kube']), dependencyTypesNot: ['type-only']},
    },
    {
      name: 'generations-stay-in-layering',
      severity: 'error',
      comment:
        'What differs between the 4.14/4.15 ConfigMap mechanism and MachineOSConfig lives in a backend folder of src/lib/layering ' +
        '(configmap/, machine-os/): outside lib/layering, code goes through lib/layering (generation.ts, logs/, rollback.ts, prune.ts, build-shapes.ts) and never asks which generation a pool uses.',
      from: {path: '^src/', pathNot: '^src/lib/layering/'},
      to: {path: '^src/lib/layering/(configmap|machine-os)/'},
    },
    {
      name: 'lib-rank: every src/lib folder has a rank',
      severity: 'error',
      comment: 'Every folder and top-level module of src/lib has a rank: add it to RANKS in .dependency-cruiser.cjs.',
      from: {path: '^src/lib/', pathNot: [lib(RANKS.flat())]},
      to: {},
    },
    ...rankRules,
  ],
  options: {
    doNotFollow: {path: 'node_modules'},
    tsPreCompilationDeps: true,
    tsConfig: {fileName: 'tsconfig.json'},
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
  },
}
