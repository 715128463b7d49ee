import {createHash} from 'node:crypto'
import {homedir} from 'node:os'
import path from 'node:path'

import {ContentTagger} from '../image/content-tag.js'
import {LazyImageBuilder} from '../image/lazy-image-builder.js'
import {CachedClusterTarget} from '../cluster/cached-cluster-target.js'
import {SharedNodeReader} from '../cluster/cluster-nodes.js'
import {detectClusterKind} from '../cluster/cluster-kind.js'
import {createClusterTarget} from '../cluster/create-cluster-target.js'
import {KubePublishedAddresses} from '../cluster/published-address.js'
import type {ResolvedConfig} from '../config/load.js'
import {HelmCli} from '../helm/helm-cli.js'
import {HelmVersionCache} from '../helm/helm-version-cache.js'
import type {HelmClient} from '../helm/helm-client.js'
import {HelmReleaseStore, usesSecretsDriver} from '../helm/release-store.js'
import {StoreBackedHelm} from '../helm/store-backed-helm.js'
import {kubeAppReach} from '../kube/app-reach.js'
import {loadedOnFirstUse} from '../kube/container-file-sync.js'
import {KubeClusterApi} from '../kube/kube-client.js'
import {loadKubeConfig} from '../kube/kube-config.js'
import {KubeConnection} from '../kube/kube-connection.js'
import {LeaseReleaseLock} from '../kube/release-lock.js'
import {RolloutTracker} from '../kube/rollout/rollout-tracker.js'
import {KubeSecretStore} from '../kube/secret-store.js'
import {ConfigMapStateRecordStore} from '../kube/state-record.js'
import {KubeWorkloadSource} from '../kube/workload-source.js'
import {KubePodLogSource} from '../kube/rollout/pod-logs.js'
import {KubeContainerLogSource} from '../logs/kube-log-source.js'
import type {ProcessRunner} from '../process/runner.js'
import {DockerCredentials} from '../registry/docker-credentials.js'
import {DockerConfigRegistry} from '../registry/image-registry.js'
import {parseRegistryUrl, type RegistryAddress} from '../registry/registry-address.js'
import type {Connection} from './ports.js'

export interface ConnectOptions {
  runner: ProcessRunner
  env?: NodeJS.ProcessEnv
  /** Debug lines (command lines with secret-looking values masked) for --verbose. */
  log?: (line: string) => void
  /** The command only reads (`status`, `logs`): any context will do, whatever its cluster kind. */
  readOnly?: boolean
}

/**
 * The real adapters for the kube context the configuration names (or the current one): client-node,
 * the helm binary, the cluster's own tool and the Docker Engine. Fails with exit 3 when there is no
 * kubeconfig, exit 2 when the context's cluster kind cannot be told (unless the command only reads).
 */
export function connect(resolved: ResolvedConfig, options: ConnectOptions): Connection {
  const env = options.env ?? process.env
  const {config} = resolved
  const loaded = loadKubeConfig({context: config.cluster.context ?? undefined, env})
  const detected = detectClusterKind({
    configuredKind: config.cluster.kind,
    context: loaded.context,
    minikubeProfile: config.cluster.profile,
    registryConfigured: config.registry.url !== null,
    readOnly: options.readOnly,
  })
  // Every API call of every adapter goes through this one connection: one timeout, one error wording.
  const kube = new KubeConnection(loaded)
  const logs = new KubePodLogSource(kube.core)
  // A paused API server must not hold up the fast path: soon ask the cluster's tool instead.
  const nodeApi = new KubeConnection(loaded, {timeoutMs: NODE_READ_TIMEOUT_MS})
  const nodes = new SharedNodeReader(() => nodeApi.core.listNode())
  const controllers = new Set<AbortController>()
  const credentials = new DockerCredentials({runner: options.runner, env})
  const registryAt = (address: RegistryAddress) => new DockerConfigRegistry(address, credentials, env)
  return {
    context: loaded.context,
    server: loaded.server,
    clusterKind: detected.kind,
    cluster: new CachedClusterTarget(
      createClusterTarget(detected, options.runner, {addresses: new KubePublishedAddresses(kube)}),
      nodes,
      clusterFactsCacheFile(loaded.context, env),
    ),
    nodes,
    helm: helmClient(
      new HelmCli(options.runner, {
        kubeContext: loaded.context,
        log: options.log,
        versionCache: new HelmVersionCache(path.join(userCacheDir(env), 'helm-version.json'), env),
      }),
      kube,
      env,
    ),
    api: new KubeClusterApi(kube),
    secrets: new KubeSecretStore(kube),
    lock: new LeaseReleaseLock(kube),
    state: new ConfigMapStateRecordStore(kube),
    workloads: new KubeWorkloadSource(kube),
    logs,
    logStreams: new KubeContainerLogSource(kube),
    rollout: {
      wait: async (request) => {
        const controller = new AbortController()
        controllers.add(controller)
        const forward = (): void => controller.abort()
        request.signal?.addEventListener('abort', forward, {once: true})
        try {
          return await new RolloutTracker(kube, {logs}).track({...request, signal: controller.signal})
        } finally {
          request.signal?.removeEventListener('abort', forward)
          controllers.delete(controller)
        }
      },
    },
    // dockerode loads on the first Docker call, so commands that never build start faster.
    images: (builderEnv) =>
      new LazyImageBuilder(async () => {
        const [{DockerImageBuilder}, {dockerFromEnv}, {DockerCredentials}] = await Promise.all([
          import('../image/image-builder.js'),
          import('../image/docker-engine.js'),
          import('../registry/docker-credentials.js'),
        ])
        // minikube's docker-env names its engine; the user's choice of builder still applies to it.
        const engineEnv = builderEnv ? {...builderEnv, DOCKER_BUILDKIT: env.DOCKER_BUILDKIT} : env
        // A private base image is pulled with the login `docker login` stored, as `docker build` does.
        const logins = new DockerCredentials({runner: options.runner, env})
        return new DockerImageBuilder(dockerFromEnv(engineEnv), {
          credentials: async (host) => (await logins.forRegistry(host))?.forBuild() ?? null,
        })
      }),
    tagger: new ContentTagger({cacheDir: contentHashCacheDir(resolved.projectDir, env)}),
    ...(config.registry.url === null
      ? {}
      : {registry: registryAt(parseRegistryUrl(config.registry.url, config.registry.insecure))}),
    registryAt,
    reach: kubeAppReach(loaded, kube),
    fileSync: loadedOnFirstUse(async () => {
      const {ExecContainerFileSync} = await import('../kube/exec-file-sync.js')
      return new ExecContainerFileSync(kube, loaded.kc)
    }),
    close: () => {
      for (const controller of controllers) controller.abort()
    },
  }
}

const NODE_READ_TIMEOUT_MS = 2000

/**
 * Releases are read from helm's storage through the API server where helm keeps them by default
 * (Secrets), which spares a helm process per read; another HELM_DRIVER is read through helm itself.
 */
export function helmClient(cli: HelmCli, kube: KubeConnection, env: NodeJS.ProcessEnv): HelmClient {
  return usesSecretsDriver(env) ? new StoreBackedHelm(new HelmReleaseStore(kube), cli) : cli
}

/** Per project, outside it: the user's cache folder, so nothing is written into their repository. */
export function contentHashCacheDir(projectDir: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(userCacheDir(env), shortHash(path.resolve(projectDir)))
}

/** Per kube context: what the cluster's tool said about it (CachedClusterTarget). */
export function clusterFactsCacheFile(context: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(userCacheDir(env), 'clusters', `${shortHash(context)}.json`)
}

function userCacheDir(env: NodeJS.ProcessEnv): string {
  return path.join(env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'todo-deploy')
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16)
}
