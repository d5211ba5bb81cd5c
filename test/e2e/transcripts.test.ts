/**
 * What an administrator sees on the common paths, word for word: success, each refusal, each failure,
 * on OpenShift 4.14 and on 4.19, without a terminal and on one. Each case runs the real commands
 * against a simulated cluster, replaces what changes from run to run (ports, hashes, digests, times,
 * durations, generated names, column padding) and compares the result with its transcript in
 * `test/e2e/transcripts/`. A line that one command prints twice fails as well.
 *
 * After a deliberate change of wording: `UPDATE_TRANSCRIPTS=1 npx mocha test/e2e/transcripts.test.ts`
 * rewrites the transcripts; review them with `git diff`.
 */
import {expect} from 'chai'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {R as SR} from '../../emulator/sim/client.js'
import {FAST, waitFor} from '../../emulator/sim/helpers.js'
import {JOB_POD} from '../../emulator/sim/machineos.js'
import type {Cluster} from '../../emulator/sim/index.js'
import {MCO_NS, ROOT, run, runBin, startCluster} from './harness.js'
import {Terminal} from './terminal.js'

const DIR = path.join(ROOT, 'test/e2e/transcripts')
const UPDATE = process.env.UPDATE_TRANSCRIPTS === '1'

/** What differs from one run to the next, replaced by a fixed word; column padding (3 spaces or more) made 3. */
function normalize(text: string): string {
  return text
    .replaceAll(/127\.0\.0\.1:\d+/g, '127.0.0.1:PORT')
    .replaceAll(/sha256:[0-9a-f]{64}/g, 'sha256:DIGEST')
    .replaceAll(/sha256:[0-9a-f]{12}\b/g, 'sha256:SHORT')
    .replaceAll(/-[0-9a-f]{32}-[0-9a-f]{5}\b/g, '-HASH-XXXXX')
    .replaceAll(/-[0-9a-f]{32}\b/g, '-HASH')
    .replaceAll(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, 'TIME')
    .replaceAll(/\b\d+(\.\d+)?(ms|s)\b/g, 'N$2')
    .replaceAll(/machine-os-builder-[a-z0-9]+-[a-z0-9]+/g, 'machine-os-builder-POD')
    .replaceAll(/\/tmp\/[^\s/:]+/g, '/tmp/DIR')
    .replaceAll(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'UID')
    .split('\n')
    .map((l) => l.replaceAll(/ {3,}/g, '   ').trimEnd())
    .join('\n')
    .trim()
}

/** Lines of one command's output that appear more than once (blank lines and the exempt ones aside). */
function repeatedLines(text: string, exempt: (line: string) => boolean = () => false): string[] {
  const seen = new Map<string, number>()
  for (const line of text.split('\n')) {
    const l = line.trim()
    if (l === '' || exempt(l)) continue
    seen.set(l, (seen.get(l) ?? 0) + 1)
  }

  return [...seen].filter(([, n]) => n > 1).map(([l]) => l)
}

/** Lines of a following command's stderr that do not depend on when its progress was seen. */
const lasting = (stderr: string): string =>
  stderr
    .split('\n')
    .filter((l) => /^(✔|✖|!|error:|next:|warning:|\s+(next|fix):)/.test(l.trim()))
    .join('\n')

interface Step {
  args: string[]
  exitCode: number
  /** 'all': stderr in full; 'lasting': only its verdicts, errors and next steps (progress depends on timing). */
  stderr?: 'all' | 'lasting'
  /** Lines allowed to repeat (a build log's own lines). */
  exempt?: (line: string) => boolean
}

/** A transcript: the steps run one after the other, each with its exit code and output. */
class Transcript {
  private readonly parts: string[] = []

  constructor(
    private readonly name: string,
    private readonly kubeconfig: string,
  ) {}

  async step(s: Step): Promise<{stdout: string; stderr: string}> {
    const r = await run([...s.args, '--kubeconfig', this.kubeconfig])
    expect(r.exitCode, `oc mob ${s.args.join(' ')}\n${r.stdout}\n${r.stderr}`).to.equal(s.exitCode)
    const repeated = repeatedLines(normalize(`${r.stdout}\n${r.stderr}`), s.exempt)
    expect(repeated, `oc mob ${s.args.join(' ')} says a line twice:\n${r.stdout}\n${r.stderr}`).to.deep.equal([])
    const err = (s.stderr ?? 'all') === 'all' ? r.stderr : lasting(r.stderr)
    this.parts.push(
      [`$ oc mob ${s.args.join(' ')}`, `exit ${r.exitCode}`, '--- stdout', r.stdout.trim(), '--- stderr', err.trim()]
        .map(normalize)
        .join('\n'),
    )
    return r
  }

  /** Compares with the stored transcript (or writes it, with UPDATE_TRANSCRIPTS=1). */
  check(): void {
    const file = path.join(DIR, `${this.name}.txt`)
    const text = `${this.parts.join('\n\n')}\n`
    if (UPDATE) {
      fs.mkdirSync(DIR, {recursive: true})
      fs.writeFileSync(file, text)
      return
    }

    expect(fs.existsSync(file), `${file} is missing: write it with UPDATE_TRANSCRIPTS=1 and review it`).to.equal(true)
    expect(text).to.equal(fs.readFileSync(file, 'utf8'))
  }
}

const BUILD_LOG = (l: string): boolean => !/^(error|next):/.test(l)

describe('transcripts: what an administrator sees on the common paths, word for word', function () {
  this.timeout(240_000)
  let dir: string
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-mob-transcripts-'))
  })
  after(() => fs.rmSync(dir, {force: true, recursive: true}))

  describe('OpenShift 4.14 (on-cluster-build-config and the pool label), without a terminal', () => {
    let cluster: Cluster
    before(async () => {
      cluster = await startCluster({delays: {...FAST, buildMs: 300, lineMs: 1}, mode: 'scripted'})
    })
    after(async () => cluster?.stop())

    it('status, setup (first run, re-run, a refusal), enable --wait, build, a failed build, cleanup, unknown names', async () => {
      const t = new Transcript('4.14-session', cluster.kubeconfig)
      const setup = [
        'setup',
        '--no-registry-check',
        '--pool',
        'layering',
        '--imagestream',
        'os-image',
        '--clone-global-pull-secret',
        '--yes',
      ]
      const bad = path.join(dir, 'bad.Dockerfile')
      const failing = path.join(dir, 'failing.Dockerfile')
      fs.writeFileSync(bad, 'FROM configs AS final\nRUNN echo typo\n')
      fs.writeFileSync(failing, 'FROM configs AS final\nRUN echo "checking the image" && exit 3\n')

      await t.step({args: ['status'], exitCode: 0})
      await t.step({args: setup, exitCode: 0})
      await t.step({args: setup, exitCode: 0})
      await t.step({args: [...setup, '--custom-dockerfile', bad], exitCode: 7})
      await t.step({args: ['enable', 'layering', '--wait', '--timeout', '2m'], exitCode: 0, stderr: 'lasting'})
      await t.step({args: ['build', 'layering'], exitCode: 0, stderr: 'lasting'})
      await t.step({args: ['status', 'layering'], exitCode: 0})
      await t.step({args: [...setup, '--custom-dockerfile', failing], exitCode: 0})
      await t.step({args: ['build', 'layering', '--rebuild'], exempt: BUILD_LOG, exitCode: 8, stderr: 'lasting'})
      await t.step({args: ['status', 'layering'], exitCode: 0})
      await t.step({args: ['cleanup', 'layering', '--dry-run'], exitCode: 0})
      await t.step({args: ['enable', 'nosuch'], exitCode: 6})
      await t.step({args: ['logs', 'nosuch'], exitCode: 6})
      t.check()
    })
  })

  describe('OpenShift 4.19 (a MachineOSConfig per pool), without a terminal', () => {
    let cluster: Cluster
    before(async () => {
      cluster = await startCluster({
        controllers: {machineOS: true},
        delays: {...FAST, lineMs: 1, podStartMs: 50},
        emulator: {groups: {machineOS: true}},
        mode: 'scripted',
      })
      // The administrator's own push secret, for the registry the image goes to.
      const b64 = (s: string): string => Buffer.from(s).toString('base64')
      await cluster.client.create(SR.secrets, MCO_NS, {
        data: {'.dockerconfigjson': b64(JSON.stringify({auths: {'quay.io': {auth: b64('robot:token')}}}))},
        metadata: {name: 'push', namespace: MCO_NS},
        type: 'kubernetes.io/dockerconfigjson',
      })
    })
    after(async () => cluster?.stop())

    /**
     * Until no node of the pool is mid-update (the status that follows does not depend on when it runs):
     * every one Done and schedulable, and with `rolledOut` all of them updated (after a failed build the pool
     * waits for a good one instead).
     */
    const settled = (rolledOut: boolean) =>
      waitFor(
        'the nodes of pool worker to be at rest',
        async () => {
          const image = (await cluster.client.get(SR.machineosconfigs, undefined, 'worker'))?.status?.currentImagePullSpec
          const pool = (await cluster.client.get(SR.pools, undefined, 'worker'))?.status
          if (pool?.unavailableMachineCount !== 0 || (rolledOut && pool.updatedMachineCount !== pool.machineCount)) return false
          const nodes = (await cluster.client.list(SR.nodes, undefined, 'node-role.kubernetes.io/worker=')).items
          return nodes.every((n) => {
            const a: Record<string, string> = n.metadata.annotations ?? {}
            const done = a['machineconfiguration.openshift.io/state'] === 'Done' && !n.spec?.unschedulable
            return done && (!rolledOut || a['machineconfiguration.openshift.io/currentImage'] === image)
          })
        },
        30_000,
      )

    it('setup (first run, re-run, a refusal), build, status, rebuild, logs, a failed build, unknown names', async () => {
      const t = new Transcript('4.19-session', cluster.kubeconfig)
      const setup = [
        'setup',
        '--no-registry-check',
        '--pool',
        'worker',
        '--final-pullspec',
        'quay.io/org/os',
        '--push-secret',
        'push',
        '--yes',
      ]
      const bad = path.join(dir, 'bad-4.19.Dockerfile')
      const failing = path.join(dir, 'failing-4.19.Dockerfile')
      fs.writeFileSync(bad, 'FROM configs AS final\nRUNN echo typo\n')
      fs.writeFileSync(failing, 'FROM configs AS final\nRUN dnf install -y nosuchpackage\n')

      await t.step({args: ['status'], exitCode: 0})
      await t.step({args: setup, exitCode: 0})
      await t.step({args: setup, exitCode: 0})
      await t.step({args: [...setup, '--custom-dockerfile', bad, '--force'], exitCode: 7})
      // The builder starts a build as soon as the MachineOSConfig exists, as the MCO's does; `build` joins it
      // (whether it had started by then would otherwise depend on how long the three steps above took).
      await waitFor(
        'the machine-os-builder to start the build of pool worker',
        async () =>
          (await cluster.client.list(SR.machineosbuilds)).items.some(
            (b: {spec?: {machineOSConfig?: {name?: string}}}) => b.spec?.machineOSConfig?.name === 'worker',
          ),
        30_000,
      )
      await t.step({args: ['build', 'worker'], exitCode: 0, stderr: 'lasting'})
      await settled(true)
      await t.step({args: ['status', 'worker'], exitCode: 0})
      await t.step({args: ['build', 'worker', '--rebuild'], exitCode: 0, stderr: 'lasting'})
      await settled(true)
      await t.step({args: ['logs', 'worker', '--tail', '2'], exitCode: 6})
      // The builds of the Containerfile below fail as dnf would (the scripted builder does not run it).
      cluster.sim.addScripts([
        {
          exitCode: 1,
          logLines: [
            'STEP 1/2: FROM quay.io/openshift-release-dev/ocp-v4.0-art-dev AS configs',
            'STEP 2/2: RUN dnf install -y nosuchpackage',
            'Error: Unable to find a match: nosuchpackage',
            'Error: building at STEP "RUN dnf install -y nosuchpackage": exit status 1',
          ],
          match: {container: 'image-build', namespace: MCO_NS, podName: JOB_POD},
        },
      ])
      await t.step({args: [...setup, '--custom-dockerfile', failing, '--force'], exitCode: 0})
      await t.step({args: ['build', 'worker'], exempt: BUILD_LOG, exitCode: 8, stderr: 'lasting'})
      await settled(false)
      await t.step({args: ['status', 'worker'], exitCode: 0})
      await t.step({args: ['logs', 'worker', '--tail', '2'], exitCode: 0})
      await t.step({args: ['enable', 'nosuch'], exitCode: 6})
      t.check()
    })
  })

  describe('on a terminal and from the shipped CLI', () => {
    let cluster: Cluster
    before(async () => {
      cluster = await startCluster({delays: FAST, mode: 'scripted'})
    })
    after(async () => cluster?.stop())

    it('status, an unknown command, an unknown pool and a pool that is not opted in, on a terminal', async () => {
      const parts: string[] = []
      for (const [args, code] of [
        [['status'], 0],
        [['stauts'], 2],
        [['enable', 'nosuch'], 6],
        [['status', 'master'], 0],
        [['build', 'master'], 7],
        [['logs', 'master'], 6],
      ] as const) {
        const term = new Terminal([...args, '--kubeconfig', cluster.kubeconfig])
        const exit = await term.exited
        expect(exit, term.text).to.equal(code)
        const text = normalize(term.screen)
        expect(repeatedLines(text), term.screen).to.deep.equal([])
        parts.push([`$ oc mob ${args.join(' ')}`, `exit ${exit}`, text].join('\n'))
      }

      // Without a terminal (the shipped CLI, output captured): the same words.
      const plain = await runBin(['stauts', '--kubeconfig', cluster.kubeconfig])
      expect(plain.exitCode).to.equal(2)
      parts.push(['$ oc mob stauts   (no terminal)', `exit ${plain.exitCode}`, normalize(`${plain.stdout}${plain.stderr}`)].join('\n'))
      const file = path.join(DIR, 'terminal.txt')
      const text = `${parts.join('\n\n')}\n`
      if (UPDATE) fs.writeFileSync(file, text)
      else expect(text).to.equal(fs.readFileSync(file, 'utf8'))
    })
  })
})
