import {writeFileSync} from 'node:fs'
import path from 'node:path'

import {describe, expect, test, vi} from 'vitest'

import {renderDevLoopEvent} from '../../src/cli/dev-view.js'
import {LogView} from '../../src/cli/log-view.js'
import {loadConfig} from '../../src/lib/config/load.js'
import type {AppForward, AppReach} from '../../src/lib/kube/app-reach.js'
import type {ChangeSet} from '../../src/lib/dev/change-set.js'
import {
  DevLoop,
  type DevLoopEvent,
  type DevLoopOptions,
  type StartWatcher,
} from '../../src/lib/dev/dev-loop.js'
import {SourceWatcher} from '../../src/lib/dev/source-watcher.js'
import {isTodoDeployError} from '../../src/lib/errors.js'
import {runUp} from '../../src/lib/lifecycle/up.js'
import {FakeCluster, HOLDER, testSecrets, type TestProject} from '../support/fake-connection.js'
import {NAMESPACE, RELEASE, tempProject, UP_OPTIONS} from '../support/lifecycle-fixtures.js'
import {BUSYBOX_DOCKERFILE} from '../support/test-project.js'

type Finished = Extract<DevLoopEvent, {type: 'iteration-finished' | 'iteration-failed'}>

function changed(service: 'frontend' | 'backend', paths = ['app/index.html']): ChangeSet {
  return {
    services: [{service, files: paths.length, paths}],
    config: false,
    chart: false,
    env: false,
    manual: false,
  }
}

const CONFIG_CHANGED: ChangeSet = {services: [], config: true, chart: false, env: false, manual: false}

/** The test project's todo-deploy.yaml, with lines added under each service and at the top level. */
function configText(
  options: {frontendContext?: string; frontend?: string[]; backend?: string[]; top?: string[]} = {},
): string {
  const context = options.frontendContext ?? 'frontend'
  const backend = options.backend ?? ['build: {context: backend, dockerfile: backend/Dockerfile}']
  return [
    'services:',
    '  frontend:',
    `    build: {context: ${context}, dockerfile: ${context}/Dockerfile}`,
    ...(options.frontend ?? []).map((line) => `    ${line}`),
    '  backend:',
    ...backend.map((line) => `    ${line}`),
    ...(options.top ?? []),
  ].join('\n')
}

/** The cluster's URL answers from here unless a test says otherwise; a forward is a fake local URL. */
function fakeReach(answers = true): AppReach & {forwards: string[]; refreshes: number} {
  const reach = {
    forwards: [] as string[],
    refreshes: 0,
    answers: vi.fn(async () => answers),
    forward: async (_namespace: string, service: string): Promise<AppForward> => {
      reach.forwards.push(service)
      return {
        url: 'http://127.0.0.1:40123',
        refresh: () => {
          reach.refreshes++
        },
        close: async () => {},
      }
    },
  }
  return reach
}

/** A running dev over the fakes, with the watcher replaced by `change()`. */
async function startDev(
  p: TestProject,
  fake: FakeCluster,
  options: {reach?: AppReach; loop?: Partial<DevLoopOptions>; watch?: StartWatcher} = {},
) {
  fake.kubeletFollowsHelm(p.resolved)
  const events: DevLoopEvent[] = []
  let onChange: ((changes: ChangeSet) => void) | undefined
  const loop = await DevLoop.open(
    {resolved: p.resolved, secrets: testSecrets()},
    {
      connection: fake.connection,
      reach: options.reach ?? fakeReach(),
      watch:
        options.watch ??
        (async (_targets, watchOptions) => {
          onChange = watchOptions.onChange
          return {close: () => {}}
        }),
      onEvent: (event) => events.push(event),
    },
    {
      reload: () => ({resolved: loadConfig({cwd: p.dir}), secrets: testSecrets()}),
      debounceMs: 0,
      rollbackOnFailure: true,
      portForward: false,
      logs: false,
      holder: HOLDER,
      renderer: 'silent',
      ...options.loop,
    },
  )
  const running = loop.run()
  await vi.waitFor(() => expect(events.some((event) => event.type === 'watching')).toBe(true), {
    timeout: 20_000,
  })
  const finished = (): Finished[] =>
    events.filter(
      (event): event is Finished => event.type === 'iteration-finished' || event.type === 'iteration-failed',
    )
  /** Hands `changes` to the loop and waits for the iteration they start to end. */
  const iterate = async (changes?: ChangeSet): Promise<Finished> => {
    const before = finished().length
    if (changes) onChange?.(changes)
    else loop.rebuildNow()
    await vi.waitFor(() => expect(finished().length).toBe(before + 1), {timeout: 20_000})
    return finished()[before]!
  }
  const stop = async () => {
    loop.stop()
    return running
  }
  return {loop, events, iterate, stop, running}
}

function tagsOf(fake: FakeCluster, upgrade: number): {frontend?: string; backend?: string} {
  const setString = fake.helm.upgrades[upgrade]?.request.setString ?? {}
  return {frontend: setString['frontend.image.tag'], backend: setString['backend.image.tag']}
}

describe('dev: one recomputed up plan per change', () => {
  test('a frontend-only change rebuilds and loads only the frontend and upgrades with the backend tag unchanged', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    const dev = await startDev(p, fake)
    expect(fake.engine.buildCount).toBe(2)
    const first = tagsOf(fake, 0)

    p.write('frontend/app/index.html', '<h1>todo v2</h1>\n')
    const iteration = await dev.iterate(changed('frontend'))

    expect(iteration).toMatchObject({
      type: 'iteration-finished',
      status: 'deployed',
      url: 'http://192.168.49.2:30080',
    })
    expect(iteration.steps.map((step) => step.step)).toEqual([
      'build',
      'load',
      'upgrade',
      'rollout',
      'traffic',
      'health',
    ])
    expect(fake.engine.builds.slice(2).map((build) => build.repository)).toEqual(['todo-frontend'])
    expect(fake.cluster.loads.slice(2)).toEqual([`todo-frontend:${tagsOf(fake, 1).frontend}`])
    expect(fake.helm.upgrades).toHaveLength(2)
    expect(tagsOf(fake, 1).backend).toBe(first.backend)
    expect(tagsOf(fake, 1).frontend).not.toBe(first.frontend)

    // `status` shows what dev did: the iteration is recorded as a dev operation.
    const record = await fake.state.read(NAMESPACE, RELEASE)
    expect(record?.operation).toMatchObject({command: 'dev', result: 'succeeded', revision: 2})
    await dev.stop()
  })

  test('a rebuild with nothing changed plans skip: no build, no load, no helm revision', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    const dev = await startDev(p, fake)
    const iteration = await dev.iterate()
    expect(iteration).toMatchObject({type: 'iteration-finished', status: 'unchanged'})
    expect(fake.engine.buildCount).toBe(2)
    expect(fake.helm.upgrades).toHaveLength(1)
    await dev.stop()
  })

  test('an iteration that changes only image tags reuses the checked render (no helm template); a values file or configuration change renders again', async () => {
    const p = tempProject({
      extraConfig: 'chart: {extraValuesFiles: [values-dev.yaml]}',
      files: {'values-dev.yaml': 'frontend: {replicas: 1}\n'},
    })
    const fake = new FakeCluster()
    const dev = await startDev(p, fake)
    expect(fake.helm.templates).toHaveLength(1)

    p.write('frontend/app/index.html', '<h1>v2</h1>\n')
    expect(await dev.iterate(changed('frontend'))).toMatchObject({status: 'deployed'})
    expect(fake.helm.upgrades).toHaveLength(2)
    expect(tagsOf(fake, 1).frontend).not.toBe(tagsOf(fake, 0).frontend)
    expect(fake.helm.templates).toHaveLength(1)

    p.write('backend/app/health', 'v2\n')
    expect(await dev.iterate(changed('backend', ['app/health']))).toMatchObject({status: 'deployed'})
    expect(fake.helm.templates).toHaveLength(1)

    writeFileSync(path.join(p.dir, 'values-dev.yaml'), 'frontend: {replicas: 2}\n')
    expect(await dev.iterate({...changed('frontend'), services: [], chart: true})).toMatchObject({
      status: 'deployed',
    })
    expect(fake.helm.templates).toHaveLength(2)

    p.write(
      'todo-deploy.yaml',
      configText({frontend: ['replicas: 3'], top: ['chart: {extraValuesFiles: [values-dev.yaml]}']}),
    )
    expect(await dev.iterate(CONFIG_CHANGED)).toMatchObject({status: 'deployed'})
    expect(fake.helm.templates).toHaveLength(3)
    expect(fake.helm.upgrades).toHaveLength(5)
    await dev.stop()
  })

  test('a failed rollout is diagnosed and rolled back to the last good revision; the next change deploys', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    const dev = await startDev(p, fake)
    fake.rollout.script.push({status: 'failed', reason: 'CrashLoopBackOff'})
    p.write('backend/app/health', 'broken\n')
    const failed = await dev.iterate(changed('backend', ['app/health']))

    expect(failed).toMatchObject({type: 'iteration-failed', rolledBackTo: 1})
    expect(
      failed.type === 'iteration-failed' && isTodoDeployError(failed.error) && failed.error.exitCode,
    ).toBe(5)
    expect(failed.steps.map((step) => step.step)).toContain('rollout')
    expect(fake.helm.rollbacks).toEqual([{release: RELEASE, revision: 1, namespace: NAMESPACE}])

    p.write('backend/app/health', 'ok again\n')
    expect(await dev.iterate(changed('backend', ['app/health']))).toMatchObject({status: 'deployed'})
    await dev.stop()
  })

  test('with --no-rollback a failed rollout stays in place, and dev goes on', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    const dev = await startDev(p, fake, {loop: {rollbackOnFailure: false}})
    fake.rollout.script.push({status: 'failed', reason: 'CrashLoopBackOff'})
    p.write('backend/app/health', 'broken\n')
    const failed = await dev.iterate(changed('backend', ['app/health']))
    expect(failed.type).toBe('iteration-failed')
    expect(failed).not.toHaveProperty('rolledBackTo')
    expect(fake.helm.rollbacks).toEqual([])
    await dev.stop()
  })

  test('a build failure is shown and dev waits for the fix; nothing is deployed meanwhile', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    const dev = await startDev(p, fake)
    fake.engine.failingRepository = 'todo-backend'
    p.write('backend/app/health', 'v2\n')
    const failed = await dev.iterate(changed('backend', ['app/health']))
    expect(
      failed.type === 'iteration-failed' && isTodoDeployError(failed.error) && failed.error.exitCode,
    ).toBe(4)
    expect(fake.helm.upgrades).toHaveLength(1)

    fake.engine.failingRepository = undefined
    p.write('backend/app/health', 'v3\n')
    expect(await dev.iterate(changed('backend', ['app/health']))).toMatchObject({status: 'deployed'})
    expect(fake.helm.upgrades).toHaveLength(2)
    await dev.stop()
  })

  test('a broken todo-deploy.yaml is shown (exit-2 error) and dev keeps watching; the fixed one is used', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    const dev = await startDev(p, fake)
    // Written behind the project's back: TestProject.write would read the broken file itself.
    writeFileSync(path.join(p.dir, 'todo-deploy.yaml'), 'services: [not a map\n')
    const failed = await dev.iterate(CONFIG_CHANGED)
    expect(
      failed.type === 'iteration-failed' && isTodoDeployError(failed.error) && failed.error.exitCode,
    ).toBe(2)

    p.write('todo-deploy.yaml', configText({frontend: ['replicas: 3']}))
    expect(await dev.iterate(CONFIG_CHANGED)).toMatchObject({status: 'deployed'})
    expect(fake.helm.upgrades).toHaveLength(2)
    expect(fake.engine.buildCount).toBe(2)
    await dev.stop()
  })

  test('a configuration that moves a build context re-points the watcher: the new context (by its .dockerignore) counts, the old one no longer does, and an edit made during that iteration is queued', async () => {
    const p = tempProject({
      files: {
        'web/Dockerfile': BUSYBOX_DOCKERFILE,
        'web/app/index.html': '<h1>web</h1>\n',
        'web/.dockerignore': 'drafts\n',
        'web/drafts/.keep': '',
      },
    })
    const fake = new FakeCluster()
    const dev = await startDev(p, fake, {
      watch: (targets, options) => SourceWatcher.start(targets, {...options, debounceMs: 50}),
    })
    const finished = () =>
      dev.events.filter((e) => e.type === 'iteration-finished' || e.type === 'iteration-failed')
    fake.helm.upgradeMs = 400
    writeFileSync(path.join(p.dir, 'todo-deploy.yaml'), configText({frontendContext: 'web'}))
    // The configuration's iteration re-points the watcher before it upgrades: an edit of the new
    // context during the upgrade is queued for one more iteration.
    await vi.waitFor(() => expect(fake.helm.upgrades).toHaveLength(2), {timeout: 20_000})
    writeFileSync(path.join(p.dir, 'web/app/index.html'), '<h1>web v2</h1>\n')
    await vi.waitFor(() => expect(finished()).toHaveLength(2), {timeout: 20_000})
    expect(finished().map((e) => ('changes' in e ? e.changes : undefined))).toEqual([
      expect.objectContaining({config: true, services: []}),
      expect.objectContaining({
        config: false,
        services: [{service: 'frontend', files: 1, paths: ['app/index.html']}],
      }),
    ])
    expect(finished()[1]).toMatchObject({status: 'deployed'})
    expect(fake.engine.builds.at(-1)?.repository).toBe('todo-frontend')

    // The old context and the new one's ignored folder start nothing.
    writeFileSync(path.join(p.dir, 'frontend/app/index.html'), '<h1>old place</h1>\n')
    writeFileSync(path.join(p.dir, 'web/drafts/notes.txt'), 'ignored\n')
    await new Promise((resolve) => setTimeout(resolve, 600))
    expect(dev.events.filter((e) => e.type === 'iteration-started')).toHaveLength(2)
    await dev.stop()
  })

  test('a configuration that disables a service stops watching its context', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    const targets: string[][] = []
    const closed: number[] = []
    let onChange: ((changes: ChangeSet) => void) | undefined
    const dev = await startDev(p, fake, {
      watch: async (watched, options) => {
        const index = targets.push(watched.services.map((s) => s.contextDir)) - 1
        onChange = options.onChange
        return {close: () => closed.push(index)}
      },
    })
    expect(targets).toEqual([[path.join(p.dir, 'frontend'), path.join(p.dir, 'backend')]])
    writeFileSync(path.join(p.dir, 'todo-deploy.yaml'), configText({backend: ['enabled: false']}))
    onChange?.(CONFIG_CHANGED)
    await vi.waitFor(
      () =>
        expect(dev.events.some((e) => e.type === 'iteration-finished' || e.type === 'iteration-failed')).toBe(
          true,
        ),
      {timeout: 20_000},
    )
    expect(targets).toEqual([
      [path.join(p.dir, 'frontend'), path.join(p.dir, 'backend')],
      [path.join(p.dir, 'frontend')],
    ])
    expect(closed).toEqual([0])
    // A broken configuration keeps the last good one and its watcher.
    writeFileSync(path.join(p.dir, 'todo-deploy.yaml'), 'services: [not a map\n')
    onChange?.(CONFIG_CHANGED)
    await vi.waitFor(() => expect(dev.events.filter((e) => e.type === 'iteration-failed')).toHaveLength(1), {
      timeout: 20_000,
    })
    const failed = dev.events.find((e) => e.type === 'iteration-failed')!
    const shown = renderDevLoopEvent(failed, {
      color: false,
      interactive: false,
      logs: new LogView({
        color: false,
        timestamps: false,
        services: ['frontend', 'backend'],
        containers: {frontend: 'frontend', backend: 'backend'},
      }),
    })
    expect(shown.map((line) => line.text).join('\n')).toMatch(/todo-deploy\.yaml:2:1 /)
    expect(targets).toHaveLength(2)
    expect(closed).toEqual([0])
    await dev.stop()
    expect(closed).toEqual([0, 1])
  })

  test('the lock is held across iterations; a concurrent up is refused naming the running dev', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    const dev = await startDev(p, fake)
    p.write('frontend/app/index.html', '<h1>v2</h1>\n')
    await dev.iterate(changed('frontend'))
    expect(fake.lock.acquired).toBe(1)
    expect(fake.lock.isHeld(RELEASE, NAMESPACE)).toBe(true)

    const refused = await runUp(p.resolved, fake.connection, testSecrets(), {
      ...UP_OPTIONS,
      holder: 'someone@other-laptop pid 99',
    }).then(
      () => undefined,
      (error: unknown) => error,
    )
    expect(isTodoDeployError(refused) && refused.exitCode).toBe(5)
    expect((refused as Error).message).toContain('`todo-deploy dev`')
    expect((refused as Error).message).toContain(HOLDER)
    expect(fake.lock.isHeld(RELEASE, NAMESPACE)).toBe(true)

    await dev.stop()
    expect(fake.lock.isHeld(RELEASE, NAMESPACE)).toBe(false)
    expect(fake.lock.released).toBe(1)
  })

  test('stopping lets the running iteration finish and leaves the app deployed', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    const dev = await startDev(p, fake)
    fake.helm.upgradeMs = 300
    p.write('frontend/app/index.html', '<h1>v2</h1>\n')
    const before = dev.events.length
    dev.loop.rebuildNow()
    await vi.waitFor(() => expect(fake.helm.upgrades).toHaveLength(2), {timeout: 20_000})
    const summary = await dev.stop()

    expect(summary).toEqual({iterations: 1, failed: 0})
    expect(dev.events.slice(before).map((event) => event.type)).toEqual([
      'iteration-started',
      'stopping',
      'iteration-finished',
      'stopped',
    ])
    expect(fake.helm.uninstalls).toEqual([])
    expect(fake.helm.revisions(RELEASE, NAMESPACE).at(-1)?.status).toBe('deployed')
  })

  test('a second stop aborts the running iteration', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    const dev = await startDev(p, fake)
    fake.rollout.script.push({status: 'hang'})
    p.write('frontend/app/index.html', '<h1>v2</h1>\n')
    dev.loop.rebuildNow()
    // In the rollout itself, past helm's return (the watch starts with helm, so it is asked earlier).
    await vi.waitFor(
      () => {
        expect(fake.rollout.requests).toHaveLength(2)
        expect(fake.rollout.judging).toBe(1)
      },
      {timeout: 20_000},
    )
    dev.loop.stop()
    dev.loop.stop()
    expect(await dev.running).toEqual({iterations: 1, failed: 1})
    expect(fake.rollout.sawAbort).toEqual(['rollout wait'])
    expect(fake.lock.isHeld(RELEASE, NAMESPACE)).toBe(false)
  })

  test('a cluster that publishes no address (remote ClusterIP): forwarded at once, no URL probed', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    fake.cluster.publishesNoAddress = true
    const reach = fakeReach(true)
    const dev = await startDev(p, fake, {reach})
    expect(reach.answers).not.toHaveBeenCalled()
    expect(reach.forwards).toEqual(['todo-frontend-service'])
    expect(dev.events).toContainEqual(
      expect.objectContaining({type: 'reachable', url: 'http://127.0.0.1:40123', via: 'port-forward'}),
    )
    await dev.stop()
  })

  test("when the cluster's URL does not answer, the frontend Service is port-forwarded and refreshed after each rollout", async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    const reach = fakeReach(false)
    const dev = await startDev(p, fake, {reach})
    expect(reach.answers).toHaveBeenCalledWith('http://192.168.49.2:30080', expect.any(Number))
    expect(reach.forwards).toEqual(['todo-frontend-service'])
    expect(dev.events).toContainEqual(
      expect.objectContaining({type: 'reachable', url: 'http://127.0.0.1:40123', via: 'port-forward'}),
    )

    p.write('frontend/app/index.html', '<h1>v2</h1>\n')
    expect(await dev.iterate(changed('frontend'))).toMatchObject({url: 'http://127.0.0.1:40123'})
    expect(reach.refreshes).toBe(1)
    expect(reach.forwards).toHaveLength(1)
    await dev.stop()
  })

  test('--port-forward forwards even when the URL answers', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    const reach = fakeReach(true)
    const dev = await startDev(p, fake, {reach, loop: {portForward: true}})
    expect(reach.answers).not.toHaveBeenCalled()
    expect(reach.forwards).toEqual(['todo-frontend-service'])
    await dev.stop()
  })
})

describe('up under a lock its caller holds', () => {
  test('takes no lock of its own, frees none, and records the operation under the caller', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    const held = {lostReason: undefined, release: vi.fn(async () => {})}
    const result = await runUp(p.resolved, fake.connection, testSecrets(), {
      ...UP_OPTIONS,
      heldLock: {lock: held, command: 'dev'},
    })
    expect(result.state).toBe('Healthy')
    expect(fake.lock.acquired).toBe(0)
    expect(held.release).not.toHaveBeenCalled()
    expect((await fake.state.read(NAMESPACE, RELEASE))?.operation.command).toBe('dev')
  })

  test('a lock that was taken over refuses the run before anything is built', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    const lost = {
      lostReason:
        'lease/todo-deploy-lock-todo-chatbot in namespace todo-app-dev was taken over by another process',
      release: async () => {},
    }
    const refused = await runUp(p.resolved, fake.connection, testSecrets(), {
      ...UP_OPTIONS,
      heldLock: {lock: lost, command: 'dev'},
    }).then(
      () => undefined,
      (error: unknown) => error,
    )
    expect(isTodoDeployError(refused) && refused.exitCode).toBe(5)
    expect((refused as Error).message).toContain('was taken over by another process')
    expect(fake.engine.buildCount).toBe(0)
  })
})

describe('dev: a namespace that is going away', () => {
  test('dev that meets a Terminating namespace shows the wait, then creates it and deploys', async () => {
    const p = tempProject()
    const fake = new FakeCluster()
    // A `down --purge` a moment ago: the namespace stays Terminating for NAMESPACE_TERMINATION_MS (real time here).
    fake.api.startDeleting(NAMESPACE)
    const dev = await startDev(p, fake)
    const waits = dev.events.filter((event) => event.type === 'waiting')
    expect(waits[0]).toMatchObject({
      message: `namespace ${NAMESPACE} is being deleted: waiting until it is gone to create it again`,
    })
    expect(waits.at(-1)).toMatchObject({
      message: expect.stringMatching(/terminating: \d+ objects? left, [3-5] s$/),
    })
    const shown = renderDevLoopEvent(waits[0]!, {
      color: false,
      interactive: false,
      logs: new LogView({
        color: false,
        timestamps: false,
        services: ['frontend', 'backend'],
        containers: {frontend: 'frontend', backend: 'backend'},
      }),
    })
    expect(shown).toEqual([
      {
        stream: 'stderr',
        text: `namespace ${NAMESPACE} is being deleted: waiting until it is gone to create it again`,
      },
    ])
    expect(dev.events.find((event) => event.type === 'up')).toMatchObject({result: {state: 'Healthy'}})
    expect(fake.api.isTerminating(NAMESPACE)).toBe(false)
    await dev.stop()
  }, 20_000)
})
