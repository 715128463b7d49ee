import {createHash} from 'node:crypto'

import {PrerequisiteError} from '../../../src/lib/errors.js'
import type {ImageRegistry, RegistryImageState} from '../../../src/lib/registry/image-registry.js'
import type {PushedImage, PushRequest} from '../../../src/lib/registry/image-pusher.js'
import {
  parseRegistryUrl,
  registryRepository,
  type RegistryAddress,
} from '../../../src/lib/registry/registry-address.js'
import {RegistryCredential} from '../../../src/lib/registry/registry-credential.js'
import type {CallLog} from './call-log.js'
import type {FakeImageEngine} from './fake-image-engine.js'

/** The password of the fake Docker login: a sentinel the hygiene tests look for everywhere. */
export const REGISTRY_PASSWORD = 'test-secret-value-registry-password'

/**
 * A registry in memory: `repository:tag` → manifest digest. A pushed image's digest follows from its
 * engine image ID, so a rebuilt image gets a new digest, as with a real registry. Every call is logged.
 */
export class FakeRegistry implements ImageRegistry {
  readonly address: RegistryAddress
  /** The Docker login for the registry; null for none. */
  login: RegistryCredential | null

  constructor(
    private readonly log: CallLog,
    private readonly engine: FakeImageEngine,
    url = 'localhost:5000/team',
    /** `host/ns/repo:tag` → digest; shared by every view of the same registry host. */
    readonly tags = new Map<string, string>(),
  ) {
    this.address = parseRegistryUrl(url, true)
    this.login = new RegistryCredential(this.address.host, 'the auths entry in the test Docker config', {
      kind: 'password',
      username: 'todo-user',
      password: REGISTRY_PASSWORD,
    })
  }

  async inspect(localRef: string, repository: string, tag: string): Promise<RegistryImageState> {
    this.log.record('registry.inspect', localRef, repository, tag)
    const ref = `${registryRepository(this.address, repository)}:${tag}`
    const local = this.engine.images.get(localRef)
    const remoteDigest = this.tags.get(ref) ?? null
    // A real engine remembers the digest an image was pushed as (RepoDigests); here it is derived.
    const pushedDigests = local && remoteDigest === digestOf(local.id) ? [remoteDigest] : []
    return {ref, remoteDigest, pushedDigests}
  }

  async manifestDigest(repository: string, tag: string): Promise<string | null> {
    this.log.record('registry.manifestDigest', this.address.host, repository, tag)
    return this.tags.get(`${registryRepository(this.address, repository)}:${tag}`) ?? null
  }

  async push(request: PushRequest): Promise<PushedImage> {
    this.log.record('registry.push', request.localRef, request.repository, request.tag)
    const ref = `${registryRepository(this.address, request.repository)}:${request.tag}`
    const local = this.engine.images.get(request.localRef)
    if (!local) {
      throw new PrerequisiteError(`the local Docker Engine has no image ${request.localRef} to push`, {
        fix: 'build it first',
      })
    }
    const digest = digestOf(local.id)
    if (this.tags.get(ref) === digest) {
      request.onProgress?.(`${ref} is already in the registry with digest ${digest}: push skipped`)
      return {ref, digest, pushed: false}
    }
    request.onProgress?.(`pushing ${ref}`)
    request.onProgress?.(`${digest.slice(7, 19)}: Pushed`)
    this.tags.set(ref, digest)
    return {ref, digest, pushed: true}
  }

  async credential(): Promise<RegistryCredential | null> {
    this.log.record('registry.credential')
    return this.login
  }
}

function digestOf(imageId: string): string {
  return `sha256:${createHash('sha256').update(`manifest of ${imageId}`).digest('hex')}`
}
