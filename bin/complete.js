#!/usr/bin/env node
// kubectl (1.26+) completes a plugin's arguments by running `kubectl_complete-<plugin>` with the
// words typed so far; the answer is one candidate per line and a last line `:<directive>` (cobra's
// protocol; 4 = do not fall back to file names). Candidates come from the oclif manifest.
import {readFileSync} from 'node:fs'

const words = process.argv.slice(2)
const partial = words.pop() ?? ''
let manifest
try {
  manifest = JSON.parse(readFileSync(new URL('../oclif.manifest.json', import.meta.url), 'utf8'))
} catch {
  process.stdout.write(':4\n')
  process.exit(0)
}

const commands = Object.values(manifest.commands).filter((c) => !c.hidden)
const typed = words.filter((w) => !w.startsWith('-'))
// The longest command id matching the words typed so far.
let current
for (let n = typed.length; n > 0 && !current; n--) current = commands.find((c) => c.id === typed.slice(0, n).join(':'))
const out = []
if (partial.startsWith('-') && current) {
  for (const [name, flag] of Object.entries(current.flags ?? {})) {
    if (flag.hidden) continue
    out.push(`--${name}`)
    if (flag.allowNo) out.push(`--no-${name}`)
  }
} else {
  const prefix = current ? `${current.id}:` : typed.length > 0 ? `${typed.join(':')}:` : ''
  const next = new Set()
  for (const c of commands) {
    if (!c.id.startsWith(prefix)) continue
    const word = c.id.slice(prefix.length).split(':')[0]
    if (word) next.add(word)
  }

  out.push(...next)
}

process.stdout.write(
  out
    .filter((w) => w.startsWith(partial))
    .sort()
    .map((w) => `${w}\n`)
    .join('') + ':4\n',
)
