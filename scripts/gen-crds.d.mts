// Types of scripts/gen-crds.mjs, for the tests that import its pure functions.
export const CRD_FILES: Record<string, string>
export function sortKeys<T>(v: T): T
export function stripSchema(schema: any): any
export function stripCrd(crd: any): any
export function renderCrd(crd: any, commit?: string): string
export function commitOf(srcDir: string): string | undefined
export function generate(srcDir: string, commit?: string): Record<string, string>
