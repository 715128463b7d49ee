import {describe, expect, it} from 'vitest'

import {DeployError, ExitCode, InterruptedError} from '../../src/lib/errors.js'
import {OperationRecorder, type LifecycleState, type PhaseResult} from '../../src/lib/lifecycle/operation.js'
import {
  phaseFactory,
  runOperation,
  runPhases,
  type PhaseOutcome,
} from '../../src/lib/lifecycle/phase-runner.js'
import {CallLog, FakeReleaseLock} from '../support/fake-connection.js'

type Ctx = {lock?: {release(): Promise<void>}}

/** One operation's phases, run through listr2 (silent) as the commands run them. */
function operation(command = 'up') {
  const recorder = new OperationRecorder(command)
  const controller = new AbortController()
  const phase = phaseFactory<Ctx>(recorder, controller.signal)
  return {recorder, controller, phase}
}

const states = (recorder: OperationRecorder) =>
  recorder.results().map(({phase, state, detail, skipReason}) => ({phase, state, detail, skipReason}))

describe('phaseTask', () => {
  it('records each outcome: a detail line, a skip with its reason, a failure with its message', async () => {
    const {recorder, phase} = operation()
    const failure = new DeployError('helm upgrade --install failed')
    const tasks = [
      phase('build', 'Build images', 'Building', async (): Promise<PhaseOutcome> => '2 images built'),
      phase('load', 'Load images', 'Loading', async (): Promise<PhaseOutcome> => ({skip: 'already loaded'})),
      phase('secret', 'Apply the Secret', 'Deploying', async (): Promise<PhaseOutcome> => undefined),
      phase('deploy', 'Deploy', 'Deploying', async (): Promise<PhaseOutcome> => {
        throw failure
      }),
      phase('wait', 'Wait', 'Starting', async (): Promise<PhaseOutcome> => 'never runs'),
    ]
    await expect(runPhases(tasks, {}, 'silent')).rejects.toBe(failure)
    expect(states(recorder)).toEqual([
      {phase: 'build', state: 'succeeded', detail: '2 images built', skipReason: undefined},
      {phase: 'load', state: 'skipped', detail: undefined, skipReason: 'already loaded'},
      {phase: 'secret', state: 'succeeded', detail: undefined, skipReason: undefined},
      {phase: 'deploy', state: 'failed', detail: 'helm upgrade --install failed', skipReason: undefined},
    ])
    expect(recorder.lifecycleState).toBe('Deploying')
  })

  it('takes the lifecycle state from a function when the phase starts, not when it is declared', async () => {
    const {recorder, phase} = operation()
    let upgrading = false
    const tasks = [
      phase('plan', 'Plan', 'Initial', async (): Promise<PhaseOutcome> => {
        upgrading = true
      }),
      phase(
        'deploy',
        'Deploy',
        (): LifecycleState => (upgrading ? 'Updating' : 'Deploying'),
        async () => {},
      ),
    ]
    await runPhases(tasks, {}, 'silent')
    expect(recorder.results().map((result) => result.lifecycleState)).toEqual(['Initial', 'Updating'])
  })

  it('turns an abort during a phase into InterruptedError and leaves the phase running (not failed)', async () => {
    const {recorder, controller, phase} = operation()
    const tasks = [
      phase('deploy', 'Deploy', 'Deploying', async (): Promise<PhaseOutcome> => {
        controller.abort()
        throw new Error('helm was killed by SIGTERM')
      }),
    ]
    const error = await runPhases(tasks, {}, 'silent').catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(InterruptedError)
    expect((error as InterruptedError).cause).toBeInstanceOf(Error)
    expect(recorder.runningPhase()).toBe('deploy')
  })

  it('is interrupted by an abort even when the phase body itself finished normally', async () => {
    const {recorder, controller, phase} = operation()
    const tasks = [
      phase('build', 'Build', 'Building', async (): Promise<PhaseOutcome> => {
        controller.abort()
        return 'done anyway'
      }),
    ]
    await expect(runPhases(tasks, {}, 'silent')).rejects.toBeInstanceOf(InterruptedError)
    expect(recorder.runningPhase()).toBe('build')
  })

  it('does not start a phase once the operation is aborted', async () => {
    const {recorder, controller, phase} = operation()
    let ran = false
    controller.abort()
    const tasks = [
      phase('build', 'Build', 'Building', async (): Promise<PhaseOutcome> => {
        ran = true
      }),
    ]
    await expect(runPhases(tasks, {}, 'silent')).rejects.toBeInstanceOf(InterruptedError)
    expect(ran).toBe(false)
    expect(recorder.results()).toEqual([])
  })
})

describe('runOperation', () => {
  /** A lock taken from the fake lock store, as the commands take it. */
  async function lockFor(lock: FakeReleaseLock) {
    return lock.acquire({namespace: 'ns', release: 'rel', holder: 'tester', command: 'todo-deploy up'})
  }

  it('settles a success: phases and reported state in the result, the lock released', async () => {
    const {recorder, controller, phase} = operation('down')
    const lock = new FakeReleaseLock(new CallLog())
    const result: {phases: PhaseResult[]; state: string} = {phases: [], state: 'Initial'}
    await runOperation({
      command: 'down',
      recorder,
      tasks: [phase('remove', 'Remove', 'Removing', async () => 'release uninstalled')],
      ctx: {lock: await lockFor(lock)},
      renderer: 'silent',
      signal: controller.signal,
      result,
      succeeded: () => 'Removed',
      reported: () => 'NotDeployed',
    })
    expect(result.state).toBe('NotDeployed')
    expect(result.phases).toMatchObject([
      {phase: 'remove', state: 'succeeded', detail: 'release uninstalled'},
    ])
    expect(recorder.operation).toMatchObject({result: 'succeeded', state: 'Removed'})
    expect(lock.released).toBe(1)
    expect(lock.isHeld('rel', 'ns')).toBe(false)
  })

  it('settles a failure: the error carries the result, the state is the failed one, the lock released', async () => {
    const {recorder, controller, phase} = operation('rollback')
    const lock = new FakeReleaseLock(new CallLog())
    const result = {phases: [] as PhaseResult[], state: 'Initial' as string}
    const failure = new DeployError('the rollout failed: CrashLoopBackOff')
    const error = await runOperation({
      command: 'rollback',
      recorder,
      tasks: [
        phase('rollback', 'Roll back', 'RollingBack', async (): Promise<PhaseOutcome> => {
          throw failure
        }),
      ],
      ctx: {lock: await lockFor(lock)},
      renderer: 'silent',
      signal: controller.signal,
      result,
      succeeded: () => 'Running',
    }).catch((caught: unknown) => caught)
    expect(error).toBe(failure)
    expect((error as DeployError & {result: unknown}).result).toBe(result)
    expect(result.state).toBe('Failed')
    expect(result.phases).toMatchObject([{phase: 'rollback', state: 'failed'}])
    expect(recorder.operation.result).toBe('failed')
    expect(lock.released).toBe(1)
  })

  it('uses the command-specific failed state when given', async () => {
    const {recorder, phase} = operation()
    const result = {phases: [] as PhaseResult[], state: 'Initial' as string}
    await runOperation({
      command: 'up',
      recorder,
      tasks: [
        phase('deploy', 'Deploy', 'Deploying', async (): Promise<PhaseOutcome> => {
          throw new DeployError('no')
        }),
      ],
      ctx: {},
      renderer: 'silent',
      result,
      succeeded: () => 'Healthy',
      failed: 'Running',
    }).catch(() => undefined)
    expect(result.state).toBe('Running')
  })

  it('settles an abort as exit 130 naming the interrupted phase, keeps the state it stopped in, releases the lock', async () => {
    const {recorder, controller, phase} = operation('up')
    const lock = new FakeReleaseLock(new CallLog())
    const handle = await lockFor(lock)
    const result = {phases: [] as PhaseResult[], state: 'Initial' as string}
    const error = await runOperation({
      command: 'up',
      recorder,
      tasks: [
        phase('build', 'Build', 'Building', async () => 'built'),
        phase('deploy', 'Deploy', 'Deploying', async (): Promise<PhaseOutcome> => {
          controller.abort()
          throw new InterruptedError('helm upgrade interrupted')
        }),
        phase('wait', 'Wait', 'Starting', async () => 'never'),
      ],
      ctx: {lock: handle},
      renderer: 'silent',
      signal: controller.signal,
      result,
      succeeded: () => 'Healthy',
    }).catch((caught: unknown) => caught)

    expect(error).toBeInstanceOf(InterruptedError)
    expect((error as InterruptedError).exitCode).toBe(ExitCode.Interrupted)
    expect((error as InterruptedError).exitCode).toBe(130)
    expect((error as InterruptedError).message).toBe('interrupted during deploy')
    expect((error as InterruptedError & {result: unknown}).result).toBe(result)
    expect(result.state).toBe('Deploying')
    expect(result.phases).toMatchObject([
      {phase: 'build', state: 'succeeded'},
      {phase: 'deploy', state: 'interrupted'},
    ])
    expect(recorder.operation).toMatchObject({result: 'interrupted', interruptedPhase: 'deploy'})
    expect(lock.released).toBe(1)
  })

  it('a lock that fails to release does not hide the outcome', async () => {
    const {recorder, phase} = operation()
    const result = {phases: [] as PhaseResult[], state: 'Initial' as string}
    const lock = {
      release: async () => {
        throw new Error('leases "todo-deploy-lock-rel" not found')
      },
    }
    await expect(
      runOperation({
        command: 'up',
        recorder,
        tasks: [phase('deploy', 'Deploy', 'Deploying', async () => 'ok')],
        ctx: {lock},
        renderer: 'silent',
        result,
        succeeded: () => 'Healthy',
      }),
    ).resolves.toBeUndefined()
    expect(result.state).toBe('Healthy')
  })
})
