import type {ResolvedConfig} from '../config/load.js'
import {SERVICE_NAMES} from '../config/schema.js'
import {DeployError, InterruptedError} from '../errors.js'
import type {LockHandle} from '../kube/release-lock.js'
import {OperationRecorder, type LifecycleState, type PhaseResult} from './operation.js'
import {lockRelease, phaseFactory, runOperation, type Renderer} from './phase-runner.js'
import {releaseSelector} from '../kube/kube-client.js'
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

interface DownContext {
  lock?: LockHandle
  deployed: boolean
}

/**
 * `todo-deploy down`: helm uninstall, then wait (by watch) until the release's pods are gone; with
 * --purge, remove what the CLI itself created. Idempotent: nothing deployed is said and is exit 0.
 */
export async function runDown(
  resolved: ResolvedConfig,
  connection: Connection,
  options: DownOptions,
): Promise<DownResult> {
  const {config} = resolved
  const {release: releaseName, namespace} = config
  const selector = releaseSelector(releaseName)
  const recorder = new OperationRecorder('down')
  const signal = options.signal
  const ctx: DownContext = {deployed: false}
  const result: DownResult = {
    command: 'down',
    release: releaseName,
    namespace,
    uninstalled: false,
    state: 'Removing',
    purged: null,
    phases: [],
  }
  const phase = phaseFactory<DownContext>(recorder, signal)

  const tasks = [
    phase('preflight', 'Find the release', 'Removing', async () => {
      const status = await connection.helm.status(releaseName, namespace)
      ctx.deployed = status !== null
      if (!ctx.deployed) return {skip: `release ${releaseName} is not deployed in ${namespace}`}
      ctx.lock = await lockRelease(connection, recorder, {
        namespace,
        release: releaseName,
        holder: options.holder,
        command: 'todo-deploy down',
      })
      return `revision ${status!.revision} (${status!.status})`
    }),
    phase('uninstall', 'Uninstall the Helm release', 'Removing', async (task) => {
      if (!ctx.deployed) return {skip: 'not deployed'}
      task.output = `helm uninstall ${releaseName}`
      const {existed} = await connection.helm.uninstall(releaseName, namespace, {signal})
      result.uninstalled = existed
      return existed ? 'uninstalled' : {skip: 'already gone'}
    }),
    phase('pods', "Wait until the release's pods are gone", 'Removing', async (task) => {
      if (!ctx.deployed) return {skip: 'not deployed'}
      const deadline = AbortSignal.timeout(options.timeoutMs)
      try {
        await connection.workloads.watch(
          namespace,
          selector,
          (snapshot) => {
            task.output =
              snapshot.pods.length === 0
                ? 'no pods left'
                : `${snapshot.pods.length} pods left: ${snapshot.pods.map((pod) => pod.metadata?.name).join(', ')}`
            return snapshot.pods.length === 0
          },
          signal ? AbortSignal.any([signal, deadline]) : deadline,
        )
      } catch (error) {
        if (!deadline.aborted || signal?.aborted) throw error
        throw new DeployError(
          `the release's pods were still terminating after ${Math.round(options.timeoutMs / 1000)}s`,
          {
            fix: 'see them with `todo-deploy status`; `kubectl delete pod --force` removes a stuck one',
          },
        )
      }
      return 'all gone'
    }),
    phase('purge', 'Purge what todo-deploy created', 'Removing', async (task) => {
      if (!options.purge) return {skip: 'no --purge: the Secret, the namespace and the images stay'}
      const purged: PurgeReport = {
        secret: false,
        stateRecord: false,
        namespace: false,
        clusterImages: [],
        localImages: [],
      }
      result.purged = purged
      // Ctrl-C stops the purge between deletions: what is left stays, and the record says where it stopped.
      const stopIfInterrupted = (): void => {
        if (signal?.aborted) throw new InterruptedError('interrupted by the user')
      }
      task.output = `deleting Secret ${config.secrets.name}`
      purged.secret = (await connection.secrets.deleteSecret(namespace, config.secrets.name)).deleted
      stopIfInterrupted()
      await recorder.detach()
      await connection.state.delete(namespace, releaseName)
      purged.stateRecord = true
      await ctx.lock?.release()
      ctx.lock = undefined
      stopIfInterrupted()
      if (await connection.api.namespaceCreatedByUs(namespace)) {
        const left = await connection.api.listNamespaceObjects(namespace)
        const others = Object.entries(left)
          .filter(([, names]) => (names as string[]).length > 0)
          .map(([kind, names]) => `${kind}: ${(names as string[]).join(', ')}`)
        if (others.length === 0) {
          task.output = `deleting namespace ${namespace}`
          purged.namespace = (await connection.api.deleteNamespace(namespace)).deleted
        } else {
          purged.namespaceKept = `other objects live there (${others.join('; ')})`
        }
      } else {
        purged.namespaceKept = 'todo-deploy did not create it'
      }
      await purgeImages(resolved, connection, options.keep, purged, stopIfInterrupted, (line) => {
        task.output = line
      })
      return `Secret ${purged.secret ? 'deleted' : 'absent'}, namespace ${purged.namespace ? 'deleted' : `kept (${purged.namespaceKept})`}, ${purged.localImages.length} local and ${purged.clusterImages.length} cluster images removed`
    }),
  ]

  await runOperation({
    command: 'down',
    recorder,
    tasks,
    ctx,
    renderer: options.renderer,
    signal,
    result,
    succeeded: () => (ctx.deployed ? 'Removed' : 'Initial'),
    failed: 'Failed',
  })
  result.state = ctx.deployed ? 'Removed' : 'NotDeployed'
  return result
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
