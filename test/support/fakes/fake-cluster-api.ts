import type {V1Pod} from '@kubernetes/client-node'

import type {
  ClusterApi,
  IngressSummary,
  NamespaceObjects,
  NamespaceState,
  NodePortHolder,
  ServiceProxyResponse,
} from '../../../src/lib/kube/kube-client.js'
import type {CallLog} from './call-log.js'
import {NAMESPACE_TERMINATION_MS} from './cluster-lags.js'
import {
  terminatingNamespaceHelmRefusal,
  terminatingNamespaceRefusal,
  type NamespaceGuard,
} from './terminating-namespace.js'

/** A namespace of the fake cluster; `deletedAt` (Date.now()) once deleted: Terminating until it is gone. */
export interface FakeNamespace {
  ours: boolean
  deletedAt?: number
  /** A finalizer whose controller is gone: the namespace stays Terminating for ever. */
  stuckOn?: string
}

/**
 * Namespaces, pods and service-proxy answers; `answers` maps `service path` to an HTTP status (default 200).
 * A deleted namespace stays Terminating for `terminationMs` (NAMESPACE_TERMINATION_MS, read with
 * Date.now() so fake timers drive it), refusing new content as the API server does, then is gone.
 */
export class FakeClusterApi implements ClusterApi, NamespaceGuard {
  readonly namespaces = new Map<string, FakeNamespace>()
  terminationMs = NAMESPACE_TERMINATION_MS
  /** Called when a namespace is gone: everything that lived in it goes too (FakeCluster empties the other fakes). */
  onGone: (namespace: string) => void = () => {}
  readonly answers = new Map<string, number>()
  pods: V1Pod[] = []
  /** Services of any namespace that hold a nodePort (another project's, say). */
  nodePortServices: NodePortHolder[] = []
  /** The context may not list Services across namespaces. */
  nodePortListForbidden = false
  /** The release's Ingresses, as the API lists them. */
  ingresses: IngressSummary[] = []
  /** IngressClasses an ingress controller installed (`minikube addons enable ingress` adds nginx). */
  readonly ingressClasses = new Set<string>()

  constructor(private readonly log: CallLog) {}

  async serverVersion(): Promise<string> {
    return 'v1.32.0'
  }

  /** The namespace as it is now: one whose termination has run its time is gone. */
  private current(namespace: string): FakeNamespace | undefined {
    const entry = this.namespaces.get(namespace)
    if (
      entry?.deletedAt !== undefined &&
      entry.stuckOn === undefined &&
      Date.now() - entry.deletedAt >= this.terminationMs
    ) {
      this.namespaces.delete(namespace)
      this.onGone(namespace)
      return undefined
    }
    return entry
  }

  /** Deletes a namespace as another command (or `kubectl delete namespace`) would: it starts terminating. */
  startDeleting(namespace: string, stuckOn?: string): void {
    const entry = this.namespaces.get(namespace) ?? {ours: true}
    this.namespaces.set(namespace, {...entry, deletedAt: entry.deletedAt ?? Date.now(), stuckOn})
  }

  isTerminating(namespace: string): boolean {
    return this.current(namespace)?.deletedAt !== undefined
  }

  refuseNewContent(namespace: string, object: {resource: string; group?: string; name: string}): void {
    if (this.isTerminating(namespace)) throw terminatingNamespaceRefusal(namespace, object)
  }

  refuseHelmRelease(namespace: string, release: string, operation: string): void {
    if (this.isTerminating(namespace)) throw terminatingNamespaceHelmRefusal(namespace, release, operation)
  }

  async ensureNamespace(namespace: string): Promise<{created: boolean}> {
    this.log.record('api.ensureNamespace', namespace)
    const entry = this.current(namespace)
    // As KubeClusterApi: a namespace being deleted cannot be used, nor created again until it is gone.
    if (entry?.deletedAt !== undefined)
      throw terminatingNamespaceRefusal(namespace, {resource: 'namespaces', name: namespace})
    if (entry !== undefined) return {created: false}
    this.namespaces.set(namespace, {ours: true})
    return {created: true}
  }

  async readNamespace(namespace: string): Promise<NamespaceState | null> {
    const entry = this.current(namespace)
    if (entry === undefined) return null
    const terminating = entry.deletedAt !== undefined
    return {
      name: namespace,
      ours: entry.ours,
      terminating,
      finalizers: terminating ? ['kubernetes'] : [],
      holding:
        entry.stuckOn === undefined
          ? []
          : [
              // As recorded (test/fixtures/k8s/namespace-terminating/namespace.json): one object holds it.
              'NamespaceContentRemaining: Some resources are remaining: roles.rbac.authorization.k8s.io has 1 resource instances',
              `NamespaceFinalizersRemaining: Some content in the namespace has finalizers remaining: ${entry.stuckOn} in 1 resource instances`,
            ],
    }
  }

  async namespaceCreatedByUs(namespace: string): Promise<boolean> {
    return this.current(namespace)?.ours === true
  }

  async deleteNamespace(namespace: string): Promise<{deleted: boolean}> {
    this.log.record('api.deleteNamespace', namespace)
    const entry = this.current(namespace)
    if (entry === undefined) return {deleted: false}
    this.startDeleting(namespace, entry.stuckOn)
    return {deleted: true}
  }

  async listNamespaceObjects(_namespace: string): Promise<NamespaceObjects> {
    return {
      deployments: [],
      services: [],
      configMaps: [],
      secrets: [],
      pods: this.pods.map((pod) => pod.metadata?.name ?? ''),
    }
  }

  async listPods(_namespace: string, _labelSelector?: string): Promise<V1Pod[]> {
    return this.pods
  }

  async listIngresses(namespace: string, labelSelector?: string): Promise<IngressSummary[]> {
    this.log.record('api.listIngresses', namespace, labelSelector)
    return structuredClone(this.ingresses)
  }

  async ingressClassExists(name: string): Promise<boolean | null> {
    return this.ingressClasses.has(name)
  }

  async nodePortHolders(nodePorts: readonly number[]): Promise<NodePortHolder[] | null> {
    this.log.record('api.nodePortHolders', [...nodePorts])
    if (this.nodePortListForbidden) return null
    return this.nodePortServices.filter((holder) => nodePorts.includes(holder.nodePort))
  }

  async serviceProxyGet(
    namespace: string,
    service: string,
    port: number | string,
    path: string,
    timeoutMs: number,
  ): Promise<ServiceProxyResponse> {
    this.log.record('api.serviceProxyGet', namespace, service, port, path, timeoutMs)
    const status = this.answers.get(`${service} ${path}`) ?? 200
    return {status, bodySnippet: status === 200 ? 'ok' : 'Service Unavailable'}
  }
}
