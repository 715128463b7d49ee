import {describe, expect, test} from 'vitest'

import {isTodoDeployError, type TodoDeployError} from '../../src/lib/errors.js'
import {runDown, type DownOptions, type DownResult} from '../../src/lib/lifecycle/down.js'
import {runUp} from '../../src/lib/lifecycle/up.js'
import {FakeCluster, podObject, testSecrets, type TestProject} from '../support/fake-connection.js'
import {UP_OPTIONS as UP, tempProject, RELEASE, NAMESPACE} from '../support/lifecycle-fixtures.js'

/** A project deployed once on a fresh cluster whose pods run what helm deployed. */
async function deployed(): Promise<{p: TestProject; fake: FakeCluster}> {
  const p = tempProject()
  const fake = new FakeCluster()
  fake.kubeletFollowsHelm(p.resolved)
  await runUp(p.resolved, fake.connection, testSecrets(), UP)
  return {p, fake}
}

function down(p: TestProject, fake: FakeCluster, overrides: Partial<DownOptions> = {}): Promise<DownResult> {
  return runDown(p.resolved, fake.connection, {
    purge: false,
    keep: 0,
    timeoutMs: 120_000,
    holder: 'tester@laptop pid 4242',
    renderer: 'silent',
    ...overrides,
  })
}

/** The pods terminate a moment after `helm uninstall`: the watch sees them go one by one. */
function podsGoAfterUninstall(fake: FakeCluster): void {
  fake.log.onCall = (name) => {
    if (name !== 'workloads.watch') return
    setTimeout(() => fake.workloads.publish({pods: fake.workloads.current.pods.slice(1)}), 5)
    setTimeout(() => fake.workloads.publish({deployments: [], pods: [], services: []}), 10)
  }
}

function expectLockFree(fake: FakeCluster): void {
  expect(fake.lock.isHeld(RELEASE, NAMESPACE)).toBe(false)
  expect(fake.lock.released).toBe(fake.lock.acquired)
}

/** Local images of one repository with the given ages (minutes before now), newest last. */
function seedImages(fake: FakeCluster, repository: string, ages: number[]): string[] {
  return ages.map((age, index) => {
    const ref = `${repository}:c-${String(index).padStart(12, '0')}`
    fake.engine.images.set(ref, {
      id: `sha256:${repository}-${index}`,
      sizeBytes: 1,
      createdAt: new Date(Date.now() - age * 60_000),
    })
    fake.cluster.images.set(ref, `sha256:${repository}-${index}`)
    return ref
  })
}

describe('down', () => {
  test('--yes: uninstalls, then waits until the watch shows every pod gone; the Secret, namespace and images stay', async () => {
    const {p, fake} = await deployed()
    expect(fake.workloads.current.pods).toHaveLength(2)
    podsGoAfterUninstall(fake)

    const result = await down(p, fake)

    expect(result).toMatchObject({uninstalled: true, state: 'Removed', purged: null})
    expect(fake.helm.uninstalls).toEqual([{release: RELEASE, namespace: NAMESPACE}])
    expect(fake.workloads.current.pods).toEqual([])
    expect(result.phases.map((phase) => [phase.phase, phase.state])).toEqual([
      ['preflight', 'succeeded'],
      ['uninstall', 'succeeded'],
      ['pods', 'succeeded'],
      ['purge', 'skipped'],
    ])
    // The uninstall came first, then the wait for the pods.
    const names = fake.log.names()
    expect(names.indexOf('helm.uninstall')).toBeLessThan(names.lastIndexOf('workloads.watch'))
    expect(result.phases.find((phase) => phase.phase === 'pods')?.detail).toBe('all gone')
    expect(fake.secrets.secrets.size).toBe(1)
    expect(fake.engine.images.size).toBeGreaterThan(0)
    expect((await fake.state.read(NAMESPACE, RELEASE))?.operation).toMatchObject({
      command: 'down',
      result: 'succeeded',
      state: 'Removed',
    })
    expectLockFree(fake)
  })

  test('twice: the second run finds nothing, says so, touches nothing and succeeds', async () => {
    const {p, fake} = await deployed()
    podsGoAfterUninstall(fake)
    await down(p, fake)
    const lockBefore = fake.lock.acquired

    const again = await down(p, fake)

    expect(again).toMatchObject({uninstalled: false, state: 'NotDeployed'})
    expect(again.phases.find((phase) => phase.phase === 'preflight')).toMatchObject({
      state: 'skipped',
      skipReason: 'release todo-chatbot is not deployed in todo-app-dev',
    })
    expect(fake.helm.uninstalls).toHaveLength(1)
    expect(fake.lock.acquired).toBe(lockBefore)
  })

  test('pods that never go: exit 5 after the timeout, naming the wait and the fix', async () => {
    const {p, fake} = await deployed()
    const error = await down(p, fake, {timeoutMs: 1000}).then(
      () => undefined,
      (caught: unknown) => caught,
    )
    if (!isTodoDeployError(error)) throw new Error(`expected a TodoDeployError, got ${String(error)}`)
    const failed = error as TodoDeployError & {result?: DownResult}
    expect(failed.exitCode).toBe(5)
    expect(failed.message).toBe("the release's pods were still terminating after 1s")
    expect(failed.fix).toContain('kubectl delete pod --force')
    expect(failed.result?.phases.find((phase) => phase.phase === 'pods')?.state).toBe('failed')
    expect(fake.helm.uninstalls).toHaveLength(1)
    expectLockFree(fake)
  })
})

describe('down --purge', () => {
  test('removes the Secret, the state record, the namespace todo-deploy created once it is empty, and all but the newest --keep images', async () => {
    const {p, fake} = await deployed()
    podsGoAfterUninstall(fake)
    for (const ref of [...fake.engine.images.keys()]) fake.engine.images.delete(ref)
    fake.cluster.images.clear()
    const frontend = seedImages(fake, 'todo-frontend', [30, 10, 20])
    const backend = seedImages(fake, 'todo-backend', [5, 50])
    expect(await fake.api.namespaceCreatedByUs(NAMESPACE)).toBe(true)

    const result = await down(p, fake, {purge: true, keep: 1})

    expect(result.purged).toMatchObject({secret: true, stateRecord: true, namespace: true})
    expect(result.purged?.namespaceKept).toBeUndefined()
    expect(fake.secrets.secrets.size).toBe(0)
    expect(await fake.state.read(NAMESPACE, RELEASE)).toBeNull()
    expect(fake.api.namespaces.has(NAMESPACE)).toBe(false)
    // Newest kept: frontend index 1 (10 min old), backend index 0 (5 min old).
    expect(result.purged?.localImages.sort()).toEqual([frontend[0], frontend[2], backend[1]].sort())
    expect(result.purged?.clusterImages.sort()).toEqual([frontend[0], frontend[2], backend[1]].sort())
    expect([...fake.engine.images.keys()].sort()).toEqual([backend[0], frontend[1]].sort())
    expect([...fake.cluster.images.keys()].sort()).toEqual([backend[0], frontend[1]].sort())
    expectLockFree(fake)
  })

  test('with no release left, waits for the pods of one uninstalled a moment ago, then removes the namespace', async () => {
    // A failed first install: up uninstalled the release, its pods are still terminating.
    const {p, fake} = await deployed()
    await fake.helm.uninstall(RELEASE, NAMESPACE)
    fake.api.pods = [...fake.workloads.current.pods]
    fake.log.onCall = (name) => {
      if (name !== 'workloads.watch') return
      setTimeout(() => {
        fake.api.pods = []
        fake.workloads.publish({deployments: [], pods: [], services: []})
      }, 10)
    }

    const result = await down(p, fake, {purge: true})

    expect(result.purged).toMatchObject({namespace: true})
    expect(result.purged?.namespaceKept).toBeUndefined()
    expect(fake.api.namespaces.has(NAMESPACE)).toBe(false)
    expect(result.phases.find((phase) => phase.phase === 'pods')?.state).toBe('succeeded')
  })

  test('keeps a namespace that other objects live in, and says which', async () => {
    const {p, fake} = await deployed()
    podsGoAfterUninstall(fake)
    fake.api.pods = [
      podObject({
        name: 'postgres-0',
        deployment: 'postgres',
        container: 'db',
        image: 'postgres:16',
        release: 'other',
      }),
    ]

    const result = await down(p, fake, {purge: true})

    expect(result.purged).toMatchObject({
      namespace: false,
      namespaceKept: 'other objects live there (pods: postgres-0)',
      secret: true,
    })
    expect(fake.api.namespaces.has(NAMESPACE)).toBe(true)
    expect(fake.log.count('api.deleteNamespace')).toBe(0)
    expect(result.phases.find((phase) => phase.phase === 'purge')?.detail).toContain(
      'namespace kept (other objects live there (pods: postgres-0))',
    )
  })

  test('keeps a namespace todo-deploy did not create, and says so; --keep 0 removes every image', async () => {
    const {p, fake} = await deployed()
    podsGoAfterUninstall(fake)
    fake.api.namespaces.set(NAMESPACE, {ours: false})

    const result = await down(p, fake, {purge: true})

    expect(result.purged).toMatchObject({namespace: false, namespaceKept: 'todo-deploy did not create it'})
    expect(fake.api.namespaces.has(NAMESPACE)).toBe(true)
    expect(fake.engine.images.size).toBe(0)
    expect(fake.cluster.images.size).toBe(0)
    expect(result.purged?.localImages).toHaveLength(4)
  })
})
