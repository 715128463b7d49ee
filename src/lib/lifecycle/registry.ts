import type {ResolvedConfig} from '../config/load.js'
import type {ServiceName} from '../config/schema.js'
import {BadInputError} from '../errors.js'
import type {ImageRegistry} from '../registry/image-registry.js'
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

/**
 * A rollback target's images must still be in the registry, or its pods would wait in ImagePullBackOff
 * after helm already switched the release. Asked before anything changes; a missing tag is exit 2 (that
 * revision cannot be returned to as it is), naming each image and how to get it back.
 */
export async function assertRevisionImagesInRegistry(
  resolved: ResolvedConfig,
  registry: ImageRegistry,
  revision: number,
  images: {service: ServiceName; ref: string; tag: string}[],
): Promise<void> {
  const missing: string[] = []
  await Promise.all(
    images.map(async (image) => {
      const {repository} = resolved.config.services[image.service].image
      if ((await registry.manifestDigest(repository, image.tag)) === null) missing.push(image.ref)
    }),
  )
  if (missing.length === 0) return
  throw new BadInputError(
    `revision ${revision} runs ${missing.sort().join(', ')}, which registry ${registry.address.host} no longer has; the release was not touched`,
    {
      where: `REVISION ${revision}`,
      fix: `pick a revision whose images are still there (\`todo-deploy rollback --list\`), or check out that revision's source and run \`todo-deploy up\` to push them again (the content tags will match)`,
    },
  )
}
