/**
 * Re-submits every write oc-mob made (recorded by an emulator started with `recordWrites: true`) with
 * `?dryRun=All&fieldValidation=Strict`, to catch a write the API server would refuse by its schema or validation rules once the
 * cluster moved on (schema drift): a create must pass validation (201, or 409 AlreadyExists, which the server
 * checks only after validating), an update or patch must apply to the current object (200), or find it gone
 * (404). Anything else is reported as `METHOD path -> code reason: message`.
 */
import type {Emulator} from '../../emulator/index.js'

const ACCEPTED: Record<string, Array<(code: number, reason?: string, message?: string) => boolean>> = {
  POST: [(c) => c === 201 || c === 200, (c, r) => c === 409 && r === 'AlreadyExists'],
  PUT: [(c) => c === 200 || c === 201, (c) => c === 404],
  PATCH: [
    (c) => c === 200 || c === 201,
    (c) => c === 404,
    // a JSON patch's `test` operation no longer holding is a precondition, not a schema question
    (c, _r, m) => c === 422 && m === 'the server rejected our request due to an error in our request',
  ],
}

export interface Resubmitted {
  /** how many writes were re-submitted */
  count: number
  /** the ones the server refused, as `METHOD path -> code reason: message` */
  refused: string[]
}

export async function resubmitWritesDryRun(emu: Emulator, userAgent: RegExp = /^oc-mob\b/): Promise<Resubmitted> {
  const writes = emu.requests.filter(
    (r) =>
      ACCEPTED[r.method] &&
      r.status >= 200 &&
      r.status < 300 &&
      r.body !== undefined &&
      userAgent.test(r.userAgent ?? '') &&
      !r.path.includes('selfsubjectaccessreviews') &&
      !r.query.split('&').includes('dryRun=All'),
  )
  const refused: string[] = []
  for (const w of writes) {
    let body: string = w.body!
    if (w.method === 'PUT' || (w.method === 'PATCH' && w.contentType?.includes('merge-patch'))) {
      // the object may have moved on since: re-submit unconditionally (no resourceVersion precondition,
      // which a merge patch may carry too)
      const obj = JSON.parse(body)
      if (obj?.metadata) delete obj.metadata.resourceVersion
      body = JSON.stringify(obj)
    }
    // strict field validation as well, whatever the write asked for: a field the CRD does not know is a refusal
    const kept = w.query.split('&').filter((p) => p && !p.startsWith('fieldValidation='))
    const query = [...kept, 'dryRun=All', 'fieldValidation=Strict'].join('&')
    const r = await emu.request(w.method, `${w.path}?${query}`, body, w.contentType ? {'Content-Type': w.contentType} : {})
    const ok = ACCEPTED[w.method].some((f) => f(r.status, r.body?.reason, r.body?.message))
    if (!ok) refused.push(`${w.method} ${w.path} -> ${r.status} ${r.body?.reason ?? ''}: ${r.body?.message ?? ''}`)
  }
  return {count: writes.length, refused}
}
