import {createHash} from 'node:crypto'
import {lstat, mkdir, open, readFile, readlink, rename, writeFile} from 'node:fs/promises'
import path from 'node:path'

import type {BuildContext} from './build-context.js'

export interface ContentTagInput {
  context: BuildContext
  /** The Dockerfile's text: a changed instruction means a different image even with the same files. */
  dockerfileText: string
  buildArgs?: Readonly<Record<string, string>>
  /** The stage built: the `dev` stage of a Dockerfile is another image than its last one. */
  target?: string
}

export interface ContentTagResult {
  /** `c-` + 12 hex digits of a sha256; matches the tag pattern `[a-z0-9.-]+`. */
  tag: string
  /** Files whose content was read this time (not found unchanged in the hash cache). */
  filesRead: number
  cacheHits: number
}

export interface ContentTaggerOptions {
  /** Folder for `content-hash.json` (e.g. `<project>/.todo-deploy/cache`); without it nothing persists. */
  cacheDir?: string
  /** Files stat'ed / hashed at once: bounded so 20,000 files do not exhaust file descriptors. */
  concurrency?: number
}

export const CONTENT_TAG_PATTERN = /^c-[0-9a-f]{12}$/
export const CONTENT_HASH_CACHE_FILE = 'content-hash.json'

/** Cached per absolute path: [size, mtimeMs, sha256 hex]. */
type CacheEntry = [number, number, string]
interface CacheFile {
  version: 1
  files: Record<string, CacheEntry>
}

/**
 * Files at most this big are read in one call; bigger ones are read through one reused buffer of this
 * size. A read stream's 64 KiB chunks cost a thread-pool round trip and an allocation each: hashing a
 * 48 MB file took 130-310 ms that way, 35-70 ms with the buffer, on the critical path of every cold up.
 */
const READ_CHUNK = 1024 * 1024

/**
 * Derives an image tag from what goes into the image: the filtered context files (paths, contents,
 * executable bits), the Dockerfile text and the build args. File hashes are cached by
 * (path, size, mtimeMs) so an unchanged file is not read again on the next run.
 */
export class ContentTagger {
  private cache: Map<string, CacheEntry> | undefined
  private saving: Promise<void> = Promise.resolve()
  private readonly concurrency: number

  constructor(private readonly options: ContentTaggerOptions = {}) {
    this.concurrency = options.concurrency ?? 32
  }

  async tag(input: ContentTagInput): Promise<ContentTagResult> {
    const cache = await this.loadCache()
    const {context} = input
    let filesRead = 0
    let cacheHits = 0

    const fileDigests = await mapLimit(context.files, this.concurrency, async (relative) => {
      const absolute = context.absolutePath(relative)
      const stats = await lstat(absolute)
      if (stats.isSymbolicLink()) return `link:${await readlink(absolute)}`
      const mode = stats.mode & 0o111 ? 'x' : '-'
      const cached = cache.get(absolute)
      if (cached && cached[0] === stats.size && cached[1] === stats.mtimeMs) {
        cacheHits++
        return `${mode}:${cached[2]}`
      }
      const digest = await hashFile(absolute, stats.size)
      filesRead++
      cache.set(absolute, [stats.size, stats.mtimeMs, digest])
      return `${mode}:${digest}`
    })

    const hash = createHash('sha256')
    const buildArgs = Object.entries(input.buildArgs ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    // JSON keeps the parts unambiguous (no text can fake a separator).
    // The target only when set, so the tag of the default (last) stage stays what it was.
    hash.update(
      JSON.stringify({
        v: 1,
        dockerfile: input.dockerfileText,
        buildArgs,
        ...(input.target === undefined ? {} : {target: input.target}),
      }),
    )
    context.files.forEach((relative, index) =>
      hash.update(`\n${JSON.stringify([relative, fileDigests[index]])}`),
    )
    // Only when there are any, so the tag of a context without empty folders stays what it was.
    context.emptyFolders.forEach((folder) => hash.update(`\n${JSON.stringify([folder, 'folder'])}`))

    this.forgetDeletedFiles(cache, context)
    await this.saveCache(cache)
    return {tag: `c-${hash.digest('hex').slice(0, 12)}`, filesRead, cacheHits}
  }

  private async loadCache(): Promise<Map<string, CacheEntry>> {
    if (this.cache) return this.cache
    const loaded = new Map<string, CacheEntry>()
    if (this.options.cacheDir !== undefined) {
      try {
        const parsed = JSON.parse(
          await readFile(path.join(this.options.cacheDir, CONTENT_HASH_CACHE_FILE), 'utf8'),
        ) as Partial<CacheFile>
        if (parsed.version === 1 && parsed.files) {
          for (const [file, entry] of Object.entries(parsed.files)) loaded.set(file, entry)
        }
      } catch {
        // missing or corrupt: it is only a cache, every file is read again
      }
    }
    this.cache ??= loaded
    return this.cache
  }

  /** Drops entries for files of this context that are gone, so the cache does not grow forever. */
  private forgetDeletedFiles(cache: Map<string, CacheEntry>, context: BuildContext): void {
    const present = new Set(context.files.map((relative) => context.absolutePath(relative)))
    const prefix = context.dir + path.sep
    for (const file of cache.keys()) {
      if (file.startsWith(prefix) && !present.has(file)) cache.delete(file)
    }
  }

  /** Writes are queued and atomic (temp file + rename): concurrent tags never leave a half-written file. */
  private async saveCache(cache: Map<string, CacheEntry>): Promise<void> {
    const {cacheDir} = this.options
    if (cacheDir === undefined) return
    const write = async (): Promise<void> => {
      await mkdir(cacheDir, {recursive: true})
      const target = path.join(cacheDir, CONTENT_HASH_CACHE_FILE)
      const temporary = `${target}.${process.pid}.tmp`
      const content: CacheFile = {version: 1, files: Object.fromEntries(cache)}
      await writeFile(temporary, JSON.stringify(content))
      await rename(temporary, target)
    }
    this.saving = this.saving.then(write, write)
    await this.saving
  }
}

async function hashFile(file: string, size: number): Promise<string> {
  const hash = createHash('sha256')
  if (size <= READ_CHUNK) return hash.update(await readFile(file)).digest('hex')
  const handle = await open(file, 'r')
  try {
    const buffer = Buffer.allocUnsafe(READ_CHUNK)
    for (;;) {
      const {bytesRead} = await handle.read(buffer, 0, READ_CHUNK, null)
      if (bytesRead === 0) break
      hash.update(buffer.subarray(0, bytesRead))
    }
  } finally {
    await handle.close()
  }
  return hash.digest('hex')
}

async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  map: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++
      results[index] = await map(items[index] as T)
    }
  }
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker))
  return results
}
