import {lstat, readdir, readFile, realpath} from 'node:fs/promises'
import path from 'node:path'

import dockerignoreModule, {type Ignore} from '@balena/dockerignore'

import {BadInputError} from '../errors.js'

/** Under NodeNext the CommonJS module's factory sits on `.default`; it is callable at runtime either way. */
type IgnoreFactory = (options?: {ignorecase?: boolean}) => Ignore
const createIgnore: IgnoreFactory =
  (dockerignoreModule as unknown as {default?: IgnoreFactory}).default ??
  (dockerignoreModule as unknown as IgnoreFactory)

export const DOCKERIGNORE = '.dockerignore'

/**
 * The files Docker would send for a build of `dir`: a walk of the folder filtered by its `.dockerignore`,
 * as sorted POSIX paths relative to `dir`. Symlinks are listed, never followed, so nothing outside the
 * context is read. Docker always sends the Dockerfile and `.dockerignore` (the daemon needs them and
 * drops them itself when they are ignored), so they are kept whatever the patterns say.
 */
export class BuildContext {
  private constructor(
    /** The context folder, symlinks resolved. */
    readonly dir: string,
    /** Sorted POSIX paths relative to `dir`. */
    readonly files: readonly string[],
    /** The `.dockerignore` text ('' when there is none). */
    readonly dockerignore: string,
    /** The Dockerfile's path relative to `dir`, or undefined when it lives outside the context. */
    readonly dockerfileInContext: string | undefined,
  ) {}

  static async scan(contextDir: string, dockerfilePath?: string): Promise<BuildContext> {
    const dir = await resolveContextDir(contextDir)
    const dockerignore = await readDockerignore(dir)
    const ignore = createIgnore({ignorecase: false}).add(dockerignore)
    const dockerfileInContext =
      dockerfilePath === undefined
        ? undefined
        : await relativeInside(dir, path.resolve(contextDir, dockerfilePath))
    const alwaysSent = new Set([
      DOCKERIGNORE,
      ...(dockerfileInContext === undefined ? [] : [dockerfileInContext]),
    ])
    // Without exceptions an ignored folder cannot hold a sent file, so it is not walked (Docker does the same).
    const hasExceptions = dockerignore.split(/\r?\n/).some((line) => line.trim().startsWith('!'))

    const files: string[] = []
    const walk = async (relDir: string): Promise<void> => {
      const entries = await readdir(path.join(dir, relDir), {withFileTypes: true})
      for (const entry of entries) {
        const rel = relDir === '' ? entry.name : `${relDir}/${entry.name}`
        if (entry.isDirectory()) {
          if (hasExceptions || !ignore.ignores(rel)) await walk(rel)
        } else if (
          (entry.isFile() || entry.isSymbolicLink()) &&
          (alwaysSent.has(rel) || !ignore.ignores(rel))
        ) {
          files.push(rel)
        }
      }
    }
    await walk('')
    // The Dockerfile may sit in an excluded folder that the walk skipped.
    for (const kept of alwaysSent) {
      if (!files.includes(kept) && (await isFileOrLink(path.join(dir, kept)))) files.push(kept)
    }
    files.sort()
    return new BuildContext(dir, files, dockerignore, dockerfileInContext)
  }

  /** Absolute path of a listed file; refuses anything that would leave the context. */
  absolutePath(relative: string): string {
    const absolute = path.resolve(this.dir, relative)
    if (!isInside(this.dir, absolute)) {
      throw new BadInputError(`build context path ${relative} points outside the context ${this.dir}`, {
        where: this.dir,
        fix: 'remove the path or move the file into the build context',
      })
    }
    return absolute
  }
}

async function resolveContextDir(contextDir: string): Promise<string> {
  try {
    const dir = await realpath(contextDir)
    if ((await lstat(dir)).isDirectory()) return dir
  } catch {
    // reported below with the same message as "not a folder"
  }
  throw new BadInputError(`build context ${contextDir} is not a folder`, {
    where: contextDir,
    fix: "check the service's build context path in the configuration",
  })
}

async function isFileOrLink(file: string): Promise<boolean> {
  try {
    const stats = await lstat(file)
    return stats.isFile() || stats.isSymbolicLink()
  } catch {
    return false
  }
}

async function readDockerignore(dir: string): Promise<string> {
  try {
    return await readFile(path.join(dir, DOCKERIGNORE), 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return ''
    throw error
  }
}

/** POSIX path of `target` relative to `dir` when it is inside, after resolving symlinks of its folder. */
async function relativeInside(dir: string, target: string): Promise<string | undefined> {
  let resolved = target
  try {
    resolved = path.join(await realpath(path.dirname(target)), path.basename(target))
  } catch {
    // a missing folder: the Dockerfile read fails later with its own message
  }
  return isInside(dir, resolved) ? path.relative(dir, resolved).split(path.sep).join('/') : undefined
}

function isInside(dir: string, target: string): boolean {
  const rel = path.relative(dir, target)
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel)
}
