import type {Readable} from 'node:stream'

import type {AuthConfig} from 'dockerode'

import {engineUnreachableError, isEngineUnreachable, type DockerEngine} from '../image/docker-engine.js'
import {forEachLine} from '../image/engine-stream.js'
import {formatTransferSize} from '../image/image-size.js'
import {InterruptedError, PrerequisiteError} from '../errors.js'
import {registryRepository, repositoryPath, type RegistryAddress} from './registry-address.js'
import type {RegistryClient} from './registry-client.js'
import type {RegistryCredential} from './registry-credential.js'
import {RegistryRefusedError, RegistryUnreachableError} from './registry-errors.js'

export interface PushRequest {
  /** The locally built image, `todo-frontend:0123456789ab`. */
  localRef: string
  /** `services.<s>.image.repository`: the name under the registry's namespace. */
  repository: string
  /** The content tag. */
  tag: string
  onProgress?: (line: string) => void
  /** Aborting closes the engine connection, which stops the push. */
  signal?: AbortSignal
}

export interface PushedImage {
  /** `registry.example.com/team/todo-frontend:0123456789ab`: the reference the cluster pulls. */
  ref: string
  /** The manifest digest the registry holds for that tag (`sha256:…`). */
  digest: string
  /** False when the registry already had the tag with the local image's digest: nothing was sent. */
  pushed: boolean
}

/** Puts a locally built image into the registry under its content tag. */
export interface ImagePusher {
  push(request: PushRequest): Promise<PushedImage>
}

interface PushMessage {
  status?: string
  id?: string
  progressDetail?: {current?: number; total?: number}
  aux?: {Tag?: string; Digest?: string; Size?: number}
  error?: string
  errorDetail?: {message?: string}
}

/** Layer states worth a line; `Pushing` is reported in quarter steps instead of every chunk. */
const LAYER_STATES = new Set(['Preparing', 'Waiting', 'Pushed', 'Layer already exists', 'Retrying'])

/**
 * Pushes through the Docker Engine (dockerode), which holds the image layers, with the credentials
 * from the Docker config sent as the engine's X-Registry-Auth. Asks the registry first: when the tag
 * is there with a digest this image was already pushed as (its RepoDigests), the push is skipped.
 */
export class DockerImagePusher implements ImagePusher {
  constructor(
    private readonly engine: DockerEngine,
    private readonly address: RegistryAddress,
    private readonly registry: RegistryClient,
    private readonly credential: RegistryCredential | null,
  ) {}

  async push(request: PushRequest): Promise<PushedImage> {
    const {localRef, tag} = request
    const onProgress = request.onProgress ?? (() => {})
    const repository = registryRepository(this.address, request.repository)
    const ref = `${repository}:${tag}`

    const remoteDigest = await this.registry.manifestDigest(
      repositoryPath(this.address, request.repository),
      tag,
    )
    const knownDigests = await this.repoDigests(localRef, repository)
    if (knownDigests === null) {
      throw new PrerequisiteError(`the local Docker Engine has no image ${localRef} to push`, {
        fix: 'build it first (`todo-deploy up` builds before it pushes)',
      })
    }
    if (remoteDigest !== null && knownDigests.includes(remoteDigest)) {
      onProgress(`${ref} is already in the registry with digest ${remoteDigest}: push skipped`)
      return {ref, digest: remoteDigest, pushed: false}
    }

    try {
      await this.engine.docker.getImage(localRef).tag({repo: repository, tag})
    } catch (error) {
      throw this.engineError(error, `tagging ${localRef} as ${ref}`)
    }
    onProgress(
      remoteDigest === null
        ? `pushing ${ref}`
        : `pushing ${ref} (the registry holds ${remoteDigest} under that tag, another image)`,
    )
    const digest = await this.followPush(ref, repository, tag, request.signal, onProgress)
    onProgress(`pushed ${ref} (${digest})`)
    return {ref, digest, pushed: true}
  }

  /**
   * The digests the local image was pushed as to `repository` (its full registry name), or [] when the
   * engine has no such image yet (it is about to be built): what a plan compares with the registry's.
   */
  async pushedDigests(localRef: string, repository: string): Promise<string[]> {
    return (await this.repoDigests(localRef, repository)) ?? []
  }

  /** The digests this image is known under in `repository` (`repo@sha256:…` entries of RepoDigests); null without the image. */
  private async repoDigests(localRef: string, repository: string): Promise<string[] | null> {
    try {
      const image = await this.engine.docker.getImage(localRef).inspect()
      return (image.RepoDigests ?? [])
        .filter((entry) => entry.startsWith(`${repository}@`))
        .map((entry) => entry.slice(repository.length + 1))
    } catch (error) {
      if ((error as {statusCode?: number}).statusCode === 404) return null
      throw this.engineError(error, `looking up ${localRef}`)
    }
  }

  private async followPush(
    ref: string,
    repository: string,
    tag: string,
    signal: AbortSignal | undefined,
    onProgress: (line: string) => void,
  ): Promise<string> {
    const interrupted = (): InterruptedError => new InterruptedError(`push of ${ref} interrupted`)
    if (signal?.aborted) throw interrupted()
    let response: Readable | undefined
    const abort = (): void => {
      response?.destroy()
    }
    signal?.addEventListener('abort', abort, {once: true})
    try {
      try {
        response = (await this.engine.docker.getImage(repository).push({
          tag,
          authconfig: this.authConfig(),
          ...(signal === undefined ? {} : {abortSignal: signal}),
        })) as Readable
      } catch (error) {
        if (signal?.aborted) throw interrupted()
        throw this.engineError(error, `pushing ${ref}`)
      }
      const {digest, failure} = await this.readStream(response, onProgress).catch((error: unknown) => {
        if (signal?.aborted) throw interrupted()
        throw engineUnreachableError(this.engine.address, error, `it went away while pushing ${ref}`)
      })
      if (signal?.aborted) throw interrupted()
      if (failure !== undefined) throw this.pushFailure(this.scrub(failure), ref)
      if (digest === undefined) {
        throw new PrerequisiteError(`the Docker Engine did not report the digest of ${ref} after its push`, {
          fix: 'run again; if it persists, check `docker push` of the same image',
        })
      }
      return digest
    } finally {
      signal?.removeEventListener('abort', abort)
      response?.destroy()
    }
  }

  /** Reads the engine's JSON lines: layer progress, then the aux message with the digest, or an error. */
  private async readStream(
    response: Readable,
    onProgress: (line: string) => void,
  ): Promise<{digest?: string; failure?: string}> {
    const result: {digest?: string; failure?: string} = {}
    const lastState = new Map<string, string>()
    const handle = (message: PushMessage): void => {
      if (message.errorDetail !== undefined || message.error !== undefined) {
        result.failure = message.errorDetail?.message ?? message.error ?? 'unknown error'
        return
      }
      if (message.aux?.Digest !== undefined) result.digest = message.aux.Digest
      const status = message.status
      if (status === undefined || message.id === undefined) return
      const layer = message.id
      const line = layerLine(layer, status, message.progressDetail)
      if (line === undefined || lastState.get(layer) === line) return
      lastState.set(layer, line)
      onProgress(line)
    }
    await forEachLine(response, (line) => {
      let message: PushMessage
      try {
        message = JSON.parse(line) as PushMessage
      } catch {
        return // Not a JSON message: engine noise, not progress.
      }
      handle(message)
    })
    return result
  }

  private authConfig(): AuthConfig {
    const secret = this.credential?.reveal()
    const serveraddress = this.address.host
    // An empty login still sends the header: engines before API 1.40 refuse a push without one.
    if (secret === undefined) return {serveraddress} as AuthConfig
    if (secret.kind === 'identity-token') return {identitytoken: secret.token, serveraddress} as AuthConfig
    return {username: secret.username, password: secret.password, serveraddress}
  }

  /** What the engine's push error means for the user: refused, unreachable, or the registry's own words. */
  private pushFailure(message: string, ref: string): PrerequisiteError {
    const host = this.address.host
    const during = `pushing ${ref}`
    if (/denied|forbidden|\b403\b/i.test(message) && !/unauthorized|authentication required/i.test(message))
      return new RegistryRefusedError(host, 403, during, this.credential !== null)
    if (/unauthorized|authentication required|no basic auth credentials|\b401\b/i.test(message))
      return new RegistryRefusedError(host, 401, during, this.credential !== null)
    const unreachable =
      /dial tcp|connection refused|no such host|i\/o timeout|server gave HTTP response to HTTPS client|TLS|x509/i
    if (unreachable.test(message)) {
      const url = /"(https?:\/\/[^"]+)"/.exec(message)?.[1] ?? `the Docker Engine's connection to ${host}`
      return new RegistryUnreachableError(this.address, url, message)
    }
    return new PrerequisiteError(`registry ${host} did not take ${ref}: ${message}`, {
      where: `registry.url (${host})`,
      fix: `check the registry's logs and that the Docker Engine can reach it (\`docker push ${ref}\`)`,
    })
  }

  private scrub(text: string): string {
    return this.credential === null ? text : this.credential.scrub(text)
  }

  private engineError(error: unknown, during: string): Error {
    if (isEngineUnreachable(error)) return engineUnreachableError(this.engine.address, error, during)
    const json = (error as {json?: {message?: string}} | undefined)?.json
    const message = this.scrub(json?.message ?? (error instanceof Error ? error.message : String(error)))
    return new PrerequisiteError(`the Docker Engine failed ${during}: ${message}`, {
      fix: 'check the Docker Engine (`docker info`) and run again',
    })
  }
}

/** One progress line for a layer, or undefined for states not worth a line. */
function layerLine(
  layer: string,
  status: string,
  progress: PushMessage['progressDetail'],
): string | undefined {
  if (status === 'Pushing') {
    const {current, total} = progress ?? {}
    if (current === undefined || total === undefined || total <= 0) return `layer ${layer}: pushing`
    const quarter = Math.min(100, Math.floor((current / total) * 4) * 25)
    return `layer ${layer}: pushing ${quarter}% of ${formatTransferSize(total)}`
  }
  if (LAYER_STATES.has(status) || status.startsWith('Mounted from'))
    return `layer ${layer}: ${status.toLowerCase()}`
  return undefined
}
