import {verifyHealth} from '../health-check.js'
import type {PhaseOutcome} from '../phase-runner.js'
import type {UpRun} from './run.js'

/** The local port `up --port-forward` listens on when it is free (else any free one). */
export const PORT_FORWARD_LOCAL_PORT = 8080

/**
 * Health through the API server's proxy, then the URL; with `--port-forward`, the forward to the
 * frontend, kept open until the run's signal aborts (Ctrl-C).
 */
export async function verifyUp(run: UpRun, report: (line: string) => void): Promise<PhaseOutcome> {
  const {options} = run
  const health = await verifyHealth(run.resolved, run.connection, run.recorder, report, {
    ingress: {signal: options.signal},
    forwardFrom: options.portForward ? PORT_FORWARD_LOCAL_PORT : undefined,
  })
  run.result.health = health.report.answers
  run.result.url = health.report.url
  run.result.warnings.push(...health.warnings)
  const {forward} = health
  if (forward !== undefined) {
    run.result.forwarding = true
    const signal = options.signal
    if (signal?.aborted) await forward.close()
    else signal?.addEventListener('abort', () => void forward.close(), {once: true})
  }
  return health.summary
}
