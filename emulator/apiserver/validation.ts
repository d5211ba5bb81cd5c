// Validation with the real server's field paths and messages.
import {q, type StatusCause} from './errors.js'

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
export const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
export const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/
export const QUALIFIED_MSG =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/
export const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
export const DNS1035_MSG =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/
const CONFIG_KEY_MSG =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"

export const invalidValue = (field: string, value: unknown, detail: string): StatusCause => ({
  reason: 'FieldValueInvalid',
  message: `Invalid value: ${typeof value === 'string' ? q(value) : JSON.stringify(value)}: ${detail}`,
  field,
})
export const required = (field: string, detail?: string): StatusCause => ({
  reason: 'FieldValueRequired',
  message: detail ? `Required value: ${detail}` : 'Required value',
  field,
})
export const tooLong = (field: string, max: number): StatusCause => ({
  reason: 'FieldValueTooLong',
  message: `Too long: may not be more than ${max} bytes`,
  field,
})
export const forbiddenField = (field: string, detail: string): StatusCause => ({
  reason: 'FieldValueForbidden',
  message: `Forbidden: ${detail}`,
  field,
})

export function validateName(name: string, rule: 'subdomain' | 'label' = 'subdomain'): StatusCause[] {
  const out: StatusCause[] = []
  const max = rule === 'label' ? 63 : 253
  if (name.length > max) out.push(invalidValue('metadata.name', name, `must be no more than ${max} characters`))
  if (!(rule === 'label' ? LABEL : SUBDOMAIN).test(name))
    out.push(invalidValue('metadata.name', name, rule === 'label' ? LABEL_MSG : SUBDOMAIN_MSG))
  return out
}

function validateQualifiedKey(field: string, key: string): StatusCause[] {
  const out: StatusCause[] = []
  const parts = key.split('/')
  let name = key
  if (parts.length === 2) {
    const [prefix, n] = parts
    name = n
    if (!prefix) out.push(invalidValue(field, key, 'prefix part must be non-empty'))
    else {
      if (prefix.length > 253) out.push(invalidValue(field, key, 'prefix part must be no more than 253 characters'))
      if (!SUBDOMAIN.test(prefix)) out.push(invalidValue(field, key, `prefix part ${SUBDOMAIN_MSG}`))
    }
  } else if (parts.length > 2) {
    out.push(
      invalidValue(
        field,
        key,
        `a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
      ),
    )
    return out
  }
  if (!name) out.push(invalidValue(field, key, 'name part must be non-empty'))
  else {
    if (name.length > 63) out.push(invalidValue(field, key, 'name part must be no more than 63 characters'))
    if (!QUALIFIED_NAME.test(name)) out.push(invalidValue(field, key, QUALIFIED_MSG))
  }
  return out
}

export function validateMetadata(meta: any): StatusCause[] {
  const out: StatusCause[] = []
  for (const [k, v] of Object.entries<any>(meta.labels ?? {})) {
    out.push(...validateQualifiedKey('metadata.labels', k))
    if (typeof v !== 'string') continue
    if (v.length > 63) out.push(invalidValue('metadata.labels', v, 'must be no more than 63 characters'))
    if (!LABEL_VALUE.test(v)) out.push(invalidValue('metadata.labels', v, LABEL_VALUE_MSG))
  }
  let annSize = 0
  for (const [k, v] of Object.entries<any>(meta.annotations ?? {})) {
    out.push(...validateQualifiedKey('metadata.annotations', k.toLowerCase()))
    annSize += Buffer.byteLength(k) + Buffer.byteLength(String(v))
  }
  if (annSize > 262144)
    out.push({reason: 'FieldValueTooLong', message: 'Too long: must have at most 262144 bytes', field: 'metadata.annotations'})
  return out
}

export function validateConfigKeys(field: string, obj: Record<string, unknown> | undefined): StatusCause[] {
  const out: StatusCause[] = []
  for (const k of Object.keys(obj ?? {})) {
    if (k.length > 253) out.push(invalidValue(`${field}[${k}]`, k, 'must be no more than 253 characters'))
    if (!CONFIG_KEY.test(k)) out.push(invalidValue(`${field}[${k}]`, k, CONFIG_KEY_MSG))
  }
  return out
}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/

/** Go's encoding/base64 StdEncoding check; returns the offset of the first bad byte, or -1 */
export function badBase64Offset(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s[i]
    if (c === '\r' || c === '\n') continue
    if (!/[A-Za-z0-9+/=]/.test(c)) return i
  }
  const clean = s.replace(/[\r\n]/g, '')
  if (!B64.test(clean)) return clean.indexOf('=')
  if (clean.length % 4 !== 0) return clean.length - (clean.length % 4)
  return -1
}
