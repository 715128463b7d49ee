import type {ResolvedConfig} from '../config/load.js'
import {BadInputError} from '../errors.js'
import type {ImageRegistry} from '../registry/image-registry.js'
import {isLoopbackHost, looksLikeRegistryHost, parseRegistryUrl} from '../registry/registry-address.js'
import type {Connection} from './ports.js'

/**
 * The connection's registry when registry.url is set, else null. A configuration with a registry and
 * a connection without one is a wiring bug, not something a user can fix.
 */
export function configuredRegistry(resolved: ResolvedConfig, connection: Connection): ImageRegistry | null {
  if (resolved.config.registry.url === null) return null
  if (!connection.registry) throw new Error('registry.url is set but the connection has no registry adapter')
  return connection.registry
}

/** An image reference split as Docker reads it: the registry host it names (null: none), path and tag. */
export interface ImageSource {
  registry: string | null
  path: string
  tag: string
}

/**
 * `localhost:5000/team/todo-frontend:abc` → registry `localhost:5000`, path `team/todo-frontend`;
 * `todo-frontend:abc` (a loaded image) → registry null.
 */
export function imageSource(ref: string): ImageSource {
  const colon = ref.lastIndexOf(':')
  const name = colon > ref.lastIndexOf('/') ? ref.slice(0, colon) : ref
  const tag = colon > ref.lastIndexOf('/') ? ref.slice(colon + 1) : 'latest'
  const slash = name.indexOf('/')
  const first = slash < 0 ? '' : name.slice(0, slash)
  return slash > 0 && looksLikeRegistryHost(first)
    ? {registry: first, path: name.slice(slash + 1), tag}
    : {registry: null, path: name, tag}
}

/**
 * A rollback target's images must still be in the registry they name, or its pods would wait in
 * ImagePullBackOff after helm already switched the release. Each image is looked up in its own
 * registry (the revision may predate a change of registry.url); loaded images name none and are not
 * looked up. Asked before anything changes; a missing tag is exit 2 (that revision cannot be returned
 * to as it is), naming each image and how to get it back.
 */
export async function assertRevisionImagesInRegistry(
  resolved: ResolvedConfig,
  connection: Connection,
  revision: number,
  images: {ref: string}[],
): Promise<void> {
  const {url, insecure} = resolved.config.registry
  const configured = url === null ? null : parseRegistryUrl(url, insecure).host
  const registries = new Map<string, ImageRegistry>()
  const registryAt = (host: string): ImageRegistry => {
    let registry = registries.get(host)
    if (registry === undefined) {
      // Plain HTTP as configured for today's registry; for another one only on loopback (as Docker does).
      const plain = host === configured ? insecure : isLoopbackHost(host)
      registry = connection.registryAt({host, namespace: '', insecure: plain})
      registries.set(host, registry)
    }
    return registry
  }
  const missing: {ref: string; registry: string}[] = []
  await Promise.all(
    images.map(async ({ref}) => {
      const source = imageSource(ref)
      if (source.registry === null) return
      if ((await registryAt(source.registry).manifestDigest(source.path, source.tag)) === null)
        missing.push({ref, registry: source.registry})
    }),
  )
  if (missing.length === 0) return
  const hosts = [...new Set(missing.map((image) => image.registry))].sort()
  throw new BadInputError(
    `revision ${revision} runs ${missing
      .map((image) => image.ref)
      .sort()
      .join(
        ', ',
      )}, which ${hosts.length === 1 ? `registry ${hosts[0]} no longer has` : `registries ${hosts.join(', ')} no longer have`}; the release was not touched`,
    {
      where: `REVISION ${revision}`,
      fix: `pick a revision whose images are still there (\`todo-deploy rollback --list\`), or check out that revision's source and run \`todo-deploy up\` to push them again (the content tags will match)`,
    },
  )
}

/** The images of a revision that name no registry: they were loaded into a local cluster's nodes. */
export function loadedImages<T extends {ref: string}>(images: T[]): T[] {
  return images.filter((image) => imageSource(image.ref).registry === null)
}
