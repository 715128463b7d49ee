import type {ResolvedConfig} from '../config/load.js'
import {SERVICE_NAMES} from '../config/schema.js'
import type {Diagnosis} from '../kube/rollout/diagnosis.js'
import type {RolloutProgress} from '../kube/rollout/rollout-tracker.js'
import {releaseSelector} from '../kube/kube-client.js'
import type {Connection} from './ports.js'

export type RolloutReport = {ok: true; summary: string} | {ok: false; message: string; diagnosis: Diagnosis}

/**
 * Follows the configured release's Deployments until they are rolled out or fail, with one live
 * line per Deployment. Shared by `up`, `rollback` and the automatic rollback after a failed `up`.
 */
export async function awaitRollout(
  resolved: ResolvedConfig,
  connection: Pick<Connection, 'rollout'>,
  request: {
    timeoutMs: number
    signal?: AbortSignal
    onLine: (line: string) => void
    /** Watch now, judge once this settles (helm returned): the tracker's `startAfter`. */
    startAfter?: Promise<unknown>
    /** Images loaded after a pod met ErrImageNeverPull for them (the tracker's `loadedImages`). */
    loadedImages?: readonly string[]
  },
): Promise<RolloutReport> {
  const {config} = resolved
  const outcome = await connection.rollout.wait({
    namespace: config.namespace,
    labelSelector: releaseSelector(config.release),
    deployments: SERVICE_NAMES.filter((name) => config.services[name].enabled).map(
      (name) => config.services[name].deployment,
    ),
    timeoutMs: request.timeoutMs,
    crashLoopRestarts: config.rollout.crashLoopRestarts,
    signal: request.signal,
    startAfter: request.startAfter,
    ...(request.loadedImages ? {loadedImages: request.loadedImages} : {}),
    onProgress: (update) => request.onLine(describeProgress(update)),
  })
  if (outcome.status === 'rolled-out') {
    return {
      ok: true,
      summary: outcome.deployments.map((d) => `${d.name} ${d.replicas}/${d.replicas} ready`).join(', '),
    }
  }
  const {diagnosis} = outcome
  const where = [
    diagnosis.deployment,
    diagnosis.pod && `pod ${diagnosis.pod}`,
    diagnosis.container && `container ${diagnosis.container}`,
  ]
    .filter(Boolean)
    .join(', ')
  const message =
    outcome.status === 'timed-out'
      ? `the rollout did not finish within ${Math.round(request.timeoutMs / 1000)}s: ${where}: ${diagnosis.reason}`
      : `the rollout failed: ${where}: ${diagnosis.reason}`
  return {ok: false, message, diagnosis}
}

export function describeProgress(update: RolloutProgress): string {
  return `${update.deployment}: ${update.ready}/${update.desired} ready, ${update.updated} updated${update.rolledOut ? ', rolled out' : ` (${update.state})`}`
}
