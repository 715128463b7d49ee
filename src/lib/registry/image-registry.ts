import type {DockerCredentials} from './docker-credentials.js'
import type {DockerImagePusher, PushedImage, PushRequest} from './image-pusher.js'
import {registryRepository, repositoryPath, type RegistryAddress} from './registry-address.js'
import type {RegistryClient} from './registry-client.js'
import type {RegistryCredential} from './registry-credential.js'

/** What the registry and the local engine know of one content-tagged image, before any push. */
export interface RegistryImageState {
  /** `registry.example.com/team/todo-frontend:0123456789ab`: what the cluster pulls. */
  ref: string
  /** The digest the registry holds under that tag, or null when it has no such tag. */
  remoteDigest: string | null
  /** The digests the local image was pushed as (its RepoDigests there); [] when not built yet. */
  pushedDigests: string[]
}

/**
 * `registry.url` as the lifecycle sees it: look up a tag, push an image, and the Docker login for the
 * pull Secret. Repositories are the configured names (`todo-frontend`); the adapter puts them under
 * the registry's host and namespace.
 */
export interface ImageRegistry {
  readonly address: RegistryAddress
  inspect(localRef: string, repository: string, tag: string): Promise<RegistryImageState>
  /** The digest the registry holds for `repository:tag`, or null (rollback asks before it starts). */
  manifestDigest(repository: string, tag: string): Promise<string | null>
  push(request: PushRequest): Promise<PushedImage>
  /** The Docker config's credentials for the registry's host, or null when there are none. */
  credential(): Promise<RegistryCredential | null>
}

interface Session {
  credential: RegistryCredential | null
  client: RegistryClient
  pusher: DockerImagePusher
}

/**
 * The registry through the Docker config's login: the v2 API for look-ups, the local Docker Engine
 * (the one `env` names) for pushes. The credentials are read once (a helper program may prompt or be
 * slow), on first use, and dockerode is loaded then too: a command that never touches the registry
 * runs no credential helper and loads no engine client.
 */
export class DockerConfigRegistry implements ImageRegistry {
  #session: Promise<Session> | undefined

  constructor(
    readonly address: RegistryAddress,
    private readonly credentials: DockerCredentials,
    private readonly env: Readonly<Record<string, string | undefined>>,
  ) {}

  async inspect(localRef: string, repository: string, tag: string): Promise<RegistryImageState> {
    const {client, pusher} = await this.session()
    const name = registryRepository(this.address, repository)
    const [remoteDigest, pushedDigests] = await Promise.all([
      client.manifestDigest(repositoryPath(this.address, repository), tag),
      pusher.pushedDigests(localRef, name),
    ])
    return {ref: `${name}:${tag}`, remoteDigest, pushedDigests}
  }

  async manifestDigest(repository: string, tag: string): Promise<string | null> {
    const {client} = await this.session()
    return client.manifestDigest(repositoryPath(this.address, repository), tag)
  }

  async push(request: PushRequest): Promise<PushedImage> {
    return (await this.session()).pusher.push(request)
  }

  async credential(): Promise<RegistryCredential | null> {
    return (await this.session()).credential
  }

  private session(): Promise<Session> {
    this.#session ??= (async () => {
      const [credential, {RegistryClient}, {DockerImagePusher}, {dockerFromEnv}] = await Promise.all([
        this.credentials.forRegistry(this.address.host),
        import('./registry-client.js'),
        import('./image-pusher.js'),
        import('../image/docker-engine.js'),
      ])
      const client = new RegistryClient(this.address, credential)
      const pusher = new DockerImagePusher(dockerFromEnv(this.env), this.address, client, credential)
      return {credential, client, pusher}
    })()
    return this.#session
  }
}
