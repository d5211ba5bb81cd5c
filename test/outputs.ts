/**
 * Every output of the commands the tests run (test/e2e/harness.ts records them), and the secret
 * values of the emulated cluster's fixture: after the whole run (a root hook, loaded by .mocharc.cjs),
 * no output may hold one of them. Tests check the secrets they make themselves.
 */
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {parseAllDocuments} from 'yaml'

export const commandOutputs: string[] = []

interface Credential {
  auth?: string
  password?: string
  identitytoken?: string
  registrytoken?: string
}

/** The values in the fixture's Secrets: their data as stored, decoded, and each credential in a docker config. */
export function fixtureSecretValues(): string[] {
  const file = fileURLToPath(new URL('../emulator/fixtures/default.yaml', import.meta.url))
  const values = new Set<string>()
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    const obj = doc.toJS() as {kind?: string; data?: Record<string, string>} | null
    if (obj?.kind !== 'Secret') continue
    for (const raw of Object.values(obj.data ?? {})) {
      values.add(raw)
      const text = Buffer.from(raw, 'base64').toString('utf8')
      values.add(text)
      let config: {auths?: Record<string, Credential>} & Record<string, Credential>
      try {
        config = JSON.parse(text)
      } catch {
        continue
      }

      for (const c of Object.values(config.auths ?? config)) {
        for (const v of [c.auth, c.password, c.identitytoken, c.registrytoken]) if (v) values.add(v)
        if (c.auth) values.add(Buffer.from(c.auth, 'base64').toString('utf8').split(/:(.*)/s)[1] ?? '')
      }
    }
  }

  return [...values].filter((v) => v.length >= 12)
}

export const mochaHooks = {
  afterAll(): void {
    if (commandOutputs.length === 0) return
    const all = commandOutputs.join('\n')
    const leaked = fixtureSecretValues().filter((v) => all.includes(v))
    if (leaked.length > 0)
      throw new Error(`${leaked.length} secret value${leaked.length === 1 ? '' : 's'} of the fixture appeared in a command's output`)
  },
}
