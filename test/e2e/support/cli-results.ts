/**
 * The `--json` contracts of the commands, as a user's script sees them: only the fields the e2e
 * flows read. Written from the outside on purpose, so a change of the CLI's output breaks this suite.
 */

export interface UpImageJson {
  service: 'frontend' | 'backend'
  ref: string
  tag: string
  built: boolean
  loaded: boolean
  buildSkipReason?: string
  loadSkipReason?: string
  /** With registry.url: whether this run pushed it, and the digest the registry holds. */
  pushed?: boolean
  digest?: string
  /** Of an image built in BuildKit: the context files sent, of those the build looked at. */
  contextSent?: {files: number; of: number; bytes: number}
}

export interface UpJson {
  command: 'up'
  release: string
  namespace: string
  context: string
  clusterKind: string
  state: string
  /** How images reach the cluster: `load`, `docker-env` (built inside it) or `none` (shares the engine). */
  imageLoad: string
  images: UpImageJson[]
  helm: {action: 'install' | 'upgrade' | 'skipped'; revision?: number}
  phases: {phase: string; lifecycleState: string; state: string; durationMs?: number; skipReason?: string}[]
  /** null: a remote cluster publishes no address (reach it with `up --port-forward`). */
  url?: string | null
  warnings: string[]
  diagnosis?: {
    deployment: string
    pod?: string
    container?: string
    reason: string
    message: string
    lastTerminated?: {exitCode: number}
  }
  rollback?: {revision: number; result: 'rolled-back' | 'failed'; detail?: string}
}

export interface StatusJson {
  release: {
    name: string
    namespace: string
    revision: number
    status: string
    chart: string
    appVersion: string
    deployedAt: string | null
    /** helm's description of the revision, e.g. "Rollback to 1". */
    description: string
  } | null
  state: string
  deployments: {
    name: string
    desired: number
    updated: number
    ready: number
    available: number
    images: string[]
    tags: string[]
  }[]
  services: {name: string; type: string; port: number; nodePort: number | null; url: string | null}[]
}

export interface RollbackJson {
  command: 'rollback'
  release: string
  fromRevision: number
  toRevision: number
  revision: number
  state: string
  tags: {frontend?: string; backend?: string}
  url?: string | null
}

export interface RollbackListEntry {
  revision: number
  status: string
  description: string
  updated: string
  tags: {frontend?: string; backend?: string}
}

export interface DownJson {
  command: 'down'
  release: string
  namespace: string
  uninstalled: boolean
}

export function imageOf(result: UpJson, service: 'frontend' | 'backend'): UpImageJson {
  const image = result.images.find((candidate) => candidate.service === service)
  if (image === undefined)
    throw new Error(`up --json reported no image for ${service}: ${JSON.stringify(result.images)}`)
  return image
}
