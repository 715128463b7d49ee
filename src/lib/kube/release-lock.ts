import {V1MicroTime, type V1Lease} from '@kubernetes/client-node'

import {DeployError} from '../errors.js'
import {MANAGED_BY_LABEL, MANAGED_BY_VALUE, RELEASE_LABEL} from './kube-client.js'
import type {KubeConnection} from './kube-connection.js'
import {isApiStatus, nullIfNotFound} from './kube-errors.js'

export interface AcquireLockRequest {
  namespace: string
  release: string
  /** Who holds it, for the message another user sees: `user@host pid 1234`. */
  holder: string
  /** The command holding it, e.g. `todo-deploy up`. */
  command: string
  /** How long the lock outlives its holder's last renewal; default 30. */
  leaseSeconds?: number
}

export interface LockHandle {
  /** Stops renewing and frees the lock; safe to call twice, and after the namespace is gone. */
  release(): Promise<void>
  /** Set when a renewal found the lock taken over or deleted: the operation no longer holds it. */
  readonly lostReason: string | undefined
}

/** The lock as another process sees it: who holds it and until when, unless renewed. */
export interface LockState {
  holder?: string
  command?: string
  acquiredAt?: Date
  /** When it lapses unless renewed; undefined when no one holds it (released). */
  expiresAt?: Date
}

export interface ReleaseLock {
  acquire(request: AcquireLockRequest): Promise<LockHandle>
  /** The release's lock as it stands, or null when there is none (never taken, or released and deleted). */
  inspect(namespace: string, release: string): Promise<LockState | null>
}

/** Whether a lock is held right now: someone holds it and has renewed it within its lease. */
export function isLockLive(lock: LockState | null, now: Date): boolean {
  return lock?.expiresAt !== undefined && lock.expiresAt.getTime() > now.getTime()
}

export const DEFAULT_LEASE_SECONDS = 30
const COMMAND_ANNOTATION = 'todo-deploy/command'

export function lockLeaseName(release: string): string {
  return `todo-deploy-lock-${release}`
}

function timeOf(value: Date | string | undefined): Date | undefined {
  if (value === undefined) return undefined
  const date = new Date(value)
  return Number.isNaN(date.getTime()) ? undefined : date
}

/** When the lease lapses unless renewed; undefined when it has no holder (released). */
export function leaseExpiry(lease: V1Lease): Date | undefined {
  const spec = lease.spec
  if (spec?.holderIdentity === undefined || spec.holderIdentity === '') return undefined
  const renewed = timeOf(spec.renewTime) ?? timeOf(spec.acquireTime)
  if (renewed === undefined) return undefined
  return new Date(renewed.getTime() + (spec.leaseDurationSeconds ?? DEFAULT_LEASE_SECONDS) * 1000)
}

/**
 * One operation per release at a time, across terminals and machines: a coordination.k8s.io Lease in
 * the release namespace, renewed while the operation runs, taken over once its holder stops renewing.
 * Writes carry the resourceVersion they read, so two racing processes cannot both win.
 */
export class LeaseReleaseLock implements ReleaseLock {
  constructor(
    private readonly kube: KubeConnection,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async acquire({
    namespace,
    release,
    holder,
    command,
    leaseSeconds = DEFAULT_LEASE_SECONDS,
  }: AcquireLockRequest): Promise<LockHandle> {
    const name = lockLeaseName(release)
    const leases = this.kube.coordination
    const existing = await this.kube.call({verb: 'get', resource: 'leases', name, namespace}, () =>
      nullIfNotFound(leases.readNamespacedLease({name, namespace})),
    )
    if (existing !== null) this.refuseIfLive(existing, release)

    const at = new V1MicroTime(this.now().getTime())
    const body: V1Lease = {
      metadata: {
        name,
        namespace,
        labels: {[MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [RELEASE_LABEL]: release},
        annotations: {[COMMAND_ANNOTATION]: command},
        resourceVersion: existing?.metadata?.resourceVersion,
      },
      spec: {
        holderIdentity: holder,
        leaseDurationSeconds: leaseSeconds,
        acquireTime: at,
        renewTime: at,
        leaseTransitions: (existing?.spec?.leaseTransitions ?? -1) + 1,
      },
    }
    const acquired = await this.kube.call(
      {verb: existing === null ? 'create' : 'update', resource: 'leases', name, namespace},
      async () => {
        try {
          return await (existing === null
            ? leases.createNamespacedLease({namespace, body})
            : leases.replaceNamespacedLease({name, namespace, body}))
        } catch (error) {
          if (isApiStatus(error, 409)) return null
          throw error
        }
      },
    )
    if (acquired === null) {
      // Another process wrote the lease between our read and our write: it won.
      const winner = await this.kube.call({verb: 'get', resource: 'leases', name, namespace}, () =>
        nullIfNotFound(leases.readNamespacedLease({name, namespace})),
      )
      if (winner !== null) this.refuseIfLive(winner, release)
      throw new DeployError(
        `release ${release} was locked by another todo-deploy process at the same moment`,
        {
          where: `lease/${name} in namespace ${namespace}`,
          fix: 'wait for the other command to finish, then run this one again',
        },
      )
    }
    return new RenewedLease(this.kube, acquired, leaseSeconds, this.now)
  }

  async inspect(namespace: string, release: string): Promise<LockState | null> {
    const name = lockLeaseName(release)
    const lease = await this.kube.call({verb: 'get', resource: 'leases', name, namespace}, () =>
      nullIfNotFound(this.kube.coordination.readNamespacedLease({name, namespace})),
    )
    if (lease === null) return null
    return {
      holder: lease.spec?.holderIdentity || undefined,
      command: lease.metadata?.annotations?.[COMMAND_ANNOTATION],
      acquiredAt: timeOf(lease.spec?.acquireTime),
      expiresAt: leaseExpiry(lease),
    }
  }

  private refuseIfLive(lease: V1Lease, release: string): void {
    const expiry = leaseExpiry(lease)
    if (expiry === undefined || expiry.getTime() <= this.now().getTime()) return
    const command = lease.metadata?.annotations?.[COMMAND_ANNOTATION] ?? 'another todo-deploy command'
    const since = timeOf(lease.spec?.acquireTime)?.toISOString() ?? 'an unknown time'
    throw new DeployError(
      `release ${release} is locked by \`${command}\` (holder ${lease.spec?.holderIdentity}) since ${since}; wait for it to finish, or if that process is gone the lock expires at ${expiry.toISOString()}`,
      {
        where: `lease/${lease.metadata?.name} in namespace ${lease.metadata?.namespace}`,
        fix: 'run the command again once the other one has finished (or the lock has expired)',
      },
    )
  }
}

class RenewedLease implements LockHandle {
  lostReason: string | undefined
  #lease: V1Lease
  #timer: NodeJS.Timeout | undefined
  #renewing: Promise<void> = Promise.resolve()
  #released = false

  constructor(
    private readonly kube: KubeConnection,
    lease: V1Lease,
    leaseSeconds: number,
    private readonly now: () => Date,
  ) {
    this.#lease = lease
    this.#timer = setInterval(
      () => {
        this.#renewing = this.#renewing.then(() => this.renew())
      },
      (leaseSeconds * 1000) / 3,
    )
    // The lock must never keep a finished CLI alive.
    this.#timer.unref()
  }

  private get ref(): {name: string; namespace: string} {
    return {name: this.#lease.metadata?.name ?? '', namespace: this.#lease.metadata?.namespace ?? ''}
  }

  private async renew(): Promise<void> {
    if (this.#released || this.lostReason !== undefined) return
    const {name, namespace} = this.ref
    const body: V1Lease = {
      ...this.#lease,
      spec: {...this.#lease.spec, renewTime: new V1MicroTime(this.now().getTime())},
    }
    try {
      this.#lease = await this.kube.coordination.replaceNamespacedLease({name, namespace, body})
    } catch (error) {
      if (isApiStatus(error, 409) || isApiStatus(error, 404)) {
        this.lostReason = `lease/${name} in namespace ${namespace} was ${isApiStatus(error, 404) ? 'deleted' : 'taken over by another process'}`
        this.stop()
      }
      // Other failures (a slow or briefly unreachable API server) are retried at the next tick;
      // the lease outlives two missed renewals.
    }
  }

  private stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
  }

  async release(): Promise<void> {
    if (this.#released) return
    this.#released = true
    this.stop()
    await this.#renewing
    if (this.lostReason !== undefined) return
    const {name, namespace} = this.ref
    await this.kube.call({verb: 'delete', resource: 'leases', name, namespace}, async () => {
      try {
        await this.kube.coordination.deleteNamespacedLease({
          name,
          namespace,
          body: {preconditions: {resourceVersion: this.#lease.metadata?.resourceVersion}},
        })
      } catch (error) {
        // 404: gone with its namespace; 409: someone took it over after we stopped renewing.
        if (!isApiStatus(error, 404) && !isApiStatus(error, 409)) throw error
      }
    })
  }
}
