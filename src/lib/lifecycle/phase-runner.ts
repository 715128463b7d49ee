import {Listr, type ListrRendererFactory, type ListrTask, type ListrTaskWrapper} from 'listr2'

import {InterruptedError} from '../errors.js'
import type {LifecycleState, OperationRecorder} from './operation.js'

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
    rendererOptions: {persistentOutput: true},
  }
}

/** Runs the phases in order with the chosen renderer (silent for --json, simple without a TTY). */
export async function runPhases<Ctx>(tasks: ListrTask<Ctx, ListrRendererFactory, ListrRendererFactory>[], ctx: Ctx, renderer: Renderer): Promise<void> {
  await new Listr<Ctx, ListrRendererFactory, ListrRendererFactory>(tasks, {
    renderer: renderer as unknown as ListrRendererFactory,
    fallbackRenderer: 'simple' as unknown as ListrRendererFactory,
    exitOnError: true,
    // Ctrl-C is the lifecycle's to handle (stop children, release the lock, exit 130), not listr2's exit(127).
    registerSignalListeners: false,
    rendererOptions: {collapseSubtasks: false, collapseSkips: false, showSkipMessage: true, suffixSkips: false},
    ctx,
  }).run(ctx)
}

/** The error an interrupted operation ends with (exit 130), naming the phase it stopped in. */
export function interruptedError(command: string, phase: string | undefined): InterruptedError {
  return new InterruptedError(`interrupted during ${phase ?? command}`, {
    details: ['child processes were stopped and the lock released', `run \`todo-deploy ${command}\` again: it picks up from what is already done`],
  })
}
