/**
 * Container image references (`[host[:port]/]path[:tag][@sha256:digest]`), parsed with the rules of
 * the docker reference grammar: the first path component is a registry host only if it contains a
 * `.` or `:` or is `localhost`; otherwise the image is on docker.io.
 */

export interface ImageReference {
  /** Registry host[:port], e.g. quay.io, image-registry.openshift-image-registry.svc:5000. */
  registry: string
  /** Repository path without the registry, e.g. myorg/myrepo. */
  repository: string
  tag?: string
  digest?: string
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/
const TAG = /^\w[\w.-]{0,127}$/
const DIGEST = /^sha256:[a-f0-9]{64}$/
const HOST =
  /^(?:localhost|(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::\d+)?$/

export class ImageReferenceError extends Error {}

export function parseReference(ref: string): ImageReference {
  const input = ref.trim()
  if (!input) throw new ImageReferenceError('the image reference is empty')
  if (input.length > 255 + 71 + 128) throw new ImageReferenceError(`the image reference is too long (${input.length} characters)`)
  let rest = input
  let digest: string | undefined
  const at = rest.indexOf('@')
  if (at >= 0) {
    digest = rest.slice(at + 1)
    rest = rest.slice(0, at)
    if (!DIGEST.test(digest)) throw new ImageReferenceError(`"${input}": the digest "${digest}" is not sha256:<64 hex digits>`)
  }

  let tag: string | undefined
  const lastSlash = rest.lastIndexOf('/')
  const colon = rest.lastIndexOf(':')
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1)
    rest = rest.slice(0, colon)
    if (!TAG.test(tag))
      throw new ImageReferenceError(
        `"${input}": the tag "${tag}" is not valid (letters, digits, _ . -, at most 128, not starting with . or -)`,
      )
  }

  const parts = rest.split('/')
  let registry = 'docker.io'
  if (parts.length > 1 && (parts[0].includes('.') || parts[0].includes(':') || parts[0] === 'localhost')) {
    registry = parts.shift()!
    if (!HOST.test(registry)) throw new ImageReferenceError(`"${input}": "${registry}" is not a valid registry host`)
  }

  if (parts.length === 0 || parts.some((p) => p === ''))
    throw new ImageReferenceError(`"${input}": the repository path is empty or has an empty component`)
  for (const p of parts) {
    if (!COMPONENT.test(p)) {
      throw new ImageReferenceError(
        `"${input}": "${p}" is not a valid repository name component (lower-case letters, digits and separators . _ -)`,
      )
    }
  }

  if (registry === 'docker.io' && parts.length === 1) parts.unshift('library')
  return {digest, registry, repository: parts.join('/'), tag}
}

/** The repository without tag or digest, e.g. quay.io/org/repo (reference.TrimNamed). */
export function repositoryOf(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}`
}

export function formatReference(ref: ImageReference): string {
  return repositoryOf(ref) + (ref.tag ? `:${ref.tag}` : '') + (ref.digest ? `@${ref.digest}` : '')
}

/** The tag the operator pushes: the final pullspec with its tag replaced by the rendered config name. */
export function withTag(pullspec: string, tag: string): string {
  const ref = parseReference(pullspec)
  return formatReference({...ref, digest: undefined, tag})
}

/** The digested pullspec the operator records: the repository, `@`, the digest. */
export function withDigest(pullspec: string, digest: string): string {
  const ref = parseReference(pullspec)
  return formatReference({...ref, digest, tag: undefined})
}

export function isDigest(s: string): boolean {
  return DIGEST.test(s)
}
