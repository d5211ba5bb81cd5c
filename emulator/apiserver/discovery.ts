// Legacy discovery documents (/api, /apis, /apis/<group>[/<version>], /version).
import type {Registry, ResourceDef} from './resources.js'

const SUB_VERBS: Record<string, string[]> = {status: ['get', 'patch', 'update'], log: ['get'], binding: ['create'], token: ['create']}
const SUB_GV: Record<string, {group: string; version: string}> = {'serviceaccounts/token': {group: 'authentication.k8s.io', version: 'v1'}}
const SUB_KIND: Record<string, string> = {'pods/binding': 'Binding', 'builds/log': 'BuildLog', 'serviceaccounts/token': 'TokenRequest'}

function resourceEntries(rs: ResourceDef[]): any[] {
  const out: any[] = []
  for (const r of rs) {
    const e: any = {name: r.plural, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs}
    if (r.shortNames) e.shortNames = r.shortNames
    if (r.categories) e.categories = r.categories
    out.push(e)
    for (const s of r.subresources) {
      const name = `${r.plural}/${s}`
      out.push({
        name,
        singularName: '',
        namespaced: r.namespaced,
        ...SUB_GV[name],
        kind: SUB_KIND[name] ?? r.kind,
        verbs: SUB_VERBS[s] ?? ['get'],
      })
    }
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

export function apiVersions(serverAddress: string) {
  return {kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{clientCIDR: '0.0.0.0/0', serverAddress}]}
}

function groupEntry(name: string, versions: string[]) {
  const vs = versions.map((v) => ({groupVersion: `${name}/${v}`, version: v}))
  return {name, versions: vs, preferredVersion: vs[0]}
}

export function apiGroupList(reg: Registry) {
  return {kind: 'APIGroupList', apiVersion: 'v1', groups: [...reg.groups()].map(([g, vs]) => groupEntry(g, vs))}
}

export function apiGroup(reg: Registry, group: string) {
  const vs = reg.groups().get(group)
  return vs ? {kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(group, vs)} : undefined
}

export function apiResourceList(reg: Registry, group: string, version: string) {
  const rs = reg.inGroupVersion(group, version)
  if (rs.length === 0) return undefined
  return {kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources: resourceEntries(rs)}
}

export function versionDoc(gitVersion: string) {
  const m = /^v(\d+)\.(\d+)/.exec(gitVersion)
  return {
    major: m?.[1] ?? '1',
    minor: m?.[2] ?? '27',
    gitVersion,
    gitCommit: 'c95b5d4d0b45a8a37d4a4c3c7dbdb1c5b4e5f0a1',
    gitTreeState: 'clean',
    buildDate: '2024-07-30T14:11:01Z',
    goVersion: 'go1.20.12 X:strictfipsruntime',
    compiler: 'gc',
    platform: 'linux/amd64',
  }
}

/**
 * A minimal OpenAPI v2 document (no paths, no definitions): enough for kubectl's client-side validation
 * and apply, which skip kinds they have no schema for. kubectl asks for the gnostic protobuf form.
 */
export function openApiV2(gitVersion: string, protobuf: boolean): {body: Buffer; contentType: string} {
  if (!protobuf) {
    return {
      body: Buffer.from(JSON.stringify({swagger: '2.0', info: {title: 'Kubernetes', version: gitVersion}, paths: {}, definitions: {}})),
      contentType: 'application/json',
    }
  }
  const field = (n: number, payload: Buffer) => Buffer.concat([Buffer.from([(n << 3) | 2, payload.length]), payload])
  const info = Buffer.concat([field(1, Buffer.from('Kubernetes')), field(2, Buffer.from(gitVersion))])
  return {body: Buffer.concat([field(1, Buffer.from('2.0')), field(2, info)]), contentType: 'application/octet-stream'}
}
