/**
 * Keeping what a bug report needs before a cleanup deletes it: a writer that stops the cleanup when a
 * file cannot be written, copies of objects without secret data, and container logs. Each generation's
 * saver (save.ts in each lib/layering backend) decides what to keep. Secrets are never written.
 */
import {mkdir, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {ExitCode, MobError} from '../errors.js'
import type {KubeClient} from '../kube/client.js'
import {streamLog} from '../kube/logs.js'
import {R} from '../kube/resources.js'
import type {KubeObject} from '../kube/types.js'
import type {CleanupItem} from './types.js'

export interface SavedFiles {
  dir: string
  /** Paths written, relative to dir. */
  files: string[]
  /** What could not be saved, and why (a log of a container that never started...). */
  missing: Array<{what: string; why: string}>
}

/**
 * Saves the evidence of the cleanup items of one generation under `dir` before they are deleted, and
 * says what it wrote and what it could not; throws (exit 8) when files cannot be written.
 */
export type EvidenceSaver = (
  client: KubeClient,
  dir: string,
  items: CleanupItem[],
  meta: {server: string; context: string},
  signal?: AbortSignal,
) => Promise<SavedFiles>

/** A copy without managedFields, and without any Secret data. */
export function tidy<T extends KubeObject>(o: T): T {
  const copy = structuredClone(o) as T & {metadata: {managedFields?: unknown}; data?: unknown; stringData?: unknown}
  delete copy.metadata.managedFields
  delete copy.data
  delete copy.stringData
  return copy
}

/**
 * Where saved evidence goes: `write` puts a file under the directory (a file that cannot be written
 * stops the cleanup before anything is deleted), `attempt` records what could not be read as missing.
 */
export function evidenceWriter(dir: string): {
  out: SavedFiles
  write: (rel: string, content: string) => Promise<void>
  attempt: <T>(what: string, fn: () => Promise<T>) => Promise<T | undefined>
} {
  const out: SavedFiles = {dir: path.resolve(dir), files: [], missing: []}
  const write = async (rel: string, content: string): Promise<void> => {
    const file = path.join(out.dir, rel)
    try {
      await mkdir(path.dirname(file), {recursive: true})
      await writeFile(file, content)
    } catch (error) {
      throw new MobError(`could not save ${file}: ${(error as Error).message}; nothing was deleted`, {
        code: 'SaveFailed',
        exitCode: ExitCode.Failed,
        next: 'choose another directory with --save DIR, or leave out --save',
      })
    }

    out.files.push(rel)
  }

  const attempt = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn()
    } catch (error) {
      if (error instanceof MobError && error.code === 'SaveFailed') throw error
      out.missing.push({what, why: (error as Error).message})
      return undefined
    }
  }

  return {attempt, out, write}
}

export async function readLog(
  client: KubeClient,
  opts: {name: string; namespace: string; container?: string; previous?: boolean; build?: boolean},
  signal?: AbortSignal,
): Promise<string> {
  let text = ''
  await streamLog(
    client,
    {
      container: opts.container,
      name: opts.name,
      namespace: opts.namespace,
      previous: opts.previous,
      resource: opts.build ? R.builds : R.pods,
      signal,
      timestamps: true,
    },
    (chunk) => {
      text += chunk
    },
  )
  return text
}
