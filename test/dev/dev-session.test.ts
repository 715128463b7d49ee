import {afterEach, describe, expect, it} from 'vitest'

import type {ChangeSet} from '../../src/lib/dev/change-set.js'
import {type DevEvent, DevSession, type IterationOutcome} from '../../src/lib/dev/dev-session.js'
import {SourceWatcher} from '../../src/lib/dev/source-watcher.js'
import {BuildError} from '../../src/lib/errors.js'
import {ChangeRecorder, type DevProject, devProject} from '../support/dev-project.js'

const frontend = (...paths: string[]): ChangeSet => ({
  services: [{service: 'frontend', files: paths.length, paths}],
  config: false,
  chart: false,
  env: false,
  manual: false,
})

/** An iteration the test finishes by hand, to act while it runs. */
class ControlledIterations {
  readonly calls: {changes: ChangeSet; signal: AbortSignal}[] = []
  #finishers: ((outcome: IterationOutcome) => void)[] = []
  #started: (() => void)[] = []

  readonly iterate = (changes: ChangeSet, signal: AbortSignal): Promise<IterationOutcome> => {
    this.calls.push({changes, signal})
    for (const notify of this.#started.splice(0)) notify()
    return new Promise((resolve, reject) => {
      this.#finishers.push(resolve)
      signal.addEventListener('abort', () => reject(signal.reason as Error))
    })
  }

  /** Resolves once `count` iterations have started. */
  async started(count: number): Promise<void> {
    while (this.calls.length < count) await new Promise<void>((resolve) => this.#started.push(resolve))
  }

  finish(outcome: IterationOutcome): void {
    const finisher = this.#finishers.shift()
    if (finisher === undefined) throw new Error('no iteration is running')
    finisher(outcome)
  }
}

interface EventLog {
  events: DevEvent[]
  onEvent: (event: DevEvent) => void
  types: () => string[]
  /** Resolves once `count` events of `type` have been emitted. */
  until: (type: DevEvent['type'], count?: number) => Promise<void>
}

function eventLog(): EventLog {
  const events: DevEvent[] = []
  let waiters: {done: () => boolean; resolve: () => void}[] = []
  const counted = (type: DevEvent['type']): number => events.filter((event) => event.type === type).length
  return {
    events,
    onEvent: (event) => {
      events.push(event)
      waiters = waiters.filter((waiter) => (waiter.done() ? (waiter.resolve(), false) : true))
    },
    types: () => events.map((event) => event.type),
    until: (type, count = 1) =>
      counted(type) >= count
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({done: () => counted(type) >= count, resolve})),
  }
}

const deployed: IterationOutcome = {
  status: 'deployed',
  steps: [
    {step: 'build', ms: 2100},
    {step: 'rollout', ms: 11_400},
  ],
  url: 'http://127.0.0.1:30080',
}

/** A running session whose iterations the test finishes by hand. */
function startSession(): {
  iterations: ControlledIterations
  log: EventLog
  session: DevSession
  done: Promise<{iterations: number; failed: number}>
} {
  const iterations = new ControlledIterations()
  const log = eventLog()
  const session = new DevSession({iterate: iterations.iterate, onEvent: log.onEvent})
  return {iterations, log, session, done: session.run()}
}

describe('DevSession', () => {
  it('runs one iteration at a time; edits during it make exactly one more, with all their files', async () => {
    const {iterations, log, session, done} = startSession()

    session.queue.push(frontend('a.ts'))
    await iterations.started(1)
    session.queue.push(frontend('b.ts'))
    session.queue.push(frontend('c.ts', 'b.ts'))
    session.rebuildNow()
    expect(iterations.calls).toHaveLength(1)
    iterations.finish(deployed)

    await iterations.started(2)
    expect(iterations.calls[1]?.changes).toEqual({...frontend('b.ts', 'c.ts'), manual: true})
    iterations.finish({status: 'unchanged', steps: []})
    await log.until('watching', 3)
    session.stop()
    expect(await done).toEqual({iterations: 2, failed: 0})
    expect(iterations.calls).toHaveLength(2)
    expect(log.types()).toEqual([
      'watching',
      'iteration-started',
      'iteration-finished',
      'watching',
      'iteration-started',
      'iteration-finished',
      'watching',
      'stopping',
      'stopped',
    ])
    expect(log.events[2]).toMatchObject({
      type: 'iteration-finished',
      iteration: 1,
      status: 'deployed',
      url: 'http://127.0.0.1:30080',
      steps: deployed.steps,
    })
  })

  it('goes on after a failed iteration and after an iteration that throws', async () => {
    const {iterations, log, session, done} = startSession()

    session.queue.push(frontend('broken.ts'))
    await iterations.started(1)
    const buildFailure = new BuildError('the frontend image build failed at step 3/7', {fix: 'fix the error'})
    iterations.finish({
      status: 'failed',
      steps: [{step: 'build', ms: 900}],
      error: buildFailure,
      rolledBackTo: 4,
    })

    session.queue.push(frontend('broken.ts'))
    await iterations.started(2)
    // A bug in the iteration itself is reported like a failure, not a crash of the session.
    const session2Error = new Error('unexpected')
    iterations.finish(Promise.reject(session2Error) as unknown as IterationOutcome)

    session.queue.push(frontend('fixed.ts'))
    await iterations.started(3)
    iterations.finish(deployed)
    await log.until('iteration-finished')
    session.stop()
    expect(await done).toEqual({iterations: 3, failed: 2})
    const failures = log.events.filter((event) => event.type === 'iteration-failed')
    expect(failures).toEqual([
      expect.objectContaining({
        iteration: 1,
        error: buildFailure,
        rolledBackTo: 4,
        steps: [{step: 'build', ms: 900}],
      }),
      expect.objectContaining({iteration: 2, error: session2Error, steps: []}),
    ])
    expect(log.events.at(-3)).toMatchObject({type: 'iteration-finished', iteration: 3, status: 'deployed'})
  })

  it('stop during an iteration waits for it to settle and drops queued changes', async () => {
    const {iterations, log, session, done} = startSession()
    session.queue.push(frontend('a.ts'))
    await iterations.started(1)
    session.queue.push(frontend('b.ts'))

    session.stop()
    expect(iterations.calls[0]?.signal.aborted).toBe(false)
    expect(log.events.at(-1)).toMatchObject({type: 'stopping', iteration: 1, abort: false})
    let returned = false
    void done.then(() => (returned = true))
    await new Promise((resolve) => setImmediate(resolve))
    expect(returned).toBe(false)

    iterations.finish(deployed)
    expect(await done).toEqual({iterations: 1, failed: 0})
    expect(iterations.calls).toHaveLength(1)
    expect(log.types().slice(-3)).toEqual(['stopping', 'iteration-finished', 'stopped'])
  })

  it('a second stop aborts the running iteration through its signal', async () => {
    const {iterations, log, session, done} = startSession()
    session.queue.push(frontend('a.ts'))
    await iterations.started(1)

    session.stop()
    session.stop()
    expect(iterations.calls[0]?.signal.aborted).toBe(true)
    expect(await done).toEqual({iterations: 1, failed: 1})
    expect(log.events.filter((event) => event.type === 'stopping')).toEqual([
      expect.objectContaining({iteration: 1, abort: false}),
      expect.objectContaining({iteration: 1, abort: true}),
    ])
    expect(log.events.at(-2)).toMatchObject({type: 'iteration-failed', error: new Error('dev stopped')})
  })

  it('stop while idle returns at once', async () => {
    const {iterations, log, session, done} = startSession()
    session.stop()
    expect(await done).toEqual({iterations: 0, failed: 0})
    expect(iterations.calls).toEqual([])
    expect(log.types()).toEqual(['watching', 'stopping', 'stopped'])
    expect(log.events[1]).toMatchObject({abort: false})
    expect(log.events[1]).not.toHaveProperty('iteration', expect.anything())
  })
})

describe('DevSession fed by a real SourceWatcher', () => {
  let project: DevProject | undefined
  let watcher: SourceWatcher | undefined
  afterEach(async () => {
    watcher?.close()
    await project?.remove()
  })

  it('an edit made while an iteration runs is queued and becomes exactly one more iteration', async () => {
    project = await devProject()
    const iterations = new ControlledIterations()
    const session = new DevSession({iterate: iterations.iterate, onEvent: () => {}})
    const recorder = new ChangeRecorder()
    watcher = await SourceWatcher.start(project.targets, {
      debounceMs: 300,
      onChange: (changes) => {
        recorder.onChange(changes)
        session.queue.push(changes)
      },
    })
    const done = session.run()

    await project.write('frontend/app/page.tsx', 'export default 2\n')
    await iterations.started(1)
    await project.write('frontend/app/page.tsx', 'export default 3\n')
    await project.write('backend/main.py', 'app = 3\n')
    // Both edits have reached the queue (as one or two change sets) while iteration 1 still runs.
    while (session.queue.pending?.services.length !== 2) await recorder.nth(recorder.received.length + 1)
    expect(iterations.calls).toHaveLength(1)

    iterations.finish(deployed)
    await iterations.started(2)
    expect(iterations.calls[1]?.changes.services).toEqual([
      {service: 'frontend', files: 1, paths: ['app/page.tsx']},
      {service: 'backend', files: 1, paths: ['main.py']},
    ])
    iterations.finish(deployed)
    session.stop()
    expect(await done).toEqual({iterations: 2, failed: 0})
  })
})
