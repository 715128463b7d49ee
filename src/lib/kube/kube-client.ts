import type {V1IngressList, V1Namespace, V1Pod} from '@kubernetes/client-node'

import {DeployError} from '../errors.js'
import type {KubeConnection, RawResponse} from './kube-connection.js'
import {describeCall, isApiStatus, nullIfNotFound, type KubeCall} from './kube-errors.js'
import {NamespaceTerminatingError} from './namespace-termination.js'

/** Label put on everything todo-deploy creates outside Helm, so `down --purge` removes only its own. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by'
export const MANAGED_BY_VALUE = 'todo-deploy'
export const MANAGED_BY_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`
/** The label Helm (and the CLI's own objects) put on everything of a release. */
export const RELEASE_LABEL = 'app.kubernetes.io/instance'

/** Selects every object of a release. */
export function releaseSelector(release: string): string {
  return `${RELEASE_LABEL}=${release}`
}

/** What lives in a namespace, by kind; names only. Empty lists mean "nothing else lives there". */
export interface NamespaceObjects {
  deployments: string[]
  services: string[]
  /** Without kube-root-ca.crt, which Kubernetes puts in every namespace. */
  configMaps: string[]
  /** Without service-account tokens, which Kubernetes manages itself. */
  secrets: string[]
  pods: string[]
}

export interface ServiceProxyResponse {
  status: number
  /** The first 500 characters of the body, for a diagnosis line. */
  bodySnippet: string
}

/** A Service, in any namespace, that holds one of the nodePorts asked about. */
export interface NodePortHolder {
  namespace: string
  name: string
  nodePort: number
}

/** An Ingress as `up` and `status` need it: its hosts and the addresses its controller gave it. */
export interface IngressSummary {
  name: string
  className: string | null
  hosts: string[]
  /** status.loadBalancer.ingress[].ip or .hostname; empty until an ingress controller serves it. */
  addresses: string[]
}

/** A namespace as the lifecycle needs it: whose it is, and whether it is going away and what holds it. */
export interface NamespaceState {
  name: string
  /** It carries todo-deploy's managed-by label. */
  ours: boolean
  /** Deleted and not gone yet (Terminating): the API server refuses anything new in it. */
  terminating: boolean
  /** spec.finalizers and metadata.finalizers: what has to finish before it goes. */
  finalizers: string[]
  /**
   * The namespace controller's conditions that hold it (status True), as `Type: message`, e.g.
   * "NamespaceFinalizersRemaining: Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances".
   */
  holding: string[]
}

/** The namespace object as {@link NamespaceState}. */
export function namespaceState(namespace: V1Namespace): NamespaceState {
  const {metadata, spec, status} = namespace
  return {
    name: metadata?.name ?? '',
    ours: metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE,
    terminating: status?.phase === 'Terminating' || metadata?.deletionTimestamp !== undefined,
    finalizers: [...(spec?.finalizers ?? []), ...(metadata?.finalizers ?? [])],
    holding: (status?.conditions ?? [])
      .filter((condition) => condition.status === 'True')
      .map((condition) => `${condition.type}: ${condition.message ?? condition.reason ?? ''}`),
  }
}

/** The cluster-level operations the lifecycle needs besides rollout tracking, secrets, locks and state. */
export interface ClusterApi {
  /** GET /version: the server's gitVersion, e.g. v1.32.0. Doubles as the "cluster reachable" check. */
  serverVersion(): Promise<string>
  /** Creates the namespace unless it exists; a NamespaceTerminatingError while it is being deleted. */
  ensureNamespace(namespace: string): Promise<{created: boolean}>
  /** The namespace, or null when it does not exist (any more). */
  readNamespace(namespace: string): Promise<NamespaceState | null>
  /** Whether the namespace exists and carries todo-deploy's managed-by label (false when it does not exist). */
  namespaceCreatedByUs(namespace: string): Promise<boolean>
  /** Deletes the namespace; false when it did not exist. */
  deleteNamespace(namespace: string): Promise<{deleted: boolean}>
  listNamespaceObjects(namespace: string): Promise<NamespaceObjects>
  listPods(namespace: string, labelSelector?: string): Promise<V1Pod[]>
  /**
   * The Services of every namespace that hold any of these nodePorts (nodePorts are cluster-wide);
   * null when the kube context may not list Services across namespaces (403), so nothing can be said.
   */
  nodePortHolders(nodePorts: readonly number[]): Promise<NodePortHolder[] | null>
  /** The Ingresses of a namespace (networking.k8s.io/v1), optionally by label selector. */
  listIngresses(namespace: string, labelSelector?: string): Promise<IngressSummary[]>
  /** Whether an IngressClass of that name exists (an ingress controller installed it); null when it cannot be told. */
  ingressClassExists(name: string): Promise<boolean | null>
  /** One HTTP GET to a service through the API server's service proxy. */
  serviceProxyGet(
    namespace: string,
    service: string,
    port: number | string,
    path: string,
    timeoutMs: number,
  ): Promise<ServiceProxyResponse>
}

const BODY_SNIPPET_CHARS = 500
const NETWORKING = '/apis/networking.k8s.io/v1'

/** A raw GET that answered neither 200 nor an expected status: the API server's own message. */
function rawFailure(call: KubeCall, response: RawResponse): DeployError {
  let message = response.body.slice(0, 300)
  try {
    message = (JSON.parse(response.body) as {message?: string}).message ?? message
  } catch {
    // Not a Status object: keep the start of the body.
  }
  return new DeployError(`${describeCall(call)} answered HTTP ${response.status}: ${message}`, {
    fix:
      'check that the kube context may read it (`kubectl auth can-i ' +
      `${call.verb} ${call.resource}` +
      '`)',
  })
}

export class KubeClusterApi implements ClusterApi {
  constructor(private readonly kube: KubeConnection) {}

  async serverVersion(): Promise<string> {
    const info = await this.kube.call({verb: 'get', resource: 'version'}, () => this.kube.version.getCode())
    return info.gitVersion
  }

  async ensureNamespace(namespace: string): Promise<{created: boolean}> {
    const existing = await this.kube.call({verb: 'get', resource: 'namespaces', name: namespace}, () =>
      nullIfNotFound(this.kube.core.readNamespace({name: namespace})),
    )
    if (existing !== null) {
      // It exists, but nothing can be created in it until it is gone: the caller waits or says so.
      if (namespaceState(existing).terminating) throw new NamespaceTerminatingError(namespace)
      return {created: false}
    }
    return this.kube.call({verb: 'create', resource: 'namespaces', name: namespace}, async () => {
      try {
        await this.kube.core.createNamespace({
          body: {metadata: {name: namespace, labels: {[MANAGED_BY_LABEL]: MANAGED_BY_VALUE}}},
        })
        return {created: true}
      } catch (error) {
        // Someone created it between our read and our create: it exists, and it is not ours.
        if (isApiStatus(error, 409)) return {created: false}
        throw error
      }
    })
  }

  async readNamespace(namespace: string): Promise<NamespaceState | null> {
    const existing = await this.kube.call({verb: 'get', resource: 'namespaces', name: namespace}, () =>
      nullIfNotFound(this.kube.core.readNamespace({name: namespace})),
    )
    return existing === null ? null : namespaceState(existing)
  }

  async namespaceCreatedByUs(namespace: string): Promise<boolean> {
    const existing = await this.kube.call({verb: 'get', resource: 'namespaces', name: namespace}, () =>
      nullIfNotFound(this.kube.core.readNamespace({name: namespace})),
    )
    return existing?.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE
  }

  async deleteNamespace(namespace: string): Promise<{deleted: boolean}> {
    const result = await this.kube.call({verb: 'delete', resource: 'namespaces', name: namespace}, () =>
      nullIfNotFound(this.kube.core.deleteNamespace({name: namespace})),
    )
    return {deleted: result !== null}
  }

  async listNamespaceObjects(namespace: string): Promise<NamespaceObjects> {
    const list = <T>(resource: string, request: () => Promise<T>): Promise<T> =>
      this.kube.call({verb: 'list', resource, namespace}, request)
    const [deployments, services, configMaps, secrets, pods] = await Promise.all([
      list('deployments', () => this.kube.apps.listNamespacedDeployment({namespace})),
      list('services', () => this.kube.core.listNamespacedService({namespace})),
      list('configmaps', () => this.kube.core.listNamespacedConfigMap({namespace})),
      list('secrets', () => this.kube.core.listNamespacedSecret({namespace})),
      list('pods', () => this.kube.core.listNamespacedPod({namespace})),
    ])
    const names = (items: {metadata?: {name?: string}}[]): string[] =>
      items.map((item) => item.metadata?.name ?? '')
    return {
      deployments: names(deployments.items),
      services: names(services.items),
      configMaps: names(configMaps.items.filter((item) => item.metadata?.name !== 'kube-root-ca.crt')),
      secrets: names(secrets.items.filter((item) => item.type !== 'kubernetes.io/service-account-token')),
      pods: names(pods.items),
    }
  }

  async listPods(namespace: string, labelSelector?: string): Promise<V1Pod[]> {
    const pods = await this.kube.call({verb: 'list', resource: 'pods', namespace}, () =>
      this.kube.core.listNamespacedPod({namespace, labelSelector}),
    )
    return pods.items
  }

  async nodePortHolders(nodePorts: readonly number[]): Promise<NodePortHolder[] | null> {
    const wanted = new Set(nodePorts)
    const services = await this.kube.call({verb: 'list', resource: 'services'}, async () => {
      try {
        return await this.kube.core.listServiceForAllNamespaces()
      } catch (error) {
        if (isApiStatus(error, 403)) return null
        throw error
      }
    })
    if (services === null) return null
    return services.items.flatMap((service) =>
      (service.spec?.ports ?? [])
        .filter((port) => port.nodePort !== undefined && wanted.has(port.nodePort))
        .map((port) => ({
          namespace: service.metadata?.namespace ?? '',
          name: service.metadata?.name ?? '',
          nodePort: port.nodePort as number,
        })),
    )
  }

  async listIngresses(namespace: string, labelSelector?: string): Promise<IngressSummary[]> {
    const query = labelSelector === undefined ? '' : `?labelSelector=${encodeURIComponent(labelSelector)}`
    const call = {verb: 'list', resource: 'ingresses', namespace}
    const response = await this.kube.rawGet(
      call,
      `${NETWORKING}/namespaces/${encodeURIComponent(namespace)}/ingresses${query}`,
    )
    if (response.status === 404) return []
    if (response.status !== 200) throw rawFailure(call, response)
    const list = JSON.parse(response.body) as V1IngressList
    return list.items.map((ingress) => ({
      name: ingress.metadata?.name ?? '',
      className: ingress.spec?.ingressClassName ?? null,
      hosts: (ingress.spec?.rules ?? []).flatMap((rule) => (rule.host ? [rule.host] : [])),
      addresses: (ingress.status?.loadBalancer?.ingress ?? []).flatMap((entry) => {
        const address = entry.ip ?? entry.hostname
        return address ? [address] : []
      }),
    }))
  }

  async ingressClassExists(name: string): Promise<boolean | null> {
    const call = {verb: 'get', resource: 'ingressclasses', name}
    const response = await this.kube.rawGet(call, `${NETWORKING}/ingressclasses/${encodeURIComponent(name)}`)
    if (response.status === 200) return true
    if (response.status === 404) return false
    if (response.status === 403) return null
    throw rawFailure(call, response)
  }

  async serviceProxyGet(
    namespace: string,
    service: string,
    port: number | string,
    path: string,
    timeoutMs: number,
  ): Promise<ServiceProxyResponse> {
    const relative = path.startsWith('/') ? path.slice(1) : path
    const apiPath = `/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(service)}:${encodeURIComponent(String(port))}/proxy/${relative}`
    const response = await this.kube.rawGet(
      {
        verb: 'get',
        resource: 'services/proxy',
        name: `${service}:${port}${path.startsWith('/') ? path : `/${path}`}`,
        namespace,
      },
      apiPath,
      timeoutMs,
    )
    return {status: response.status, bodySnippet: response.body.slice(0, BODY_SNIPPET_CHARS)}
  }
}
