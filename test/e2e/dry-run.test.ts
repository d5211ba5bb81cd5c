import {expect} from 'chai'
import type {Emulator} from '../../emulator/index.js'
import {resubmitWritesDryRun} from './dry-run.js'
import {startEmulator} from './harness.js'

const SECRETS = '/api/v1/namespaces/default/secrets'
const OC_MOB = {'User-Agent': 'oc-mob/0.1.0'}
const secret = (type: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: {name: 's', namespace: 'default', ...extra},
  type,
  data: {a: Buffer.from('1').toString('base64')},
})

describe('e2e support: re-submitting oc-mob writes with dryRun=All', () => {
  let emu: Emulator
  beforeEach(async () => {
    emu = await startEmulator({checkWrites: false, objects: [], recordWrites: true}) // the check itself is under test
  })
  afterEach(async () => {
    await emu.close()
  })

  it('accepts creates (already existing), updates and patches that still validate; leaves other clients out', async () => {
    expect((await emu.request('POST', SECRETS, secret('Opaque'), OC_MOB)).status).to.equal(201)
    const cur = (await emu.request('GET', `${SECRETS}/s`)).body
    expect((await emu.request('PUT', `${SECRETS}/s`, {...cur, data: {b: 'Mg=='}}, OC_MOB)).status).to.equal(200)
    const merge = {...OC_MOB, 'Content-Type': 'application/merge-patch+json'}
    expect((await emu.request('PATCH', `${SECRETS}/s`, {metadata: {labels: {x: 'y'}}}, merge)).status).to.equal(200)
    expect((await emu.request('POST', SECRETS, {...secret('Opaque'), metadata: {name: 'other', namespace: 'default'}})).status).to.equal(
      201,
    )
    const before = (await emu.request('GET', `${SECRETS}/s`)).body
    const r = await resubmitWritesDryRun(emu)
    expect(r).to.deep.equal({count: 3, refused: []})
    // a dry run changes nothing
    expect((await emu.request('GET', `${SECRETS}/s`)).body).to.deep.equal(before)
  })

  it('reports a recorded write the server would now refuse (an update of an immutable field)', async () => {
    await emu.request('POST', SECRETS, secret('Opaque'), OC_MOB)
    const cur = (await emu.request('GET', `${SECRETS}/s`)).body
    await emu.request('PUT', `${SECRETS}/s`, cur, OC_MOB)
    // the secret is replaced by one of another type: the recorded update would change an immutable field
    await emu.request('DELETE', `${SECRETS}/s`)
    await emu.request('POST', SECRETS, {...secret('example.com/other')})
    const r = await resubmitWritesDryRun(emu)
    expect(r.count).to.equal(2)
    expect(r.refused).to.deep.equal([
      `PUT ${SECRETS}/s -> 422 Invalid: Secret "s" is invalid: type: Invalid value: "Opaque": field is immutable`,
    ])
  })
  it('re-submits with fieldValidation=Strict whatever the write asked for', async () => {
    const MCP = '/apis/machineconfiguration.openshift.io/v1/machineconfigpools'
    const mcp = {
      apiVersion: 'machineconfiguration.openshift.io/v1',
      kind: 'MachineConfigPool',
      metadata: {name: 'p'},
      spec: {colour: 'blue'},
    }
    expect((await emu.request('POST', `${MCP}?fieldValidation=Ignore`, mcp, OC_MOB)).status).to.equal(201)
    const r = await resubmitWritesDryRun(emu)
    expect(r.refused).to.deep.equal([
      `POST ${MCP} -> 400 BadRequest: MachineConfigPool in version "v1" cannot be handled as a MachineConfigPool: strict decoding error: unknown field "spec.colour"`,
    ])
  })
})

describe('e2e support: the harness checks the writes when a test closes its cluster', () => {
  it('closing an emulator of the harness fails on a write of oc-mob the server now refuses, and still closes it', async () => {
    const checked = await startEmulator({objects: []})
    await checked.request('POST', SECRETS, secret('Opaque'), OC_MOB)
    const cur = (await checked.request('GET', `${SECRETS}/s`)).body
    await checked.request('PUT', `${SECRETS}/s`, cur, OC_MOB)
    await checked.request('DELETE', `${SECRETS}/s`)
    await checked.request('POST', SECRETS, {...secret('example.com/other')})
    checked.faults.failNext({path: `${SECRETS}/s`}, 5, 500) // faults left armed by a test are cleared first
    const error = await checked.close().then(
      () => undefined,
      (e: Error) => e,
    )
    expect(error?.message).to.equal(
      `writes of oc-mob the API server refuses as a dry run:\nPUT ${SECRETS}/s -> 422 Invalid: Secret "s" is invalid: type: Invalid value: "Opaque": field is immutable`,
    )
    expect(
      await checked.request('GET', '/version').then(
        () => 'open',
        () => 'closed',
      ),
    ).to.equal('closed')
  })

  it('closing one whose writes all pass says nothing', async () => {
    const checked = await startEmulator({objects: []})
    expect((await checked.request('POST', SECRETS, secret('Opaque'), OC_MOB)).status).to.equal(201)
    await checked.close()
  })
})
