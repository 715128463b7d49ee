import {BadInputError} from '../errors.js'

/** Clusters on this machine: images are loaded into their nodes. */
export const LOCAL_CLUSTER_KINDS = ['minikube', 'kind', 'k3d', 'docker-desktop'] as const
/** `remote`: any other cluster; its nodes pull the images from `registry.url`. */
export const CLUSTER_KINDS = [...LOCAL_CLUSTER_KINDS, 'remote'] as const
export type ClusterKind = (typeof CLUSTER_KINDS)[number]
/** `cluster.kind` in todo-deploy.yaml: a kind, or `auto` to read it from the kube context name. */
export type ConfiguredClusterKind = 'auto' | ClusterKind

export interface ClusterKindInput {
  configuredKind: ConfiguredClusterKind
  /** The kube context the deploy targets. */
  context: string
  /** The minikube profile from the configuration (minikube names its context after the profile). */
  minikubeProfile: string
  /** Whether `registry.url` is set: then a context of no local kind is a remote cluster. */
  registryConfigured: boolean
  /**
   * The command only reads what runs (`status`, `logs`): nothing will be brought to the cluster, so a
   * context of no known kind is read like a remote one instead of refused.
   */
  readOnly?: boolean
}

export interface DetectedCluster {
  kind: ClusterKind
  /** The name the cluster's own tool knows it by: minikube profile, kind/k3d cluster name. */
  name: string
}

/**
 * Which cluster a kube context points at. Each local tool names its contexts its own way:
 * minikube uses the profile name, kind prefixes `kind-`, k3d prefixes `k3d-`, Docker Desktop uses
 * `docker-desktop` (older releases `docker-for-desktop`). Any other context is `remote` when a
 * registry is configured (its nodes can pull from it), or when the command only reads; otherwise it is
 * refused, since nothing could bring the images to it.
 */
export function detectClusterKind(input: ClusterKindInput): DetectedCluster {
  const {configuredKind, context, minikubeProfile} = input
  if (configuredKind !== 'auto')
    return {kind: configuredKind, name: nameFor(configuredKind, context, minikubeProfile)}
  if (context === minikubeProfile) return {kind: 'minikube', name: minikubeProfile}
  if (context.startsWith('kind-') && context.length > 'kind-'.length)
    return {kind: 'kind', name: context.slice('kind-'.length)}
  if (context.startsWith('k3d-') && context.length > 'k3d-'.length)
    return {kind: 'k3d', name: context.slice('k3d-'.length)}
  if (context === 'docker-desktop' || context === 'docker-for-desktop')
    return {kind: 'docker-desktop', name: context}
  if (input.registryConfigured || input.readOnly) return {kind: 'remote', name: context}
  throw new BadInputError(`cannot tell which local cluster the kube context "${context}" belongs to`, {
    where: 'cluster.kind in todo-deploy.yaml',
    fix:
      `set cluster.kind in todo-deploy.yaml to one of ${LOCAL_CLUSTER_KINDS.join(', ')}` +
      ` (or set cluster.profile to "${context}" if it is a minikube profile);` +
      ' for a remote cluster set registry.url to a registry its nodes can pull from',
    details: [
      'auto-detection knows these context names: the minikube profile (currently "' + minikubeProfile + '"),',
      'kind-<cluster>, k3d-<cluster>, docker-desktop, docker-for-desktop',
    ],
  })
}

function nameFor(kind: ClusterKind, context: string, minikubeProfile: string): string {
  switch (kind) {
    case 'minikube':
      return minikubeProfile
    case 'kind':
      return context.startsWith('kind-') ? context.slice('kind-'.length) : context
    case 'k3d':
      return context.startsWith('k3d-') ? context.slice('k3d-'.length) : context
    case 'docker-desktop':
    case 'remote':
      return context
  }
}
