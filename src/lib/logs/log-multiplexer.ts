import type {V1Pod} from '@kubernetes/client-node'

import type {ServiceName} from '../config/schema.js'
import {InterruptedError} from '../errors.js'
import {containersOf, explainPod} from '../kube/rollout/pod-state.js'
import type {WorkloadSnapshot, WorkloadSource} from '../kube/workload-source.js'
import {LogCursor, timeKey} from './log-cursor.js'
import type {ContainerLogSource, LogStreamEnd, LogStreamRequest} from './log-source.js'

/** One line of an app's log, with where it came from. */
export interface LogLineEvent {
  type: 'line'
  service: ServiceName
  /** The full pod name. */
  pod: string
  container: string
  /** RFC3339 time the kubelet stamped the line with; null if it carried none. */
  time: string | null
  line: string
  /** From the previous (crashed) instance of the container (--previous). */
  previous: boolean
}

/**
 * Why there is nothing (more) to show for a pod or container:
 * - `waiting`: the container has not started or is not running (ContainerCreating, an image pull, CrashLoopBackOff...);
 * - `no-previous`: --previous, but the container never restarted;
 * - `previous-gone`: --previous, but the kubelet has no log of that instance (removed, or it wrote nothing);
 * - `unreadable`: the API server did not give the log;
 * - `gave-up`: a followed stream kept ending while its container runs, and reopening it was given up;
 * - `no-pods`: following, and no pod of the chosen services exists yet.
 */
export type LogNoticeReason =
  'waiting' | 'no-previous' | 'previous-gone' | 'unreadable' | 'gave-up' | 'no-pods'

export interface LogNoticeEvent {
  type: 'notice'
  reason: LogNoticeReason
  service: ServiceName | null
  pod: string | null
  container: string | null
  message: string
}

export type LogEvent = LogLineEvent | LogNoticeEvent

/** The release's pods (by watch when following) and their containers' logs. */
export interface LogPorts {
  workloads: Pick<WorkloadSource, 'snapshot' | 'watch'>
  logStreams: ContainerLogSource
}

export interface ReopenPolicy {
  /** Reopens in a row that bring no new line before following the container is given up. */
  attempts: number
  initialDelayMs: number
  maxDelayMs: number
}

export const DEFAULT_REOPEN: ReopenPolicy = {attempts: 5, initialDelayMs: 500, maxDelayMs: 8000}

export interface LogMultiplexerOptions {
  namespace: string
  /** Selects the release's pods. */
  labelSelector: string
  /** The services to show and their Deployments (a pod's `app` label names its Deployment). */
  services: ReadonlyArray<{service: ServiceName; deployment: string}>
  follow: boolean
  previous: boolean
  /** Lines per container from before now: a count, or 'all'. 0 when following: only new lines. */
  tail: number | 'all'
  /** Only lines of the last N seconds (with `tail`, both limits apply). */
  sinceSeconds?: number
  /** Only lines from this time on (for `dev`: the logs since an iteration started). */
  sinceTime?: Date
  reopen?: ReopenPolicy
  now?: () => Date
}

export interface LogRunSummary {
  /** Pods of the chosen services seen (in the snapshot, or over the whole follow). */
  pods: number
  lines: number
}

interface Tracked {
  service: ServiceName
  pod: string
  container: string
  cursor: LogCursor
  /** The container instance (containerID) streamed last, or being streamed. */
  instance?: string
  stream?: AbortController
  streamDone?: Promise<void>
  retry?: NodeJS.Timeout
  /** Reopens in a row that brought nothing new. */
  attempts: number
  lastNotice?: string
}

/**
 * Merges the logs of every container of the release's pods into one stream of typed events; the caller
 * decides how to show them (the `logs` command prints them, `dev` can print them between its own lines).
 *
 * Without `follow`: one read of the pods, each container's log read once, all lines ordered by time.
 * With `follow`: the pods are followed by watch; a container is streamed as soon as it has started, a
 * restarted container's new instance and every new pod of a rollout are picked up, and a stream that
 * ends while its container still runs is reopened from where it stopped (bounded, with backoff).
 */
export class LogMultiplexer {
  readonly #ports: LogPorts
  readonly #options: LogMultiplexerOptions
  readonly #reopen: ReopenPolicy
  readonly #now: () => Date
  readonly #deployments: Map<string, ServiceName>

  constructor(ports: LogPorts, options: LogMultiplexerOptions) {
    this.#ports = ports
    this.#options = options
    this.#reopen = options.reopen ?? DEFAULT_REOPEN
    this.#now = options.now ?? (() => new Date())
    this.#deployments = new Map(options.services.map(({service, deployment}) => [deployment, service]))
  }

  /** Runs until everything was read (not following) or the signal aborts (following): never throws on abort. */
  async run(
    onEvent: (event: LogEvent) => void,
    signal: AbortSignal = new AbortController().signal,
  ): Promise<LogRunSummary> {
    return this.#options.follow ? this.#follow(onEvent, signal) : this.#readOnce(onEvent, signal)
  }

  /** The pods of the chosen services, by service order then age. */
  #podsOf(snapshot: WorkloadSnapshot): Array<{service: ServiceName; pod: V1Pod}> {
    const order = this.#options.services.map(({service}) => service)
    return snapshot.pods
      .flatMap((pod) => {
        const service = this.#deployments.get(pod.metadata?.labels?.app ?? '')
        return service === undefined || !pod.metadata?.name ? [] : [{service, pod}]
      })
      .sort(
        (a, b) =>
          order.indexOf(a.service) - order.indexOf(b.service) ||
          String(a.pod.metadata?.creationTimestamp ?? '').localeCompare(
            String(b.pod.metadata?.creationTimestamp ?? ''),
          ) ||
          (a.pod.metadata?.name ?? '').localeCompare(b.pod.metadata?.name ?? ''),
      )
  }

  /** The request limits of a first read: --tail and --since (0 lines when following means "from now"). */
  #limits(): Pick<LogStreamRequest, 'tailLines' | 'sinceSeconds' | 'sinceTime'> {
    const {tail, sinceSeconds, sinceTime, follow} = this.#options
    if (tail === 0 && follow) return {sinceTime: wholeSeconds(this.#now())}
    return {
      tailLines: tail === 'all' ? undefined : tail,
      ...(sinceTime === undefined ? {sinceSeconds} : {sinceTime: wholeSeconds(sinceTime)}),
    }
  }

  async #readOnce(onEvent: (event: LogEvent) => void, signal: AbortSignal): Promise<LogRunSummary> {
    const snapshot = await this.#ports.workloads.snapshot(
      this.#options.namespace,
      this.#options.labelSelector,
    )
    const pods = this.#podsOf(snapshot)
    const lines: LogLineEvent[] = []
    const notices: LogNoticeEvent[] = []
    const {previous, tail} = this.#options
    const reads = pods.flatMap(({service, pod}) =>
      containersOf(pod)
        .filter((container) => !container.init)
        .map(async ({name: container, status}) => {
          const podName = pod.metadata?.name ?? ''
          const notice = (reason: LogNoticeReason, message: string): void => {
            notices.push({type: 'notice', reason, service, pod: podName, container, message})
          }
          if (previous && !((status?.restartCount ?? 0) > 0 || status?.lastState?.terminated)) {
            notice('no-previous', 'no previous instance: the container has not restarted')
            return
          }
          if (!previous && !status?.containerID) {
            notice('waiting', `no logs yet: ${explainPod(pod)}`)
            return
          }
          if (!previous && status?.state?.running === undefined) notice('waiting', explainPod(pod))
          if (tail === 0) return
          const cursor = new LogCursor()
          let count = 0
          const end = await this.#ports.logStreams.stream(
            {
              namespace: this.#options.namespace,
              pod: podName,
              container,
              follow: false,
              previous,
              ...this.#limits(),
              signal,
            },
            (line) => {
              if (!cursor.accept(line)) return
              count++
              lines.push({
                type: 'line',
                service,
                pod: podName,
                container,
                time: line.time,
                line: line.text,
                previous,
              })
            },
          )
          const problem = describeEnd(end, previous, count, pod)
          if (problem) notice(problem.reason, problem.message)
        }),
    )
    await Promise.all(reads)
    if (signal.aborted) return {pods: pods.length, lines: 0}
    for (const line of sortByTime(lines)) onEvent(line)
    for (const notice of notices) onEvent(notice)
    return {pods: pods.length, lines: lines.length}
  }

  async #follow(onEvent: (event: LogEvent) => void, signal: AbortSignal): Promise<LogRunSummary> {
    const tracked = new Map<string, Tracked>()
    const podsSeen = new Set<string>()
    /** Container instances that existed when following began: only they get --tail/--since. */
    let initial: Set<string> | undefined
    let latest: WorkloadSnapshot = {deployments: [], pods: [], services: []}
    let lines = 0
    let noPodsSaid = false
    const stop = new AbortController()
    const stopping = AbortSignal.any([signal, stop.signal])

    const notice = (
      t: Pick<Tracked, 'service' | 'pod' | 'container'>,
      reason: LogNoticeReason,
      message: string,
    ): void =>
      onEvent({type: 'notice', reason, service: t.service, pod: t.pod, container: t.container, message})

    const podNamed = (name: string): V1Pod | undefined =>
      latest.pods.find((pod) => pod.metadata?.name === name)
    const statusOf = (t: Tracked) =>
      containersOf(podNamed(t.pod) ?? {}).find(
        (container) => container.name === t.container && !container.init,
      )?.status

    const open = (t: Tracked, instance: string): void => {
      const reopening = t.instance === instance
      t.instance = instance
      const limits =
        reopening && t.cursor.since !== undefined
          ? {sinceTime: t.cursor.since}
          : initial?.has(`${t.pod}/${t.container}@${instance}`)
            ? this.#limits()
            : {}
      t.cursor.resume()
      const controller = new AbortController()
      t.stream = controller
      const request: LogStreamRequest = {
        namespace: this.#options.namespace,
        pod: t.pod,
        container: t.container,
        follow: true,
        previous: false,
        ...limits,
        signal: AbortSignal.any([stopping, controller.signal]),
      }
      t.streamDone = this.#ports.logStreams
        .stream(request, (line) => {
          if (!t.cursor.accept(line)) return
          t.attempts = 0
          lines++
          onEvent({
            type: 'line',
            service: t.service,
            pod: t.pod,
            container: t.container,
            time: line.time,
            line: line.text,
            previous: false,
          })
        })
        .then((end) => {
          t.stream = undefined
          if (end.status !== 'aborted' && !stopping.aborted) afterEnd(t, end)
        })
    }

    const afterEnd = (t: Tracked, end: LogStreamEnd): void => {
      const pod = podNamed(t.pod)
      if (pod === undefined || tracked.get(key(t)) !== t) return
      const status = statusOf(t)
      if (status?.containerID && status.containerID !== t.instance) {
        reconcilePod(pod)
        return
      }
      // Stopped or waiting: the watch reports the next instance when there is one.
      if (status?.state?.running === undefined) return
      if (t.attempts >= this.#reopen.attempts) {
        const why = end.status === 'dropped' ? `: ${end.reason}` : ''
        notice(
          t,
          'gave-up',
          `stopped following: the log stream ended ${t.attempts} times in a row while the container runs${why}`,
        )
        return
      }
      const delay = Math.min(this.#reopen.initialDelayMs * 2 ** t.attempts, this.#reopen.maxDelayMs)
      t.attempts++
      t.retry = setTimeout(() => {
        t.retry = undefined
        const again = statusOf(t)
        if (!stopping.aborted && tracked.get(key(t)) === t && again?.containerID) open(t, again.containerID)
      }, delay)
    }

    const reconcilePod = (pod: V1Pod): void => {
      const service = this.#deployments.get(pod.metadata?.labels?.app ?? '')
      const name = pod.metadata?.name
      if (service === undefined || name === undefined) return
      podsSeen.add(name)
      for (const {name: container, status} of containersOf(pod).filter((c) => !c.init)) {
        const id = `${name}/${container}`
        let t = tracked.get(id)
        if (t === undefined) {
          t = {service, pod: name, container, cursor: new LogCursor(), attempts: 0}
          tracked.set(id, t)
        }
        const running = status?.state?.running !== undefined
        if (!running && !pod.metadata?.deletionTimestamp) {
          const message = status?.containerID ? explainPod(pod) : `no logs yet: ${explainPod(pod)}`
          if (message !== t.lastNotice) notice(t, 'waiting', message)
          t.lastNotice = message
        } else if (running) t.lastNotice = undefined
        const instance = status?.containerID
        if (instance && instance !== t.instance && t.stream === undefined && t.retry === undefined) {
          t.attempts = 0
          open(t, instance)
        }
      }
    }

    const forget = (t: Tracked): void => {
      clearTimeout(t.retry)
      t.stream?.abort()
      tracked.delete(key(t))
    }

    const reconcile = (snapshot: WorkloadSnapshot): void => {
      latest = snapshot
      const pods = this.#podsOf(snapshot)
      if (initial === undefined) {
        initial = new Set(
          pods.flatMap(({pod}) =>
            containersOf(pod)
              .filter((c) => c.status?.containerID)
              .map((c) => `${pod.metadata?.name}/${c.name}@${c.status?.containerID}`),
          ),
        )
      }
      const names = new Set(pods.map(({pod}) => pod.metadata?.name))
      for (const t of [...tracked.values()]) if (!names.has(t.pod)) forget(t)
      if (pods.length === 0 && !noPodsSaid) {
        noPodsSaid = true
        onEvent({
          type: 'notice',
          reason: 'no-pods',
          service: null,
          pod: null,
          container: null,
          message: `no pods of ${this.#options.services.map((s) => s.service).join(' or ')} yet: waiting for them`,
        })
      }
      if (pods.length > 0) noPodsSaid = false
      for (const {pod} of pods) reconcilePod(pod)
    }

    try {
      await this.#ports.workloads.watch(
        this.#options.namespace,
        this.#options.labelSelector,
        (snapshot) => {
          reconcile(snapshot)
        },
        stopping,
      )
    } catch (error) {
      if (!(error instanceof InterruptedError && signal.aborted)) {
        stop.abort()
        throw error
      }
    } finally {
      stop.abort()
      for (const t of tracked.values()) clearTimeout(t.retry)
      await Promise.all([...tracked.values()].map((t) => t.streamDone))
    }
    return {pods: podsSeen.size, lines}
  }
}

function key(t: Pick<Tracked, 'pod' | 'container'>): string {
  return `${t.pod}/${t.container}`
}

/** RFC3339 in UTC to the second, as the API's sinceTime parameter takes it. */
function wholeSeconds(date: Date): string {
  return new Date(Math.floor(date.getTime() / 1000) * 1000).toISOString().replace(/\.000Z$/, 'Z')
}

/** Lines of several containers in time order; a line without a time stays after the one before it. */
function sortByTime(lines: LogLineEvent[]): LogLineEvent[] {
  let previous = 0n
  const keyed = lines.map((line, index) => {
    const key = (line.time === null ? undefined : timeKey(line.time)) ?? previous
    previous = key
    return {line, key, index}
  })
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.index - b.index))
  return keyed.map(({line}) => line)
}

/** What a one-time read that brought nothing (or failed) means, in words; undefined when it went fine. */
function describeEnd(
  end: LogStreamEnd,
  previous: boolean,
  lines: number,
  pod: V1Pod,
): {reason: LogNoticeReason; message: string} | undefined {
  const gone = {
    reason: 'previous-gone' as const,
    message: 'no logs of the previous instance: it wrote nothing, or the kubelet has already removed them',
  }
  switch (end.status) {
    case 'gone':
      return previous
        ? gone
        : {reason: 'unreadable', message: 'the container is gone: the kubelet no longer has its logs'}
    case 'refused':
      if (previous && end.httpStatus === 400) return gone
      if (end.httpStatus === 404) return {reason: 'unreadable', message: 'the pod is gone'}
      return {reason: 'waiting', message: `no logs: ${explainPod(pod)}`}
    case 'dropped':
      return {reason: 'unreadable', message: `could not read the logs: ${end.reason}`}
    case 'ended':
      return previous && lines === 0 ? {...gone, message: 'the previous instance wrote nothing'} : undefined
    case 'aborted':
      return undefined
  }
}
