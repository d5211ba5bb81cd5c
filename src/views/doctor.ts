/** Screen text of `oc mob doctor`: the table of checks, the next steps, and the --fix plan. */
import {table} from '../lib/ui/output.js'
import type {Term} from '../lib/ui/term.js'
import type {DoctorCheck, DoctorResult, TokenFix} from '../lib/doctor/types.js'

const TITLES: Record<DoctorCheck['section'], string> = {pool: 'pool', registries: 'registry', secrets: 'secret', tokens: 'token'}

export function renderDoctor(r: DoctorResult, term: Term): string {
  const c = term.out
  const paint = (text: string, row: DoctorCheck): string =>
    row.status === 'fail' ? c.red(text) : row.status === 'warn' ? c.yellow(text) : c.green(text)
  const gen = r.generation === 'machineosconfig' ? 'OpenShift 4.18+ (MachineOSConfig)' : 'OpenShift 4.14/4.15 (on-cluster-build-config)'
  const lines = [`Cluster: ${r.server} (context ${r.context}), ${gen}; pools: ${r.pools.length > 0 ? r.pools.join(', ') : '(none)'}`, '']
  lines.push(
    table<DoctorCheck>(r.checks, [
      {get: (x) => x.status.toUpperCase(), header: 'STATUS', paint},
      {get: (x) => TITLES[x.section], header: 'KIND'},
      {get: (x) => x.subject, header: 'CHECK'},
      {get: (x) => x.cause + (x.answer && !x.cause.includes(x.answer) ? ` [${x.answer}]` : ''), header: 'CAUSE'},
    ]),
  )
  const todo = r.checks.filter((x) => x.status !== 'ok' && x.next)
  if (todo.length > 0) {
    lines.push('', 'Next steps:')
    for (const [i, x] of todo.entries()) lines.push(`${i + 1}. ${paint(x.status, x)} ${x.subject}: ${x.next}`)
  }

  const {fail, ok, warn} = r.summary
  lines.push('', `${ok} ok, ${warn} warning${warn === 1 ? '' : 's'}, ${fail} failed`)
  return lines.join('\n')
}

export function renderFixPlan(fix: TokenFix): string {
  return [
    `Fix for pool ${fix.pool}: push with a long-lived token instead of ${fix.replaces}, which rotates:`,
    `  - request a token of service account ${fix.namespace}/${fix.serviceAccount} valid for one year (TokenRequest)`,
    `  - create secret ${fix.namespace}/${fix.secret} (kubernetes.io/dockerconfigjson) with it for ${fix.registries.join(', ')}`,
    `  - point pool ${fix.pool}'s build settings at ${fix.secret}`,
  ].join('\n')
}
