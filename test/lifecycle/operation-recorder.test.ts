import {describe, expect, it} from 'vitest'

import {HISTORY_LIMIT, type LifecycleRecord, type StateRecordStore} from '../../src/lib/kube/state-record.js'
import {OperationRecorder} from '../../src/lib/lifecycle/operation.js'
import {FakeStateRecordStore} from '../support/fake-connection.js'

const NAMESPACE = 'todo-app-dev'
const RELEASE = 'todo-chatbot'

/** A clock that moves only when told: timings are exact whatever the machine's load. */
function steppingClock(start = Date.parse('2025-01-01T10:00:00.000Z')) {
  let now = start
  return {now: () => new Date(now), advance: (ms: number) => (now += ms)}
}

/** A store whose writes wait until the test lets them through, to see how many run at once. */
class GatedStore implements StateRecordStore {
  readonly written: LifecycleRecord[] = []
  inFlight = 0
  maxInFlight = 0
  private gates: (() => void)[] = []

  async read(): Promise<LifecycleRecord | null> {
    return null
  }

  async write(_namespace: string, _release: string, record: LifecycleRecord): Promise<void> {
    this.inFlight++
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight)
    await new Promise<void>((resolve) => this.gates.push(resolve))
    this.inFlight--
    this.written.push(record)
  }

  async delete(): Promise<{deleted: boolean}> {
    return {deleted: false}
  }

  /** Lets waiting writes through until `promise` settles (bounded: a hang fails the test, not the run). */
  async settle<T>(promise: Promise<T>): Promise<T> {
    let settled = false
    void promise.then(
      () => (settled = true),
      () => (settled = true),
    )
    for (let round = 0; round < 1000 && !settled; round++) {
      for (const open of this.gates.splice(0)) open()
      await new Promise((resolve) => setImmediate(resolve))
    }
    return promise
  }
}

describe('OperationRecorder', () => {
  it('records each transition with its lifecycle state, timestamps and duration', () => {
    const clock = steppingClock()
    const recorder = new OperationRecorder('up', clock.now)
    recorder.start('build', 'Building')
    expect(recorder.lifecycleState).toBe('Building')
    clock.advance(1500)
    recorder.succeed('build', '2 images built')
    recorder.start('deploy', 'Deploying')
    clock.advance(250)
    recorder.fail('deploy', 'helm upgrade --install failed')
    recorder.skip('health', 'the rollout failed', 'Running')

    expect(recorder.results()).toEqual([
      {
        phase: 'build',
        lifecycleState: 'Building',
        state: 'succeeded',
        startedAt: '2025-01-01T10:00:00.000Z',
        endedAt: '2025-01-01T10:00:01.500Z',
        durationMs: 1500,
        detail: '2 images built',
      },
      {
        phase: 'deploy',
        lifecycleState: 'Deploying',
        state: 'failed',
        startedAt: '2025-01-01T10:00:01.500Z',
        endedAt: '2025-01-01T10:00:01.750Z',
        durationMs: 250,
        detail: 'helm upgrade --install failed',
      },
      {
        phase: 'health',
        lifecycleState: 'Running',
        state: 'skipped',
        startedAt: '2025-01-01T10:00:01.750Z',
        endedAt: '2025-01-01T10:00:01.750Z',
        durationMs: 0,
        skipReason: 'the rollout failed',
      },
    ])
    // The operation record carries the same phases, without the in-memory lifecycle state.
    expect(recorder.operation.phases.map((phase) => [phase.phase, phase.state])).toEqual([
      ['build', 'succeeded'],
      ['deploy', 'failed'],
      ['health', 'skipped'],
    ])
    expect(recorder.operation.phases[0]).not.toHaveProperty('lifecycleState')
  })

  it('ignores the end of a phase that never started', () => {
    const recorder = new OperationRecorder('up')
    recorder.succeed('never-started')
    recorder.fail('never-started', 'boom')
    expect(recorder.results()).toEqual([])
  })

  it('on an interrupted finish marks the running phase interrupted and names it', async () => {
    const clock = steppingClock()
    const recorder = new OperationRecorder('up', clock.now)
    recorder.start('build', 'Building')
    recorder.succeed('build')
    recorder.start('deploy', 'Deploying')
    expect(recorder.runningPhase()).toBe('deploy')
    clock.advance(4000)
    await recorder.finish('interrupted', recorder.lifecycleState)

    expect(recorder.operation).toMatchObject({
      result: 'interrupted',
      interruptedPhase: 'deploy',
      state: 'Deploying',
      endedAt: '2025-01-01T10:00:04.000Z',
    })
    expect(recorder.results().map((phase) => [phase.phase, phase.state])).toEqual([
      ['build', 'succeeded'],
      ['deploy', 'interrupted'],
    ])
    expect(recorder.runningPhase()).toBeUndefined()
  })

  it.each([
    ['failed', 'failed'],
    ['succeeded', 'succeeded'],
  ] as const)(
    'a %s finish ends the running phase as %s, with no interrupted phase',
    async (result, phase) => {
      const recorder = new OperationRecorder('rollback')
      recorder.start('rollback', 'RollingBack')
      await recorder.finish(result, result === 'failed' ? 'Failed' : 'Running')
      expect(recorder.results()[0]?.state).toBe(phase)
      expect(recorder.operation.result).toBe(result)
      expect(recorder.operation.interruptedPhase).toBeUndefined()
    },
  )

  it('writes nothing until persistTo, then the transitions (those made at once as one write); the last one stays', async () => {
    const store = new FakeStateRecordStore()
    const recorder = new OperationRecorder('up')
    recorder.start('build', 'Building')
    expect(store.writes).toBe(0)

    await recorder.persistTo(store, NAMESPACE, RELEASE)
    expect(store.writes).toBe(1)
    recorder.succeed('build')
    recorder.set({revision: 4, tags: {backend: 'c-0123456789ab'}})
    await recorder.finish('succeeded', 'Healthy')

    expect(store.writes).toBe(2)
    expect(await store.read(NAMESPACE, RELEASE)).toMatchObject({
      operation: {
        id: recorder.operation.id,
        command: 'up',
        result: 'succeeded',
        state: 'Healthy',
        revision: 4,
        tags: {backend: 'c-0123456789ab'},
        phases: [{phase: 'build', state: 'succeeded'}],
      },
      history: [],
    })
  })

  it("carries dev's live-sync counts over into the records it writes (status decides whether they still apply)", async () => {
    const store = new FakeStateRecordStore()
    const live = {backend: {image: 'todo-backend:c-0123456789ab', files: 2, at: '2026-12-06T02:48:56.707Z'}}
    const first = new OperationRecorder('dev')
    await first.persistTo(store, NAMESPACE, RELEASE)
    await first.finish('succeeded', 'Healthy')
    const record = await store.read(NAMESPACE, RELEASE)
    await store.write(NAMESPACE, RELEASE, {...record!, live})

    const next = new OperationRecorder('dev')
    await next.persistTo(store, NAMESPACE, RELEASE)
    await next.finish('succeeded', 'Healthy')
    expect(await store.read(NAMESPACE, RELEASE)).toMatchObject({operation: {id: next.operation.id}, live})
  })

  it('chains its writes: one at a time, in order, and transitions made during a write become one write of the newest', async () => {
    const store = new GatedStore()
    const recorder = new OperationRecorder('up')
    await store.settle(recorder.persistTo(store, NAMESPACE, RELEASE))
    recorder.start('build', 'Building')
    recorder.succeed('build')
    recorder.start('deploy', 'Deploying')
    await new Promise((resolve) => setImmediate(resolve))
    // The first of these writes is held: the others wait behind it instead of racing it.
    expect(store.inFlight).toBe(1)
    await store.settle(recorder.finish('failed', 'Failed'))

    expect(store.maxInFlight).toBe(1)
    // The held write carries the newest record when it began; what happened during it went as one write.
    expect(store.written.map((record) => record.operation.phases.map((phase) => phase.state))).toEqual([
      [],
      ['succeeded', 'running'],
      ['succeeded', 'failed'],
    ])
    expect(store.written.at(-1)?.operation).toMatchObject({result: 'failed', state: 'Failed'})
  })

  it('never fails the operation over a write error: it keeps the error for --verbose', async () => {
    const refused = new Error('configmaps "todo-deploy-state" is forbidden')
    const store: StateRecordStore = {
      read: async () => {
        throw new Error('cannot read')
      },
      write: async () => {
        throw refused
      },
      delete: async () => ({deleted: false}),
    }
    const recorder = new OperationRecorder('up')
    await expect(recorder.persistTo(store, NAMESPACE, RELEASE)).resolves.toBeUndefined()
    recorder.start('deploy', 'Deploying')
    await expect(recorder.finish('succeeded', 'Running')).resolves.toBeUndefined()
    expect(recorder.lastWriteError).toBe(refused)
    expect(recorder.operation.result).toBe('succeeded')
  })

  it('moves the previous operation into the history, newest first, at most HISTORY_LIMIT entries', async () => {
    const store = new FakeStateRecordStore()
    const past = (index: number) => ({
      id: `op-${index}`,
      command: 'up',
      startedAt: `2024-12-${String(index + 1).padStart(2, '0')}T10:00:00.000Z`,
      result: 'succeeded' as const,
    })
    await store.write(NAMESPACE, RELEASE, {
      operation: {...past(0), phases: [{phase: 'build', state: 'succeeded', startedAt: 'x'}], revision: 7},
      history: Array.from({length: HISTORY_LIMIT}, (_, index) => past(index + 1)),
    })
    const recorder = new OperationRecorder('rollback')
    await recorder.persistTo(store, NAMESPACE, RELEASE)
    await recorder.finish('succeeded', 'Running')

    const record = await store.read(NAMESPACE, RELEASE)
    expect(record?.operation.id).toBe(recorder.operation.id)
    expect(record?.history).toHaveLength(HISTORY_LIMIT)
    // The summary of the previous operation comes first, without its phases; the oldest entry drops out.
    expect(record?.history[0]).toEqual({...past(0), revision: 7})
    expect(record?.history.map((entry) => entry.id)).toEqual([
      'op-0',
      ...Array.from({length: HISTORY_LIMIT - 1}, (_, index) => `op-${index + 1}`),
    ])
  })

  it('does not list its own operation in the history when it persists twice', async () => {
    const store = new FakeStateRecordStore()
    const recorder = new OperationRecorder('up')
    await recorder.persistTo(store, NAMESPACE, RELEASE)
    await recorder.persistTo(store, NAMESPACE, RELEASE)
    await recorder.finish('succeeded', 'Healthy')
    expect((await store.read(NAMESPACE, RELEASE))?.history).toEqual([])
  })

  it('writes nothing after detach (down --purge deletes the record)', async () => {
    const store = new FakeStateRecordStore()
    const recorder = new OperationRecorder('down')
    await recorder.persistTo(store, NAMESPACE, RELEASE)
    recorder.start('remove', 'Removing')
    await recorder.detach()
    const before = store.writes
    await store.delete(NAMESPACE, RELEASE)
    recorder.succeed('remove')
    await recorder.finish('succeeded', 'Removed')
    expect(store.writes).toBe(before)
    expect(await store.read(NAMESPACE, RELEASE)).toBeNull()
  })
})
