import type {V1Deployment, V1Pod, V1Service} from '@kubernetes/client-node'

import type {ResolvedConfig} from '../config/load.js'
import {SERVICE_NAMES} from '../config/schema.js'
import {PrerequisiteError} from '../errors.js'
import type {ReleaseInfo, ReleaseRevision} from '../helm/helm-client.js'
import {parseChartRef} from '../helm/release-state.js'
import type {LifecycleRecord} from '../kube/state-record.js'
import {crashLogs} from '../kube/rollout/pod-logs.js'
import {containersOf, explainPod, podFailure, podReady} from '../kube/rollout/pod-state.js'
import {deploymentStatus} from '../kube/rollout/rollout-status.js'
import type {WorkloadSnapshot} from '../kube/workload-source.js'
import type {LifecycleState} from './operation.js'
import {describeAbandoned, reportOperation, type ReportedOperation} from './operation-liveness.js'
import {releaseSelector} from '../kube/kube-client.js'
import type {Connection} from './ports.js'

/** `status --json`: a stable, documented shape (README "status --json"). */
export interface StatusReport {
  release: ReleaseSummary | null
  /** Lifecycle state (docs/lifecycle.md) derived from the live objects and the last recorded operation; `NotDeployed` when nothing is. */
  state: LifecycleState | 'NotDeployed'
  /** Why the state is what it is, in words. */
  stateReason: string
  /** `result` is `abandoned` when the record says running but its lock expired or is gone (the process died). */
  lastOperation: ReportedOperation | null
  deployments: DeploymentReport[]
  pods: PodReport[]
  services: ServiceReport[]
  /** The release's Ingresses and the address their controller gave them (null: none yet, nothing serves them). */
  ingresses: IngressReport[]
}

export interface IngressReport {
  name: string
  className: string | null
  hosts: string[]
  address: string | null
}

export interface ReleaseSummary {
  name: string
  namespace: string
  revision: number
  status: string
  chart: string
  chartVersion: string
  appVersion: string
  deployedAt: string | null
  description: string
}

export interface DeploymentReport {
  name: string
  desired: number
  updated: number
  ready: number
  available: number
  images: string[]
  /** The image tags (content tags) the pods run. */
  tags: string[]
  /** `rolled out`, or what the rollout waits for, or the progress deadline message. */
  condition: string
  rolledOut: boolean
  /** `dev` live sync: files synced into the pods since the image they run (`since`), the last `at`. */
  live?: {files: number; since: string; at: string}
}

export interface PodReport {
  name: string
  deployment: string | null
  phase: string
  ready: string
  restarts: number
  ageSeconds: number
  /** The pod's state in words: "CrashLoopBackOff: exited 1 3 times, last log line: ...". */
  explanation: string
  failing: boolean
}

export interface ServiceReport {
  name: string
  type: string
  port: number
  targetPort: string
  nodePort: number | null
  url: string | null
}

const LOG_LINES = 5

/**
 * The lifecycle record, or null when there is none or it cannot be used (a corrupt record must not hide
 * the release). An unreachable cluster is not swallowed: `status` exits 3 with our own message.
 */
async function readRecord(
  connection: Connection,
  namespace: string,
  release: string,
): Promise<LifecycleRecord | null> {
  try {
    return await connection.state.read(namespace, release)
  } catch (error) {
    if (error instanceof PrerequisiteError) throw error
    return null
  }
}

/** The last operation, told live or abandoned by its lock. */
async function readOperation(
  connection: Connection,
  config: ResolvedConfig['config'],
  now: (() => Date) | undefined,
): Promise<RecordedOperation> {
  const record = await readRecord(connection, config.namespace, config.release)
  const operation = await reportOperation(
    connection,
    config.namespace,
    config.release,
    record?.operation ?? null,
    (now ?? (() => new Date()))(),
  )
  return {operation, live: record?.live}
}

/** What the lifecycle record adds to the live objects: the last operation and what `dev` synced. */
interface RecordedOperation {
  operation: ReportedOperation | null
  live: LifecycleRecord['live']
}

/** Reads the release, its objects and its lifecycle record: what `status` shows. */
export async function readStatus(
  resolved: ResolvedConfig,
  connection: Connection,
  options: {now?: () => Date; withUrls?: boolean} = {},
): Promise<StatusReport> {
  const {config} = resolved
  // Every read at once: the objects are read before it is known whether a release exists (then unused).
  const [release, history, operation, snapshot] = await Promise.all([
    connection.helm.status(config.release, config.namespace),
    connection.helm.history(config.release, config.namespace),
    readOperation(connection, config, options.now),
    connection.workloads.snapshot(config.namespace, releaseSelector(config.release)),
  ])
  const revision = history.find((entry) => entry.revision === release?.revision)
  return buildStatus(
    resolved,
    connection,
    release,
    revision ?? null,
    operation.operation,
    release ? snapshot : emptySnapshot(),
    {...options, live: operation.live},
  )
}

export async function buildStatus(
  resolved: ResolvedConfig,
  connection: Connection,
  release: ReleaseInfo | null,
  revision: ReleaseRevision | null,
  lastOperation: ReportedOperation | null,
  snapshot: WorkloadSnapshot,
  options: {now?: () => Date; withUrls?: boolean; live?: LifecycleRecord['live']} = {},
): Promise<StatusReport> {
  const now = (options.now ?? (() => new Date()))()
  const {config} = resolved
  const deployments = snapshot.deployments
    .map((deployment) => withLive(describeDeployment(deployment), resolved, options.live))
    .sort(byName)
  const sortedServices = [...snapshot.services].sort((a, b) =>
    byName({name: a.metadata?.name ?? ''}, {name: b.metadata?.name ?? ''}),
  )
  const [pods, services, ingresses] = await Promise.all([
    Promise.all(
      snapshot.pods.map((pod) =>
        describePod(pod, connection, config.namespace, config.rollout.crashLoopRestarts, now),
      ),
    ),
    Promise.all(
      sortedServices.map((service) =>
        describeService(service, resolved, connection, options.withUrls ?? true),
      ),
    ),
    release ? connection.api.listIngresses(config.namespace, releaseSelector(config.release)) : [],
  ])
  pods.sort(byName)
  const {state, reason} = deriveState(release, lastOperation, deployments, pods)
  return {
    release: release ? summarise(release, revision) : null,
    state,
    stateReason: reason,
    lastOperation,
    deployments,
    pods,
    services,
    ingresses: ingresses
      .map(({name, className, hosts, addresses}) => ({name, className, hosts, address: addresses[0] ?? null}))
      .sort(byName),
  }
}

function emptySnapshot(): WorkloadSnapshot {
  return {deployments: [], pods: [], services: []}
}

function byName(a: {name: string}, b: {name: string}): number {
  return a.name.localeCompare(b.name)
}

function summarise(release: ReleaseInfo, revision: ReleaseRevision | null): ReleaseSummary {
  const chartRef = revision?.chart ?? ''
  const chart = parseChartRef(chartRef)
  return {
    name: release.name,
    namespace: release.namespace,
    revision: release.revision,
    status: release.status,
    chart: chart?.name ?? chartRef,
    chartVersion: chart?.version ?? '',
    appVersion: revision?.appVersion ?? '',
    deployedAt: release.lastDeployed?.toISOString() ?? null,
    description: release.description,
  }
}

/**
 * The files `dev` synced into a Deployment's pods, while they still run the image the sync was ahead
 * of (an `up` since deployed another image: nothing synced is left).
 */
function withLive(
  report: DeploymentReport,
  resolved: ResolvedConfig,
  live: LifecycleRecord['live'],
): DeploymentReport {
  const service = SERVICE_NAMES.find((name) => resolved.config.services[name].deployment === report.name)
  const synced = service === undefined ? undefined : live?.[service]
  if (synced === undefined || synced.files === 0) return report
  const runs = report.images.some((image) => image === synced.image || image.endsWith(`/${synced.image}`))
  return runs ? {...report, live: {files: synced.files, since: synced.image, at: synced.at}} : report
}

function describeDeployment(deployment: V1Deployment): DeploymentReport {
  const status = deploymentStatus(deployment)
  const images = (deployment.spec?.template?.spec?.containers ?? []).map((container) => container.image ?? '')
  return {
    name: status.name,
    desired: status.desired,
    updated: status.updated,
    ready: status.ready,
    available: status.available,
    images,
    tags: images.map((image) => image.slice(image.lastIndexOf(':') + 1)),
    condition:
      status.deadlineExceeded ?? (status.rolledOut ? 'rolled out' : (status.waitingFor ?? 'progressing')),
    rolledOut: status.rolledOut,
  }
}

async function describePod(
  pod: V1Pod,
  connection: Connection,
  namespace: string,
  crashLoopRestarts: number,
  now: Date,
): Promise<PodReport> {
  const containers = containersOf(pod).filter((container) => !container.init)
  const restarts = containers.reduce((sum, container) => sum + (container.status?.restartCount ?? 0), 0)
  const failure = podFailure(pod, crashLoopRestarts)
  const crashed = containers.find(
    (container) => (container.status?.restartCount ?? 0) > 0 || container.status?.state?.terminated,
  )
  let logTail: string[] | undefined
  if (crashed && pod.metadata?.name) {
    const tail = await crashLogs(
      connection.logs,
      {namespace, pod: pod.metadata.name, container: crashed.name, lines: LOG_LINES},
      (crashed.status?.restartCount ?? 0) > 0,
    )
    logTail = tail.lines
  }
  const created = pod.metadata?.creationTimestamp ? new Date(pod.metadata.creationTimestamp) : now
  const readyCount = containers.filter((container) => container.status?.ready).length
  return {
    name: pod.metadata?.name ?? '',
    deployment: pod.metadata?.labels?.app ?? null,
    phase: pod.metadata?.deletionTimestamp ? 'Terminating' : (pod.status?.phase ?? 'Unknown'),
    ready: `${readyCount}/${containers.length}`,
    restarts,
    ageSeconds: Math.max(0, Math.round((now.getTime() - created.getTime()) / 1000)),
    explanation: explainPod(pod, {logTail}),
    failing: failure !== undefined || (restarts > 0 && !podReady(pod)),
  }
}

async function describeService(
  service: V1Service,
  resolved: ResolvedConfig,
  connection: Connection,
  withUrls: boolean,
): Promise<ServiceReport> {
  const port = service.spec?.ports?.[0]
  const name = service.metadata?.name ?? ''
  const frontend = resolved.config.services.frontend
  let url: string | null = null
  if (withUrls && name === frontend.service.name && frontend.enabled) {
    url = await connection.cluster
      .frontendUrl({
        service: name,
        namespace: resolved.config.namespace,
        nodePort: port?.nodePort,
        ingressHost: resolved.config.ingress.enabled ? resolved.config.ingress.host : undefined,
      })
      .catch(() => null)
  }
  return {
    name,
    type: service.spec?.type ?? 'ClusterIP',
    port: port?.port ?? 0,
    targetPort: String(port?.targetPort ?? ''),
    nodePort: port?.nodePort ?? null,
    url,
  }
}

/**
 * The lifecycle state from what runs and what was last recorded: an operation still running names its
 * phase; otherwise the live objects decide (Failed, Starting/Updating, Running), and Healthy only when the
 * last operation verified health and everything is still rolled out.
 */
export function deriveState(
  release: ReleaseInfo | null,
  lastOperation: ReportedOperation | null,
  deployments: DeploymentReport[],
  pods: PodReport[],
): {state: StatusReport['state']; reason: string} {
  const derived = deriveFromObjects(release, lastOperation, deployments, pods)
  // The objects still tell the state; the reason says first that the last operation died half-way.
  if (lastOperation?.result === 'abandoned') return {...derived, reason: describeAbandoned(lastOperation)}
  return derived
}

function deriveFromObjects(
  release: ReleaseInfo | null,
  lastOperation: ReportedOperation | null,
  deployments: DeploymentReport[],
  pods: PodReport[],
): {state: StatusReport['state']; reason: string} {
  if (!release) return {state: 'NotDeployed', reason: 'no Helm release'}
  if (lastOperation?.result === 'running') {
    return {
      state: (lastOperation.state as LifecycleState | undefined) ?? 'Deploying',
      reason: `\`todo-deploy ${lastOperation.command}\` is running`,
    }
  }
  if (release.status.startsWith('pending-'))
    return {state: 'Deploying', reason: `the release is ${release.status}`}
  if (release.status === 'failed' && release.revision === 1) {
    // Only a first install kept with --no-rollback stays like this: there is nothing to roll back to.
    return {
      state: 'Failed',
      reason: `the first install (revision 1) failed: ${release.description}; nothing of it ever ran: fix the cause and run \`todo-deploy up\` (it installs again), or \`todo-deploy down\` to remove it`,
    }
  }
  if (release.status === 'failed')
    return {state: 'Failed', reason: `revision ${release.revision} failed: ${release.description}`}
  const failing = pods.find((pod) => pod.failing)
  if (failing) return {state: 'Failed', reason: `pod ${failing.name}: ${failing.explanation}`}
  const stuck = deployments.find((deployment) => !deployment.rolledOut)
  if (stuck)
    return {
      state: release.revision > 1 ? 'Updating' : 'Starting',
      reason: `${stuck.name}: ${stuck.condition}`,
    }
  if (deployments.length === 0) return {state: 'Deploying', reason: 'the release has no Deployments yet'}
  const verified =
    lastOperation?.result === 'succeeded' &&
    lastOperation.state === 'Healthy' &&
    lastOperation.revision === release.revision
  return verified
    ? {state: 'Healthy', reason: 'every pod is ready and the last health check passed'}
    : {state: 'Running', reason: 'every pod is ready'}
}

/**
 * `status --watch`: the release's objects followed by watch; every change the watch reports (its first
 * call is the initial state) yields a fresh report, so nothing polls. The Helm release and the lifecycle
 * record are re-read with a change at most once a second. Ends when the signal aborts (InterruptedError);
 * a report that cannot be built ends the watch with that error.
 */
export async function watchStatus(
  resolved: ResolvedConfig,
  connection: Connection,
  signal: AbortSignal,
  onReport: (report: StatusReport) => void,
  options: {now?: () => Date} = {},
): Promise<void> {
  const {config} = resolved
  const readRelease = () =>
    Promise.all([
      connection.helm.status(config.release, config.namespace),
      connection.helm.history(config.release, config.namespace),
      readOperation(connection, config, options.now),
    ])
  let [release, history, recorded] = await readRelease()
  let releaseReadAt = Date.now()
  // The URLs are found once (the cluster tool can take seconds), then reused.
  let urls: Map<string, string | null> | undefined
  let failure: unknown
  const stop = new AbortController()
  let pending = Promise.resolve()
  try {
    await connection.workloads.watch(
      config.namespace,
      releaseSelector(config.release),
      (snapshot) => {
        pending = pending
          .then(async () => {
            if (failure !== undefined || signal.aborted) return
            if (urls && Date.now() - releaseReadAt > 1000) {
              releaseReadAt = Date.now()
              ;[release, history, recorded] = await readRelease()
            }
            const revision = history.find((entry) => entry.revision === release?.revision) ?? null
            const report = await buildStatus(
              resolved,
              connection,
              release,
              revision,
              recorded.operation,
              snapshot,
              {
                ...options,
                live: recorded.live,
                withUrls: urls === undefined,
              },
            )
            if (urls) for (const service of report.services) service.url = urls.get(service.name) ?? null
            else urls = new Map(report.services.map((service) => [service.name, service.url]))
            onReport(report)
          })
          .catch((error: unknown) => {
            failure = error
            stop.abort()
          })
      },
      AbortSignal.any([signal, stop.signal]),
    )
  } catch (error) {
    if (failure === undefined) throw error
  } finally {
    await pending
  }
  if (failure !== undefined) throw failure
}
