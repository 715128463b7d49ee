import {lstat, readdir, realpath} from 'node:fs/promises'
import path from 'node:path'

import {BadInputError} from '../errors.js'
import {ContextFilter, DOCKERIGNORE} from './context-filter.js'

export {DOCKERIGNORE}

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
    /**
     * Sent folders with nothing sent below them (sorted): Docker sends them too, so `COPY empty /x`
     * finds its folder and `COPY . .` keeps it. Their parents are implied.
     */
    readonly emptyFolders: readonly string[] = [],
  ) {}

  static async scan(contextDir: string, dockerfilePath?: string): Promise<BuildContext> {
    const dir = await resolveContextDir(contextDir)
    const dockerfileInContext =
      dockerfilePath === undefined
        ? undefined
        : await relativeInside(dir, path.resolve(contextDir, dockerfilePath))
    const filter = await ContextFilter.load(
      dir,
      dockerfileInContext === undefined ? [] : [dockerfileInContext],
    )

    const files: string[] = []
    const emptyFolders: string[] = []
    const walk = async (relDir: string): Promise<void> => {
      const entries = await readdir(path.join(dir, relDir), {withFileTypes: true})
      for (const entry of entries) {
        const rel = relDir === '' ? entry.name : `${relDir}/${entry.name}`
        if (entry.isDirectory()) {
          if (!filter.mayHoldSentFiles(rel)) continue
          const before = files.length + emptyFolders.length
          await walk(rel)
          if (files.length + emptyFolders.length === before && filter.sends(rel)) emptyFolders.push(rel)
        } else if ((entry.isFile() || entry.isSymbolicLink()) && filter.sends(rel)) {
          files.push(rel)
        }
      }
    }
    await walk('')
    files.sort()
    emptyFolders.sort()
    return new BuildContext(dir, files, filter.dockerignore, dockerfileInContext, emptyFolders)
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

/** The context folder with symlinks resolved; refused (bad input) when it is not a folder. */
export async function resolveContextDir(contextDir: string): Promise<string> {
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

/** POSIX path of `target` relative to `dir` when it is inside, after resolving symlinks of its folder. */
export async function relativeInside(dir: string, target: string): Promise<string | undefined> {
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

/**
 * The permission bits a context entry is sent with. On Windows Node reports 0o666 for files and folders
 * alike, so, as the docker CLI does there, everything gets x and loses group/other write (0o755).
 */
export function sentPermissions(mode: number, platform: NodeJS.Platform = process.platform): number {
  const bits = mode & 0o7777
  return platform === 'win32' ? (bits | 0o111) & 0o755 : bits
}
