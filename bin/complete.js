#!/usr/bin/env node
// kubectl (1.26+) completes a plugin's arguments by running `kubectl_complete-<plugin>` with the
// words typed so far; the answer is one candidate per line and a last line `:<directive>` (cobra's
// protocol; 4 = do not fall back to file names). Commands, aliases and flags come from the oclif
// manifest; pool, node and MachineOSBuild names from the cluster and contexts from the kubeconfig,
// through the hidden `completion-names` command (with the --context and --kubeconfig typed so far).
import {execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

const NO_FILES = ':4\n'
const words = process.argv.slice(2)
let partial = words.pop() ?? ''
let manifest
try {
  manifest = JSON.parse(readFileSync(new URL('../oclif.manifest.json', import.meta.url), 'utf8'))
} catch {
  process.stdout.write(NO_FILES)
  process.exit(0)
}

const commands = Object.values(manifest.commands).filter((c) => !c.hidden)
const GLOBAL_VALUE_FLAGS = new Set(['--context', '--kubeconfig', '--request-timeout', '-o', '--output'])

/** The flags of a command that take a value (`--flag VALUE`), so their values are not taken for arguments. */
function valueFlags(command) {
  const out = new Set(GLOBAL_VALUE_FLAGS)
  for (const [name, flag] of Object.entries(command?.flags ?? {})) {
    if (flag.type !== 'option') continue
    out.add(`--${name}`)
    if (flag.char) out.add(`-${flag.char}`)
  }
  return out
}

// The command: the longest id (or alias) matching the leading words that are not flags.
const leading = []
for (const w of words) {
  if (w.startsWith('-')) break
  leading.push(w)
}
let current
let used = 0
for (let n = leading.length; n > 0 && !current; n--) {
  const id = leading.slice(0, n).join(':')
  current = commands.find((c) => c.id === id || (c.aliases ?? []).includes(id))
  if (current) used = n
}

// Positional arguments typed after the command, and the flag whose value is being typed, if any.
const takesValue = valueFlags(current)
const positional = []
const given = {}
let pendingFlag
for (const w of words.slice(used)) {
  if (pendingFlag) {
    given[pendingFlag] = w
    pendingFlag = undefined
  } else if (w.startsWith('-')) {
    const [name, value] = w.split(/=(.*)/s)
    if (value !== undefined) given[name] = value
    else if (takesValue.has(name)) pendingFlag = name
  } else {
    positional.push(w)
  }
}

let prefix = ''
if (!pendingFlag && partial.startsWith('--') && partial.includes('=')) {
  ;[pendingFlag] = partial.split('=')
  prefix = `${pendingFlag}=`
  partial = partial.slice(prefix.length)
}

/** Names from the cluster or the kubeconfig; nothing when they cannot be had within a few seconds. */
function names(kind) {
  const args = [fileURLToPath(new URL('./run.cjs', import.meta.url)), 'completion-names', kind]
  for (const flag of ['--context', '--kubeconfig']) if (given[flag]) args.push(flag, given[flag])
  try {
    return execFileSync(process.execPath, args, {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000})
      .split('\n')
      .filter(Boolean)
  } catch {
    return []
  }
}

const ARG_KINDS = {node: 'nodes', nodes: 'nodes', pool: 'pools'}
const FLAG_KINDS = {'--context': 'contexts', '--pool': 'pools'}
let out = []
if (pendingFlag) {
  const kind = FLAG_KINDS[pendingFlag]
  if (kind) out = names(kind)
} else if (partial.startsWith('-') && current) {
  for (const [name, flag] of Object.entries(current.flags ?? {})) {
    if (flag.hidden) continue
    out.push(`--${name}`)
    if (flag.allowNo) out.push(`--no-${name}`)
  }
} else if (current) {
  // The argument being typed: the next one in order; the last one when it takes many (nodes add POOL NODES...).
  const args = Object.entries(current.args ?? {})
  const [argName] = args[Math.min(positional.length, args.length - 1)] ?? []
  const kind = current.strict === false || positional.length < args.length ? ARG_KINDS[argName] : undefined
  if (kind) out = names(kind).filter((n) => !positional.includes(n))
  if (args.length === 0 || positional.length === 0) {
    // Subcommands of a topic (rollback node).
    for (const c of commands) if (c.id.startsWith(`${current.id}:`)) out.push(c.id.slice(current.id.length + 1).split(':')[0])
  }
} else {
  const typed = leading.join(':')
  const next = new Set()
  for (const c of commands) {
    for (const id of [c.id, ...(c.aliases ?? [])]) {
      if (typed && !id.startsWith(`${typed}:`)) continue
      const word = id.slice(typed ? typed.length + 1 : 0).split(':')[0]
      if (word) next.add(word)
    }
  }

  out = [...next]
}

process.stdout.write(
  [...new Set(out)]
    .filter((w) => w.startsWith(partial))
    .sort()
    .map((w) => `${prefix}${w}\n`)
    .join('') + NO_FILES,
)
