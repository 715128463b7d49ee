import type {V1Secret} from '@kubernetes/client-node'

import {PrerequisiteError} from '../errors.js'
import type {RegistryCredential} from './registry-credential.js'

export const DOCKER_CONFIG_JSON_TYPE = 'kubernetes.io/dockerconfigjson'
export const DOCKER_CONFIG_JSON_KEY = '.dockerconfigjson'

export interface PullSecretRequest {
  /** `registry.pullSecret` */
  name: string
  namespace: string
  /** The registry credentials (from DockerCredentials.forRegistry for the registry's host). */
  credential: RegistryCredential
  labels?: Record<string, string>
}

/**
 * The image pull Secret the nodes use for the registry: a `kubernetes.io/dockerconfigjson` Secret
 * with that registry's entry only, never the rest of the user's Docker config. The result holds the
 * credentials: it goes to the API server (SecretStore) and nowhere else.
 */
export function pullSecretBody(request: PullSecretRequest): V1Secret {
  const {credential} = request
  const secret = credential.reveal()
  if (secret.kind !== 'password') {
    // The kubelet reads username/password/auth only; an OAuth refresh token means nothing to it.
    throw new PrerequisiteError(
      `the Docker login for ${credential.host} (from ${credential.source}) is an identity token, which the cluster's nodes cannot use`,
      {
        where: 'registry.pullSecret',
        fix: `log in with a user and password or an access token as the password (\`docker login ${credential.host}\`), or create the Secret ${request.name} yourself and leave registry.pullSecret unset`,
      },
    )
  }
  const auth = Buffer.from(`${secret.username}:${secret.password}`).toString('base64')
  const dockerConfig = {
    auths: {[credential.host]: {username: secret.username, password: secret.password, auth}},
  }
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: request.name,
      namespace: request.namespace,
      ...(request.labels ? {labels: request.labels} : {}),
    },
    type: DOCKER_CONFIG_JSON_TYPE,
    data: {[DOCKER_CONFIG_JSON_KEY]: Buffer.from(JSON.stringify(dockerConfig)).toString('base64')},
  }
}
