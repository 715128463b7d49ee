import type {KubeConnection} from '../kube-connection.js'
import {DEFAULT_RETRY, type RetryPolicy} from '../rollout/resource-mirror.js'
import {WatchFeed, watchable} from '../watch-feed.js'
import {
  trafficVerdict,
  type RoutedService,
  type ServiceTraffic,
  type TrafficObjects,
} from './traffic-verdict.js'

export type {RoutedService, ServiceTraffic} from './traffic-verdict.js'

export interface TrafficRequest {
  namespace: string
  /** Selects the release's objects (its EndpointSlices carry its Services' labels). */
  labelSelector: string
  services: RoutedService[]
  timeoutMs: number
  signal?: AbortSignal
  /** Each Service's standing, whenever it changes. */
  onProgress?: (services: ServiceTraffic[]) => void
  /**
   * Watch from now, judge once this settles (the rollout is over). The watch keeps the time at which
   * the Services came to route to the new pods alone, however long before that was. A rejection ends
   * the tracking with that error.
   */
  startAfter?: Promise<unknown>
}

export type TrafficOutcome =
  | {
      status: 'served'
      services: ServiceTraffic[]
      /** Since when (ms since the epoch, this machine's clock) the EndpointSlices have said so. */
      servedSince: number
    }
  | {status: 'timed-out'; services: ServiceTraffic[]}

type TrafficObjectsByName = {[K in keyof TrafficObjects]: TrafficObjects[K][number]}

/**
 * Follows a release's Services until each routes to the pods of its Deployment's new ReplicaSet
 * alone, by watching their EndpointSlices, the pods and what owns them. The tracker emits; the verdict
 * on each change is trafficVerdict's, a pure function; the caller decides what to do with an outcome
 * (the traffic phase allows for kube-proxy, src/lib/lifecycle/traffic-phase.ts).
 */
export class ServiceTrafficTracker {
  private readonly retry: RetryPolicy

  constructor(
    private readonly kube: KubeConnection,
    options: {retry?: Partial<RetryPolicy>} = {},
  ) {
    this.retry = {...DEFAULT_RETRY, ...options.retry}
  }

  track(request: TrafficRequest): Promise<TrafficOutcome> {
    const {namespace, labelSelector, services} = request
    const feed = new WatchFeed<TrafficObjectsByName>(
      this.kube,
      namespace,
      {
        deployments: watchable.deployments(this.kube, namespace, labelSelector),
        replicaSets: watchable.replicaSets(this.kube, namespace, labelSelector),
        pods: watchable.pods(this.kube, namespace, labelSelector),
        endpointSlices: watchable.endpointSlices(this.kube, namespace, labelSelector),
      },
      this.retry,
    )
    let servedSince: number | undefined
    let last = ''
    const judge = (objects: TrafficObjects): ServiceTraffic[] | undefined => {
      const verdict = trafficVerdict(objects, services)
      if (verdict.status === 'served') servedSince ??= Date.now()
      else servedSince = undefined
      const key = JSON.stringify(verdict.services)
      if (key !== last) {
        last = key
        request.onProgress?.(verdict.services)
      }
      return verdict.status === 'served' ? verdict.services : undefined
    }
    return feed.follow<TrafficOutcome, TrafficOutcome>({
      observe: (objects) => {
        judge(objects)
      },
      decide: (objects) => {
        const served = judge(objects)
        return served === undefined
          ? undefined
          : {status: 'served', services: served, servedSince: servedSince ?? Date.now()}
      },
      deadline: {
        ms: request.timeoutMs,
        verdict: (objects) => ({status: 'timed-out', services: trafficVerdict(objects, services).services}),
      },
      conclude: (outcome) => outcome,
      signal: request.signal,
      interrupted: 'interrupted while waiting for the Services to route to the new pods',
      decideAfter: request.startAfter,
    })
  }
}
