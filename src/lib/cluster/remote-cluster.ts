import {ExitCode, PrerequisiteError, TodoDeployError} from '../errors.js'
import type {ClusterTarget, FrontendUrlRequest, LoadImageResult, NodeRuntime} from './cluster-target.js'

/**
 * A cluster that is not on this machine: no tool of ours manages it, and its nodes pull the images
 * from `registry.url` (pushed by the ImagePusher), so nothing is ever loaded into or removed from them.
 * Whether it answers is the API server's check (`prereq.cluster`), not this adapter's.
 */
export class RemoteCluster implements ClusterTarget {
  readonly kind = 'remote' as const

  constructor(private readonly context: string) {}

  describe(): string {
    return `remote cluster (context "${this.context}")`
  }

  /** There is no cluster tool to ask; the Kubernetes version comes from the API server. */
  version(): Promise<string> {
    return Promise.resolve('no local tool')
  }

  ensureRunning(): Promise<void> {
    return Promise.resolve()
  }

  /** Not known from here, and not needed: the image load strategy applies to local clusters only. */
  nodeRuntime(): Promise<NodeRuntime> {
    return Promise.resolve({containerRuntime: 'unknown', nodeCount: 0})
  }

  /** The nodes' image caches are the kubelet's business: an image is never known to be present there. */
  imagePresent(): Promise<boolean> {
    return Promise.resolve(false)
  }

  /** Never called: a remote cluster's images are pushed to the registry instead. Calling it is a bug. */
  loadImage(ref: string): Promise<LoadImageResult> {
    return Promise.reject(
      new TodoDeployError(
        ExitCode.Unexpected,
        `${ref} cannot be loaded into a remote cluster: its nodes pull images from registry.url`,
      ),
    )
  }

  builderEnv(): Promise<Record<string, string> | null> {
    return Promise.resolve(null)
  }

  /** `down --purge` leaves a remote cluster's nodes (and the registry) alone. */
  removeImage(): Promise<boolean> {
    return Promise.resolve(false)
  }

  frontendUrl(request: FrontendUrlRequest): Promise<string> {
    return Promise.reject(
      new PrerequisiteError(`the app's address on ${this.describe()} is not known yet`, {
        fix: `reach it with \`kubectl port-forward -n ${request.namespace} service/${request.service} 8080:<its port>\` and open http://localhost:8080`,
      }),
    )
  }
}
