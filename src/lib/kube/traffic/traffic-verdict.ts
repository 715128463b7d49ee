import type {V1Deployment, V1EndpointSlice, V1Pod, V1ReplicaSet} from '@kubernetes/client-node'

import {podReady} from '../rollout/pod-state.js'
import {newReplicaSet} from '../rollout/rollout-status.js'

/** What a Service's traffic is judged on: the release's objects and the Services' EndpointSlices. */
export interface TrafficObjects {
  deployments: V1Deployment[]
  replicaSets: V1ReplicaSet[]
  pods: V1Pod[]
  endpointSlices: V1EndpointSlice[]
}

/** A Service and the Deployment whose pods it should route to. */
export interface RoutedService {
  service: string
  deployment: string
}

/** Where one Service's traffic stands. */
export interface ServiceTraffic {
  service: string
  deployment: string
  /** Ready endpoints that are pods of the Deployment's new ReplicaSet. */
  newPods: string[]
  /**
   * What still receives traffic, or may again, that is not the new ReplicaSet: ready endpoints of other
   * pods, and old pods that are Ready and not terminating (the EndpointSlice controller adds those back).
   */
  oldPods: string[]
  /** True when the Service routes to pods of the new ReplicaSet alone. */
  served: boolean
  /** What is still waited for, in words, when not served. */
  waitingFor?: string
}

export type TrafficVerdict = {status: 'served' | 'waiting'; services: ServiceTraffic[]}

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name'
const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash'

/**
 * Whether every Service routes to the new revision alone, from the objects alone: served when each
 * Service's ready endpoints are all pods of its Deployment's new ReplicaSet (matched by
 * pod-template-hash), at least one of them (none for a Deployment scaled to 0), and no old pod of the
 * Deployment is Ready without terminating. An endpoint whose `ready` is unset counts as ready, as the
 * discovery.k8s.io/v1 API says consumers must. kube-proxy (iptables, v1.24) routes to ready endpoints
 * only; a terminating one is used only when no ready one is left, which a served Service never is.
 */
export function trafficVerdict(objects: TrafficObjects, services: readonly RoutedService[]): TrafficVerdict {
  const judged = services.map((routed) => serviceTraffic(objects, routed))
  return {status: judged.every((s) => s.served) ? 'served' : 'waiting', services: judged}
}

function serviceTraffic(objects: TrafficObjects, routed: RoutedService): ServiceTraffic {
  const waiting = (waitingFor: string, newPods: string[] = [], oldPods: string[] = []): ServiceTraffic => ({
    ...routed,
    newPods,
    oldPods,
    served: false,
    waitingFor,
  })
  const deployment = objects.deployments.find((d) => d.metadata?.name === routed.deployment)
  if (deployment === undefined) return waiting(`deployment ${routed.deployment} to exist`)
  // Until the controller has seen the new spec, its revision annotation still names the old ReplicaSet.
  if ((deployment.status?.observedGeneration ?? 0) < (deployment.metadata?.generation ?? 0))
    return waiting(`the deployment controller to see the new spec of ${routed.deployment}`)
  const replicaSet = newReplicaSet(deployment, objects.replicaSets)
  const hash = replicaSet?.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL]
  if (hash === undefined) return waiting(`the new ReplicaSet of ${routed.deployment}`)
  const pods = new Map(objects.pods.map((pod) => [pod.metadata?.name ?? '', pod]))
  const isNew = (pod: V1Pod | undefined): boolean => pod?.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL] === hash

  const newPods = new Set<string>()
  const oldPods = new Set<string>()
  for (const slice of objects.endpointSlices) {
    if (slice.metadata?.labels?.[SERVICE_NAME_LABEL] !== routed.service) continue
    for (const endpoint of slice.endpoints ?? []) {
      if (endpoint.conditions?.ready === false) continue
      const name = endpoint.targetRef?.name ?? endpoint.addresses.join(',')
      if (endpoint.targetRef?.kind === 'Pod' && isNew(pods.get(name))) newPods.add(name)
      else oldPods.add(name)
    }
  }
  const ownRs = new Set(
    objects.replicaSets
      .filter((rs) => rs.metadata?.ownerReferences?.some((o) => o.uid === deployment.metadata?.uid))
      .map((rs) => rs.metadata?.uid),
  )
  for (const pod of objects.pods) {
    const owned = pod.metadata?.ownerReferences?.some((o) => ownRs.has(o.uid)) ?? false
    if (owned && !isNew(pod) && pod.metadata?.deletionTimestamp === undefined && podReady(pod))
      oldPods.add(pod.metadata?.name ?? '')
  }
  const news = [...newPods].sort()
  const olds = [...oldPods].sort()
  if (olds.length > 0) return waiting(`${olds.join(', ')} to stop receiving traffic`, news, olds)
  const desired = deployment.spec?.replicas ?? 1
  if (news.length === 0 && desired > 0) return waiting(`a ready endpoint of the new ReplicaSet ${hash}`)
  return {...routed, newPods: news, oldPods: [], served: true}
}

/** One line per Service: "todo-frontend-service: 2 new pods" or what it waits for. */
export function describeTraffic(service: ServiceTraffic): string {
  if (service.served)
    return `${service.service}: ${service.newPods.length} new pod${service.newPods.length === 1 ? '' : 's'} only`
  return `${service.service}: ${service.newPods.length} new, waiting for ${service.waitingFor ?? 'its endpoints'}`
}
