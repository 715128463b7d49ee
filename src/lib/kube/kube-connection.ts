import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  HttpMethod,
  type KubeConfig,
  ServerConfiguration,
  VersionApi,
  createConfiguration,
} from '@kubernetes/client-node'

import {type KubeCall, type KubeTarget, toKubeError} from './kube-errors.js'
import {deadlineHttpLibrary, sendWithDeadline} from './kube-http.js'

/** Default bound on one API call; the API server of a healthy local cluster answers in milliseconds. */
export const DEFAULT_KUBE_CALL_TIMEOUT_MS = 15_000

export interface RawResponse {
  status: number
  body: string
}

/**
 * The typed API clients for one kube context, all built on the deadline-bounded HTTP library, plus
 * `call()`, which turns any failure into an error naming the server and what was being done.
 */
export class KubeConnection {
  readonly core: CoreV1Api
  readonly apps: AppsV1Api
  readonly coordination: CoordinationV1Api
  readonly version: VersionApi
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
  }

  async call<T>(call: KubeCall, request: () => Promise<T>): Promise<T> {
    try {
      return await request()
    } catch (error) {
      throw toKubeError(error, call, this.target)
    }
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
