import {randomUUID} from 'node:crypto'
import http from 'node:http'
import net, {type AddressInfo} from 'node:net'

import {KubeConfig} from '@kubernetes/client-node'

import {KubeConnection} from '../../src/lib/kube/kube-connection.js'
import {discoveryAnswer} from './kube-discovery.js'
import {decodeKubeProtobuf, isProtobuf} from './kube-protobuf.js'

/**
 * An in-memory Kubernetes API server over real HTTP, so the real client-node code paths (request
 * building, auth, serialisation, ApiException) run in tests. It keeps objects, not behaviour: no
 * controllers, and a watch is accepted but stays silent, as nothing changes here by itself
 * (test/support/replay-api-server.ts replays recorded watches).
 */

type JsonObject = Record<string, unknown>
export interface KubeObject extends JsonObject {
  metadata: {
    name: string
    namespace?: string
    resourceVersion?: string
    labels?: Record<string, string>
    [key: string]: unknown
  }
}

interface ResourceType {
  prefix: string
  kind: string
  apiVersion: string
  /** Shown in Status messages the way the real server names it: `leases.coordination.k8s.io`. */
  qualified: string
  namespaced: boolean
}

const RESOURCES: Record<string, ResourceType> = {
  namespaces: {
    prefix: '/api/v1',
    kind: 'Namespace',
    apiVersion: 'v1',
    qualified: 'namespaces',
    namespaced: false,
  },
  nodes: {prefix: '/api/v1', kind: 'Node', apiVersion: 'v1', qualified: 'nodes', namespaced: false},
  secrets: {prefix: '/api/v1', kind: 'Secret', apiVersion: 'v1', qualified: 'secrets', namespaced: true},
  configmaps: {
    prefix: '/api/v1',
    kind: 'ConfigMap',
    apiVersion: 'v1',
    qualified: 'configmaps',
    namespaced: true,
  },
  pods: {prefix: '/api/v1', kind: 'Pod', apiVersion: 'v1', qualified: 'pods', namespaced: true},
  services: {prefix: '/api/v1', kind: 'Service', apiVersion: 'v1', qualified: 'services', namespaced: true},
  events: {prefix: '/api/v1', kind: 'Event', apiVersion: 'v1', qualified: 'events', namespaced: true},
  replicasets: {
    prefix: '/apis/apps/v1',
    kind: 'ReplicaSet',
    apiVersion: 'apps/v1',
    qualified: 'replicasets.apps',
    namespaced: true,
  },
  deployments: {
    prefix: '/apis/apps/v1',
    kind: 'Deployment',
    apiVersion: 'apps/v1',
    qualified: 'deployments.apps',
    namespaced: true,
  },
  ingresses: {
    prefix: '/apis/networking.k8s.io/v1',
    kind: 'Ingress',
    apiVersion: 'networking.k8s.io/v1',
    qualified: 'ingresses.networking.k8s.io',
    namespaced: true,
  },
  ingressclasses: {
    prefix: '/apis/networking.k8s.io/v1',
    kind: 'IngressClass',
    apiVersion: 'networking.k8s.io/v1',
    qualified: 'ingressclasses.networking.k8s.io',
    namespaced: false,
  },
  leases: {
    prefix: '/apis/coordination.k8s.io/v1',
    kind: 'Lease',
    apiVersion: 'coordination.k8s.io/v1',
    qualified: 'leases.coordination.k8s.io',
    namespaced: true,
  },
}
export type ResourceName = keyof typeof RESOURCES

export type ApiFault =
  /** Accept the request and never answer. */
  | {kind: 'hang'}
  /** Answer normally after a delay. */
  | {kind: 'delay'; ms: number}
  /** Answer with this status code and a matching Status body. */
  | {kind: 'status'; code: number; message?: string}
  /** Answer with this status code and this body (a Status recorded on a real cluster). */
  | {kind: 'recorded'; code: number; body: JsonObject}

export interface RecordedRequest {
  method: string
  path: string
  query: URLSearchParams
  contentType: string | undefined
  authorization: string | undefined
}

export interface ServiceProxyReply {
  status: number
  body: string
  contentType?: string
}

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  500: 'InternalError',
  503: 'ServiceUnavailable',
}

class ApiStatus extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly reason = REASONS[code] ?? 'Unknown',
    readonly details?: JsonObject,
  ) {
    super(message)
  }

  toJSON(): JsonObject {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      details: this.details,
      code: this.code,
    }
  }
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch
  const result: JsonObject =
    typeof target === 'object' && target !== null && !Array.isArray(target) ? {...(target as JsonObject)} : {}
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key]
    else result[key] = mergePatch(result[key], value)
  }
  return result
}

/** JSON, or a protobuf Secret/ConfigMap (client-go's typed clients); a protobuf DeleteOptions is ignored. */
function parseBody(raw: Buffer, request: RecordedRequest): unknown {
  if (!isProtobuf(raw)) return JSON.parse(raw.toString('utf8'))
  return request.method === 'DELETE' ? undefined : decodeKubeProtobuf(raw)
}

function isApplyPatch(contentType: string | undefined): boolean {
  return /^application\/apply-patch/.test(contentType ?? '')
}

function matchesSelector(labels: Record<string, string> | undefined, selector: string | null): boolean {
  if (selector === null || selector.trim() === '') return true
  return selector.split(',').every((raw) => {
    const term = raw.trim()
    const notEqual = /^([^!=\s]+)\s*!=\s*(\S*)$/.exec(term)
    if (notEqual) return labels?.[notEqual[1] as string] !== notEqual[2]
    const equal = /^([^!=\s]+)\s*==?\s*(\S*)$/.exec(term)
    if (equal) return labels?.[equal[1] as string] === equal[2]
    if (term.startsWith('!')) return labels?.[term.slice(1)] === undefined
    if (/^[^!=\s]+$/.test(term)) return labels?.[term] !== undefined
    throw new ApiStatus(400, `unable to parse requirement: ${term}`)
  })
}

/** kubectl resolves `deploy`, `svc`, `po` through these. */
/** The short names kubectl resolves (`kubectl get deploy,pods,svc`). */
const SHORT_NAMES: Partial<Record<string, string[]>> = {
  namespaces: ['ns'],
  nodes: ['no'],
  configmaps: ['cm'],
  pods: ['po'],
  services: ['svc'],
  deployments: ['deploy'],
}

export class FakeKubeApiServer {
  readonly requests: RecordedRequest[] = []
  gitVersion = 'v1.32.0'
  readonly #objects = new Map<string, KubeObject>()
  readonly #proxyReplies = new Map<string, ServiceProxyReply | ((path: string) => ServiceProxyReply)>()
  #faults: {fault: ApiFault; match: (request: RecordedRequest) => boolean; remaining: number}[] = []
  #resourceVersion = 1000

  readonly #server = http.createServer((request, response) => {
    void this.handle(request, response)
  })

  private constructor() {}

  static async start(): Promise<FakeKubeApiServer> {
    const instance = new FakeKubeApiServer()
    await new Promise<void>((resolve) => instance.#server.listen(0, '127.0.0.1', resolve))
    return instance
  }

  get url(): string {
    const {port} = this.#server.address() as AddressInfo
    return `http://127.0.0.1:${port}`
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  /** Applies `fault` to the requests `match` accepts (all by default), `times` times (forever by default). */
  injectFault(
    fault: ApiFault,
    match: (request: RecordedRequest) => boolean = () => true,
    times = Number.POSITIVE_INFINITY,
  ): void {
    this.#faults.push({fault, match, remaining: times})
  }

  clearFaults(): void {
    this.#faults = []
  }

  /** What GET .../services/<service>:<port>/proxy/<path> answers; without one the server says "no endpoints" (503). */
  setServiceProxyReply(
    namespace: string,
    service: string,
    port: number | string,
    reply: ServiceProxyReply | ((path: string) => ServiceProxyReply),
  ): void {
    this.#proxyReplies.set(`${namespace}/${service}:${port}`, reply)
  }

  /** Stores an object as if created through the API (no namespace check); returns the stored copy. */
  seed(resource: ResourceName, object: KubeObject): KubeObject {
    const type = RESOURCES[resource] as ResourceType
    const stored = this.stamp(type, structuredClone(object), object.metadata.namespace)
    this.#objects.set(this.key(resource, stored.metadata.namespace, stored.metadata.name), stored)
    return structuredClone(stored)
  }

  /** The stored object, as the server holds it (undefined when absent). */
  get(resource: ResourceName, namespace: string | undefined, name: string): KubeObject | undefined {
    const stored = this.#objects.get(this.key(resource, namespace, name))
    return stored === undefined ? undefined : structuredClone(stored)
  }

  list(resource: ResourceName, namespace?: string): KubeObject[] {
    const prefix = `${resource}/${namespace ?? ''}/`
    return [...this.#objects.entries()]
      .filter(([key]) => (namespace === undefined ? key.startsWith(`${resource}/`) : key.startsWith(prefix)))
      .map(([, object]) => structuredClone(object))
  }

  private key(resource: string, namespace: string | undefined, name: string): string {
    return `${resource}/${namespace ?? ''}/${name}`
  }

  private stamp(
    type: ResourceType,
    object: KubeObject,
    namespace: string | undefined,
    previous?: KubeObject,
  ): KubeObject {
    this.#resourceVersion++
    object.kind = type.kind
    object.apiVersion = type.apiVersion
    object.metadata = {
      ...object.metadata,
      ...(type.namespaced ? {namespace} : {}),
      uid: previous?.metadata.uid ?? object.metadata.uid ?? randomUUID(),
      creationTimestamp:
        previous?.metadata.creationTimestamp ?? object.metadata.creationTimestamp ?? new Date().toISOString(),
      resourceVersion: String(this.#resourceVersion),
    }
    // A seeded namespace keeps its recorded status (a Terminating one); a created one is Active.
    if (type.kind === 'Namespace') object.status = object.status ?? {phase: 'Active'}
    return object
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://fake')
    const recorded: RecordedRequest = {
      method: request.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      contentType: request.headers['content-type'],
      authorization: request.headers.authorization,
    }
    this.requests.push(recorded)
    const chunks: Buffer[] = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    const raw = Buffer.concat(chunks)
    const text = raw.toString('utf8')

    const send = (code: number, body: unknown, contentType = 'application/json'): void => {
      response.writeHead(code, {'content-type': contentType})
      response.end(typeof body === 'string' ? body : JSON.stringify(body))
    }

    const fault = this.#faults.find((candidate) => candidate.remaining > 0 && candidate.match(recorded))
    if (fault !== undefined) {
      fault.remaining--
      if (fault.fault.kind === 'hang') return
      if (fault.fault.kind === 'delay')
        await new Promise((resolve) => setTimeout(resolve, (fault.fault as {ms: number}).ms))
      if (fault.fault.kind === 'status') {
        const {code, message} = fault.fault
        send(code, new ApiStatus(code, message ?? `injected ${code}`).toJSON())
        return
      }
      if (fault.fault.kind === 'recorded') {
        send(fault.fault.code, fault.fault.body)
        return
      }
    }

    if (recorded.method === 'GET' && ['true', '1'].includes(recorded.query.get('watch') ?? '')) {
      // A watch: the stream opens and no event ever comes (stop() closes it).
      response.writeHead(200, {'content-type': 'application/json'})
      response.flushHeaders()
      return
    }
    try {
      const body: unknown = text === '' ? undefined : parseBody(raw, recorded)
      const [code, answer, contentType] = this.route(recorded, body)
      send(code, answer, contentType)
    } catch (error) {
      if (error instanceof ApiStatus) send(error.code, error.toJSON())
      else send(500, new ApiStatus(500, error instanceof Error ? error.message : String(error)).toJSON())
    }
  }

  private route(request: RecordedRequest, body: unknown): [number, unknown, string?] {
    if (request.path === '/version') {
      return [
        200,
        {
          major: '1',
          minor: this.gitVersion.split('.')[1] ?? '0',
          gitVersion: this.gitVersion,
          platform: 'linux/amd64',
        },
      ]
    }
    const discovery = discoveryAnswer(
      request.path,
      Object.entries(RESOURCES).map(([name, type]) => ({name, ...type, shortNames: SHORT_NAMES[name]})),
    )
    if (discovery !== undefined) return [200, discovery.body, discovery.contentType]
    const entry = Object.entries(RESOURCES).find(([, type]) => request.path.startsWith(`${type.prefix}/`))
    if (entry === undefined) throw new ApiStatus(404, `the server could not find the requested resource`)
    const prefix = entry[1].prefix
    const segments = request.path
      .slice(prefix.length + 1)
      .split('/')
      .map((segment) => decodeURIComponent(segment))

    if (
      prefix === '/api/v1' &&
      segments[0] === 'namespaces' &&
      segments[2] === 'services' &&
      segments[4] === 'proxy'
    ) {
      return this.proxy(
        segments[1] as string,
        segments[3] as string,
        `/${segments.slice(5).join('/')}`,
        request.method,
      )
    }
    const clusterScoped = RESOURCES[segments[0] as string]
    if (
      segments.length <= 2 &&
      clusterScoped &&
      !clusterScoped.namespaced &&
      clusterScoped.prefix === prefix
    ) {
      return this.serve(segments[0] as string, undefined, segments[1], request, body)
    }
    const across = RESOURCES[segments[0] as string]
    if (segments.length === 1 && across?.namespaced && across.prefix === prefix && request.method === 'GET') {
      // A list across every namespace: GET /api/v1/services.
      return this.serve(segments[0] as string, undefined, undefined, request, body)
    }
    if (segments[0] !== 'namespaces')
      throw new ApiStatus(404, `the server could not find the requested resource`)
    if (segments.length <= 2 && prefix === '/api/v1')
      return this.serve('namespaces', undefined, segments[1], request, body)
    if (segments.length === 3 || segments.length === 4) {
      const resource = segments[2] as string
      const type = RESOURCES[resource]
      if (type === undefined || type.prefix !== prefix || !type.namespaced)
        throw new ApiStatus(404, `the server could not find the requested resource`)
      return this.serve(resource, segments[1], segments[3], request, body)
    }
    throw new ApiStatus(404, `the server could not find the requested resource`)
  }

  private proxy(namespace: string, target: string, path: string, method: string): [number, unknown, string?] {
    if (method !== 'GET') throw new ApiStatus(405, `only GET is proxied by this fake`)
    const [service, port = ''] = target.split(':')
    if (this.#objects.get(this.key('services', namespace, service as string)) === undefined) {
      throw new ApiStatus(404, `services "${service}" not found`, 'NotFound', {
        name: service,
        kind: 'services',
      })
    }
    const reply = this.#proxyReplies.get(`${namespace}/${service}:${port}`)
    if (reply === undefined) throw new ApiStatus(503, `no endpoints available for service "${service}"`)
    const answer = typeof reply === 'function' ? reply(path) : reply
    return [answer.status, answer.body, answer.contentType ?? 'text/plain; charset=utf-8']
  }

  private serve(
    resource: string,
    namespace: string | undefined,
    name: string | undefined,
    request: RecordedRequest,
    body: unknown,
  ): [number, unknown] {
    const type = RESOURCES[resource] as ResourceType
    const notFound = (what: string, kind = resource, qualified = type.qualified): ApiStatus =>
      new ApiStatus(404, `${qualified} "${what}" not found`, 'NotFound', {name: what, kind})
    if (
      type.namespaced &&
      this.#objects.get(this.key('namespaces', undefined, namespace as string)) === undefined &&
      request.method !== 'GET'
    ) {
      throw notFound(namespace as string, 'namespaces', 'namespaces')
    }

    if (name === undefined) {
      if (request.method === 'GET') {
        const items = this.list(resource, namespace).filter((item) =>
          matchesSelector(item.metadata.labels, request.query.get('labelSelector')),
        )
        return [
          200,
          {
            kind: `${type.kind}List`,
            apiVersion: type.apiVersion,
            metadata: {resourceVersion: String(this.#resourceVersion)},
            items,
          },
        ]
      }
      if (request.method === 'POST') {
        const object = body as KubeObject
        const objectName = object?.metadata?.name
        if (typeof objectName !== 'string' || objectName === '')
          throw new ApiStatus(
            422,
            `${type.kind} "" is invalid: metadata.name: Required value: name is required`,
          )
        const key = this.key(resource, namespace, objectName)
        if (this.#objects.has(key)) {
          throw new ApiStatus(409, `${type.qualified} "${objectName}" already exists`, 'AlreadyExists', {
            name: objectName,
            kind: resource,
          })
        }
        const stored = this.stamp(type, structuredClone(object), namespace)
        this.#objects.set(key, stored)
        return [201, stored]
      }
      throw new ApiStatus(405, `method ${request.method} not allowed on a collection`, 'MethodNotAllowed')
    }

    const key = this.key(resource, namespace, name)
    const existing = this.#objects.get(key)
    // Server-side apply (helm 4) creates what is missing.
    if (existing === undefined && request.method === 'PATCH' && isApplyPatch(request.contentType)) {
      const stored = this.stamp(
        type,
        {...(body as KubeObject), metadata: {...(body as KubeObject).metadata, name}},
        namespace,
      )
      if (!request.query.has('dryRun')) this.#objects.set(key, stored)
      return [201, stored]
    }
    if (existing === undefined) throw notFound(name)
    const conflict = (): ApiStatus =>
      new ApiStatus(
        409,
        `Operation cannot be fulfilled on ${type.qualified} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        'Conflict',
        {name, kind: resource},
      )

    switch (request.method) {
      case 'GET':
        return [200, existing]
      case 'PUT': {
        const object = body as KubeObject
        if (object?.metadata?.name !== name)
          throw new ApiStatus(
            400,
            `the name of the object (${object?.metadata?.name}) does not match the name on the URL (${name})`,
          )
        const wanted = object.metadata.resourceVersion
        if (wanted !== undefined && wanted !== existing.metadata.resourceVersion) throw conflict()
        const stored = this.stamp(type, structuredClone(object), namespace, existing)
        this.#objects.set(key, stored)
        return [200, stored]
      }
      case 'PATCH': {
        // A strategic merge patch (helm 3) and an apply patch (helm 4) are applied as JSON merge patches: close
        // enough for objects whose lists are replaced whole, as the tests' charts render them.
        if (!/merge-patch\+json/.test(request.contentType ?? '') && !isApplyPatch(request.contentType)) {
          throw new ApiStatus(
            415,
            `the body of the request was in an unknown format - accepted media types include: application/merge-patch+json, application/strategic-merge-patch+json`,
          )
        }
        const stored = this.stamp(type, mergePatch(existing, body) as KubeObject, namespace, existing)
        if (!request.query.has('dryRun')) this.#objects.set(key, stored)
        return [200, stored]
      }
      case 'DELETE': {
        const preconditions = (body as {preconditions?: {resourceVersion?: string}} | undefined)
          ?.preconditions
        if (
          preconditions?.resourceVersion !== undefined &&
          preconditions.resourceVersion !== existing.metadata.resourceVersion
        )
          throw conflict()
        this.#objects.delete(key)
        // A namespace takes everything in it along (the real server does it asynchronously).
        if (resource === 'namespaces') {
          for (const other of [...this.#objects.keys()])
            if (other.split('/')[1] === name) this.#objects.delete(other)
        }
        return [
          200,
          {
            kind: 'Status',
            apiVersion: 'v1',
            metadata: {},
            status: 'Success',
            details: {name, kind: resource, uid: existing.metadata.uid},
          },
        ]
      }
      default:
        throw new ApiStatus(405, `method ${request.method} not allowed`, 'MethodNotAllowed')
    }
  }
}

export const FAKE_CONTEXT = 'fake-context'

/** A KubeConfig whose current context reaches `server` (plain HTTP, a fake bearer token). */
export function kubeConfigFor(server: {url: string}, context = FAKE_CONTEXT): KubeConfig {
  const kc = new KubeConfig()
  kc.loadFromOptions({
    clusters: [{name: 'fake-cluster', server: server.url, skipTLSVerify: true}],
    users: [{name: 'fake-user', token: 'fake-token'}],
    contexts: [{name: context, cluster: 'fake-cluster', user: 'fake-user'}],
    currentContext: context,
  })
  return kc
}

/** The production connection (deadline, credentials, error wording) to `server`. */
export function connectionTo(server: {url: string}, timeoutMs = 3000): KubeConnection {
  return new KubeConnection(
    {kc: kubeConfigFor(server), context: FAKE_CONTEXT, server: server.url},
    {timeoutMs},
  )
}

/** The URL of a loopback port nothing listens on: connections to it are refused. */
export async function closedPortUrl(): Promise<string> {
  const probe = net.createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const {port} = probe.address() as AddressInfo
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  return `http://127.0.0.1:${port}`
}
