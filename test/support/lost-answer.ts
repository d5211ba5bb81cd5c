/**
 * What the reliability tests share: no case may end like a bug, and a write whose answer the fault
 * proxy loses on purpose (the write lands on the server; its answer never reaches oc-mob).
 */
import {expect} from 'chai'
import {ExitCode} from '../../src/lib/errors.js'
import {waitFor} from '../../emulator/sim/helpers.js'
import {runBin} from '../e2e/harness.js'
import type {FaultProxy} from './fault-proxy.js'

/** No case may end like a bug: no "unexpected failure", no raw abort, not exit 1. */
export function noBug(r: {stderr: string; exitCode: number}): void {
  expect(r.stderr).not.to.include('unexpected failure')
  expect(r.stderr).not.to.include('operation was aborted')
  expect(r.exitCode, r.stderr).not.to.equal(ExitCode.Internal)
}

/**
 * Runs `args` through the proxy (kubeconfig `kc`) with answers slowed by `latencyMs`, and drops every
 * connection as soon as `applied` says the write landed, so its answer is lost.
 *
 * The command runs as a child process, bounded in time: a command that hung in-process would hold
 * on to the test process's stdout (the in-process runner captures it) and hide the reports of the
 * tests after it.
 */
export async function loseAnswerOnce(
  proxy: FaultProxy,
  kc: string,
  args: string[],
  applied: () => Promise<boolean>,
  latencyMs: number,
): Promise<{exitCode: number; stderr: string; stdout: string}> {
  proxy.setMode({kind: 'latency', ms: latencyMs})
  const running = runBin([...args, '--kubeconfig', kc], {}, 50_000)
  await waitFor(
    'the write to land',
    async () => {
      if (!(await applied())) return false
      proxy.dropAll()
      proxy.setMode({kind: 'none'})
      return true
    },
    40_000,
  )
  const r = await running
  noBug(r)
  return r
}
