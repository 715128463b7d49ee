import {
  findServiceImage,
  tagServiceImage,
  type ServiceImagePlan,
  type TaggedServiceImage,
} from '../../image/service-image.js'
import type {ClusterNodes} from '../../cluster/cluster-nodes.js'
import {chooseImageLoadStrategy, type ImageLoadStrategy} from '../../cluster/image-load-strategy.js'
import type {ResolvedConfig} from '../../config/load.js'
import {SERVICE_NAMES, type ServiceName} from '../../config/schema.js'
import type {ReleaseInfo} from '../../helm/helm-client.js'
import {ReleasePendingError} from '../../helm/helm-errors.js'
import {inspectRelease, isPending, type ReleaseInspection} from '../../helm/release-state.js'
import {assertNodePortsFree} from '../../kube/node-port-check.js'
import {secretChecksum} from '../../kube/secret-store.js'
import type {RegistryImageState} from '../../registry/image-registry.js'
import type {SecretValue} from '../../secrets/secret-value.js'
import {readDigestSources} from '../deploy-digest.js'
import type {Connection} from '../ports.js'
import {configuredRegistry} from '../registry.js'
import type {UpObservation, UpRequest} from './plan.js'

/** What the cluster, helm and the release look like: the first half of the observation. */
export interface ClusterObservation {
  cluster: string
  helmVersion: string
  release: ReleaseInfo | null
  inspection: ReleaseInspection
  imageLoad: ImageLoadStrategy
  /** The node's Docker endpoint when images are built inside it (docker-env), else null. */
  builderEnv: Record<string, string> | null
  /** The nodes and the images they list; null when the API server would not list them. */
  nodes: ClusterNodes | null
}

/**
 * Reads the cluster, helm and the release. The reads are independent and run together (each minikube
 * call takes about a second); when several fail, the most basic failure is reported: the cluster down
 * explains helm's failures too.
 */
export async function observeCluster(
  resolved: ResolvedConfig,
  connection: Connection,
): Promise<ClusterObservation> {
  const {release: name, namespace, cluster} = resolved.config
  const [running, helmVersion, release, history, runtime, nodes] = await Promise.allSettled([
    connection.cluster.ensureRunning(),
    connection.helm.version(),
    connection.helm.status(name, namespace),
    connection.helm.history(name, namespace),
    connection.cluster.nodeRuntime(),
    connection.nodes.read(),
  ])
  for (const outcome of [running, helmVersion, release, history, runtime, nodes]) {
    if (outcome.status === 'rejected') throw outcome.reason
  }
  // A nodePort another Service holds would fail Helm half-way: refused here, before anything is built.
  await assertNodePortsFree(resolved, connection.api)
  // With a registry the nodes pull: images are built in the local engine, which pushes them.
  const imageLoad =
    resolved.config.registry.url !== null
      ? 'none'
      : chooseImageLoadStrategy({
          configured: cluster.imageLoad,
          clusterKind: connection.clusterKind,
          runtime: settled(runtime),
        })
  return {
    cluster: connection.cluster.describe(),
    helmVersion: settled(helmVersion).version,
    release: settled(release),
    inspection: inspectRelease(settled(history)),
    imageLoad,
    builderEnv: imageLoad === 'docker-env' ? await connection.cluster.builderEnv() : null,
    nodes: settled(nodes),
  }
}

/** A release an interrupted helm left pending-* blocks every change until `--force` recovers it. */
export function refusePending(resolved: ResolvedConfig, observed: ClusterObservation, force: boolean): void {
  if (isPending(observed.inspection.state) && !force)
    throw new ReleasePendingError(resolved.config.release, resolved.config.namespace)
}

/** Each enabled service's content tag being worked out (hashing its build context). */
export type SourceHashes = Partial<Record<ServiceName, Promise<TaggedServiceImage>>>

/**
 * Starts hashing every enabled service's build context now. It needs neither the engine nor the
 * cluster, so preflight runs it while the cluster, helm and the lock are still being asked (each
 * minikube call takes about a second): the builds can start as soon as the plan is made. A failure is
 * reported by observeSources, after any failure of the cluster's (the more basic one).
 */
export function hashSources(
  resolved: ResolvedConfig,
  connection: Connection,
  onLine: (line: string) => void,
  target?: string,
): SourceHashes {
  const {config} = resolved
  const hashes: SourceHashes = {}
  for (const service of SERVICE_NAMES.filter((name) => config.services[name].enabled)) {
    const serviceConfig = config.services[service]
    const paths = resolved.services[service]
    onLine(`${service}: hashing the build context`)
    const hashed = tagServiceImage(
      {
        service,
        contextDir: paths.contextDir,
        dockerfilePath: paths.dockerfile,
        buildArgs: serviceConfig.build.args,
        ...(target === undefined ? {} : {target}),
        repository: serviceConfig.image.repository,
        sizeTargetMB: serviceConfig.image.sizeTargetMB,
      },
      connection.tagger,
    )
    hashed.catch(() => {})
    hashes[service] = hashed
  }
  return hashes
}

/**
 * The rest of the observation: each enabled service's content tag (from `hashes`) and whether the
 * engine the images are built in has it, the files the deploy digest covers, and the Secret's checksum.
 */
export async function observeSources(
  resolved: ResolvedConfig,
  connection: Connection,
  cluster: ClusterObservation,
  input: {request: UpRequest; secrets: SecretValue[]; hashes: SourceHashes; onLine: (line: string) => void},
): Promise<UpObservation> {
  const builder = connection.images(cluster.builderEnv)
  const images: Partial<Record<ServiceName, ServiceImagePlan>> = {}
  const [sources] = await Promise.all([
    readDigestSources(resolved.chartDir, [...resolved.valuesFiles, ...input.request.valuesFiles]),
    ...Object.entries(input.hashes).map(async ([service, hashed]) => {
      images[service as ServiceName] = await findServiceImage(await hashed, builder)
    }),
  ])
  const registry = await observeRegistry(resolved, connection, images, input.onLine)
  return {
    cluster: cluster.cluster,
    helmVersion: cluster.helmVersion,
    release: cluster.release,
    inspection: cluster.inspection,
    imageLoad: cluster.imageLoad,
    nodes: cluster.nodes,
    images,
    sources,
    secret: {keys: input.secrets.map((secret) => secret.name), checksum: secretChecksum(input.secrets)},
    ...(registry ? {registry} : {}),
  }
}

/**
 * With registry.url: which digest the registry holds under each service's content tag, and which
 * digests the local image was pushed as, so the plan can skip a push the registry already has.
 */
async function observeRegistry(
  resolved: ResolvedConfig,
  connection: Connection,
  images: Partial<Record<ServiceName, ServiceImagePlan>>,
  onLine: (line: string) => void,
): Promise<UpObservation['registry']> {
  const registry = configuredRegistry(resolved, connection)
  if (!registry) return undefined
  onLine(`asking registry ${registry.address.host} which tags it has`)
  const states: Partial<Record<ServiceName, RegistryImageState>> = {}
  await Promise.all(
    Object.entries(images).map(async ([service, image]) => {
      const name = service as ServiceName
      const {repository} = resolved.config.services[name].image
      states[name] = await registry.inspect(image.ref, repository, image.contentTag)
    }),
  )
  return {host: registry.address.host, images: states}
}

/** The value of a settled promise already known to be fulfilled. */
function settled<T>(outcome: PromiseSettledResult<T>): T {
  if (outcome.status === 'rejected') throw outcome.reason
  return outcome.value
}
