import type {
  CoreV1Event,
  KubernetesObject,
  V1Deployment,
  V1EndpointSlice,
  V1Pod,
  V1ReplicaSet,
  V1Service,
} from '@kubernetes/client-node'

import {InterruptedError} from '../errors.js'
import type {KubeConnection} from './kube-connection.js'
import {ResourceMirror, type RetryPolicy} from './rollout/resource-mirror.js'

/** One resource to follow: how to list it (through the connection's clients) and where to watch it. */
export interface WatchedResource<T extends KubernetesObject> {
  /** Plural resource name, for messages: "pods". */
  resource: string
  /** The watch path: /api/v1/namespaces/<ns>/pods. */
  path: string
  labelSelector?: string
  list(): Promise<{items: T[]; metadata?: {resourceVersion?: string}}>
}

type ObjectsByName = Record<string, KubernetesObject>

export type WatchedResources<S extends ObjectsByName> = {[K in keyof S]: WatchedResource<S[K]>}

/** The current objects of every followed resource, under the names the caller gave the resources. */
export type Mirrored<S extends ObjectsByName> = {[K in keyof S]: S[K][]}

export interface FollowOptions<S extends ObjectsByName, V, R> {
  /**
   * The caller's decision, called with the objects after every change once every resource has been
   * listed (a decision is made on a complete picture): a verdict ends the feed, undefined follows on.
   */
  decide(objects: Mirrored<S>): V | undefined
  /**
   * Sees every complete picture as it comes, also before `decideAfter` settles: for a caller that
   * needs to know since when something has held (the traffic phase: since when the Service routes
   * to the new pods alone), not only whether it holds.
   */
  observe?(objects: Mirrored<S>): void
  /** The verdict when nothing was decided within `ms`, from whatever the mirrors hold by then. */
  deadline?: {ms: number; verdict(objects: Mirrored<S>): V}
  /**
   * Turns the verdict into the result once the watches have stopped (e.g. reads logs for a diagnosis).
   * The signal still interrupts it.
   */
  conclude(verdict: V, objects: Mirrored<S>): R | Promise<R>
  signal?: AbortSignal
  /** The message of the InterruptedError the feed rejects with when the signal aborts. */
  interrupted: string
  /**
   * Watch from now, decide only once this settles: the watches are established, and every change
   * mirrored, while the change that starts what is followed is still being made (helm still running).
   * The deadline runs from then; a rejection ends the feed with its error.
   */
  decideAfter?: Promise<unknown>
}

/**
 * Follows a set of resources by LIST + WATCH (one ResourceMirror each) and hands every complete change
 * to the caller, who decides; the feed emits, the caller decides, as kubedog's trackers do
 * (`pkg/tracker/deployment/feed.go`). The feed owns what every such wait needs: one settlement, the
 * abort listener, the deadline, stopping the watches, and the give-up of a mirror whose API server went
 * away, worded by the connection.
 */
export class WatchFeed<S extends ObjectsByName> {
  constructor(
    private readonly kube: KubeConnection,
    private readonly namespace: string,
    private readonly resources: WatchedResources<S>,
    private readonly retry: RetryPolicy,
  ) {}

  follow<V, R>(options: FollowOptions<S, V, R>): Promise<R> {
    const {signal} = options
    return new Promise<R>((resolve, reject) => {
      let decided = false
      let settled = false
      let deciding = false
      let timer: ReturnType<typeof setTimeout> | undefined
      const mirrors = new Map<keyof S, ResourceMirror<KubernetesObject>>()
      const objects = (): Mirrored<S> =>
        Object.fromEntries(
          [...mirrors].map(([name, mirror]) => [name, [...mirror.items.values()]]),
        ) as Mirrored<S>
      const stopWatching = (): void => {
        clearTimeout(timer)
        for (const mirror of mirrors.values()) mirror.stop()
      }
      const settle = (outcome: {result: R} | {error: unknown}): void => {
        if (settled) return
        settled = true
        decided = true
        stopWatching()
        signal?.removeEventListener('abort', onAbort)
        if ('result' in outcome) resolve(outcome.result)
        else reject(outcome.error)
      }
      const reach = (verdict: V): void => {
        if (decided) return
        decided = true
        stopWatching()
        const seen = objects()
        Promise.resolve()
          .then(() => options.conclude(verdict, seen))
          .then(
            (result) => settle({result}),
            (error: unknown) => settle({error}),
          )
      }
      const changed = (): void => {
        if (decided || ![...mirrors.values()].every((mirror) => mirror.synced)) return
        options.observe?.(objects())
        if (!deciding) return
        let verdict: V | undefined
        try {
          verdict = options.decide(objects())
        } catch (error) {
          settle({error})
          return
        }
        if (verdict !== undefined) reach(verdict)
      }

      for (const name of Object.keys(this.resources) as (keyof S & string)[]) {
        const watched = this.resources[name]
        mirrors.set(
          name,
          new ResourceMirror<KubernetesObject>({
            ...watched,
            watch: this.kube.watch,
            retry: this.retry,
            onChange: changed,
            onGiveUp: (lastError, attempts, elapsedMs) =>
              settle({
                error: this.kube.lost({
                  resource: watched.resource,
                  namespace: this.namespace,
                  attempts,
                  elapsedMs,
                  lastError,
                }),
              }),
          }),
        )
      }
      const decide = (): void => {
        if (settled) return
        deciding = true
        const {deadline} = options
        if (deadline !== undefined) timer = setTimeout(() => reach(deadline.verdict(objects())), deadline.ms)
        changed()
      }
      // Handled before the abort check, so its rejection is never an unhandled one, whatever ends the feed.
      options.decideAfter?.then(decide, (error: unknown) => settle({error}))
      const onAbort = (): void => settle({error: new InterruptedError(options.interrupted)})
      if (signal?.aborted) {
        onAbort()
        return
      }
      signal?.addEventListener('abort', onAbort, {once: true})
      for (const mirror of mirrors.values()) mirror.start()
      if (options.decideAfter === undefined) decide()
    })
  }
}

interface ListQuery {
  namespace: string
  labelSelector?: string
}

/** A resource of the API group at `prefix`, listed by `list` through the connection's clients. */
function followed<T extends KubernetesObject>(
  resource: string,
  prefix: '/api/v1' | '/apis/apps/v1' | '/apis/discovery.k8s.io/v1',
  list: (
    kube: KubeConnection,
    query: ListQuery,
  ) => Promise<{items: T[]; metadata?: {resourceVersion?: string}}>,
) {
  return (kube: KubeConnection, namespace: string, labelSelector?: string): WatchedResource<T> => ({
    resource,
    path: `${prefix}/namespaces/${namespace}/${resource}`,
    labelSelector,
    list: () => list(kube, {namespace, labelSelector}),
  })
}

/** The resources the CLI follows. */
export const watchable = {
  deployments: followed<V1Deployment>('deployments', '/apis/apps/v1', (kube, query) =>
    kube.apps.listNamespacedDeployment(query),
  ),
  replicaSets: followed<V1ReplicaSet>('replicasets', '/apis/apps/v1', (kube, query) =>
    kube.apps.listNamespacedReplicaSet(query),
  ),
  pods: followed<V1Pod>('pods', '/api/v1', (kube, query) => kube.core.listNamespacedPod(query)),
  services: followed<V1Service>('services', '/api/v1', (kube, query) =>
    kube.core.listNamespacedService(query),
  ),
  endpointSlices: followed<V1EndpointSlice>('endpointslices', '/apis/discovery.k8s.io/v1', (kube, query) =>
    kube.discovery.listNamespacedEndpointSlice(query),
  ),
  events: followed<CoreV1Event>('events', '/api/v1', (kube, query) => kube.core.listNamespacedEvent(query)),
}
