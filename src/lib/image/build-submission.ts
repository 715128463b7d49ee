import {createHash} from 'node:crypto'
import path from 'node:path'
import type {Readable} from 'node:stream'

import {isTodoDeployError, type TodoDeployError} from '../errors.js'
import type {BuildContext} from './build-context.js'
import type {RegistryLogin} from './buildkit-session.js'
import {BuildkitTrace} from './buildkit-trace.js'
import {packBuildContext, unreadableContextFile} from './context-archive.js'
import type {SyncEntry} from './context-sync.js'
import type {DockerEngine} from './docker-engine.js'
import type {BuildRequest, ContextSent} from './build-request.js'

/**
 * How a build reaches the engine: through a BuildKit session (`submitToBuildkit`) or as a tar body to the
 * classic builder (`submitClassic`). Either way the result is the engine's message stream, read by
 * `DockerImageBuilder`. See docs/buildkit.md.
 */

/** The Dockerfile's name in the folder the BuildKit session serves it from. */
const SESSION_DOCKERFILE = 'Dockerfile'

/** The request as the engine receives it: a context stream (classic) or a session (BuildKit). */
export interface BuildSubmission {
  response: Readable
  /** BuildKit's trace, when the build runs in BuildKit. */
  trace?: BuildkitTrace
  /** A failure that explains a broken build better than the engine can (an unreadable context file). */
  failure(): TodoDeployError | undefined
  /** What was sent of the context, once the build is done (BuildKit sends only what changed). */
  contextSent?(): ContextSent
  close(): void
}

export interface SubmitOptions {
  sessionUpgradeTimeoutMs?: number
  /** The Docker login for a registry a build pulls a base image from. */
  credentials?: (host: string) => Promise<RegistryLogin | null>
}

/**
 * The build as `docker build` runs it with BuildKit: a session serves the context (the filtered
 * files) and, apart from it, the Dockerfile; the request itself carries no body.
 */
export async function submitToBuildkit(
  engine: DockerEngine,
  request: BuildRequest,
  ref: string,
  onProgress: (line: string) => void,
  options: SubmitOptions,
): Promise<BuildSubmission> {
  const {context} = request
  const unreadable = (entry: SyncEntry, error: unknown): Error =>
    unreadableContextFile(context, entry.stat.path, error)
  const [{BuildkitSession}, {contentEntry, contextEntries}] = await Promise.all([
    import('./buildkit-session.js'),
    import('./context-sync.js'),
  ])
  const entries = await contextEntries(context, request.dockerfileText).catch((error: unknown) => {
    throw isTodoDeployError(error) ? error : unreadableContextFile(context, fileOf(context, error), error)
  })
  const session = await BuildkitSession.open(engine, {
    dirs: {
      context: entries,
      dockerfile: [contentEntry(SESSION_DOCKERFILE, Buffer.from(request.dockerfileText))],
    },
    sharedKey: createHash('sha256').update(context.dir).digest('hex'),
    unreadable,
    upgradeTimeoutMs: options.sessionUpgradeTimeoutMs,
    ...(options.credentials ? {credentials: options.credentials} : {}),
  })
  try {
    const response = await dialBuild(
      engine,
      {
        ...buildQuery(request, ref),
        dockerfile: SESSION_DOCKERFILE,
        version: '2',
        session: session.id,
        remote: 'client-session',
      },
      Buffer.alloc(0),
      request.signal,
    )
    return {
      response,
      trace: new BuildkitTrace(onProgress),
      failure: () => (isTodoDeployError(session.failure) ? session.failure : undefined),
      contextSent: () => {
        const sent = session.sent.get('context')
        return {files: sent?.sent.size ?? 0, of: sent?.listed.size ?? 0, bytes: sent?.bytes ?? 0}
      },
      close: () => {
        response.destroy()
        session.close()
      },
    }
  } catch (error) {
    session.close()
    throw error
  }
}

/** The build in the classic builder: the context as a tar body, the logins for the FROM registries. */
export async function submitClassic(
  engine: DockerEngine,
  request: BuildRequest,
  ref: string,
  credentials: SubmitOptions['credentials'],
): Promise<BuildSubmission> {
  const registryConfig = await baseImageLogins(request.dockerfileText, credentials)
  const archive = packBuildContext(request.context, request.dockerfileText)
  // A context file that cannot be read also breaks the connection: report the file, not the engine.
  let archiveError: TodoDeployError | undefined
  archive.stream.on('error', (error) => {
    if (isTodoDeployError(error)) archiveError = error
  })
  try {
    const response = await dialBuild(
      engine,
      {...buildQuery(request, ref), dockerfile: archive.dockerfile, rm: true, forcerm: true},
      archive.stream,
      request.signal,
      registryConfig,
    )
    return {
      response,
      failure: () => archiveError,
      close: () => {
        archive.stream.destroy()
        response.destroy()
      },
    }
  } catch (error) {
    archive.stream.destroy()
    throw archiveError ?? error
  }
}

/**
 * The classic builder's `X-Registry-Config`: the logins for the registries the FROM lines pull from,
 * as the docker CLI sends them (Docker Hub under its index address); none when there are none.
 */
async function baseImageLogins(
  dockerfileText: string,
  credentials: SubmitOptions['credentials'],
): Promise<Record<string, object> | undefined> {
  if (!credentials) return undefined
  // The Dockerfile parser loads only for a classic build.
  const [{baseImageRegistries}, {dockerConfigKey}] = await Promise.all([
    import('./base-image-registries.js'),
    import('../registry/docker-credentials.js'),
  ])
  const config: Record<string, object> = {}
  for (const host of baseImageRegistries(dockerfileText)) {
    const login = await credentials(host)
    if (login === null) continue
    const key = dockerConfigKey(host)
    config[key] =
      login.username === ''
        ? {identitytoken: login.secret, serveraddress: key}
        : {username: login.username, password: login.secret, serveraddress: key}
  }
  return Object.keys(config).length > 0 ? config : undefined
}

function buildQuery(request: BuildRequest, ref: string): Record<string, unknown> {
  return {
    t: ref,
    buildargs: {...request.buildArgs},
    // The engine's `target` parameter, read by the classic builder and by BuildKit alike.
    ...(request.target === undefined ? {} : {target: request.target}),
    ...(request.platform === undefined ? {} : {platform: request.platform}),
  }
}

/** `POST /build` with the given query and body; resolves with the engine's message stream. */
function dialBuild(
  engine: DockerEngine,
  query: Record<string, unknown>,
  body: Readable | Buffer,
  signal: AbortSignal | undefined,
  registryConfig?: Record<string, object>,
): Promise<Readable> {
  return new Promise((resolve, reject) => {
    engine.docker.modem.dial(
      {
        path: '/build?',
        method: 'POST',
        file: body,
        options: query,
        ...(registryConfig === undefined ? {} : {registryconfig: registryConfig}),
        isStream: true,
        ...(signal === undefined ? {} : {abortSignal: signal}),
        statusCodes: {200: true, 400: 'bad parameter', 500: 'server error'},
      },
      (error, response) => (error ? reject(error) : resolve(response as Readable)),
    )
  })
}

/** The context-relative file a file-system error names. */
function fileOf(context: BuildContext, error: unknown): string {
  const failed = (error as NodeJS.ErrnoException).path
  return failed === undefined ? context.dir : path.relative(context.dir, failed).split(path.sep).join('/')
}
