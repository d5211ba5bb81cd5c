import {expect} from 'chai'
import {startEmulator, type Emulator} from '../index.js'
import {call, cm, MCP, pool} from './testing.js'

const CM = '/api/v1/namespaces/default/configmaps'
const MERGE = {'Content-Type': 'application/merge-patch+json'}
const JSONP = {'Content-Type': 'application/json-patch+json'}
const SMP = {'Content-Type': 'application/strategic-merge-patch+json'}
const patch = (em: Emulator, path: string, body: unknown, headers: Record<string, string>) =>
  call(em, 'PATCH', path, {raw: JSON.stringify(body), headers})

describe('emulator: patch (merge, JSON, strategic, apply) and status subresource', () => {
  let em: Emulator
  before(async () => {
    em = await startEmulator({objects: [cm('base', 'default', {a: '1', b: '2'}, {keep: 'yes', drop: 'me'}), pool('layering')]})
  })
  after(async () => {
    await em.close()
  })

  it('applies JSON merge patches (RFC 7386): maps merge, null deletes, lists replace', async () => {
    const r = await patch(em, `${CM}/base`, {metadata: {labels: {drop: null, added: 'x'}}, data: {a: null, c: '3'}}, MERGE)
    expect(r.status).to.equal(200)
    expect(r.json.metadata.labels).to.deep.equal({keep: 'yes', added: 'x'})
    expect(r.json.data).to.deep.equal({b: '2', c: '3'})
    const p = await patch(em, `${MCP}/layering`, {metadata: {labels: {'machineconfiguration.openshift.io/layering-enabled': ''}}}, MERGE)
    expect(p.status).to.equal(200)
    expect(p.json.metadata.labels).to.deep.equal({'machineconfiguration.openshift.io/layering-enabled': ''})
    expect(p.json.metadata.generation).to.equal(1)
    const spec = await patch(em, `${MCP}/layering`, {spec: {paused: true}}, MERGE)
    expect(spec.json.metadata.generation).to.equal(2)
    expect((await patch(em, `${MCP}/nope`, {}, MERGE)).json.message).to.equal(
      'machineconfigpools.machineconfiguration.openshift.io "nope" not found',
    )
  })

  it('applies JSON patches (RFC 6902) and answers a failed test with the exact 422', async () => {
    const cur = (await call(em, 'GET', `${CM}/base`)).json
    const ok = await patch(
      em,
      `${CM}/base`,
      [
        {op: 'test', path: '/data/b', value: '2'},
        {op: 'add', path: '/data/d', value: '4'},
        {op: 'replace', path: '/data/b', value: '22'},
        {op: 'remove', path: '/data/c'},
        {op: 'copy', from: '/data/d', path: '/data/e'},
        {op: 'move', from: '/data/e', path: '/data/f'},
        {op: 'add', path: '/metadata/labels/x~1y', value: 'z'},
      ],
      JSONP,
    )
    expect(ok.status).to.equal(200)
    expect(ok.json.data).to.deep.equal({b: '22', d: '4', f: '4'})
    expect(ok.json.metadata.labels['x/y']).to.equal('z')
    const bad = await patch(
      em,
      `${CM}/base`,
      [
        {op: 'test', path: '/data/b', value: 'nope'},
        {op: 'replace', path: '/data/b', value: 'x'},
      ],
      JSONP,
    )
    expect(bad.status).to.equal(422)
    expect(bad.text).to.equal(
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server rejected our request due to an error in our request","reason":"Invalid","details":{},"code":422}',
    )
    const obj = await patch(em, `${CM}/base`, {data: {a: 'b'}}, JSONP)
    expect(obj.status).to.equal(400)
    expect(obj.json.message).to.equal('json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp')
    // resourceVersion as a precondition inside a patch
    const stale = await patch(
      em,
      `${CM}/base`,
      [{op: 'test', path: '/metadata/resourceVersion', value: cur.metadata.resourceVersion}],
      JSONP,
    )
    expect(stale.status).to.equal(422)
    const staleMerge = await patch(em, `${CM}/base`, {metadata: {resourceVersion: cur.metadata.resourceVersion}, data: {z: '1'}}, MERGE)
    expect(staleMerge.status).to.equal(409)
    expect(staleMerge.json.reason).to.equal('Conflict')
  })

  it('rejects strategic merge patch on custom resources with 415 and the exact message', async () => {
    const r = await patch(em, `${MCP}/layering`, {metadata: {labels: {a: 'b'}}}, SMP)
    expect(r.status).to.equal(415)
    expect(r.text).to.equal(
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml","reason":"UnsupportedMediaType","code":415}',
    )
    const other = await patch(em, `${CM}/base`, {}, {'Content-Type': 'text/plain'})
    expect(other.status).to.equal(415)
    expect(other.json.message).to.equal(
      'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml',
    )
  })

  it('applies strategic merge patches to built-in kinds (containers/env/volumes/conditions by key)', async () => {
    const P = '/api/v1/namespaces/default/pods'
    await call(em, 'POST', P, {
      body: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {name: 'smp', labels: {a: '1'}, finalizers: ['x/a']},
        spec: {
          containers: [
            {
              name: 'one',
              image: 'i:1',
              env: [
                {name: 'A', value: '1'},
                {name: 'B', value: '2'},
              ],
            },
            {name: 'two', image: 'i:1'},
          ],
          volumes: [{name: 'v1', emptyDir: {}}],
        },
      },
    })
    const r = await patch(
      em,
      `${P}/smp`,
      {
        metadata: {labels: {b: '2'}, finalizers: ['x/b']},
        spec: {
          containers: [
            {
              name: 'one',
              image: 'i:2',
              env: [
                {name: 'B', value: '3'},
                {name: 'C', value: '4'},
              ],
            },
            {name: 'two', $patch: 'delete'},
          ],
        },
      },
      SMP,
    )
    expect(r.status).to.equal(422) // pods may not drop containers...
    const ok = await patch(
      em,
      `${P}/smp`,
      {metadata: {labels: {b: '2'}, finalizers: ['x/b']}, spec: {containers: [{name: 'one', image: 'i:2'}]}},
      SMP,
    )
    expect(ok.status).to.equal(200)
    expect(ok.json.metadata.labels).to.deep.equal({a: '1', b: '2'})
    expect(ok.json.metadata.finalizers).to.deep.equal(['x/a', 'x/b'])
    expect(ok.json.spec.containers.map((c: any) => `${c.name}=${c.image}`)).to.deep.equal(['one=i:2', 'two=i:1'])
    expect(ok.json.spec.containers[0].env).to.deep.equal([
      {name: 'A', value: '1'},
      {name: 'B', value: '2'},
    ])
    // status conditions merge by type through pods/status
    const s1 = await patch(
      em,
      `${P}/smp/status`,
      {
        status: {
          conditions: [
            {type: 'Ready', status: 'False'},
            {type: 'PodScheduled', status: 'True'},
          ],
        },
      },
      SMP,
    )
    const s2 = await patch(em, `${P}/smp/status`, {status: {phase: 'Running', conditions: [{type: 'Ready', status: 'True'}]}}, SMP)
    expect(s1.status).to.equal(200)
    expect(s2.json.status.phase).to.equal('Running')
    expect(s2.json.status.conditions).to.deep.equal([
      {type: 'Ready', status: 'True'},
      {type: 'PodScheduled', status: 'True'},
    ])
    // deployments: containers and env merge by name
    const D = '/apis/apps/v1/namespaces/default/deployments'
    await call(em, 'POST', D, {
      body: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: {name: 'd'},
        spec: {
          selector: {matchLabels: {a: 'b'}},
          template: {metadata: {labels: {a: 'b'}}, spec: {containers: [{name: 'c', image: 'i:1', env: [{name: 'A', value: '1'}]}]}},
        },
      },
    })
    const d = await patch(em, `${D}/d`, {spec: {template: {spec: {containers: [{name: 'c', env: [{name: 'B', value: '2'}]}]}}}}, SMP)
    expect(d.json.spec.template.spec.containers[0].env).to.deep.equal([
      {name: 'A', value: '1'},
      {name: 'B', value: '2'},
    ])
    expect(d.json.spec.template.spec.containers[0].image).to.equal('i:1')
    expect(d.json.metadata.generation).to.equal(2)
    const ann = await patch(em, `${D}/d`, {metadata: {annotations: {x: 'y'}}}, SMP)
    expect(ann.json.metadata.generation).to.equal(3) // Deployments count annotation changes too
  })

  it('patches only status through /status and ignores status on the main endpoint', async () => {
    const main = await patch(em, `${MCP}/layering`, {status: {machineCount: 5}}, MERGE)
    expect(main.json.status).to.equal(undefined)
    const st = await patch(
      em,
      `${MCP}/layering/status`,
      {status: {machineCount: 5, conditions: [{type: 'Updated', status: 'True'}]}, spec: {paused: false}},
      MERGE,
    )
    expect(st.json.status.machineCount).to.equal(5)
    expect(st.json.spec.paused).to.equal(true)
    const jp = await patch(em, `${MCP}/layering/status`, [{op: 'replace', path: '/status/machineCount', value: 6}], JSONP)
    expect(jp.json.status.machineCount).to.equal(6)
  })

  it('supports server-side apply as create-or-merge (fieldManager required)', async () => {
    const APPLY = {'Content-Type': 'application/apply-patch+yaml'}
    const noFm = await call(em, 'PATCH', `${CM}/applied`, {
      raw: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  a: "1"\n',
      headers: APPLY,
    })
    expect(noFm.status).to.equal(400)
    const c = await call(em, 'PATCH', `${CM}/applied?fieldManager=oc-mob`, {
      raw: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  a: "1"\n',
      headers: APPLY,
    })
    expect(c.status).to.equal(201)
    const u = await call(em, 'PATCH', `${CM}/applied?fieldManager=another-manager&force=true`, {
      raw: JSON.stringify({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'applied'}, data: {b: '2'}}),
      headers: APPLY,
    })
    expect(u.status).to.equal(200)
    expect(u.json.data).to.deep.equal({a: '1', b: '2'})
  })
})
