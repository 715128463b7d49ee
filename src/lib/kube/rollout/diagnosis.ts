import type {CoreV1Event, V1Pod} from '@kubernetes/client-node'
import {looksLikeRegistryHost} from '../../registry/registry-address.js'
import type {LogTail} from './pod-logs.js'

export interface DiagnosisEvent {
  type: string
  reason: string
  message: string
  count: number
  /** Kind/name of the object the event is about: "Pod/web-5d8f-x2". */
  object: string
  /** When it last happened (ISO), and how long before the diagnosis that was ("12s"). */
  lastSeen?: string
  age?: string
}

export interface Diagnosis {
  namespace: string
  deployment: string
  pod?: string
  container?: string
  /** The image the container runs, as the pod spec names it. */
  image?: string
  /** The Kubernetes reason: ErrImageNeverPull, CrashLoopBackOff, ProgressDeadlineExceeded, ... */
  reason: string
  message: string
  restartCount?: number
  lastTerminated?: {exitCode: number; reason?: string; finishedAt?: string}
  /** The container's memory limit from the pod spec, for OOMKilled. */
  memoryLimit?: string
  logs?: LogTail
  events: DiagnosisEvent[]
  /** An image from a registry that the nodes could not pull: where from, and why as far as the kubelet says. */
  pull?: PullFailure
  /** What to do about it, one sentence. */
  fix: string
  /** Ready-to-paste kubectl commands that show more. */
  commands: string[]
}

/** Why the kubelet could not pull an image from a registry, read from its own message. */
export interface PullFailure {
  /** The registry host (`registry.example.com`, `localhost:5000`). */
  registry: string
  /** The image reference the pod asks for. */
  image: string
  tag: string
  /** tag-not-found: never pushed or deleted; unauthorized: no or a refused pull Secret; unreachable: the nodes cannot connect. */
  cause: 'tag-not-found' | 'unauthorized' | 'unreachable' | 'unknown'
  /** The kubelet's words for the last failed pull (the `Failed` event, or the ErrImagePull state). */
  kubeletMessage: string
}

export interface DiagnosisInput {
  namespace: string
  deployment: string
  pod?: V1Pod
  container?: string
  reason: string
  message: string
  /** Events of the namespace; those about the pod, its ReplicaSet or the deployment are kept. */
  events: Iterable<CoreV1Event>
  /** Names of the ReplicaSets whose events matter (the deployment's new one). */
  replicaSets?: string[]
  logs?: LogTail
  now: Date
}

const MAX_EVENTS = 10

export function buildDiagnosis(input: DiagnosisInput): Diagnosis {
  const {pod, container, namespace} = input
  const podName = pod?.metadata?.name
  const status = [
    ...(pod?.status?.initContainerStatuses ?? []),
    ...(pod?.status?.containerStatuses ?? []),
  ].find((s) => s.name === container)
  const spec = [...(pod?.spec?.initContainers ?? []), ...(pod?.spec?.containers ?? [])].find(
    (c) => c.name === container,
  )
  const terminated = status?.state?.terminated ?? status?.lastState?.terminated
  const memoryLimit = input.reason === 'OOMKilled' ? spec?.resources?.limits?.memory : undefined
  const events = relevantEvents(input, podName)
  const commands: string[] = []
  if (podName !== undefined && container !== undefined && input.reason !== 'Unschedulable') {
    const previous = input.logs?.source === 'previous' ? ' --previous' : ''
    commands.push(`kubectl -n ${namespace} logs ${podName} -c ${container}${previous}`)
  }
  commands.push(
    podName === undefined
      ? `kubectl -n ${namespace} describe deployment ${input.deployment}`
      : `kubectl -n ${namespace} describe pod ${podName}`,
  )
  const pull = pullFailure(input.reason, input.message, spec?.image, events)
  return {
    namespace,
    deployment: input.deployment,
    pod: podName,
    container,
    ...(spec?.image ? {image: spec.image} : {}),
    reason: input.reason,
    message: input.message,
    restartCount: status?.restartCount,
    lastTerminated:
      terminated === undefined
        ? undefined
        : {
            exitCode: terminated.exitCode,
            reason: terminated.reason,
            finishedAt: isoTime(terminated.finishedAt),
          },
    memoryLimit,
    logs: input.logs,
    events,
    ...(pull ? {pull} : {}),
    fix: pull
      ? pullFix(
          pull,
          (pod?.spec?.imagePullSecrets ?? []).map((entry) => entry.name ?? ''),
        )
      : fixFor(input.reason, input.message, {image: spec?.image, container, memoryLimit, events}),
    commands,
  }
}

/**
 * For ErrImagePull / ImagePullBackOff of an image whose name starts with a registry host: that host,
 * the tag, and the cause the kubelet's message points at. Null for other reasons and for Docker Hub
 * names (`nginx:1.27`), whose pull failures keep the general fix.
 */
function pullFailure(
  reason: string,
  message: string,
  image: string | undefined,
  events: DiagnosisEvent[],
): PullFailure | undefined {
  if ((reason !== 'ErrImagePull' && reason !== 'ImagePullBackOff') || image === undefined) return undefined
  const slash = image.indexOf('/')
  const host = slash < 0 ? '' : image.slice(0, slash)
  if (!looksLikeRegistryHost(host)) return undefined
  const colon = image.lastIndexOf(':')
  const tag = colon > slash ? image.slice(colon + 1) : 'latest'
  // ImagePullBackOff's own message only says "Back-off pulling image": the last Failed event has the why.
  const failed = events
    .filter((e) => e.reason === 'Failed' && e.message.startsWith('Failed to pull image'))
    .at(-1)
  const kubeletMessage = reason === 'ErrImagePull' ? message : (failed?.message ?? message)
  return {registry: host, image, tag, cause: pullCause(kubeletMessage), kubeletMessage}
}

function pullCause(message: string): PullFailure['cause'] {
  if (
    /dial tcp|no such host|connection refused|i\/o timeout|network is unreachable|server gave HTTP response to HTTPS client|x509|tls: /i.test(
      message,
    )
  )
    return 'unreachable'
  if (
    /\b401\b|\b403\b|unauthorized|forbidden|no basic auth credentials|authorization failed|denied/i.test(
      message,
    )
  )
    return 'unauthorized'
  if (/not found|manifest unknown|code = NotFound/i.test(message)) return 'tag-not-found'
  return 'unknown'
}

function pullFix(pull: PullFailure, pullSecrets: string[]): string {
  const {registry, image, tag} = pull
  switch (pull.cause) {
    case 'tag-not-found':
      return `The registry ${registry} has no tag ${tag} for ${image}: it was never pushed there or was deleted; run \`todo-deploy up\` to push it (or roll back to a revision whose tag is still there).`
    case 'unauthorized':
      return pullSecrets.length === 0
        ? `The registry ${registry} wants a login and the pods name no pull Secret: set registry.pullSecret in todo-deploy.yaml and run \`todo-deploy up\` (it creates the Secret from your \`docker login ${registry}\`).`
        : `The registry ${registry} refused the login in the pull Secret ${pullSecrets.join(', ')}: run \`docker login ${registry}\` as a user who may pull, then \`todo-deploy up\` to renew the Secret.`
    case 'unreachable':
      return `The cluster's nodes cannot reach the registry ${registry}: it must be reachable at that address from the nodes, not only from this machine (localhost on a node is the node itself); use an address the nodes resolve, and for plain HTTP let the nodes' container runtime trust that registry.`
    case 'unknown':
      return `The nodes cannot pull ${image} from ${registry} (the kubelet's message is above): check that the tag was pushed (\`todo-deploy up\`), that the pull Secret holds a valid login, and that the nodes reach ${registry}.`
  }
}

function relevantEvents(input: DiagnosisInput, podName: string | undefined): DiagnosisEvent[] {
  const owners = new Set([input.deployment, ...(input.replicaSets ?? [])])
  return [...input.events]
    .filter((e) => {
      const name = e.involvedObject.name
      if (name !== undefined && name === podName) return true
      // The deployment's and ReplicaSet's own events are mostly scaling noise: keep only their warnings.
      return name !== undefined && owners.has(name) && e.type === 'Warning'
    })
    .map((e) => ({event: e, at: eventTime(e)}))
    .sort((a, b) => (a.at ?? 0) - (b.at ?? 0))
    .slice(-MAX_EVENTS)
    .map(({event, at}) => ({
      type: event.type ?? 'Normal',
      reason: event.reason ?? '',
      message: event.message ?? '',
      count: event.count ?? event.series?.count ?? 1,
      object: `${event.involvedObject.kind ?? ''}/${event.involvedObject.name ?? ''}`,
      lastSeen: at === undefined ? undefined : new Date(at).toISOString(),
      age: at === undefined ? undefined : formatAge(input.now.getTime() - at),
    }))
}

/** Watch objects carry times as strings, listed ones as Dates: accept both. */
function timeOf(value: Date | string | undefined | null): number | undefined {
  if (value === undefined || value === null) return undefined
  const ms = new Date(value).getTime()
  return Number.isNaN(ms) ? undefined : ms
}

function isoTime(value: Date | string | undefined): string | undefined {
  const ms = timeOf(value)
  return ms === undefined ? undefined : new Date(ms).toISOString()
}

function eventTime(event: CoreV1Event): number | undefined {
  return (
    timeOf(event.series?.lastObservedTime) ??
    timeOf(event.lastTimestamp) ??
    timeOf(event.eventTime) ??
    timeOf(event.firstTimestamp) ??
    timeOf(event.metadata.creationTimestamp)
  )
}

export function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000))
  if (seconds < 120) return `${seconds}s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 120) return `${minutes}m`
  return `${Math.floor(minutes / 60)}h`
}

interface FixContext {
  image?: string
  container?: string
  memoryLimit?: string
  events: DiagnosisEvent[]
}

/** One sentence telling the user what to do about a reason. */
export function fixFor(reason: string, message: string, context: FixContext): string {
  const image = context.image ?? 'the image'
  const readinessFailing = context.events.some(
    (e) => e.reason === 'Unhealthy' && e.message.includes('Readiness'),
  )
  const probeHint =
    'the readiness probe keeps failing (see the Unhealthy events): check that its path and port answer 200 in the app'
  switch (reason) {
    case 'ErrImageNeverPull':
      return `The image ${image} is not in the cluster (imagePullPolicy Never): run \`todo-deploy up\` without --no-build so the CLI builds and loads it, or \`minikube image load ${image}\`.`
    case 'ErrImagePull':
    case 'ImagePullBackOff':
      return `The cluster cannot pull ${image}: check the image name and tag, or build it locally and load it with \`minikube image load ${image}\` (imagePullPolicy Never).`
    case 'InvalidImageName':
      return `"${image}" is not a valid image reference (names and tags must be lowercase): fix the image name or tag in todo-deploy.yaml or the chart values.`
    case 'CreateContainerConfigError': {
      const key = /couldn't find key (\S+) in Secret (\S+)/.exec(message)
      if (key) {
        return `The Secret ${key[2]} has no key ${key[1]}: set it in the environment or .env, then run \`todo-deploy up\` again.`
      }
      const missing = /(secret|configmap) "([^"]+)" not found/i.exec(message)
      if (missing) {
        return `The ${missing[1]} ${missing[2]} does not exist: set the secrets in the environment or .env and run \`todo-deploy up\` again (it creates it).`
      }
      return `The container's configuration refers to something missing (${message}): check the Secret and ConfigMap it uses.`
    }
    case 'OOMKilled':
      return `The container ${context.container ?? ''} used more memory than its limit${context.memoryLimit ? ` (${context.memoryLimit})` : ''}: raise resources.limits.memory for it in the chart values, or make the app use less.`
    case 'Unschedulable':
      return 'No node can run the pod: lower resources.requests in the chart values, or give the cluster more (`minikube start --cpus 4 --memory 8g`).'
    case 'CrashLoopBackOff':
      return 'The container keeps exiting: its last log lines above say why; fix the cause (often a missing setting or secret) and run `todo-deploy up` again.'
    case 'ProgressDeadlineExceeded':
      return readinessFailing
        ? `The rollout made no progress before its deadline: ${probeHint}.`
        : 'The rollout made no progress before its deadline: see the pod state and events above.'
    default:
      return readinessFailing
        ? `The pods did not become ready in time: ${probeHint}.`
        : 'The pods did not become ready in time: see the pod state and events above, or raise --timeout if the app needs longer to start.'
  }
}

/**
 * Human lines for a diagnosis, indented under a headline. `includeFix: false` when the fix is shown
 * elsewhere (an error's own `fix:` line), so it is not printed twice.
 */
export function renderDiagnosis(d: Diagnosis, options: {includeFix?: boolean} = {}): string[] {
  const where = [
    `deployment ${d.deployment}`,
    d.pod && `pod ${d.pod}`,
    d.container && `container ${d.container}`,
  ]
    .filter(Boolean)
    .join(', ')
  const lines = [`${d.reason}: ${where}`, `  ${d.message}`]
  if (d.restartCount !== undefined && d.restartCount > 0) lines.push(`  Restarts: ${d.restartCount}`)
  if (d.lastTerminated) {
    const t = d.lastTerminated
    lines.push(
      `  Last exit: code ${t.exitCode}${t.reason ? ` (${t.reason})` : ''}${t.finishedAt ? ` at ${t.finishedAt}` : ''}`,
    )
  }
  if (d.memoryLimit) lines.push(`  Memory limit: ${d.memoryLimit}`)
  if (d.pull) {
    lines.push(`  Registry: ${d.pull.registry}, tag ${d.pull.tag} (${d.pull.cause})`)
    if (d.pull.kubeletMessage !== d.message) lines.push(`  Kubelet: ${d.pull.kubeletMessage}`)
  }
  if (d.logs) lines.push(...renderLogs(d.logs))
  if (d.events.length > 0) {
    lines.push('  Events:')
    for (const e of d.events) {
      const seen = [e.count > 1 ? `x${e.count}` : undefined, e.age && `${e.age} ago`]
        .filter(Boolean)
        .join(', ')
      lines.push(`    ${e.type} ${e.reason} ${e.object}${seen ? ` (${seen})` : ''}: ${e.message}`)
    }
  }
  if (options.includeFix !== false) lines.push(`  Fix: ${d.fix}`)
  lines.push(...d.commands.map((c) => `  Run: ${c}`))
  return lines
}

function renderLogs(logs: LogTail): string[] {
  const crashed = logs.source === 'previous'
  const which = crashed
    ? 'the previous (crashed) container'
    : logs.crashedUnavailable
      ? 'the current container'
      : 'the container'
  const lines = logs.crashedUnavailable ? [`  Logs of the crashed container: ${logs.crashedUnavailable}`] : []
  if (logs.lines.length > 0) {
    lines.push(`  Last ${logs.lines.length} log lines of ${which}:`, ...logs.lines.map((l) => `    | ${l}`))
  } else {
    lines.push(
      `  Logs of ${which}: ${logs.unavailable ?? `${crashed ? 'it' : 'the container'} wrote no log lines`}`,
    )
  }
  return lines
}
