import type {ResolvedConfig} from '../config/load.js'

/** A local URL that reaches a Service, kept working across rollouts. */
export interface AppForward {
  readonly url: string
  /** Call after a rollout: the next connection goes to a pod of the new ReplicaSet. */
  refresh(): void
  close(): Promise<void>
}

/** How `dev` checks that the app's URL answers from this machine, and forwards it when it does not. */
export interface AppReach {
  /** Whether an HTTP GET of `url` is answered (below 500) within `timeoutMs`. */
  answers(url: string, timeoutMs: number): Promise<boolean>
  /** Forwards 127.0.0.1 to the Service, verified with a GET; fails when no pod answers. */
  forward(namespace: string, service: string): Promise<AppForward>
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
 * The real probe and client-node's port-forward, for the configured kube context. client-node loads
 * only when a forward is needed, so the CLI's start-up does not pay for it.
 */
export function kubeAppReach(resolved: ResolvedConfig): AppReach {
  return {
    answers: httpAnswers,
    forward: async (namespace, service) => {
      const [{loadKubeConfig}, {KubeConnection}, {ServicePortForward}] = await Promise.all([
        import('../kube/kube-config.js'),
        import('../kube/kube-connection.js'),
        import('./port-forward.js'),
      ])
      const loaded = loadKubeConfig({context: resolved.config.cluster.context ?? undefined})
      return ServicePortForward.start({
        connection: new KubeConnection(loaded),
        kc: loaded.kc,
        namespace,
        service,
      })
    },
  }
}
