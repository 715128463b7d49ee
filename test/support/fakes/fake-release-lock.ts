import {DeployError} from '../../../src/lib/errors.js'
import type {
  AcquireLockRequest,
  LockHandle,
  LockState,
  ReleaseLock,
} from '../../../src/lib/kube/release-lock.js'
import type {CallLog} from './call-log.js'
import type {NamespaceGuard} from './terminating-namespace.js'
import {key} from './release-key.js'

/** One lease per release; `holdBy` makes another process hold it. The refusal names the holder and its command, as the Lease's annotation does. */
export class FakeReleaseLock implements ReleaseLock {
  /** release key → holder and the command it runs. */
  readonly holders = new Map<string, {holder: string; command: string}>()
  acquired = 0
  /** Refuses new content in a Terminating namespace (FakeCluster wires FakeClusterApi). */
  guard: NamespaceGuard | undefined
  released = 0

  constructor(private readonly log: CallLog) {}

  async acquire(request: AcquireLockRequest): Promise<LockHandle> {
    this.log.record('lock.acquire', request)
    const id = key(request.release, request.namespace)
    const held = this.holders.get(id)
    if (held === undefined)
      this.guard?.refuseNewContent(request.namespace, {
        resource: 'leases',
        group: 'coordination.k8s.io',
        name: `todo-deploy-lock-${request.release}`,
      })
    if (held !== undefined) {
      throw new DeployError(
        `release ${request.release} is locked by \`${held.command}\` (holder ${held.holder}) since 2025-01-01T10:00:00.000Z; wait for it to finish, or if that process is gone the lock expires at 2025-01-01T10:00:30.000Z`,
        {
          where: `lease/todo-deploy-lock-${request.release} in namespace ${request.namespace}`,
          fix: 'run the command again once the other one has finished (or the lock has expired)',
        },
      )
    }
    this.holders.set(id, {holder: request.holder, command: request.command})
    this.acquired++
    let done = false
    return {
      lostReason: undefined,
      release: async () => {
        if (done) return
        done = true
        this.released++
        this.holders.delete(id)
      },
    }
  }

  /** Leases as `inspect` reads them, set by `setLease`. */
  private readonly leases = new Map<string, LockState>()

  /** The lease as a process left it (e.g. expired, after it died without releasing it). */
  setLease(release: string, namespace: string, state: LockState): void {
    this.leases.set(key(release, namespace), state)
  }

  async inspect(namespace: string, release: string): Promise<LockState | null> {
    const id = key(release, namespace)
    const lease = this.leases.get(id)
    if (lease !== undefined) return lease
    const held = this.holders.get(id)
    // A lock this fake hands out is renewed for as long as it is held.
    return held === undefined ? null : {...held, expiresAt: new Date(8.64e15)}
  }

  holdBy(release: string, namespace: string, holder: string, command = 'todo-deploy up'): void {
    this.holders.set(key(release, namespace), {holder, command})
  }

  isHeld(release: string, namespace: string): boolean {
    return this.holders.has(key(release, namespace))
  }
}
