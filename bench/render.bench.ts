// Rendering benchmark: `npx tsx bench/render.bench.ts [--quick]`
// What `oc mob dockerfile --export` and `oc mob build` do with a large pool: render the Dockerfile and
// encode a 900 KiB rendered MachineConfig (Go-style JSON, gzip -9, base64) — median time, against
// JSON.stringify of the same object as the baseline. Also decoding it back (`oc mob machineconfig`)
// and checking a custom Dockerfile.
import {CONFIGMAP_LIMIT_BYTES, decodeMachineConfig, encodeMachineConfig, goJson, renderDockerfile} from '../src/lib/build/dockerfile.js'
import {validateCustomDockerfile} from '../src/lib/build/validate.js'
import {type BenchResult, standalone} from './run.js'

const TARGET_BYTES = 900 * 1024

/** A small deterministic PRNG (mulberry32), so every run measures the same MachineConfig. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d_2b_79_f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

const WORDS = [
  'kubelet',
  'crio',
  'registry',
  'mirror',
  'timeout',
  'max',
  'pool',
  'worker',
  'cgroup',
  'memory',
  'cpu',
  'enable',
  'disable',
  'path',
  'socket',
  'proxy',
  'cert',
  'log',
  'level',
  'debug',
  'audit',
  'node',
  'zone',
  'fips',
  'sysctl',
  'limit',
]

/**
 * A rendered MachineConfig shaped like a real one of about `bytes` bytes of JSON: many files of
 * varied kinds (ini-style configs, shell scripts, PEM certificates, JSON) as percent-encoded or
 * base64 data URLs, systemd units with drop-ins, kernel arguments and extensions.
 */
export function largeMachineConfig(bytes = TARGET_BYTES, seed = 414): Record<string, unknown> {
  const rand = prng(seed)
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]
  const word = (): string => pick(WORDS)
  const hex = (n: number): string => Array.from({length: n}, () => Math.floor(rand() * 16).toString(16)).join('')
  const randomBytes = (n: number): Buffer => Buffer.from(Array.from({length: n}, () => Math.floor(rand() * 256)))
  const configText = (): string => {
    const lines = [`# ${word()} ${word()} settings, generated ${hex(8)}`, `[${word()}.${word()}]`]
    for (let i = 0, n = 10 + Math.floor(rand() * 40); i < n; i++) {
      lines.push(`${word()}_${word()} = ${rand() < 0.5 ? Math.floor(rand() * 100_000) : `"${word()}-${hex(6)}"`}`)
    }

    return lines.join('\n') + '\n'
  }

  const script = (): string =>
    [
      '#!/bin/bash',
      'set -euo pipefail',
      ...Array.from(
        {length: 8 + Math.floor(rand() * 20)},
        () => `${pick(['echo', 'systemctl restart', 'sysctl -w', 'mkdir -p', 'chmod 0644'])} /etc/${word()}/${word()}-${hex(4)} || true`,
      ),
    ].join('\n') + '\n'
  const pem = (): string => {
    const body = randomBytes(600 + Math.floor(rand() * 900))
      .toString('base64')
      .replaceAll(/.{64}/g, '$&\n')
    return `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`
  }

  const jsonDoc = (): string =>
    JSON.stringify(
      {
        apiVersion: 'v1',
        entries: Array.from({length: 5 + Math.floor(rand() * 20)}, () => ({id: hex(12), name: `${word()}-${word()}`, weight: rand()})),
        kind: word(),
      },
      null,
      2,
    )

  const files: unknown[] = []
  const units: unknown[] = []
  const spec = {
    config: {
      ignition: {version: '3.4.0'},
      passwd: {users: [{name: 'core', sshAuthorizedKeys: [`ssh-ed25519 ${randomBytes(48).toString('base64')} admin@bastion`]}]},
      storage: {files},
      systemd: {units},
    },
    extensions: ['usbguard', 'kerberos'],
    fips: false,
    kernelArguments: ['systemd.unified_cgroup_hierarchy=1', 'cgroup_no_v1="all"', 'psi=1'],
    kernelType: 'default',
    osImageURL: `quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:${hex(64)}`,
  }
  const mc = {
    apiVersion: 'machineconfiguration.openshift.io/v1',
    kind: 'MachineConfig',
    metadata: {
      annotations: {'machineconfiguration.openshift.io/generated-by-controller-version': '4.14.0-202402130630.p0.gf2e3ed4.assembly.stream'},
      creationTimestamp: '2024-02-20T09:14:03Z',
      generation: 1,
      name: `rendered-layering-${hex(32)}`,
      ownerReferences: [
        {
          apiVersion: 'machineconfiguration.openshift.io/v1',
          blockOwnerDeletion: true,
          controller: true,
          kind: 'MachineConfigPool',
          name: 'layering',
          uid: `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`,
        },
      ],
      resourceVersion: '123456',
      uid: `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`,
    },
    spec,
  }
  let i = 0
  while (goJson(mc).length < bytes) {
    i++
    const kind = rand()
    if (kind < 0.08) {
      units.push({
        contents: `[Unit]\nDescription=${word()} ${word()} ${i}\nAfter=network-online.target\n\n[Service]\nType=oneshot\nExecStart=/usr/local/bin/${word()}-${hex(4)}.sh\nRemainAfterExit=yes\n\n[Install]\nWantedBy=multi-user.target\n`,
        dropins:
          rand() < 0.5
            ? [{contents: `[Service]\nEnvironment="${word().toUpperCase()}=${hex(8)}"\n`, name: `10-${word()}.conf`}]
            : undefined,
        enabled: rand() < 0.7,
        name: `${word()}-${word()}-${i}.service`,
      })
      continue
    }

    const text = kind < 0.35 ? configText() : kind < 0.55 ? script() : kind < 0.75 ? jsonDoc() : pem()
    const source =
      rand() < 0.5 ? `data:,${encodeURIComponent(text)}` : `data:text/plain;charset=utf-8;base64,${Buffer.from(text).toString('base64')}`
    files.push({
      contents: {source},
      mode: pick([420, 384, 493]),
      overwrite: true,
      path: `/etc/${word()}/${word()}.d/${i}-${word()}.${pick(['conf', 'sh', 'json', 'crt'])}`,
    })
  }

  return mc
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

function time(runs: number, fn: () => unknown): number {
  for (let i = 0; i < 2; i++) fn() // warm up
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const t = performance.now()
    fn()
    times.push(performance.now() - t)
  }

  return median(times)
}

const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits

const CUSTOM = `# Tools and repositories, then the final image.
FROM quay.io/centos/centos:stream9 AS centos
RUN dnf install -y epel-release

FROM docker.io/mikefarah/yq:latest AS yq

FROM configs AS final
COPY --from=yq /usr/bin/yq /usr/bin/yq
COPY --from=centos /etc/yum.repos.d /etc/yum.repos.d
COPY --from=centos /etc/pki/rpm-gpg/RPM-GPG-KEY-* /etc/pki/rpm-gpg/
RUN sed -i 's/\\$stream/9-stream/g' /etc/yum.repos.d/centos*.repo && \\
    rpm-ostree install cowsay ripgrep && \\
    ostree container commit
`

export async function run(opts: {quick: boolean}): Promise<BenchResult[]> {
  const runs = opts.quick ? 7 : 31
  const mc = largeMachineConfig()
  const name = (mc.metadata as {name: string}).name
  const inputs = {
    baseImage: 'quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:' + '8f'.repeat(32),
    customDockerfile: CUSTOM,
    extensionsImage: 'quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:' + '1c'.repeat(32),
    pool: 'layering',
    releaseVersion: '4.14.12',
    renderedConfig: name,
  }
  const jsonBytes = Buffer.byteLength(goJson(mc))
  const encoded = encodeMachineConfig(mc)
  const baseline = time(runs, () => JSON.stringify(mc))
  const both = time(runs, () => {
    renderDockerfile(inputs)
    encodeMachineConfig(mc)
  })
  const render = time(runs, () => renderDockerfile(inputs))
  const encode = time(runs, () => encodeMachineConfig(mc))
  const decode = time(runs, () => decodeMachineConfig(encoded))
  const validate = time(runs, () => validateCustomDockerfile(CUSTOM, inputs))
  const base = 'JSON.stringify of the same MachineConfig'
  return [
    {name: 'MachineConfig JSON size', unit: 'KiB', value: round(jsonBytes / 1024)},
    {
      name: `encoded size (mc-<rendered> data; limit ${CONFIGMAP_LIMIT_BYTES / 1024} KiB)`,
      ok: encoded.length < CONFIGMAP_LIMIT_BYTES,
      target: '< 1024',
      unit: 'KiB',
      value: round(encoded.length / 1024),
    },
    {name: 'JSON.stringify (baseline)', unit: 'ms', value: round(baseline, 2)},
    {
      baseline: base,
      name: 'render Dockerfile + encode MachineConfig (median)',
      ok: both < 100,
      ratio: round(both / baseline, 1),
      target: '< 100',
      unit: 'ms',
      value: round(both, 2),
    },
    {
      baseline: base,
      name: 'encode MachineConfig: Go JSON, gzip -9, base64 (median)',
      ratio: round(encode / baseline, 1),
      unit: 'ms',
      value: round(encode, 2),
    },
    {name: 'render Dockerfile alone (median)', ok: render < 1, target: '< 1000', unit: 'µs', value: round(render * 1000, 1)},
    {
      baseline: base,
      name: 'decode MachineConfig: base64, gunzip, JSON.parse (median)',
      ok: decode < 100,
      ratio: round(decode / baseline, 1),
      target: '< 100',
      unit: 'ms',
      value: round(decode, 2),
    },
    {name: 'check a 13-line custom Dockerfile (median)', ok: validate < 50, target: '< 50', unit: 'ms', value: round(validate, 2)},
  ]
}

await standalone(import.meta.url, run)
