import {readFile, stat} from 'node:fs/promises'
import path from 'node:path'

import tar from 'tar-stream'

import {BadInputError} from '../errors.js'
import type {SyncPayload} from './container-file-sync.js'

/**
 * What one live sync sends to a container: a tar archive of the changed files (entry names relative
 * to the container's `/`, so nested folders are created by tar itself), and the paths to delete, in
 * the same root-relative form (`./app/old.py`) so that a name starting with `-` is never an option.
 * See docs/live-sync.md.
 */
export interface SyncArchive {
  /** The whole archive, so its length is known before the copy (the container reads exactly it). */
  bytes: Buffer
  /** How many files it holds. */
  files: number
  /** Root-relative paths to remove (`./dir/file`); a file that vanished before it was read is one. */
  deletions: string[]
}

/**
 * Packs the payload's files. No directory entries: tar creates missing folders, and leaves existing
 * ones (their owner and mode) alone. Modes are the local ones; the container's tar is run with `-o`
 * and `-m`, so files belong to the container's user and get the time of the copy (which is what a
 * reloader watches).
 */
export async function packSyncArchive(payload: SyncPayload): Promise<SyncArchive> {
  const pack = tar.pack()
  const chunks: Buffer[] = []
  pack.on('data', (chunk: unknown) => chunks.push(chunk as Buffer))
  const ended = new Promise<void>((resolve, reject) => {
    pack.on('end', resolve)
    pack.on('error', reject)
  })
  const deletions = payload.deletions.map(rootRelative)
  let files = 0
  for (const file of payload.files) {
    const name = rootRelative(file.to)
    const read = await readLocal(file.from)
    if (read === null) {
      // Saved and removed again before the sync (an editor's temporary file): it is gone there too.
      deletions.push(name)
      continue
    }
    await new Promise<void>((resolve, reject) => {
      pack.entry(
        {
          name: name.slice(2),
          type: 'file',
          mode: read.mode & 0o777,
          size: read.content.length,
          mtime: new Date(),
        },
        read.content,
        (error) => (error ? reject(error) : resolve()),
      )
    })
    files++
  }
  pack.finalize()
  await ended
  return {bytes: Buffer.concat(chunks), files, deletions}
}

/**
 * `/app/main.py` → `./app/main.py`. Refuses what is not a plain absolute path below `/` (sync rules
 * are validated with the configuration, so this guards against a bug, not the user).
 */
export function rootRelative(containerPath: string): string {
  const normalized = path.posix.normalize(containerPath)
  if (
    !path.posix.isAbsolute(containerPath) ||
    normalized === '/' ||
    containerPath.split('/').includes('..')
  ) {
    throw new BadInputError(`live sync refuses the container path ${JSON.stringify(containerPath)}`, {
      fix: 'sync rules map onto absolute paths below / without `..` (services.<name>.sync[].to)',
    })
  }
  return `.${normalized.replace(/\/$/, '')}`
}

async function readLocal(file: string): Promise<{content: Buffer; mode: number} | null> {
  try {
    const [content, stats] = await Promise.all([readFile(file), stat(file)])
    return {content, mode: stats.mode}
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new BadInputError(
      `cannot read ${file} for live sync: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      {
        where: file,
        fix: 'fix the file permissions, or exclude it from the sync rule',
        cause: error,
      },
    )
  }
}
