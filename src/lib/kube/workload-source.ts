import type {V1Deployment, V1Pod, V1Service} from '@kubernetes/client-node'

import type {KubeConnection} from './kube-connection.js'
import {DEFAULT_RETRY, type RetryPolicy} from './rollout/resource-mirror.js'
import {WatchFeed, watchable, type WatchedResources} from './watch-feed.js'

/** The release's running objects, as `status` and `down` read them. */
export interface WorkloadSnapshot {
  deployments: V1Deployment[]
  pods: V1Pod[]
  services: V1Service[]
}

export interface WorkloadSource {
  /** One read of the objects the selector matches. */
  snapshot(namespace: string, labelSelector: string): Promise<WorkloadSnapshot>
  /**
   * Keeps a live copy by LIST + WATCH and calls `onChange` with it after every change, until
   * `onChange` returns true (done) or the signal aborts (InterruptedError). No polling.
   */
  watch(
    namespace: string,
    labelSelector: string,
    onChange: (snapshot: WorkloadSnapshot) => boolean | void,
    signal?: AbortSignal,
  ): Promise<WorkloadSnapshot>
}

/** client-node's list + watch, through the connection, with the RolloutTracker's resume-on-drop mirrors. */
export class KubeWorkloadSource implements WorkloadSource {
  constructor(
    private readonly kube: KubeConnection,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
  ) {}

  async snapshot(namespace: string, labelSelector: string): Promise<WorkloadSnapshot> {
    const {deployments, pods, services} = this.resources(namespace, labelSelector)
    const list = <T>(watched: {resource: string; list(): Promise<{items: T[]}>}): Promise<T[]> =>
      this.kube.call({verb: 'list', resource: watched.resource, namespace}, watched.list).then((l) => l.items)
    const [deploymentItems, podItems, serviceItems] = await Promise.all([
      list(deployments),
      list(pods),
      list(services),
    ])
    return {deployments: deploymentItems, pods: podItems, services: serviceItems}
  }

  watch(
    namespace: string,
    labelSelector: string,
    onChange: (snapshot: WorkloadSnapshot) => boolean | void,
    signal?: AbortSignal,
  ): Promise<WorkloadSnapshot> {
    return new WatchFeed(this.kube, namespace, this.resources(namespace, labelSelector), this.retry).follow({
      decide: (snapshot) => (onChange(snapshot) === true ? snapshot : undefined),
      conclude: (snapshot) => snapshot,
      signal,
      interrupted: 'interrupted by the user',
    })
  }

  private resources(namespace: string, labelSelector: string): WatchedResources<WorkloadObjectsByName> {
    return {
      deployments: watchable.deployments(this.kube, namespace, labelSelector),
      pods: watchable.pods(this.kube, namespace, labelSelector),
      services: watchable.services(this.kube, namespace, labelSelector),
    }
  }
}

type WorkloadObjectsByName = {deployments: V1Deployment; pods: V1Pod; services: V1Service}
