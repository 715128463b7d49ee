import {BadInputError, BuildError, InterruptedError, isTodoDeployError} from '../errors.js'
import {
  submitClassic,
  submitToBuildkit,
  type BuildSubmission,
  type SubmitOptions,
} from './build-submission.js'
import {
  builderFor,
  dockerFromEnv,
  engineUnreachableError,
  isEngineUnreachable,
  type DockerEngine,
} from './docker-engine.js'
import {forEachLine} from './engine-stream.js'
import {formatTransferSize} from './image-size.js'
import {isSessionRefused} from './session-refused.js'
import type {BuildRequest, ContextSent} from './build-request.js'

export type {BuildRequest, ContextSent} from './build-request.js'

export interface ImageInfo {
  id: string
  sizeBytes: number
}

export interface ListedImage extends ImageInfo {
  /** `repository:tag` references of this image within the listed repository. */
  tags: string[]
  createdAt: Date
}

export interface BuiltImage extends ImageInfo {
  /** `repository:tag` */
  ref: string
  tags: string[]
  /** What of the context went to the engine (BuildKit only: it asks just for what changed). */
  contextSent?: ContextSent
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
  /** The image ID (`{ID}`), or with id `moby.buildkit.trace` a BuildKit status (base64). */
  aux?: {ID?: string} | string
  error?: string
  errorDetail?: {message?: string}
}

export class DockerImageBuilder implements ImageBuilder {
  /** Whether builds go to BuildKit: decided on the first build, from the engine's version. */
  private buildkit: Promise<boolean> | undefined

  constructor(
    private readonly engine: DockerEngine = dockerFromEnv(process.env),
    private readonly options: SubmitOptions = {},
  ) {}

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

    let submission: BuildSubmission | undefined
    // Before the response starts, the signal aborts the request; after, the stream must be ended directly.
    const abort = (): void => {
      submission?.response.destroy()
    }
    request.signal?.addEventListener('abort', abort, {once: true})
    try {
      try {
        submission = await this.submit(request, ref, onProgress)
      } catch (error) {
        if (request.signal?.aborted) throw interrupted()
        if (isTodoDeployError(error)) throw error
        if (isEngineUnreachable(error)) throw this.engineError(error, `building ${ref}`)
        const syntax = dockerfileSyntaxError(engineMessage(error), request.dockerfilePath)
        if (syntax) throw syntax
        throw new BuildError(`the Docker Engine refused to build ${ref}: ${engineMessage(error)}`, {
          where: request.dockerfilePath,
          fix: 'check the Dockerfile and the build arguments',
          cause: error,
        })
      }
      const {failure} = submission
      const id = await this.followBuild(submission, request, ref, onProgress, interrupted).catch(
        (error: unknown) => {
          throw failure() ?? error
        },
      )
      const contextSent = submission.contextSent?.()
      if (contextSent) onProgress(describeContextSent(contextSent))
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
      return {
        ref,
        ...info,
        tags: [ref, `${request.repository}:latest`],
        ...(contextSent ? {contextSent} : {}),
      }
    } finally {
      request.signal?.removeEventListener('abort', abort)
      submission?.close()
    }
  }

  /** Starts the build in BuildKit when the engine has it, else in the classic builder. */
  private async submit(
    request: BuildRequest,
    ref: string,
    onProgress: (line: string) => void,
  ): Promise<BuildSubmission> {
    const credentials = this.options.credentials && anonymousOnFailure(this.options.credentials, onProgress)
    if (await this.usesBuildkit()) {
      try {
        return await submitToBuildkit(this.engine, request, ref, onProgress, {...this.options, credentials})
      } catch (error) {
        // An engine that reports a BuildKit-capable API but refuses sessions (a Docker-compatible engine).
        if (!isSessionRefused(error)) throw error
        this.buildkit = Promise.resolve(false)
      }
    }
    return submitClassic(this.engine, request, ref, credentials)
  }

  private usesBuildkit(): Promise<boolean> {
    this.buildkit ??=
      this.engine.builder === 'classic'
        ? Promise.resolve(false)
        : this.engine.docker.version().then(
            (version) => builderFor(this.engine, version) === 'buildkit',
            (error: unknown) => {
              // Asked again on the next build: a passing failure must not pin the classic builder.
              this.buildkit = undefined
              if (isEngineUnreachable(error)) throw error
              return false
            },
          )
    return this.buildkit
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
    {response, trace}: BuildSubmission,
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
      if (typeof message.aux === 'string') {
        if (message.id === 'moby.buildkit.trace') trace?.add(message.aux)
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
      const syntax = dockerfileSyntaxError(failure, request.dockerfilePath)
      if (syntax) throw syntax
      const failed = trace?.failedStep()
      const at = failed?.name ?? step
      throw new BuildError(`building ${ref} failed${at === undefined ? '' : ` at ${at}`}: ${failure}`, {
        where: request.dockerfilePath,
        fix: `fix the failing step in ${request.dockerfilePath} (its output is above) and run again`,
        details: failed?.output ?? stepOutput,
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

/**
 * A login lookup that never stops a build: a credential helper that fails (a `credsStore` whose program
 * is gone is common) leaves the pull anonymous, which public base images need, and the progress says so.
 */
function anonymousOnFailure(
  credentials: NonNullable<SubmitOptions['credentials']>,
  onProgress: (line: string) => void,
): NonNullable<SubmitOptions['credentials']> {
  return async (host) => {
    try {
      return await credentials(host)
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      onProgress(`no Docker login for ${host} (${reason}): pulling its images anonymously`)
      return null
    }
  }
}

/**
 * A Dockerfile the engine could not parse (both builders say `dockerfile parse error line N: ...`): bad
 * input in the user's file, named with its line, not a failed build step.
 */
function dockerfileSyntaxError(message: string, dockerfilePath: string): BadInputError | undefined {
  const parsed = /dockerfile parse error (?:on )?line (\d+): (.+)$/i.exec(message)
  if (!parsed) return undefined
  const [, line, reason] = parsed
  return new BadInputError(`${dockerfilePath} line ${line}: ${reason}`, {
    where: `${dockerfilePath}:${line}`,
    fix: `fix line ${line} of ${dockerfilePath} and run again`,
  })
}

/** The progress line of what a BuildKit build was sent of its context. */
function describeContextSent({files, of, bytes}: ContextSent): string {
  const size = formatTransferSize(bytes)
  if (files === of) return `context: sent all ${of} files the build reads (${size})`
  return `context: sent ${files} of the ${of} files the build reads (${size}); the engine had the rest`
}

/**
 * Which builder builds on this engine, found the way a build finds it (the engine's version, then a
 * BuildKit session opened and closed at once), with why, for `doctor`.
 */
export async function probeBuilder(
  engine: DockerEngine,
  version: {Os?: string; ApiVersion?: string},
): Promise<{builder: 'buildkit' | 'classic'; reason: string}> {
  if (engine.builder === 'classic') return {builder: 'classic', reason: 'DOCKER_BUILDKIT=0'}
  if (builderFor(engine, version) === 'classic')
    return {
      builder: 'classic',
      reason: `a ${version.Os ?? 'non-Linux'} engine with API ${version.ApiVersion ?? '?'}`,
    }
  const {BuildkitSession} = await import('./buildkit-session.js')
  try {
    const session = await BuildkitSession.open(engine, {
      dirs: {},
      sharedKey: 'todo-deploy-doctor',
      unreadable: (_entry, error) => (error instanceof Error ? error : new Error(String(error))),
    })
    session.close()
    return {builder: 'buildkit', reason: 'the engine opened a BuildKit session'}
  } catch (error) {
    if (!isSessionRefused(error)) throw error
    return {builder: 'classic', reason: `the engine refused a BuildKit session: ${error.message}`}
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
