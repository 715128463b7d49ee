import type {ContentTagger} from '../image/content-tag.js'
import type {ImageBuilder} from '../image/image-builder.js'
import type {ClusterKind} from '../cluster/cluster-kind.js'
import type {NodeReader} from '../cluster/cluster-nodes.js'
import type {ClusterTarget} from '../cluster/cluster-target.js'
import type {HelmClient} from '../helm/helm-client.js'
import type {ClusterApi} from '../kube/kube-client.js'
import type {ReleaseLock} from '../kube/release-lock.js'
import type {RolloutOutcome, TrackRequest} from '../kube/rollout/rollout-tracker.js'
import type {SecretStore} from '../kube/secret-store.js'
import type {StateRecordStore} from '../kube/state-record.js'
import type {WorkloadSource} from '../kube/workload-source.js'
import type {AppReach} from '../kube/app-reach.js'
import type {ContainerFileSync} from '../kube/container-file-sync.js'
import type {ImageRegistry} from '../registry/image-registry.js'
import type {RegistryAddress} from '../registry/registry-address.js'
import type {PodLogSource} from '../kube/rollout/pod-logs.js'
import type {ContainerLogSource} from '../logs/log-source.js'

/** Waits for the release's Deployments to roll out (RolloutTracker in production). */
export interface RolloutWaiter {
  wait(request: TrackRequest): Promise<RolloutOutcome>
}

/**
 * Everything the lifecycle talks to, for one kube context. The lifecycle sees only these interfaces:
 * production wires dockerode, the helm and minikube binaries and client-node; tests pass doubles.
 */
export interface Connection {
  context: string
  server: string
  clusterKind: ClusterKind
  cluster: ClusterTarget
  /** The nodes as the API server lists them: identity, readiness, the images they have. */
  nodes: NodeReader
  helm: HelmClient
  api: ClusterApi
  secrets: SecretStore
  rollout: RolloutWaiter
  lock: ReleaseLock
  state: StateRecordStore
  /** The release's Deployments, Pods and Services: read once, or followed by watch. */
  workloads: WorkloadSource
  /** Log tails of containers (for `status` explanations of failing pods). */
  logs: PodLogSource
  /** Container logs read once or streamed (`todo-deploy logs`). */
  logStreams: ContainerLogSource
  /** The engine images are built in: the local one, or the node's own with `docker-env` variables. */
  images(builderEnv: Record<string, string> | null): ImageBuilder
  tagger: ContentTagger
  /** `registry.url`: where images are pushed and the nodes pull them from; absent without one. */
  registry?: ImageRegistry
  /**
   * The registry an image reference names, whatever registry.url says now: a past revision's images
   * may come from another one (rollback asks it for their tags).
   */
  registryAt(address: RegistryAddress): ImageRegistry
  /** The app from this machine: whether a URL answers, and port-forwards to a Service. */
  reach: AppReach
  /** `dev` live sync: changed files into running containers through the exec API. */
  fileSync: ContainerFileSync
  /** Stops the connection's background work (watches, timers). */
  close(): void
}
