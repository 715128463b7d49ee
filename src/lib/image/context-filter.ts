import {readFile} from 'node:fs/promises'
import path from 'node:path'

import dockerignoreModule, {type Ignore} from '@balena/dockerignore'

/** Under NodeNext the CommonJS module's factory sits on `.default`; it is callable at runtime either way. */
type IgnoreFactory = (options?: {ignorecase?: boolean}) => Ignore
const createIgnore: IgnoreFactory =
  (dockerignoreModule as unknown as {default?: IgnoreFactory}).default ??
  (dockerignoreModule as unknown as IgnoreFactory)

export const DOCKERIGNORE = '.dockerignore'

/**
 * A matcher of .dockerignore patterns with Docker's own escaping: Docker (moby's patternmatcher) takes
 * `+ ( ) | { }` literally, while @balena/dockerignore passes them into its regular expression, where
 * `app/(site)` would not match itself and `c++` would throw. They are escaped before they reach it.
 */
export function dockerignorePatterns(patterns: string | readonly string[]): Ignore {
  const lines = typeof patterns === 'string' ? patterns.split(/\r?\n/) : patterns
  return createIgnore({ignorecase: false}).add(
    lines.map((line) => line.replace(/(?<!\\)([+(){}|])/g, '\\$1')),
  )
}

/**
 * Which paths of a build context Docker sends, by its `.dockerignore`: the one matcher both the build
 * (which files go into the archive) and `dev` (which changes matter) use. Paths are POSIX, relative to
 * the context folder. Docker always sends the Dockerfile and `.dockerignore` (the daemon needs them and
 * drops them itself when they are ignored), so they are kept whatever the patterns say.
 */
export class ContextFilter {
  readonly #ignore: Ignore
  readonly #alwaysSent: ReadonlySet<string>
  /** Without exceptions (`!pattern`) an ignored folder cannot hold a sent file (Docker skips it too). */
  readonly #hasExceptions: boolean

  constructor(
    /** The `.dockerignore` text ('' when there is none). */
    readonly dockerignore: string,
    /** Paths sent whatever the patterns say, besides `.dockerignore`: the Dockerfile when it is in the context. */
    alwaysSent: Iterable<string> = [],
  ) {
    this.#ignore = dockerignorePatterns(dockerignore)
    this.#alwaysSent = new Set([DOCKERIGNORE, ...alwaysSent])
    this.#hasExceptions = dockerignore.split(/\r?\n/).some((line) => line.trim().startsWith('!'))
  }

  /** The filter of the context folder `dir` (its `.dockerignore` read now). */
  static async load(dir: string, alwaysSent: Iterable<string> = []): Promise<ContextFilter> {
    return new ContextFilter(await readDockerignore(dir), alwaysSent)
  }

  /** The paths sent whatever the patterns say. */
  get alwaysSent(): ReadonlySet<string> {
    return this.#alwaysSent
  }

  /** Whether the file at `relative` goes to the build. */
  sends(relative: string): boolean {
    return this.#alwaysSent.has(relative) || !this.#ignore.ignores(relative)
  }

  /** Whether the folder at `relative` can hold a sent file, so a walk must enter it. */
  mayHoldSentFiles(relative: string): boolean {
    if (this.#hasExceptions || !this.#ignore.ignores(relative)) return true
    // An always-sent file (a Dockerfile in an excluded folder) lies below it.
    return [...this.#alwaysSent].some((kept) => kept.startsWith(`${relative}/`))
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
