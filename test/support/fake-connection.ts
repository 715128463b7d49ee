import {createHash} from 'node:crypto'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import type {V1Deployment, V1Pod, V1Service} from '@kubernetes/client-node'
import {parse as parseYaml} from 'yaml'

import {ContentTagger} from '../../src/lib/build/content-tag.js'
import type {
  BuildRequest,
  BuiltImage,
  ImageBuilder,
  ImageInfo,
  ListedImage,
} from '../../src/lib/build/image-builder.js'
import type {ClusterNodes, NodeReader} from '../../src/lib/cluster/cluster-nodes.js'
import type {ClusterKind} from '../../src/lib/cluster/cluster-kind.js'
import type {
  ClusterTarget,
  FrontendUrlRequest,
  LoadImageOptions,
  LoadImageResult,
  NodeRuntime,
} from '../../src/lib/cluster/cluster-target.js'
import {loadConfig, type ResolvedConfig} from '../../src/lib/config/load.js'
import {SERVICE_NAMES, type ServiceName} from '../../src/lib/config/schema.js'
import {BuildError, DeployError, InterruptedError, type TodoDeployError} from '../../src/lib/errors.js'
import type {
  GetValuesOptions,
  HelmClient,
  HelmVersion,
  LintResult,
  ReleaseInfo,
  ReleaseRevision,
  ReleaseStatus,
  ReleaseValues,
  UpgradeInstallRequest,
} from '../../src/lib/helm/helm-client.js'
import {HelmCli} from '../../src/lib/helm/helm-cli.js'
import {ReleasePendingError, helmFailure} from '../../src/lib/helm/helm-errors.js'
import {isPending} from '../../src/lib/helm/release-state.js'
import type {
  ClusterApi,
  IngressSummary,
  NamespaceObjects,
  NodePortHolder,
  ServiceProxyResponse,
} from '../../src/lib/kube/kube-client.js'
import type {AcquireLockRequest, LockHandle, LockState, ReleaseLock} from '../../src/lib/kube/release-lock.js'
import {fixFor, type Diagnosis} from '../../src/lib/kube/rollout/diagnosis.js'
import type {RolloutOutcome, TrackRequest} from '../../src/lib/kube/rollout/rollout-tracker.js'
import {
  secretChecksum,
  type AppliedSecret,
  type ApplySecretRequest,
  type SecretStore,
} from '../../src/lib/kube/secret-store.js'
import type {LogTail, LogTailRequest, PodLogSource} from '../../src/lib/kube/rollout/pod-logs.js'
import {FakeContainerLogSource} from './fake-log-streams.js'
import {HISTORY_LIMIT, type LifecycleRecord, type StateRecordStore} from '../../src/lib/kube/state-record.js'
import type {WorkloadSnapshot, WorkloadSource} from '../../src/lib/kube/workload-source.js'
import type {Connection, RolloutWaiter} from '../../src/lib/lifecycle/ports.js'
import type {UpOptions} from '../../src/lib/lifecycle/up.js'
import {imageTagsOf} from '../../src/lib/lifecycle/release-tags.js'
import {ExecaProcessRunner} from '../../src/lib/process/runner.js'
import {pullSecretBody, type PullSecretRequest} from '../../src/lib/registry/pull-secret.js'
import {SecretValue} from '../../src/lib/secrets/secret-value.js'
import {FakeRegistry} from './fake-registry.js'
import {helmBinary} from './helm-binaries.js'

/** One call a double received: `engine.build`, `helm.upgradeInstall`, … with its (copied) arguments. */
export interface RecordedCall {
  name: string
  args: unknown[]
}

/**
 * The calls of every double of one FakeCluster, in order. `onCall` runs as each call starts: a test
 * aborts its AbortController there to press Ctrl-C in the middle of a given phase.
 */
export class CallLog {
  readonly calls: RecordedCall[] = []
  onCall: ((name: string, args: unknown[]) => void) | undefined

  record(name: string, ...args: unknown[]): void {
    this.calls.push({name, args})
    this.onCall?.(name, args)
  }

  named(name: string): RecordedCall[] {
    return this.calls.filter((call) => call.name === name)
  }

  count(name: string): number {
    return this.named(name).length
  }

  names(): string[] {
    return this.calls.map((call) => call.name)
  }
}

/**
 * Takes `ms` (real time) unless the signal aborts first; an abort rejects with InterruptedError, as the
 * real adapters do when their child process or HTTP stream is stopped. `sawAbort` hears about it.
 */
function work(ms: number, signal: AbortSignal | undefined, what: string, sawAbort: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const interrupted = (): void => {
      sawAbort.push(what)
      reject(new InterruptedError(`${what} interrupted`))
    }
    if (signal?.aborted) {
      interrupted()
      return
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = (): void => {
      clearTimeout(timer)
      interrupted()
    }
    signal?.addEventListener('abort', onAbort, {once: true})
  })
}

function imageId(seed: string): string {
  return `sha256:${createHash('sha256').update(seed).digest('hex')}`
}

/** A Docker Engine holding `repository:tag` → image; builds take `buildMs` and can be made to fail. */
export class FakeImageEngine implements ImageBuilder {
  readonly images = new Map<string, ImageInfo & {createdAt: Date}>()
  /** Every build request, in order (its context, Dockerfile text, tag, signal). */
  readonly builds: BuildRequest[] = []
  /** Builds that were still running when their signal aborted. */
  readonly sawAbort: string[] = []
  /** A repository whose next builds fail with BuildError, as a failing RUN step does. */
  failingRepository: string | undefined
  buildMs = 0
  /** Build time of one repository's images, instead of buildMs. */
  readonly buildMsByRepository = new Map<string, number>()
  sizeBytes = 50 * 1024 * 1024

  constructor(private readonly log: CallLog) {}

  get buildCount(): number {
    return this.builds.length
  }

  async hasImage(ref: string): Promise<ImageInfo | null> {
    this.log.record('engine.hasImage', ref)
    const image = this.images.get(ref)
    return image ? {id: image.id, sizeBytes: image.sizeBytes} : null
  }

  async build(request: BuildRequest, onProgress: (line: string) => void = () => {}): Promise<BuiltImage> {
    const ref = `${request.repository}:${request.tag}`
    this.builds.push(request)
    this.log.record('engine.build', ref)
    onProgress('Step 1/2 : FROM scratch')
    const ms = this.buildMsByRepository.get(request.repository) ?? this.buildMs
    await work(ms, request.signal, `build of ${ref}`, this.sawAbort)
    if (this.failingRepository === request.repository) {
      throw new BuildError(
        `building ${ref} failed at Step 2/2 : RUN make: The command '/bin/sh -c make' returned a non-zero code: 2`,
        {
          where: request.dockerfilePath,
          fix: `fix the failing step in ${request.dockerfilePath} (its output is above) and run again`,
          details: ['make: *** No rule to make target. Stop.'],
        },
      )
    }
    onProgress(`Successfully tagged ${ref}`)
    const id = imageId(`${ref}#${this.builds.length}`)
    const image = {id, sizeBytes: this.sizeBytes, createdAt: new Date()}
    this.images.set(ref, image)
    this.images.set(`${request.repository}:latest`, image)
    return {ref, id, sizeBytes: this.sizeBytes, tags: [ref, `${request.repository}:latest`]}
  }

  async removeImage(ref: string): Promise<boolean> {
    this.log.record('engine.removeImage', ref)
    return this.images.delete(ref)
  }

  async listImages(repository: string): Promise<ListedImage[]> {
    this.log.record('engine.listImages', repository)
    const byId = new Map<string, ListedImage>()
    for (const [ref, image] of this.images) {
      if (!ref.startsWith(`${repository}:`)) continue
      const listed = byId.get(image.id) ?? {
        id: image.id,
        sizeBytes: image.sizeBytes,
        createdAt: image.createdAt,
        tags: [],
      }
      listed.tags.push(ref)
      byId.set(image.id, listed)
    }
    return [...byId.values()]
  }
}

/**
 * A minikube-like cluster: images are loaded from the local engine (by ID, as `minikube image load`
 * sends the local image), counted, and a load can be made to fail.
 */
export class FakeClusterTarget implements ClusterTarget {
  readonly kind: ClusterKind = 'minikube'
  /** ref → image ID on the node. */
  readonly images = new Map<string, string>()
  readonly loads: string[] = []
  readonly sawAbort: string[] = []
  runtime: NodeRuntime = {containerRuntime: 'containerd', nodeCount: 1}
  /** Thrown by ensureRunning (e.g. a PrerequisiteError for a stopped profile). */
  notRunning: TodoDeployError | undefined
  /** A repository whose loads fail as `minikube image load` does when it exits non-zero. */
  failingLoadRepository: string | undefined
  loadMs = 0
  nodeIp = '192.168.49.2'

  constructor(
    private readonly log: CallLog,
    /** The local engine the images are sent from. */
    private readonly engine: Pick<ImageBuilder, 'hasImage'>,
  ) {}

  get loadCount(): number {
    return this.loads.length
  }

  describe(): string {
    return 'minikube profile "minikube"'
  }

  async version(): Promise<string> {
    return 'v1.35.0'
  }

  async ensureRunning(): Promise<void> {
    this.log.record('cluster.ensureRunning')
    if (this.notRunning) throw this.notRunning
  }

  async nodeRuntime(): Promise<NodeRuntime> {
    return this.runtime
  }

  async imagePresent(ref: string, expectedImageId?: string): Promise<boolean> {
    this.log.record('cluster.imagePresent', ref, expectedImageId)
    const id = this.images.get(ref)
    return id !== undefined && (expectedImageId === undefined || id === expectedImageId)
  }

  async loadImage(ref: string, options: LoadImageOptions = {}): Promise<LoadImageResult> {
    this.log.record('cluster.loadImage', ref, options.expectedImageId)
    if (await this.imagePresent(ref, options.expectedImageId)) return 'already-present'
    this.loads.push(ref)
    options.onLine?.(`Loading image ${ref}`)
    await work(this.loadMs, options.signal, `load of ${ref}`, this.sawAbort)
    const local = await this.engine.hasImage(ref)
    if (ref.startsWith(`${this.failingLoadRepository}:`) || local === null) {
      throw new DeployError(`minikube could not load ${ref} into ${this.describe()}`, {
        where: `minikube -p minikube image load ${ref}`,
        fix: `check that \`docker image inspect ${ref}\` finds the image locally and that the profile has free disk space (\`minikube -p minikube ssh -- df -h /var\`)`,
        details: [
          'X Exiting due to GUEST_IMAGE_LOAD: Failed to load image: write /var/lib/minikube/images: no space left on device',
        ],
      })
    }
    this.images.set(ref, local.id)
    return 'loaded'
  }

  async builderEnv(): Promise<Record<string, string> | null> {
    return null
  }

  async removeImage(ref: string): Promise<boolean> {
    this.log.record('cluster.removeImage', ref)
    return this.images.delete(ref)
  }

  async frontendUrl(request: FrontendUrlRequest): Promise<string> {
    this.log.record('cluster.frontendUrl', request)
    if (request.ingressHost) return `http://${request.ingressHost}`
    return `http://${this.nodeIp}:${request.nodePort ?? 80}`
  }
}

/** The nodes the API server lists; none readable by default (every image question goes to the cluster target). */
export class FakeNodeReader implements NodeReader {
  current: ClusterNodes | null = null

  constructor(private readonly log: CallLog) {}

  async read(): Promise<ClusterNodes | null> {
    this.log.record('nodes.read')
    return structuredClone(this.current)
  }
}

/** One stored revision of a release: what `helm history` lists plus the values it was given. */
export interface FakeRevision extends ReleaseRevision {
  config: Record<string, unknown>
  firstDeployed: Date
}

/** What a test can make `upgradeInstall` do once. */
export type UpgradeFailure = {kind: 'failed'; message?: string} | {kind: 'hang'}

/**
 * helm with release histories kept in memory: revisions, statuses (deployed, superseded, failed,
 * pending-*), the values each revision was given (`-f` files read at call time, then `--set-string`
 * and `--set`, as helm merges them). `helm template` runs the REAL helm 3 binary on the chart.
 */
export class FakeHelm implements HelmClient {
  readonly releases = new Map<string, FakeRevision[]>()
  /** Each upgradeInstall request, with the text of its values files as they were at call time. */
  readonly upgrades: {
    request: Omit<UpgradeInstallRequest, 'signal' | 'onLine'>
    valuesFileTexts: string[]
  }[] = []
  readonly rollbacks: {release: string; revision: number; namespace: string}[] = []
  readonly uninstalls: {release: string; namespace: string}[] = []
  readonly templates: ReleaseValues[] = []
  readonly sawAbort: string[] = []
  /** Consumed by the next upgradeInstall. */
  nextUpgrade: UpgradeFailure | undefined
  upgradeMs = 0
  /** How helm leaves a release whose upgrade was stopped: helm 3/4 mark it failed on SIGTERM, a SIGKILL leaves it pending. */
  interruptedUpgradeLeaves: 'failed' | 'pending' = 'failed'
  private readonly realHelm = new HelmCli(new ExecaProcessRunner(), {binary: helmBinary('v3')})

  constructor(private readonly log: CallLog) {}

  async version(): Promise<HelmVersion> {
    this.log.record('helm.version')
    return {version: 'v3.17.2+gcc0bbbd', major: 3}
  }

  async upgradeInstall(request: UpgradeInstallRequest): Promise<{revision?: number}> {
    const {signal: _signal, onLine: _onLine, ...recorded} = request
    const valuesFileTexts = request.valuesFiles.map((file) => readFileSync(file, 'utf8'))
    this.upgrades.push({request: structuredClone(recorded), valuesFileTexts})
    this.log.record('helm.upgradeInstall', structuredClone(recorded))
    const history = this.history_(request.release, request.namespace)
    const current = history.at(-1)
    if (current && isPending(current.status))
      throw new ReleasePendingError(request.release, request.namespace)
    const failure = this.nextUpgrade
    this.nextUpgrade = undefined
    const installing = !history.some(
      (revision) => revision.status === 'deployed' || revision.status === 'superseded',
    )
    const revision = this.push(request.release, request.namespace, {
      status: installing ? 'pending-install' : 'pending-upgrade',
      description: installing ? 'Initial install underway' : 'Preparing upgrade',
      config: valuesOf(valuesFileTexts, request),
      chart: chartRefOf(request.chart),
    })
    request.onLine?.(`Release "${request.release}" is being ${installing ? 'installed' : 'upgraded'}.`)
    try {
      if (failure?.kind === 'hang') await work(60 * 60 * 1000, request.signal, 'helm upgrade', this.sawAbort)
      else await work(this.upgradeMs, request.signal, 'helm upgrade', this.sawAbort)
    } catch (error) {
      if (this.interruptedUpgradeLeaves === 'failed') {
        revision.status = 'failed'
        revision.description = `${installing ? 'Install' : 'Upgrade'} "${request.release}" failed: context canceled`
      }
      throw error
    }
    if (failure?.kind === 'failed') {
      const message =
        failure.message ??
        'cannot patch "todo-frontend" with kind Deployment: Deployment.apps "todo-frontend" is invalid'
      revision.status = 'failed'
      revision.description = `${installing ? 'Install' : 'Upgrade'} "${request.release}" failed: ${message}`
      throw new DeployError(`helm upgrade --install failed: ${message}`, {
        where: `release ${request.release} in namespace ${request.namespace}`,
        fix: 'check the chart values; `helm template` shows what was sent',
      })
    }
    this.settle(history, revision, installing ? 'Install complete' : 'Upgrade complete')
    this.trim(history, request.historyMax)
    return {revision: revision.revision}
  }

  async status(release: string, namespace: string): Promise<ReleaseInfo | null> {
    this.log.record('helm.status', release, namespace)
    const history = this.releases.get(key(release, namespace)) ?? []
    const current = history.at(-1)
    if (!current) return null
    return {
      name: release,
      namespace,
      revision: current.revision,
      status: current.status,
      description: current.description,
      firstDeployed: history[0]?.firstDeployed,
      lastDeployed: current.updated,
      config: structuredClone(current.config),
      manifest: '',
    }
  }

  async history(release: string, namespace: string): Promise<ReleaseRevision[]> {
    this.log.record('helm.history', release, namespace)
    return (this.releases.get(key(release, namespace)) ?? []).map(
      ({revision, updated, status, chart, appVersion, description}) => ({
        revision,
        updated,
        status,
        chart,
        appVersion,
        description,
      }),
    )
  }

  async getValues(
    release: string,
    namespace: string,
    options: GetValuesOptions = {},
  ): Promise<Record<string, unknown>> {
    this.log.record('helm.getValues', release, namespace, options)
    const history = this.releases.get(key(release, namespace)) ?? []
    const found =
      options.revision === undefined ? history.at(-1) : history.find((r) => r.revision === options.revision)
    if (!found) throw new DeployError(`release ${release} has no revision ${options.revision ?? ''}`.trim())
    return structuredClone(found.config)
  }

  async rollback(
    release: string,
    revision: number,
    namespace: string,
    options: {signal?: AbortSignal} = {},
  ): Promise<void> {
    this.log.record('helm.rollback', release, revision, namespace)
    this.rollbacks.push({release, revision, namespace})
    await work(0, options.signal, 'helm rollback', this.sawAbort)
    const history = this.history_(release, namespace)
    const target = history.find((entry) => entry.revision === revision)
    if (!target) {
      // helm's own answer, mapped by the same code that maps the real one.
      throw helmFailure(
        {exitCode: 1, stdout: '', stderr: `Error: release has no ${revision} version\n`},
        {operation: 'helm rollback', kind: 'change', release, namespace, masked: []},
      )
    }
    const created = this.push(release, namespace, {
      status: 'pending-rollback',
      description: 'Rollback underway',
      config: structuredClone(target.config),
      chart: target.chart,
    })
    this.settle(history, created, `Rollback to ${revision}`)
  }

  async uninstall(
    release: string,
    namespace: string,
    options: {signal?: AbortSignal} = {},
  ): Promise<{existed: boolean}> {
    this.log.record('helm.uninstall', release, namespace)
    this.uninstalls.push({release, namespace})
    await work(0, options.signal, 'helm uninstall', this.sawAbort)
    return {existed: this.releases.delete(key(release, namespace))}
  }

  async template(values: ReleaseValues): Promise<string> {
    this.templates.push(structuredClone(values))
    this.log.record('helm.template', structuredClone(values))
    return this.realHelm.template(values)
  }

  async lint(chart: string, valuesFiles: string[]): Promise<LintResult> {
    this.log.record('helm.lint', chart, valuesFiles)
    return this.realHelm.lint(chart, valuesFiles)
  }

  /** Seeds a revision as a past run would have left it (e.g. `pending-upgrade` after a killed helm). */
  seed(
    release: string,
    namespace: string,
    status: ReleaseStatus,
    config: Record<string, unknown> = {},
  ): FakeRevision {
    const history = this.history_(release, namespace)
    if (status === 'deployed')
      for (const entry of history) if (entry.status === 'deployed') entry.status = 'superseded'
    return this.push(release, namespace, {status, description: `seeded ${status}`, config})
  }

  revisions(release: string, namespace: string): FakeRevision[] {
    return this.releases.get(key(release, namespace)) ?? []
  }

  private history_(release: string, namespace: string): FakeRevision[] {
    const id = key(release, namespace)
    let history = this.releases.get(id)
    if (!history) {
      history = []
      this.releases.set(id, history)
    }
    return history
  }

  private push(
    release: string,
    namespace: string,
    fields: Pick<FakeRevision, 'status' | 'description' | 'config'> & {chart?: string},
  ): FakeRevision {
    const history = this.history_(release, namespace)
    const revision: FakeRevision = {
      revision: (history.at(-1)?.revision ?? 0) + 1,
      updated: new Date(),
      firstDeployed: history[0]?.firstDeployed ?? new Date(),
      appVersion: '1.0.0',
      ...fields,
      chart: fields.chart ?? history.at(-1)?.chart ?? 'todo-chatbot-chart-1.0.0',
    }
    history.push(revision)
    return revision
  }

  /** The new revision becomes the deployed one; the one deployed before is superseded. */
  private settle(history: FakeRevision[], revision: FakeRevision, description: string): void {
    for (const entry of history)
      if (entry !== revision && entry.status === 'deployed') entry.status = 'superseded'
    revision.status = 'deployed'
    revision.description = description
  }

  private trim(history: FakeRevision[], historyMax: number): void {
    if (historyMax > 0 && history.length > historyMax) history.splice(0, history.length - historyMax)
  }
}

function key(release: string, namespace: string): string {
  return `${namespace}/${release}`
}

/** `<name>-<version>` of a chart folder, as `helm history` shows it; the project's chart when unreadable. */
function chartRefOf(chart: string): string | undefined {
  try {
    const meta = parseYaml(readFileSync(path.join(chart, 'Chart.yaml'), 'utf8')) as {
      name: string
      version: string
    }
    return `${meta.name}-${meta.version}`
  } catch {
    return undefined
  }
}

/**
 * The user-supplied values helm stores for a revision: `-f` files in order, then `--set`, then
 * `--set-string`, which wins over `--set` whatever the order on the command line.
 */
function valuesOf(valuesFileTexts: string[], request: ReleaseValues): Record<string, unknown> {
  let merged: Record<string, unknown> = {}
  for (const text of valuesFileTexts)
    merged = mergeValues(merged, (parseYaml(text) ?? {}) as Record<string, unknown>)
  for (const flag of request.set ?? []) {
    for (const pair of flag.split(/(?<!\\),/)) {
      const at = pair.indexOf('=')
      setDotted(merged, pair.slice(0, at), typedSetValue(pair.slice(at + 1).replace(/\\(.)/g, '$1')))
    }
  }
  for (const [dotted, value] of Object.entries(request.setString)) setDotted(merged, dotted, value)
  return merged
}

/** How `--set` types a value: true/false, null, integers without a leading zero; anything else a string. No `{a,b}` lists. */
function typedSetValue(text: string): unknown {
  if (/^true$/i.test(text)) return true
  if (/^false$/i.test(text)) return false
  if (/^null$/i.test(text)) return null
  if (text === '0' || /^[-+]?[1-9]\d*$/.test(text)) {
    const number = Number(text)
    if (Number.isSafeInteger(number)) return number
  }
  return text
}

function mergeValues(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = {...base}
  for (const [name, value] of Object.entries(over)) {
    const current = result[name]
    result[name] =
      isPlainObject(current) && isPlainObject(value) ? mergeValues(current, value) : structuredClone(value)
  }
  return result
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function setDotted(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split('.')
  let level = target
  for (const name of keys.slice(0, -1)) {
    const next = level[name]
    if (!isPlainObject(next)) level[name] = {}
    level = level[name] as Record<string, unknown>
  }
  level[keys.at(-1) ?? dotted] = value
}

/** What the fake rollout waiter does on one call. */
export type ScriptedRollout =
  | {status: 'rolled-out'}
  | {status: 'failed'; reason: TerminalReason}
  | {status: 'timed-out'}
  /** Waits until the signal aborts (a rollout that never ends), for Ctrl-C tests. */
  | {status: 'hang'}

export const TERMINAL_REASONS = [
  'ErrImageNeverPull',
  'CrashLoopBackOff',
  'OOMKilled',
  'CreateContainerConfigError',
  'Unschedulable',
  'ProgressDeadlineExceeded',
  'ImagePullBackOff',
  'InvalidImageName',
] as const
export type TerminalReason = (typeof TERMINAL_REASONS)[number]

const REASON_MESSAGES: Record<TerminalReason | 'timed-out', string> = {
  ErrImageNeverPull: 'Container image "todo-backend:c-0123456789ab" is not present with pull policy of Never',
  CrashLoopBackOff:
    'back-off 40s restarting failed container=backend pod=todo-backend-7d9f8b6c4-x2x7q_todo-app-dev',
  OOMKilled: 'the container was killed for using more memory than its limit',
  CreateContainerConfigError: "couldn't find key JWT_SECRET in Secret todo-app-dev/todo-app-secrets",
  Unschedulable: '0/1 nodes are available: 1 Insufficient memory.',
  ProgressDeadlineExceeded: 'ReplicaSet "todo-backend-7d9f8b6c4" has timed out progressing.',
  ImagePullBackOff: 'Back-off pulling image "todo-backend:c-0123456789ab"',
  InvalidImageName:
    'Failed to apply default image tag "Todo-Backend:c-0123456789ab": couldn\'t parse image name',
  'timed-out': 'Readiness probe failed: HTTP probe failed with statuscode: 503',
}

/** A diagnosis as the RolloutTracker builds it for the backend's pod failing with `reason`. */
export function diagnosisFor(reason: TerminalReason | 'timed-out', namespace = 'todo-app-dev'): Diagnosis {
  const pod = 'todo-backend-7d9f8b6c4-x2x7q'
  const message = REASON_MESSAGES[reason]
  const unschedulable = reason === 'Unschedulable'
  const crashed = reason === 'CrashLoopBackOff' || reason === 'OOMKilled'
  const events = [
    {
      type: 'Warning',
      reason: reason === 'timed-out' ? 'Unhealthy' : reason === 'Unschedulable' ? 'FailedScheduling' : reason,
      message: reason === 'timed-out' ? message : `${reason}: ${message}`,
      count: 3,
      object: `Pod/${pod}`,
      age: '4s',
    },
  ]
  const memoryLimit = reason === 'OOMKilled' ? '512Mi' : undefined
  return {
    namespace,
    deployment: 'todo-backend',
    pod,
    container: unschedulable ? undefined : 'backend',
    reason: reason === 'timed-out' ? 'ReadinessProbeFailing' : reason,
    message,
    restartCount: crashed ? 4 : 0,
    lastTerminated: crashed
      ? {exitCode: reason === 'OOMKilled' ? 137 : 1, reason: reason === 'OOMKilled' ? 'OOMKilled' : 'Error'}
      : undefined,
    memoryLimit,
    logs: crashed
      ? {source: 'previous', lines: ['Traceback (most recent call last):', 'KeyError: DATABASE_URL']}
      : undefined,
    events,
    fix: fixFor(reason === 'timed-out' ? 'ReadinessProbeFailing' : reason, message, {
      image: 'todo-backend:c-0123456789ab',
      container: 'backend',
      memoryLimit,
      events,
    }),
    commands: [
      `kubectl -n ${namespace} logs ${pod} -c backend${crashed ? ' --previous' : ''}`,
      `kubectl -n ${namespace} describe pod ${pod}`,
    ],
  }
}

/** Answers each wait from `script` (one entry per call, in order); rolled out once the script is used up. */
export class FakeRolloutWaiter implements RolloutWaiter {
  readonly script: ScriptedRollout[] = []
  readonly requests: Omit<TrackRequest, 'signal' | 'onProgress'>[] = []
  readonly sawAbort: string[] = []
  /** Runs as each wait starts (FakeCluster.kubeletFollowsHelm makes the pods match helm's revision here). */
  beforeWait: (() => void) | undefined

  constructor(private readonly log: CallLog) {}

  async wait(request: TrackRequest): Promise<RolloutOutcome> {
    const {signal, onProgress, ...recorded} = request
    this.requests.push(recorded)
    this.log.record('rollout.wait', recorded)
    this.beforeWait?.()
    const next = this.script.shift() ?? {status: 'rolled-out'}
    const deployments = request.deployments ?? []
    await work(next.status === 'hang' ? 60 * 60 * 1000 : 0, signal, 'rollout wait', this.sawAbort)
    for (const name of deployments) {
      onProgress?.({
        deployment: name,
        desired: 1,
        ready: 1,
        updated: 1,
        available: 1,
        rolledOut: next.status === 'rolled-out',
        state: 'Running, ready',
      })
    }
    switch (next.status) {
      case 'failed':
        return {
          status: 'failed',
          reason: next.reason,
          diagnosis: diagnosisFor(next.reason, request.namespace),
        }
      case 'timed-out':
        return {status: 'timed-out', diagnosis: diagnosisFor('timed-out', request.namespace)}
      default:
        return {
          status: 'rolled-out',
          deployments: deployments.map((name) => ({name, replicas: 1, revision: '1', images: []})),
        }
    }
  }
}

/**
 * Secrets in memory. Stores the checksum and key NAMES only: a test can look at everything this double
 * keeps and find no secret value, as the real store keeps values only inside the cluster.
 */
export class FakeSecretStore implements SecretStore {
  readonly secrets = new Map<
    string,
    {checksum: string; keys: string[]; labels: Record<string, string>; type?: string; registry?: string}
  >()
  applyCount = 0

  constructor(private readonly log: CallLog) {}

  async applySecret(request: ApplySecretRequest): Promise<AppliedSecret> {
    this.applyCount++
    this.log.record('secrets.applySecret', {
      namespace: request.namespace,
      name: request.name,
      keys: request.values.map((value) => value.name),
    })
    const checksum = secretChecksum(request.values)
    const id = key(request.name, request.namespace)
    const changed = this.secrets.get(id)?.checksum !== checksum
    this.secrets.set(id, {
      checksum,
      keys: request.values.map((value) => value.name),
      labels: {...request.labels},
    })
    return {checksum, changed}
  }

  /** Keeps the type, the registry host, the labels and a hash of the body: never the credentials. */
  async applyPullSecret(request: PullSecretRequest): Promise<{changed: boolean}> {
    this.applyCount++
    const body = pullSecretBody(request)
    this.log.record('secrets.applyPullSecret', {
      namespace: request.namespace,
      name: request.name,
      host: request.credential.host,
    })
    const checksum = createHash('sha256').update(JSON.stringify(body.data)).digest('hex')
    const id = key(request.name, request.namespace)
    const changed = this.secrets.get(id)?.checksum !== checksum
    this.secrets.set(id, {
      checksum,
      keys: Object.keys(body.data ?? {}),
      labels: {...request.labels},
      type: body.type,
      registry: request.credential.host,
    })
    return {changed}
  }

  async deleteSecret(namespace: string, name: string): Promise<{deleted: boolean}> {
    this.log.record('secrets.deleteSecret', namespace, name)
    return {deleted: this.secrets.delete(key(name, namespace))}
  }

  async secretExists(namespace: string, name: string): Promise<boolean> {
    return this.secrets.has(key(name, namespace))
  }
}

/** One lease per release; `holdBy` makes another process hold it. The refusal names the holder and its command, as the Lease's annotation does. */
export class FakeReleaseLock implements ReleaseLock {
  /** release key → holder and the command it runs. */
  readonly holders = new Map<string, {holder: string; command: string}>()
  acquired = 0
  released = 0

  constructor(private readonly log: CallLog) {}

  async acquire(request: AcquireLockRequest): Promise<LockHandle> {
    this.log.record('lock.acquire', request)
    const id = key(request.release, request.namespace)
    const held = this.holders.get(id)
    if (held !== undefined) {
      throw new DeployError(
        `release ${request.release} is locked by \`${held.command}\` (holder ${held.holder}) since 2025-01-01T10:00:00.000Z; wait for it to finish, or if that process is gone the lock expires at 2025-01-01T10:00:30.000Z`,
        {
          where: `lease/todo-deploy-lock-${request.release} in namespace ${request.namespace}`,
          fix: 'run the command again once the other one has finished (or the lock has expired)',
        },
      )
    }
    this.holders.set(id, {holder: request.holder, command: request.command})
    this.acquired++
    let done = false
    return {
      lostReason: undefined,
      release: async () => {
        if (done) return
        done = true
        this.released++
        this.holders.delete(id)
      },
    }
  }

  /** Leases as `inspect` reads them, set by `setLease`. */
  private readonly leases = new Map<string, LockState>()

  /** The lease as a process left it (e.g. expired, after it died without releasing it). */
  setLease(release: string, namespace: string, state: LockState): void {
    this.leases.set(key(release, namespace), state)
  }

  async inspect(namespace: string, release: string): Promise<LockState | null> {
    const id = key(release, namespace)
    const lease = this.leases.get(id)
    if (lease !== undefined) return lease
    const held = this.holders.get(id)
    // A lock this fake hands out is renewed for as long as it is held.
    return held === undefined ? null : {...held, expiresAt: new Date(8.64e15)}
  }

  holdBy(release: string, namespace: string, holder: string, command = 'todo-deploy up'): void {
    this.holders.set(key(release, namespace), {holder, command})
  }

  isHeld(release: string, namespace: string): boolean {
    return this.holders.has(key(release, namespace))
  }
}

/** The state ConfigMap, kept as the JSON text the real store writes. */
export class FakeStateRecordStore implements StateRecordStore {
  readonly texts = new Map<string, string>()
  writes = 0

  async read(namespace: string, release: string): Promise<LifecycleRecord | null> {
    const text = this.texts.get(key(release, namespace))
    return text === undefined ? null : (JSON.parse(text) as LifecycleRecord)
  }

  async write(namespace: string, release: string, record: LifecycleRecord): Promise<void> {
    this.writes++
    this.texts.set(
      key(release, namespace),
      JSON.stringify({operation: record.operation, history: record.history.slice(0, HISTORY_LIMIT)}),
    )
  }

  async delete(namespace: string, release: string): Promise<{deleted: boolean}> {
    return {deleted: this.texts.delete(key(release, namespace))}
  }
}

/** Namespaces, pods and service-proxy answers; `answers` maps `service path` to an HTTP status (default 200). */
export class FakeClusterApi implements ClusterApi {
  readonly namespaces = new Map<string, {ours: boolean}>()
  readonly answers = new Map<string, number>()
  pods: V1Pod[] = []
  /** Services of any namespace that hold a nodePort (another project's, say). */
  nodePortServices: NodePortHolder[] = []
  /** The context may not list Services across namespaces. */
  nodePortListForbidden = false
  /** The release's Ingresses, as the API lists them. */
  ingresses: IngressSummary[] = []
  /** IngressClasses an ingress controller installed (`minikube addons enable ingress` adds nginx). */
  readonly ingressClasses = new Set<string>()

  constructor(private readonly log: CallLog) {}

  async serverVersion(): Promise<string> {
    return 'v1.32.0'
  }

  async ensureNamespace(namespace: string): Promise<{created: boolean}> {
    this.log.record('api.ensureNamespace', namespace)
    if (this.namespaces.has(namespace)) return {created: false}
    this.namespaces.set(namespace, {ours: true})
    return {created: true}
  }

  async namespaceCreatedByUs(namespace: string): Promise<boolean> {
    return this.namespaces.get(namespace)?.ours === true
  }

  async deleteNamespace(namespace: string): Promise<{deleted: boolean}> {
    this.log.record('api.deleteNamespace', namespace)
    return {deleted: this.namespaces.delete(namespace)}
  }

  async listNamespaceObjects(_namespace: string): Promise<NamespaceObjects> {
    return {
      deployments: [],
      services: [],
      configMaps: [],
      secrets: [],
      pods: this.pods.map((pod) => pod.metadata?.name ?? ''),
    }
  }

  async listPods(_namespace: string, _labelSelector?: string): Promise<V1Pod[]> {
    return this.pods
  }

  async listIngresses(namespace: string, labelSelector?: string): Promise<IngressSummary[]> {
    this.log.record('api.listIngresses', namespace, labelSelector)
    return structuredClone(this.ingresses)
  }

  async ingressClassExists(name: string): Promise<boolean | null> {
    return this.ingressClasses.has(name)
  }

  async nodePortHolders(nodePorts: readonly number[]): Promise<NodePortHolder[] | null> {
    this.log.record('api.nodePortHolders', [...nodePorts])
    if (this.nodePortListForbidden) return null
    return this.nodePortServices.filter((holder) => nodePorts.includes(holder.nodePort))
  }

  async serviceProxyGet(
    namespace: string,
    service: string,
    port: number | string,
    path: string,
    timeoutMs: number,
  ): Promise<ServiceProxyResponse> {
    this.log.record('api.serviceProxyGet', namespace, service, port, path, timeoutMs)
    const status = this.answers.get(`${service} ${path}`) ?? 200
    return {status, bodySnippet: status === 200 ? 'ok' : 'Service Unavailable'}
  }
}

/**
 * The release's Deployments, Pods and Services as a test sets them. `publish` changes them as a watch
 * event would: every running `watch` sees the new snapshot.
 */
export class FakeWorkloadSource implements WorkloadSource {
  current: WorkloadSnapshot = {deployments: [], pods: [], services: []}
  private readonly watchers = new Set<(snapshot: WorkloadSnapshot) => void>()

  constructor(private readonly log: CallLog) {}

  async snapshot(namespace: string, labelSelector: string): Promise<WorkloadSnapshot> {
    this.log.record('workloads.snapshot', namespace, labelSelector)
    return structuredClone(this.current)
  }

  watch(
    namespace: string,
    labelSelector: string,
    onChange: (snapshot: WorkloadSnapshot) => boolean | void,
    signal?: AbortSignal,
  ): Promise<WorkloadSnapshot> {
    this.log.record('workloads.watch', namespace, labelSelector)
    return new Promise((resolve, reject) => {
      const stop = (): void => {
        this.watchers.delete(watcher)
        signal?.removeEventListener('abort', onAbort)
      }
      const watcher = (snapshot: WorkloadSnapshot): void => {
        if (onChange(structuredClone(snapshot)) === true) {
          stop()
          resolve(snapshot)
        }
      }
      const onAbort = (): void => {
        stop()
        reject(new InterruptedError('interrupted while watching the release'))
      }
      if (signal?.aborted) {
        onAbort()
        return
      }
      signal?.addEventListener('abort', onAbort, {once: true})
      this.watchers.add(watcher)
      watcher(this.current)
    })
  }

  /** Replaces the objects and tells every watch. */
  publish(snapshot: Partial<WorkloadSnapshot>): void {
    this.current = {...this.current, ...snapshot}
    for (const watcher of [...this.watchers]) watcher(this.current)
  }
}

/** Log tails by `pod/container`; `[]` (an empty log) for any other. */
export class FakePodLogSource implements PodLogSource {
  readonly tails = new Map<string, string[]>()

  async tail(request: LogTailRequest): Promise<LogTail> {
    return {
      source: request.previous ? 'previous' : 'current',
      lines: (this.tails.get(`${request.pod}/${request.container}`) ?? []).slice(-request.lines),
    }
  }
}

export interface FakeClusterOptions {
  context?: string
  /** A real engine to build in (the benchmark); the in-memory FakeImageEngine by default. */
  images?: ImageBuilder
  /** Folder of the content tagger's cache; none by default (every run hashes every file). */
  tagCacheDir?: string
}

/**
 * Every port of a Connection as an in-memory double, wired together (the cluster loads from the
 * engine). Reuse one FakeCluster across runs to play a sequence (cold up, no-change up, rollback, down).
 */
export class FakeCluster {
  readonly log = new CallLog()
  readonly engine = new FakeImageEngine(this.log)
  readonly cluster: FakeClusterTarget
  readonly helm = new FakeHelm(this.log)
  readonly nodes = new FakeNodeReader(this.log)
  readonly rollout = new FakeRolloutWaiter(this.log)
  readonly secrets = new FakeSecretStore(this.log)
  readonly lock = new FakeReleaseLock(this.log)
  readonly state = new FakeStateRecordStore()
  readonly api = new FakeClusterApi(this.log)
  readonly workloads = new FakeWorkloadSource(this.log)
  readonly logs = new FakePodLogSource()
  readonly logStreams = new FakeContainerLogSource()
  readonly connection: Connection
  /** Counts `stopChildren` calls (what the CLI calls on Ctrl-C). */
  stopChildrenCalls = 0
  closed = 0

  constructor(options: FakeClusterOptions = {}) {
    const images = options.images ?? this.engine
    this.cluster = new FakeClusterTarget(this.log, images)
    this.connection = {
      context: options.context ?? 'minikube',
      server: 'https://192.168.49.2:8443',
      clusterKind: 'minikube',
      cluster: this.cluster,
      nodes: this.nodes,
      helm: this.helm,
      api: this.api,
      secrets: this.secrets,
      rollout: this.rollout,
      lock: this.lock,
      state: this.state,
      workloads: this.workloads,
      logs: this.logs,
      logStreams: this.logStreams,
      images: () => images,
      tagger: new ContentTagger({cacheDir: options.tagCacheDir}),
      close: () => {
        this.closed++
      },
    }
  }

  /** Adds registry.url's adapter to the connection (the configuration must set registry.url too). */
  useRegistry(url?: string): FakeRegistry {
    const registry = new FakeRegistry(this.log, this.engine, url)
    this.connection.registry = registry
    return registry
  }

  /**
   * From now on the cluster runs what helm deployed, as the kubelet would: each rollout wait first
   * publishes the release's newest revision (its image tags, one ready pod per service, the Services).
   */
  kubeletFollowsHelm(resolved: ResolvedConfig): void {
    const {release, namespace} = resolved.config
    this.rollout.beforeWait = () => {
      const current = this.helm.revisions(release, namespace).at(-1)
      this.workloads.publish(runningRelease(resolved, imageTagsOf(current?.config)))
    }
  }

  /** For `useDependencies({connect: () => fake.connect()})`. */
  connect(): {connection: Connection; stopChildren: () => void} {
    return {
      connection: this.connection,
      stopChildren: () => {
        this.stopChildrenCalls++
      },
    }
  }
}

export const TEST_SECRET_NAMES = [
  'DATABASE_URL',
  'JWT_SECRET',
  'GEMINI_API_KEY',
  'BETTER_AUTH_SECRET',
] as const

/** The spec A secrets with obviously fake values `test-secret-value-<NAME>`. */
export function testSecrets(): SecretValue[] {
  return TEST_SECRET_NAMES.map((name) => new SecretValue(name, `test-secret-value-${name}`, 'environment'))
}

/** A tiny Dockerfile that the real engine can build offline (busybox is copied into the context). */
export const BUSYBOX_DOCKERFILE =
  'FROM scratch\nCOPY busybox /bin/busybox\nCOPY app /app\nCMD ["/bin/busybox", "httpd", "-f", "-h", "/app"]\n'

export interface TestProject {
  dir: string
  resolved: ResolvedConfig
  /** Writes a file of a service's build context (a source change), then reloads the configuration. */
  write(relative: string, content: string | Buffer): void
  remove(): void
}

/**
 * A project folder with `frontend/` and `backend/` build contexts (their own Dockerfile each, so the
 * content tags depend on files a test can change) and a todo-deploy.yaml pointing at them.
 */
export interface TestProjectOptions {
  /** Top-level keys appended to todo-deploy.yaml. */
  extraConfig?: string
  /** Lines under `services.frontend` after its `build:` line (line 4 onwards), e.g. `service: {nodePort: null}`. */
  frontend?: string[]
  files?: Record<string, string | Buffer>
}

export function createTestProject(options: TestProjectOptions = {}): TestProject {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'todo-deploy-up-'))
  const files: Record<string, string | Buffer> = {
    'todo-deploy.yaml': [
      'services:',
      '  frontend:',
      '    build: {context: frontend, dockerfile: frontend/Dockerfile}',
      ...(options.frontend ?? []).map((line) => `    ${line}`),
      '  backend:',
      '    build: {context: backend, dockerfile: backend/Dockerfile}',
      options.extraConfig ?? '',
    ].join('\n'),
    'frontend/Dockerfile': BUSYBOX_DOCKERFILE,
    'frontend/app/index.html': '<h1>todo</h1>\n',
    'backend/Dockerfile': BUSYBOX_DOCKERFILE,
    'backend/app/health': 'ok\n',
    ...options.files,
  }
  const write = (relative: string, content: string | Buffer): void => {
    const file = path.join(dir, relative)
    mkdirSync(path.dirname(file), {recursive: true})
    writeFileSync(file, content)
  }
  for (const [relative, content] of Object.entries(files)) write(relative, content)
  const project: TestProject = {
    dir,
    resolved: loadConfig({cwd: dir}),
    write: (relative, content) => {
      write(relative, content)
      project.resolved = loadConfig({cwd: dir})
    },
    remove: () => rmSync(dir, {recursive: true, force: true}),
  }
  return project
}

/** How a pod of `podObject` is doing. */
export type PodCondition =
  | 'ready'
  | 'not-ready'
  /** Waiting in CrashLoopBackOff after `restarts` exits with `exitCode`. */
  | {crashLoop: {restarts: number; exitCode: number}}

const POD_CREATED = '2026-11-21T20:00:00Z'

/** A pod of `deployment` (labels app + app.kubernetes.io/instance) running one container with `image`. */
export function podObject(options: {
  name: string
  deployment: string
  container: string
  image: string
  release?: string
  condition?: PodCondition
}): V1Pod {
  const condition = options.condition ?? 'ready'
  const ready = condition === 'ready'
  const crash = typeof condition === 'object' ? condition.crashLoop : undefined
  return {
    metadata: {
      name: options.name,
      namespace: 'todo-app-dev',
      creationTimestamp: new Date(POD_CREATED),
      labels: {app: options.deployment, 'app.kubernetes.io/instance': options.release ?? 'todo-chatbot'},
    },
    spec: {containers: [{name: options.container, image: options.image}]},
    status: {
      phase: 'Running',
      conditions: [
        {type: 'PodScheduled', status: 'True'},
        {type: 'Ready', status: ready ? 'True' : 'False'},
      ],
      containerStatuses: [
        {
          name: options.container,
          image: options.image,
          imageID: '',
          ready,
          restartCount: crash?.restarts ?? 0,
          state: crash
            ? {
                waiting: {
                  reason: 'CrashLoopBackOff',
                  message: `back-off 40s restarting failed container=${options.container}`,
                },
              }
            : {running: {startedAt: new Date(POD_CREATED)}},
          lastState: crash ? {terminated: {exitCode: crash.exitCode, reason: 'Error'}} : {},
        },
      ],
    },
  }
}

/** A Deployment running `image`; rolled out when `ready` equals `replicas`. */
export function deploymentObject(options: {
  name: string
  container: string
  image: string
  replicas?: number
  ready?: number
  release?: string
}): V1Deployment {
  const replicas = options.replicas ?? 1
  const ready = options.ready ?? replicas
  return {
    metadata: {
      name: options.name,
      namespace: 'todo-app-dev',
      generation: 1,
      labels: {app: options.name, 'app.kubernetes.io/instance': options.release ?? 'todo-chatbot'},
    },
    spec: {
      replicas,
      selector: {matchLabels: {app: options.name}},
      template: {spec: {containers: [{name: options.container, image: options.image}]}},
    },
    status: {
      observedGeneration: 1,
      replicas,
      updatedReplicas: replicas,
      readyReplicas: ready,
      availableReplicas: ready,
    },
  }
}

/** A Service as the chart makes it. */
export function serviceObject(options: {
  name: string
  type: string
  port: number
  targetPort: number
  nodePort?: number
}): V1Service {
  return {
    metadata: {
      name: options.name,
      namespace: 'todo-app-dev',
      labels: {'app.kubernetes.io/instance': 'todo-chatbot'},
    },
    spec: {
      type: options.type,
      ports: [{port: options.port, targetPort: options.targetPort, nodePort: options.nodePort}],
    },
  }
}

/**
 * What the cluster shows once the release runs these content tags: each enabled service's Deployment
 * rolled out on `<repository>:<tag>`, one pod each in `condition`, and both Services. A test publishes
 * it on the FakeWorkloadSource after `up` or `rollback`, as the kubelet would make it so.
 */
export function runningRelease(
  resolved: ResolvedConfig,
  tags: Partial<Record<ServiceName, string>>,
  condition: PodCondition = 'ready',
): WorkloadSnapshot {
  const snapshot: WorkloadSnapshot = {deployments: [], pods: [], services: []}
  for (const name of SERVICE_NAMES) {
    const service = resolved.config.services[name]
    if (!service.enabled) continue
    const image = `${service.image.repository}:${tags[name] ?? 'missing'}`
    const ready = condition === 'ready'
    snapshot.deployments.push(
      deploymentObject({name: service.deployment, container: service.container, image, ready: ready ? 1 : 0}),
    )
    snapshot.pods.push(
      podObject({
        name: `${service.deployment}-5d8ffc89b7-${name === 'frontend' ? 'g5tfb' : 'ztfmf'}`,
        deployment: service.deployment,
        container: service.container,
        image,
        condition,
      }),
    )
    snapshot.services.push(
      serviceObject({
        name: service.service.name,
        type: service.service.type,
        port: service.service.port,
        targetPort: service.port,
        nodePort: service.service.nodePort ?? undefined,
      }),
    )
  }
  return snapshot
}

export const HOLDER = 'tester@laptop pid 4242'

/** `up` as a user runs it with no flags, without a renderer. */
export const UP_OPTIONS: UpOptions = {
  build: true,
  wait: true,
  timeoutMs: 300_000,
  rollbackOnFailure: true,
  dryRun: false,
  force: false,
  valuesFiles: [],
  set: [],
  holder: HOLDER,
  renderer: 'silent',
}
