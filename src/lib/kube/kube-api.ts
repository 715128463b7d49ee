import {
  ApiException,
  HttpMethod,
  type KubeConfig,
  type ResponseContext,
  ServerConfiguration,
  type CoreV1Event,
  type CoreV1EventList,
  type V1ConfigMap,
  type V1ConfigMapList,
  type V1DeleteOptions,
  type V1Deployment,
  type V1DeploymentList,
  type V1EndpointSlice,
  type V1EndpointSliceList,
  type V1Ingress,
  type V1IngressList,
  type V1Lease,
  type V1LeaseList,
  type V1Namespace,
  type V1NamespaceList,
  type V1Node,
  type V1NodeList,
  type V1Pod,
  type V1PodList,
  type V1ReplicaSet,
  type V1ReplicaSetList,
  type V1Secret,
  type V1SecretList,
  type V1Service,
  type V1ServiceList,
  type V1Status,
  type VersionInfo,
} from '@kubernetes/client-node'
// The serializer the generated API classes use (the package's index does not export it).
import {ObjectSerializer} from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js'

import {sendWithDeadline} from './kube-http.js'

/**
 * The few API calls the CLI makes, written out: client-node's generated API classes carry request
 * factories for hundreds of endpoints (about 2 MB of bundled JavaScript that every start compiled).
 * Requests, bodies, results and errors are built exactly as the generated code builds them, with its
 * ObjectSerializer and ApiException, so callers see the same typed objects and the same failures.
 */

type Query = Record<string, string | number | boolean | undefined>

export interface ApiRequest {
  method: HttpMethod
  /** Already URI-encoded. */
  path: string
  /** Sent in this order; undefined values are left out. */
  query?: Query
  /** A body of the named model, serialized as the generated clients do; `value` may be undefined. */
  body?: {value: unknown; type: string}
}

/** Sends requests to one API server with the kubeconfig's credentials, each bounded by a deadline. */
export class KubeApi {
  constructor(
    private readonly kc: KubeConfig,
    private readonly server: string,
    private readonly timeoutMs: number,
  ) {}

  /** The raw answer, whatever its status (the generated clients add the Accept header; raw calls do not). */
  async send(
    request: ApiRequest,
    options: {timeoutMs?: number; accept?: string} = {},
  ): Promise<ResponseContext> {
    const context = new ServerConfiguration(this.server, {}).makeRequestContext(request.path, request.method)
    if (options.accept !== undefined) context.setHeaderParam('Accept', options.accept)
    for (const [name, value] of Object.entries(request.query ?? {}))
      if (value !== undefined) context.setQueryParam(name, String(value))
    if (request.body !== undefined) {
      context.setHeaderParam('Content-Type', 'application/json')
      // JSON.stringify(undefined) is undefined: no body, as the generated clients send a DELETE without options.
      context.setBody(JSON.stringify(ObjectSerializer.serialize(request.body.value, request.body.type, '')))
    }
    await this.kc.applySecurityAuthentication(context)
    return sendWithDeadline(context, options.timeoutMs ?? this.timeoutMs)
  }

  /**
   * The answer deserialized as the model `type`; any other status throws the ApiException the generated
   * clients throw (401 without a body, others with the body as text).
   */
  async call<T>(request: ApiRequest, type: string): Promise<T> {
    const response = await this.send(request, {accept: 'application/json, */*;q=0.8'})
    const status = response.httpStatusCode
    if (status === 401) throw new ApiException(status, 'Unauthorized', undefined, response.headers)
    if (status < 200 || status > 299)
      throw new ApiException(
        status,
        'Unknown API Status Code!',
        await response.getBodyAsAny(),
        response.headers,
      )
    const contentType = ObjectSerializer.normalizeMediaType(response.headers['content-type'])
    return ObjectSerializer.deserialize(
      ObjectSerializer.parse(await response.body.text(), contentType),
      type,
      '',
    ) as T
  }
}

interface Named {
  name: string
}
interface InNamespace {
  namespace: string
}
export interface ListOptions {
  fieldSelector?: string
  labelSelector?: string
  limit?: number
}
export interface DeleteOptions {
  propagationPolicy?: string
  body?: V1DeleteOptions
}
export interface LogOptions {
  container?: string
  previous?: boolean
  sinceSeconds?: number
  tailLines?: number
  timestamps?: boolean
}

const encode = (value: string): string => encodeURIComponent(value)

/** The verbs on one resource; `at` gives its path (collection, or the named object). */
function resource<T, L, Scope extends object>(
  api: KubeApi,
  kind: string,
  at: (scope: Scope, name?: string) => string,
) {
  const GET = HttpMethod.GET
  return {
    at,
    read: (params: Scope & Named) => api.call<T>({method: GET, path: at(params, params.name)}, kind),
    list: (params: Scope & ListOptions) =>
      api.call<L>(
        {
          method: GET,
          path: at(params),
          // The generated clients' order: fieldSelector, labelSelector, limit.
          query: {
            fieldSelector: params.fieldSelector,
            labelSelector: params.labelSelector,
            limit: params.limit,
          },
        },
        `${kind}List`,
      ),
    create: (params: Scope & {body: T}) =>
      api.call<T>({method: HttpMethod.POST, path: at(params), body: {value: params.body, type: kind}}, kind),
    replace: (params: Scope & Named & {body: T}) =>
      api.call<T>(
        {method: HttpMethod.PUT, path: at(params, params.name), body: {value: params.body, type: kind}},
        kind,
      ),
    delete: (params: Scope & Named & DeleteOptions) =>
      api.call<V1Status>(
        {
          method: HttpMethod.DELETE,
          path: at(params, params.name),
          query: {propagationPolicy: params.propagationPolicy},
          body: {value: params.body, type: 'V1DeleteOptions'},
        },
        'V1Status',
      ),
  }
}

function namespaced<T, L>(api: KubeApi, prefix: string, plural: string, kind: string) {
  return resource<T, L, InNamespace>(
    api,
    kind,
    ({namespace}, name) =>
      `${prefix}/namespaces/${encode(namespace)}/${plural}${name === undefined ? '' : `/${encode(name)}`}`,
  )
}

function clusterWide<T, L>(api: KubeApi, prefix: string, plural: string, kind: string) {
  return resource<T, L, object>(
    api,
    kind,
    (_, name) => `${prefix}/${plural}${name === undefined ? '' : `/${encode(name)}`}`,
  )
}

/** The core (v1) calls the CLI makes, with the generated CoreV1Api's names and parameter objects. */
export function coreApi(api: KubeApi) {
  const namespaces = clusterWide<V1Namespace, V1NamespaceList>(api, '/api/v1', 'namespaces', 'V1Namespace')
  const nodes = clusterWide<V1Node, V1NodeList>(api, '/api/v1', 'nodes', 'V1Node')
  const configMaps = namespaced<V1ConfigMap, V1ConfigMapList>(api, '/api/v1', 'configmaps', 'V1ConfigMap')
  const secrets = namespaced<V1Secret, V1SecretList>(api, '/api/v1', 'secrets', 'V1Secret')
  const services = namespaced<V1Service, V1ServiceList>(api, '/api/v1', 'services', 'V1Service')
  const pods = namespaced<V1Pod, V1PodList>(api, '/api/v1', 'pods', 'V1Pod')
  const events = namespaced<CoreV1Event, CoreV1EventList>(api, '/api/v1', 'events', 'CoreV1Event')
  const allServices = clusterWide<V1Service, V1ServiceList>(api, '/api/v1', 'services', 'V1Service')
  return {
    readNamespace: namespaces.read,
    createNamespace: namespaces.create,
    deleteNamespace: namespaces.delete,
    listNode: (options: ListOptions = {}) => nodes.list(options),
    readNamespacedConfigMap: configMaps.read,
    listNamespacedConfigMap: configMaps.list,
    createNamespacedConfigMap: configMaps.create,
    replaceNamespacedConfigMap: configMaps.replace,
    deleteNamespacedConfigMap: configMaps.delete,
    readNamespacedSecret: secrets.read,
    listNamespacedSecret: secrets.list,
    createNamespacedSecret: secrets.create,
    replaceNamespacedSecret: secrets.replace,
    deleteNamespacedSecret: secrets.delete,
    readNamespacedService: services.read,
    listNamespacedService: services.list,
    listServiceForAllNamespaces: (options: ListOptions = {}) => allServices.list(options),
    listNamespacedPod: pods.list,
    listNamespacedEvent: events.list,
    readNamespacedPodLog: (params: InNamespace & Named & LogOptions) =>
      api.call<string>(
        {
          method: HttpMethod.GET,
          path: `${pods.at(params, params.name)}/log`,
          // The generated client's order.
          query: {
            container: params.container,
            previous: params.previous,
            sinceSeconds: params.sinceSeconds,
            tailLines: params.tailLines,
            timestamps: params.timestamps,
          },
        },
        'string',
      ),
  }
}

export function appsApi(api: KubeApi) {
  const deployments = namespaced<V1Deployment, V1DeploymentList>(
    api,
    '/apis/apps/v1',
    'deployments',
    'V1Deployment',
  )
  const replicaSets = namespaced<V1ReplicaSet, V1ReplicaSetList>(
    api,
    '/apis/apps/v1',
    'replicasets',
    'V1ReplicaSet',
  )
  return {listNamespacedDeployment: deployments.list, listNamespacedReplicaSet: replicaSets.list}
}

export function coordinationApi(api: KubeApi) {
  const leases = namespaced<V1Lease, V1LeaseList>(api, '/apis/coordination.k8s.io/v1', 'leases', 'V1Lease')
  return {
    readNamespacedLease: leases.read,
    createNamespacedLease: leases.create,
    replaceNamespacedLease: leases.replace,
    deleteNamespacedLease: leases.delete,
  }
}

export function networkingApi(api: KubeApi) {
  const ingresses = namespaced<V1Ingress, V1IngressList>(
    api,
    '/apis/networking.k8s.io/v1',
    'ingresses',
    'V1Ingress',
  )
  return {listNamespacedIngress: ingresses.list}
}

export function discoveryApi(api: KubeApi) {
  const endpointSlices = namespaced<V1EndpointSlice, V1EndpointSliceList>(
    api,
    '/apis/discovery.k8s.io/v1',
    'endpointslices',
    'V1EndpointSlice',
  )
  return {listNamespacedEndpointSlice: endpointSlices.list}
}

export function versionApi(api: KubeApi) {
  return {getCode: () => api.call<VersionInfo>({method: HttpMethod.GET, path: '/version/'}, 'VersionInfo')}
}

export type CoreApi = ReturnType<typeof coreApi>
export type AppsApi = ReturnType<typeof appsApi>
export type CoordinationApi = ReturnType<typeof coordinationApi>
export type NetworkingApi = ReturnType<typeof networkingApi>
export type DiscoveryApi = ReturnType<typeof discoveryApi>
export type VersionApi = ReturnType<typeof versionApi>
