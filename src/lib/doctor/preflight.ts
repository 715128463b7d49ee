import {createClusterTarget, type DetectedCluster} from '../cluster/index.js'
import {PrerequisiteError} from '../errors.js'
import {HelmCli} from '../helm/helm-cli.js'
import {KubeClusterApi, type ClusterApi} from '../kube/kube-client.js'
import {loadKubeConfig, type LoadedKubeConfig} from '../kube/kube-config.js'
import {KubeConnection} from '../kube/kube-connection.js'
import type {ProcessRunner} from '../process/runner.js'
import {DockerCredentials} from '../registry/docker-credentials.js'
import type {RegistryAddress} from '../registry/registry-address.js'
import {RegistryClient, type RegistryAccess} from '../registry/registry-client.js'

/** How the configured registry answered `doctor`. */
export interface RegistryProbe {
  access: RegistryAccess
  /** Where the login came from (a credential helper, the Docker config), or null when there is none. */
  credentialSource: string | null
}

/** The prerequisites `doctor` (and `up`'s preflight) asks about; each throws a TodoDeployError with the fix. */
export interface PreflightProbes {
  dockerEngine(): Promise<{version: string; address: string}>
  helm(): Promise<{version: string}>
  kubeContext(context: string | undefined): LoadedKubeConfig
  /** The cluster tool (minikube, kind, k3d) and whether the cluster runs. */
  clusterTool(detected: DetectedCluster): Promise<{version: string; detail: string}>
  clusterVersion(kube: LoadedKubeConfig): Promise<string>
  /** The registry answers and takes the Docker config's login for it (RegistryUnreachableError / RegistryRefusedError). */
  registry(address: RegistryAddress): Promise<RegistryProbe>
  /** The cluster's API, for checks that read objects (nodePorts held by other Services). */
  clusterApi(kube: LoadedKubeConfig): Pick<ClusterApi, 'nodePortHolders'>
}

const DOCKER_PROBE_TIMEOUT_MS = 10_000

/** The real probes: dockerode, the helm and minikube binaries, client-node. */
export class SystemPreflight implements PreflightProbes {
  constructor(
    private readonly runner: ProcessRunner,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  async dockerEngine(): Promise<{version: string; address: string}> {
    // dockerode loads with the first probe that needs it, not with every command that imports this module.
    const [{dockerFromEnv, engineUnreachableError}, {probeBuilder}] = await Promise.all([
      import('../image/docker-engine.js'),
      import('../image/image-builder.js'),
    ])
    const engine = dockerFromEnv(this.env)
    try {
      const version = await withTimeout(
        (async () => {
          await engine.docker.ping()
          return engine.docker.version()
        })(),
        DOCKER_PROBE_TIMEOUT_MS,
        `the Docker Engine at ${engine.address} did not answer within ${DOCKER_PROBE_TIMEOUT_MS / 1000}s`,
      )
      // Bounded on its own: a session the engine does not answer in 10 s counts as refused.
      const probe = await probeBuilder(engine, version)
      const builder =
        probe.builder === 'buildkit' ? 'builds with BuildKit' : `classic builder: ${probe.reason}`
      return {version: `${version.Version} (API ${version.ApiVersion}, ${builder})`, address: engine.address}
    } catch (error) {
      if (error instanceof PrerequisiteError) throw error
      throw engineUnreachableError(engine.address, error)
    }
  }

  async helm(): Promise<{version: string}> {
    const version = await new HelmCli(this.runner).version()
    return {version: version.version}
  }

  kubeContext(context: string | undefined): LoadedKubeConfig {
    return loadKubeConfig({context, env: this.env})
  }

  async clusterTool(detected: DetectedCluster): Promise<{version: string; detail: string}> {
    const target = createClusterTarget(detected, this.runner)
    const version = await target.version()
    await target.ensureRunning()
    return {version, detail: `${target.describe()} is running`}
  }

  async clusterVersion(kube: LoadedKubeConfig): Promise<string> {
    return this.clusterApi(kube).serverVersion()
  }

  clusterApi(kube: LoadedKubeConfig): KubeClusterApi {
    return new KubeClusterApi(new KubeConnection(kube, {timeoutMs: 10_000}))
  }

  async registry(address: RegistryAddress): Promise<RegistryProbe> {
    const credential = await new DockerCredentials({runner: this.runner, env: this.env}).forRegistry(
      address.host,
    )
    const access = await new RegistryClient(address, credential).checkAccess()
    return {access, credentialSource: credential?.source ?? null}
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new PrerequisiteError(message, {fix: 'check that Docker is running: `docker info`'})),
      ms,
    )
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}
