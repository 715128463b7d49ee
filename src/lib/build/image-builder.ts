import type {Readable} from 'node:stream'

import {BuildError, InterruptedError, isTodoDeployError, type TodoDeployError} from '../errors.js'
import type {BuildContext} from './build-context.js'
import {packBuildContext} from './context-archive.js'
import {
  dockerFromEnv,
  engineUnreachableError,
  isEngineUnreachable,
  type DockerEngine,
} from './docker-engine.js'
import {forEachLine} from './engine-stream.js'

export interface ImageInfo {
  id: string
  sizeBytes: number
}

export interface ListedImage extends ImageInfo {
  /** `repository:tag` references of this image within the listed repository. */
  tags: string[]
  createdAt: Date
}

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
  /** e.g. `linux/amd64`; the engine's own platform when unset. */
  platform?: string
  /** Aborting closes the connection, which makes the engine stop the build. */
  signal?: AbortSignal
}

export interface BuiltImage extends ImageInfo {
  /** `repository:tag` */
  ref: string
  tags: string[]
}

/** Builds and inspects images on one Docker Engine. */
export interface ImageBuilder {
  /** The image behind `ref` (`repository:tag`), or null when the engine does not have it. */
  hasImage(ref: string): Promise<ImageInfo | null>
  build(request: BuildRequest, onProgress?: (line: string) => void): Promise<BuiltImage>
  /** Removes the tag (and the image when no other tag holds it); false when it did not exist. */
  removeImage(ref: string): Promise<boolean>
  listImages(repository: string): Promise<ListedImage[]>
}

/** Lines of the failing step's output kept in a BuildError. */
const FAILURE_TAIL_LINES = 20
/** The classic builder's own bookkeeping lines: not the step's output. */
const BOOKKEEPING_LINE = /^ ---> |^Removing intermediate container |^Successfully (built|tagged) /
const STEP_LINE = /^Step \d+\/\d+ : /

interface BuildMessage {
  stream?: string
  status?: string
  progress?: string
  id?: string
  aux?: {ID?: string}
  error?: string
  errorDetail?: {message?: string}
}

export class DockerImageBuilder implements ImageBuilder {
  constructor(private readonly engine: DockerEngine = dockerFromEnv(process.env)) {}

  async hasImage(ref: string): Promise<ImageInfo | null> {
    try {
      const image = await this.engine.docker.getImage(ref).inspect()
      return {id: image.Id, sizeBytes: image.Size}
    } catch (error) {
      if (statusCode(error) === 404) return null
      throw this.engineError(error, `looking up image ${ref}`)
    }
  }

  async build(request: BuildRequest, onProgress: (line: string) => void = () => {}): Promise<BuiltImage> {
    const ref = `${request.repository}:${request.tag}`
    const interrupted = (): InterruptedError => new InterruptedError(`build of ${ref} interrupted`)
    if (request.signal?.aborted) throw interrupted()

    const archive = packBuildContext(request.context, request.dockerfileText)
    // A context file that cannot be read also breaks the connection: report the file, not the engine.
    let archiveError: TodoDeployError | undefined
    archive.stream.on('error', (error) => {
      if (isTodoDeployError(error)) archiveError = error
    })
    let response: Readable | undefined
    // Before the response starts, the signal aborts the request; after, the stream must be ended directly.
    const abort = (): void => {
      response?.destroy()
    }
    request.signal?.addEventListener('abort', abort, {once: true})
    try {
      try {
        response = (await this.engine.docker.buildImage(archive.stream, {
          t: ref,
          dockerfile: archive.dockerfile,
          buildargs: {...request.buildArgs},
          ...(request.platform === undefined ? {} : {platform: request.platform}),
          rm: true,
          forcerm: true,
          ...(request.signal === undefined ? {} : {abortSignal: request.signal}),
        })) as Readable
      } catch (error) {
        if (request.signal?.aborted) throw interrupted()
        if (archiveError) throw archiveError
        if (isEngineUnreachable(error)) throw this.engineError(error, `building ${ref}`)
        throw new BuildError(`the Docker Engine refused to build ${ref}: ${engineMessage(error)}`, {
          where: request.dockerfilePath,
          fix: 'check the Dockerfile and the build arguments',
          cause: error,
        })
      }
      const id = await this.followBuild(response, request, ref, onProgress, interrupted).catch(
        (error: unknown) => {
          throw archiveError ?? error
        },
      )
      // Independent requests: sent together, so the build's result waits for one round trip, not two.
      const tagged = this.engine.docker
        .getImage(id)
        .tag({repo: request.repository, tag: 'latest'})
        .catch((error: unknown) => {
          throw this.engineError(error, `tagging ${request.repository}:latest`)
        })
      const [info] = await Promise.all([this.hasImage(ref), tagged])
      if (info === null)
        throw new BuildError(`image ${ref} was removed right after its build`, {fix: 'run again'})
      return {ref, ...info, tags: [ref, `${request.repository}:latest`]}
    } finally {
      request.signal?.removeEventListener('abort', abort)
      archive.stream.destroy()
      response?.destroy()
    }
  }

  async removeImage(ref: string): Promise<boolean> {
    try {
      await this.engine.docker.getImage(ref).remove()
      return true
    } catch (error) {
      if (statusCode(error) === 404) return false
      throw this.engineError(error, `removing image ${ref}`)
    }
  }

  async listImages(repository: string): Promise<ListedImage[]> {
    try {
      const images = await this.engine.docker.listImages({filters: {reference: [repository]}})
      return images.map((image) => ({
        id: image.Id,
        sizeBytes: image.Size,
        tags: (image.RepoTags ?? []).filter((tag) => tag.startsWith(`${repository}:`)),
        createdAt: new Date(image.Created * 1000),
      }))
    } catch (error) {
      throw this.engineError(error, `listing images of ${repository}`)
    }
  }

  /** Reads the engine's JSON message stream; returns the image ID or throws what went wrong. */
  private async followBuild(
    response: Readable,
    request: BuildRequest,
    ref: string,
    onProgress: (line: string) => void,
    interrupted: () => InterruptedError,
  ): Promise<string> {
    let step: string | undefined
    let stepOutput: string[] = []
    let imageId: string | undefined
    let failure: string | undefined
    const handle = (message: BuildMessage): void => {
      if (message.errorDetail !== undefined || message.error !== undefined) {
        failure = message.errorDetail?.message ?? message.error ?? 'unknown error'
        return
      }
      if (message.aux?.ID !== undefined) imageId = message.aux.ID
      const text = message.stream ?? (message.progress === undefined ? message.status : undefined)
      for (const line of (text ?? '').split(/\r?\n/)) {
        const trimmed = line.trimEnd()
        if (trimmed === '') continue
        onProgress(trimmed)
        if (STEP_LINE.test(trimmed)) {
          step = trimmed
          stepOutput = []
        } else if (!BOOKKEEPING_LINE.test(trimmed)) {
          stepOutput.push(trimmed)
          if (stepOutput.length > FAILURE_TAIL_LINES) stepOutput.shift()
        }
        // Engines without `aux` messages (API < 1.30) only announce the ID in text.
        imageId ??= /^Successfully built ([0-9a-f]+)$/.exec(trimmed)?.[1]
      }
    }
    const parse = (line: string): void => {
      try {
        handle(JSON.parse(line) as BuildMessage)
      } catch {
        handle({stream: line})
      }
    }

    try {
      await forEachLine(response, parse)
    } catch (error) {
      if (request.signal?.aborted) throw interrupted()
      throw engineUnreachableError(this.engine.address, error, `it went away while building ${ref}`)
    }
    if (request.signal?.aborted) throw interrupted()

    if (failure !== undefined) {
      throw new BuildError(`building ${ref} failed${step === undefined ? '' : ` at ${step}`}: ${failure}`, {
        where: request.dockerfilePath,
        fix: `fix the failing step in ${request.dockerfilePath} (its output is above) and run again`,
        details: stepOutput,
      })
    }
    if (imageId === undefined) throw this.engineError(undefined, `the build stream of ${ref} ended early`)
    return imageId
  }

  private engineError(error: unknown, during: string): Error {
    if (error === undefined || isEngineUnreachable(error))
      return engineUnreachableError(this.engine.address, error, during)
    return error instanceof Error ? error : new Error(String(error))
  }
}

function statusCode(error: unknown): number | undefined {
  return (error as {statusCode?: number} | undefined)?.statusCode
}

/** dockerode puts the engine's own words in `json.message`; its Error message adds HTTP noise. */
function engineMessage(error: unknown): string {
  const json = (error as {json?: {message?: string}} | undefined)?.json
  const message = json?.message ?? (error instanceof Error ? error.message : String(error))
  return message.replace(/^\(HTTP code \d+\) [^-]*- /, '').trim()
}
