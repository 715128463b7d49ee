import type {ResolvedConfig} from '../config/load.js'
import {SERVICE_NAMES, type ServiceName} from '../config/schema.js'
import {InterruptedError, isTodoDeployError} from '../errors.js'
import {releaseSelector} from '../kube/kube-client.js'
import type {LockHandle} from '../kube/release-lock.js'
import type {PhaseResult} from '../lifecycle/operation.js'
import type {Renderer} from '../lifecycle/phase-runner.js'
import type {Connection} from '../lifecycle/ports.js'
import {ensureNamespaceReady} from '../lifecycle/namespace-gone.js'
import {CheckedRenders, defaultTimeoutMs, runUp, type UpOptions, type UpResult} from '../lifecycle/up.js'
import {chooseServices} from '../logs/release-logs.js'
import {LogMultiplexer, type LogEvent} from '../logs/log-multiplexer.js'
import type {SecretValue} from '../secrets/secret-value.js'
import {type AppForward, type AppReach, PROBE_TIMEOUT_MS} from '../kube/app-reach.js'
import type {ChangeSet} from './change-set.js'
import {LiveSync, type SyncDone, type SyncFallback} from './live-sync.js'
import {planSync} from './sync-plan.js'
import {
  DevSession,
  type DevEvent,
  type DevSessionSummary,
  type IterationOutcome,
  type StepTiming,
} from './dev-session.js'
import {type SourceWatcherOptions, watchTargetsOf, type WatchTargets} from './source-watcher.js'

/** The Dockerfile stage `dev` builds when the Dockerfile has it (docker/*.Dockerfile do). */
export const DEV_BUILD_TARGET = 'dev'

/** The command the release's lock names while `dev` runs: a concurrent `up` is refused naming it. */
export const DEV_LOCK_COMMAND = 'todo-deploy dev'

/** The configuration and Secret values, read again after todo-deploy.yaml, the chart or `.env` changed. */
export interface DevInputs {
  resolved: ResolvedConfig
  secrets: SecretValue[]
}

export interface DevLoopOptions {
  /** Reads the configuration and the Secret values again; throws (BadInputError) on a bad config. */
  reload: () => DevInputs
  debounceMs: number
  /** `--timeout`; undefined: the configuration's rollout.timeout at each iteration. */
  timeoutMs?: number
  /** false with `--no-rollback`. */
  rollbackOnFailure: boolean
  /** `--port-forward`: forward even when the NodePort URL answers. */
  portForward: boolean
  /** false with `--no-logs`. */
  logs: boolean
  holder: string
  /** The renderer of the first `up` (iterations print one line each, so they run silent). */
  renderer: Renderer
}

/** What `dev` tells its view, besides the session's own events. */
export type DevLoopEvent =
  | DevEvent
  /** The first `up` finished (it may have failed: `dev` watches anyway when a fix is a change away). */
  | {type: 'up'; result?: UpResult; error?: unknown; at: string}
  /** One line (or notice) of the app's logs. */
  | {type: 'log'; log: LogEvent; at: string}
  /** The app's URL from this machine: the NodePort/Ingress one, or a port-forward to the frontend. */
  | {type: 'reachable'; url: string; via: 'cluster' | 'port-forward'; at: string}
  /** A wait before `dev` can start, with its progress (a namespace still being deleted). */
  | {type: 'waiting'; message: string; at: string}
  /** Something `dev` could not do that does not stop it (a folder it cannot watch, a forward that failed). */
  | {type: 'problem'; message: string; at: string}
  /** Files copied into a service's pods (live sync), checked served or healthy; or pods given them again. */
  | {type: 'synced'; sync: SyncDone; at: string}
  /** A service with sync rules is rebuilt instead: why, and the fix or tar's own output. */
  | {type: 'sync-fallback'; fallback: SyncFallback | {service: ServiceName; reason: string}; at: string}

/** The source watcher, as `dev` starts it (SourceWatcher.start in production). */
export type StartWatcher = (targets: WatchTargets, options: SourceWatcherOptions) => Promise<{close(): void}>

export interface DevLoopPorts {
  connection: Connection
  reach: AppReach
  watch: StartWatcher
  onEvent: (event: DevLoopEvent) => void
}

const now = (): string => new Date().toISOString()

/** Phase → the name a summary line gives its time; the other phases are not the user's wait. */
const TIMED_PHASES: Record<string, string> = {
  build: 'build',
  load: 'load',
  deploy: 'upgrade',
  rollout: 'rollout',
  traffic: 'traffic',
  verify: 'health',
}

/**
 * `todo-deploy dev`: holds the release's lock for the whole session, runs `up`, then turns each burst
 * of changes into one recomputed `up` plan (only the changed services rebuilt and reloaded; the
 * others keep their deployed tags), with the app's logs streaming in between. A failed iteration is
 * reported (with up's diagnosis and rollback) and the loop waits for the next change.
 */
export class DevLoop {
  readonly #ports: DevLoopPorts
  readonly #options: DevLoopOptions
  readonly #session: DevSession
  readonly #lock: LockHandle
  #inputs: DevInputs
  #forward: AppForward | undefined
  /** Decided once the URL was first checked: whether the cluster's own URL answers from here. */
  #direct: boolean | undefined
  #stopRequested = false
  #upController: AbortController | undefined
  readonly #logs = new AbortController()
  readonly #checkedRenders = new CheckedRenders()
  /** Copies what the sync rules cover into the running pods, and keeps them from drifting. */
  readonly #liveSync: LiveSync
  /** A re-sync of drifted pods running now, or undefined (the pod watch starts at most one at a time). */
  #resyncing: Promise<void> | undefined
  /** An iteration's `up` runs: its rollout replaces pods on purpose, so they are not re-synced meanwhile. */
  #upRunning = false
  /** The running watcher and what it watches: re-pointed when a new configuration moves the sources. */
  #watcher: {targets: WatchTargets; handle: {close(): void}} | undefined

  private constructor(inputs: DevInputs, lock: LockHandle, ports: DevLoopPorts, options: DevLoopOptions) {
    this.#inputs = inputs
    this.#lock = lock
    this.#ports = ports
    this.#options = options
    const {connection} = ports
    this.#liveSync = new LiveSync({
      files: connection.fileSync,
      workloads: connection.workloads,
      api: connection.api,
      state: connection.state,
    })
    this.#session = new DevSession({
      iterate: (changes, signal) => this.#iterate(changes, signal),
      onEvent: ports.onEvent,
    })
  }

  /** Takes the release's lock (renewed until `run()` returns); refused while another command holds it. */
  static async open(inputs: DevInputs, ports: DevLoopPorts, options: DevLoopOptions): Promise<DevLoop> {
    const {namespace, release} = inputs.resolved.config
    await ensureNamespaceReady(ports.connection.api, namespace, {
      timeoutMs: options.timeoutMs ?? defaultTimeoutMs(inputs.resolved),
      report: (message) => ports.onEvent({type: 'waiting', message, at: now()}),
    })
    const lock = await ports.connection.lock.acquire({
      namespace,
      release,
      holder: options.holder,
      command: DEV_LOCK_COMMAND,
    })
    return new DevLoop(inputs, lock, ports, options)
  }

  /** The configuration the last iteration used (for `s`: status). */
  get resolved(): ResolvedConfig {
    return this.#inputs.resolved
  }

  /** Runs `up`, then watches until `stop()`; the lock is freed and the forward closed before it returns. */
  async run(): Promise<DevSessionSummary> {
    let logs: Promise<unknown> | undefined
    let pods: Promise<unknown> | undefined
    try {
      await this.#firstUp()
      if (this.#stopRequested) {
        this.#ports.onEvent({type: 'stopped', iterations: 0, failed: 0, at: now()})
        return {iterations: 0, failed: 0}
      }
      const targets = watchTargetsOf(this.#inputs.resolved)
      this.#watcher = {targets, handle: await this.#startWatcher(targets)}
      if (this.#options.logs) logs = this.#streamLogs()
      // Pods are followed only when something can be synced into them (no watch for nothing).
      const {resolved} = this.#inputs
      if (
        SERVICE_NAMES.some(
          (name) => resolved.config.services[name].enabled && resolved.services[name].sync.length > 0,
        )
      )
        pods = this.#followPods()
      return await this.#session.run()
    } finally {
      this.#watcher?.handle.close()
      this.#watcher = undefined
      this.#logs.abort()
      await logs
      await pods
      await this.#resyncing
      await this.#forward?.close()
      await this.#lock.release().catch(() => undefined)
    }
  }

  /** `r`: an iteration now, over everything (unchanged sources plan nothing). */
  rebuildNow(): void {
    this.#session.rebuildNow()
  }

  /**
   * Ctrl-C or `q`: the first lets the running `up` or iteration finish, so the app stays deployed; the
   * second (or `abort`) aborts it.
   */
  stop(options: {abort?: boolean} = {}): void {
    const abort = options.abort === true || this.#stopRequested
    this.#stopRequested = true
    if (this.#upController !== undefined) {
      if (abort) this.#upController.abort(new Error('dev stopped'))
      this.#ports.onEvent({type: 'stopping', abort, at: now()})
      return
    }
    this.#session.stop({abort})
  }

  #startWatcher(targets: WatchTargets): Promise<{close(): void}> {
    return this.#ports.watch(targets, {
      debounceMs: this.#options.debounceMs,
      onChange: (changes) => this.#session.queue.push(changes),
      onError: (error) => this.#problem(`not watching a folder any more: ${error.message}`),
    })
  }

  /**
   * A new configuration can move a build context, enable or disable a service, or point at another
   * chart, values file or .env: watch what it names. The new watcher starts before the old one stops,
   * so a change made meanwhile is seen by one of them; anything edited before the new one started is
   * in this iteration's build anyway (images are tagged by content).
   */
  async #repointWatcher(): Promise<void> {
    const current = this.#watcher
    if (current === undefined) return
    const targets = watchTargetsOf(this.#inputs.resolved)
    if (sameTargets(current.targets, targets)) return
    let handle: {close(): void}
    try {
      handle = await this.#startWatcher(targets)
    } catch (error) {
      this.#problem(
        `still watching the previous sources: ${error instanceof Error ? error.message : String(error)}`,
      )
      return
    }
    this.#watcher = {targets, handle}
    current.handle.close()
  }

  async #firstUp(): Promise<void> {
    const controller = new AbortController()
    this.#upController = controller
    try {
      const result = await runUp(
        this.#inputs.resolved,
        this.#ports.connection,
        this.#inputs.secrets,
        this.#upOptions(undefined, controller.signal, this.#options.renderer),
      )
      this.#deployed(result)
      const url = await this.#reach(result.url)
      this.#ports.onEvent({type: 'up', result: url === undefined ? result : {...result, url}, at: now()})
    } catch (error) {
      // Exit 4 and 5 are a change away from working: dev shows the diagnosis and watches. Anything else
      // (the cluster is down, a bad input, an interrupt) ends it.
      const exitCode = isTodoDeployError(error) ? error.exitCode : 1
      if (error instanceof InterruptedError || (exitCode !== 4 && exitCode !== 5)) throw error
      this.#ports.onEvent({type: 'up', error, result: (error as {result?: UpResult}).result, at: now()})
    } finally {
      this.#upController = undefined
    }
  }

  async #iterate(changes: ChangeSet, signal: AbortSignal): Promise<IterationOutcome> {
    if (changes.config || changes.chart || changes.env) {
      try {
        this.#inputs = this.#options.reload()
      } catch (error) {
        // The session goes on with the last good configuration (and its watcher).
        return {status: 'failed', steps: [], error}
      }
      await this.#repointWatcher()
    }
    const {resolved, secrets} = this.#inputs
    const rebuild = await this.#sync(changes, signal)
    if (rebuild === undefined) return {status: 'synced', steps: []}
    let result: UpResult
    // A rollout replaces pods on purpose: they are not re-synced while it runs, and a rebuilt service's
    // pods run an image that holds the synced files. Pods left drifted are re-synced after it.
    this.#upRunning = true
    try {
      result = await runUp(
        resolved,
        this.#ports.connection,
        secrets,
        this.#upOptions(onlyOf(rebuild), signal, 'silent'),
      )
    } catch (error) {
      this.#upRunning = false
      // A rollback brings back pods of the image the ledger is for: they get the synced files again.
      if (this.#liveSync.holdsFiles) this.#startResync()
      const failed = (error as {result?: UpResult}).result
      const rollback = failed?.rollback
      return {
        status: 'failed',
        steps: stepsOf(failed?.phases ?? []),
        error,
        ...(rollback?.result === 'rolled-back' ? {rolledBackTo: rollback.revision} : {}),
      }
    }
    this.#upRunning = false
    this.#deployed(result)
    if (this.#liveSync.holdsFiles) this.#startResync()
    const steps = stepsOf(result.phases)
    const changed = result.helm.action !== 'skipped' || result.images.some((image) => image.built)
    if (!changed) return {status: 'unchanged', steps}
    const url = await this.#reach(result.url)
    return url === undefined ? {status: 'deployed', steps} : {status: 'deployed', steps, url}
  }

  /**
   * Syncs what the sync rules cover into the running pods; returns what is left to rebuild (the rest
   * of the change set, and every service whose sync fell back), undefined when nothing is.
   */
  async #sync(changes: ChangeSet, signal: AbortSignal): Promise<ChangeSet | undefined> {
    const liveSync = this.#liveSync
    const {resolved} = this.#inputs
    const plan = planSync(changes, resolved, (service) => liveSync.canSync(service))
    for (const {service, reason} of plan.reasons)
      this.#ports.onEvent({type: 'sync-fallback', fallback: {service, reason}, at: now()})
    const fellBack: ChangeSet['services'][number][] = []
    for (const change of plan.sync) {
      const outcome = await liveSync.sync(resolved, change.service, change.paths, signal)
      if (outcome.status === 'synced') {
        this.#ports.onEvent({type: 'synced', sync: outcome, at: now()})
        continue
      }
      this.#ports.onEvent({type: 'sync-fallback', fallback: outcome, at: now()})
      const original = changes.services.find((service) => service.service === change.service)
      if (original !== undefined) fellBack.push(original)
    }
    if (fellBack.length === 0) return plan.rebuild
    const rest = plan.rebuild ?? {services: [], config: false, chart: false, env: false, manual: false}
    return {
      ...rest,
      services: changes.services.filter(
        (service) => rest.services.includes(service) || fellBack.includes(service),
      ),
    }
  }

  /** The images the release runs now: what live sync copies over, and forgets once rebuilt. */
  #deployed(result: UpResult): void {
    if (result.dryRun) return
    for (const image of result.images) this.#liveSync.deployed(image.service, image.ref)
  }

  /**
   * Follows the release's pods: a pod that restarted or was replaced lost what was synced into it
   * (it starts from its image), so it gets those files again at once, not at the next edit.
   */
  async #followPods(): Promise<void> {
    const liveSync = this.#liveSync
    const {namespace, release} = this.#inputs.resolved.config
    try {
      await this.#ports.connection.workloads.watch(
        namespace,
        releaseSelector(release),
        (snapshot) => {
          if (!this.#upRunning && liveSync.drifted(snapshot.pods, this.#inputs.resolved)) this.#startResync()
        },
        this.#logs.signal,
      )
    } catch (error) {
      if (this.#logs.signal.aborted) return
      this.#problem(
        `not following the pods any more (a restarted pod gets the synced files at the next sync): ${error instanceof Error ? error.message : String(error)}`,
      )
    }
  }

  /** Starts a re-sync of drifted pods unless one runs (it reads the pods when it starts). */
  #startResync(): void {
    if (this.#resyncing !== undefined) return
    this.#resyncing = this.#resync().finally(() => (this.#resyncing = undefined))
  }

  async #resync(): Promise<void> {
    const liveSync = this.#liveSync
    try {
      for (const outcome of await liveSync.resync(this.#inputs.resolved, this.#logs.signal)) {
        if (outcome.status === 'synced') this.#ports.onEvent({type: 'synced', sync: outcome, at: now()})
        else {
          this.#ports.onEvent({type: 'sync-fallback', fallback: outcome, at: now()})
          // Not again at every pod event: the service is rebuilt, and syncs once it runs the new image.
          liveSync.forget(outcome.service)
          // The pod runs its image's files: a rebuild makes the image hold the synced ones.
          this.#session.queue.push({
            services: [{service: outcome.service, files: 0, paths: []}],
            config: false,
            chart: false,
            env: false,
            manual: false,
          })
        }
      }
    } catch (error) {
      if (!this.#logs.signal.aborted)
        this.#problem(
          `re-syncing a restarted pod failed: ${error instanceof Error ? error.message : String(error)}`,
        )
    }
  }

  #upOptions(only: ServiceName[] | undefined, signal: AbortSignal, renderer: Renderer): UpOptions {
    return {
      ...(only === undefined ? {} : {only}),
      // The bundled Dockerfiles' `dev` stage (a server that reloads synced files), where there is one.
      buildTarget: DEV_BUILD_TARGET,
      build: true,
      wait: true,
      timeoutMs: this.#options.timeoutMs ?? defaultTimeoutMs(this.#inputs.resolved),
      rollbackOnFailure: this.#options.rollbackOnFailure,
      dryRun: false,
      force: false,
      valuesFiles: [],
      set: [],
      holder: this.#options.holder,
      renderer,
      signal,
      heldLock: {lock: this.#lock, command: 'dev'},
      checkedRenders: this.#checkedRenders,
    }
  }

  /**
   * The URL to print after a rollout: the cluster's own when it answers from this machine (checked
   * once), else a port-forward to the frontend Service, pointed at the new pods after each rollout.
   */
  async #reach(clusterUrl: string | null | undefined): Promise<string | undefined> {
    if (this.#forward !== undefined) {
      this.#forward.refresh()
      return this.#forward.url
    }
    if (clusterUrl === undefined) return undefined
    if (this.#direct === true && clusterUrl !== null) return clusterUrl
    // null: the cluster publishes no address (a remote ClusterIP Service): only a forward reaches it.
    if (
      clusterUrl !== null &&
      !this.#options.portForward &&
      (await this.#ports.reach.answers(clusterUrl, PROBE_TIMEOUT_MS))
    ) {
      this.#direct = true
      this.#ports.onEvent({type: 'reachable', url: clusterUrl, via: 'cluster', at: now()})
      return clusterUrl
    }
    const {namespace, services} = this.#inputs.resolved.config
    try {
      this.#forward = await this.#ports.reach.forward(namespace, services.frontend.service.name)
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error)
      this.#problem(
        clusterUrl === null
          ? `the cluster publishes no address for the app and the port-forward failed: ${why}`
          : `${clusterUrl} does not answer from this machine and the port-forward failed: ${why}`,
      )
      return clusterUrl ?? undefined
    }
    this.#ports.onEvent({type: 'reachable', url: this.#forward.url, via: 'port-forward', at: now()})
    return this.#forward.url
  }

  /** The app's logs from now on (each new pod of a rollout from its first line), until `run()` ends. */
  async #streamLogs(): Promise<void> {
    const {resolved} = this.#inputs
    const {namespace, release} = resolved.config
    const multiplexer = new LogMultiplexer(
      {workloads: this.#ports.connection.workloads, logStreams: this.#ports.connection.logStreams},
      {
        namespace,
        labelSelector: releaseSelector(release),
        services: chooseServices(resolved, []),
        follow: true,
        previous: false,
        tail: 0,
      },
    )
    try {
      await multiplexer.run((log) => this.#ports.onEvent({type: 'log', log, at: now()}), this.#logs.signal)
    } catch (error) {
      this.#problem(`the app's logs stopped: ${error instanceof Error ? error.message : String(error)}`)
    }
  }

  #problem(message: string): void {
    this.#ports.onEvent({type: 'problem', message, at: now()})
  }
}

/**
 * The services to rebuild: the ones whose sources changed, with up's `--only` meaning (the others keep
 * their deployed tags). A new configuration, chart, `.env` or `r` recomputes every service.
 */
export function onlyOf(changes: ChangeSet): ServiceName[] | undefined {
  if (changes.config || changes.chart || changes.env || changes.manual || changes.services.length === 0)
    return undefined
  return changes.services.map((change) => change.service)
}

function sameTargets(a: WatchTargets, b: WatchTargets): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

/** The user's waits of an iteration, in order: what ran (or failed), not what was skipped. */
export function stepsOf(phases: readonly PhaseResult[]): StepTiming[] {
  return phases.flatMap((phase) => {
    const step = TIMED_PHASES[phase.phase]
    if (step === undefined || phase.state === 'skipped' || phase.durationMs === undefined) return []
    return [{step, ms: phase.durationMs}]
  })
}
