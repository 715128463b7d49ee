import {readFile} from 'node:fs/promises'

import {
  type ContainerFileSync,
  noTarObstacle,
  notWritableObstacle,
  SyncFailedError,
  type SyncObstacle,
  type SyncPayload,
  type SyncTarget,
} from '../../../src/lib/kube/container-file-sync.js'
import type {CallLog} from './call-log.js'

/** What a container can be told to be like; every container is a fine sync target by default. */
export interface FakeContainerTraits {
  noTar?: boolean
  /** Folders the container's user cannot write to (a `to` inside one is refused too). */
  readOnly?: string[]
  /** The next copies fail as tar would: this stderr and exit status. */
  copyFailure?: {stderr: string; exitStatus: number}
}

/**
 * The containers' file systems, in memory: per pod and container, the files a sync wrote (absolute
 * path → content read from the local file at copy time). A container is described by `set`; a pod
 * that restarts or is replaced loses what was synced (`restart`), as a real one does.
 */
export class FakeContainerFileSync implements ContainerFileSync {
  readonly #traits = new Map<string, FakeContainerTraits>()
  readonly #files = new Map<string, Map<string, string>>()

  constructor(private readonly log: CallLog) {}

  /** Describes a container (`container` omitted: every container of the pod). */
  set(pod: string, traits: FakeContainerTraits, container = '*'): void {
    this.#traits.set(key(pod, container), traits)
  }

  /** The files the container holds from syncs: absolute path → content. */
  files(pod: string, container?: string): Map<string, string> {
    if (container !== undefined) return new Map(this.#files.get(key(pod, container)))
    const all = new Map<string, string>()
    for (const [k, files] of this.#files)
      if (k.startsWith(`${pod}\u0000`)) for (const e of files) all.set(...e)
    return all
  }

  /** The pod's containers restarted (or it was replaced): what was synced into them is gone. */
  restart(pod: string): void {
    for (const k of [...this.#files.keys()]) if (k.startsWith(`${pod}\u0000`)) this.#files.delete(k)
  }

  async check(target: SyncTarget, targets: readonly string[], signal?: AbortSignal): Promise<SyncObstacle[]> {
    this.log.record('fileSync.check', {...target}, [...targets])
    signal?.throwIfAborted()
    const traits = this.#traitsOf(target)
    if (traits.noTar) return [noTarObstacle(target)]
    return targets
      .filter((to) => (traits.readOnly ?? []).some((folder) => isInside(to, folder)))
      .map((to) => notWritableObstacle(target, to, {user: 'app', group: 'app'}))
  }

  async copy(target: SyncTarget, payload: SyncPayload, signal?: AbortSignal): Promise<void> {
    this.log.record(
      'fileSync.copy',
      {...target},
      {
        files: payload.files.map((file) => file.to),
        deletions: [...payload.deletions],
      },
    )
    signal?.throwIfAborted()
    const traits = this.#traitsOf(target)
    if (traits.noTar) throw new SyncFailedError(target, 127, 'sh: tar: not found\n')
    if (traits.copyFailure)
      throw new SyncFailedError(target, traits.copyFailure.exitStatus, traits.copyFailure.stderr)
    const refused = [...payload.files.map((file) => file.to), ...payload.deletions].find((to) =>
      (traits.readOnly ?? []).some((folder) => isInside(to, folder)),
    )
    if (refused !== undefined) {
      throw new SyncFailedError(target, 2, `tar: ${refused.slice(1)}: Cannot open: Permission denied\n`)
    }
    const contents = await Promise.all(payload.files.map(async (file) => readFile(file.from, 'utf8')))
    const k = key(target.pod, target.container)
    const held = this.#files.get(k) ?? new Map<string, string>()
    payload.files.forEach((file, i) => held.set(file.to, contents[i] ?? ''))
    for (const gone of payload.deletions) held.delete(gone)
    this.#files.set(k, held)
  }

  #traitsOf(target: SyncTarget): FakeContainerTraits {
    return this.#traits.get(key(target.pod, target.container)) ?? this.#traits.get(key(target.pod, '*')) ?? {}
  }
}

function key(pod: string, container: string): string {
  return `${pod}\u0000${container}`
}

function isInside(file: string, folder: string): boolean {
  const base = folder.endsWith('/') ? folder : `${folder}/`
  return file === folder || file.startsWith(base)
}
