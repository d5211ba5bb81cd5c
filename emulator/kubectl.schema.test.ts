import {expect} from 'chai'
import {execFile} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {stringify} from 'yaml'
import {startEmulator, type Emulator} from './index.js'

const KUBECTL = '/usr/bin/kubectl'
const NOT_CHECKED =
  '* <nil>: Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation'
const PUSHSPEC =
  '* spec.renderedImagePushSpec: Invalid value: "string": the OCI Image name should follow the host[:port][/namespace]/name format, resembling a valid URL without the scheme. Or it must be a valid .svc followed by a port, repository, image name, and tag.'

const mosc = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'machineconfiguration.openshift.io/v1',
  kind: 'MachineOSConfig',
  metadata: {name},
  spec: {
    machineConfigPool: {name},
    imageBuilder: {imageBuilderType: 'Job'},
    renderedImagePushSecret: {name: 'push-secret'},
    renderedImagePushSpec: 'quay.io/example/os-image:latest',
    ...spec,
  },
})

describe('emulator: the real kubectl creating invalid MachineOSConfigs, and deleting', function () {
  this.timeout(60_000)
  let em: Emulator
  let home: string

  const kubectl = (args: string[]): Promise<{code: number; stdout: string; stderr: string}> =>
    new Promise((resolve) => {
      execFile(
        KUBECTL,
        ['--kubeconfig', em.kubeconfig, ...args],
        {env: {...process.env, HOME: home, KUBECONFIG: ''}, timeout: 30_000},
        (err, stdout, stderr) => {
          resolve({code: err ? ((err as any).code ?? 1) : 0, stdout, stderr})
        },
      )
    })

  /** `kubectl create -f` of one object; its stderr lines */
  const create = async (obj: unknown) => {
    const file = join(home, `obj-${Math.random().toString(36).slice(2)}.yaml`)
    writeFileSync(file, stringify(obj))
    return kubectl(['create', '-f', file])
  }

  const refused = (name: string) => `The MachineOSConfig "${name}" is invalid: `

  before(async function () {
    if (!existsSync(KUBECTL)) this.skip() // the real client is needed for these checks
    home = mkdtempSync(join(tmpdir(), 'kubectl-home-'))
    em = await startEmulator({objects: []})
  })
  after(async () => {
    await em?.close()
    if (home) rmSync(home, {recursive: true, force: true})
  })

  it('creates a valid one', async () => {
    const r = await create(mosc('layered'))
    expect(r.stderr).to.equal('')
    expect(r.stdout).to.equal('machineosconfig.machineconfiguration.openshift.io/layered created\n')
  })

  it('refuses a name unlike the pool', async () => {
    const r = await create(mosc('mine', {machineConfigPool: {name: 'worker'}}))
    expect(r.code).to.not.equal(0)
    expect(r.stderr).to.equal(
      `${refused('mine')}<nil>: Invalid value: "object": MachineOSConfig name must match the referenced MachineConfigPool name; can only have one MachineOSConfig per MachineConfigPool\n`,
    )
  })

  it('refuses a pushspec without a tag, and one with a dotted namespace', async () => {
    for (const spec of ['quay.io/example/os-image', 'quay.io/my.org/os-image:latest']) {
      const r = await create(mosc('layered2', {renderedImagePushSpec: spec, machineConfigPool: {name: 'layered2'}}))
      expect(r.code, spec).to.not.equal(0)
      expect(r.stderr, spec).to.equal(`${refused('layered2')}${PUSHSPEC.slice(2)}\n`)
    }
  })

  it('refuses PodImageBuilder', async () => {
    const r = await create(mosc('pib', {imageBuilder: {imageBuilderType: 'PodImageBuilder'}}))
    expect(r.stderr).to.equal(
      `${refused('pib')}\n* spec.imageBuilder.imageBuilderType: Unsupported value: "PodImageBuilder": supported values: "Job"\n${NOT_CHECKED}\n`,
    )
  })

  it('refuses a 4,100-byte containerFile', async () => {
    const r = await create(mosc('big', {containerFile: [{content: `FROM x\n${'#'.repeat(4093)}`}]}))
    expect(r.stderr).to.equal(
      `${refused('big')}\n* spec.containerFile[0].content: Too long: may not be more than 4096 bytes\n${NOT_CHECKED}\n`,
    )
  })

  it('refuses two NoArch entries (one by default)', async () => {
    const r = await create(mosc('two', {containerFile: [{content: 'FROM a'}, {containerfileArch: 'NoArch', content: 'FROM b'}]}))
    expect(r.stderr).to.equal(
      `${refused('two')}spec.containerFile[1]: Duplicate value: map[string]interface {}{"containerfileArch":"NoArch"}\n`,
    )
    expect((await kubectl(['get', 'machineosconfigs', '-o', 'name'])).stdout).to.equal(
      'machineosconfig.machineconfiguration.openshift.io/layered\n',
    )
  })

  it('refuses an unknown field by the server (kubectl asks for fieldValidation=Strict), and --validate=false creates it pruned', async () => {
    const obj = mosc('unknown', {colour: 'blue'})
    const r = await create(obj)
    expect(r.code).to.not.equal(0)
    expect(r.stdout).to.equal('')
    expect(r.stderr).to.match(
      /^Error from server \(BadRequest\): error when creating "[^"]+": MachineOSConfig in version "v1" cannot be handled as a MachineOSConfig: strict decoding error: unknown field "spec\.colour"\n$/,
    )
    expect((await kubectl(['get', 'machineosconfig', 'unknown'])).code).to.not.equal(0)
    const posts = () => em.requests.filter((q) => q.method === 'POST' && q.path.endsWith('/machineosconfigs')).map((q) => q.query)
    expect(posts().at(-1)).to.contain('fieldValidation=Strict')
    const file = join(home, 'unknown.yaml')
    writeFileSync(file, stringify(obj))
    const ignored = await kubectl(['create', '--validate=false', '-f', file])
    expect(ignored.stderr).to.equal('')
    expect(ignored.stdout).to.equal('machineosconfig.machineconfiguration.openshift.io/unknown created\n')
    expect(posts().at(-1)).to.contain('fieldValidation=Ignore')
    const got = JSON.parse((await kubectl(['get', 'machineosconfig', 'unknown', '-o', 'json'])).stdout)
    expect(got.spec).to.not.have.property('colour')
    expect(got.spec.renderedImagePushSpec).to.equal(obj.spec.renderedImagePushSpec)
    expect((await kubectl(['delete', 'machineosconfig', 'unknown'])).code).to.equal(0)
  })

  it('deletes a MachineOSConfig (the server answers a Status) and waits until it is gone', async () => {
    const r = await kubectl(['delete', 'machineosconfig', 'layered'])
    expect(r.stderr).to.equal('')
    expect(r.stdout).to.equal('machineosconfig.machineconfiguration.openshift.io "layered" deleted\n')
    expect((await kubectl(['get', 'machineosconfigs', '-o', 'name'])).stdout).to.equal('')
    const again = await kubectl(['delete', 'machineosconfig', 'layered'])
    expect(again.stderr).to.equal('Error from server (NotFound): machineosconfigs.machineconfiguration.openshift.io "layered" not found\n')
  })

  it('explains machineosconfig.spec from the OpenAPI v3 the server publishes (CRD schemas and core kinds)', async () => {
    const spec = await kubectl(['explain', 'machineosconfig.spec'])
    expect(spec.stderr).to.equal('')
    expect(spec.stdout).to.match(
      /^GROUP:\s+machineconfiguration\.openshift\.io\nKIND:\s+MachineOSConfig\nVERSION:\s+v1\n\nFIELD: spec <Object>\n/,
    )
    for (const f of ['imageBuilder\t<Object> -required-', 'renderedImagePushSpec\t<string> -required-', 'containerFile\t<[]Object>'])
      expect(spec.stdout).to.contain(f)
    const leaf = await kubectl(['explain', 'machineosconfig.spec.imageBuilder.imageBuilderType'])
    expect(leaf.stdout).to.contain('FIELD: imageBuilderType <string>')
    const meta = await kubectl(['explain', 'mcp.metadata.labels'])
    expect(meta.stdout).to.contain('FIELD: labels <map[string]string>')
    const core = await kubectl(['explain', 'configmap.data'])
    expect(core.stdout).to.match(/^KIND:\s+ConfigMap\nVERSION:\s+v1\n\nFIELD: data <map\[string\]string>\n/)
    const missing = await kubectl(['explain', 'machineosconfig.spec.nope'])
    expect(missing.code).to.equal(1)
    expect(missing.stderr).to.equal('error: field "nope" does not exist\n')
    const root = await em.request('GET', '/openapi/v3')
    expect(Object.keys(root.body.paths)).to.include.members(['api/v1', 'apis/machineconfiguration.openshift.io/v1'])
    expect(root.body.paths['api/v1'].serverRelativeURL).to.match(/^\/openapi\/v3\/api\/v1\?hash=[0-9A-F]{128}$/)
    expect((await em.request('GET', '/openapi/v3/apis/nope/v1')).status).to.equal(404)
  })
})
