import type {V1ContainerStatus, V1Pod} from '@kubernetes/client-node'

/** Reasons that end a rollout wait at once: waiting longer cannot fix them. */
export type FatalReason =
  | 'ErrImageNeverPull'
  | 'ImagePullBackOff'
  | 'ErrImagePull'
  | 'InvalidImageName'
  | 'CreateContainerConfigError'
  | 'OOMKilled'
  | 'Unschedulable'
  | 'ProgressDeadlineExceeded'
  | 'CrashLoopBackOff'

const FATAL_WAITING_REASONS = new Set<string>([
  'ErrImageNeverPull',
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'CreateContainerConfigError',
])

export interface PodFailure {
  reason: FatalReason
  message: string
  /** Absent when the pod itself failed (Unschedulable). */
  container?: string
}

export interface ContainerWithStatus {
  name: string
  init: boolean
  status?: V1ContainerStatus
}

/** Containers in the order the pod spec lists them (init containers first), each with its status if any. */
export function containersOf(pod: V1Pod): ContainerWithStatus[] {
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]
  const spec = [
    ...(pod.spec?.initContainers ?? []).map((c) => ({name: c.name, init: true})),
    ...(pod.spec?.containers ?? []).map((c) => ({name: c.name, init: false})),
  ]
  return spec.map((c) => ({...c, status: statuses.find((s) => s.name === c.name)}))
}

/** The first known-fatal problem of a pod, or undefined while it may still become ready. */
export function podFailure(pod: V1Pod, crashLoopRestarts: number): PodFailure | undefined {
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled')
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    return {reason: 'Unschedulable', message: scheduled.message ?? 'no node can run the pod'}
  }
  for (const {name, status} of containersOf(pod)) {
    if (status === undefined) continue
    const waiting = status.state?.waiting
    if (waiting?.reason !== undefined && FATAL_WAITING_REASONS.has(waiting.reason)) {
      return {
        reason: waiting.reason as FatalReason,
        message: waiting.message ?? waiting.reason,
        container: name,
      }
    }
    const terminated = status.state?.terminated ?? status.lastState?.terminated
    if (
      status.state?.terminated?.reason === 'OOMKilled' ||
      status.lastState?.terminated?.reason === 'OOMKilled'
    ) {
      return {
        reason: 'OOMKilled',
        message: `the container was killed for using more memory than its limit (exit ${terminated?.exitCode ?? 137})`,
        container: name,
      }
    }
    // A container that exited and restarted this often will keep doing so; before that, restarts can be a slow start.
    const crashing = waiting?.reason === 'CrashLoopBackOff' || status.state?.terminated !== undefined
    if (crashing && status.restartCount >= crashLoopRestarts) {
      return {
        reason: 'CrashLoopBackOff',
        message:
          waiting?.message ??
          `the container exited with code ${terminated?.exitCode ?? '?'} ${status.restartCount} times`,
        container: name,
      }
    }
  }
  return undefined
}

export function podReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false
}

/**
 * One line saying what a pod is doing, for `status` and progress:
 * "CrashLoopBackOff: exited 1 3 times, last log line: ...", "Pending: 0/1 nodes are available: ...", "Running, ready".
 */
export function explainPod(pod: V1Pod, options: {logTail?: string[]} = {}): string {
  if (pod.metadata?.deletionTimestamp) return 'Terminating'
  if (pod.status?.phase === 'Succeeded') return 'Completed'
  const lastLine = options.logTail?.filter((line) => line.trim() !== '').at(-1)
  const withLog = (text: string): string =>
    lastLine === undefined ? text : `${text}, last log line: ${lastLine}`
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled')
  if (scheduled?.status === 'False')
    return `Pending: ${scheduled.message ?? scheduled.reason ?? 'waiting for a node'}`
  const containers = containersOf(pod)
  for (const {status} of containers) {
    const waiting = status?.state?.waiting
    const terminated = status?.state?.terminated
    const last = status?.lastState?.terminated
    if (status === undefined) continue
    if (waiting?.reason === 'CrashLoopBackOff') {
      const oom = last?.reason === 'OOMKilled' ? ' (OOMKilled)' : ''
      return withLog(`CrashLoopBackOff: exited ${last?.exitCode ?? '?'}${oom} ${status.restartCount} times`)
    }
    if (terminated?.reason === 'OOMKilled')
      return withLog(`OOMKilled: exit ${terminated.exitCode}, ${status.restartCount} restarts`)
    if (terminated !== undefined && terminated.reason !== 'Completed') {
      return withLog(
        `${terminated.reason ?? 'Terminated'}: exited ${terminated.exitCode}, ${status.restartCount} restarts`,
      )
    }
    if (
      waiting?.reason !== undefined &&
      waiting.reason !== 'ContainerCreating' &&
      waiting.reason !== 'PodInitializing'
    ) {
      return waiting.message === undefined ? waiting.reason : `${waiting.reason}: ${waiting.message}`
    }
  }
  if (pod.status?.phase === 'Failed')
    return `Failed: ${pod.status.message ?? pod.status.reason ?? 'the pod failed'}`
  const main = containers.filter((c) => !c.init)
  if (main.some((c) => c.status?.state?.waiting !== undefined)) return 'ContainerCreating'
  if (main.length === 0 || main.some((c) => c.status?.state?.running === undefined)) return 'Pending'
  const restarts = main.reduce((sum, c) => sum + (c.status?.restartCount ?? 0), 0)
  const suffix = restarts > 0 ? `, ${restarts} restarts` : ''
  return `${podReady(pod) ? 'Running, ready' : 'Running, not ready'}${suffix}`
}
