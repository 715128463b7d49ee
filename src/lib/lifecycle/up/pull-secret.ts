import {PrerequisiteError} from '../../errors.js'
import {RELEASE_LABEL} from '../../kube/kube-client.js'
import type {ResolvedConfig} from '../../config/load.js'
import type {Connection} from '../ports.js'
import {configuredRegistry} from '../registry.js'

/**
 * registry.pullSecret: the image pull Secret made from the Docker login for registry.url (that
 * registry's entry only), labelled as the release's so `down --purge` removes it. Null when no pull
 * Secret is configured. The credentials go to the API server only.
 */
export async function applyPullSecret(
  resolved: ResolvedConfig,
  connection: Connection,
): Promise<{changed: boolean; summary: string} | null> {
  const {namespace, release, registry: config} = resolved.config
  const registry = configuredRegistry(resolved, connection)
  if (config.pullSecret === null || !registry) return null
  const {host} = registry.address
  const credential = await registry.credential()
  if (credential === null) {
    throw new PrerequisiteError(
      `registry.pullSecret is set, but the Docker config has no login for ${host} to put in it`,
      {
        where: 'registry.pullSecret',
        fix: `log in: \`docker login ${host}\` (or remove registry.pullSecret when the nodes can pull without one)`,
      },
    )
  }
  const {changed} = await connection.secrets.applyPullSecret({
    name: config.pullSecret,
    namespace,
    credential,
    labels: {[RELEASE_LABEL]: release},
  })
  const target = `${namespace}/${config.pullSecret}`
  return {
    changed,
    summary: changed
      ? `pull Secret ${target} written with the login for ${host}`
      : `pull Secret ${target} already holds the login for ${host}`,
  }
}
