import {describe, expect, test} from 'vitest'

import {BadInputError, DeployError, isTodoDeployError, type TodoDeployError} from '../../src/lib/errors.js'
import {
  listRevisions,
  runRollback,
  type RollbackOptions,
  type RollbackResult,
} from '../../src/lib/lifecycle/rollback.js'
import {runUp, type UpOptions, type UpResult} from '../../src/lib/lifecycle/up.js'
import {FakeCluster, runningRelease, testSecrets, type TestProject} from '../support/fake-connection.js'
import {UP_OPTIONS as UP, tempProject, RELEASE, NAMESPACE} from '../support/lifecycle-fixtures.js'

/** A project and a cluster whose pods run whatever helm deployed last. */
function setup(): {p: TestProject; fake: FakeCluster} {
  const p = tempProject()
  const fake = new FakeCluster()
  fake.kubeletFollowsHelm(p.resolved)
  return {p, fake}
}

function up(p: TestProject, fake: FakeCluster, overrides: Partial<UpOptions> = {}): Promise<UpResult> {
  return runUp(p.resolved, fake.connection, testSecrets(), {...UP, ...overrides})
}

function rollback(
  p: TestProject,
  fake: FakeCluster,
  overrides: Partial<RollbackOptions> = {},
): Promise<RollbackResult> {
  return runRollback(p.resolved, fake.connection, {
    timeoutMs: 300_000,
    holder: 'tester@laptop pid 4242',
    renderer: 'silent',
    ...overrides,
  })
}

type FailedRollback = TodoDeployError & {result?: RollbackResult}

async function failedRollback(
  p: TestProject,
  fake: FakeCluster,
  overrides: Partial<RollbackOptions> = {},
): Promise<FailedRollback> {
  const error = await rollback(p, fake, overrides).then(
    () => undefined,
    (caught: unknown) => caught,
  )
  if (!isTodoDeployError(error))
    throw new Error(`expected rollback to fail with a TodoDeployError, got ${String(error)}`)
  return error
}

/** Three deploys: revision 1 (backend v1), 2 (backend v2), 3 (backend v3); each backend tag by revision. */
async function threeRevisions(p: TestProject, fake: FakeCluster): Promise<string[]> {
  const tags: string[] = []
  for (const version of ['v1', 'v2', 'v3']) {
    p.write('backend/app/health', `ok ${version}\n`)
    const result = await up(p, fake)
    tags.push(result.images[1]?.tag ?? '')
  }
  return tags
}

function statuses(fake: FakeCluster): [number, string][] {
  return fake.helm.revisions(RELEASE, NAMESPACE).map((revision) => [revision.revision, revision.status])
}

function expectLockFree(fake: FakeCluster): void {
  expect(fake.lock.isHeld(RELEASE, NAMESPACE)).toBe(false)
  expect(fake.lock.released).toBe(fake.lock.acquired)
}

describe('rollback: which revision', () => {
  test('after a failed upgrade (1 superseded, 2 deployed, 3 failed) it returns to 2, brings its code back, and reports state and URL', async () => {
    const {p, fake} = setup()
    p.write('backend/app/health', 'ok v1\n')
    await up(p, fake)
    p.write('backend/app/health', 'ok v2\n')
    const second = await up(p, fake)
    p.write('backend/app/health', 'ok v3\n')
    fake.helm.nextUpgrade = {kind: 'failed'}
    await up(p, fake).catch(() => undefined)
    expect(statuses(fake)).toEqual([
      [1, 'superseded'],
      [2, 'deployed'],
      [3, 'failed'],
    ])

    const result = await rollback(p, fake)

    expect(fake.helm.rollbacks).toEqual([{release: RELEASE, revision: 2, namespace: NAMESPACE}])
    expect(result).toMatchObject({
      fromRevision: 3,
      toRevision: 2,
      revision: 4,
      state: 'Healthy',
      url: 'http://192.168.49.2:30080',
    })
    expect(result.tags.backend).toBe(second.images[1]?.tag)
    expect(result.reloadedImages).toEqual([])
    expect(result.phases.map((phase) => [phase.phase, phase.state])).toEqual([
      ['preflight', 'succeeded'],
      ['load', 'skipped'],
      ['rollback', 'succeeded'],
      ['rollout', 'succeeded'],
      ['traffic', 'succeeded'],
      ['verify', 'succeeded'],
    ])
    expect(statuses(fake).at(-1)).toEqual([4, 'deployed'])
    const record = await fake.state.read(NAMESPACE, RELEASE)
    expect(record?.operation).toMatchObject({
      command: 'rollback',
      result: 'succeeded',
      state: 'Healthy',
      revision: 4,
      tags: result.tags,
    })
    expectLockFree(fake)
  })

  test('the default skips a failed previous revision (1 superseded, 2 failed, 3 deployed): back to 1, not 3-1', async () => {
    const {p, fake} = setup()
    p.write('backend/app/health', 'ok v1\n')
    const first = await up(p, fake)
    p.write('backend/app/health', 'ok v2\n')
    fake.helm.nextUpgrade = {kind: 'failed'}
    await up(p, fake).catch(() => undefined)
    p.write('backend/app/health', 'ok v3\n')
    await up(p, fake)
    expect(statuses(fake)).toEqual([
      [1, 'superseded'],
      [2, 'failed'],
      [3, 'deployed'],
    ])

    const result = await rollback(p, fake)
    expect(result.toRevision).toBe(1)
    expect(fake.helm.rollbacks.map((entry) => entry.revision)).toEqual([1])
    expect(result.tags.backend).toBe(first.images[1]?.tag)
  })

  test('a revision whose pods crashed, which up rolled back (helm says superseded), is skipped: back to the one before', async () => {
    const {p, fake} = setup()
    await threeRevisions(p, fake)
    p.write('backend/app/health', 'ok v4 crashes\n')
    fake.rollout.script.push({status: 'failed', reason: 'CrashLoopBackOff'})
    await expect(up(p, fake)).rejects.toThrow(/CrashLoopBackOff/)
    expect(statuses(fake).slice(-2)).toEqual([
      [4, 'superseded'],
      [5, 'deployed'],
    ])

    const result = await rollback(p, fake)
    expect(result).toMatchObject({fromRevision: 5, toRevision: 3, revision: 6})
  })

  test('a revision number that a failed first install used before `down` is not skipped in the new release', async () => {
    const {p, fake} = setup()
    fake.rollout.script.push({status: 'failed', reason: 'CrashLoopBackOff'})
    await expect(up(p, fake)).rejects.toThrow(/CrashLoopBackOff/)
    expect(statuses(fake)).toEqual([])
    await threeRevisions(p, fake)

    const result = await rollback(p, fake)
    expect(result).toMatchObject({fromRevision: 3, toRevision: 2})
  })

  test('a superseded revision whose description says it failed is skipped too', async () => {
    const {p, fake} = setup()
    await threeRevisions(p, fake)
    const second = fake.helm.revisions(RELEASE, NAMESPACE)[1]
    if (!second) throw new Error('no revision 2')
    second.description = 'Upgrade "todo-chatbot" failed: context deadline exceeded'
    const result = await rollback(p, fake)
    expect(result.toRevision).toBe(1)
  })

  test('an explicit revision is used as given', async () => {
    const {p, fake} = setup()
    const tags = await threeRevisions(p, fake)
    const result = await rollback(p, fake, {revision: 1})
    expect(result).toMatchObject({fromRevision: 3, toRevision: 1, revision: 4})
    expect(result.tags.backend).toBe(tags[0])
  })

  test('a revision that does not exist: exit 2 listing the history, nothing changed, no lock taken', async () => {
    const {p, fake} = setup()
    await threeRevisions(p, fake)
    const error = await failedRollback(p, fake, {revision: 9})
    expect(error).toBeInstanceOf(BadInputError)
    expect(error.exitCode).toBe(2)
    expect(error.message).toBe('release todo-chatbot has no revision 9')
    expect(error.where).toBe('REVISION 9')
    expect(error.details).toEqual([
      'revisions:',
      expect.stringMatching(/^ {2}1 {2}superseded {7}Install complete$/),
      expect.stringMatching(/^ {2}2 {2}superseded {7}Upgrade complete$/),
      expect.stringMatching(/^ {2}3 {2}deployed {9}Upgrade complete$/),
    ])
    expect(error.fix).toContain('todo-deploy rollback --list')
    expect(fake.helm.rollbacks).toEqual([])
    expect(fake.lock.acquired).toBe(3)
  })

  test('nothing deployed: exit 2 saying so', async () => {
    const {p, fake} = setup()
    const error = await failedRollback(p, fake)
    expect(error.exitCode).toBe(2)
    expect(error.message).toBe('release todo-chatbot is not deployed in todo-app-dev: nothing to roll back')
  })
})

describe('rollback: the images of the target revision', () => {
  test('an image the cluster lost but the local engine has is reloaded, then the release is rolled back', async () => {
    const {p, fake} = setup()
    const tags = await threeRevisions(p, fake)
    const ref = `todo-backend:${tags[1]}`
    fake.cluster.images.delete(ref)
    const loadsBefore = fake.cluster.loads.length

    const result = await rollback(p, fake)

    expect(result.reloadedImages).toEqual([ref])
    expect(fake.cluster.loads.slice(loadsBefore)).toEqual([ref])
    expect(await fake.cluster.imagePresent(ref)).toBe(true)
    const names = fake.log.names()
    expect(names.lastIndexOf('cluster.loadImage')).toBeLessThan(names.lastIndexOf('helm.rollback'))
    expect(result.phases.find((phase) => phase.phase === 'load')).toMatchObject({
      state: 'succeeded',
      detail: `reloaded ${ref}`,
    })
    expect(result.state).toBe('Healthy')
  })

  test('an image gone from the cluster and the engine: exit 5 naming it and how to rebuild, no helm rollback', async () => {
    const {p, fake} = setup()
    const tags = await threeRevisions(p, fake)
    const ref = `todo-backend:${tags[1]}`
    fake.cluster.images.delete(ref)
    fake.engine.images.delete(ref)

    const error = await failedRollback(p, fake)

    expect(error).toBeInstanceOf(DeployError)
    expect(error.exitCode).toBe(5)
    expect(error.message).toBe(
      `revision 2 runs ${ref}, which is neither in the cluster nor in the local Docker Engine`,
    )
    expect(error.fix).toContain('todo-deploy up --only backend')
    expect(fake.helm.rollbacks).toEqual([])
    expect(error.result?.state).toBe('Failed')
    expect((await fake.state.read(NAMESPACE, RELEASE))?.operation).toMatchObject({
      command: 'rollback',
      result: 'failed',
    })
    expectLockFree(fake)
  })

  test('a Deployment still running another tag after the rollout: exit 5 naming what runs and what should', async () => {
    const {p, fake} = setup()
    const tags = await threeRevisions(p, fake)
    // The pods stay on revision 3's code whatever helm does.
    fake.rollout.beforeWait = undefined
    fake.workloads.publish(runningRelease(p.resolved, {frontend: 'c-000000000000', backend: tags[2]}))
    const healthChecks = fake.log.count('api.serviceProxyGet')

    const error = await failedRollback(p, fake)

    expect(error.exitCode).toBe(5)
    expect(error.message).toMatch(
      /^todo-frontend runs todo-frontend:c-000000000000, not the tag c-[0-9a-f]{12} of revision 2$/,
    )
    expect(error.fix).toContain('todo-deploy rollback --list')
    expect(error.result?.phases.find((phase) => phase.phase === 'verify')?.state).toBe('failed')
    expect(fake.log.count('api.serviceProxyGet')).toBe(healthChecks)
  })
})

describe('rollback: failures', () => {
  test('the rollout after the rollback fails: exit 5 with the diagnosis in the details, the fix and the result', async () => {
    const {p, fake} = setup()
    await threeRevisions(p, fake)
    fake.rollout.script.push({status: 'failed', reason: 'CrashLoopBackOff'})
    const healthChecks = fake.log.count('api.serviceProxyGet')

    const error = await failedRollback(p, fake)

    expect(error.exitCode).toBe(5)
    expect(error.message).toBe(
      'the rollout failed: todo-backend, pod todo-backend-7d9f8b6c4-x2x7q, container backend: CrashLoopBackOff',
    )
    expect(error.details[0]).toMatch(
      /^CrashLoopBackOff: deployment todo-backend, pod todo-backend-7d9f8b6c4-x2x7q/,
    )
    expect(error.details.join('\n')).toContain('KeyError: DATABASE_URL')
    expect(error.fix).toBe(error.result?.diagnosis?.fix)
    expect(error.result).toMatchObject({
      state: 'Failed',
      toRevision: 2,
      revision: 4,
      diagnosis: {reason: 'CrashLoopBackOff'},
    })
    expect(fake.log.count('api.serviceProxyGet')).toBe(healthChecks)
    expectLockFree(fake)
  })

  test('another process holds the lock: exit 5 naming the holder, no helm rollback, the lock stays theirs', async () => {
    const {p, fake} = setup()
    await threeRevisions(p, fake)
    fake.lock.holdBy(RELEASE, NAMESPACE, 'someone@other-laptop pid 99')

    const error = await failedRollback(p, fake)

    expect(error.exitCode).toBe(5)
    expect(error.message).toContain('holder someone@other-laptop pid 99')
    expect(fake.helm.rollbacks).toEqual([])
    expect(fake.lock.holders.get(`${NAMESPACE}/${RELEASE}`)?.holder).toBe('someone@other-laptop pid 99')
  })

  test('an unhealthy answer after the rollback leaves it Running with a warning', async () => {
    const {p, fake} = setup()
    await threeRevisions(p, fake)
    fake.api.answers.set('todo-backend-service /health', 503)
    const result = await rollback(p, fake)
    expect(result.state).toBe('Running')
    expect(result.warnings).toEqual(['GET /health on todo-backend-service answered 503'])
  })
})

describe('rollback --list', () => {
  test('every revision with its status, description and the tags its values hold', async () => {
    const {p, fake} = setup()
    const tags = await threeRevisions(p, fake)
    const rows = await listRevisions(p.resolved, fake.connection)
    expect(rows.map((row) => [row.revision, row.status, row.description, row.tags.backend])).toEqual([
      [1, 'superseded', 'Install complete', tags[0]],
      [2, 'superseded', 'Upgrade complete', tags[1]],
      [3, 'deployed', 'Upgrade complete', tags[2]],
    ])
    expect(new Set(rows.map((row) => row.tags.frontend)).size).toBe(1)
    expect(rows[0]?.tags.frontend).toMatch(/^c-[0-9a-f]{12}$/)
    expect(fake.log.named('helm.getValues').map((call) => call.args[2])).toEqual([
      {revision: 1},
      {revision: 2},
      {revision: 3},
    ])
  })
})
