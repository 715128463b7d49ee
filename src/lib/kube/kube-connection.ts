import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  HttpMethod,
  type KubeConfig,
  Log,
  ServerConfiguration,
  VersionApi,
  Watch,
  createConfiguration,
} from '@kubernetes/client-node'

import {
  type KubeCall,
  type KubeTarget,
  type LostWatch,
  lostApiServerError,
  toKubeError,
} from './kube-errors.js'
import {deadlineHttpLibrary, sendWithDeadline} from './kube-http.js'

/** Default bound on one API call; the API server of a healthy local cluster answers in milliseconds. */
export const DEFAULT_KUBE_CALL_TIMEOUT_MS = 15_000

export interface RawResponse {
  status: number
  body: string
}

/**
 * The one way to the API server of one kube context: the typed API clients, all built on the
 * deadline-bounded HTTP library, the watch, and the wording of every failure: `call()` turns one
 * call's failure into an error naming the server and what was being done, `lost()` a watch's give-up.
 */
export class KubeConnection {
  readonly core: CoreV1Api
  readonly apps: AppsV1Api
  readonly coordination: CoordinationV1Api
  readonly version: VersionApi
  /** Long-lived watch streams; the mirrors that use them bound their own retries (resource-mirror.ts). */
  readonly watch: Watch
  /** Streamed container logs (`logs -f`); their readers bound and resume them (src/lib/logs). */
  readonly log: Log
  readonly target: KubeTarget
  readonly #kc: KubeConfig
  readonly #timeoutMs: number

  constructor(loaded: {kc: KubeConfig; context: string; server: string}, options: {timeoutMs?: number} = {}) {
    this.#kc = loaded.kc
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_KUBE_CALL_TIMEOUT_MS
    this.target = {server: loaded.server, context: loaded.context}
    const configuration = createConfiguration({
      baseServer: new ServerConfiguration(loaded.server, {}),
      authMethods: {default: loaded.kc},
      httpApi: deadlineHttpLibrary(this.#timeoutMs),
    })
    this.core = new CoreV1Api(configuration)
    this.apps = new AppsV1Api(configuration)
    this.coordination = new CoordinationV1Api(configuration)
    this.version = new VersionApi(configuration)
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
  async rawGet(call: KubeCall, apiPath: string, timeoutMs = this.#timeoutMs): Promise<RawResponse> {
    return this.call(call, async () => {
      const request = new ServerConfiguration(this.target.server, {}).makeRequestContext(
        apiPath,
        HttpMethod.GET,
      )
      await this.#kc.applySecurityAuthentication(request)
      const response = await sendWithDeadline(request, timeoutMs)
      return {status: response.httpStatusCode, body: await response.body.text()}
    })
  }
}
