import type {ResolvedConfig} from '../config/load.js'
import {SERVICE_NAMES, type ServiceName} from '../config/schema.js'
import {BadInputError, DeployError} from '../errors.js'
import type {ReleaseRevision} from '../helm/helm-client.js'
import {inspectRelease, previousGoodRevision} from '../helm/release-state.js'
import type {LockHandle} from '../kube/release-lock.js'
import type {LifecycleRecord} from '../kube/state-record.js'
import type {Diagnosis} from '../kube/rollout/diagnosis.js'
import {verifyHealth} from './health-check.js'
import type {LifecycleState, PhaseResult} from './operation.js'
import {awaitNamespaceSettled} from './namespace-gone.js'
import {lockRelease, startOperation, type Renderer} from './phase-runner.js'
import {releaseSelector} from '../kube/kube-client.js'
import type {Connection} from './ports.js'
import {deployedRepository} from './chart-values.js'
import {assertRevisionImagesInRegistry, imageSource, loadedImages} from './registry.js'
import {imageRepositoriesOf, imageTagsOf} from './release-tags.js'
import {rollBackTo, rolloutFailure} from './rollback-step.js'
import {awaitRollout} from './rollout-phase.js'
import {followTraffic, type TrafficWatch} from './traffic-phase.js'

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
  /** null: the cluster publishes no address this machine can use. */
  url?: string | null
  phases: PhaseResult[]
  warnings: string[]
  diagnosis?: Diagnosis
  /** What was decided before anything changed. */
  plan?: RollbackPlan
  /** The Services' watch, started with the rollout phase (traffic-phase.ts). */
  traffic?: TrafficWatch
}

/** `rollback` decided, before it changes anything: from which revision to which, and the images it needs. */
export interface RollbackPlan {
  from: number
  to: number
  /** helm's description of the target revision. */
  description: string
  /** The content tags the target revision deploys, per service. */
  tags: Partial<Record<ServiceName, string>>
  /**
   * The images the target revision runs: each must be in the cluster, or reloaded from the engine; with
   * registry.url, in the registry.
   */
  images: {service: ServiceName; ref: string; tag: string}[]
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

/**
 * Which revision to return to: the one asked for, or the newest earlier one that deployed successfully.
 * Pure: refuses (exit 2) with the history when there is none, or when it is the current revision.
 */
export function chooseRollbackTarget(
  resolved: ResolvedConfig,
  history: ReleaseRevision[],
  requested: number | undefined,
  failedRollouts: ReadonlySet<number> = new Set(),
): {from: number; target: ReleaseRevision} {
  const {release, namespace} = resolved.config
  const inspection = inspectRelease(history)
  if (!inspection.current) {
    throw new BadInputError(`release ${release} is not deployed in ${namespace}: nothing to roll back`, {
      fix: 'deploy it first: `todo-deploy up`',
    })
  }
  const current = inspection.current.revision
  const target =
    requested === undefined
      ? previousGoodRevision(history, current, failedRollouts)
      : history.find((entry) => entry.revision === requested)
  if (!target) {
    throw new BadInputError(
      requested === undefined
        ? `release ${release} has no earlier revision that deployed successfully`
        : `release ${release} has no revision ${requested}`,
      {
        where: requested === undefined ? undefined : `REVISION ${requested}`,
        details: [
          'revisions:',
          ...history.map((entry) => `  ${entry.revision}  ${entry.status.padEnd(16)} ${entry.description}`),
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
  return {from: current, target}
}

/**
 * The revisions that operations which then failed (a rollout that crashed and was rolled back) wrote,
 * from the operation record: a revision counts only when helm wrote it while that operation ran (helm
 * ran on the machine that wrote the record, so both times come from one clock), so a revision number
 * reused after `down` and a fresh install is not mistaken for the old one.
 */
export function failedRolloutRevisions(
  record: LifecycleRecord | null,
  history: readonly ReleaseRevision[],
): Set<number> {
  const failed = new Set<number>()
  if (record === null) return failed
  for (const operation of [record.operation, ...record.history]) {
    if (operation.result !== 'failed' || operation.revision === undefined) continue
    const written = history.find((entry) => entry.revision === operation.revision)?.updated.getTime()
    const started = Date.parse(operation.startedAt)
    const ended = operation.endedAt === undefined ? Date.now() : Date.parse(operation.endedAt)
    if (written !== undefined && written >= started && written <= ended) failed.add(operation.revision)
  }
  return failed
}

/** The rollback plan from the chosen target and the values it was deployed with. Pure. */
export function planRollback(
  resolved: ResolvedConfig,
  choice: {from: number; target: ReleaseRevision},
  targetValues: Record<string, unknown>,
): RollbackPlan {
  const {config} = resolved
  const tags = imageTagsOf(targetValues)
  // The revision's own repositories: registry.url may have changed (or been set) since it was deployed.
  const repositories = imageRepositoriesOf(targetValues)
  const images = SERVICE_NAMES.filter((name) => config.services[name].enabled).flatMap((service) => {
    const tag = tags[service]
    const repository = repositories[service] ?? deployedRepository(config, service)
    return tag ? [{service, ref: `${repository}:${tag}`, tag}] : []
  })
  return {from: choice.from, to: choice.target.revision, description: choice.target.description, tags, images}
}

interface RollbackRun {
  lock?: LockHandle
  plan?: RollbackPlan
  /** The Services' watch, started with the rollout phase (traffic-phase.ts). */
  traffic?: TrafficWatch
}

/**
 * `todo-deploy rollback [REVISION]`: back to a revision that worked (by default the previous good one),
 * with its images reloaded into the cluster when they were removed, the same rollout wait and diagnosis
 * as `up`, and a check that the pods really run the target revision's content tags. Preflight observes
 * and plans; the other phases carry the plan out (helm pkg/action: prepareRollback → performRollback).
 */
export async function runRollback(
  resolved: ResolvedConfig,
  connection: Connection,
  options: RollbackOptions,
): Promise<RollbackResult> {
  const {release: releaseName, namespace} = resolved.config
  const signal = options.signal
  const run: RollbackRun = {}
  const {recorder, phase, head, settle} = startOperation('rollback', resolved.config, run, options)
  const result: RollbackResult = {
    ...head,
    fromRevision: 0,
    toRevision: 0,
    state: 'Initial',
    tags: {},
    reloadedImages: [],
    phases: [],
    warnings: [],
  }
  const planned = (): RollbackPlan => {
    if (!run.plan) throw new Error('rollback: a phase ran before the plan was made')
    return run.plan
  }

  const tasks = [
    phase('preflight', 'Choose the revision', 'Initial', async (task) => {
      // Right after a `down --purge`: its history is going with the namespace; wait and read what is left.
      await awaitNamespaceSettled(connection.api, namespace, {
        timeoutMs: options.timeoutMs,
        signal,
        report: (line) => {
          task.output = line
        },
      })
      const history = await connection.helm.history(releaseName, namespace)
      const failedRollouts = failedRolloutRevisions(
        await connection.state.read(namespace, releaseName),
        history,
      )
      const choice = chooseRollbackTarget(resolved, history, options.revision, failedRollouts)
      const values = await connection.helm.getValues(releaseName, namespace, {
        revision: choice.target.revision,
      })
      const plan = planRollback(resolved, choice, values)
      run.plan = plan
      Object.assign(result, {plan, fromRevision: plan.from, toRevision: plan.to, tags: plan.tags})
      await assertRevisionImagesInRegistry(resolved, connection, plan.to, plan.images)
      assertLoadable(connection, plan)
      await connection.cluster.ensureRunning()
      run.lock = await lockRelease(connection, recorder, {
        namespace,
        release: releaseName,
        holder: options.holder,
        command: 'todo-deploy rollback',
      })
      recorder.set({tags: {...plan.tags} as Record<string, string>})
      return `revision ${plan.from} → ${plan.to} (${plan.description})`
    }),
    phase('load', 'Make sure its images are in the cluster', 'Loading', async (task) => {
      const plan = planned()
      const toLoad = loadedImages(plan.images)
      if (toLoad.length === 0)
        return {skip: `the nodes pull its images from ${registriesOf(plan)} (each tag checked there)`}
      for (const image of toLoad) {
        const loaded = await ensureRevisionImage(connection, plan, image, signal, (line) => {
          task.output = line
        })
        if (loaded) result.reloadedImages.push(image.ref)
      }
      if (result.reloadedImages.length === 0)
        return {skip: 'the cluster still has every image of that revision'}
      return `reloaded ${result.reloadedImages.join(', ')}`
    }),
    phase('rollback', 'Roll back the Helm release', 'Deploying', async (task) => {
      const plan = planned()
      const status = await rollBackTo(resolved, connection, {
        revision: plan.to,
        signal,
        onLine: (line) => {
          task.output = line
        },
      })
      result.revision = status?.revision
      recorder.set({revision: status?.revision})
      return `revision ${status?.revision ?? '?'}: ${status?.description ?? `Rollback to ${plan.to}`}`
    }),
    phase('rollout', 'Wait for the rollout', 'Updating', async (task) => {
      const rollout = awaitRollout(resolved, connection, {
        timeoutMs: options.timeoutMs,
        signal,
        onLine: (line) => {
          task.output = line
        },
      })
      run.traffic = followTraffic(resolved, connection, {
        timeoutMs: options.timeoutMs,
        signal,
        startAfter: rollout.then((report) => {
          if (!report.ok) throw new Error(report.message)
        }),
      })
      const report = await rollout
      if (report.ok) return report.summary
      result.diagnosis = report.diagnosis
      throw rolloutFailure(report)
    }),
    phase('traffic', 'Wait for the Services to route to the new pods', 'Updating', async (task) => {
      if (run.traffic === undefined) throw new Error('rollback: the traffic phase ran before the rollout')
      return run.traffic.attach((line) => {
        task.output = line
      })
    }),
    phase('verify', 'Check the code, the health and the URL', 'Running', async (task) => {
      await expectTargetTags(resolved, connection, planned())
      const health = await verifyHealth(
        resolved,
        connection,
        recorder,
        (line) => {
          task.output = line
        },
        {ingress: {signal}},
      )
      result.url = health.report.url
      result.warnings.push(...health.warnings)
      return `tags ${Object.values(result.tags).join(', ')} running; ${health.summary}`
    }),
  ]

  try {
    await settle(tasks, result, {succeeded: () => recorder.lifecycleState})
  } finally {
    // A rollback that stopped during its rollout leaves no watch of the Services behind.
    run.traffic?.stop()
  }
  return result
}

/** The registries a revision's images come from, as the load phase names them. */
function registriesOf(plan: RollbackPlan): string {
  return [...new Set(plan.images.map((image) => imageSource(image.ref).registry ?? ''))].sort().join(', ')
}

/**
 * A revision whose images were loaded into a local cluster's nodes cannot run on a remote cluster:
 * nothing can put them there. Said before anything changes.
 */
function assertLoadable(connection: Connection, plan: RollbackPlan): void {
  const loaded = loadedImages(plan.images)
  if (connection.clusterKind !== 'remote' || loaded.length === 0) return
  throw new BadInputError(
    `revision ${plan.to} runs ${loaded.map((image) => image.ref).join(', ')}, loaded into a local cluster and never pushed to a registry: the nodes of a remote cluster cannot get them; the release was not touched`,
    {
      where: `REVISION ${plan.to}`,
      fix: 'pick a revision deployed with registry.url (`todo-deploy rollback --list`), or run `todo-deploy up` to push and deploy the current source',
    },
  )
}

/**
 * Makes sure the cluster has one image of the target revision: the cluster target loads it from the
 * local engine unless it already has it. Only when the engine has lost it too does the cluster decide
 * alone (exit 5 with how to rebuild when it has not got it either). True when it was reloaded.
 */
async function ensureRevisionImage(
  connection: Connection,
  plan: RollbackPlan,
  image: {service: ServiceName; ref: string},
  signal: AbortSignal | undefined,
  report: (line: string) => void,
): Promise<boolean> {
  if (!(await connection.images(null).hasImage(image.ref))) {
    if (await connection.cluster.imagePresent(image.ref)) return false
    throw new DeployError(
      `revision ${plan.to} runs ${image.ref}, which is neither in the cluster nor in the local Docker Engine`,
      {
        fix: `rebuild it: check out the ${image.service} source of that revision and run \`todo-deploy up --only ${image.service}\` (the content tag will match), then roll back again`,
      },
    )
  }
  report(`making sure the cluster has ${image.ref}`)
  const outcome = await connection.cluster.loadImage(image.ref, {signal, onLine: report})
  return outcome === 'loaded'
}

/** The pods must run the target revision's content tags, or the rollback brought back old manifests only. */
async function expectTargetTags(
  resolved: ResolvedConfig,
  connection: Connection,
  plan: RollbackPlan,
): Promise<void> {
  const {config} = resolved
  const snapshot = await connection.workloads.snapshot(config.namespace, releaseSelector(config.release))
  for (const service of SERVICE_NAMES.filter((name) => config.services[name].enabled)) {
    const expected = plan.tags[service]
    const deployment = snapshot.deployments.find(
      (entry) => entry.metadata?.name === config.services[service].deployment,
    )
    const images =
      deployment?.spec?.template?.spec?.containers?.map((container) => container.image ?? '') ?? []
    if (expected && !images.some((image) => image.endsWith(`:${expected}`))) {
      throw new DeployError(
        `${config.services[service].deployment} runs ${images.join(', ') || 'nothing'}, not the tag ${expected} of revision ${plan.to}`,
        {
          fix: 'run `todo-deploy status` to see what runs, and `todo-deploy rollback --list` for the tags of each revision',
        },
      )
    }
  }
}
