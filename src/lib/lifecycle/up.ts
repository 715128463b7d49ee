import {durationMs, type ResolvedConfig} from '../config/load.js'
import type {SecretValue} from '../secrets/secret-value.js'
import {OperationRecorder, type LifecycleState} from './operation.js'
import {phaseFactory, runOperation, type PhaseOutcome} from './phase-runner.js'
import type {Connection} from './ports.js'
import {deployRelease} from './up/deploy.js'
import {imagesTask} from './up/images.js'
import {preflightAndLock, preflightOnly} from './up/preflight.js'
import {pushImages} from './up/push.js'
import {renderPlan} from './up/render.js'
import {awaitUpRollout} from './up/rollout.js'
import {awaitUpTraffic, followUpTraffic} from './up/traffic.js'
import type {UpOptions, UpResult, UpRun} from './up/run.js'
import {applySecret} from './up/secret.js'
import {verifyUp} from './up/verify.js'

export type {Renderer} from './phase-runner.js'
export type {HeldLock, HelmAction, ServiceImageOutcome, UpOptions, UpResult} from './up/run.js'
export type {UpPlan, ServicePlan, HelmDecision} from './up/plan.js'
export {planUp} from './up/plan.js'
export {CheckedRenders} from './up/checked-renders.js'

/** A phase body: reads and changes the run, reports progress lines, returns its outcome. */
type UpStep = (run: UpRun, report: (line: string) => void) => Promise<PhaseOutcome>

/**
 * `todo-deploy up`: observe, plan, then apply the plan phase by phase (helm pkg/action: Run →
 * prepare, pure → perform, side effects). Preflight observes and plans; build → load (each service on
 * its own, side by side; or push, with registry.url) → Secret → helm upgrade --install → rollout →
 * traffic (the Services route to the new pods alone) → health → URL carry the plan out. `--dry-run` is the preflight
 * without the lock plus `helm template`: the other phases never run, so none of them knows about it.
 */
export async function runUp(
  resolved: ResolvedConfig,
  connection: Connection,
  secrets: SecretValue[],
  options: UpOptions,
): Promise<UpResult> {
  const run: UpRun = {
    resolved,
    connection,
    secrets,
    options,
    recorder: new OperationRecorder(options.heldLock?.command ?? 'up'),
    result: newResult(resolved, connection, options),
    imageIds: {},
  }
  const phase = phaseFactory<UpRun>(run.recorder, options.signal)
  const step =
    (body: UpStep) =>
    async (task: {output: string | undefined}): Promise<PhaseOutcome> =>
      body(run, (line) => {
        task.output = line
      })
  const skip = (reason: string) => () => Promise.resolve({skip: reason})
  const rolloutState = (): LifecycleState => (run.plan?.helm.action === 'install' ? 'Starting' : 'Updating')

  const tasks = options.dryRun
    ? [
        phase('preflight', 'Preflight', 'Initial', step(preflightOnly)),
        phase('render', 'Render the chart', 'Initial', step(renderPlan)),
      ]
    : [
        phase('preflight', 'Preflight', 'Initial', step(preflightAndLock)),
        imagesTask(run),
        // Only with registry.url: the nodes pull what this pushes.
        ...(resolved.config.registry.url === null
          ? []
          : [phase('push', `Push images to ${resolved.config.registry.url}`, 'Loading', step(pushImages))]),
        phase('secret', `Apply Secret ${resolved.config.secrets.name}`, 'Deploying', step(applySecret)),
        phase('deploy', 'Deploy the Helm release', 'Deploying', step(deployRelease)),
        phase(
          'rollout',
          'Wait for the rollout',
          rolloutState,
          options.wait ? step(followUpTraffic(awaitUpRollout)) : skip('--no-wait'),
        ),
        phase(
          'traffic',
          'Wait for the Services to route to the new pods',
          rolloutState,
          options.wait ? step(awaitUpTraffic) : skip('--no-wait'),
        ),
        phase(
          'verify',
          'Check health and find the URL',
          'Running',
          options.wait ? step(verifyUp) : skip('--no-wait'),
        ),
      ]

  try {
    await runOperation({
      command: 'up',
      recorder: run.recorder,
      tasks,
      ctx: run,
      renderer: options.renderer,
      signal: options.signal,
      result: run.result,
      succeeded: () =>
        options.dryRun ? 'Initial' : !options.wait ? 'Deploying' : run.recorder.lifecycleState,
    })
  } finally {
    // An up that stopped between helm and its rollout phase leaves no watch behind, and one that
    // stopped before deploy no render running (nor its values file).
    run.rollout?.stop()
    run.traffic?.stop()
    await run.rendered?.catch(() => undefined)
  }
  return run.result
}

function newResult(resolved: ResolvedConfig, connection: Connection, options: UpOptions): UpResult {
  return {
    command: 'up',
    release: resolved.config.release,
    namespace: resolved.config.namespace,
    context: connection.context,
    clusterKind: connection.clusterKind,
    state: 'Initial',
    dryRun: options.dryRun,
    imageLoad: 'load',
    images: [],
    helm: {action: options.dryRun ? 'rendered' : 'skipped'},
    phases: [],
    warnings: [],
  }
}

export function defaultTimeoutMs(resolved: ResolvedConfig): number {
  return durationMs(resolved.config.rollout.timeout)
}
