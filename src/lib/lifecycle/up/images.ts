import type {ListrRendererFactory, ListrTask} from 'listr2'

import {InterruptedError} from '../../errors.js'
import type {LifecycleState, OperationRecorder} from '../operation.js'
import {buildService} from './build.js'
import {renderAhead} from './release-values.js'
import {loadService} from './load.js'
import type {ServicePlan} from './plan.js'
import {planOf, type UpRun} from './run.js'

export const IMAGES_TITLE = 'Build and load images'

/**
 * The images phase: each service goes build → deliver on its own, so one image is loaded while the
 * other still builds, and the phase ends when the last image is in. Deliver is the load into the node
 * today (a registry push takes its place when one is configured). The recorded `build` and `load`
 * phases keep their meaning and overlap in time: `build` runs from the first build to the last,
 * `load` from the first load to the last.
 */
export function imagesTask(run: UpRun): ListrTask<UpRun, ListrRendererFactory, ListrRendererFactory> {
  const {options} = run
  return {
    title: IMAGES_TITLE,
    task: async (_ctx, task) => {
      if (options.signal?.aborted) throw new InterruptedError('interrupted by the user')
      // The chart's render needs only the plan: it runs beside the builds, not after them.
      renderAhead(run)
      const outcome = await buildAndDeliver(run, (line) => {
        task.output = line
      })
      if (options.signal?.aborted) throw new InterruptedError('interrupted by the user')
      if (typeof outcome === 'object') task.skip(outcome.skip)
      else task.title = `${IMAGES_TITLE}: ${outcome}`
    },
    rendererOptions: {bottomBar: 4},
  }
}

async function buildAndDeliver(run: UpRun, report: (line: string) => void): Promise<string | {skip: string}> {
  const {result, recorder, options} = run
  const plan = planOf(run)
  const refs = (which: 'built' | 'loaded'): string[] =>
    result.images.filter((image) => image[which]).map((image) => image.ref)
  const build = new StepRecord(recorder, 'build', 'Building', plan.services, 'build', () =>
    refs('built').join(', '),
  )
  const load = new StepRecord(recorder, 'load', 'Loading', plan.services, 'load', () => {
    const loaded = refs('loaded')
    if (loaded.length > 0) return loaded.join(', ')
    return {skip: result.images.map((image) => `${image.ref}: ${image.loadSkipReason}`).join('; ')}
  })
  build.skipWhenNone(() => result.images.map((image) => image.buildSkipReason).join('; '))
  // The state says what is going on: Building while any build runs, then Loading.
  const settleState = (): void => {
    if (build.running) recorder.setState('Building')
    else if (load.running) recorder.setState('Loading')
  }
  // The first failure stops the other services' work, so nothing runs on after the phase ends.
  const stop = new AbortController()
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal
  let failure: {error: unknown} | undefined
  await Promise.all(
    plan.services.map(async (service) => {
      try {
        // A skipped build still runs: it finds the engine's image ID the load checks against.
        await build.time(service, () => buildService(run, service, signal, report), settleState)
        if (service.load.action === 'load')
          await load.time(service, () => loadService(run, service, signal, report), settleState)
      } catch (error) {
        // The first failure is the cause; the others are the stop it sent.
        failure ??= {error}
        stop.abort()
      }
    }),
  )
  if (failure) {
    const {error} = failure
    if (options.signal?.aborted) throw error
    const message = error instanceof Error ? error.message : String(error)
    build.fail(message)
    load.fail(message)
    throw error
  }
  // Recorded after the builds, so the phases read in the order the work happens.
  load.skipWhenNone(() => [...new Set(plan.services.map((service) => service.load.reason))].join('; '))
  const built = refs('built')
  const loaded = refs('loaded')
  if (built.length === 0 && loaded.length === 0)
    return {skip: result.images.map((image) => `${image.ref}: ${image.loadSkipReason}`).join('; ')}
  return [built.length > 0 && `built ${built.join(', ')}`, loaded.length > 0 && `loaded ${loaded.join(', ')}`]
    .filter(Boolean)
    .join('; ')
}

/**
 * One recorded phase made of the same step of several services: it starts with the first service's
 * step and ends with the last one's, so its timing is the step's own even while other steps overlap it.
 */
class StepRecord {
  private readonly planned: Set<string>
  private started = false
  private done = 0

  constructor(
    private readonly recorder: OperationRecorder,
    private readonly id: string,
    private readonly state: LifecycleState,
    services: ServicePlan[],
    action: 'build' | 'load',
    /** What the phase did, once its last step is done (`skip` when none of them changed anything). */
    private readonly outcome: () => string | {skip: string},
  ) {
    this.planned = new Set(
      services.filter((service) => service[action].action === action).map((service) => service.service),
    )
  }

  get running(): boolean {
    return this.started && this.done < this.planned.size
  }

  skipWhenNone(reason: () => string): void {
    if (this.planned.size === 0) this.recorder.skip(this.id, reason(), this.state)
  }

  /** Runs one service's step; a step the plan skips runs unrecorded. */
  async time(service: ServicePlan, step: () => Promise<void>, changed: () => void): Promise<void> {
    if (!this.planned.has(service.service)) return step()
    if (!this.started) {
      this.started = true
      this.recorder.start(this.id, this.state)
    }
    changed()
    await step()
    this.done++
    if (this.done === this.planned.size) {
      const outcome = this.outcome()
      if (typeof outcome === 'object') this.recorder.skip(this.id, outcome.skip)
      else this.recorder.succeed(this.id, outcome)
    }
    changed()
  }

  fail(message: string): void {
    if (this.running) this.recorder.fail(this.id, message)
  }
}
