import type {PhaseOutcome} from '../phase-runner.js'
import type {PendingRecoveryDecision} from './plan.js'
import {renderChecked, withReleaseValues} from './release-values.js'
import {uninstallFailedFirstInstall, withFailureSettled} from '../failed-first-install.js'
import {watchRolloutWith} from './rollout.js'
import {firstInstallOf, planOf, type UpRun} from './run.js'

/** The Helm step of the plan: nothing when the deployed revision has this digest, else upgrade --install. */
export async function deployRelease(run: UpRun, report: (line: string) => void): Promise<PhaseOutcome> {
  const {connection, result, recorder, options} = run
  const plan = planOf(run)
  const {helm} = plan
  if (helm.action === 'skip') {
    result.helm = {action: 'skipped', revision: helm.revision, reason: helm.reason}
    recorder.set({revision: helm.revision})
    return {skip: helm.reason}
  }
  return withReleaseValues(run, plan, async (values) => {
    report('rendering the chart (helm template) and checking the rules')
    await (run.rendered ?? renderChecked(run, values))
    if (helm.recover) await recoverPendingRelease(run, helm.recover, report)
    report(`helm upgrade --install ${plan.release}`)
    const upgrade = connection.helm.upgradeInstall({
      ...values,
      historyMax: run.resolved.config.chart.historyMax,
      signal: options.signal,
      onLine: report,
    })
    if (options.wait) run.rollout = watchRolloutWith(run, upgrade)
    const {revision} = await upgrade.catch(async (error: unknown) => {
      // Helm refused: a first install is uninstalled as planned; a kept revision says so.
      const {onFailure} = plan
      throw await withFailureSettled(error, options.signal, async () =>
        onFailure.action === 'uninstall'
          ? uninstallFailedFirstInstall(connection, firstInstallOf(run))
          : onFailure.action === 'keep'
            ? onFailure.reason
            : undefined,
      )
    })
    const deployed = revision ?? (await connection.helm.status(plan.release, plan.namespace))?.revision
    result.helm = {action: helm.action, revision: deployed}
    recorder.set({revision: deployed})
    return `revision ${deployed ?? '?'} (${helm.action})`
  })
}

/** `--force` on a release stuck in pending-*: roll it back to its last good revision, or uninstall it. */
async function recoverPendingRelease(
  run: UpRun,
  recover: PendingRecoveryDecision,
  report: (line: string) => void,
): Promise<void> {
  const {connection, options} = run
  const {release, namespace} = planOf(run)
  report(recover.reason)
  if (recover.action === 'rollback')
    await connection.helm.rollback(release, recover.revision, namespace, {signal: options.signal})
  else await connection.helm.uninstall(release, namespace, {signal: options.signal})
}
