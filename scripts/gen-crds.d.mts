// Types of scripts/gen-crds.mjs, for the tests that import its pure functions.

/** A CustomResourceDefinition as parsed from YAML: the fields the generator reads, and whatever else it holds. */
export interface Crd {
  kind: 'CustomResourceDefinition'
  metadata: {name: string; annotations?: Record<string, string>; [k: string]: unknown}
  spec: {names: {kind: string; [k: string]: unknown}; versions: Record<string, unknown>[]; [k: string]: unknown}
  [k: string]: unknown
}

export const CRD_FILES: Record<string, string>
export function sortKeys<T>(v: T): T
export function stripSchema<T>(schema: T): T
export function stripCrd(crd: unknown): Crd
export function renderCrd(crd: Crd, commit?: string): string
export function commitOf(srcDir: string): string | undefined
export function generate(srcDir: string, commit?: string): Record<string, string>
