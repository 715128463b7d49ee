import {DeployError} from '../../errors.js'
import {awaitNamespaceSettled, ensureNamespaceReady} from '../namespace-gone.js'
import {lockRelease, type PhaseOutcome} from '../phase-runner.js'
import {
  hashSources,
  observeCluster,
  observeSources,
  refusePending,
  type ClusterObservation,
  type SourceHashes,
} from './observe.js'
import {planUp, type ServicePlan, type UpObservation} from './plan.js'
import type {HeldLock, ServiceImageOutcome, UpRun} from './run.js'

/**
 * Preflight of a real `up`: observe the cluster, refuse a stuck release, take the release's lock, then
 * observe the sources under the lock and make the plan (helm pkg/action: Run → prepare → perform).
 */
export async function preflightAndLock(run: UpRun, report: (line: string) => void): Promise<PhaseOutcome> {
  const {resolved, connection, options, recorder} = run
  const {release, namespace} = resolved.config
  // The build contexts are hashed while the cluster, helm and the lock are asked: local work, needed first.
  const hashes = hashSources(resolved, connection, report, options.buildTarget)
  const namespaceWait = {timeoutMs: options.timeoutMs, signal: options.signal, report}
  // A namespace being deleted takes the release with it: observe only once it is gone.
  await awaitNamespaceSettled(connection.api, namespace, namespaceWait)
  report(`checking ${connection.cluster.describe()}, helm and the release`)
  const cluster = await observeCluster(resolved, connection)
  refusePending(resolved, cluster, options.force)
  if (options.heldLock) {
    refuseLostLock(options.heldLock, release)
    await recorder.persistTo(connection.state, namespace, release)
  } else {
    await ensureNamespaceReady(connection.api, namespace, namespaceWait)
    report(`taking the lock of release ${release}`)
    run.lock = await lockRelease(connection, recorder, {
      namespace,
      release,
      holder: options.holder,
      command: 'todo-deploy up',
    })
  }
  await makePlan(run, cluster, hashes, report)
  return describeObservation(cluster)
}

/** A held lock that another process took over (or deleted) no longer protects the release. */
function refuseLostLock(held: HeldLock, release: string): void {
  if (held.lock.lostReason === undefined) return
  throw new DeployError(`the lock of release ${release} was lost: ${held.lock.lostReason}`, {
    where: `todo-deploy ${held.command}`,
    fix: `stop this \`todo-deploy ${held.command}\` and start it again once the other command has finished`,
  })
}

/** Preflight of `up --dry-run`: the same observation and plan, without the lock. */
export async function preflightOnly(run: UpRun, report: (line: string) => void): Promise<PhaseOutcome> {
  const hashes = hashSources(run.resolved, run.connection, report, run.options.buildTarget)
  report(`checking ${run.connection.cluster.describe()}, helm and the release`)
  const cluster = await observeCluster(run.resolved, run.connection)
  await makePlan(run, cluster, hashes, report)
  return describeObservation(cluster)
}

async function makePlan(
  run: UpRun,
  cluster: ClusterObservation,
  hashes: SourceHashes,
  report: (line: string) => void,
): Promise<void> {
  run.builderEnv = cluster.builderEnv
  const {options, result} = run
  run.observed = await observeSources(run.resolved, run.connection, cluster, {
    request: options,
    secrets: run.secrets,
    hashes,
    onLine: report,
  })
  const plan = planUp(run.resolved, options, run.observed)
  run.plan = plan
  result.plan = plan
  result.imageLoad = plan.imageLoad
  result.warnings.push(...plan.warnings)
  result.images = plan.services.map((service) => ({
    service: service.service,
    ref: service.ref,
    tag: service.tag,
    built: false,
    loaded: false,
    ...(service.build.action === 'skip' ? {buildSkipReason: service.build.reason} : {}),
    ...(service.load.action === 'skip' ? {loadSkipReason: service.load.reason} : {}),
    ...(run.observed?.registry ? registryOutcome(service, run.observed.registry) : {}),
  }))
  run.recorder.set({tags: Object.fromEntries(plan.services.map((service) => [service.service, service.tag]))})
}

/** Before the push phase: not pushed; a skipped push already names the digest the registry holds. */
function registryOutcome(
  service: ServicePlan,
  registry: NonNullable<UpObservation['registry']>,
): Pick<ServiceImageOutcome, 'pushed' | 'digest' | 'pushSkipReason'> {
  if (service.push.action !== 'skip') return {pushed: false}
  const digest = registry.images[service.service]?.remoteDigest ?? undefined
  return {pushed: false, ...(digest ? {digest} : {}), pushSkipReason: service.push.reason}
}

function describeObservation(cluster: ClusterObservation): string {
  const release = cluster.release
    ? `release at revision ${cluster.release.revision} (${cluster.release.status})`
    : 'new release'
  return `${cluster.cluster}, helm ${cluster.helmVersion}, ${release}, images by ${cluster.imageLoad}`
}
