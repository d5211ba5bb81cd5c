/**
 * `npm run krew [-- --base-url URL] [--out DIR]`: a krew plugin manifest (mob.yaml) and the archive
 * it points to, generated from package.json.
 *
 * The archive is the npm package itself: everything oc-mob runs (oclif's help and autocomplete
 * commands included) is bundled in dist/, so it needs no node_modules, only Node.js (>= the engines
 * version) on PATH.
 * Without --base-url the manifest points at the local archive (for
 * `kubectl krew install --manifest=mob.yaml --archive=oc-mob-krew-<version>.tar.gz`); with it, at
 * `<base-url>/oc-mob-krew-<version>.tar.gz` as published.
 */
import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {stringify} from 'yaml'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const opt = (name) => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}

const out = path.resolve(opt('--out') ?? path.join(root, 'dist-krew'))
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))
fs.mkdirSync(out, {recursive: true})
const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-mob-krew-'))
try {
  const tgz = execFileSync('npm', ['pack', '--pack-destination', stage, '--silent'], {cwd: root, encoding: 'utf8'})
    .trim()
    .split('\n')
    .at(-1)
  execFileSync('tar', ['xzf', path.join(stage, tgz), '-C', stage])
  const dir = path.join(stage, 'oc-mob')
  fs.renameSync(path.join(stage, 'package'), dir)
  const pj = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'))
  delete pj.devDependencies
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pj, null, 2) + '\n')

  const archive = `oc-mob-krew-${pkg.version}.tar.gz`
  execFileSync('tar', ['czf', path.join(out, archive), '--owner=0', '--group=0', '-C', stage, 'oc-mob'])
  const sha256 = createHash('sha256')
    .update(fs.readFileSync(path.join(out, archive)))
    .digest('hex')
  const base = opt('--base-url')
  const uri = base ? `${base.replace(/\/+$/, '')}/${archive}` : `file://${path.join(out, archive)}`
  const platform = (os_, arch) => ({
    bin: 'oc-mob/bin/run.cjs',
    files: [{from: '*', to: '.'}],
    selector: {matchLabels: {arch, os: os_}},
    sha256,
    uri,
  })
  const manifest = {
    apiVersion: 'krew.googlecontainertools.github.com/v1alpha2',
    kind: 'Plugin',
    metadata: {name: 'mob'},
    spec: {
      caveats: `oc-mob runs on Node.js ${pkg.engines.node}: \`node\` must be on PATH.\nIt also works as \`oc mob\` when oc-mob is on PATH (npm install -g oc-mob).`,
      description:
        'Set up, drive, follow, clean up and roll back OpenShift on-cluster OS image builds (on-cluster layering) from a workstation: build config and secrets, opting pools in, one-shot builds with their logs, the rendered Dockerfile, cleanup after failed builds, rollback to earlier images, and where everything stands.',
      homepage: pkg.homepage ?? 'https://www.npmjs.com/package/oc-mob',
      platforms: [platform('linux', 'amd64'), platform('linux', 'arm64'), platform('darwin', 'amd64'), platform('darwin', 'arm64')],
      shortDescription: 'Drive OpenShift on-cluster OS image builds',
      version: `v${pkg.version}`,
    },
  }
  fs.writeFileSync(path.join(out, 'mob.yaml'), stringify(manifest, {lineWidth: 0}))
  process.stdout.write(`${path.join(out, 'mob.yaml')}\n${path.join(out, archive)}\nsha256 ${sha256}\n`)
} finally {
  fs.rmSync(stage, {force: true, recursive: true})
}
