import {describe, expect, onTestFinished, test} from 'vitest'

import {InterruptedError, isTodoDeployError, type TodoDeployError} from '../../src/lib/errors.js'
import {runDown, type DownResult} from '../../src/lib/lifecycle/down.js'
import type {PhaseResult} from '../../src/lib/lifecycle/operation.js'
import {runRollback, type RollbackResult} from '../../src/lib/lifecycle/rollback.js'
import {runUp} from '../../src/lib/lifecycle/up.js'
import {createTestProject, FakeCluster, testSecrets, type TestProject} from '../support/fake-connection.js'
import {UP_OPTIONS as UP, RELEASE, NAMESPACE, HOLDER} from '../support/lifecycle-fixtures.js'

/**
 * Where Ctrl-C lands in each phase: the call during which the signal aborts (as it starts, or 10 ms
 * into a slow one with `midCall`), what is slow there, and the double that must hear the abort (`sees`).
 */
interface Interrupt {
  phase: string
  during: string
  midCall?: boolean
  slow?: (fake: FakeCluster) => void
  sees?: (fake: FakeCluster) => string[]
}

/** Two deploys (backend v1, v2), so there is a revision to go back to; the pods follow helm. */
async function twoRevisions(): Promise<{p: TestProject; fake: FakeCluster}> {
  const p = createTestProject()
  onTestFinished(() => p.remove())
  const fake = new FakeCluster()
  fake.kubeletFollowsHelm(p.resolved)
  for (const version of ['v1', 'v2']) {
    p.write('backend/app/health', `ok ${version}\n`)
    await runUp(p.resolved, fake.connection, testSecrets(), UP)
  }
  return {p, fake}
}

/** Presses Ctrl-C when `during` is called (or 10 ms into it), runs `operation`, and returns its error. */
async function interrupted<R>(
  fake: FakeCluster,
  {during, midCall}: Interrupt,
  operation: (signal: AbortSignal) => Promise<R>,
): Promise<TodoDeployError & {result?: {phases: PhaseResult[]}}> {
  const controller = new AbortController()
  fake.log.onCall = (name) => {
    if (name !== during || controller.signal.aborted) return
    if (midCall) setTimeout(() => controller.abort(), 10)
    else controller.abort()
  }
  const error = await operation(controller.signal).then(
    () => undefined,
    (caught: unknown) => caught,
  )
  fake.log.onCall = undefined
  if (!isTodoDeployError(error)) throw new Error(`expected an InterruptedError, got ${String(error)}`)
  return error
}

async function expectInterruptedIn(
  fake: FakeCluster,
  error: TodoDeployError & {result?: {phases: PhaseResult[]}},
  command: string,
  phase: string,
): Promise<void> {
  expect(error).toBeInstanceOf(InterruptedError)
  expect(error.exitCode).toBe(130)
  expect(error.message).toBe(`interrupted during ${phase}`)
  expect(fake.lock.isHeld(RELEASE, NAMESPACE)).toBe(false)
  expect(fake.lock.released).toBe(fake.lock.acquired)
  expect(error.result?.phases.find((entry) => entry.phase === phase)?.state).toBe('interrupted')
  const operation = (await fake.state.read(NAMESPACE, RELEASE))?.operation
  expect(operation).toMatchObject({command, result: 'interrupted', interruptedPhase: phase})
  expect(operation?.phases.find((entry) => entry.phase === phase)?.state).toBe('interrupted')
}

const ROLLBACK_INTERRUPTS: Interrupt[] = [
  {phase: 'preflight', during: 'lock.acquire'},
  {
    phase: 'load',
    during: 'cluster.loadImage',
    // Revision 1's backend image left the cluster: it is reloaded (slowly) from the engine.
    midCall: true,
    slow: (fake) => {
      fake.cluster.loadMs = 30_000
      for (const ref of [...fake.cluster.images.keys()])
        if (ref.startsWith('todo-backend:') && ref !== fake.cluster.loads.at(-1))
          fake.cluster.images.delete(ref)
    },
    sees: (fake) => fake.cluster.sawAbort,
  },
  {phase: 'rollback', during: 'helm.rollback', sees: (fake) => fake.helm.sawAbort},
  {
    phase: 'rollout',
    during: 'rollout.wait',
    midCall: true,
    slow: (fake) => fake.rollout.script.push({status: 'hang'}),
    sees: (fake) => fake.rollout.sawAbort,
  },
  {
    phase: 'traffic',
    // The Services' watch starts with the rollout phase; 10 ms later the rollout is over.
    during: 'traffic.wait',
    midCall: true,
    // An old pod that never leaves the endpoints: only Ctrl-C ends the wait.
    slow: (fake) => {
      fake.traffic.stuckOldPods = ['todo-backend-7d9f8b6c4-x2x7q']
    },
    sees: (fake) => fake.traffic.sawAbort,
  },
  {phase: 'verify', during: 'api.serviceProxyGet'},
]

const DOWN_INTERRUPTS: Interrupt[] = [
  {phase: 'preflight', during: 'lock.acquire'},
  {phase: 'uninstall', during: 'helm.uninstall', sees: (fake) => fake.helm.sawAbort},
  // The pods never go by themselves: only Ctrl-C ends the watch.
  {phase: 'pods', during: 'workloads.watch', midCall: true},
  {phase: 'purge', during: 'secrets.deleteSecret'},
]

describe('rollback: Ctrl-C', () => {
  test.each(ROLLBACK_INTERRUPTS)(
    'Ctrl-C during $phase: exit 130, lock released, phase recorded as interrupted; a new rollback completes',
    async (interrupt) => {
      const {p, fake} = await twoRevisions()
      interrupt.slow?.(fake)
      const options = {timeoutMs: 300_000, holder: HOLDER, renderer: 'silent' as const}

      const error = await interrupted(fake, interrupt, (signal) =>
        runRollback(p.resolved, fake.connection, {...options, signal}),
      )

      await expectInterruptedIn(fake, error, 'rollback', interrupt.phase)
      if (interrupt.sees) expect(interrupt.sees(fake)).not.toEqual([])
      expect((error.result as RollbackResult | undefined)?.toRevision).toBe(1)

      fake.cluster.loadMs = 0
      fake.traffic.stuckOldPods = []
      const next = await runRollback(p.resolved, fake.connection, {...options, revision: 1})
      expect(next.state).toBe('Healthy')
      expect(fake.lock.isHeld(RELEASE, NAMESPACE)).toBe(false)
    },
  )
})

describe('down: Ctrl-C', () => {
  test.each(DOWN_INTERRUPTS)(
    'Ctrl-C during $phase: exit 130, lock released, phase recorded as interrupted; a new down completes',
    async (interrupt) => {
      const {p, fake} = await twoRevisions()
      const options = {purge: true, keep: 0, timeoutMs: 120_000, holder: HOLDER, renderer: 'silent' as const}
      if (interrupt.phase === 'purge') fake.workloads.publish({pods: []})

      const error = await interrupted(fake, interrupt, (signal) =>
        runDown(p.resolved, fake.connection, {...options, signal}),
      )

      await expectInterruptedIn(fake, error, 'down', interrupt.phase)
      if (interrupt.sees) expect(interrupt.sees(fake)).not.toEqual([])
      expect((error.result as DownResult | undefined)?.command).toBe('down')
      if (interrupt.phase === 'purge') {
        // Stopped after the Secret: the record, the namespace and the images are still there.
        expect(fake.secrets.secrets.size).toBe(0)
        expect(fake.api.namespaces.has(NAMESPACE)).toBe(true)
        expect(fake.engine.images.size).toBeGreaterThan(0)
      }

      fake.workloads.publish({deployments: [], pods: [], services: []})
      const next = await runDown(p.resolved, fake.connection, options)
      expect(next.state).toBe(
        interrupt.phase === 'preflight' || interrupt.phase === 'uninstall' ? 'Removed' : 'NotDeployed',
      )
      expect(fake.lock.isHeld(RELEASE, NAMESPACE)).toBe(false)
      expect(fake.helm.revisions(RELEASE, NAMESPACE)).toEqual([])
    },
  )
})
