import {ChangeQueue} from './change-queue.js'
import {type ChangeSet, MANUAL_REBUILD} from './change-set.js'

/** How long one step of an iteration took (`build frontend`, `load`, `rollout`, ...), in order. */
export interface StepTiming {
  step: string
  ms: number
}

/** How one iteration ended. A failure is an outcome, not an exception: the session goes on. */
export type IterationOutcome =
  | {status: 'deployed'; steps: readonly StepTiming[]; url?: string}
  /** The recomputed plan had nothing to do (the change left every image and value as it was). */
  | {status: 'unchanged'; steps: readonly StepTiming[]}
  /** Every change was copied into the running pods (live sync): no build, no helm revision. */
  | {status: 'synced'; steps: readonly StepTiming[]}
  | {
      status: 'failed'
      steps: readonly StepTiming[]
      /** The diagnosis, as `up` would report it (a TodoDeployError carries message, where, fix, details). */
      error: unknown
      /** The revision the release was rolled back to, when it was. */
      rolledBackTo?: number
    }

/**
 * One iteration: plan from the changes and apply. `signal` aborts when the user insists on stopping
 * (a second Ctrl-C or `q`); the iteration then stops its work and returns or throws.
 */
export type Iteration = (changes: ChangeSet, signal: AbortSignal) => Promise<IterationOutcome>

interface Timed {
  /** ISO time of the event. */
  at: string
}

export type DevEvent =
  | ({type: 'watching'; iterations: number} & Timed)
  | ({type: 'iteration-started'; iteration: number; changes: ChangeSet} & Timed)
  | ({
      type: 'iteration-finished'
      iteration: number
      changes: ChangeSet
      status: 'deployed' | 'unchanged' | 'synced'
      steps: readonly StepTiming[]
      url?: string
      durationMs: number
    } & Timed)
  | ({
      type: 'iteration-failed'
      iteration: number
      changes: ChangeSet
      steps: readonly StepTiming[]
      error: unknown
      rolledBackTo?: number
      durationMs: number
    } & Timed)
  /** `iteration` is the running one the session waits for (or aborts, when `abort`). */
  | ({type: 'stopping'; iteration?: number; abort: boolean} & Timed)
  | ({type: 'stopped'; iterations: number; failed: number} & Timed)

export interface DevSessionOptions {
  iterate: Iteration
  onEvent: (event: DevEvent) => void
}

export interface DevSessionSummary {
  iterations: number
  failed: number
}

/**
 * The loop of `dev`: takes change sets from its queue and runs one iteration at a time; changes made
 * meanwhile wait in the queue (merged into one) for the next. A failed iteration is reported and the
 * session waits for the next change.
 *
 * Stopping: Skaffold cancels the running build or deploy at once (its context is cancelled by
 * Ctrl-C). Here the first stop lets the running iteration settle, so the release is not left half
 * upgraded and the app stays deployed and healthy; a second stop aborts it through its AbortSignal.
 */
export class DevSession {
  readonly queue = new ChangeQueue()
  readonly #iterate: Iteration
  readonly #onEvent: (event: DevEvent) => void
  #running: {iteration: number; controller: AbortController} | undefined
  #stopRequested = false
  #iterations = 0
  #failed = 0

  constructor(options: DevSessionOptions) {
    this.#iterate = options.iterate
    this.#onEvent = options.onEvent
  }

  /** Runs iterations until `stop()`; resolves once the last one has settled. */
  async run(): Promise<DevSessionSummary> {
    if (!this.#stopRequested) this.#emit({type: 'watching', iterations: 0})
    for (;;) {
      const changes = await this.queue.next()
      if (changes === undefined) break
      await this.#runIteration(changes)
      if (this.#stopRequested) break
      this.#emit({type: 'watching', iterations: this.#iterations})
    }
    this.#emit({type: 'stopped', iterations: this.#iterations, failed: this.#failed})
    return {iterations: this.#iterations, failed: this.#failed}
  }

  /** Queues a rebuild of everything now (the `r` key), as if every source had changed. */
  rebuildNow(): void {
    this.queue.push(MANUAL_REBUILD)
  }

  /** The iteration running now, if any. */
  get runningIteration(): number | undefined {
    return this.#running?.iteration
  }

  /**
   * Stops watching: queued changes are dropped and `run()` returns once the running iteration (if
   * any) settles. A second call, or `abort`, also aborts the running iteration.
   */
  stop(options: {abort?: boolean} = {}): void {
    const abort = options.abort === true || this.#stopRequested
    if (this.#stopRequested && !abort) return
    this.#stopRequested = true
    this.queue.close()
    const running = this.#running
    if (running !== undefined && abort && !running.controller.signal.aborted)
      running.controller.abort(new Error('dev stopped'))
    this.#emit({type: 'stopping', iteration: running?.iteration, abort: abort && running !== undefined})
  }

  async #runIteration(changes: ChangeSet): Promise<void> {
    const iteration = ++this.#iterations
    const controller = new AbortController()
    this.#running = {iteration, controller}
    this.#emit({type: 'iteration-started', iteration, changes})
    const started = performance.now()
    let outcome: IterationOutcome
    try {
      outcome = await this.#iterate(changes, controller.signal)
    } catch (error) {
      outcome = {status: 'failed', steps: [], error}
    } finally {
      this.#running = undefined
    }
    const durationMs = Math.round(performance.now() - started)
    if (outcome.status === 'failed') {
      this.#failed++
      this.#emit({
        type: 'iteration-failed',
        iteration,
        changes,
        steps: outcome.steps,
        error: outcome.error,
        ...(outcome.rolledBackTo === undefined ? {} : {rolledBackTo: outcome.rolledBackTo}),
        durationMs,
      })
    } else {
      this.#emit({
        type: 'iteration-finished',
        iteration,
        changes,
        status: outcome.status,
        steps: outcome.steps,
        ...(outcome.status === 'deployed' && outcome.url !== undefined ? {url: outcome.url} : {}),
        durationMs,
      })
    }
  }

  #emit(event: DistributiveOmit<DevEvent, 'at'>): void {
    this.#onEvent({...event, at: new Date().toISOString()} as DevEvent)
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never
