import type {ResolvedConfig} from '../config/load.js'
import {SERVICE_NAMES, type ServiceName} from '../config/schema.js'
import {BadInputError, DeployError, InterruptedError} from '../errors.js'
import type {ReleaseRevision} from '../helm/helm-client.js'
import {inspectRelease, previousGoodRevision} from '../helm/release-state.js'
import type {LockHandle} from '../kube/release-lock.js'
import {renderDiagnosis, type Diagnosis} from '../kube/rollout/diagnosis.js'
import {verifyHealth} from './health-check.js'
import {OperationRecorder, type LifecycleState, type PhaseResult} from './operation.js'
import {lockRelease, phaseFactory, runOperation, type Renderer} from './phase-runner.js'
import {releaseSelector} from '../kube/kube-client.js'
import type {Connection} from './ports.js'
import {imageTagsOf} from './release-tags.js'
import {awaitRollout} from './rollout-phase.js'

export interface RevisionRow {
  revision: number
  status: string
  description: string
  updated: string
  chart: string
  appVersion: string
  /** The content tags this revision deploys, per service. */
  tags: Partial<Record<ServiceName, string>>
}

export interface RollbackOptions {
  /** The revision to return to; default: the newest earlier revision that deployed successfully. */
  revision?: number
  timeoutMs: number
  holder: string
  renderer: Renderer
  signal?: AbortSignal
}

export interface RollbackResult {
  command: 'rollback'
  release: string
  namespace: string
  fromRevision: number
  toRevision: number
  /** The new revision helm wrote for the rollback. */
  revision?: number
  state: LifecycleState
  tags: Partial<Record<ServiceName, string>>
  reloadedImages: string[]
  url?: string
  phases: PhaseResult[]
  warnings: string[]
  diagnosis?: Diagnosis
}

/** `rollback --list`: every revision with its status, description and the tags it deploys. */
export async function listRevisions(
  resolved: ResolvedConfig,
  connection: Connection,
): Promise<RevisionRow[]> {
  const {release, namespace} = resolved.config
  const history = await connection.helm.history(release, namespace)
  return Promise.all(
    history.map(async (entry) =>
      toRow(entry, await connection.helm.getValues(release, namespace, {revision: entry.revision})),
    ),
  )
}

function toRow(entry: ReleaseRevision, values: Record<string, unknown>): RevisionRow {
  return {
    revision: entry.revision,
    status: entry.status,
    description: entry.description,
    updated: entry.updated.toISOString(),
    chart: entry.chart,
    appVersion: entry.appVersion,
    tags: imageTagsOf(values),
  }
}

interface RollbackContext {
  lock?: LockHandle
  target?: ReleaseRevision
  from?: number
}

/**
 * `todo-deploy rollback [REVISION]`: back to a revision that worked (by default the previous good one),
 * with its images reloaded into the cluster when they were removed, the same rollout wait and diagnosis
 * as `up`, and a check that the pods really run the target revision's content tags.
 */
export async function runRollback(
  resolved: ResolvedConfig,
  connection: Connection,
  options: RollbackOptions,
): Promise<RollbackResult> {
  const {config} = resolved
  const {release: releaseName, namespace} = config
  const recorder = new OperationRecorder('rollback')
  const signal = options.signal
  const services = SERVICE_NAMES.filter((name) => config.services[name].enabled)
  const ctx: RollbackContext = {}
  const result: RollbackResult = {
    command: 'rollback',
    release: releaseName,
    namespace,
    fromRevision: 0,
    toRevision: 0,
    state: 'Initial',
    tags: {},
    reloadedImages: [],
    phases: [],
    warnings: [],
  }
  const phase = phaseFactory<RollbackContext>(recorder, signal)

  const tasks = [
    phase('preflight', 'Choose the revision', 'Initial', async () => {
      const history = await connection.helm.history(releaseName, namespace)
      const inspection = inspectRelease(history)
      if (!inspection.current) {
        throw new BadInputError(
          `release ${releaseName} is not deployed in ${namespace}: nothing to roll back`,
          {fix: 'deploy it first: `todo-deploy up`'},
        )
      }
      const current = inspection.current.revision
      const target =
        options.revision === undefined
          ? previousGoodRevision(history, current)
          : history.find((entry) => entry.revision === options.revision)
      if (!target) {
        throw new BadInputError(
          options.revision === undefined
            ? `release ${releaseName} has no earlier revision that deployed successfully`
            : `release ${releaseName} has no revision ${options.revision}`,
          {
            where: options.revision === undefined ? undefined : `REVISION ${options.revision}`,
            details: [
              'revisions:',
              ...history.map(
                (entry) => `  ${entry.revision}  ${entry.status.padEnd(16)} ${entry.description}`,
              ),
            ],
            fix: 'pick one of the revisions above: `todo-deploy rollback <REVISION>` (`todo-deploy rollback --list` shows their image tags)',
          },
        )
      }
      if (target.revision === current) {
        throw new BadInputError(`revision ${target.revision} is already the current revision`, {
          fix: 'name an earlier revision (`todo-deploy rollback --list`)',
        })
      }
      ctx.target = target
      ctx.from = current
      result.fromRevision = current
      result.toRevision = target.revision
      await connection.cluster.ensureRunning()
      ctx.lock = await lockRelease(connection, recorder, {
        namespace,
        release: releaseName,
        holder: options.holder,
        command: 'todo-deploy rollback',
      })
      return `revision ${current} → ${target.revision} (${target.description})`
    }),
    phase('load', 'Make sure its images are in the cluster', 'Loading', async (task) => {
      const values = await connection.helm.getValues(releaseName, namespace, {revision: ctx.target!.revision})
      result.tags = imageTagsOf(values)
      recorder.set({tags: {...result.tags} as Record<string, string>})
      const engine = connection.images(null)
      for (const service of services) {
        const tag = result.tags[service]
        if (!tag) continue
        const ref = `${config.services[service].image.repository}:${tag}`
        if (await connection.cluster.imagePresent(ref)) continue
        const local = await engine.hasImage(ref)
        if (!local) {
          throw new DeployError(
            `revision ${ctx.target!.revision} runs ${ref}, which is neither in the cluster nor in the local Docker Engine`,
            {
              fix: `rebuild it: check out the ${service} source of that revision and run \`todo-deploy up --only ${service}\` (the content tag will match), then roll back again`,
            },
          )
        }
        task.output = `reloading ${ref} from the local engine`
        await connection.cluster.loadImage(ref, {signal, expectedImageId: local.id})
        result.reloadedImages.push(ref)
      }
      if (result.reloadedImages.length === 0)
        return {skip: 'the cluster still has every image of that revision'}
      return `reloaded ${result.reloadedImages.join(', ')}`
    }),
    phase('rollback', 'Roll back the Helm release', 'Deploying', async (task) => {
      task.output = `helm rollback ${releaseName} ${ctx.target!.revision}`
      await connection.helm.rollback(releaseName, ctx.target!.revision, namespace, {signal})
      const status = await connection.helm.status(releaseName, namespace)
      result.revision = status?.revision
      recorder.set({revision: status?.revision})
      return `revision ${status?.revision ?? '?'}: ${status?.description ?? `Rollback to ${ctx.target!.revision}`}`
    }),
    phase('rollout', 'Wait for the rollout', 'Updating', async (task) => {
      const report = await awaitRollout(resolved, connection, {
        timeoutMs: options.timeoutMs,
        signal,
        onLine: (line) => {
          task.output = line
        },
      })
      if (report.ok) return report.summary
      result.diagnosis = report.diagnosis
      throw new DeployError(report.message, {
        details: renderDiagnosis(report.diagnosis, {includeFix: false}),
        fix: report.diagnosis.fix,
      })
    }),
    phase('verify', 'Check the code, the health and the URL', 'Running', async (task) => {
      const snapshot = await connection.workloads.snapshot(namespace, releaseSelector(releaseName))
      for (const service of services) {
        const expected = result.tags[service]
        const deployment = snapshot.deployments.find(
          (entry) => entry.metadata?.name === config.services[service].deployment,
        )
        const images =
          deployment?.spec?.template?.spec?.containers?.map((container) => container.image ?? '') ?? []
        if (expected && !images.some((image) => image.endsWith(`:${expected}`))) {
          throw new DeployError(
            `${config.services[service].deployment} runs ${images.join(', ') || 'nothing'}, not the tag ${expected} of revision ${ctx.target!.revision}`,
            {
              fix: 'run `todo-deploy status` to see what runs, and `todo-deploy rollback --list` for the tags of each revision',
            },
          )
        }
      }
      const health = await verifyHealth(
        resolved,
        connection,
        recorder,
        (line) => {
          task.output = line
        },
        {signal},
      )
      result.url = health.report.url
      result.warnings.push(...health.warnings)
      return `tags ${Object.values(result.tags).join(', ')} running; ${health.summary}`
    }),
  ]

  result.state = await runOperation({
    command: 'rollback',
    recorder,
    tasks,
    ctx,
    renderer: options.renderer,
    signal,
    result,
    succeeded: () => recorder.lifecycleState,
  }).catch((error: unknown) => {
    result.state = error instanceof InterruptedError ? recorder.lifecycleState : 'Failed'
    throw error
  })
  return result
}
