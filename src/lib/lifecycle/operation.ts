import {randomUUID} from 'node:crypto'

import type {
  LifecycleRecord,
  OperationRecord,
  PhaseRecord,
  PhaseState,
  StateRecordStore,
} from '../kube/state-record.js'
import {summariseOperation, HISTORY_LIMIT} from '../kube/state-record.js'

/** The deployment lifecycle states (docs/lifecycle.md). */
export type LifecycleState =
  | 'Initial'
  | 'Building'
  | 'Loading'
  | 'Deploying'
  | 'Starting'
  | 'Updating'
  | 'Running'
  | 'Healthy'
  | 'Failed'
  | 'RollingBack'
  | 'Removing'
  | 'Removed'

/** One step of an operation, as shown in the task list, recorded and timed. */
export interface PhaseResult extends PhaseRecord {
  /** The lifecycle state the deployment is in while this phase runs. */
  lifecycleState: LifecycleState
}

/**
 * The explicit lifecycle of one operation: every phase transition with its timestamp, kept in memory
 * for the result and written to the state record in the cluster so `status` can read it from anywhere.
 * Writing is best effort (the record must never turn a good deploy into a failed one).
 */
export class OperationRecorder {
  readonly operation: OperationRecord & {state: LifecycleState}
  private readonly phases = new Map<string, PhaseResult>()
  private store: {
    store: StateRecordStore
    namespace: string
    release: string
    previous: LifecycleRecord | null
  } | null = null
  private writing: Promise<void> = Promise.resolve()
  /** The newest record not yet handed to the store: transitions made during a write replace it. */
  private pending: LifecycleRecord | null = null
  private writeError: unknown

  constructor(
    command: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.operation = {
      id: randomUUID(),
      command,
      startedAt: this.now().toISOString(),
      result: 'running',
      phases: [],
      state: 'Initial',
    }
  }

  /** From now on every transition is written to the cluster (once the namespace exists). */
  async persistTo(store: StateRecordStore, namespace: string, release: string): Promise<void> {
    const previous = await store.read(namespace, release).catch(() => null)
    this.store = {store, namespace, release, previous}
    this.flush()
    await this.writing
  }

  /** Stops writing the record (`down --purge` deletes it; a later write would bring it back). */
  async detach(): Promise<void> {
    await this.writing
    this.store = null
  }

  get lifecycleState(): LifecycleState {
    return this.operation.state
  }

  setState(state: LifecycleState): void {
    this.operation.state = state
    this.flush()
  }

  start(phase: string, lifecycleState: LifecycleState): void {
    this.operation.state = lifecycleState
    this.phases.set(phase, {phase, lifecycleState, state: 'running', startedAt: this.now().toISOString()})
    this.flush()
  }

  succeed(phase: string, detail?: string): void {
    this.end(phase, 'succeeded', {detail})
  }

  skip(phase: string, reason: string, lifecycleState?: LifecycleState): void {
    if (!this.phases.has(phase)) this.start(phase, lifecycleState ?? this.operation.state)
    this.end(phase, 'skipped', {skipReason: reason})
  }

  fail(phase: string, detail: string): void {
    this.end(phase, 'failed', {detail})
  }

  /** The phase that was running when the operation stopped, if any. */
  runningPhase(): string | undefined {
    return [...this.phases.values()].find((phase) => phase.state === 'running')?.phase
  }

  set(fields: Partial<Pick<OperationRecord, 'tags' | 'revision' | 'url'>>): void {
    Object.assign(this.operation, fields)
    this.flush()
  }

  /** Ends the operation: every phase still running takes the operation's result. */
  async finish(result: 'succeeded' | 'failed' | 'interrupted', state: LifecycleState): Promise<void> {
    // Phases can overlap (up's builds and loads): every one still running takes the result.
    const running = [...this.phases.values()].filter((phase) => phase.state === 'running')
    if (result === 'interrupted' && running[0]) this.operation.interruptedPhase = running[0].phase
    for (const phase of running) {
      this.end(
        phase.phase,
        result === 'interrupted' ? 'interrupted' : result === 'failed' ? 'failed' : 'succeeded',
        {},
      )
    }
    this.operation.result = result
    this.operation.state = state
    this.operation.endedAt = this.now().toISOString()
    this.flush()
    await this.writing
  }

  results(): PhaseResult[] {
    return [...this.phases.values()]
  }

  /** Why the last write failed, if it did (shown with --verbose; never fatal). */
  get lastWriteError(): unknown {
    return this.writeError
  }

  private end(phase: string, state: PhaseState, fields: {detail?: string; skipReason?: string}): void {
    const current = this.phases.get(phase)
    if (!current) return
    const endedAt = this.now()
    current.state = state
    current.endedAt = endedAt.toISOString()
    current.durationMs = endedAt.getTime() - new Date(current.startedAt).getTime()
    if (fields.detail !== undefined) current.detail = fields.detail
    if (fields.skipReason !== undefined) current.skipReason = fields.skipReason
    this.flush()
  }

  private flush(): void {
    this.operation.phases = [...this.phases.values()].map(toPhaseRecord)
    const target = this.store
    if (!target) return
    const record: LifecycleRecord = {
      operation: structuredClone(this.operation),
      history: [
        ...(target.previous && target.previous.operation.id !== this.operation.id
          ? [summariseOperation(target.previous.operation)]
          : []),
        ...(target.previous?.history ?? []),
      ].slice(0, HISTORY_LIMIT),
      // What `dev` synced stays: status shows it only while the service still runs the image it names.
      ...(target.previous?.live === undefined ? {} : {live: target.previous.live}),
    }
    // One write at a time, so the last transition is the one that stays; transitions made while a write
    // is in flight are coalesced into the newest record (an up makes ~20 transitions: each a round trip).
    const queued = this.pending !== null
    this.pending = record
    if (queued) return
    this.writing = this.writing.then(async () => {
      const newest = this.pending
      this.pending = null
      if (!newest) return
      await target.store.write(target.namespace, target.release, newest).catch((error: unknown) => {
        this.writeError = error
      })
    })
  }
}

function toPhaseRecord(phase: PhaseResult): PhaseRecord {
  const {lifecycleState: _lifecycleState, ...record} = phase
  return record
}
