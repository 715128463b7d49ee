import type {ClusterKind} from './cluster-kind.js'

export interface LoadImageOptions {
  /** Progress lines of the load command (stdout and stderr). */
  onLine?: (line: string) => void
  signal?: AbortSignal
  /**
   * The image ID the local engine gave this tag (`sha256:…` or bare hex). When set, the load counts
   * as done only if the cluster resolves the tag to this ID: a same-tag load while a container uses
   * the old image is silently ignored by minikube (minikube #11276, #13511).
   */
  expectedImageId?: string
  /**
   * The local engine built this tag in this run, so the cluster cannot already hold this image under it
   * (a content tag names new content): the look before the load, one more `minikube`, `kind` or `k3d`
   * process on a real machine, is skipped. The check after the load still runs.
   */
  freshlyBuilt?: boolean
}

/** `already-present`: the cluster had the image (same tag, and same ID when one was given), nothing was sent. */
export type LoadImageResult = 'loaded' | 'already-present'

export interface FrontendUrlRequest {
  service: string
  namespace: string
  /** The Service's nodePort, when it is a NodePort service. */
  nodePort?: number
  /** The Ingress host, when the frontend is published through an Ingress. */
  ingressHost?: string
}

/** What runs containers on the cluster's node: decides whether `docker-env` can work (skaffold #5143). */
export interface NodeRuntime {
  /** `docker`, `containerd`, `cri-o`, … as the cluster's tool reports it. */
  containerRuntime: string
  nodeCount: number
}

/** One local Kubernetes cluster, seen from the deploy: is it up, has it got an image, how to reach the app. */
export interface ClusterTarget {
  readonly kind: ClusterKind
  /** A short human name: `minikube profile "minikube"`, `kind cluster "dev"`. */
  describe(): string
  /** The version of the cluster's tool (minikube, kind, k3d) or Docker engine. */
  version(): Promise<string>
  /** Fails with PrerequisiteError (exit 3) and the command that fixes it when the cluster is missing or stopped. */
  ensureRunning(): Promise<void>
  nodeRuntime(): Promise<NodeRuntime>
  /**
   * Whether the cluster's node has `ref` (and, when given, with that image ID). Not a check before a
   * load: `loadImage` checks itself. For callers with nothing to load from (the engine lost the image).
   */
  imagePresent(ref: string, expectedImageId?: string): Promise<boolean>
  /**
   * Makes sure the cluster has a locally built image, and is the one owner of that question: it looks
   * first (`already-present`: nothing sent), else loads it and checks the cluster lists it.
   */
  loadImage(ref: string, options?: LoadImageOptions): Promise<LoadImageResult>
  /** Environment for the image builder to build straight into the node's engine, or null when there is none. */
  builderEnv(): Promise<Record<string, string> | null>
  /** Removes an image from the node (`down --purge`); false when the node did not have it. */
  removeImage(ref: string): Promise<boolean>
  /**
   * The URL the cluster publishes the frontend at, or null when it publishes none this machine can
   * use (a remote cluster's ClusterIP Service): then only a port-forward reaches the app.
   */
  frontendUrl(request: FrontendUrlRequest): Promise<string | null>
}

/**
 * The fully qualified form of an image reference, as container runtimes list it:
 * `todo-frontend:abc` -> `docker.io/library/todo-frontend:abc` (minikube's AddDockerIO, crictl).
 */
export function qualifiedImageRef(ref: string): string {
  const withoutDigest = ref.split('@')[0] ?? ref
  const lastSlash = withoutDigest.lastIndexOf('/')
  const hasTag = withoutDigest.lastIndexOf(':') > lastSlash
  const tagged = hasTag ? withoutDigest : `${withoutDigest}:latest`
  const parts = tagged.split('/')
  const first = parts[0] ?? ''
  const hasRegistry =
    parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')
  if (hasRegistry) return tagged
  if (parts.length === 1) return `docker.io/library/${tagged}`
  return `docker.io/${tagged}`
}

/** Image IDs compared without their `sha256:` prefix (minikube prints bare hex, crictl and Docker prefixed). */
export function sameImageId(a: string, b: string): boolean {
  return bareImageId(a) === bareImageId(b)
}

export function bareImageId(id: string): string {
  return id.trim().replace(/^sha256:/, '')
}

/** The first http(s) URL on a line of its own in a command's output. */
export function firstUrlLine(lines: Iterable<string>): string | undefined {
  for (const line of lines) {
    const trimmed = line.trim()
    if (/^https?:\/\/\S+$/.test(trimmed)) return trimmed
  }
  return undefined
}
