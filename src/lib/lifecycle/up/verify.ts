import {verifyHealth} from '../health-check.js'
import type {PhaseOutcome} from '../phase-runner.js'
import type {UpRun} from './run.js'

/** Health through the API server's proxy, then the URL. */
export async function verifyUp(run: UpRun, report: (line: string) => void): Promise<PhaseOutcome> {
  const health = await verifyHealth(run.resolved, run.connection, run.recorder, report, {
    signal: run.options.signal,
  })
  run.result.health = health.report.answers
  run.result.url = health.report.url
  run.result.warnings.push(...health.warnings)
  return health.summary
}
