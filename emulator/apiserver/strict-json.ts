// The keys a JSON text sets twice in one object, found as kube-apiserver's strict JSON decoding finds them
// (`duplicate field "spec.paused"`): JSON.parse keeps the last one without a word.

/**
 * The path of every key that appears twice in the same object, in the order the second one appears:
 * object keys joined with ".", list items as `[i]` (`spec.ports[0].hostPort`). Text that is not JSON
 * gives no paths (the parser reports it).
 */
export function duplicateFields(text: string): string[] {
  const out: string[] = []
  let i = 0
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++
  }
  const str = (): string => {
    const start = i
    i++ // opening quote
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1
    i++
    return JSON.parse(text.slice(start, i))
  }
  const join = (path: string, k: string) => (path ? `${path}.${k}` : k)
  const value = (path: string): void => {
    ws()
    const c = text[i]
    if (c === '{') {
      i++
      const seen = new Set<string>()
      ws()
      if (text[i] === '}') {
        i++
        return
      }
      for (;;) {
        ws()
        const k = str()
        if (seen.has(k)) out.push(join(path, k))
        seen.add(k)
        ws()
        i++ // ':'
        value(join(path, k))
        ws()
        if (text[i++] !== ',') return
      }
    }
    if (c === '[') {
      i++
      ws()
      if (text[i] === ']') {
        i++
        return
      }
      for (let n = 0; ; n++) {
        value(`${path}[${n}]`)
        ws()
        if (text[i++] !== ',') return
      }
    }
    if (c === '"') {
      str()
      return
    }
    while (i < text.length && !',}] \t\n\r'.includes(text[i])) i++
  }
  try {
    value('')
  } catch {
    return []
  }
  return out
}
