import type {ListrRendererFactory, ListrTask, ListrTaskWrapper} from 'listr2'

import {InterruptedError, isTodoDeployError} from '../errors.js'
import type {LockHandle} from '../kube/release-lock.js'
import {OperationRecorder, type LifecycleState, type PhaseResult} from './operation.js'
import type {Connection} from './ports.js'

export type Renderer = 'default' | 'simple' | 'silent'
export type PhaseTask<Ctx> = ListrTaskWrapper<Ctx, ListrRendererFactory, ListrRendererFactory>

/** What a phase body returns: a line for the title, `{skip}` with the reason, or nothing. */
export type PhaseOutcome = string | {skip: string} | void

/**
 * One lifecycle phase as a listr2 task: its transitions are recorded (start, success with a detail,
 * skip with its reason, failure), its title shows the outcome, and an abort turns into InterruptedError.
 */
export function phaseTask<Ctx>(
  recorder: OperationRecorder,
  signal: AbortSignal | undefined,
  id: string,
  title: string,
  lifecycleState: LifecycleState | (() => LifecycleState),
  body: (task: PhaseTask<Ctx>) => Promise<PhaseOutcome>,
): ListrTask<Ctx, ListrRendererFactory, ListrRendererFactory> {
  const checkInterrupted = (): void => {
    if (signal?.aborted) throw new InterruptedError('interrupted by the user')
  }
  return {
    title,
    task: async (_ctx, task) => {
      checkInterrupted()
      recorder.start(id, typeof lifecycleState === 'function' ? lifecycleState() : lifecycleState)
      try {
        const outcome = await body(task)
        checkInterrupted()
        if (outcome && typeof outcome === 'object') {
          recorder.skip(id, outcome.skip)
          task.skip(outcome.skip)
        } else {
          recorder.succeed(id, outcome ?? undefined)
          if (outcome) task.title = `${title}: ${outcome}`
        }
      } catch (error) {
        if (signal?.aborted) throw new InterruptedError('interrupted by the user', {cause: error})
        recorder.fail(id, error instanceof Error ? error.message : String(error))
        throw error
      }
    },
    // One progress line per update; on a terminal the last few stay visible under the title.
    rendererOptions: {bottomBar: 4},
  }
}

/** `phase(id, title, state, body)` for one operation: binds the recorder and the abort signal once. */
export function phaseFactory<Ctx>(recorder: OperationRecorder, signal: AbortSignal | undefined) {
  return (
    id: string,
    title: string,
    lifecycleState: LifecycleState | (() => LifecycleState),
    body: (task: PhaseTask<Ctx>) => Promise<PhaseOutcome>,
  ): ListrTask<Ctx, ListrRendererFactory, ListrRendererFactory> =>
    phaseTask<Ctx>(recorder, signal, id, title, lifecycleState, body)
}

/**
 * Takes the release's lock for `command` and, from then on, records the operation in the cluster
 * (the namespace must exist).
 */
export async function lockRelease(
  connection: Pick<Connection, 'lock' | 'state'>,
  recorder: OperationRecorder,
  request: {namespace: string; release: string; holder: string; command: string},
): Promise<LockHandle> {
  const lock = await connection.lock.acquire(request)
  await recorder.persistTo(connection.state, request.namespace, request.release)
  return lock
}

/** Runs the phases in order with the chosen renderer (silent for --json, simple without a TTY). */
export async function runPhases<Ctx>(
  tasks: ListrTask<Ctx, ListrRendererFactory, ListrRendererFactory>[],
  ctx: Ctx,
  renderer: Renderer,
): Promise<void> {
  // Loaded here, not with the module: a command that runs no phases (status) never reads listr2.
  const {Listr} = await import('listr2')
  await new Listr<Ctx, ListrRendererFactory, ListrRendererFactory>(tasks, {
    renderer: renderer as unknown as ListrRendererFactory,
    fallbackRenderer: 'simple' as unknown as ListrRendererFactory,
    exitOnError: true,
    // Ctrl-C is the lifecycle's to handle (stop children, release the lock, exit 130), not listr2's exit(127).
    registerSignalListeners: false,
    rendererOptions: {
      collapseSubtasks: false,
      collapseSkips: false,
      showSkipMessage: true,
      suffixSkips: false,
    },
    ctx,
  }).run(ctx)
}

/** The error an interrupted operation ends with (exit 130), naming the phase it stopped in. */
export function interruptedError(command: string, phase: string | undefined): InterruptedError {
  return new InterruptedError(`interrupted during ${phase ?? command}`, {
    details: [
      'child processes were stopped and the lock released',
      `run \`todo-deploy ${command}\` again: it picks up from what is already done`,
    ],
  })
}

export interface OperationRun<Ctx, Reported extends string = LifecycleState> {
  command: string
  recorder: OperationRecorder
  tasks: ListrTask<Ctx, ListrRendererFactory, ListrRendererFactory>[]
  ctx: Ctx & {lock?: {release(): Promise<void>}}
  renderer: Renderer
  signal?: AbortSignal
  /** The operation's result: its phases and state are filled in, and it travels with any error for `--json`. */
  result: {phases: PhaseResult[]; state: Reported | LifecycleState}
  /** The lifecycle state a successful run leaves (recorded with the result). */
  succeeded: () => LifecycleState
  /** The state a failed run leaves; default Failed. */
  failed?: LifecycleState
  /** What the result says after a success when it differs from the recorded state (`down`: NotDeployed). */
  reported?: (recorded: LifecycleState) => Reported
}

/**
 * Runs an operation's phases and settles it the same way for every command, in this one place: the
 * outcome and the interrupted phase are recorded, the result takes the recorded state, the lock is
 * released whatever happened, an abort ends as exit 130, and the partial result rides along with any
 * user-facing error.
 */
export async function runOperation<Ctx, Reported extends string = LifecycleState>(
  run: OperationRun<Ctx, Reported>,
): Promise<void> {
  const {recorder, result, signal} = run
  try {
    await runPhases(run.tasks, run.ctx, run.renderer)
    const state = run.succeeded()
    await recorder.finish('succeeded', state)
    result.phases = recorder.results()
    result.state = run.reported?.(state) ?? state
  } catch (error) {
    const interrupted = signal?.aborted === true || error instanceof InterruptedError
    await recorder.finish(
      interrupted ? 'interrupted' : 'failed',
      interrupted ? recorder.lifecycleState : (run.failed ?? 'Failed'),
    )
    result.phases = recorder.results()
    result.state = recorder.lifecycleState
    if (interrupted)
      throw Object.assign(interruptedError(run.command, recorder.operation.interruptedPhase), {result})
    throw isTodoDeployError(error) ? Object.assign(error, {result}) : error
  } finally {
    await run.ctx.lock?.release().catch(() => undefined)
  }
}

/**
 * What `down` and `rollback` start with: the operation's recorder, `phase` bound to it, the head of the
 * result (command, release, namespace) and `settle`, which runs the phases and settles the operation
 * (runOperation) with the command's renderer and abort signal.
 */
export function startOperation<Command extends string, Ctx extends {lock?: {release(): Promise<void>}}>(
  command: Command,
  config: {release: string; namespace: string},
  ctx: Ctx,
  options: {renderer: Renderer; signal?: AbortSignal},
) {
  const recorder = new OperationRecorder(command)
  const {renderer, signal} = options
  return {
    recorder,
    phase: phaseFactory<Ctx>(recorder, signal),
    head: {command, release: config.release, namespace: config.namespace},
    settle: <Reported extends string = LifecycleState>(
      tasks: OperationRun<Ctx, Reported>['tasks'],
      result: OperationRun<Ctx, Reported>['result'],
      states: Pick<OperationRun<Ctx, Reported>, 'succeeded' | 'failed' | 'reported'>,
    ) => runOperation<Ctx, Reported>({command, recorder, tasks, ctx, renderer, signal, result, ...states}),
  }
}
