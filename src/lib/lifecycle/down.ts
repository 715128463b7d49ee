import type {ResolvedConfig} from '../config/load.js'
import {SERVICE_NAMES} from '../config/schema.js'
import {DeployError, InterruptedError} from '../errors.js'
import type {ReleaseInfo} from '../helm/helm-client.js'
import type {LockHandle} from '../kube/release-lock.js'
import type {LifecycleState, OperationRecorder, PhaseResult} from './operation.js'
import {lockRelease, startOperation, type PhaseOutcome, type Renderer} from './phase-runner.js'
import {releaseSelector} from '../kube/kube-client.js'
import {awaitNamespaceGone} from './namespace-gone.js'
import type {Connection} from './ports.js'

export interface DownOptions {
  /** Also remove the Secret, the state record, the namespace (when the CLI created it and it is empty) and the images. */
  purge: boolean
  /** With --purge: keep the newest N images of each service. */
  keep: number
  timeoutMs: number
  holder: string
  renderer: Renderer
  signal?: AbortSignal
}

export interface PurgeReport {
  secret: boolean
  /** registry.pullSecret, when one is configured: deleted (true) or absent. The registry is never touched. */
  pullSecret?: boolean
  stateRecord: boolean
  namespace: boolean
  /** Why the namespace stayed, when it did. */
  namespaceKept?: string
  clusterImages: string[]
  localImages: string[]
}

export interface DownResult {
  command: 'down'
  release: string
  namespace: string
  /** False when there was no release to uninstall. */
  uninstalled: boolean
  state: LifecycleState | 'NotDeployed'
  purged: PurgeReport | null
  phases: PhaseResult[]
}

/** `down` decided from the release's status, before it changes anything. */
export interface DownPlan {
  /** The revision to uninstall; absent when nothing is deployed (then every phase is skipped). */
  revision?: number
  /** Why nothing happens, when nothing is deployed. */
  notDeployed?: string
  purge: boolean
  keep: number
}

/** Pure: what `down` will do for the release's current status. */
export function planDown(
  resolved: ResolvedConfig,
  release: ReleaseInfo | null,
  options: Pick<DownOptions, 'purge' | 'keep'>,
): DownPlan {
  const {release: name, namespace} = resolved.config
  if (!release)
    return {
      notDeployed: `release ${name} is not deployed in ${namespace}`,
      purge: options.purge,
      keep: options.keep,
    }
  return {revision: release.revision, purge: options.purge, keep: options.keep}
}

interface DownRun {
  lock?: LockHandle
  plan?: DownPlan
}

/**
 * `todo-deploy down`: helm uninstall, then wait (by watch) until the release's pods are gone; with
 * --purge, remove what the CLI itself created. Idempotent: nothing deployed is said and is exit 0.
 * Preflight observes and plans; the other phases carry the plan out.
 */
export async function runDown(
  resolved: ResolvedConfig,
  connection: Connection,
  options: DownOptions,
): Promise<DownResult> {
  const run: DownRun = {}
  const {release: releaseName, namespace} = resolved.config
  const {recorder, phase, head, settle} = startOperation('down', resolved.config, run, options)
  const signal = options.signal
  const result: DownResult = {...head, uninstalled: false, state: 'Removing', purged: null, phases: []}
  /** The plan, or the skip every phase reports when nothing is deployed. */
  const deployedPlan = (): DownPlan & {revision: number} => {
    if (!run.plan) throw new Error('down: a phase ran before the plan was made')
    return run.plan as DownPlan & {revision: number}
  }
  const whenDeployed =
    (body: (plan: DownPlan & {revision: number}, report: (line: string) => void) => Promise<PhaseOutcome>) =>
    async (task: {output: string | undefined}): Promise<PhaseOutcome> =>
      run.plan?.notDeployed
        ? {skip: 'not deployed'}
        : body(deployedPlan(), (line) => {
            task.output = line
          })

  const tasks = [
    phase('preflight', 'Find the release', 'Removing', async () => {
      const status = await connection.helm.status(releaseName, namespace)
      run.plan = planDown(resolved, status, options)
      if (run.plan.notDeployed) return {skip: run.plan.notDeployed}
      run.lock = await lockRelease(connection, recorder, {
        namespace,
        release: releaseName,
        holder: options.holder,
        command: 'todo-deploy down',
      })
      return `revision ${status!.revision} (${status!.status})`
    }),
    phase(
      'uninstall',
      'Uninstall the Helm release',
      'Removing',
      whenDeployed(async (_plan, report) => {
        report(`helm uninstall ${releaseName}`)
        const {existed} = await connection.helm.uninstall(releaseName, namespace, {signal})
        result.uninstalled = existed
        return existed ? 'uninstalled' : {skip: 'already gone'}
      }),
    ),
    phase('pods', "Wait until the release's pods are gone", 'Removing', async (task) => {
      // Without a release, a purge still waits: the pods of a release uninstalled a moment ago (a failed
      // first install) are still terminating, and the namespace is removed only once it is empty.
      if (run.plan?.notDeployed && !options.purge) return {skip: 'not deployed'}
      await awaitPodsGone(connection, namespace, releaseSelector(releaseName), options, (line) => {
        task.output = line
      })
      return 'all gone'
    }),
    phase('purge', 'Purge what todo-deploy created', 'Removing', async (task) => {
      if (!options.purge) return {skip: 'no --purge: the Secret, the namespace and the images stay'}
      // Filled in as it goes: an interrupted purge still reports what it removed.
      const purged: PurgeReport = {
        secret: false,
        stateRecord: false,
        namespace: false,
        clusterImages: [],
        localImages: [],
      }
      result.purged = purged
      await purge(resolved, connection, {recorder, run, options, purged}, (line) => {
        task.output = line
      })
      return `Secret ${purged.secret ? 'deleted' : 'absent'}, namespace ${purged.namespace ? 'deleted' : `kept (${purged.namespaceKept})`}, ${purged.localImages.length} local and ${purged.clusterImages.length} cluster images removed`
    }),
  ]

  await settle(tasks, result, {
    succeeded: () => (run.plan?.notDeployed ? 'Initial' : 'Removed'),
    reported: (state) => (state === 'Removed' ? 'Removed' : 'NotDeployed'),
  })
  return result
}

/** Follows the release's pods by watch until none is left, or fails (exit 5) after the timeout. */
async function awaitPodsGone(
  connection: Connection,
  namespace: string,
  selector: string,
  options: Pick<DownOptions, 'timeoutMs' | 'signal'>,
  report: (line: string) => void,
): Promise<void> {
  const {signal} = options
  const deadline = AbortSignal.timeout(options.timeoutMs)
  try {
    await connection.workloads.watch(
      namespace,
      selector,
      (snapshot) => {
        report(
          snapshot.pods.length === 0
            ? 'no pods left'
            : `${snapshot.pods.length} pods left: ${snapshot.pods.map((pod) => pod.metadata?.name).join(', ')}`,
        )
        return snapshot.pods.length === 0
      },
      signal ? AbortSignal.any([signal, deadline]) : deadline,
    )
  } catch (error) {
    if (!deadline.aborted || signal?.aborted) throw error
    throw new DeployError(
      `the release's pods were still terminating after ${Math.round(options.timeoutMs / 1000)}s`,
      {fix: 'see them with `todo-deploy status`; `kubectl delete pod --force` removes a stuck one'},
    )
  }
}

/** `--purge`: the Secret, the state record, the namespace (when ours and empty), then old images. */
async function purge(
  resolved: ResolvedConfig,
  connection: Connection,
  state: {recorder: OperationRecorder; run: DownRun; options: DownOptions; purged: PurgeReport},
  report: (line: string) => void,
): Promise<void> {
  const {namespace, release, secrets} = resolved.config
  const {recorder, run, options, purged} = state
  // Ctrl-C stops the purge between deletions: what is left stays, and the record says where it stopped.
  const stopIfInterrupted = (): void => {
    if (options.signal?.aborted) throw new InterruptedError('interrupted by the user')
  }
  report(`deleting Secret ${secrets.name}`)
  purged.secret = (await connection.secrets.deleteSecret(namespace, secrets.name)).deleted
  const {pullSecret} = resolved.config.registry
  if (pullSecret !== null) {
    report(`deleting pull Secret ${pullSecret}`)
    purged.pullSecret = (await connection.secrets.deleteSecret(namespace, pullSecret)).deleted
  }
  stopIfInterrupted()
  await recorder.detach()
  await connection.state.delete(namespace, release)
  purged.stateRecord = true
  await run.lock?.release()
  run.lock = undefined
  stopIfInterrupted()
  if (await connection.api.namespaceCreatedByUs(namespace)) {
    const left = await connection.api.listNamespaceObjects(namespace)
    const others = Object.entries(left)
      .filter(([, names]) => (names as string[]).length > 0)
      .map(([kind, names]) => `${kind}: ${(names as string[]).join(', ')}`)
    if (others.length === 0) {
      report(`deleting namespace ${namespace}`)
      purged.namespace = (await connection.api.deleteNamespace(namespace)).deleted
      // Gone, not just deleted: an `up` right after would meet a Terminating namespace that refuses everything.
      if (purged.namespace)
        await awaitNamespaceGone(connection.api, namespace, {
          timeoutMs: options.timeoutMs,
          signal: options.signal,
          report,
        })
    } else {
      purged.namespaceKept = `other objects live there (${others.join('; ')})`
    }
  } else {
    purged.namespaceKept = 'todo-deploy did not create it'
  }
  await purgeImages(resolved, connection, options.keep, purged, stopIfInterrupted, report)
}

/** This app's images, newest first per service; all but the newest `keep` go from the engine and the cluster. */
async function purgeImages(
  resolved: ResolvedConfig,
  connection: Connection,
  keep: number,
  purged: PurgeReport,
  stopIfInterrupted: () => void,
  onLine: (line: string) => void,
): Promise<void> {
  const engine = connection.images(null)
  for (const service of SERVICE_NAMES) {
    const repository = resolved.config.services[service].image.repository
    const images = (await engine.listImages(repository)).sort(
      (a, b) => b.createdAt.getTime() - a.createdAt.getTime(),
    )
    for (const image of images.slice(keep)) {
      for (const ref of image.tags) {
        stopIfInterrupted()
        onLine(`removing ${ref}`)
        if (await connection.cluster.removeImage(ref).catch(() => false)) purged.clusterImages.push(ref)
        if (await engine.removeImage(ref)) purged.localImages.push(ref)
      }
    }
  }
}
