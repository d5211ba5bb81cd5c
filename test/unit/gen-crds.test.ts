import {expect} from 'chai'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {parse} from 'yaml'
import {CRD_FILES, commitOf, generate, renderCrd, sortKeys, stripCrd} from '../../scripts/gen-crds.mjs'

// A small CRD in the shape openshift/api publishes, with prose at every level the generator removes
// and data that only looks like prose (a field and a default named "description") that it keeps.
function fixture(): any {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: 'widgets.example.io',
      annotations: {
        'api-approved.openshift.io': 'https://github.com/openshift/api/pull/1',
        'include.release.openshift.io/self-managed-high-availability': 'true',
        'example.io/summary': 'Widgets hold the things a cluster needs.',
        'example.io/description': 'x',
      },
      labels: {'openshift.io/operator-managed': ''},
    },
    spec: {
      scope: 'Cluster',
      group: 'example.io',
      names: {plural: 'widgets', kind: 'Widget', listKind: 'WidgetList', singular: 'widget', shortNames: ['wd']},
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          subresources: {status: {}},
          additionalPrinterColumns: [
            {
              name: 'Ready',
              type: 'string',
              jsonPath: '.status.conditions[?(@.type=="Ready")].status',
              description: 'Whether it is ready.',
              priority: 1,
            },
            {name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp'},
          ],
          schema: {
            openAPIV3Schema: {
              description: 'Widget is a thing.',
              type: 'object',
              required: ['spec'],
              'x-kubernetes-validations': [
                {
                  rule: 'self.metadata.name == self.spec.pool.name',
                  message: 'name must match the pool',
                  optionalOldSelf: true,
                  reason: 'FieldValueInvalid',
                  fieldPath: '.spec.pool.name',
                },
              ],
              properties: {
                spec: {
                  description: 'spec is the desired state.',
                  type: 'object',
                  properties: {
                    description: {description: 'a field that is named description', type: 'string', maxLength: 64},
                    pool: {type: 'object', properties: {name: {type: 'string', pattern: '^[a-z]+$', description: 'the pool'}}},
                    size: {'x-kubernetes-int-or-string': true, anyOf: [{type: 'integer', description: 'a number'}, {type: 'string'}]},
                    mode: {type: 'string', enum: ['Fast', 'Slow'], default: 'Fast', description: 'how fast'},
                    labels: {type: 'object', additionalProperties: {type: 'string', description: 'a value'}},
                    info: {
                      type: 'object',
                      default: {description: 'kept: a default is data'},
                      'x-kubernetes-preserve-unknown-fields': true,
                      nullable: true,
                    },
                    items: {
                      type: 'array',
                      maxItems: 8,
                      minItems: 0,
                      'x-kubernetes-list-type': 'map',
                      'x-kubernetes-list-map-keys': ['name'],
                      items: {
                        type: 'object',
                        required: ['name'],
                        description: 'an item',
                        properties: {name: {type: 'string', format: 'date-time', minLength: 1}},
                      },
                    },
                  },
                },
              },
            },
          },
        },
      ],
    },
    status: {acceptedNames: {kind: '', plural: ''}, storedVersions: []},
  }
}

const expected = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: {
    annotations: {
      'api-approved.openshift.io': 'https://github.com/openshift/api/pull/1',
      'include.release.openshift.io/self-managed-high-availability': 'true',
    },
    labels: {'openshift.io/operator-managed': ''},
    name: 'widgets.example.io',
  },
  spec: {
    group: 'example.io',
    names: {kind: 'Widget', listKind: 'WidgetList', plural: 'widgets', shortNames: ['wd'], singular: 'widget'},
    scope: 'Cluster',
    versions: [
      {
        additionalPrinterColumns: [
          {jsonPath: '.status.conditions[?(@.type=="Ready")].status', name: 'Ready', priority: 1, type: 'string'},
          {jsonPath: '.metadata.creationTimestamp', name: 'Age', type: 'date'},
        ],
        name: 'v1',
        schema: {
          openAPIV3Schema: {
            properties: {
              spec: {
                properties: {
                  description: {maxLength: 64, type: 'string'},
                  info: {
                    default: {description: 'kept: a default is data'},
                    nullable: true,
                    type: 'object',
                    'x-kubernetes-preserve-unknown-fields': true,
                  },
                  items: {
                    items: {properties: {name: {format: 'date-time', minLength: 1, type: 'string'}}, required: ['name'], type: 'object'},
                    maxItems: 8,
                    minItems: 0,
                    type: 'array',
                    'x-kubernetes-list-map-keys': ['name'],
                    'x-kubernetes-list-type': 'map',
                  },
                  labels: {additionalProperties: {type: 'string'}, type: 'object'},
                  mode: {default: 'Fast', enum: ['Fast', 'Slow'], type: 'string'},
                  pool: {properties: {name: {pattern: '^[a-z]+$', type: 'string'}}, type: 'object'},
                  size: {anyOf: [{type: 'integer'}, {type: 'string'}], 'x-kubernetes-int-or-string': true},
                },
                type: 'object',
              },
            },
            required: ['spec'],
            type: 'object',
            'x-kubernetes-validations': [
              {
                fieldPath: '.spec.pool.name',
                message: 'name must match the pool',
                optionalOldSelf: true,
                reason: 'FieldValueInvalid',
                rule: 'self.metadata.name == self.spec.pool.name',
              },
            ],
          },
        },
        served: true,
        storage: true,
        subresources: {status: {}},
      },
    ],
  },
}

/** The same object with every object's keys in reverse order. */
function reversed(v: any): any {
  if (Array.isArray(v)) return v.map(reversed)
  if (v === null || typeof v !== 'object') return v
  return Object.fromEntries(
    Object.keys(v)
      .reverse()
      .map((k) => [k, reversed(v[k])]),
  )
}

describe('scripts/gen-crds.mjs', () => {
  it('drops the prose of a CRD and keeps everything the API server acts on', () => {
    expect(stripCrd(fixture())).to.deep.equal(expected)
  })

  it('writes keys in sorted order, whatever the order of the source', () => {
    const a = stripCrd(fixture())
    const b = stripCrd(reversed(fixture()))
    expect(JSON.stringify(b)).to.equal(JSON.stringify(a))
    expect(Object.keys(a.spec.versions[0])).to.deep.equal([
      'additionalPrinterColumns',
      'name',
      'schema',
      'served',
      'storage',
      'subresources',
    ])
    expect(JSON.stringify(sortKeys({b: 1, a: [{d: 1, c: 2}]}))).to.equal('{"a":[{"c":2,"d":1}],"b":1}')
  })

  it('leaves its input unchanged and refuses what is not a CRD', () => {
    const input = fixture()
    stripCrd(input)
    expect(input).to.deep.equal(fixture())
    expect(() => stripCrd({kind: 'ConfigMap'})).to.throw('not a CustomResourceDefinition: ConfigMap')
  })

  it('renders YAML with a header naming the origin, which parses back to the stripped CRD', () => {
    const text = renderCrd(fixture(), '2a3d73913')
    const header = text
      .split('\n')
      .filter((l) => l.startsWith('#'))
      .join('\n')
    expect(header).to.contain('Widget (widgets.example.io): generated by scripts/gen-crds.mjs')
    expect(header).to.contain('openshift/api (Apache-2.0) at commit 2a3d73913, machineconfiguration/v1/zz_generated.crd-manifests/')
    expect(parse(text)).to.deep.equal(expected)
    expect(renderCrd(reversed(fixture()), '2a3d73913')).to.equal(text)
  })

  describe('generate (a source folder)', () => {
    let dir: string
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-mob-gen-crds-'))
    })
    afterEach(() => {
      fs.rmSync(dir, {force: true, recursive: true})
    })

    const write = (kinds: Record<string, string>) => {
      for (const [file, kind] of Object.entries(kinds)) {
        const crd = fixture()
        crd.spec.names.kind = kind
        crd.metadata.name = file.replace('.crd.yaml', '.machineconfiguration.openshift.io')
        fs.writeFileSync(path.join(dir, file), `---\n${JSON.stringify(crd)}\n`)
      }
    }

    it('reads the four manifests and takes the commit from the folder README', () => {
      write(CRD_FILES)
      fs.writeFileSync(path.join(dir, 'README.md'), 'The CRDs, as published by openshift/api at commit 2a3d73913 under ...\n')
      expect(commitOf(dir)).to.equal('2a3d73913')
      const files = generate(dir, commitOf(dir))
      expect(Object.keys(files).sort()).to.deep.equal(Object.keys(CRD_FILES).sort())
      const mosc = files['machineosconfigs.crd.yaml']
      expect(mosc).to.contain('at commit 2a3d73913')
      expect(parse(mosc).spec.names.kind).to.equal('MachineOSConfig')
      for (const prose of ['Widget is a thing.', 'spec is the desired state.', 'Whether it is ready.', 'Widgets hold'])
        expect(mosc).to.not.contain(prose)
    })

    it('says which manifest is missing or holds the wrong kind', () => {
      const {'machineosbuilds.crd.yaml': _, ...three} = CRD_FILES
      write(three)
      expect(commitOf(dir)).to.equal(undefined)
      expect(() => generate(dir)).to.throw(/machineosbuilds\.crd\.yaml is missing/)
      write({'machineosbuilds.crd.yaml': 'MachineConfig'})
      expect(() => generate(dir)).to.throw(/machineosbuilds\.crd\.yaml: expected one CustomResourceDefinition of MachineOSBuild/)
    })
  })
})
