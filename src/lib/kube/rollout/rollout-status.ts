import type {V1Deployment, V1Pod, V1ReplicaSet} from '@kubernetes/client-node'

const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision'

export interface DeploymentStatus {
  name: string
  desired: number
  updated: number
  ready: number
  available: number
  /** All replicas, old and new (status.replicas). */
  total: number
  /** The controller has seen the latest spec (observedGeneration ≥ generation). */
  observed: boolean
  rolledOut: boolean
  /** The Progressing condition's message when it reports ProgressDeadlineExceeded. */
  deadlineExceeded?: string
  /** What the rollout still waits for, in kubectl's words. */
  waitingFor?: string
}

/** `kubectl rollout status` semantics (kubectl pkg/polymorphichelpers/rollout_status.go). */
export function deploymentStatus(deployment: V1Deployment): DeploymentStatus {
  const status = deployment.status ?? {}
  const desired = deployment.spec?.replicas ?? 1
  const updated = status.updatedReplicas ?? 0
  const available = status.availableReplicas ?? 0
  const total = status.replicas ?? 0
  const base = {
    name: deployment.metadata?.name ?? '',
    desired,
    updated,
    ready: status.readyReplicas ?? 0,
    available,
    total,
  }
  const observed = (status.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0)
  if (!observed)
    return {...base, observed, rolledOut: false, waitingFor: 'the deployment controller to see the new spec'}
  const progressing = status.conditions?.find((c) => c.type === 'Progressing')
  const deadlineExceeded =
    progressing?.reason === 'ProgressDeadlineExceeded'
      ? (progressing.message ?? `deployment "${base.name}" exceeded its progress deadline`)
      : undefined
  let waitingFor: string | undefined
  if (updated < desired) waitingFor = `${updated} of ${desired} new replicas updated`
  else if (total > updated) waitingFor = `${total - updated} old replicas pending termination`
  else if (available < updated) waitingFor = `${available} of ${updated} updated replicas available`
  return {
    ...base,
    observed,
    rolledOut: waitingFor === undefined && deadlineExceeded === undefined,
    deadlineExceeded,
    waitingFor,
  }
}

export function revisionOf(object: V1Deployment | V1ReplicaSet): string | undefined {
  return object.metadata?.annotations?.[REVISION_ANNOTATION]
}

/** The ReplicaSet of the deployment's current revision, whose pods the rollout waits for. */
export function newReplicaSet(
  deployment: V1Deployment,
  replicaSets: Iterable<V1ReplicaSet>,
): V1ReplicaSet | undefined {
  const revision = revisionOf(deployment)
  if (revision === undefined) return undefined
  for (const rs of replicaSets) {
    const owned = rs.metadata?.ownerReferences?.some((o) => o.uid === deployment.metadata?.uid) ?? false
    if (owned && revisionOf(rs) === revision) return rs
  }
  return undefined
}

export function podsOf(replicaSet: V1ReplicaSet, pods: Iterable<V1Pod>): V1Pod[] {
  return [...pods].filter((pod) =>
    pod.metadata?.ownerReferences?.some((o) => o.uid === replicaSet.metadata?.uid),
  )
}
