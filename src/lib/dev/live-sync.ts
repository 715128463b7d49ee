import {readFile, stat} from 'node:fs/promises'
import path from 'node:path'

import type {V1Pod} from '@kubernetes/client-node'

import type {ResolvedConfig} from '../config/load.js'
import type {ServiceName} from '../config/schema.js'
import {containerPathOf} from '../config/sync-rules.js'
import {InterruptedError} from '../errors.js'
import type {ClusterApi} from '../kube/kube-client.js'
import {releaseSelector} from '../kube/kube-client.js'
import {
  type ContainerFileSync,
  type SyncedFile,
  SyncFailedError,
  type SyncObstacle,
  type SyncPayload,
  type SyncTarget,
} from '../kube/container-file-sync.js'
import type {StateRecordStore} from '../kube/state-record.js'
import type {WorkloadSource} from '../kube/workload-source.js'

/** How a sync was seen to work: the changed file served as is, or the health check answering. */
export type SyncCheck =
  | {kind: 'served'; path: string}
  | {kind: 'healthy'; path: string}
  /** Neither within the wait: the app may not have reloaded (a syntax error?); its logs say why. */
  | {kind: 'unanswered'; path: string; status: number}

export interface SyncDone {
  status: 'synced'
  service: ServiceName
  files: number
  deletions: number
  pods: number
  ms: number
  check: SyncCheck
  /** Pods that restarted or were replaced, and got every file synced since the image again. */
  resynced: {pods: string[]; files: number}
}

/** The service goes to a rebuild instead: why, and the fix (an obstacle) or tar's stderr (a failed copy). */
export interface SyncFallback {
  status: 'fallback'
  service: ServiceName
  reason: string
  fix?: string
  details?: string[]
}

export type SyncOutcome = SyncDone | SyncFallback

export interface LiveSyncPorts {
  files: ContainerFileSync
  workloads: WorkloadSource
  api: Pick<ClusterApi, 'serviceProxyGet'>
  state: StateRecordStore
}

export interface LiveSyncOptions {
  /** How long the app has to serve the change (or answer its health check) after a copy. */
  checkTimeoutMs?: number
  /** Between two GETs of that check. */
  checkIntervalMs?: number
}

/** What was synced into a service since its image: container path → local file, or null (deleted). */
interface Ledger {
  image: string
  entries: Map<string, string | null>
  /** Bumped by each sync: a pod holds the ledger when its key maps to the current version. */
  version: number
  /** Pod container instance (`pod/container#restartCount`) → the ledger version it holds. */
  pods: ReadonlyMap<string, number>
  /** Containers (`pod/container`) checked for tar and writable targets, with what was found. */
  checked: Map<string, SyncObstacle[]>
}

const CHECK_TIMEOUT_MS = 30_000
const CHECK_INTERVAL_MS = 250
const PROBE_TIMEOUT_MS = 5_000

/**
 * `dev` live sync: copies changed files into every ready pod of a service (ContainerFileSync, one tar
 * stream per pod, in parallel), remembers what it synced per service and which pod container instance
 * holds it, and gives a pod that restarted or was replaced every synced file again (a restarted
 * container starts from its image: what Tilt loses). A sync is reported once the app serves the
 * changed file or answers its health check. Anything that stops a sync (no tar, a folder the user
 * cannot write, a failed copy, no ready pod) is a fallback: the caller rebuilds the service.
 */
export class LiveSync {
  readonly #ports: LiveSyncPorts
  readonly #checkTimeoutMs: number
  readonly #checkIntervalMs: number
  readonly #ledgers = new Map<ServiceName, Ledger>()
  /** One sync or re-sync at a time, so a re-sync never copies a half-updated ledger. */
  #queue: Promise<unknown> = Promise.resolve()

  constructor(ports: LiveSyncPorts, options: LiveSyncOptions = {}) {
    this.#ports = ports
    this.#checkTimeoutMs = options.checkTimeoutMs ?? CHECK_TIMEOUT_MS
    this.#checkIntervalMs = options.checkIntervalMs ?? CHECK_INTERVAL_MS
  }

  /**
   * The service now runs `image` (deployed by this dev session): files synced before are in it, so
   * the ledger starts empty. The same image again keeps the ledger (the pods did not change).
   */
  deployed(service: ServiceName, image: string): void {
    if (this.#ledgers.get(service)?.image === image) return
    this.#ledgers.set(service, {image, entries: new Map(), version: 0, pods: new Map(), checked: new Map()})
  }

  /** The service is to be rebuilt: nothing is synced into it (or re-synced) until it runs a new image. */
  forget(service: ServiceName): void {
    this.#ledgers.delete(service)
  }

  /** Whether any service runs files synced since its image (pods could have drifted). */
  get holdsFiles(): boolean {
    return [...this.#ledgers.values()].some((ledger) => ledger.entries.size > 0)
  }

  /** Whether the service runs an image this session deployed (else nothing is synced into it). */
  canSync(service: ServiceName): boolean {
    return this.#ledgers.has(service)
  }

  sync(
    resolved: ResolvedConfig,
    service: ServiceName,
    paths: readonly string[],
    signal?: AbortSignal,
  ): Promise<SyncOutcome> {
    return this.#serialized(() => this.#sync(resolved, service, paths, signal))
  }

  /**
   * Gives every ready pod that does not hold its service's synced files (restarted, or new) all of
   * them again. Returns the services it re-synced (an empty list when nothing had drifted).
   */
  resync(resolved: ResolvedConfig, signal?: AbortSignal): Promise<SyncOutcome[]> {
    return this.#serialized(async () => {
      const drifted = [...this.#ledgers.entries()].filter(([, ledger]) => ledger.entries.size > 0)
      if (drifted.length === 0) return []
      const pods = await this.#readyPods(resolved)
      const outcomes: SyncOutcome[] = []
      for (const [service, ledger] of drifted) {
        const targets = pods.get(service) ?? []
        if (targets.every((target) => ledger.pods.get(instanceKey(target)) === ledger.version)) continue
        outcomes.push(
          await this.#copyAndCheck(resolved, service, {files: [], deletions: []}, targets, signal),
        )
      }
      return outcomes
    })
  }

  /** Whether a ready pod of a service with synced files lacks them (a restart or a new pod). */
  drifted(pods: readonly V1Pod[], resolved: ResolvedConfig): boolean {
    const ready = readyTargets(pods, resolved)
    return [...this.#ledgers.entries()].some(
      ([service, ledger]) =>
        ledger.entries.size > 0 &&
        (ready.get(service) ?? []).some((target) => ledger.pods.get(instanceKey(target)) !== ledger.version),
    )
  }

  async #sync(
    resolved: ResolvedConfig,
    service: ServiceName,
    paths: readonly string[],
    signal: AbortSignal | undefined,
  ): Promise<SyncOutcome> {
    const payload = await payloadOf(resolved, service, paths)
    const targets = (await this.#readyPods(resolved)).get(service) ?? []
    if (targets.length === 0) {
      const {deployment} = resolved.config.services[service]
      return {
        status: 'fallback',
        service,
        reason: `no ready pod of deployment ${deployment} to sync into`,
      }
    }
    return this.#copyAndCheck(resolved, service, payload, targets, signal)
  }

  async #copyAndCheck(
    resolved: ResolvedConfig,
    service: ServiceName,
    payload: SyncPayload,
    targets: readonly PodTarget[],
    signal: AbortSignal | undefined,
  ): Promise<SyncOutcome> {
    const ledger = this.#ledgers.get(service)
    if (ledger === undefined)
      return {status: 'fallback', service, reason: 'its pods do not run an image this dev session deployed'}
    const started = performance.now()
    const tos = resolved.services[service].sync.map((rule) => rule.to)
    const obstacles = (
      await Promise.all(
        targets.map(async ({target}) => {
          const key = `${target.pod}/${target.container}`
          let found = ledger.checked.get(key)
          if (found === undefined) {
            found = await this.#ports.files.check(target, tos, signal)
            ledger.checked.set(key, found)
          }
          return found
        }),
      )
    ).flat()
    const obstacle = obstacles[0]
    if (obstacle !== undefined) {
      return {
        status: 'fallback',
        service,
        reason: obstacle.message,
        fix: obstacle.fix,
        ...(obstacles.length > 1 ? {details: obstacles.slice(1).map((other) => other.message)} : {}),
      }
    }
    const resynced: string[] = []
    try {
      await Promise.all(
        targets.map(async (pod) => {
          // Before the first sync every pod holds the (empty) ledger: its image.
          const current = ledger.entries.size === 0 || ledger.pods.get(instanceKey(pod)) === ledger.version
          if (current && payload.files.length === 0 && payload.deletions.length === 0) return
          if (!current) resynced.push(pod.target.pod)
          // A pod that does not hold the ledger gets all of it, with this change on top.
          await this.#ports.files.copy(pod.target, current ? payload : withLedger(ledger, payload), signal)
        }),
      )
    } catch (error) {
      if (signal?.aborted) throw new InterruptedError('dev stopped during a live sync')
      if (!(error instanceof SyncFailedError)) throw error
      return {
        status: 'fallback',
        service,
        reason: error.message,
        details: error.details,
        fix: 'the service is rebuilt instead; fix what tar says above to sync again',
      }
    }
    for (const file of payload.files) ledger.entries.set(file.to, file.from)
    for (const gone of payload.deletions) ledger.entries.set(gone, null)
    ledger.version++
    // Only the pods copied into hold it now; one not ready yet gets everything once it is.
    ledger.pods = new Map(targets.map((pod) => [instanceKey(pod), ledger.version]))
    const check = await this.#check(resolved, service, payload, signal)
    if (payload.files.length > 0 || payload.deletions.length > 0)
      await this.#record(resolved, service, ledger)
    return {
      status: 'synced',
      service,
      files: payload.files.length,
      deletions: payload.deletions.length,
      pods: targets.length,
      ms: Math.round(performance.now() - started),
      check,
      resynced: {pods: resynced.sort(), files: resynced.length === 0 ? 0 : ledger.entries.size},
    }
  }

  /**
   * A file the app serves as is (under the context's `public/`) is checked by its content; anything
   * else by the service's health check (uvicorn and next dev answer once they have reloaded).
   */
  async #check(
    resolved: ResolvedConfig,
    service: ServiceName,
    payload: SyncPayload,
    signal: AbortSignal | undefined,
  ): Promise<SyncCheck> {
    const {namespace, services} = resolved.config
    const config = services[service]
    const served = await servedFile(resolved, service, payload)
    const urlPath = served?.urlPath ?? (service === 'frontend' ? '/' : config.healthPath)
    const deadline = performance.now() + this.#checkTimeoutMs
    let status = 0
    for (;;) {
      signal?.throwIfAborted()
      const answer = await this.#ports.api
        .serviceProxyGet(namespace, config.service.name, config.service.port, urlPath, PROBE_TIMEOUT_MS)
        .catch(() => ({status: 0, bodySnippet: ''}))
      status = answer.status
      if (served !== undefined) {
        if (status >= 200 && status < 300 && bodyIs(answer.bodySnippet, served.content))
          return {kind: 'served', path: urlPath}
      } else if (status >= 200 && status < 400) return {kind: 'healthy', path: urlPath}
      if (performance.now() >= deadline) return {kind: 'unanswered', path: urlPath, status}
      await new Promise((resolve) => setTimeout(resolve, this.#checkIntervalMs))
    }
  }

  /** The record `status` reads from any machine: the count of files ahead of the image. */
  async #record(resolved: ResolvedConfig, service: ServiceName, ledger: Ledger): Promise<void> {
    const {namespace, release} = resolved.config
    try {
      const record = await this.#ports.state.read(namespace, release)
      if (record === null) return
      const live = {...record.live, [service]: {image: ledger.image, files: ledger.entries.size, at: now()}}
      await this.#ports.state.write(namespace, release, {...record, live})
    } catch {
      // Only `status` from elsewhere misses it; the sync itself worked.
    }
  }

  async #readyPods(resolved: ResolvedConfig): Promise<Map<ServiceName, PodTarget[]>> {
    const {namespace, release} = resolved.config
    const {pods} = await this.#ports.workloads.snapshot(namespace, releaseSelector(release))
    return readyTargets(pods, resolved)
  }

  #serialized<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(work, work)
    this.#queue = next.catch(() => undefined)
    return next
  }
}

interface PodTarget {
  target: SyncTarget
  restartCount: number
}

function instanceKey({target, restartCount}: PodTarget): string {
  return `${target.pod}/${target.container}#${restartCount}`
}

/** The ready pods of each service (a pod's `app` label names its Deployment), not being deleted. */
function readyTargets(pods: readonly V1Pod[], resolved: ResolvedConfig): Map<ServiceName, PodTarget[]> {
  const {namespace, services} = resolved.config
  const targets = new Map<ServiceName, PodTarget[]>()
  for (const service of Object.keys(services) as ServiceName[]) {
    const {deployment, container} = services[service]
    const ready = pods.filter(
      (pod) =>
        pod.metadata?.labels?.app === deployment &&
        pod.metadata.deletionTimestamp === undefined &&
        pod.status?.conditions?.some(
          (condition) => condition.type === 'Ready' && condition.status === 'True',
        ),
    )
    targets.set(
      service,
      ready.map((pod) => ({
        target: {namespace: pod.metadata?.namespace ?? namespace, pod: pod.metadata?.name ?? '', container},
        restartCount:
          pod.status?.containerStatuses?.find((status) => status.name === container)?.restartCount ?? 0,
      })),
    )
  }
  return targets
}

/** The changed paths as files to write (they exist) and container paths to delete (they are gone). */
async function payloadOf(
  resolved: ResolvedConfig,
  service: ServiceName,
  paths: readonly string[],
): Promise<SyncPayload> {
  const {contextDir, sync} = resolved.services[service]
  const files: SyncedFile[] = []
  const deletions: string[] = []
  for (const relative of paths) {
    const to = containerPathOf(sync, relative)
    if (to === undefined) continue
    const from = path.join(contextDir, ...relative.split('/'))
    const stats = await stat(from).catch(() => null)
    // A folder's files are reported one by one; a folder that is gone is deleted whole.
    if (stats === null) deletions.push(to)
    else if (stats.isFile()) files.push({from, to})
  }
  return {files, deletions}
}

/** Everything synced since the image, with `payload` over it: what a pod that lost it needs. */
function withLedger(ledger: Ledger, payload: SyncPayload): SyncPayload {
  const entries = new Map(ledger.entries)
  for (const file of payload.files) entries.set(file.to, file.from)
  for (const gone of payload.deletions) entries.set(gone, null)
  const files: SyncedFile[] = []
  const deletions: string[] = []
  for (const [to, from] of entries) {
    if (from === null) deletions.push(to)
    else files.push({from, to})
  }
  return {files, deletions}
}

/**
 * The one changed file the app serves as is, when the sync is exactly that: a file under the
 * context's `public/` folder is served at the path below it (Next.js, and most static servers).
 */
async function servedFile(
  resolved: ResolvedConfig,
  service: ServiceName,
  payload: SyncPayload,
): Promise<{urlPath: string; content: string} | undefined> {
  const [file] = payload.files
  if (file === undefined || payload.files.length !== 1 || service !== 'frontend') return undefined
  const relative = path
    .relative(path.join(resolved.services[service].contextDir, 'public'), file.from)
    .split(path.sep)
    .join('/')
  if (relative.startsWith('..') || path.isAbsolute(relative)) return undefined
  const content = await readFile(file.from, 'utf8').catch(() => undefined)
  return content === undefined ? undefined : {urlPath: `/${relative}`, content}
}

/**
 * Whether a body snippet (the first BODY_SNIPPET_CHARS characters the service proxy hands back) is
 * the start of `content`, all of it when the content is shorter.
 */
function bodyIs(snippet: string, content: string): boolean {
  return snippet === content.slice(0, Math.max(snippet.length, Math.min(content.length, SNIPPET_CHARS)))
}

/** What ClusterApi.serviceProxyGet keeps of a body. */
const SNIPPET_CHARS = 500

const now = (): string => new Date().toISOString()
