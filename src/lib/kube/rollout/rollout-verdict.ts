import type {CoreV1Event, V1Deployment, V1Pod, V1ReplicaSet} from '@kubernetes/client-node'

import {containersOf, explainPod, podFailure, podReady, type PodFailure} from './pod-state.js'
import {deploymentStatus, newReplicaSet, podsOf, revisionOf, type DeploymentStatus} from './rollout-status.js'

/** What a rollout is judged on: the release's objects as the watches mirror them. */
export interface RolloutObjects {
  deployments: V1Deployment[]
  replicaSets: V1ReplicaSet[]
  pods: V1Pod[]
  /** The namespace's events (events carry no labels); only those about the rollout's objects matter. */
  events: CoreV1Event[]
}

export interface RolloutExpectation {
  /** Deployment names expected; default: every deployment in the objects. */
  deployments?: string[]
  /** Restarts tolerated before a crash loop counts as failed (a slow start can restart a few times). */
  crashLoopRestarts: number
  /**
   * The generation each Deployment had once the change was applied (helm returned). A copy older than
   * that is the spec from before, still on its way through the watch: it is waited for, never judged,
   * so the old, already rolled-out spec is not taken for the rollout.
   */
  appliedGenerations?: Readonly<Record<string, number>>
  /**
   * Images loaded into the cluster while this rollout runs, after a pod met ErrImageNeverPull for them:
   * such a pod waits for the kubelet's next try (about 10 s) instead of failing the rollout.
   */
  loadedImages?: readonly string[]
}

/** Where one deployment's rollout stands. */
export interface RolloutProgress {
  deployment: string
  desired: number
  ready: number
  updated: number
  available: number
  rolledOut: boolean
  /** The newest pod of the new ReplicaSet, in words ("Running, not ready"), or what the rollout waits for. */
  state: string
}

export interface DeploymentRollout {
  name: string
  replicas: number
  revision?: string
  images: string[]
}

/** Why a rollout failed or is stuck, pointing at the pod and container to diagnose. */
export interface RolloutFailure {
  deployment: string
  pod?: V1Pod
  container?: string
  /** The Kubernetes reason: ErrImageNeverPull, CrashLoopBackOff, ProgressDeadlineExceeded, Unhealthy, ... */
  reason: string
  message: string
  /** The deployment's new ReplicaSet, whose events belong in the diagnosis. */
  replicaSet?: string
}

/** `progress` holds the deployments judged so far, in order: every one unless a failure ended the judgement. */
export type RolloutVerdict =
  | {status: 'progressing'; progress: RolloutProgress[]}
  | {status: 'rolled-out'; progress: RolloutProgress[]; deployments: DeploymentRollout[]}
  | {status: 'failed'; progress: RolloutProgress[]; failure: RolloutFailure}

/**
 * The rollout's state, from its objects alone: rolled out when every expected deployment is (kubectl
 * rollout status semantics), failed at once on a progress deadline or a known-fatal state of a pod of
 * the new ReplicaSet, progressing otherwise.
 */
export function rolloutVerdict(objects: RolloutObjects, expectation: RolloutExpectation): RolloutVerdict {
  const names = expectedDeployments(objects, expectation)
  const progress: RolloutProgress[] = []
  const rolledOut: DeploymentRollout[] = []
  for (const name of names) {
    const deployment = objects.deployments.find((d) => d.metadata?.name === name)
    if (deployment === undefined) {
      progress.push(waitingForDeployment(name))
      continue
    }
    if (beforeTheChange(deployment, expectation)) {
      progress.push(waitingForAppliedSpec(deployment, expectation))
      continue
    }
    const status = deploymentStatus(deployment)
    const rs = status.observed ? newReplicaSet(deployment, objects.replicaSets) : undefined
    const pods = rs === undefined ? [] : newestFirst(podsOf(rs, objects.pods))
    progress.push(progressOf(status, pods))
    if (status.deadlineExceeded !== undefined) {
      const pod = pods.find((p) => !podReady(p))
      const failure: RolloutFailure = {
        deployment: name,
        pod,
        container: pod && firstUnreadyContainer(pod),
        reason: 'ProgressDeadlineExceeded',
        message: status.deadlineExceeded,
        replicaSet: rs?.metadata?.name,
      }
      return {status: 'failed', progress, failure}
    }
    for (const pod of pods) {
      const failure = podFailure(pod, expectation.crashLoopRestarts)
      if (failure !== undefined && !awaitsLoadedImage(pod, failure, expectation)) {
        return {
          status: 'failed',
          progress,
          failure: {deployment: name, pod, ...failure, replicaSet: rs?.metadata?.name},
        }
      }
    }
    if (status.rolledOut) rolledOut.push(rolloutOf(deployment))
  }
  if (names.length > 0 && rolledOut.length === names.length)
    return {status: 'rolled-out', progress, deployments: rolledOut}
  return {status: 'progressing', progress}
}

/** At the timeout: the first deployment not rolled out, and its least healthy new pod. */
export function stalledRollout(
  objects: RolloutObjects,
  expectation: RolloutExpectation & {namespace: string; labelSelector: string; timeoutMs: number},
): RolloutFailure {
  const names = expectedDeployments(objects, expectation)
  for (const name of names) {
    const deployment = objects.deployments.find((d) => d.metadata?.name === name)
    if (deployment === undefined) {
      return {
        deployment: name,
        reason: 'NotFound',
        message: `deployment ${name} did not appear in namespace ${expectation.namespace}`,
      }
    }
    if (beforeTheChange(deployment, expectation)) {
      const {state} = waitingForAppliedSpec(deployment, expectation)
      return {deployment: name, reason: 'NotObserved', message: `timed out ${state}`}
    }
    const status = deploymentStatus(deployment)
    if (status.rolledOut) continue
    const rs = newReplicaSet(deployment, objects.replicaSets)
    const pod = rs && newestFirst(podsOf(rs, objects.pods)).find((p) => !podReady(p))
    const unhealthy = pod && latestEvent(objects.events, pod, 'Unhealthy')
    const waiting =
      pod && containersOf(pod).find((c) => c.status?.state?.waiting?.reason)?.status?.state?.waiting
    return {
      deployment: name,
      pod,
      container: pod && firstUnreadyContainer(pod),
      reason: unhealthy ? 'Unhealthy' : (waiting?.reason ?? 'NotReady'),
      message:
        unhealthy?.message ??
        waiting?.message ??
        `timed out after ${Math.round(expectation.timeoutMs / 1000)} s: ${status.waitingFor ?? 'not rolled out'}`,
      replicaSet: rs?.metadata?.name,
    }
  }
  return {
    deployment: names[0] ?? '',
    reason: 'NotFound',
    message: `no deployment matches ${expectation.labelSelector} in namespace ${expectation.namespace}`,
  }
}

function expectedDeployments(objects: RolloutObjects, expectation: {deployments?: string[]}): string[] {
  return expectation.deployments ?? objects.deployments.map((d) => d.metadata?.name ?? '').sort()
}

function waitingForDeployment(name: string): RolloutProgress {
  return {
    deployment: name,
    desired: 0,
    ready: 0,
    updated: 0,
    available: 0,
    rolledOut: false,
    state: 'waiting for the deployment to appear',
  }
}

function beforeTheChange(deployment: V1Deployment, expectation: RolloutExpectation): boolean {
  const applied = expectation.appliedGenerations?.[deployment.metadata?.name ?? '']
  return applied !== undefined && (deployment.metadata?.generation ?? 0) < applied
}

function waitingForAppliedSpec(deployment: V1Deployment, expectation: RolloutExpectation): RolloutProgress {
  const name = deployment.metadata?.name ?? ''
  return {
    ...waitingForDeployment(name),
    desired: deployment.spec?.replicas ?? 1,
    state: `waiting for the applied spec (generation ${expectation.appliedGenerations?.[name]}) to reach the watch`,
  }
}

function progressOf(status: DeploymentStatus, pods: V1Pod[]): RolloutProgress {
  const newest = pods[0]
  return {
    deployment: status.name,
    desired: status.desired,
    ready: status.ready,
    updated: status.updated,
    available: status.available,
    rolledOut: status.rolledOut,
    state: status.rolledOut
      ? 'rolled out'
      : newest
        ? explainPod(newest)
        : `waiting for ${status.waitingFor ?? 'pods'}`,
  }
}

function rolloutOf(deployment: V1Deployment): DeploymentRollout {
  return {
    name: deployment.metadata?.name ?? '',
    replicas: deployment.spec?.replicas ?? 1,
    revision: revisionOf(deployment),
    images: (deployment.spec?.template.spec?.containers ?? []).map((c) => c.image ?? ''),
  }
}

/** ErrImageNeverPull for an image loaded since: the kubelet has not tried again yet. */
function awaitsLoadedImage(pod: V1Pod, failure: PodFailure, expectation: RolloutExpectation): boolean {
  if (failure.reason !== 'ErrImageNeverPull' || !expectation.loadedImages?.length) return false
  const image = pod.spec?.containers.find((container) => container.name === failure.container)?.image
  return image !== undefined && expectation.loadedImages.includes(image)
}

function newestFirst(pods: V1Pod[]): V1Pod[] {
  const created = (pod: V1Pod): number => new Date(pod.metadata?.creationTimestamp ?? 0).getTime()
  return [...pods].sort((a, b) => created(b) - created(a))
}

function firstUnreadyContainer(pod: V1Pod): string | undefined {
  const containers = containersOf(pod).filter((c) => !c.init)
  return (containers.find((c) => c.status?.ready !== true) ?? containers[0])?.name
}

function latestEvent(events: CoreV1Event[], pod: V1Pod, reason: string): CoreV1Event | undefined {
  return events.filter((e) => e.involvedObject.name === pod.metadata?.name && e.reason === reason).at(-1)
}
