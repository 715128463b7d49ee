/**
 * Copies changed source files into running containers (`dev` live sync), as `kubectl cp` does: a tar
 * stream through the exec API. The port the dev loop sees; the real adapter speaks the exec
 * subprotocol over a WebSocket. See docs/live-sync.md.
 */

import {ExitCode, TodoDeployError} from '../errors.js'

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

/** A copy the container's side refused or failed: tar's (or sh's) own stderr and exit code. */
export class SyncFailedError extends TodoDeployError {
  readonly target: SyncTarget
  readonly exitStatus: number | null
  readonly stderr: string

  constructor(
    target: SyncTarget,
    exitStatus: number | null,
    stderr: string,
    options: {cause?: unknown} = {},
  ) {
    const status = exitStatus === null ? 'did not finish' : `exited with status ${exitStatus}`
    const lines = stderr.trim() === '' ? ['(tar printed nothing on stderr)'] : stderr.trimEnd().split('\n')
    super(ExitCode.DeployFailed, `Live sync into ${describeTarget(target)} failed: tar ${status}`, {
      where: `pod/${target.pod} container ${target.container}`,
      details: lines,
      fix: 'the service is rebuilt instead; fix what tar says above to sync again',
      cause: options.cause,
    })
    this.name = 'SyncFailedError'
    this.target = target
    this.exitStatus = exitStatus
    this.stderr = stderr
  }
}

export function describeTarget(target: SyncTarget): string {
  return `${target.namespace}/${target.pod} (container ${target.container})`
}

/** The container has no `tar`: the same wording from every adapter. */
export function noTarObstacle(target: SyncTarget): SyncObstacle {
  return {
    to: null,
    reason: 'no-tar',
    message: `container ${target.container} of pod ${target.pod} has no tar, which live sync copies files with`,
    fix: 'install tar in the image (e.g. `RUN apk add --no-cache tar` or `RUN apt-get install -y tar`), or base the dev target on an image that has it',
  }
}

/** The container's user cannot write to `to` (`user` as `id -un` names it, when known). */
export function notWritableObstacle(target: SyncTarget, to: string, user: string | null): SyncObstacle {
  const who = user === null ? "the container's user" : `user ${user}`
  const owner = user === null ? '<user>:<group>' : `${user}:${user}`
  return {
    to,
    reason: 'not-writable',
    message: `${who} cannot write to ${to} in container ${target.container} of pod ${target.pod}`,
    fix: `make the container's user own it in the Dockerfile's dev target, e.g. \`COPY --chown=${owner} . ${to}\``,
  }
}
