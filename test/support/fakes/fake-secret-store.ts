import {createHash} from 'node:crypto'

import {
  secretChecksum,
  type AppliedSecret,
  type ApplySecretRequest,
  type SecretStore,
} from '../../../src/lib/kube/secret-store.js'
import {pullSecretBody, type PullSecretRequest} from '../../../src/lib/registry/pull-secret.js'
import type {CallLog} from './call-log.js'
import type {NamespaceGuard} from './terminating-namespace.js'
import {key} from './release-key.js'

/**
 * Secrets in memory. Stores the checksum and key NAMES only: a test can look at everything this double
 * keeps and find no secret value, as the real store keeps values only inside the cluster.
 */
export class FakeSecretStore implements SecretStore {
  readonly secrets = new Map<
    string,
    {checksum: string; keys: string[]; labels: Record<string, string>; type?: string; registry?: string}
  >()
  applyCount = 0

  /** Refuses new content in a Terminating namespace (FakeCluster wires FakeClusterApi). */
  guard: NamespaceGuard | undefined

  constructor(private readonly log: CallLog) {}

  async applySecret(request: ApplySecretRequest): Promise<AppliedSecret> {
    this.applyCount++
    this.log.record('secrets.applySecret', {
      namespace: request.namespace,
      name: request.name,
      keys: request.values.map((value) => value.name),
    })
    const checksum = secretChecksum(request.values)
    const id = key(request.name, request.namespace)
    if (!this.secrets.has(id))
      this.guard?.refuseNewContent(request.namespace, {resource: 'secrets', name: request.name})
    const changed = this.secrets.get(id)?.checksum !== checksum
    this.secrets.set(id, {
      checksum,
      keys: request.values.map((value) => value.name),
      labels: {...request.labels},
    })
    return {checksum, changed}
  }

  /** Keeps the type, the registry host, the labels and a hash of the body: never the credentials. */
  async applyPullSecret(request: PullSecretRequest): Promise<{changed: boolean}> {
    this.applyCount++
    const body = pullSecretBody(request)
    this.log.record('secrets.applyPullSecret', {
      namespace: request.namespace,
      name: request.name,
      host: request.credential.host,
    })
    const checksum = createHash('sha256').update(JSON.stringify(body.data)).digest('hex')
    const id = key(request.name, request.namespace)
    const changed = this.secrets.get(id)?.checksum !== checksum
    this.secrets.set(id, {
      checksum,
      keys: Object.keys(body.data ?? {}),
      labels: {...request.labels},
      type: body.type,
      registry: request.credential.host,
    })
    return {changed}
  }

  async deleteSecret(namespace: string, name: string): Promise<{deleted: boolean}> {
    this.log.record('secrets.deleteSecret', namespace, name)
    return {deleted: this.secrets.delete(key(name, namespace))}
  }

  async secretExists(namespace: string, name: string): Promise<boolean> {
    return this.secrets.has(key(name, namespace))
  }
}
