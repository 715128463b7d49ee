import {AppModel, describeOperation, type Operation, type SourceContent} from './app-model.js'
import {mismatches, type Observation} from './step-check.js'

/** A place to play operations: the in-process fakes, or the CLI on a real cluster. */
export interface SequenceWorld {
  /**
   * Runs one operation and reports what a user would see right after it. `source` is the app's source
   * as the operation leaves it (an edit writes it; `dev-iteration` writes its frontend mid-way).
   */
  run(operation: Operation, source: SourceContent): Promise<Observation>
}

export interface SequenceOptions {
  seed: number
  operations: Operation[]
  /** The secret values the CLI was given; none may be printed. */
  secrets: Record<string, string>
  /** One line per step (the e2e run prints them as it goes). */
  onStep?: (line: string) => void
  /**
   * Play on past a step that differs and fail at the end with every difference: to see all the faults
   * one sequence meets on a real cluster in one (long) run. Later steps may then differ only because
   * an earlier one did.
   */
  keepGoing?: boolean
}

/** How to replay a failed sequence, for the failure message. */
export function replayHint(seed: number, count: number): string {
  return `replay with TODO_DEPLOY_SEQ_SEED=${seed} TODO_DEPLOY_SEQ_OPS=${count}`
}

/**
 * Plays the operations one after another, with no pause between them, and checks each against the
 * model; throws at the first step that differs, naming the seed, the step and the steps before it.
 */
export async function playSequence(world: SequenceWorld, options: SequenceOptions): Promise<void> {
  const model = new AppModel()
  const done: string[] = []
  const failures: string[] = []
  for (const [index, operation] of options.operations.entries()) {
    const expectation = model.apply(operation)
    const started = Date.now()
    const observation = await world.run(operation, model.source)
    const step = `${index + 1}/${options.operations.length} ${describeOperation(operation)}`
    const problems = mismatches(expectation, observation, options.secrets)
    options.onStep?.(
      `${step}: exit ${observation.exitCode}, revision ${observation.revision} (${Date.now() - started} ms)${problems.length > 0 ? ' ✗' : ''}`,
    )
    if (problems.length > 0) {
      const failure = [
        `sequence seed ${options.seed}, step ${step}: ${problems.join('; ')}`,
        `steps before: ${done.join(' → ') || '(none)'}`,
        replayHint(options.seed, options.operations.length),
        ...(observation.exitCode === expectation.exitCode
          ? []
          : ['--- output ---', tail(observation.printed)]),
      ].join('\n')
      if (options.keepGoing !== true) throw new Error(failure)
      options.onStep?.(failure)
      failures.push(`step ${step}: ${problems.join('; ')}`)
    }
    done.push(describeOperation(operation))
  }
  if (failures.length > 0)
    throw new Error(
      [
        `sequence seed ${options.seed}: ${failures.length} steps differ from the model`,
        ...failures,
        replayHint(options.seed, options.operations.length),
      ].join('\n'),
    )
}

function tail(text: string): string {
  return text.split('\n').slice(-30).join('\n')
}
