import type {ContextSent} from '../../image/image-builder.js'
import type {ImageLoadStrategy} from '../../cluster/image-load-strategy.js'
import type {ResolvedConfig} from '../../config/load.js'
import type {ServiceName} from '../../config/schema.js'
import type {LockHandle} from '../../kube/release-lock.js'
import type {Diagnosis} from '../../kube/rollout/diagnosis.js'
import type {SecretValue} from '../../secrets/secret-value.js'
import type {HealthAnswer} from '../health-check.js'
import type {RolloutReport} from '../rollout-phase.js'
import type {TrafficWatch} from '../traffic-phase.js'
import type {LifecycleState, OperationRecorder, PhaseResult} from '../operation.js'
import type {Renderer} from '../phase-runner.js'
import type {FailedFirstInstall} from '../failed-first-install.js'
import type {Connection} from '../ports.js'
import type {UpObservation, UpPlan, UpRequest} from './plan.js'
import type {CheckedRenders} from './checked-renders.js'

export interface UpOptions extends UpRequest {
  /** false with `--no-wait`: stop after Helm. */
  wait: boolean
  timeoutMs: number
  /** false with `--no-rollback`: a failed rollout stays in place. */
  rollbackOnFailure: boolean
  /** Observe and plan (and render the chart), change nothing. */
  dryRun: boolean
  /** Who runs this, for the lock: `user@host pid N`. */
  holder: string
  renderer: Renderer
  signal?: AbortSignal
  /**
   * `--port-forward`: once healthy, forward the frontend Service to 127.0.0.1 and make that the URL;
   * the forward stays open until `signal` aborts.
   */
  portForward?: boolean
  /**
   * Run under the release's lock that the caller already holds (`dev` holds it for its whole session):
   * preflight takes no lock and frees none; the operation is recorded under the caller's command.
   */
  heldLock?: HeldLock
  /** `dev`: the last checked render, reused when only image tags changed (no `helm template` then). */
  checkedRenders?: CheckedRenders
}

/** A lock the caller holds, and the command the operation record names (`dev`). */
export interface HeldLock {
  lock: LockHandle
  command: string
}

export interface ServiceImageOutcome {
  service: ServiceName
  ref: string
  tag: string
  built: boolean
  loaded: boolean
  buildSkipReason?: string
  loadSkipReason?: string
  /** With registry.url: whether this run pushed it, and the digest the registry holds for its tag. */
  pushed?: boolean
  digest?: string
  pushSkipReason?: string
  /** Of a built image: the context files the engine was sent, of all (BuildKit asks only for changes). */
  contextSent?: ContextSent
  sizeWarning?: string
}

/** What Helm did: `skipped` when the deployed revision already had this digest, `rendered` for --dry-run. */
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
  /** What was decided before anything changed (absent when up stopped before it could plan). */
  plan?: UpPlan
  images: ServiceImageOutcome[]
  helm: {action: HelmAction; revision?: number; reason?: string}
  phases: PhaseResult[]
  /**
   * Where the app answers from this machine; null when the cluster publishes no address (a remote
   * cluster without a LoadBalancer or an Ingress address): `up --port-forward` reaches it.
   */
  url?: string | null
  /** `--port-forward`: `url` is a port-forward that stays open until Ctrl-C. */
  forwarding?: boolean
  health?: HealthAnswer[]
  warnings: string[]
  diagnosis?: Diagnosis
  rollback?: {revision: number; result: 'rolled-back' | 'failed'; detail?: string}
  /** `--dry-run`: what `helm template` renders for this plan. */
  manifests?: string
}

/** One `up` being carried out: its inputs, the plan once made, and the result the phases fill in. */
export interface UpRun {
  readonly resolved: ResolvedConfig
  readonly connection: Connection
  readonly secrets: SecretValue[]
  readonly options: UpOptions
  readonly recorder: OperationRecorder
  readonly result: UpResult
  observed?: UpObservation
  plan?: UpPlan
  lock?: LockHandle
  /** The node's Docker endpoint when images are built inside it (docker-env). */
  builderEnv?: Record<string, string> | null
  /** The engine's image ID per service, once built or found: the load checks the cluster has that one. */
  imageIds: Partial<Record<ServiceName, string>>
  /** `helm template` of the plan, checked against the rules, started while the images build (deploy awaits it). */
  rendered?: Promise<string>
  /** The rollout watch started with helm (up/rollout.ts): the rollout phase takes its verdict. */
  rollout?: EarlyRolloutWatch
  /** The Services' watch, started with the rollout phase: the traffic phase takes its outcome. */
  traffic?: TrafficWatch
}

/** A rollout followed from the moment helm started: its lines go to whoever attaches, its verdict comes later. */
export interface EarlyRolloutWatch {
  /** Sends the progress lines (those so far, then each new one) to `report`, and gives the verdict. */
  attach(report: (line: string) => void): Promise<RolloutReport>
  /** Ends the watch (an up that stops before its rollout phase leaves none behind). */
  stop(): void
}

/** What `uninstallFailedFirstInstall` needs for this run's release. */
export function firstInstallOf(run: UpRun): FailedFirstInstall {
  const plan = planOf(run)
  return {
    release: plan.release,
    namespace: plan.namespace,
    secretName: run.resolved.config.secrets.name,
    signal: run.options.signal,
  }
}

/** The plan of a run whose preflight is done (every later phase runs after it). */
export function planOf(run: UpRun): UpPlan {
  if (!run.plan) throw new Error('up: a phase ran before the plan was made')
  return run.plan
}
