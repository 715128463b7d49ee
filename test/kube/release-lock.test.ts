import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import {DeployError, ExitCode} from '../../src/lib/errors.js'
import {KubeClusterApi} from '../../src/lib/kube/kube-client.js'
import {KubeConnection} from '../../src/lib/kube/kube-connection.js'
import {
  isLockLive,
  type LockHandle,
  LeaseReleaseLock,
  lockLeaseName,
} from '../../src/lib/kube/release-lock.js'
import {FAKE_CONTEXT, FakeKubeApiServer, kubeConfigFor} from '../support/kube-api-server.js'

const NS = 'todo-app-dev'

async function refusal(promise: Promise<unknown>): Promise<DeployError> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(DeployError)
    return error as DeployError
  }
  throw new Error('expected the lock to be refused')
}

describe('LeaseReleaseLock against an API server over HTTP', () => {
  let server: FakeKubeApiServer
  let kube: KubeConnection
  const held: LockHandle[] = []
  beforeAll(async () => {
    server = await FakeKubeApiServer.start()
    kube = new KubeConnection(
      {kc: kubeConfigFor(server), context: FAKE_CONTEXT, server: server.url},
      {timeoutMs: 3000},
    )
    await new KubeClusterApi(kube).ensureNamespace(NS)
  })
  afterEach(async () => {
    for (const handle of held.splice(0)) await handle.release()
  })
  afterAll(() => server.stop())

  const acquire = async (
    lock: LeaseReleaseLock,
    release: string,
    holder: string,
    command = 'todo-deploy up',
    leaseSeconds?: number,
  ) => {
    const handle = await lock.acquire({namespace: NS, release, holder, command, leaseSeconds})
    held.push(handle)
    return handle
  }

  it('lets one holder in and refuses the second, naming holder, command and times', async () => {
    const now = new Date('2025-06-01T10:00:00.000Z')
    const lock = new LeaseReleaseLock(kube, () => now)
    await acquire(lock, 'todo', 'alice@laptop pid 100')
    const lease = server.get('leases', NS, lockLeaseName('todo'))
    expect(lease?.spec).toMatchObject({holderIdentity: 'alice@laptop pid 100', leaseDurationSeconds: 30})

    const error = await refusal(
      lock.acquire({namespace: NS, release: 'todo', holder: 'bob@desk pid 200', command: 'todo-deploy down'}),
    )
    expect(error.exitCode).toBe(ExitCode.DeployFailed)
    expect(error.message).toBe(
      'release todo is locked by `todo-deploy up` (holder alice@laptop pid 100) since 2025-06-01T10:00:00.000Z; wait for it to finish, or if that process is gone the lock expires at 2025-06-01T10:00:30.000Z',
    )
  })

  it('frees the lock on release, so the next command gets it', async () => {
    const lock = new LeaseReleaseLock(kube)
    const first = await lock.acquire({
      namespace: NS,
      release: 'freed',
      holder: 'alice pid 1',
      command: 'todo-deploy up',
    })
    await first.release()
    expect(server.get('leases', NS, lockLeaseName('freed'))).toBeUndefined()
    await acquire(lock, 'freed', 'bob pid 2', 'todo-deploy rollback')
    expect(server.get('leases', NS, lockLeaseName('freed'))?.spec).toMatchObject({
      holderIdentity: 'bob pid 2',
    })
    await first.release()
  })

  it('takes over a lease whose holder stopped renewing', async () => {
    server.seed('leases', {
      metadata: {
        name: lockLeaseName('stale'),
        namespace: NS,
        annotations: {'todo-deploy/command': 'todo-deploy up'},
      },
      spec: {
        holderIdentity: 'crashed@laptop pid 9',
        leaseDurationSeconds: 30,
        acquireTime: '2020-01-01T00:00:00.000000Z',
        renewTime: '2020-01-01T00:00:10.000000Z',
        leaseTransitions: 0,
      },
    })
    await acquire(new LeaseReleaseLock(kube), 'stale', 'alice pid 3')
    expect(server.get('leases', NS, lockLeaseName('stale'))?.spec).toMatchObject({
      holderIdentity: 'alice pid 3',
      leaseTransitions: 1,
    })
  })

  it('loses a race on the write (409 Conflict) with the same refusal as a live holder', async () => {
    const name = lockLeaseName('raced')
    server.seed('leases', {
      metadata: {name, namespace: NS},
      spec: {holderIdentity: 'old pid 1', leaseDurationSeconds: 1, renewTime: '2020-01-01T00:00:00.000000Z'},
    })
    // Between our read and our write, another process takes the expired lease over.
    server.injectFault({kind: 'delay', ms: 0}, (request) => {
      if (request.method === 'PUT' && request.path.endsWith(`/leases/${name}`)) {
        server.seed('leases', {
          metadata: {name, namespace: NS, annotations: {'todo-deploy/command': 'todo-deploy up'}},
          spec: {
            holderIdentity: 'winner pid 7',
            leaseDurationSeconds: 30,
            acquireTime: new Date().toISOString(),
            renewTime: new Date().toISOString(),
          },
        })
      }
      return false
    })
    const error = await refusal(
      new LeaseReleaseLock(kube).acquire({
        namespace: NS,
        release: 'raced',
        holder: 'loser pid 8',
        command: 'todo-deploy up',
      }),
    )
    server.clearFaults()
    expect(error.message).toContain('(holder winner pid 7)')
  })

  it('keeps renewing while held, so a lease shorter than the operation stays live', async () => {
    const lock = new LeaseReleaseLock(kube)
    await acquire(lock, 'long', 'alice pid 4', 'todo-deploy up', 1)
    const firstRenew = server.get('leases', NS, lockLeaseName('long'))?.spec as {renewTime: string}
    await new Promise((resolve) => setTimeout(resolve, 1600))
    const laterRenew = server.get('leases', NS, lockLeaseName('long'))?.spec as {renewTime: string}
    expect(new Date(laterRenew.renewTime).getTime()).toBeGreaterThan(new Date(firstRenew.renewTime).getTime())
    const error = await refusal(
      lock.acquire({namespace: NS, release: 'long', holder: 'bob pid 5', command: 'todo-deploy down'}),
    )
    expect(error.message).toContain('(holder alice pid 4)')
  })

  it('reports the lock lost when someone deletes the lease, and release() still succeeds', async () => {
    const handle = await new LeaseReleaseLock(kube).acquire({
      namespace: NS,
      release: 'deleted',
      holder: 'alice pid 6',
      command: 'todo-deploy up',
      leaseSeconds: 1,
    })
    await fetch(
      `${server.url}/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/${lockLeaseName('deleted')}`,
      {method: 'DELETE'},
    )
    await new Promise((resolve) => setTimeout(resolve, 600))
    expect(handle.lostReason).toContain('was deleted')
    await handle.release()
  })

  it('inspect: an expired Lease reads as not live, with when it lapsed; a held one as live; none as null', async () => {
    server.seed('leases', {
      metadata: {
        name: lockLeaseName('dead'),
        namespace: NS,
        annotations: {'todo-deploy/command': 'todo-deploy up'},
      },
      spec: {
        holderIdentity: 'lost-api@laptop pid 9',
        leaseDurationSeconds: 30,
        acquireTime: '2026-11-21T19:58:00.000000Z',
        renewTime: '2026-11-21T19:59:00.000000Z',
      },
    })
    const now = new Date('2026-11-21T20:02:00.000Z')
    const lock = new LeaseReleaseLock(kube, () => now)
    const dead = await lock.inspect(NS, 'dead')
    expect(dead).toEqual({
      holder: 'lost-api@laptop pid 9',
      command: 'todo-deploy up',
      acquiredAt: new Date('2026-11-21T19:58:00.000Z'),
      expiresAt: new Date('2026-11-21T19:59:30.000Z'),
    })
    expect(isLockLive(dead, now)).toBe(false)

    await acquire(lock, 'alive', 'alice pid 5')
    expect(isLockLive(await lock.inspect(NS, 'alive'), now)).toBe(true)
    expect(await lock.inspect(NS, 'never-locked')).toBeNull()
  })
})
