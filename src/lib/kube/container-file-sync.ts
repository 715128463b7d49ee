/**
 * Copies changed source files into running containers (`dev` live sync), as `kubectl cp` does: a tar
 * stream through the exec API. The port the dev loop sees; the real adapter speaks the exec
 * subprotocol over a WebSocket. See docs/live-sync.md.
 */

/** One container of one pod. */
export interface SyncTarget {
  namespace: string
  pod: string
  container: string
}

/** A file to write: `to` is its absolute path in the container, `from` the local file it is read from. */
export interface SyncedFile {
  from: string
  to: string
}

/** What one sync carries: changed files and absolute container paths to delete. */
export interface SyncPayload {
  files: readonly SyncedFile[]
  deletions: readonly string[]
}

/** Why a container cannot take a sync, with the fix (a Dockerfile line, e.g. `COPY --chown`). */
export interface SyncObstacle {
  /** The rule's `to`, or null when the whole container is concerned (no `tar`). */
  to: string | null
  reason: 'no-tar' | 'not-writable'
  message: string
  fix: string
}

export interface ContainerFileSync {
  /**
   * Checks once per container that it can take a sync into each of `targets` (the rules' `to`):
   * `tar` exists and the container's user can write there. An empty list means it can.
   */
  check(target: SyncTarget, targets: readonly string[], signal?: AbortSignal): Promise<SyncObstacle[]>
  /**
   * Writes the files and removes the deletions in one tar stream. Throws a `SyncFailedError` (with
   * tar's own stderr) when the container's side fails.
   */
  copy(target: SyncTarget, payload: SyncPayload, signal?: AbortSignal): Promise<void>
}
