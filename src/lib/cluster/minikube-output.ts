import {qualifiedImageRef} from './cluster-target.js'

/**
 * Parsers for the output of the minikube commands the adapter runs. The shapes follow minikube's
 * source (cmd/minikube/cmd/status.go + pkg/minikube/cluster/status.go, pkg/minikube/machine/
 * cache_images.go ListImages, cmd/minikube/cmd/config/profile_list.go, pkg/minikube/shell/shell.go);
 * test/fixtures/minikube/README.md lists each fixture and where its format comes from.
 */

/** One node's entry of `minikube status -o json` (cluster.Status). */
export interface MinikubeNodeStatus {
  name: string
  host: string
  kubelet: string
  apiServer: string
  kubeconfig: string
  worker: boolean
}

/** `minikube status -o json`: one object for a single node, an array for several; null when it is neither. */
export function parseMinikubeStatus(stdout: string): MinikubeNodeStatus[] | null {
  const parsed = parseJson(stdout.trim())
  const entries = Array.isArray(parsed) ? parsed : parsed === undefined ? [] : [parsed]
  const statuses: MinikubeNodeStatus[] = []
  for (const entry of entries) {
    if (!isRecord(entry) || typeof entry.Host !== 'string') continue
    statuses.push({
      name: stringField(entry, 'Name'),
      host: entry.Host,
      kubelet: stringField(entry, 'Kubelet'),
      apiServer: stringField(entry, 'APIServer'),
      kubeconfig: stringField(entry, 'Kubeconfig'),
      worker: entry.Worker === true,
    })
  }
  return statuses.length > 0 ? statuses : null
}

/** One image of `minikube image ls --format json` (cruntime.ListImage). */
export interface ListedImage {
  id: string
  repoTags: string[]
}

/** The listed image one of whose tags is `ref` (both compared fully qualified). */
export function findImage(images: ListedImage[], ref: string): ListedImage | undefined {
  const wanted = qualifiedImageRef(ref)
  return images.find((image) => image.repoTags.some((tag) => qualifiedImageRef(tag) === wanted))
}

/**
 * Whether another repository names the same image as `ref`: identical content has one image ID, and the
 * runtime removes an image (`minikube image rm`, `crictl rmi`) with every tag it has, so removing this
 * app's tag would take another app's image away.
 */
export function sharedWithOtherRepositories(image: ListedImage, ref: string): boolean {
  const repository = repositoryOf(qualifiedImageRef(ref))
  return image.repoTags.some((tag) => repositoryOf(qualifiedImageRef(tag)) !== repository)
}

function repositoryOf(qualified: string): string {
  return qualified.slice(0, qualified.lastIndexOf(':'))
}

/** `minikube image ls --format json` and `crictl images -o json` ({images: [...]}) share the item shape. */
export function parseImageList(stdout: string): ListedImage[] | null {
  const parsed = parseJson(stdout.trim())
  const items = Array.isArray(parsed)
    ? parsed
    : isRecord(parsed) && Array.isArray(parsed.images)
      ? parsed.images
      : null
  if (items === null) return null
  const images: ListedImage[] = []
  for (const item of items) {
    if (!isRecord(item) || typeof item.id !== 'string') continue
    const tags = Array.isArray(item.repoTags)
      ? item.repoTags.filter((tag): tag is string => typeof tag === 'string')
      : []
    images.push({id: item.id, repoTags: tags})
  }
  return images
}

export interface MinikubeProfileSummary {
  name: string
  status: string
  containerRuntime: string
  driver: string
  nodeCount: number
}

/** The valid profiles of `minikube profile list -o json`; null when the output is not that document. */
export function parseProfileList(stdout: string): MinikubeProfileSummary[] | null {
  const parsed = parseJson(stdout.trim())
  if (!isRecord(parsed) || !Array.isArray(parsed.valid)) return null
  const profiles: MinikubeProfileSummary[] = []
  for (const profile of parsed.valid) {
    if (!isRecord(profile) || typeof profile.Name !== 'string') continue
    const config = isRecord(profile.Config) ? profile.Config : {}
    const kubernetes = isRecord(config.KubernetesConfig) ? config.KubernetesConfig : {}
    profiles.push({
      name: profile.Name,
      status: stringField(profile, 'Status'),
      containerRuntime: stringField(kubernetes, 'ContainerRuntime'),
      driver: stringField(config, 'Driver'),
      nodeCount: Array.isArray(config.Nodes) ? config.Nodes.length : 1,
    })
  }
  return profiles
}

/** `minikube docker-env --shell none`: `KEY=VALUE` lines (shell.go "none": no prefix, `=`, newline). */
export function parseDockerEnv(stdout: string): Record<string, string> {
  const env: Record<string, string> = {}
  for (const raw of stdout.split('\n')) {
    const line = raw.trim()
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line)
    if (match?.[1] !== undefined && match[2] !== undefined) env[match[1]] = match[2]
  }
  return env
}

/**
 * The human messages in minikube output. With `-o json` minikube prints its messages as CloudEvents
 * (one JSON object a line, out/register/json.go) instead of text; other lines are kept as they are.
 */
export function minikubeMessages(output: string): string[] {
  const messages: string[] = []
  for (const raw of output.split('\n')) {
    const line = raw.trim()
    // The "please let us know" issue box minikube adds to every fatal error would hide the reason.
    if (line.length === 0 || /^[╭╰│]/.test(line)) continue
    const event = line.startsWith('{') ? parseJson(line) : undefined
    if (isRecord(event) && typeof event.type === 'string' && isRecord(event.data)) {
      const message = event.data.message
      if (typeof message === 'string' && message.trim().length > 0) messages.push(message.trim())
      continue
    }
    messages.push(line)
  }
  return messages
}

function parseJson(text: string): unknown {
  if (text.length === 0) return undefined
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function stringField(record: Record<string, unknown>, key: string): string {
  const value = record[key]
  return typeof value === 'string' ? value : ''
}
