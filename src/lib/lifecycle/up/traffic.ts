import type {PhaseOutcome} from '../phase-runner.js'
import {followTraffic} from '../traffic-phase.js'
import type {UpRun} from './run.js'

type Step = (run: UpRun, report: (line: string) => void) => Promise<PhaseOutcome>

/**
 * The rollout phase, with the Services' watch started as it starts: the watch sees the moment the
 * EndpointSlices switch to the new pods (usually as the rollout ends), so the traffic phase waits for
 * kube-proxy only what is left of its allowance. Judged once the rollout succeeded; a failed rollout
 * ends the watch.
 */
export function followUpTraffic(rollout: Step): Step {
  return (run, report) => {
    const rolledOut = rollout(run, report)
    if (run.result.helm.action !== 'skipped')
      run.traffic = followTraffic(run.resolved, run.connection, {
        timeoutMs: run.options.timeoutMs,
        signal: run.options.signal,
        startAfter: rolledOut,
      })
    return rolledOut
  }
}

/**
 * Success means served: the Services route to the new pods alone, and kube-proxy had the time to
 * follow. Nothing to wait for when helm changed nothing.
 */
export async function awaitUpTraffic(run: UpRun, report: (line: string) => void): Promise<PhaseOutcome> {
  if (run.traffic === undefined) return {skip: 'helm changed nothing: the Services route as before'}
  return run.traffic.attach(report)
}
