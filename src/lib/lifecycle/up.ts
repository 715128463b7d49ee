import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {parseAllDocuments, stringify} from 'yaml'

import {ensureServiceImage, planServiceImage} from '../build/service-image.js'
import {chooseImageLoadStrategy, type ImageLoadStrategy} from '../cluster/image-load-strategy.js'
import {durationMs, type ResolvedConfig} from '../config/load.js'
import {SERVICE_NAMES, type ServiceName} from '../config/schema.js'
import {BadInputError, DeployError, InterruptedError} from '../errors.js'
import {ReleasePendingError} from '../helm/helm-errors.js'
import {
  inspectRelease,
  isPending,
  planPendingRecovery,
  type ReleaseInspection,
} from '../helm/release-state.js'
import type {ReleaseInfo} from '../helm/helm-client.js'
import type {LockHandle} from '../kube/release-lock.js'
import {renderDiagnosis, type Diagnosis} from '../kube/rollout/diagnosis.js'
import {secretChecksum} from '../kube/secret-store.js'
import {checkRenderedObjects, type K8sObject} from '../rules/index.js'
import type {SecretValue} from '../secrets/secret-value.js'
import {chartValuesFromConfig, DEPLOY_DIGEST_KEY, IMAGE_TAG_KEY, SECRET_CHECKSUM_KEY} from './chart-values.js'
import {deployDigest} from './deploy-digest.js'
import {failFirstInstall, settleFailedFirstInstall} from './failed-first-install.js'
import {OperationRecorder, type LifecycleState, type PhaseResult} from './operation.js'
import {RELEASE_LABEL} from '../kube/kube-client.js'
import {assertNodePortsFree} from '../kube/node-port-check.js'
import type {Connection} from './ports.js'
import {verifyHealth, type HealthAnswer} from './health-check.js'
import {lockRelease, phaseFactory, runOperation, type PhaseTask, type Renderer} from './phase-runner.js'
import {deployDigestOf, imageTagsOf} from './release-tags.js'
import {awaitRollout, type RolloutReport} from './rollout-phase.js'

export type {Renderer} from './phase-runner.js'

export interface UpOptions {
  /** `--only`: build and load just these services; the others keep the tag they run with. */
  only?: ServiceName[]
  /** false with `--no-build`: use images already in the engine. */
  build: boolean
  /** false with `--no-wait`: stop after Helm. */
  wait: boolean
  timeoutMs: number
  /** false with `--no-rollback`: a failed rollout stays in place. */
  rollbackOnFailure: boolean
  dryRun: boolean
  /** `--force`: recover a release stuck in pending-* first. */
  force: boolean
  /** `--values FILE` (absolute paths), applied after the configured ones. */
  valuesFiles: string[]
  /** `--set k=v`, passed to Helm as given. */
  set: string[]
  /** Who runs this, for the lock: `user@host pid N`. */
  holder: string
  renderer: Renderer
  signal?: AbortSignal
}

export interface ServiceImageOutcome {
  service: ServiceName
  ref: string
  tag: string
  built: boolean
  loaded: boolean
  buildSkipReason?: string
  loadSkipReason?: string
  sizeWarning?: string
}

export type HelmAction = 'install' | 'upgrade' | 'skipped' | 'rendered'

export interface UpResult {
  command: 'up'
  release: string
  namespace: string
  context: string
  clusterKind: string
  state: LifecycleState
  dryRun: boolean
  imageLoad: ImageLoadStrategy
  images: ServiceImageOutcome[]
  helm: {action: HelmAction; revision?: number; reason?: string}
  phases: PhaseResult[]
  url?: string
  health?: HealthAnswer[]
  warnings: string[]
  diagnosis?: Diagnosis
  rollback?: {revision: number; result: 'rolled-back' | 'failed'; detail?: string}
  /** `--dry-run`: what `helm template` renders for this plan. */
  manifests?: string
}

interface UpContext {
  release: ReleaseInfo | null
  inspection: ReleaseInspection
  strategy: ImageLoadStrategy
  builderEnv: Record<string, string> | null
  lock?: LockHandle
  tags: Partial<Record<ServiceName, string>>
  imageIds: Partial<Record<ServiceName, string>>
  checksum?: string
}

type Task = PhaseTask<UpContext>

/**
 * `todo-deploy up`: preflight → build → load → Secret → helm upgrade --install → rollout → health → URL.
 * Each phase is a listr2 task and a recorded lifecycle transition. Unchanged content means no build,
 * no load and no Helm revision; a failed rollout is diagnosed and rolled back to the last good revision.
 */
export async function runUp(
  resolved: ResolvedConfig,
  connection: Connection,
  secrets: SecretValue[],
  options: UpOptions,
): Promise<UpResult> {
  const {config} = resolved
  const namespace = config.namespace
  const releaseName = config.release
  const recorder = new OperationRecorder('up')
  const services = SERVICE_NAMES.filter((name) => config.services[name].enabled)
  const only = new Set(options.only ?? services)
  const result: UpResult = {
    command: 'up',
    release: releaseName,
    namespace,
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
  const ctx: UpContext = {
    release: null,
    inspection: {state: 'absent'},
    strategy: 'load',
    builderEnv: null,
    tags: {},
    imageIds: {},
  }
  const signal = options.signal
  const phase = phaseFactory<UpContext>(recorder, signal)
  const firstInstall = {
    release: releaseName,
    namespace,
    secretName: config.secrets.name,
    rollbackOnFailure: options.rollbackOnFailure,
    signal,
  }

  const tasks = [
    phase('preflight', 'Preflight', 'Initial', async (task) => {
      task.output = `checking ${connection.cluster.describe()}, helm and the release`
      // Independent reads run together (each minikube call takes about a second); when several fail, the
      // most basic failure is reported: the cluster down explains helm's failures too.
      const [running, helmVersion, release, history, runtime] = await Promise.allSettled([
        connection.cluster.ensureRunning(),
        connection.helm.version(),
        connection.helm.status(releaseName, namespace),
        connection.helm.history(releaseName, namespace),
        connection.cluster.nodeRuntime(),
      ])
      for (const outcome of [running, helmVersion, release, history, runtime]) {
        if (outcome.status === 'rejected') throw outcome.reason
      }
      // A nodePort another Service holds would fail Helm half-way: refused here, before anything is built.
      await assertNodePortsFree(resolved, connection.api)
      ctx.release = settled(release)
      ctx.inspection = inspectRelease(settled(history))
      if (isPending(ctx.inspection.state) && !options.force && !options.dryRun) {
        throw new ReleasePendingError(releaseName, namespace)
      }
      ctx.strategy = chooseImageLoadStrategy({
        configured: config.cluster.imageLoad,
        clusterKind: connection.clusterKind,
        runtime: settled(runtime),
      })
      result.imageLoad = ctx.strategy
      ctx.builderEnv = ctx.strategy === 'docker-env' ? await connection.cluster.builderEnv() : null
      if (!options.dryRun) {
        task.output = `taking the lock of release ${releaseName}`
        await connection.api.ensureNamespace(namespace)
        ctx.lock = await lockRelease(connection, recorder, {
          namespace,
          release: releaseName,
          holder: options.holder,
          command: 'todo-deploy up',
        })
      }
      return `${connection.cluster.describe()}, helm ${settled(helmVersion).version}, ${ctx.release ? `release at revision ${ctx.release.revision} (${ctx.release.status})` : 'new release'}, images by ${ctx.strategy}`
    }),
    phase('build', 'Build images', 'Building', async (task) => {
      const builder = connection.images(ctx.builderEnv)
      const deployedTags = imageTagsOf(ctx.release?.config)
      const show = (service: string, line: string): void => {
        task.output = `${service}: ${line}`
      }
      await Promise.all(
        services.map(async (service) => {
          const serviceConfig = config.services[service]
          const paths = resolved.services[service]
          show(service, 'hashing the build context')
          const plan = await planServiceImage(
            {
              service,
              contextDir: paths.contextDir,
              dockerfilePath: paths.dockerfile,
              buildArgs: serviceConfig.build.args,
              repository: serviceConfig.image.repository,
              sizeTargetMB: serviceConfig.image.sizeTargetMB,
            },
            {builder, tagger: connection.tagger},
          )
          const outcome: ServiceImageOutcome = {
            service,
            ref: plan.ref,
            tag: plan.contentTag,
            built: false,
            loaded: false,
          }
          result.images.push(outcome)
          const keep = deployedTags[service]
          if (!only.has(service) && keep) {
            outcome.ref = `${serviceConfig.image.repository}:${keep}`
            outcome.tag = keep
            outcome.buildSkipReason = `not in --only: keeps the deployed ${outcome.ref}`
            ctx.tags[service] = keep
            show(service, outcome.buildSkipReason)
            return
          }
          if (!only.has(service)) {
            // Nothing of it runs yet (first install): left out, the cluster would have no image to start.
            only.add(service)
            result.warnings.push(
              `--only: ${service} has no deployed image yet, so it is built and loaded too`,
            )
          }
          ctx.tags[service] = plan.contentTag
          if (plan.exists) {
            const info = await builder.hasImage(plan.ref)
            if (info) ctx.imageIds[service] = info.id
            outcome.buildSkipReason = `${plan.ref} already built (same content)`
            show(service, outcome.buildSkipReason)
            return
          }
          if (!options.build || options.dryRun) {
            if (!options.build) {
              throw new BadInputError(
                `--no-build: the engine has no image ${plan.ref} for the current ${service} source`,
                {
                  where: '--no-build',
                  fix: `run \`todo-deploy up\` without --no-build to build it`,
                },
              )
            }
            outcome.buildSkipReason = `--dry-run: would build ${plan.ref}`
            show(service, outcome.buildSkipReason)
            return
          }
          const built = await ensureServiceImage(
            plan,
            {builder},
            {signal, onProgress: (line) => show(service, line)},
          )
          ctx.imageIds[service] = built.id
          outcome.built = built.built
          if (built.sizeWarning) {
            outcome.sizeWarning = built.sizeWarning
            result.warnings.push(built.sizeWarning)
          }
          show(service, `built ${plan.ref}`)
        }),
      )
      result.images.sort((a, b) => SERVICE_NAMES.indexOf(a.service) - SERVICE_NAMES.indexOf(b.service))
      recorder.set({tags: {...ctx.tags} as Record<string, string>})
      const built = result.images.filter((image) => image.built)
      if (built.length === 0) return {skip: result.images.map((image) => image.buildSkipReason).join('; ')}
      return built.map((image) => image.ref).join(', ')
    }),
    phase('load', 'Load images into the cluster', 'Loading', async (task) => {
      if (ctx.strategy === 'docker-env')
        return {skip: `images are built inside ${connection.cluster.describe()} (docker-env)`}
      if (ctx.strategy === 'none')
        return {skip: `${connection.cluster.describe()} uses the local engine's images`}
      const wanted = result.images.filter((image) => only.has(image.service) && !options.dryRun)
      for (const image of result.images) {
        if (!wanted.includes(image)) image.loadSkipReason = options.dryRun ? `--dry-run` : 'not in --only'
      }
      task.output = `looking for ${wanted.map((image) => image.ref).join(', ')} in ${connection.cluster.describe()}`
      const present = await Promise.all(
        wanted.map((image) => connection.cluster.imagePresent(image.ref, ctx.imageIds[image.service])),
      )
      for (const [index, image] of wanted.entries()) {
        if (present[index]) {
          image.loadSkipReason = `already in ${connection.cluster.describe()}`
          continue
        }
        task.output = `loading ${image.ref}`
        const outcome = await connection.cluster.loadImage(image.ref, {
          signal,
          expectedImageId: ctx.imageIds[image.service],
          onLine: (line) => {
            task.output = `${image.ref}: ${line}`
          },
        })
        image.loaded = outcome === 'loaded'
        if (!image.loaded) image.loadSkipReason = `already in ${connection.cluster.describe()}`
      }
      const loaded = result.images.filter((image) => image.loaded)
      if (loaded.length === 0)
        return {skip: result.images.map((image) => `${image.ref}: ${image.loadSkipReason}`).join('; ')}
      return loaded.map((image) => image.ref).join(', ')
    }),
    phase('secret', `Apply Secret ${config.secrets.name}`, 'Deploying', async () => {
      if (options.dryRun) {
        ctx.checksum = secretChecksum(secrets)
        return {skip: `--dry-run: would apply ${secrets.length} keys to ${namespace}/${config.secrets.name}`}
      }
      const applied = await connection.secrets.applySecret({
        namespace,
        name: config.secrets.name,
        values: secrets,
        labels: {[RELEASE_LABEL]: releaseName},
      })
      ctx.checksum = applied.checksum
      if (!applied.changed)
        return {skip: `${namespace}/${config.secrets.name} already holds these ${secrets.length} keys`}
      return `${secrets.length} keys written to ${namespace}/${config.secrets.name}`
    }),
    phase('deploy', 'Deploy the Helm release', 'Deploying', async (task) => {
      const workDir = await mkdtemp(path.join(tmpdir(), 'todo-deploy-'))
      try {
        const configValues = path.join(workDir, 'config-values.yaml')
        await writeFile(configValues, stringify(chartValuesFromConfig(resolved)), {mode: 0o600})
        const valuesFiles = [configValues, ...resolved.valuesFiles, ...options.valuesFiles]
        const setString: Record<string, string> = {[SECRET_CHECKSUM_KEY]: ctx.checksum ?? ''}
        for (const service of services) setString[IMAGE_TAG_KEY(service)] = ctx.tags[service] ?? ''
        const digest = await deployDigest({
          chartDir: resolved.chartDir,
          valuesFiles,
          setString,
          set: options.set,
        })
        setString[DEPLOY_DIGEST_KEY] = digest
        const release = {
          release: releaseName,
          chart: resolved.chartDir,
          namespace,
          valuesFiles,
          setString,
          set: options.set,
        }

        const deployedDigest = deployDigestOf(ctx.release?.config)
        if (!options.dryRun && ctx.release?.status === 'deployed' && deployedDigest === digest) {
          result.helm = {
            action: 'skipped',
            revision: ctx.release.revision,
            reason: `revision ${ctx.release.revision} already has these images, values and chart`,
          }
          result.helm.revision = ctx.release.revision
          recorder.set({revision: ctx.release.revision})
          return {skip: result.helm.reason!}
        }

        task.output = 'rendering the chart (helm template) and checking the rules'
        const manifests = await connection.helm.template(release)
        const violations = checkRenderedObjects(parseManifests(manifests), {
          localImages: true,
          clusterKind: connection.clusterKind,
          secretKeyNames: secrets.map((secret) => secret.name),
        })
        const errors = violations.filter((violation) => violation.severity === 'error')
        if (errors.length > 0) {
          throw new BadInputError(
            `the rendered chart breaks ${errors.length} rule${errors.length === 1 ? '' : 's'} of the data model`,
            {
              details: errors.map((v) => `${v.object} ${v.field}: ${v.message} [${v.id}]`),
              fix: errors[0]?.fix,
            },
          )
        }
        for (const warning of violations.filter((violation) => violation.severity === 'warn')) {
          result.warnings.push(`${warning.object} ${warning.field}: ${warning.message} [${warning.id}]`)
        }
        if (options.dryRun) {
          result.manifests = manifests
          const action =
            ctx.release?.status === 'deployed' && deployedDigest === digest
              ? 'nothing (unchanged)'
              : ctx.release
                ? 'an upgrade'
                : 'an install'
          return {skip: `--dry-run: Helm would do ${action}`}
        }

        await recoverPendingRelease(connection, releaseName, namespace, ctx, options, (line) => {
          task.output = line
        })
        task.output = `helm upgrade --install ${releaseName}`
        const {revision} = await connection.helm
          .upgradeInstall({
            ...release,
            historyMax: config.chart.historyMax,
            signal,
            onLine: (line) => {
              task.output = line
            },
          })
          // A refused first install has nothing to roll back to: uninstalled (kept with --no-rollback).
          .catch(async (error: unknown) => {
            if (ctx.inspection.lastDeployed) throw error
            throw await failFirstInstall(error, connection, firstInstall)
          })
        const deployedRevision = revision ?? (await connection.helm.status(releaseName, namespace))?.revision
        result.helm = {action: ctx.release ? 'upgrade' : 'install', revision: deployedRevision}
        recorder.set({revision: deployedRevision})
        return `revision ${deployedRevision ?? '?'} (${result.helm.action})`
      } finally {
        await rm(workDir, {recursive: true, force: true})
      }
    }),
    phase(
      'rollout',
      'Wait for the rollout',
      () => (ctx.release ? 'Updating' : 'Starting'),
      async (task) => {
        if (options.dryRun) return {skip: '--dry-run'}
        if (!options.wait) return {skip: '--no-wait'}
        const report = await awaitRollout(resolved, connection, {
          timeoutMs: options.timeoutMs,
          signal,
          onLine: (line) => {
            task.output = line
          },
        })
        if (report.ok) return report.summary
        await handleFailedRollout(report, task)
      },
    ),
    phase('verify', 'Check health and find the URL', 'Running', async (task) => {
      if (options.dryRun) return {skip: '--dry-run'}
      if (!options.wait) return {skip: '--no-wait'}
      const health = await verifyHealth(
        resolved,
        connection,
        recorder,
        (line) => {
          task.output = line
        },
        {signal},
      )
      result.health = health.report.answers
      result.url = health.report.url
      result.warnings.push(...health.warnings)
      return health.summary
    }),
  ]

  async function handleFailedRollout(
    report: Extract<RolloutReport, {ok: false}>,
    task: Task,
  ): Promise<never> {
    result.diagnosis = report.diagnosis
    const previous = ctx.inspection.lastDeployed
    const failure = report.message
    if (options.rollbackOnFailure && previous && result.helm.action !== 'skipped') {
      task.output = `rolling back to revision ${previous.revision}`
      recorder.setState('RollingBack')
      try {
        await connection.helm.rollback(releaseName, previous.revision, namespace, {signal})
        const again = await awaitRollout(resolved, connection, {
          timeoutMs: options.timeoutMs,
          signal,
          onLine: (line) => {
            task.output = `rollback: ${line}`
          },
        })
        result.rollback = again.ok
          ? {revision: previous.revision, result: 'rolled-back'}
          : {revision: previous.revision, result: 'failed', detail: again.message}
      } catch (error) {
        if (signal?.aborted) throw error
        result.rollback = {
          revision: previous.revision,
          result: 'failed',
          detail: error instanceof Error ? error.message : String(error),
        }
      }
    }
    const rollbackLine = result.rollback
      ? result.rollback.result === 'rolled-back'
        ? `rolled back to revision ${result.rollback.revision}: the previous version is running again`
        : `the rollback to revision ${result.rollback.revision} failed too: ${result.rollback.detail}`
      : !previous
        ? await settleFailedFirstInstall(connection, firstInstall)
        : options.rollbackOnFailure
          ? undefined
          : '--no-rollback: the failed revision stays in place'
    throw new DeployError(failure, {
      details: [
        ...(report.diagnosis ? renderDiagnosis(report.diagnosis, {includeFix: false}) : []),
        ...(rollbackLine ? [rollbackLine] : []),
      ],
      fix: report.diagnosis?.fix,
    })
  }

  result.state = await runOperation({
    command: 'up',
    recorder,
    tasks,
    ctx,
    renderer: options.renderer,
    signal,
    result,
    succeeded: () => (options.dryRun ? 'Initial' : !options.wait ? 'Deploying' : recorder.lifecycleState),
  }).catch((error: unknown) => {
    result.state = error instanceof InterruptedError ? recorder.lifecycleState : 'Failed'
    throw error
  })
  return result
}

async function recoverPendingRelease(
  connection: Connection,
  release: string,
  namespace: string,
  ctx: UpContext,
  options: UpOptions,
  onLine: (line: string) => void,
): Promise<void> {
  if (!options.force) return
  const plan = planPendingRecovery(ctx.inspection)
  if (!plan) return
  if (plan.action === 'rollback') {
    onLine(
      `--force: release ${release} is ${ctx.inspection.state}; rolling back to revision ${plan.revision}`,
    )
    await connection.helm.rollback(release, plan.revision, namespace, {signal: options.signal})
  } else {
    onLine(`--force: release ${release} never deployed (${ctx.inspection.state}); uninstalling it first`)
    await connection.helm.uninstall(release, namespace, {signal: options.signal})
    ctx.release = null
  }
  ctx.inspection = inspectRelease(await connection.helm.history(release, namespace))
}

/** The value of a settled promise already known to be fulfilled. */
function settled<T>(outcome: PromiseSettledResult<T>): T {
  if (outcome.status === 'rejected') throw outcome.reason
  return outcome.value
}

function parseManifests(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((document) => document.toJS() as K8sObject | null)
    .filter((object): object is K8sObject => object !== null && typeof object === 'object')
}

export function defaultTimeoutMs(resolved: ResolvedConfig): number {
  return durationMs(resolved.config.rollout.timeout)
}
