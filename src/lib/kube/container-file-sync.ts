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

/**
 * A ContainerFileSync whose adapter is loaded on first use: the exec adapter brings the WebSocket
 * client, which a command that never syncs should not load.
 */
export function loadedOnFirstUse(load: () => Promise<ContainerFileSync>): ContainerFileSync {
  let loaded: Promise<ContainerFileSync> | undefined
  const adapter = (): Promise<ContainerFileSync> => (loaded ??= load())
  return {
    check: async (target, targets, signal) => (await adapter()).check(target, targets, signal),
    copy: async (target, payload, signal) => (await adapter()).copy(target, payload, signal),
  }
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
    const lines =
      stderr.trim() === '' ? ['(the container printed nothing on stderr)'] : stderr.trimEnd().split('\n')
    super(
      ExitCode.DeployFailed,
      `live sync into ${describeTarget(target)} failed: the copy (tar) ${status}`,
      {
        where: `pod/${target.pod} container ${target.container}`,
        details: lines,
        fix: 'the service is rebuilt instead; fix what the container says above to sync again',
        cause: options.cause,
      },
    )
    this.name = 'SyncFailedError'
    this.target = target
    this.exitStatus = exitStatus
    this.stderr = stderr
  }
}

/** Copies one payload to many containers at once (every ready pod of a service); one outcome each. */
export async function copyToEach(
  fileSync: ContainerFileSync,
  targets: readonly SyncTarget[],
  payload: SyncPayload,
  signal?: AbortSignal,
): Promise<Array<{target: SyncTarget; error: Error | null}>> {
  const outcomes = await Promise.allSettled(
    targets.map(async (target) => fileSync.copy(target, payload, signal)),
  )
  return outcomes.map((outcome, i) => ({
    target: targets[i] as SyncTarget,
    error: outcome.status === 'fulfilled' ? null : toError(outcome.reason),
  }))
}

function toError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason))
}

export function describeTarget(target: SyncTarget): string {
  return `${target.namespace}/${target.pod} (container ${target.container})`
}

/** The container lacks what a sync runs (`tar` by default; `sh` and `head` too): one wording for every adapter. */
export function noTarObstacle(target: SyncTarget, missing: readonly string[] = ['tar']): SyncObstacle {
  const names = missing.join(' and ')
  return {
    to: null,
    reason: 'no-tar',
    message: `container ${target.container} of pod ${target.pod} has no ${names}, which live sync copies files with`,
    fix: missing.includes('sh')
      ? 'base the dev target on an image with a shell and tar (a distroless or scratch image has neither), e.g. the slim variant of the same base image'
      : `install ${names} in the image's dev target, e.g. \`RUN apk add --no-cache ${missing.join(' ')}\` or \`RUN apt-get install -y ${missing.map((m) => (m === 'head' ? 'coreutils' : m)).join(' ')}\``,
  }
}

/** The container's user (and group, as `id` names them, when known) cannot write to `to`. */
export function notWritableObstacle(
  target: SyncTarget,
  to: string,
  owner: {user: string; group: string} | null,
): SyncObstacle {
  const who = owner === null ? "the container's user" : `user ${owner.user}`
  const chown = owner === null ? '<user>:<group>' : `${owner.user}:${owner.group}`
  return {
    to,
    reason: 'not-writable',
    message: `${who} cannot write to ${to} in container ${target.container} of pod ${target.pod}`,
    fix: `make the container's user own it in the Dockerfile's dev target, e.g. \`COPY --chown=${chown} . ${to}\``,
  }
}
