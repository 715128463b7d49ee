import {describe, expect, test, vi} from 'vitest'

import {
  BadInputError,
  BuildError,
  InterruptedError,
  isTodoDeployError,
  type TodoDeployError,
} from '../../src/lib/errors.js'
import {runUp, type UpOptions, type UpResult} from '../../src/lib/lifecycle/up.js'
import type {LifecycleRecord} from '../../src/lib/kube/state-record.js'
import {FakeCluster, TERMINAL_REASONS, testSecrets, type TestProject} from '../support/fake-connection.js'
import {tempProject, RELEASE, NAMESPACE, UP_OPTIONS, phaseRunning} from '../support/lifecycle-fixtures.js'

const PHASES = ['preflight', 'build', 'load', 'secret', 'deploy', 'rollout', 'traffic', 'verify']

function options(overrides: Partial<UpOptions> = {}): UpOptions {
  return {...UP_OPTIONS, ...overrides}
}

function up(p: TestProject, fake: FakeCluster, overrides: Partial<UpOptions> = {}): Promise<UpResult> {
  return runUp(p.resolved, fake.connection, testSecrets(), options(overrides))
}

type FailedUp = TodoDeployError & {result?: UpResult}

async function failedUp(
  p: TestProject,
  fake: FakeCluster,
  overrides: Partial<UpOptions> = {},
): Promise<FailedUp> {
  const error = await up(p, fake, overrides).then(
    () => undefined,
    (caught: unknown) => caught,
  )
  if (!isTodoDeployError(error))
    throw new Error(`expected up to fail with a TodoDeployError, got ${String(error)}`)
  return error
}

async function record(fake: FakeCluster): Promise<LifecycleRecord> {
  const stored = await fake.state.read(NAMESPACE, RELEASE)
  if (!stored) throw new Error('no lifecycle record was written')
  return stored
}

function phase(result: UpResult, id: string) {
  const found = result.phases.find((entry) => entry.phase === id)
  if (!found) throw new Error(`phase ${id} missing`)
  return found
}

/** The `--set-string` values of the n-th helm upgrade (0-based). */
function setStringOf(fake: FakeCluster, index: number): Record<string, string> {
  const upgrade = fake.helm.upgrades[index]
  if (!upgrade) throw new Error(`no helm upgrade #${index}`)
  return upgrade.request.setString
}

function expectLockFree(fake: FakeCluster): void {
  expect(fake.lock.isHeld(RELEASE, NAMESPACE)).toBe(false)
  expect(fake.lock.released).toBe(fake.lock.acquired)
}

describe('up: cold, unchanged and changed', () => {
  test('cold up runs every phase: builds and loads both images, applies the Secret, installs, waits, checks health, finds the URL', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    const result = await up(p, fake)

    expect(result.phases.map((entry) => [entry.phase, entry.state])).toEqual(
      PHASES.map((id) => [id, 'succeeded']),
    )
    expect(fake.engine.builds.map((build) => build.repository)).toEqual(
      expect.arrayContaining(['todo-frontend', 'todo-backend']),
    )
    expect(fake.engine.buildCount).toBe(2)
    expect(fake.cluster.loads).toEqual(result.images.map((image) => image.ref))
    expect(
      result.images.every((image) => image.built && image.loaded && /^c-[0-9a-f]{12}$/.test(image.tag)),
    ).toBe(true)
    expect(fake.secrets.secrets.get(`${NAMESPACE}/todo-app-secrets`)?.keys).toEqual([
      'DATABASE_URL',
      'JWT_SECRET',
      'GEMINI_API_KEY',
      'BETTER_AUTH_SECRET',
    ])
    expect(fake.helm.upgrades).toHaveLength(1)
    expect(result.helm).toEqual({action: 'install', revision: 1})
    expect(fake.rollout.requests).toEqual([
      expect.objectContaining({
        namespace: NAMESPACE,
        labelSelector: `app.kubernetes.io/instance=${RELEASE}`,
        deployments: ['todo-frontend', 'todo-backend'],
      }),
    ])
    expect(fake.log.named('api.serviceProxyGet').map((call) => [call.args[1], call.args[3]])).toEqual([
      ['todo-frontend-service', '/'],
      ['todo-backend-service', '/health'],
    ])
    expect(result.url).toBe('http://192.168.49.2:30080')
    expect(result.state).toBe('Healthy')

    // The revision helm stored carries the tags and the deploy digest: what the next up compares with.
    const [revision] = fake.helm.revisions(RELEASE, NAMESPACE)
    expect(revision?.status).toBe('deployed')
    const stored = revision?.config as {
      todoDeploy: {digest: string}
      frontend: {image: {tag: string}}
      backend: {image: {tag: string}}
    }
    expect(stored.todoDeploy.digest).toMatch(/^[0-9a-f]{32}$/)
    expect(stored.frontend.image.tag).toBe(result.images[0]?.tag)
    expect(stored.backend.image.tag).toBe(result.images[1]?.tag)

    const {operation} = await record(fake)
    expect(operation).toMatchObject({
      command: 'up',
      result: 'succeeded',
      state: 'Healthy',
      revision: 1,
      url: 'http://192.168.49.2:30080',
    })
    expect(operation.tags).toEqual({frontend: result.images[0]?.tag, backend: result.images[1]?.tag})
    expect(operation.phases.map((entry) => entry.phase)).toEqual(PHASES)
    for (const entry of operation.phases) {
      expect(entry.state).toBe('succeeded')
      expect(entry.durationMs).toBeGreaterThanOrEqual(0)
      expect(Date.parse(entry.endedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(entry.startedAt))
    }
    expectLockFree(fake)
  })

  test('an unchanged up builds nothing, loads nothing, makes no helm revision, and says why for each phase', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    const first = await up(p, fake)
    const again = await up(p, fake)

    expect(fake.engine.buildCount).toBe(2)
    expect(fake.cluster.loadCount).toBe(2)
    expect(fake.log.count('helm.upgradeInstall')).toBe(1)
    expect(fake.helm.revisions(RELEASE, NAMESPACE)).toHaveLength(1)
    expect(again.state).toBe('Healthy')
    expect(again.helm).toMatchObject({action: 'skipped', revision: 1})
    expect(again.images.map((image) => image.tag)).toEqual(first.images.map((image) => image.tag))

    expect(phase(again, 'build')).toMatchObject({
      state: 'skipped',
      skipReason: expect.stringContaining('already built (same content)'),
    })
    expect(phase(again, 'load')).toMatchObject({
      state: 'skipped',
      skipReason: expect.stringMatching(
        /todo-frontend:c-[0-9a-f]{12}: already in minikube profile "minikube"/,
      ),
    })
    expect(phase(again, 'secret')).toMatchObject({
      state: 'skipped',
      skipReason: 'todo-app-dev/todo-app-secrets already holds these 4 keys',
    })
    expect(phase(again, 'deploy')).toMatchObject({
      state: 'skipped',
      skipReason: 'revision 1 already has these images, values and chart',
    })
    expectLockFree(fake)
  })

  test('a change in one service rebuilds and reloads only that service; only its tag changes in the helm call', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    const first = await up(p, fake)
    p.write('backend/app/health', 'ok, version 2\n')
    const second = await up(p, fake)

    expect(fake.engine.builds.slice(2).map((build) => build.repository)).toEqual(['todo-backend'])
    expect(fake.cluster.loads.slice(2)).toEqual([second.images[1]?.ref])
    expect(second.images.map((image) => [image.service, image.built, image.loaded])).toEqual([
      ['frontend', false, false],
      ['backend', true, true],
    ])
    const before = setStringOf(fake, 0)
    const after = setStringOf(fake, 1)
    expect(after['frontend.image.tag']).toBe(before['frontend.image.tag'])
    expect(after['backend.image.tag']).not.toBe(before['backend.image.tag'])
    expect(after['backend.image.tag']).toBe(second.images[1]?.tag)
    expect(after['secrets.checksum']).toBe(before['secrets.checksum'])
    expect(second.helm).toEqual({action: 'upgrade', revision: 2})
    expect(first.images[0]?.tag).toBe(second.images[0]?.tag)
  })
})

describe('up: failures and their exit codes', () => {
  test('a failing build ends with exit 4; nothing is loaded or deployed', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    fake.engine.failingRepository = 'todo-backend'
    const error = await failedUp(p, fake)
    expect(error).toBeInstanceOf(BuildError)
    expect(error.exitCode).toBe(4)
    expect(error.message).toContain('building todo-backend:c-')
    expect(error.result?.state).toBe('Failed')
    // The frontend, built, may have gone on to its load (the pipeline); the backend never does.
    expect(fake.cluster.loads.filter((ref) => ref.startsWith('todo-backend:'))).toEqual([])
    expect(fake.helm.upgrades).toHaveLength(0)
    const {operation} = await record(fake)
    expect(operation.result).toBe('failed')
    expect(operation.phases.find((entry) => entry.phase === 'build')?.state).toBe('failed')
    expectLockFree(fake)
  })

  test('each service goes build then load on its own: the frontend loads while the backend still builds', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    fake.engine.buildMsByRepository.set('todo-backend', 400)
    fake.cluster.loadMs = 100
    const backendBuiltAtFrontendLoad: boolean[] = []
    fake.log.onCall = (name, args) => {
      if (name === 'cluster.loadImage' && String(args[0]).startsWith('todo-frontend:'))
        backendBuiltAtFrontendLoad.push(
          [...fake.engine.images.keys()].some((ref) => ref.startsWith('todo-backend:')),
        )
    }
    const result = await up(p, fake)

    expect(backendBuiltAtFrontendLoad).toEqual([false])
    expect(result.images.map((image) => [image.built, image.loaded])).toEqual([
      [true, true],
      [true, true],
    ])
    const build = phase(result, 'build')
    const load = phase(result, 'load')
    expect([build.state, load.state]).toEqual(['succeeded', 'succeeded'])
    // Both recorded, overlapping: the load began before the last build ended.
    expect(Date.parse(load.startedAt)).toBeLessThan(Date.parse(build.endedAt!))
    const names = fake.log.names()
    expect(names.indexOf('helm.upgradeInstall')).toBeGreaterThan(names.lastIndexOf('cluster.loadImage'))
  })

  test('the build contexts are hashed while the cluster is still being asked', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    const tag = fake.connection.tagger.tag.bind(fake.connection.tagger)
    let tagged = 0
    let bothTagged: () => void = () => {}
    const hashed = new Promise<void>((resolve) => (bothTagged = resolve))
    vi.spyOn(fake.connection.tagger, 'tag').mockImplementation(async (input) => {
      const result = await tag(input)
      if (++tagged === 2) bothTagged()
      return result
    })
    // The cluster answers once both contexts are hashed, or after 2 s if hashing waits for it.
    const ensureRunning = fake.cluster.ensureRunning.bind(fake.cluster)
    let taggedWhenClusterAnswered = -1
    fake.cluster.ensureRunning = async () => {
      await Promise.race([hashed, new Promise((resolve) => setTimeout(resolve, 2000))])
      taggedWhenClusterAnswered = tagged
      return ensureRunning()
    }
    const result = await up(p, fake)
    expect(taggedWhenClusterAnswered).toBe(2)
    expect(result.state).toBe('Healthy')
  })

  test('the chart is rendered and checked while the images build, not after them', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    fake.engine.buildMs = 500
    const loadsAtTemplate: number[] = []
    fake.log.onCall = (name) => {
      if (name === 'helm.template') loadsAtTemplate.push(fake.cluster.loads.length)
    }
    const result = await up(p, fake)

    expect(loadsAtTemplate).toEqual([0])
    expect(fake.helm.templates).toHaveLength(1)
    expect(result.state).toBe('Healthy')
    const names = fake.log.names()
    expect(names.indexOf('helm.upgradeInstall')).toBeGreaterThan(names.lastIndexOf('cluster.loadImage'))
  })

  test('the rollout watch is established while helm still works, and judged once it returned', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    fake.helm.upgradeMs = 200
    const helmAtWatch: (string | undefined)[] = []
    fake.log.onCall = (name) => {
      if (name === 'rollout.wait') helmAtWatch.push(fake.helm.revisions(RELEASE, NAMESPACE).at(-1)?.status)
      if (name === 'rollout.judge') helmAtWatch.push(fake.helm.revisions(RELEASE, NAMESPACE).at(-1)?.status)
    }
    const result = await up(p, fake)
    expect(helmAtWatch).toEqual(['pending-install', 'deployed'])
    expect(fake.rollout.requests).toHaveLength(1)
    expect(fake.rollout.watching).toBe(0)
    expect(result.state).toBe('Healthy')
    expect(phase(result, 'rollout').detail).toContain('1/1 ready')
  })

  test('an up stopped while helm works ends the watch it started: none is left behind', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    const controller = new AbortController()
    fake.helm.nextUpgrade = {kind: 'hang'}
    fake.log.onCall = (name) => {
      if (name === 'rollout.wait') setTimeout(() => controller.abort(), 10)
    }
    const error = await failedUp(p, fake, {signal: controller.signal})
    expect(error).toBeInstanceOf(InterruptedError)
    expect(fake.rollout.requests).toHaveLength(1)
    expect(fake.log.names()).not.toContain('rollout.judge')
    expect(fake.rollout.watching).toBe(0)
  })

  test('a failing image load ends with the load error and its exit code (5)', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    fake.cluster.failingLoadRepository = 'todo-frontend'
    const error = await failedUp(p, fake)
    expect(error.exitCode).toBe(5)
    expect(error.message).toMatch(
      /^minikube could not load todo-frontend:c-[0-9a-f]{12} into minikube profile "minikube"$/,
    )
    expect(error.fix).toContain('docker image inspect')
    expect(error.result?.phases.find((entry) => entry.phase === 'load')?.state).toBe('failed')
    expect(fake.helm.upgrades).toHaveLength(0)
    expectLockFree(fake)
  })

  test('a first install helm refuses ends with exit 5, waits for no rollout, and is uninstalled', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    fake.helm.nextUpgrade = {kind: 'failed'}
    const error = await failedUp(p, fake)
    expect(error.exitCode).toBe(5)
    expect(error.message).toContain('helm upgrade --install failed')
    // The rollout watch started with helm; helm's failure ended it before anything was judged.
    expect(fake.rollout.requests).toHaveLength(1)
    expect(fake.log.names()).not.toContain('rollout.judge')
    expect(fake.rollout.watching).toBe(0)
    expect(fake.helm.uninstalls).toEqual([{release: RELEASE, namespace: NAMESPACE}])
    expect(fake.helm.revisions(RELEASE, NAMESPACE)).toEqual([])
    expect(error.details.at(-1)).toMatch(/^the first install failed, so release todo-chatbot was uninstalled/)
    // The namespace and the Secret the CLI created stay.
    expect(fake.api.namespaces.has(NAMESPACE)).toBe(true)
    expect(fake.secrets.secrets.size).toBe(1)
    expectLockFree(fake)
  })

  test('with --no-rollback a refused first install stays for inspection, and says what to do', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    fake.helm.nextUpgrade = {kind: 'failed'}
    const error = await failedUp(p, fake, {rollbackOnFailure: false})
    expect(fake.helm.uninstalls).toEqual([])
    expect(fake.helm.revisions(RELEASE, NAMESPACE).map((revision) => revision.status)).toEqual(['failed'])
    expect(error.details.at(-1)).toContain('--no-rollback: the failed first install of release')
    expect(error.details.at(-1)).toContain('`todo-deploy status`')
  })

  test('a refused upgrade of a release that once worked is not uninstalled', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    await up(p, fake)
    p.write('backend/app/health', 'changed\n')
    fake.helm.nextUpgrade = {kind: 'failed'}
    await failedUp(p, fake)
    expect(fake.helm.uninstalls).toEqual([])
    expect(fake.helm.revisions(RELEASE, NAMESPACE).map((revision) => revision.status)).toEqual([
      'deployed',
      'failed',
    ])
  })

  test.each(TERMINAL_REASONS)(
    'a rollout failing with %s ends the wait with its diagnosis (details and JSON), exit 5',
    async (reason) => {
      const p = tempProject()
      const fake = new FakeCluster()
      fake.rollout.script.push({status: 'failed', reason})
      const error = await failedUp(p, fake)
      expect(error.exitCode).toBe(5)
      expect(error.message).toBe(
        `the rollout failed: todo-backend, pod todo-backend-7d9f8b6c4-x2x7q${reason === 'Unschedulable' ? '' : ', container backend'}: ${reason}`,
      )
      expect(error.details[0]).toMatch(
        new RegExp(`^${reason}: deployment todo-backend, pod todo-backend-7d9f8b6c4-x2x7q`),
      )
      // A first install with nothing to roll back to is uninstalled once the diagnosis is taken.
      expect(error.details.at(-1)).toMatch(
        /^the first install failed, so release todo-chatbot was uninstalled/,
      )
      expect(fake.log.names().filter((name) => ['rollout.wait', 'helm.uninstall'].includes(name))).toEqual([
        'rollout.wait',
        'helm.uninstall',
      ])
      expect(fake.helm.revisions(RELEASE, NAMESPACE)).toEqual([])
      expect(error.fix).toBe(error.result?.diagnosis?.fix)
      expect(error.fix?.length).toBeGreaterThan(20)
      const json = JSON.parse(JSON.stringify(error.result)) as UpResult
      expect(json.diagnosis).toMatchObject({reason, deployment: 'todo-backend', namespace: NAMESPACE})
      expect(json.state).toBe('Failed')
      expect(fake.log.count('api.serviceProxyGet')).toBe(0)
      expectLockFree(fake)
    },
  )

  test('a rollout that times out says how long it waited and why, exit 5', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    fake.rollout.script.push({status: 'timed-out'})
    const error = await failedUp(p, fake, {timeoutMs: 90_000})
    expect(error.exitCode).toBe(5)
    expect(error.message).toBe(
      'the rollout did not finish within 90s: todo-backend, pod todo-backend-7d9f8b6c4-x2x7q, container backend: ReadinessProbeFailing',
    )
    expect(error.fix).toContain('readiness probe keeps failing')
    expect(fake.rollout.requests[0]?.timeoutMs).toBe(90_000)
  })

  test('a failed rollout is rolled back to the last deployed revision and waited for; exit 5 names both', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    await up(p, fake)
    p.write('backend/app/health', 'broken\n')
    fake.rollout.script.push({status: 'failed', reason: 'CrashLoopBackOff'}, {status: 'rolled-out'})
    const error = await failedUp(p, fake)

    expect(fake.helm.rollbacks).toEqual([{release: RELEASE, revision: 1, namespace: NAMESPACE}])
    expect(fake.rollout.requests).toHaveLength(3)
    expect(error.exitCode).toBe(5)
    expect(error.message).toContain('CrashLoopBackOff')
    expect(error.details).toContain('rolled back to revision 1: the previous version is running again')
    expect(error.result?.rollback).toEqual({revision: 1, result: 'rolled-back'})
    // helm's history: the failed revision 2 superseded by revision 3, a copy of revision 1.
    const history = fake.helm.revisions(RELEASE, NAMESPACE)
    expect(history.map((revision) => [revision.revision, revision.status])).toEqual([
      [1, 'superseded'],
      [2, 'superseded'],
      [3, 'deployed'],
    ])
    expect(history[2]?.config).toEqual(history[0]?.config)
    expectLockFree(fake)
  })

  test('--no-rollback leaves the failed revision in place', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    await up(p, fake)
    p.write('backend/app/health', 'broken\n')
    fake.rollout.script.push({status: 'failed', reason: 'OOMKilled'})
    const error = await failedUp(p, fake, {rollbackOnFailure: false})
    expect(error.exitCode).toBe(5)
    expect(fake.helm.rollbacks).toHaveLength(0)
    expect(error.details).toContain('--no-rollback: the failed revision stays in place')
    expect(error.details).toContain('  Memory limit: 512Mi')
    expect(fake.helm.revisions(RELEASE, NAMESPACE).at(-1)).toMatchObject({revision: 2, status: 'deployed'})
  })

  test('another process holding the lock: exit 5 at once, nothing built, the lock stays theirs', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    fake.lock.holdBy(RELEASE, NAMESPACE, 'someone@other-laptop pid 99')
    const error = await failedUp(p, fake)
    expect(error.exitCode).toBe(5)
    expect(error.message).toContain('is locked by `todo-deploy up` (holder someone@other-laptop pid 99)')
    expect(fake.engine.buildCount).toBe(0)
    expect(fake.log.count('engine.hasImage')).toBe(0)
    expect(fake.helm.upgrades).toHaveLength(0)
    expect(fake.lock.holders.get(`${NAMESPACE}/${RELEASE}`)?.holder).toBe('someone@other-laptop pid 99')
  })
})

describe('up: flags', () => {
  test('--dry-run changes nothing (no build, load, Secret, helm upgrade, lock) and returns the plan and manifests', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    const result = await up(p, fake, {dryRun: true})

    expect(fake.engine.buildCount).toBe(0)
    expect(fake.cluster.loadCount).toBe(0)
    expect(fake.secrets.applyCount).toBe(0)
    expect(fake.helm.upgrades).toHaveLength(0)
    expect(fake.log.count('lock.acquire')).toBe(0)
    expect(fake.log.count('api.ensureNamespace')).toBe(0)
    expect(fake.state.writes).toBe(0)
    expect(result.dryRun).toBe(true)
    // The plan says what a real up would do, and why: both images new, each loaded, a first install.
    expect(result.plan?.services.map((service) => [service.service, service.build, service.load])).toEqual(
      result.images.map((image) => [
        image.service,
        {action: 'build', reason: `the engine has no ${image.ref}: the ${image.service} source changed`},
        {action: 'load', reason: 'sent to minikube profile "minikube" unless it already has it'},
      ]),
    )
    expect(result.plan?.helm).toEqual({
      action: 'install',
      reason: `release ${RELEASE} is not installed in ${NAMESPACE}`,
    })
    expect(result.plan?.values.setString['todoDeploy.digest']).toBe(result.plan?.values.digest)
    expect(result.phases.map((entry) => [entry.phase, entry.state])).toEqual([
      ['preflight', 'succeeded'],
      ['render', 'succeeded'],
    ])
    expect(phase(result, 'render').detail).toBe(
      `Helm would install: release ${RELEASE} is not installed in ${NAMESPACE}`,
    )
    expect(result.manifests).toContain('kind: Deployment')
    expect(result.manifests).toContain(`image: "${result.images[1]?.ref}"`)
  })

  test('the digest a --dry-run plans is the one the following up deploys, and a dry run after it plans no Helm change', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    const planned = await up(p, fake, {dryRun: true})
    await up(p, fake)
    expect(setStringOf(fake, 0)).toEqual(planned.plan?.values.setString)
    const again = await up(p, fake, {dryRun: true})
    expect(again.plan?.helm).toEqual({
      action: 'skip',
      revision: 1,
      reason: 'revision 1 already has these images, values and chart',
    })
    expect(again.plan?.services.map((service) => service.build.action)).toEqual(['skip', 'skip'])
    expect(fake.helm.upgrades).toHaveLength(1)
  })

  test('--only backend builds and loads the backend; the frontend keeps the tag it runs with', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    const first = await up(p, fake)
    p.write('frontend/app/index.html', '<h1>todo v2</h1>\n')
    p.write('backend/app/health', 'ok v2\n')
    const second = await up(p, fake, {only: ['backend']})

    expect(fake.engine.builds.slice(2).map((build) => build.repository)).toEqual(['todo-backend'])
    expect(fake.cluster.loads.slice(2)).toEqual([second.images[1]?.ref])
    expect(second.images[0]).toMatchObject({
      ref: first.images[0]?.ref,
      built: false,
      buildSkipReason: `not in --only: keeps the deployed ${first.images[0]?.ref}`,
    })
    expect(setStringOf(fake, 1)['frontend.image.tag']).toBe(first.images[0]?.tag)
    expect(setStringOf(fake, 1)['backend.image.tag']).not.toBe(first.images[1]?.tag)
  })

  test('--only backend on a first install also builds and loads the frontend, which has no image in the cluster yet', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    const result = await up(p, fake, {only: ['backend']})
    expect(fake.engine.buildCount).toBe(2)
    expect(fake.cluster.loads).toEqual(result.images.map((image) => image.ref))
    expect(result.warnings).toContain(
      '--only: frontend has no deployed image yet, so it is built and loaded too',
    )
  })

  test('--no-build with an image the engine does not have: exit 2 naming the image', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    const error = await failedUp(p, fake, {build: false})
    expect(error).toBeInstanceOf(BadInputError)
    expect(error.exitCode).toBe(2)
    expect(error.message).toMatch(
      /^--no-build: the engine has no image todo-(frontend|backend):c-[0-9a-f]{12} for the current (frontend|backend) source$/,
    )
    expect(fake.engine.buildCount).toBe(0)
    expect(fake.helm.upgrades).toHaveLength(0)
    expectLockFree(fake)
  })

  test('--no-build deploys the images the engine already has', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    await up(p, fake)
    p.write(
      'todo-deploy.yaml',
      `${'services:\n  frontend:\n    build: {context: frontend, dockerfile: frontend/Dockerfile}\n    replicas: 1\n  backend:\n    build: {context: backend, dockerfile: backend/Dockerfile}\n'}`,
    )
    const result = await up(p, fake, {build: false})
    expect(fake.engine.buildCount).toBe(2)
    expect(result.helm).toEqual({action: 'upgrade', revision: 2})
  })

  test('a release left pending-upgrade: exit 5 with the --force fix, nothing built', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    fake.helm.seed(RELEASE, NAMESPACE, 'deployed')
    fake.helm.seed(RELEASE, NAMESPACE, 'pending-upgrade')
    const error = await failedUp(p, fake)
    expect(error.exitCode).toBe(5)
    expect(error.message).toBe(
      'release "todo-chatbot" is locked: another helm operation (install/upgrade/rollback) is in progress',
    )
    expect(error.fix).toContain('todo-deploy up --force')
    expect(fake.engine.buildCount).toBe(0)
    expect(fake.helm.upgrades).toHaveLength(0)
  })

  test('--force rolls a pending-upgrade release back to its last deployed revision, then deploys', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    fake.helm.seed(RELEASE, NAMESPACE, 'deployed')
    fake.helm.seed(RELEASE, NAMESPACE, 'pending-upgrade')
    const result = await up(p, fake, {force: true})
    expect(fake.helm.rollbacks).toEqual([{release: RELEASE, revision: 1, namespace: NAMESPACE}])
    expect(
      fake.log.names().filter((name) => name === 'helm.rollback' || name === 'helm.upgradeInstall'),
    ).toEqual(['helm.rollback', 'helm.upgradeInstall'])
    expect(result.helm).toEqual({action: 'upgrade', revision: 4})
    expect(result.state).toBe('Healthy')
  })

  test('--force uninstalls a first install that never finished, then installs', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    fake.helm.seed(RELEASE, NAMESPACE, 'pending-install')
    const result = await up(p, fake, {force: true})
    expect(fake.helm.uninstalls).toEqual([{release: RELEASE, namespace: NAMESPACE}])
    expect(fake.helm.rollbacks).toHaveLength(0)
    expect(result.helm).toEqual({action: 'install', revision: 1})
    expect(fake.helm.revisions(RELEASE, NAMESPACE).map((revision) => revision.status)).toEqual(['deployed'])
  })
})

/**
 * Where Ctrl-C lands in each phase: the call during which the signal aborts, and what is slow there.
 * With `sees`, the abort comes while that call is running (10 ms in, or once the phase runs with
 * `phaseRuns`), and the double must hear it.
 */
const INTERRUPTS: {
  phase: string
  during: string
  slow: (fake: FakeCluster) => void
  sees?: (fake: FakeCluster) => string[]
  phaseRuns?: boolean
}[] = [
  {phase: 'preflight', during: 'lock.acquire', slow: () => {}},
  {
    phase: 'build',
    during: 'engine.build',
    slow: (fake) => (fake.engine.buildMs = 30_000),
    sees: (fake) => fake.engine.sawAbort,
  },
  {
    phase: 'load',
    during: 'cluster.loadImage',
    slow: (fake) => (fake.cluster.loadMs = 30_000),
    sees: (fake) => fake.cluster.sawAbort,
  },
  {phase: 'secret', during: 'secrets.applySecret', slow: () => {}},
  {
    phase: 'deploy',
    during: 'helm.upgradeInstall',
    slow: (fake) => (fake.helm.nextUpgrade = {kind: 'hang'}),
    sees: (fake) => fake.helm.sawAbort,
  },
  {
    phase: 'rollout',
    // The watch starts with helm, in the deploy phase: Ctrl-C once the rollout phase waits on it.
    during: 'rollout.judge',
    phaseRuns: true,
    slow: (fake) => fake.rollout.script.push({status: 'hang'}),
    sees: (fake) => fake.rollout.sawAbort,
  },
  {phase: 'verify', during: 'api.serviceProxyGet', slow: () => {}},
]

describe('up: Ctrl-C', () => {
  test.each(INTERRUPTS)(
    'Ctrl-C during $phase: exit 130, lock released, phase recorded as interrupted; the next up completes',
    async ({phase: id, during, slow, sees, phaseRuns}) => {
      const p = tempProject()
      const fake = new FakeCluster()
      const controller = new AbortController()
      slow(fake)
      fake.log.onCall = (name) => {
        if (name !== during || controller.signal.aborted) return
        if (phaseRuns) void phaseRunning(fake, id).then(() => controller.abort())
        else if (sees) setTimeout(() => controller.abort(), 10)
        else controller.abort()
      }
      const error = await failedUp(p, fake, {signal: controller.signal})

      expect(error).toBeInstanceOf(InterruptedError)
      expect(error.exitCode).toBe(130)
      expect(error.message).toBe(`interrupted during ${id}`)
      expectLockFree(fake)
      const {operation} = await record(fake)
      expect(operation.result).toBe('interrupted')
      expect(operation.interruptedPhase).toBe(id)
      expect(operation.phases.find((entry) => entry.phase === id)?.state).toBe('interrupted')
      expect(error.result?.phases.find((entry) => entry.phase === id)?.state).toBe('interrupted')
      if (sees) expect(sees(fake).length).toBeGreaterThan(0)

      fake.log.onCall = undefined
      fake.engine.buildMs = 0
      fake.cluster.loadMs = 0
      const next = await up(p, fake)
      expect(next.state).toBe('Healthy')
      expect((await record(fake)).operation.result).toBe('succeeded')
      expectLockFree(fake)
    },
  )

  test('a helm killed mid-upgrade leaves the release pending: the next up asks for --force, and --force completes', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    const controller = new AbortController()
    fake.helm.interruptedUpgradeLeaves = 'pending'
    fake.helm.nextUpgrade = {kind: 'hang'}
    fake.log.onCall = (name) => {
      if (name === 'helm.upgradeInstall') setTimeout(() => controller.abort(), 10)
    }
    await failedUp(p, fake, {signal: controller.signal})
    fake.log.onCall = undefined
    expect(fake.helm.revisions(RELEASE, NAMESPACE).map((revision) => revision.status)).toEqual([
      'pending-install',
    ])

    const refused = await failedUp(p, fake)
    expect(refused.fix).toContain('--force')
    const forced = await up(p, fake, {force: true})
    expect(fake.helm.uninstalls).toHaveLength(1)
    expect(forced.state).toBe('Healthy')
  })
})

describe('up: secret values stay out of everything recorded', () => {
  test('helm args, the generated values file, the state record, the result JSON and every recorded call hold no secret value', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    const result = await up(p, fake)
    p.write('backend/app/health', 'v2\n')
    fake.rollout.script.push({status: 'failed', reason: 'CreateContainerConfigError'})
    const failed = await failedUp(p, fake)
    const dryRun = await up(p, fake, {dryRun: true})

    const recorded = [
      JSON.stringify(fake.helm.upgrades),
      JSON.stringify(fake.helm.templates),
      JSON.stringify([...fake.helm.releases.values()]),
      [...fake.state.texts.values()].join('\n'),
      JSON.stringify(result),
      JSON.stringify(failed.result),
      JSON.stringify(dryRun),
      JSON.stringify(fake.log.calls),
      failed.message,
      failed.details.join('\n'),
    ].join('\n')
    expect(recorded).not.toContain('test-secret-value')
    // The values file up generates names the Secret, and no value of it.
    const generated = fake.helm.upgrades[0]?.valuesFileTexts[0] ?? ''
    expect(generated).toContain('existingSecret: todo-app-secrets')
    expect(generated).toContain('JWT_SECRET')
    // The only trace of the values is the checksum helm gets, which changes when a value does.
    expect(setStringOf(fake, 0)['secrets.checksum']).toMatch(/^[0-9a-f]{64}$/)
  })
})
