import type {CoreV1Event} from '@kubernetes/client-node'

import type {KubeConnection} from '../kube-connection.js'
import {WatchFeed, watchable} from '../watch-feed.js'
import {buildDiagnosis, type Diagnosis} from './diagnosis.js'
import {KubePodLogSource, crashLogs, type PodLogSource} from './pod-logs.js'
import {containersOf} from './pod-state.js'
import {DEFAULT_RETRY, type RetryPolicy} from './resource-mirror.js'
import {
  rolloutVerdict,
  stalledRollout,
  type DeploymentRollout,
  type RolloutFailure,
  type RolloutObjects,
  type RolloutProgress,
} from './rollout-verdict.js'

export type {DeploymentRollout, RolloutProgress} from './rollout-verdict.js'

export interface RolloutTrackerOptions {
  retry?: Partial<RetryPolicy>
  /** Lines of log kept in a diagnosis. */
  logLines?: number
  /** The clock event ages are measured against. */
  now?: () => Date
  logs?: PodLogSource
}

export interface TrackRequest {
  namespace: string
  /** Selects the release's objects: app.kubernetes.io/instance=<release>. */
  labelSelector: string
  /** Deployment names expected; default: every deployment the selector matches. */
  deployments?: string[]
  timeoutMs: number
  /** Restarts tolerated before a crash loop counts as failed (a slow start can restart a few times). */
  crashLoopRestarts?: number
  signal?: AbortSignal
  onProgress?: (progress: RolloutProgress) => void
  /**
   * Watch from now, judge once this settles (the change that starts the rollout is applied: helm
   * returned), each Deployment at no older a generation than it had then. No event is missed, and the
   * spec from before is never taken for the rollout. The timeout runs from then; a rejection ends the
   * tracking with that error.
   */
  startAfter?: Promise<unknown>
  /** Images loaded after a pod met ErrImageNeverPull for them: that pod waits for the kubelet's next try. */
  loadedImages?: readonly string[]
}

export type RolloutOutcome =
  | {status: 'rolled-out'; deployments: DeploymentRollout[]}
  | {status: 'failed'; reason: string; diagnosis: Diagnosis}
  | {status: 'timed-out'; diagnosis: Diagnosis}

const DEFAULT_CRASH_LOOP_RESTARTS = 3
const DEFAULT_LOG_LINES = 20

type Ending =
  | {status: 'rolled-out'; deployments: DeploymentRollout[]}
  | {status: 'failed' | 'timed-out'; failure: RolloutFailure}

/**
 * Waits for a release's Deployments to roll out, by watching (not polling) Deployments, ReplicaSets, Pods and
 * Events. The verdict on each change is rolloutVerdict's, a pure function of those objects; a known-fatal pod
 * or deployment state ends the wait at once, with a diagnosis of the failing container.
 */
export class RolloutTracker {
  private readonly retry: RetryPolicy
  private readonly logs: PodLogSource

  constructor(
    private readonly kube: KubeConnection,
    private readonly options: RolloutTrackerOptions = {},
  ) {
    this.retry = {...DEFAULT_RETRY, ...options.retry}
    this.logs = options.logs ?? new KubePodLogSource(kube.core)
  }

  track(request: TrackRequest): Promise<RolloutOutcome> {
    const {namespace, labelSelector} = request
    const appliedGenerations: Record<string, number> = {}
    const expectation = {
      deployments: request.deployments,
      crashLoopRestarts: request.crashLoopRestarts ?? DEFAULT_CRASH_LOOP_RESTARTS,
      appliedGenerations,
      loadedImages: request.loadedImages,
    }
    // Read afresh once the change is applied: the watch may deliver the new spec a moment later.
    const decideAfter = request.startAfter?.then(async () => {
      const {items} = await this.kube.apps.listNamespacedDeployment({namespace, labelSelector})
      for (const deployment of items)
        appliedGenerations[deployment.metadata?.name ?? ''] = deployment.metadata?.generation ?? 0
    })
    const lastProgress = new Map<string, string>()
    const feed = new WatchFeed<RolloutObjectsByName>(
      this.kube,
      namespace,
      {
        deployments: watchable.deployments(this.kube, namespace, labelSelector),
        replicaSets: watchable.replicaSets(this.kube, namespace, labelSelector),
        pods: watchable.pods(this.kube, namespace, labelSelector),
        // Events carry no labels: watch the namespace's and keep those about the release's objects.
        events: watchable.events(this.kube, namespace),
      },
      this.retry,
    )
    return feed.follow<Ending, RolloutOutcome>({
      decide: (objects) => {
        const verdict = rolloutVerdict(objects, expectation)
        for (const progress of verdict.progress) this.report(request, lastProgress, progress)
        if (verdict.status === 'progressing') return undefined
        return verdict.status === 'failed'
          ? {status: 'failed', failure: verdict.failure}
          : {status: 'rolled-out', deployments: verdict.deployments}
      },
      deadline: {
        ms: request.timeoutMs,
        verdict: (objects) => ({
          status: 'timed-out',
          failure: stalledRollout(objects, {
            ...expectation,
            namespace,
            labelSelector,
            timeoutMs: request.timeoutMs,
          }),
        }),
      },
      conclude: async (ending, objects) => {
        if (ending.status === 'rolled-out') return ending
        const diagnosis = await this.diagnose(namespace, ending.failure, objects)
        return ending.status === 'failed'
          ? {status: 'failed', reason: ending.failure.reason, diagnosis}
          : {status: 'timed-out', diagnosis}
      },
      signal: request.signal,
      interrupted: 'interrupted while waiting for the rollout',
      decideAfter,
    })
  }

  private report(request: TrackRequest, last: Map<string, string>, progress: RolloutProgress): void {
    const key = JSON.stringify(progress)
    if (last.get(progress.deployment) === key) return
    last.set(progress.deployment, key)
    request.onProgress?.(progress)
  }

  /** The events watch can lag the pods watch: read them afresh, falling back to the mirror's copy. */
  private async recentEvents(namespace: string, mirrored: CoreV1Event[]): Promise<CoreV1Event[]> {
    const events = new Map(mirrored.map((e) => [e.metadata.uid ?? e.metadata.name, e]))
    try {
      const listed = await this.kube.core.listNamespacedEvent({namespace})
      for (const event of listed.items) events.set(event.metadata.uid ?? event.metadata.name, event)
    } catch {
      // The mirror's copy is still a good diagnosis.
    }
    return [...events.values()]
  }

  private async diagnose(
    namespace: string,
    failure: RolloutFailure,
    objects: RolloutObjects,
  ): Promise<Diagnosis> {
    const {pod, container} = failure
    let logs
    if (pod?.metadata?.name !== undefined && container !== undefined && failure.reason !== 'Unschedulable') {
      const status = containersOf(pod).find((c) => c.name === container)?.status
      // A crashed container's story is in its previous instance; fall back to the current one if that is gone.
      const crashed = (status?.restartCount ?? 0) > 0 && status?.lastState?.terminated !== undefined
      const request = {
        namespace,
        pod: pod.metadata.name,
        container,
        lines: this.options.logLines ?? DEFAULT_LOG_LINES,
      }
      logs = await crashLogs(this.logs, request, crashed)
    }
    return buildDiagnosis({
      namespace,
      deployment: failure.deployment,
      pod,
      container,
      reason: failure.reason,
      message: failure.message,
      events: await this.recentEvents(namespace, objects.events),
      replicaSets: failure.replicaSet === undefined ? [] : [failure.replicaSet],
      logs,
      now: (this.options.now ?? (() => new Date()))(),
    })
  }
}

/** RolloutObjects as the feed's resource map (a type alias: interfaces have no index signature). */
type RolloutObjectsByName = {[K in keyof RolloutObjects]: RolloutObjects[K][number]}
