import type {ResolvedConfig} from '../config/load.js'
import {DeployError} from '../errors.js'
import type {ReleaseInfo} from '../helm/helm-client.js'
import {renderDiagnosis} from '../kube/rollout/diagnosis.js'
import type {Connection} from './ports.js'
import {awaitRollout, type RolloutReport} from './rollout-phase.js'
import {awaitTraffic} from './traffic-phase.js'

/**
 * `helm rollback` of the configured release to `revision`; the revision helm wrote for it. The one
 * rollback step: `rollback` runs it as a phase, `up` after a failed rollout (through rollBackAndWait).
 */
export async function rollBackTo(
  resolved: ResolvedConfig,
  connection: Pick<Connection, 'helm'>,
  request: {revision: number; signal?: AbortSignal; onLine: (line: string) => void},
): Promise<ReleaseInfo | null> {
  const {release, namespace} = resolved.config
  request.onLine(`helm rollback ${release} ${request.revision}`)
  await connection.helm.rollback(release, request.revision, namespace, {signal: request.signal})
  return connection.helm.status(release, namespace)
}

/**
 * Rolls back to `revision`, then follows the rollout back like any other and, once it rolled out, waits
 * until the Services route to the restored pods alone: "rolled back" means the previous version is what
 * the URL serves (the failed revision's pods answered until then).
 */
export async function rollBackAndWait(
  resolved: ResolvedConfig,
  connection: Pick<Connection, 'helm' | 'rollout' | 'traffic'>,
  request: {revision: number; timeoutMs: number; signal?: AbortSignal; onLine: (line: string) => void},
): Promise<{release: ReleaseInfo | null; rollout: RolloutReport}> {
  const release = await rollBackTo(resolved, connection, request)
  const rollout = await awaitRollout(resolved, connection, request)
  if (rollout.ok) await awaitTraffic(resolved, connection, request)
  return {release, rollout}
}

/** A failed rollout as the error the user sees: what failed and where, the diagnosis, then `extra` lines. */
export function rolloutFailure(
  report: Extract<RolloutReport, {ok: false}>,
  extra: string[] = [],
): DeployError {
  return new DeployError(report.message, {
    details: [...renderDiagnosis(report.diagnosis, {includeFix: false}), ...extra],
    fix: report.diagnosis.fix,
  })
}
