import type {V1Pod} from '@kubernetes/client-node'

import type {
  ClusterApi,
  IngressSummary,
  NamespaceObjects,
  NodePortHolder,
  ServiceProxyResponse,
} from '../../../src/lib/kube/kube-client.js'
import type {CallLog} from './call-log.js'

/** Namespaces, pods and service-proxy answers; `answers` maps `service path` to an HTTP status (default 200). */
export class FakeClusterApi implements ClusterApi {
  readonly namespaces = new Map<string, {ours: boolean}>()
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

  async ensureNamespace(namespace: string): Promise<{created: boolean}> {
    this.log.record('api.ensureNamespace', namespace)
    if (this.namespaces.has(namespace)) return {created: false}
    this.namespaces.set(namespace, {ours: true})
    return {created: true}
  }

  async namespaceCreatedByUs(namespace: string): Promise<boolean> {
    return this.namespaces.get(namespace)?.ours === true
  }

  async deleteNamespace(namespace: string): Promise<{deleted: boolean}> {
    this.log.record('api.deleteNamespace', namespace)
    return {deleted: this.namespaces.delete(namespace)}
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
