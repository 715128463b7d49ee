import type {LoadedKubeConfig} from './kube-config.js'
import type {KubeConnection} from './kube-connection.js'

/** A local URL that reaches a Service, kept working across rollouts. */
export interface AppForward {
  readonly url: string
  /** Call after a rollout: the next connection goes to a pod of the new ReplicaSet. */
  refresh(): void
  close(): Promise<void>
}

export interface ForwardOptions {
  /**
   * The local port to listen on when it is free, else any free one (`up --port-forward`); any free
   * port when absent.
   */
  preferredLocalPort?: number
}

/**
 * How the CLI reaches the app from this machine: whether a URL answers, and a port-forward of a
 * Service to 127.0.0.1 when nothing else does (`dev`, `up --port-forward`, and `up`'s check on a
 * cluster that publishes no address).
 */
export interface AppReach {
  /** Whether an HTTP GET of `url` is answered (below 500) within `timeoutMs`. */
  answers(url: string, timeoutMs: number): Promise<boolean>
  /** Forwards 127.0.0.1 to the Service, verified with a GET; fails when no pod answers. */
  forward(namespace: string, service: string, options?: ForwardOptions): Promise<AppForward>
}

/** Long enough for a NodePort on a local VM, short enough not to hold the first summary line up. */
export const PROBE_TIMEOUT_MS = 2_000

/** Any HTTP answer below 500 counts: a 404 still proves the port is reachable. */
export async function httpAnswers(url: string, timeoutMs: number): Promise<boolean> {
  try {
    const response = await fetch(url, {signal: AbortSignal.timeout(timeoutMs), redirect: 'manual'})
    await response.body?.cancel()
    return response.status < 500
  } catch {
    return false
  }
}

/**
 * The real probe and client-node's port-forward, for the connection's kube context. The port-forward
 * module (and its WebSocket client) loads only when a forward is needed, so the CLI's start-up does not
 * pay for it.
 */
export function kubeAppReach(loaded: LoadedKubeConfig, connection: KubeConnection): AppReach {
  return {
    answers: httpAnswers,
    forward: async (namespace, service, options = {}) => {
      const {ServicePortForward} = await import('./port-forward.js')
      return ServicePortForward.start({
        connection,
        kc: loaded.kc,
        namespace,
        service,
        localPort: options.preferredLocalPort,
        anyPortIfTaken: options.preferredLocalPort !== undefined,
      })
    },
  }
}
