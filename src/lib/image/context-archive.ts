import {createReadStream} from 'node:fs'
import {lstat, readlink} from 'node:fs/promises'
import path from 'node:path'
import {Readable} from 'node:stream'

import tar from 'tar-stream'

import {BadInputError} from '../errors.js'
import {DOCKERIGNORE, sentPermissions, type BuildContext} from './build-context.js'

/**
 * Where a Dockerfile from outside the context (the CLI's bundled `docker/` folder) goes in the archive.
 * Like `docker build -f ../Dockerfile`, it is also appended to the archive's `.dockerignore`, so the
 * daemon drops it from the context and `COPY . .` does not put it into the image.
 */
export const RESERVED_DOCKERFILE_NAME = '.todo-deploy.Dockerfile'

export interface ContextArchive {
  /** The tar stream to send as the build context; it errors if a file cannot be read. */
  stream: Readable
  /** The Dockerfile's path inside the archive (the build's `dockerfile` option). */
  dockerfile: string
}

/** Packs exactly `context.files` (plus an outside Dockerfile), reading one file at a time. */
export function packBuildContext(context: BuildContext, dockerfileText: string): ContextArchive {
  const pack = tar.pack()
  const outside = context.dockerfileInContext === undefined
  const files = outside ? context.files.filter((file) => file !== RESERVED_DOCKERFILE_NAME) : context.files

  const write = async (): Promise<void> => {
    for (const file of files) {
      // The Dockerfile is sent as the text that was hashed into the tag, not re-read from disk.
      if (file === context.dockerfileInContext) await addBuffer(pack, file, Buffer.from(dockerfileText))
      else if (!(outside && file === DOCKERIGNORE))
        await addFile(pack, context, file).catch((error: unknown) => {
          throw unreadableContextFile(context, file, error)
        })
    }
    for (const folder of context.emptyFolders) {
      const stats = await lstat(context.absolutePath(folder)).catch((error: unknown) => {
        throw unreadableContextFile(context, folder, error)
      })
      await addEntry(pack, {
        name: folder,
        type: 'directory',
        mode: sentPermissions(stats.mode),
        mtime: stats.mtime,
      })
    }
    if (context.dockerfileInContext !== undefined && !files.includes(context.dockerfileInContext)) {
      await addBuffer(pack, context.dockerfileInContext, Buffer.from(dockerfileText))
    }
    if (outside) {
      // Docker's own rule: a context without .dockerignore gets one that also hides itself.
      const ignore = `${context.files.includes(DOCKERIGNORE) ? context.dockerignore : DOCKERIGNORE}\n${RESERVED_DOCKERFILE_NAME}\n`
      await addBuffer(pack, DOCKERIGNORE, Buffer.from(ignore))
      await addBuffer(pack, RESERVED_DOCKERFILE_NAME, Buffer.from(dockerfileText))
    }
    pack.finalize()
  }
  write().catch((error: unknown) => pack.destroy(error as Error))

  return {
    stream: Readable.from(pack),
    dockerfile: context.dockerfileInContext ?? RESERVED_DOCKERFILE_NAME,
  }
}

/** A file that vanished or became unreadable since the scan: the user's problem, not the engine's. */
export function unreadableContextFile(context: BuildContext, file: string, error: unknown): BadInputError {
  const code = (error as NodeJS.ErrnoException).code ?? String(error)
  return new BadInputError(`cannot read ${file} from the build context ${context.dir}: ${code}`, {
    where: path.join(context.dir, file),
    fix: 'run again if the file was being changed; otherwise fix its permissions or add it to .dockerignore',
    cause: error,
  })
}

async function addFile(pack: tar.Pack, context: BuildContext, file: string): Promise<void> {
  const absolute = context.absolutePath(file)
  const stats = await lstat(absolute)
  const header = {name: file, mode: sentPermissions(stats.mode), mtime: stats.mtime}
  if (stats.isSymbolicLink()) {
    await addEntry(pack, {...header, type: 'symlink', linkname: await readlink(absolute)})
    return
  }
  await new Promise<void>((resolve, reject) => {
    const entry = pack.entry({...header, type: 'file', size: stats.size}, (error) =>
      error ? reject(error) : resolve(),
    )
    const source = createReadStream(absolute)
    source.on('error', (error) => {
      entry.destroy(error)
      reject(error)
    })
    source.pipe(entry)
  })
}

function addBuffer(pack: tar.Pack, name: string, content: Buffer): Promise<void> {
  return addEntry(pack, {name, mode: 0o644, mtime: new Date(0), type: 'file'}, content)
}

function addEntry(
  pack: tar.Pack,
  header: Partial<tar.Header> & {name: string},
  content?: Buffer,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error | null): void => (error ? reject(error) : resolve())
    if (content === undefined) pack.entry(header, done)
    else pack.entry(header, content, done)
  })
}
