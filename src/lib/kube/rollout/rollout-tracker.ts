import {
  AppsV1Api,
  CoreV1Api,
  Watch,
  type CoreV1Event,
  type KubeConfig,
  type KubernetesObject,
  type V1Deployment,
  type V1Pod,
  type V1ReplicaSet,
} from '@kubernetes/client-node'

import {boundedApiClient} from '../kube-http.js'
import {InterruptedError, PrerequisiteError} from '../../errors.js'
import {buildDiagnosis, type Diagnosis} from './diagnosis.js'
import {KubePodLogSource, crashLogs, type PodLogSource} from './pod-logs.js'
import {containersOf, explainPod, podFailure, podReady, type PodFailure} from './pod-state.js'
import {DEFAULT_RETRY, ResourceMirror, describeFailure, type RetryPolicy} from './resource-mirror.js'
import {deploymentStatus, newReplicaSet, podsOf, revisionOf, type DeploymentStatus} from './rollout-status.js'

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
}

/** Where one deployment's rollout stands, sent each time it changes. */
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

export type RolloutOutcome =
  | {status: 'rolled-out'; deployments: DeploymentRollout[]}
  | {status: 'failed'; reason: string; diagnosis: Diagnosis}
  | {status: 'timed-out'; diagnosis: Diagnosis}

const DEFAULT_CRASH_LOOP_RESTARTS = 3
const DEFAULT_LOG_LINES = 20

interface Mirrors {
  deployments: ResourceMirror<V1Deployment>
  replicaSets: ResourceMirror<V1ReplicaSet>
  pods: ResourceMirror<V1Pod>
  events: ResourceMirror<CoreV1Event>
}

interface Verdict {
  deployment: string
  pod?: V1Pod
  container?: string
  reason: string
  message: string
  replicaSet?: string
}

/**
 * Waits for a release's Deployments to roll out, by watching (not polling) Deployments, ReplicaSets, Pods and
 * Events. Ends at once on a known-fatal pod or deployment state, with a diagnosis of the failing container.
 */
export class RolloutTracker {
  private readonly retry: RetryPolicy
  private readonly logs: PodLogSource

  constructor(
    private readonly kc: KubeConfig,
    private readonly options: RolloutTrackerOptions = {},
  ) {
    this.retry = {...DEFAULT_RETRY, ...options.retry}
    this.logs = options.logs ?? new KubePodLogSource(boundedApiClient(kc, CoreV1Api))
  }

  track(request: TrackRequest): Promise<RolloutOutcome> {
    return new Promise<RolloutOutcome>((resolve, reject) => {
      let settled = false
      // Set once the outcome is known, while the diagnosis is being gathered: no more evaluation.
      let decided = false
      const {namespace, labelSelector} = request
      const crashLoopRestarts = request.crashLoopRestarts ?? DEFAULT_CRASH_LOOP_RESTARTS
      const lastProgress = new Map<string, string>()

      const finish = (result: {outcome?: RolloutOutcome; error?: unknown}): void => {
        if (settled) return
        settled = true
        decided = true
        clearTimeout(timer)
        request.signal?.removeEventListener('abort', onAbort)
        for (const mirror of Object.values(mirrors)) mirror.stop()
        if (result.error === undefined) resolve(result.outcome!)
        else reject(result.error)
      }
      const conclude = (verdict: Verdict, status: 'failed' | 'timed-out'): void => {
        if (decided) return
        decided = true
        void this.diagnose(namespace, verdict, mirrors).then(
          (diagnosis) => {
            finish({
              outcome:
                status === 'failed'
                  ? {status, reason: verdict.reason, diagnosis}
                  : {status: 'timed-out', diagnosis},
            })
          },
          (error: unknown) => finish({error}),
        )
      }

      const evaluate = (): void => {
        // Decide only on a complete picture: a pod's failure is diagnosed with its events.
        if (decided || !Object.values(mirrors).every((m) => m.synced)) return
        const names = request.deployments ?? [...mirrors.deployments.items.keys()].sort()
        const rolledOut: DeploymentRollout[] = []
        for (const name of names) {
          const deployment = mirrors.deployments.items.get(name)
          if (deployment === undefined) {
            this.report(request, lastProgress, waitingForDeployment(name))
            continue
          }
          const status = deploymentStatus(deployment)
          const rs = status.observed
            ? newReplicaSet(deployment, mirrors.replicaSets.items.values())
            : undefined
          const pods = rs === undefined ? [] : newestFirst(podsOf(rs, mirrors.pods.items.values()))
          this.report(request, lastProgress, progressOf(status, pods))
          if (status.deadlineExceeded !== undefined) {
            const pod = pods.find((p) => !podReady(p))
            conclude(
              {
                deployment: name,
                pod,
                container: pod && firstUnreadyContainer(pod),
                reason: 'ProgressDeadlineExceeded',
                message: status.deadlineExceeded,
                replicaSet: rs?.metadata?.name,
              },
              'failed',
            )
            return
          }
          for (const pod of pods) {
            const failure: PodFailure | undefined = podFailure(pod, crashLoopRestarts)
            if (failure !== undefined) {
              conclude({deployment: name, pod, ...failure, replicaSet: rs?.metadata?.name}, 'failed')
              return
            }
          }
          if (status.rolledOut) rolledOut.push(rolloutOf(deployment))
        }
        if (names.length > 0 && rolledOut.length === names.length)
          finish({outcome: {status: 'rolled-out', deployments: rolledOut}})
      }

      const giveUp = (resource: string) => (error: unknown, attempts: number, elapsedMs: number) => {
        const server = this.kc.getCurrentCluster()?.server ?? 'the configured server'
        finish({
          error: new PrerequisiteError(
            `Lost the Kubernetes API server at ${server}: ${attempts} attempts to list/watch ${resource} in namespace ${namespace} failed over ${Math.round(elapsedMs / 1000)} s (last error: ${describeFailure(error)})`,
            {
              where: server,
              fix: 'Check that the cluster is running (`minikube status`) and that the kube context points at it (`kubectl cluster-info`), then run the command again.',
              cause: error,
            },
          ),
        })
      }

      const mirrors = this.mirrors(namespace, labelSelector, evaluate, giveUp)
      const timer = setTimeout(
        () => conclude(this.stuckVerdict(request, mirrors), 'timed-out'),
        request.timeoutMs,
      )
      const onAbort = (): void =>
        finish({error: new InterruptedError('interrupted while waiting for the rollout')})
      if (request.signal?.aborted) {
        onAbort()
        return
      }
      request.signal?.addEventListener('abort', onAbort, {once: true})
      for (const mirror of Object.values(mirrors)) mirror.start()
    })
  }

  private mirrors(
    namespace: string,
    labelSelector: string,
    onChange: () => void,
    giveUp: (resource: string) => (error: unknown, attempts: number, elapsedMs: number) => void,
  ): Mirrors {
    const apps = boundedApiClient(this.kc, AppsV1Api)
    const core = boundedApiClient(this.kc, CoreV1Api)
    const watch = new Watch(this.kc)
    const mirror = <T extends KubernetesObject>(
      resource: string,
      path: string,
      list: () => Promise<{items: T[]; metadata?: {resourceVersion?: string}}>,
      selector: string | undefined,
    ): ResourceMirror<T> =>
      new ResourceMirror<T>({
        resource,
        path,
        labelSelector: selector,
        list,
        watch,
        retry: this.retry,
        onChange,
        onGiveUp: giveUp(resource),
      })
    return {
      deployments: mirror(
        'deployments',
        `/apis/apps/v1/namespaces/${namespace}/deployments`,
        () => apps.listNamespacedDeployment({namespace, labelSelector}),
        labelSelector,
      ),
      replicaSets: mirror(
        'replicasets',
        `/apis/apps/v1/namespaces/${namespace}/replicasets`,
        () => apps.listNamespacedReplicaSet({namespace, labelSelector}),
        labelSelector,
      ),
      pods: mirror(
        'pods',
        `/api/v1/namespaces/${namespace}/pods`,
        () => core.listNamespacedPod({namespace, labelSelector}),
        labelSelector,
      ),
      // Events carry no labels: watch the namespace's and keep those about the release's objects.
      events: mirror(
        'events',
        `/api/v1/namespaces/${namespace}/events`,
        () => core.listNamespacedEvent({namespace}),
        undefined,
      ),
    }
  }

  private report(request: TrackRequest, last: Map<string, string>, progress: RolloutProgress): void {
    const key = JSON.stringify(progress)
    if (last.get(progress.deployment) === key) return
    last.set(progress.deployment, key)
    request.onProgress?.(progress)
  }

  /** At the timeout: the first deployment not rolled out, and its least healthy new pod. */
  private stuckVerdict(request: TrackRequest, mirrors: Mirrors): Verdict {
    const names = request.deployments ?? [...mirrors.deployments.items.keys()].sort()
    for (const name of names) {
      const deployment = mirrors.deployments.items.get(name)
      if (deployment === undefined) {
        return {
          deployment: name,
          reason: 'NotFound',
          message: `deployment ${name} did not appear in namespace ${request.namespace}`,
        }
      }
      const status = deploymentStatus(deployment)
      if (status.rolledOut) continue
      const rs = newReplicaSet(deployment, mirrors.replicaSets.items.values())
      const pod = rs && newestFirst(podsOf(rs, mirrors.pods.items.values())).find((p) => !podReady(p))
      const unhealthy = pod && latestEvent(mirrors.events.items.values(), pod, 'Unhealthy')
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
          `timed out after ${Math.round(request.timeoutMs / 1000)} s: ${status.waitingFor ?? 'not rolled out'}`,
        replicaSet: rs?.metadata?.name,
      }
    }
    return {
      deployment: names[0] ?? '',
      reason: 'NotFound',
      message: `no deployment matches ${request.labelSelector} in namespace ${request.namespace}`,
    }
  }

  /** The events watch can lag the pods watch: read them afresh, falling back to the mirror. */
  private async recentEvents(namespace: string, mirrors: Mirrors): Promise<CoreV1Event[]> {
    const events = new Map(
      [...mirrors.events.items.values()].map((e) => [e.metadata.uid ?? e.metadata.name, e]),
    )
    try {
      const listed = await boundedApiClient(this.kc, CoreV1Api).listNamespacedEvent({namespace})
      for (const event of listed.items) events.set(event.metadata.uid ?? event.metadata.name, event)
    } catch {
      // The mirror's copy is still a good diagnosis.
    }
    return [...events.values()]
  }

  private async diagnose(namespace: string, verdict: Verdict, mirrors: Mirrors): Promise<Diagnosis> {
    const {pod, container} = verdict
    let logs
    if (pod?.metadata?.name !== undefined && container !== undefined && verdict.reason !== 'Unschedulable') {
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
      deployment: verdict.deployment,
      pod,
      container,
      reason: verdict.reason,
      message: verdict.message,
      events: await this.recentEvents(namespace, mirrors),
      replicaSets: verdict.replicaSet === undefined ? [] : [verdict.replicaSet],
      logs,
      now: (this.options.now ?? (() => new Date()))(),
    })
  }
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

function newestFirst(pods: V1Pod[]): V1Pod[] {
  const created = (pod: V1Pod): number => new Date(pod.metadata?.creationTimestamp ?? 0).getTime()
  return [...pods].sort((a, b) => created(b) - created(a))
}

function firstUnreadyContainer(pod: V1Pod): string | undefined {
  const containers = containersOf(pod).filter((c) => !c.init)
  return (containers.find((c) => c.status?.ready !== true) ?? containers[0])?.name
}

function latestEvent(events: Iterable<CoreV1Event>, pod: V1Pod, reason: string): CoreV1Event | undefined {
  return [...events].filter((e) => e.involvedObject.name === pod.metadata?.name && e.reason === reason).at(-1)
}
