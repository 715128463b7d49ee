import {InterruptedError} from '../../../src/lib/errors.js'
import {fixFor, type Diagnosis} from '../../../src/lib/kube/rollout/diagnosis.js'
import type {RolloutOutcome, TrackRequest} from '../../../src/lib/kube/rollout/rollout-tracker.js'
import type {RolloutWaiter} from '../../../src/lib/lifecycle/ports.js'
import {work} from './abortable-work.js'
import type {CallLog} from './call-log.js'

/** What the fake rollout waiter does on one call. */
export type ScriptedRollout =
  | {status: 'rolled-out'}
  | {status: 'failed'; reason: TerminalReason}
  | {status: 'timed-out'}
  /** Waits until the signal aborts (a rollout that never ends), for Ctrl-C tests. */
  | {status: 'hang'}

export const TERMINAL_REASONS = [
  'ErrImageNeverPull',
  'CrashLoopBackOff',
  'OOMKilled',
  'CreateContainerConfigError',
  'Unschedulable',
  'ProgressDeadlineExceeded',
  'ImagePullBackOff',
  'InvalidImageName',
] as const
export type TerminalReason = (typeof TERMINAL_REASONS)[number]

const REASON_MESSAGES: Record<TerminalReason | 'timed-out', string> = {
  ErrImageNeverPull: 'Container image "todo-backend:c-0123456789ab" is not present with pull policy of Never',
  CrashLoopBackOff:
    'back-off 40s restarting failed container=backend pod=todo-backend-7d9f8b6c4-x2x7q_todo-app-dev',
  OOMKilled: 'the container was killed for using more memory than its limit',
  CreateContainerConfigError: "couldn't find key JWT_SECRET in Secret todo-app-dev/todo-app-secrets",
  Unschedulable: '0/1 nodes are available: 1 Insufficient memory.',
  ProgressDeadlineExceeded: 'ReplicaSet "todo-backend-7d9f8b6c4" has timed out progressing.',
  ImagePullBackOff: 'Back-off pulling image "todo-backend:c-0123456789ab"',
  InvalidImageName:
    'Failed to apply default image tag "Todo-Backend:c-0123456789ab": couldn\'t parse image name',
  'timed-out': 'Readiness probe failed: HTTP probe failed with statuscode: 503',
}

/** The container a diagnosis is about: the backend's by default. */
export interface DiagnosedContainer {
  deployment: string
  container: string
  image: string
}

const BACKEND: DiagnosedContainer = {
  deployment: 'todo-backend',
  container: 'backend',
  image: 'todo-backend:c-0123456789ab',
}

/** A diagnosis as the RolloutTracker builds it for the pod of `subject` (the backend's) failing with `reason`. */
export function diagnosisFor(
  reason: TerminalReason | 'timed-out',
  namespace = 'todo-app-dev',
  subject: DiagnosedContainer = BACKEND,
): Diagnosis {
  const pod = `${subject.deployment}-7d9f8b6c4-x2x7q`
  const message = REASON_MESSAGES[reason].replaceAll(BACKEND.image, subject.image)
  const unschedulable = reason === 'Unschedulable'
  const crashed = reason === 'CrashLoopBackOff' || reason === 'OOMKilled'
  const events = [
    {
      type: 'Warning',
      reason: reason === 'timed-out' ? 'Unhealthy' : reason === 'Unschedulable' ? 'FailedScheduling' : reason,
      message: reason === 'timed-out' ? message : `${reason}: ${message}`,
      count: 3,
      object: `Pod/${pod}`,
      age: '4s',
    },
  ]
  const memoryLimit = reason === 'OOMKilled' ? '512Mi' : undefined
  return {
    namespace,
    deployment: subject.deployment,
    pod,
    container: unschedulable ? undefined : subject.container,
    ...(unschedulable ? {} : {image: subject.image}),
    reason: reason === 'timed-out' ? 'ReadinessProbeFailing' : reason,
    message,
    restartCount: crashed ? 4 : 0,
    lastTerminated: crashed
      ? {exitCode: reason === 'OOMKilled' ? 137 : 1, reason: reason === 'OOMKilled' ? 'OOMKilled' : 'Error'}
      : undefined,
    memoryLimit,
    logs: crashed
      ? {source: 'previous', lines: ['Traceback (most recent call last):', 'KeyError: DATABASE_URL']}
      : undefined,
    events,
    fix: fixFor(reason === 'timed-out' ? 'ReadinessProbeFailing' : reason, message, {
      image: subject.image,
      container: subject.container,
      memoryLimit,
      events,
    }),
    commands: [
      `kubectl -n ${namespace} logs ${pod} -c ${subject.container}${crashed ? ' --previous' : ''}`,
      `kubectl -n ${namespace} describe pod ${pod}`,
    ],
  }
}

/**
 * Answers each wait from `script` (one entry per call, in order). Once the script is used up it plays
 * the kubelet: a pod whose image the cluster does not have (`missingImage`) fails with
 * ErrImageNeverPull, else the rollout succeeds.
 */
export class FakeRolloutWaiter implements RolloutWaiter {
  readonly script: ScriptedRollout[] = []
  readonly requests: Omit<TrackRequest, 'signal' | 'onProgress'>[] = []
  readonly sawAbort: string[] = []
  /** Runs as each wait starts (FakeCluster.kubeletFollowsHelm makes the pods match helm's revision here). */
  beforeWait: (() => void) | undefined
  /**
   * The container of the release whose image is not in the cluster (imagePullPolicy Never), asked once
   * the script is used up (FakeCluster.kubeletFollowsHelm looks in the cluster target's runtime images).
   */
  missingImage: (() => DiagnosedContainer | undefined) | undefined

  constructor(private readonly log: CallLog) {}

  /** Waits started and not yet ended: an up must leave none behind. */
  watching = 0
  /** Waits past helm's return, in the rollout itself (a scripted `hang` stays here until aborted). */
  judging = 0

  async wait(request: TrackRequest): Promise<RolloutOutcome> {
    this.watching++
    try {
      return await this.follow(request)
    } finally {
      this.watching--
    }
  }

  private async follow(request: TrackRequest): Promise<RolloutOutcome> {
    const {signal, onProgress, startAfter, ...recorded} = request
    this.requests.push(recorded)
    this.log.record('rollout.wait', recorded)
    // Started with helm: judged once helm returned; a failing helm (or an abort) ends the wait here.
    if (startAfter) {
      await untilSettled(startAfter, signal, this.sawAbort)
      this.log.record('rollout.judge')
    }
    this.beforeWait?.()
    const missing = this.script.length === 0 ? this.missingImage?.() : undefined
    const next: ScriptedRollout =
      this.script.shift() ??
      (missing ? {status: 'failed', reason: 'ErrImageNeverPull'} : {status: 'rolled-out'})
    const deployments = request.deployments ?? []
    this.judging++
    try {
      await work(next.status === 'hang' ? 60 * 60 * 1000 : 0, signal, 'rollout wait', this.sawAbort)
    } finally {
      this.judging--
    }
    for (const name of deployments) {
      onProgress?.({
        deployment: name,
        desired: 1,
        ready: 1,
        updated: 1,
        available: 1,
        rolledOut: next.status === 'rolled-out',
        state: 'Running, ready',
      })
    }
    switch (next.status) {
      case 'failed':
        return {
          status: 'failed',
          reason: next.reason,
          diagnosis: diagnosisFor(next.reason, request.namespace, missing),
        }
      case 'timed-out':
        return {status: 'timed-out', diagnosis: diagnosisFor('timed-out', request.namespace)}
      default:
        return {
          status: 'rolled-out',
          deployments: deployments.map((name) => ({name, replicas: 1, revision: '1', images: []})),
        }
    }
  }
}

/** Resolves when `applied` does; rejects with its error, or as an interrupted wait when the signal aborts. */
function untilSettled(
  applied: Promise<unknown>,
  signal: AbortSignal | undefined,
  sawAbort: string[],
): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      sawAbort.push('rollout watch')
      reject(new InterruptedError('rollout watch interrupted'))
    }
    if (signal?.aborted) {
      onAbort()
      return
    }
    signal?.addEventListener('abort', onAbort, {once: true})
    applied.then(
      () => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      },
      (error: unknown) => {
        signal?.removeEventListener('abort', onAbort)
        reject(error as Error)
      },
    )
  })
}
