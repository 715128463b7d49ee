import type {BuildContext} from './build-context.js'

export interface BuildRequest {
  context: BuildContext
  dockerfileText: string
  /** Where the Dockerfile is, for error messages. */
  dockerfilePath: string
  /** Image name, e.g. `todo-frontend`. */
  repository: string
  /** The content tag; the image is also tagged `latest`. */
  tag: string
  buildArgs?: Readonly<Record<string, string>>
  /** The Dockerfile stage to build (`--target`); the last stage when unset. */
  target?: string
  /** e.g. `linux/amd64`; the engine's own platform when unset. */
  platform?: string
  /** Aborting closes the connection, which makes the engine stop the build. */
  signal?: AbortSignal
}

/**
 * The context files sent for a build: `files` of the `of` files the build looked at (BuildKit reads only
 * the paths its COPY and ADD steps name), `bytes` in all.
 */
export interface ContextSent {
  files: number
  of: number
  bytes: number
}
