/**
 * Checking a pool's custom Dockerfile before a build can fail on it: parsed with a real Dockerfile
 * parser, checked inside the Dockerfile it will be appended to (so clashing stage names show), and
 * held to the operator's contract: the last stage must be `FROM configs AS final`.
 */
import {DockerfileParser} from 'dockerfile-ast'
import {validate} from 'dockerfile-utils'
import {customDockerfileOffset, type DockerfileInputs, renderDockerfile} from './dockerfile.js'

export interface DockerfileProblem {
  /** 1-based line in the custom Dockerfile. */
  line: number
  severity: 'error' | 'warning'
  message: string
}

const SAMPLE: DockerfileInputs = {baseImage: 'base', pool: 'pool', releaseVersion: '0', renderedConfig: 'rendered-pool-0'}

export function validateCustomDockerfile(custom: string, inputs: DockerfileInputs = SAMPLE): DockerfileProblem[] {
  if (!custom.trim()) return []
  const problems: DockerfileProblem[] = []
  const full = renderDockerfile({...inputs, customDockerfile: custom})
  const offset = customDockerfileOffset({...inputs, customDockerfile: custom})
  problems.push(...parserProblems(full, offset))

  const doc = DockerfileParser.parse(custom)
  const froms = doc.getFROMs()
  if (froms.length === 0) {
    problems.push({
      line: 1,
      message: 'no FROM instruction: the custom Dockerfile must end with a stage `FROM configs AS final`',
      severity: 'error',
    })
  } else {
    const last = froms.at(-1)!
    const isFinal = (f: typeof last): boolean => f.getImageName() === 'configs' && (f.getBuildStage() ?? '').toLowerCase() === 'final'
    if (!isFinal(last)) {
      const line = last.getRange().start.line + 1
      const text = custom.split('\n')[line - 1].trim()
      const earlier = froms.find((f) => isFinal(f))
      problems.push({
        line,
        message: earlier
          ? `the last stage must be \`FROM configs AS final\` (it is \`${text}\`; move the stage of line ${earlier.getRange().start.line + 1} to the end)`
          : `the last stage must be \`FROM configs AS final\` (it is \`${text}\`)`,
        severity: 'error',
      })
    }
  }

  return byLine(problems)
}

/**
 * What a Dockerfile parser finds in the whole rendered file `full`, reported on the lines of the user's
 * content, which starts at line `offset` (1-based) of it; findings before that line are the template's.
 */
export function parserProblems(full: string, offset: number): DockerfileProblem[] {
  const out: DockerfileProblem[] = []
  for (const d of validate(full)) {
    const line = d.range.start.line + 1 - offset + 1
    if (line < 1) continue
    out.push({line, message: typeof d.message === 'string' ? d.message : d.message.value, severity: d.severity === 1 ? 'error' : 'warning'})
  }

  return out
}

/** Problems in line order, errors before warnings on the same line. */
export const byLine = (problems: DockerfileProblem[]): DockerfileProblem[] =>
  problems.sort((a, b) => a.line - b.line || (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1))
