import {createHash} from 'node:crypto'

import type {V1Secret} from '@kubernetes/client-node'

import {TodoDeployError} from '../errors.js'
import {DOCKER_CONFIG_JSON_KEY, pullSecretBody, type PullSecretRequest} from '../registry/pull-secret.js'
import type {SecretValue} from '../secrets/secret-value.js'
import {MANAGED_BY_LABEL, MANAGED_BY_VALUE} from './kube-client.js'
import type {KubeConnection} from './kube-connection.js'
import {isApiStatus, nullIfNotFound} from './kube-errors.js'

export interface ApplySecretRequest {
  namespace: string
  name: string
  values: SecretValue[]
  labels?: Record<string, string>
}

export interface AppliedSecret {
  /** sha256 over the sorted name=value pairs: the only trace of the values that leaves this module. */
  checksum: string
  /** False when the Secret already held exactly these values (nothing was written). */
  changed: boolean
}

export interface SecretStore {
  applySecret(request: ApplySecretRequest): Promise<AppliedSecret>
  /**
   * The image pull Secret (`kubernetes.io/dockerconfigjson`) with the registry's entry of the Docker
   * login; labelled as the CLI's. `changed` is false when it already held exactly that.
   */
  applyPullSecret(request: PullSecretRequest): Promise<{changed: boolean}>
  deleteSecret(namespace: string, name: string): Promise<{deleted: boolean}>
  secretExists(namespace: string, name: string): Promise<boolean>
}

/** Fed to the backend's checksum annotation: a changed value rolls the pods, an unchanged one does not. */
export function secretChecksum(values: SecretValue[]): string {
  const hash = createHash('sha256')
  for (const value of [...values].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    // NUL separators: "a=b" + "c" and "a=bc" must not hash alike.
    hash.update(`${value.name}=${value.reveal()}\0`)
  }
  return hash.digest('hex')
}

function sameData(existing: V1Secret, data: Record<string, string>): boolean {
  const current = existing.data ?? {}
  const keys = Object.keys(data)
  return Object.keys(current).length === keys.length && keys.every((key) => current[key] === data[key])
}

/** What `write` sends: a Secret with its name, namespace, labels, type and data always set. */
interface SecretBody {
  metadata: {name: string; namespace: string; labels: Record<string, string>}
  type: string
  data: Record<string, string>
}

/** `text` with each value, and its base64 form, replaced. */
function scrubValues(text: string, values: SecretValue[]): string {
  return values.reduce((result, value) => {
    const secret = value.reveal()
    return secret.length < 3
      ? result
      : result
          .split(secret)
          .join('[redacted]')
          .split(Buffer.from(secret).toString('base64'))
          .join('[redacted]')
  }, text)
}

/**
 * An API server's message can quote what it was sent; scrub every value before any message leaves,
 * so that no secret reaches a terminal, a log or a bug report.
 */
function scrubbed(error: unknown, scrub: (text: string) => string): unknown {
  if (!(error instanceof TodoDeployError)) return error
  const clean = new TodoDeployError(error.exitCode, scrub(error.message), {
    where: error.where,
    fix: error.fix,
    details: error.details.map(scrub),
  })
  clean.name = error.name
  return clean
}

export class KubeSecretStore implements SecretStore {
  constructor(private readonly kube: KubeConnection) {}

  async applySecret({namespace, name, values, labels = {}}: ApplySecretRequest): Promise<AppliedSecret> {
    const checksum = secretChecksum(values)
    const data = Object.fromEntries(
      values.map((value) => [value.name, Buffer.from(value.reveal()).toString('base64')]),
    )
    const metadata = {name, namespace, labels: {...labels, [MANAGED_BY_LABEL]: MANAGED_BY_VALUE}}
    try {
      const changed = await this.write({metadata, type: 'Opaque', data})
      return {checksum, changed}
    } catch (error) {
      throw scrubbed(error, (text) => scrubValues(text, values))
    }
  }

  async applyPullSecret(request: PullSecretRequest): Promise<{changed: boolean}> {
    const body = pullSecretBody({
      ...request,
      labels: {...request.labels, [MANAGED_BY_LABEL]: MANAGED_BY_VALUE},
    })
    try {
      return {changed: await this.write(body as SecretBody)}
    } catch (error) {
      const encoded = body.data?.[DOCKER_CONFIG_JSON_KEY] ?? ''
      throw scrubbed(error, (text) => request.credential.scrub(text).split(encoded).join('[redacted]'))
    }
  }

  /** Creates or replaces the Secret; true when its data changed. Same data, type and labels: no write. */
  private async write(body: SecretBody): Promise<boolean> {
    const {name, namespace} = body.metadata
    const existing = await this.kube.call({verb: 'get', resource: 'secrets', name, namespace}, () =>
      nullIfNotFound(this.kube.core.readNamespacedSecret({name, namespace})),
    )
    if (existing === null) {
      await this.kube.call({verb: 'create', resource: 'secrets', name, namespace}, async () => {
        try {
          await this.kube.core.createNamespacedSecret({namespace, body})
        } catch (error) {
          // Created by someone else since our read: overwrite it, as an update would have.
          if (!isApiStatus(error, 409)) throw error
          await this.kube.core.replaceNamespacedSecret({name, namespace, body})
        }
      })
      return true
    }
    const labelsMatch = Object.entries(body.metadata.labels).every(
      ([key, value]) => existing.metadata?.labels?.[key] === value,
    )
    if (sameData(existing, body.data) && existing.type === body.type && labelsMatch) return false
    await this.kube.call({verb: 'update', resource: 'secrets', name, namespace}, () =>
      this.kube.core.replaceNamespacedSecret({
        name,
        namespace,
        body: {...body, metadata: {...body.metadata, resourceVersion: existing.metadata?.resourceVersion}},
      }),
    )
    return !sameData(existing, body.data)
  }

  async deleteSecret(namespace: string, name: string): Promise<{deleted: boolean}> {
    const result = await this.kube.call({verb: 'delete', resource: 'secrets', name, namespace}, () =>
      nullIfNotFound(this.kube.core.deleteNamespacedSecret({name, namespace})),
    )
    return {deleted: result !== null}
  }

  async secretExists(namespace: string, name: string): Promise<boolean> {
    // Reads the object but returns only a boolean: the data never leaves this method.
    const secret = await this.kube.call({verb: 'get', resource: 'secrets', name, namespace}, () =>
      nullIfNotFound(this.kube.core.readNamespacedSecret({name, namespace})),
    )
    return secret !== null
  }
}
