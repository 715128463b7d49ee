import {HttpMethod, type KubeConfig, Log, Watch} from '@kubernetes/client-node'

import {
  type AppsApi,
  type CoordinationApi,
  type CoreApi,
  type DiscoveryApi,
  KubeApi,
  type NetworkingApi,
  type VersionApi,
  appsApi,
  coordinationApi,
  coreApi,
  discoveryApi,
  networkingApi,
  versionApi,
} from './kube-api.js'

import {
  type KubeCall,
  type KubeTarget,
  type LostWatch,
  lostApiServerError,
  toKubeError,
} from './kube-errors.js'

/** Default bound on one API call; the API server of a healthy local cluster answers in milliseconds. */
export const DEFAULT_KUBE_CALL_TIMEOUT_MS = 15_000

export interface RawResponse {
  status: number
  body: string
}

/**
 * The one way to the API server of one kube context: the typed API clients (the calls the CLI makes,
 * each bounded by a deadline), the watch, and the wording of every failure: `call()` turns one
 * call's failure into an error naming the server and what was being done, `lost()` a watch's give-up.
 */
export class KubeConnection {
  readonly core: CoreApi
  readonly apps: AppsApi
  readonly coordination: CoordinationApi
  readonly networking: NetworkingApi
  /** EndpointSlices: which pods a Service routes to (the traffic phase). */
  readonly discovery: DiscoveryApi
  readonly version: VersionApi
  /** Long-lived watch streams; the mirrors that use them bound their own retries (resource-mirror.ts). */
  readonly watch: Watch
  /** Streamed container logs (`logs -f`); their readers bound and resume them (src/lib/logs). */
  readonly log: Log
  readonly target: KubeTarget
  readonly #api: KubeApi

  constructor(loaded: {kc: KubeConfig; context: string; server: string}, options: {timeoutMs?: number} = {}) {
    this.target = {server: loaded.server, context: loaded.context}
    this.#api = new KubeApi(loaded.kc, loaded.server, options.timeoutMs ?? DEFAULT_KUBE_CALL_TIMEOUT_MS)
    this.core = coreApi(this.#api)
    this.apps = appsApi(this.#api)
    this.coordination = coordinationApi(this.#api)
    this.networking = networkingApi(this.#api)
    this.discovery = discoveryApi(this.#api)
    this.version = versionApi(this.#api)
    this.watch = new Watch(loaded.kc)
    this.log = new Log(loaded.kc)
  }

  async call<T>(call: KubeCall, request: () => Promise<T>): Promise<T> {
    try {
      return await request()
    } catch (error) {
      throw toKubeError(error, call, this.target)
    }
  }

  /** The error for a list/watch that gave up: the API server stopped answering while we followed it. */
  lost(watch: LostWatch): Error {
    return lostApiServerError(watch, this.target)
  }

  /**
   * A GET whose answer is returned whatever its status and content type (the generated clients
   * reject non-JSON bodies and throw on non-2xx): used for the service proxy health check.
   */
  async rawGet(call: KubeCall, apiPath: string, timeoutMs?: number): Promise<RawResponse> {
    return this.call(call, async () => {
      const response = await this.#api.send({method: HttpMethod.GET, path: apiPath}, {timeoutMs})
      return {status: response.httpStatusCode, body: await response.body.text()}
    })
  }
}
