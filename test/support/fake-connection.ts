import {ContentTagger} from '../../src/lib/image/content-tag.js'
import type {ImageBuilder} from '../../src/lib/image/image-builder.js'
import type {ResolvedConfig} from '../../src/lib/config/load.js'
import type {Connection} from '../../src/lib/lifecycle/ports.js'
import {imageTagsOf} from '../../src/lib/lifecycle/release-tags.js'
import {FakeContainerLogSource} from './fake-log-streams.js'
import {FakeAppReach} from './fakes/fake-app-reach.js'
import {FakeContainerFileSync} from './fakes/fake-container-file-sync.js'
import {FakeRegistry} from './fakes/fake-registry.js'
import {CallLog} from './fakes/call-log.js'
import {FakeClusterApi} from './fakes/fake-cluster-api.js'
import {FakeClusterTarget} from './fakes/fake-cluster-target.js'
import {FakeHelm} from './fakes/fake-helm.js'
import {FakeImageEngine} from './fakes/fake-image-engine.js'
import {FakeNodeReader} from './fakes/fake-node-reader.js'
import {FakePodLogSource} from './fakes/fake-pod-log-source.js'
import {FakeReleaseLock} from './fakes/fake-release-lock.js'
import {FakeRolloutWaiter} from './fakes/fake-rollout-waiter.js'
import {FakeSecretStore} from './fakes/fake-secret-store.js'
import {FakeStateRecordStore} from './fakes/fake-state-record-store.js'
import {FakeWorkloadSource} from './fakes/fake-workload-source.js'
import {runningRelease} from './k8s-objects.js'

// Each fake lives in its own file under fakes/; this module wires them into a Connection and keeps
// re-exporting them (and the object and project helpers) so tests import one place.
export {CallLog, type RecordedCall} from './fakes/call-log.js'
export {FakeAppReach} from './fakes/fake-app-reach.js'
export {FakeClusterApi} from './fakes/fake-cluster-api.js'
export {FakeClusterTarget} from './fakes/fake-cluster-target.js'
export {FakeContainerFileSync, type FakeContainerTraits} from './fakes/fake-container-file-sync.js'
export {FakeHelm, type FakeRevision, type UpgradeFailure} from './fakes/fake-helm.js'
export {FakeImageEngine} from './fakes/fake-image-engine.js'
export {FakeNodeReader} from './fakes/fake-node-reader.js'
export {FakePodLogSource} from './fakes/fake-pod-log-source.js'
export {FakeReleaseLock} from './fakes/fake-release-lock.js'
export {
  diagnosisFor,
  FakeRolloutWaiter,
  TERMINAL_REASONS,
  type ScriptedRollout,
  type TerminalReason,
} from './fakes/fake-rollout-waiter.js'
export {FakeSecretStore} from './fakes/fake-secret-store.js'
export {FakeStateRecordStore} from './fakes/fake-state-record-store.js'
export {FakeWorkloadSource} from './fakes/fake-workload-source.js'
export {deploymentObject, podObject, runningRelease, serviceObject, type PodCondition} from './k8s-objects.js'
export {HOLDER, TEST_SECRET_NAMES, testSecrets, UP_OPTIONS} from './run-inputs.js'
export {
  BUSYBOX_DOCKERFILE,
  createTestProject,
  type TestProject,
  type TestProjectOptions,
} from './test-project.js'

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
  readonly reach = new FakeAppReach(this.log)
  readonly fileSync = new FakeContainerFileSync(this.log)
  /** Registry host → its tags, shared by every FakeRegistry that names the host. */
  readonly registryTags = new Map<string, Map<string, string>>()
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
      registryAt: (address) =>
        this.registryAt(address.namespace === '' ? address.host : `${address.host}/${address.namespace}`),
      reach: this.reach,
      fileSync: this.fileSync,
      close: () => {
        this.closed++
      },
    }
  }

  /** Adds registry.url's adapter to the connection (the configuration must set registry.url too). */
  useRegistry(url?: string): FakeRegistry {
    const registry = this.registryAt(url ?? 'localhost:5000/team')
    this.connection.registry = registry
    return registry
  }

  /** A remote cluster whose frontend Service has no published address: only a port-forward reaches it. */
  asRemoteWithoutAddress(): void {
    this.connection.clusterKind = 'remote'
    this.cluster.kind = 'remote'
    this.cluster.publishesNoAddress = true
  }

  /** A registry at `url` (`host[/namespace]`); registries of the same host share their tags. */
  registryAt(url: string): FakeRegistry {
    const host = url.split('/')[0] ?? url
    let tags = this.registryTags.get(host)
    if (tags === undefined) {
      tags = new Map()
      this.registryTags.set(host, tags)
    }
    return new FakeRegistry(this.log, this.engine, url, tags)
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
