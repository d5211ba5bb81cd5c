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
})
