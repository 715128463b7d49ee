import type {PhaseOutcome} from '../phase-runner.js'
import {rollBackAndWait, rolloutFailure} from '../rollback-step.js'
import type {Diagnosis} from '../../kube/rollout/diagnosis.js'
import {awaitRollout, type RolloutReport} from '../rollout-phase.js'
import type {ServicePlan} from './plan.js'
import type {EarlyRolloutWatch, UpResult, UpRun} from './run.js'
import {firstInstallOf, planOf} from './run.js'
import {uninstallFailedFirstInstall} from '../failed-first-install.js'

/**
 * Starts following the rollout as helm starts: the watches are established while helm works, so no
 * change is missed and none waits for a watch after it returns; the verdict is judged once `applied`
 * resolves (fenced at the generation the Deployments had then). A failing helm ends the watch with its
 * error, which the deploy phase reports.
 */
export function watchRolloutWith(run: UpRun, applied: Promise<unknown>): EarlyRolloutWatch {
  const {resolved, connection, options} = run
  const stop = new AbortController()
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal
  const early: string[] = []
  let report = (line: string): void => {
    early.push(line)
  }
  const verdict = awaitRollout(resolved, connection, {
    timeoutMs: options.timeoutMs,
    signal,
    startAfter: applied,
    onLine: (line) => report(line),
  })
  // Awaited by the rollout phase; a watch ended by a failing helm or a stop is nobody's error.
  verdict.catch(() => {})
  return {
    attach: (to) => {
      report = to
      for (const line of early.splice(0)) to(line)
      return verdict
    },
    stop: () => stop.abort(),
  }
}

/**
 * Follows the rollout. A failure is diagnosed and, as the plan decided, rolled back to the last good
 * revision and waited for; the error names both (kubedog: the tracker reports, the caller decides).
 */
export async function awaitUpRollout(run: UpRun, report: (line: string) => void): Promise<PhaseOutcome> {
  const {resolved, connection, options, result} = run
  const started = Date.now()
  const first = run.rollout
    ? await run.rollout.attach(report)
    : await awaitRollout(resolved, connection, {
        timeoutMs: options.timeoutMs,
        signal: options.signal,
        onLine: report,
      })
  const rollout = await recoverMissingImages(run, first, started, report)
  if (rollout.ok) return rollout.summary
  result.diagnosis = rollout.diagnosis
  const {onFailure} = planOf(run)
  // Nothing to roll back to: the failed first install is uninstalled, once the diagnosis is taken.
  if (onFailure.action === 'uninstall')
    throw rolloutFailure(rollout, [await uninstallFailedFirstInstall(connection, firstInstallOf(run))])
  if (onFailure.action === 'keep') throw rolloutFailure(rollout, [onFailure.reason])
  report(`rolling back to revision ${onFailure.revision}`)
  run.recorder.setState('RollingBack')
  result.rollback = await rollBack(run, onFailure.revision, report)
  throw rolloutFailure(rollout, [describeRollback(result.rollback)])
}

/**
 * The node's image list is a hint (it lags a removal by up to a minute), so an image the plan did not
 * load may still be missing: a pod that meets ErrImageNeverPull for it gets it loaded, and the rollout
 * goes on (the kubelet tries again by itself). Once per image, within the rollout's time.
 */
async function recoverMissingImages(
  run: UpRun,
  first: RolloutReport,
  started: number,
  report: (line: string) => void,
): Promise<RolloutReport> {
  const {resolved, connection, options} = run
  const loaded: string[] = []
  let rollout = first
  while (!rollout.ok) {
    const service = skippedLoadOf(run, rollout.diagnosis, loaded)
    if (service === undefined) return rollout
    loaded.push(service.ref)
    try {
      await connection.cluster.loadImage(service.ref, {
        signal: options.signal,
        // A service left out by --only keeps the deployed tag, not the image built from today's source.
        expectedImageId: service.tag === service.contentTag ? run.imageIds[service.service] : undefined,
      })
    } catch (error) {
      if (options.signal?.aborted) throw error
      const why = error instanceof Error ? error.message : String(error)
      report(`${service.service}: the node did not have ${service.ref}, and loading it failed: ${why}`)
      return rollout
    }
    const outcome = run.result.images.find((image) => image.service === service.service)
    if (outcome) {
      outcome.loaded = true
      delete outcome.loadSkipReason
    }
    report(`${service.service}: the node did not have ${service.ref}; loaded it`)
    rollout = await awaitRollout(resolved, connection, {
      timeoutMs: Math.max(options.timeoutMs - (Date.now() - started), 1),
      signal: options.signal,
      onLine: report,
      loadedImages: loaded,
    })
  }
  return rollout
}

/** The service whose image a pod could not find (ErrImageNeverPull), when the plan skipped its load. */
function skippedLoadOf(run: UpRun, diagnosis: Diagnosis, alreadyLoaded: string[]): ServicePlan | undefined {
  const plan = planOf(run)
  if (diagnosis.reason !== 'ErrImageNeverPull' || plan.imageLoad !== 'load') return undefined
  return plan.services.find(
    (service) =>
      service.ref === diagnosis.image &&
      service.load.action === 'skip' &&
      !alreadyLoaded.includes(service.ref),
  )
}

async function rollBack(
  run: UpRun,
  revision: number,
  report: (line: string) => void,
): Promise<NonNullable<UpResult['rollback']>> {
  const {resolved, connection, options} = run
  try {
    const {rollout} = await rollBackAndWait(resolved, connection, {
      revision,
      timeoutMs: options.timeoutMs,
      signal: options.signal,
      onLine: (line) => report(`rollback: ${line}`),
    })
    return rollout.ok
      ? {revision, result: 'rolled-back'}
      : {revision, result: 'failed', detail: rollout.message}
  } catch (error) {
    if (options.signal?.aborted) throw error
    return {revision, result: 'failed', detail: error instanceof Error ? error.message : String(error)}
  }
}

function describeRollback(rollback: NonNullable<UpResult['rollback']>): string {
  return rollback.result === 'rolled-back'
    ? `rolled back to revision ${rollback.revision}: the previous version is running again`
    : `the rollback to revision ${rollback.revision} failed too: ${rollback.detail}`
}
