import {afterEach, describe, expect, onTestFinished, test, vi} from 'vitest'

import {runRollback} from '../../src/lib/lifecycle/rollback.js'
import {runUp} from '../../src/lib/lifecycle/up.js'
import {ENDPOINT_PROPAGATION_MS, PROXY_PROPAGATION_MS} from '../support/fakes/cluster-lags.js'
import {createTestProject, FakeCluster, HOLDER, testSecrets, UP_OPTIONS} from '../support/fake-connection.js'

// Captured before any test fakes the timers: real waits let the in-process fakes' I/O finish.
const realSetTimeout = globalThis.setTimeout

/**
 * Runs `work` in simulated time: whenever the real work has gone quiet, the fake clock jumps to the
 * next timer (a lag of the fakes, the traffic phase's allowance), never while work is under way.
 */
async function inSimulatedTime<T>(work: Promise<T>): Promise<T> {
  let outcome: {value: T} | {error: unknown} | undefined
  work.then(
    (value) => (outcome = {value}),
    (error: unknown) => (outcome = {error}),
  )
  while (outcome === undefined) {
    await new Promise((resolve) => realSetTimeout(resolve, 5))
    if (outcome === undefined && vi.getTimerCount() > 0) await vi.advanceTimersToNextTimerAsync()
  }
  if ('error' in outcome) throw outcome.error
  return outcome.value
}

/** A project deployed once on a cluster that keeps a real cluster's endpoint and kube-proxy lags. */
async function deployedOnce() {
  vi.useFakeTimers({toFake: ['setTimeout', 'clearTimeout', 'Date']})
  const p = createTestProject()
  onTestFinished(() => p.remove())
  const fake = new FakeCluster()
  fake.kubeletFollowsHelm(p.resolved)
  fake.traffic.lags = true
  const up = () => inSimulatedTime(runUp(p.resolved, fake.connection, testSecrets(), UP_OPTIONS))
  const first = await up()
  expect(first.state).toBe('Healthy')
  // 20 GETs one after the other, right away: what a user (or a script) does once the command returns.
  const twentyGets = async () => {
    const answers: (string | undefined)[] = []
    for (let i = 0; i < 20; i++) answers.push(await fake.reach.get('http://192.168.49.2:30080/'))
    return answers
  }
  return {p, fake, up, twentyGets}
}

const frontendTag = (result: {images: {service: string; tag: string}[]}) =>
  result.images.find((image) => image.service === 'frontend')?.tag

afterEach(() => {
  vi.useRealTimers()
})

describe('success means served (fault 1: old code after "Healthy")', () => {
  test('right after `up` of a changed page returns Healthy, 20 GETs of the URL all get the new page', async () => {
    const {p, up, twentyGets} = await deployedOnce()
    p.write('frontend/app/index.html', '<h1>todo, version 2</h1>\n')
    const second = await up()
    expect(second.state).toBe('Healthy')
    const v2 = frontendTag(second)
    expect(v2).toBeDefined()
    expect(await twentyGets()).toEqual(Array.from({length: 20}, () => v2))
    // Its own phase, with its time: the endpoints' lag, then kube-proxy's allowance.
    const traffic = second.phases.find((phase) => phase.phase === 'traffic')
    expect(traffic?.state).toBe('succeeded')
    expect(traffic?.durationMs).toBeGreaterThanOrEqual(ENDPOINT_PROPAGATION_MS + PROXY_PROPAGATION_MS)
  })

  test('right after `rollback` returns, 20 GETs all get the version rolled back to', async () => {
    const {p, fake, up, twentyGets} = await deployedOnce()
    const v1 = fake.traffic.current
    p.write('frontend/app/index.html', '<h1>todo, version 2</h1>\n')
    await up()
    const rolledBack = await inSimulatedTime(
      runRollback(p.resolved, fake.connection, {
        holder: HOLDER,
        renderer: 'silent',
        timeoutMs: UP_OPTIONS.timeoutMs,
      }),
    )
    expect(rolledBack.state).toBe('Healthy')
    expect(await twentyGets()).toEqual(Array.from({length: 20}, () => v1))
    expect(rolledBack.phases.map((phase) => phase.phase)).toContain('traffic')
  })

  test('an `up` that changes nothing does not wait for traffic', async () => {
    const {up} = await deployedOnce()
    const again = await up()
    expect(again.phases.find((phase) => phase.phase === 'traffic')?.state).toBe('skipped')
  })

  test('old pods that keep receiving traffic: exit 5 within the rollout timeout, naming them', async () => {
    const {p, fake, up} = await deployedOnce()
    fake.traffic.stuckOldPods = ['todo-frontend-7d9f8b6c4-x2x7q']
    p.write('frontend/app/index.html', '<h1>todo, version 2</h1>\n')
    const failed = up().then(
      () => undefined,
      (error: unknown) => error,
    )
    const error = (await failed) as {exitCode: number; message: string; details?: string[]}
    expect(error.exitCode).toBe(5)
    expect(error.message).toContain('did not route to the new pods alone within 300s')
    expect(error.details?.join('\n')).toContain(
      'todo-frontend-service still sends traffic to todo-frontend-7d9f8b6c4-x2x7q',
    )
  })
})
