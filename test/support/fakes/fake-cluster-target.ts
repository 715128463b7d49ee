import type {ImageBuilder} from '../../../src/lib/image/image-builder.js'
import type {ClusterKind} from '../../../src/lib/cluster/cluster-kind.js'
import type {
  ClusterTarget,
  FrontendUrlRequest,
  LoadImageOptions,
  LoadImageResult,
  NodeRuntime,
} from '../../../src/lib/cluster/cluster-target.js'
import {DeployError, type TodoDeployError} from '../../../src/lib/errors.js'
import {work} from './abortable-work.js'
import type {CallLog} from './call-log.js'

/**
 * The images of the node's container runtime, as `minikube image ls` (the CRI) shows them: every change
 * is immediate, and kept with its time (`Date.now()`, so fake timers drive it) for the node's image
 * list, which shows each change only a refresh later (FakeNodeReader).
 */
export class RuntimeImages extends Map<string, string> {
  private readonly changes: {at: number; ref: string; id: string | null}[] = []

  override set(ref: string, id: string): this {
    // Map's constructor calls set before this class's fields exist.
    this.changes?.push({at: Date.now(), ref, id})
    return super.set(ref, id)
  }

  override delete(ref: string): boolean {
    this.changes.push({at: Date.now(), ref, id: null})
    return super.delete(ref)
  }

  override clear(): void {
    for (const ref of this.keys()) this.changes.push({at: Date.now(), ref, id: null})
    super.clear()
  }

  /** The refs the runtime held at `time`. */
  at(time: number): string[] {
    const held = new Map<string, string | null>()
    for (const change of this.changes) if (change.at <= time) held.set(change.ref, change.id)
    return [...held].filter(([, id]) => id !== null).map(([ref]) => ref)
  }
}

/**
 * A minikube-like cluster: images are loaded from the local engine (by ID, as `minikube image load`
 * sends the local image), counted, and a load can be made to fail. `images` is the runtime's own
 * view (`minikube image ls`): immediate.
 */
export class FakeClusterTarget implements ClusterTarget {
  kind: ClusterKind = 'minikube'
  /** Like a remote cluster's ClusterIP Service: the cluster publishes no address (frontendUrl is null). */
  publishesNoAddress = false
  /** ref → image ID on the node. */
  readonly images = new RuntimeImages()
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

  async frontendUrl(request: FrontendUrlRequest): Promise<string | null> {
    this.log.record('cluster.frontendUrl', request)
    if (this.publishesNoAddress) return null
    if (request.ingressHost) return `http://${request.ingressHost}`
    return `http://${this.nodeIp}:${request.nodePort ?? 80}`
  }
}
