import {rmSync} from 'node:fs'
import path from 'node:path'

import type {V1Pod} from '@kubernetes/client-node'
import {describe, expect, test, vi} from 'vitest'

import {renderDevLoopEvent, renderDevLoopEventJson} from '../../src/cli/dev-view.js'
import {LogView} from '../../src/cli/log-view.js'
import {renderStatus} from '../../src/cli/status-view.js'
import type {ChangeSet} from '../../src/lib/dev/change-set.js'
import {DevLoop, type DevLoopEvent} from '../../src/lib/dev/dev-loop.js'
import {LiveSync} from '../../src/lib/dev/live-sync.js'
import {readStatus} from '../../src/lib/lifecycle/status.js'
import {runUp} from '../../src/lib/lifecycle/up.js'
import {FakeCluster, HOLDER, testSecrets, type TestProject, UP_OPTIONS} from '../support/fake-connection.js'
import {tempProject} from '../support/lifecycle-fixtures.js'
import {BUSYBOX_DOCKERFILE} from '../support/test-project.js'

const FRONTEND_POD = 'todo-frontend-5d8ffc89b7-g5tfb'

/** A frontend whose Dockerfile has a `dev` stage, syncing app/ and public/ into /app. */
function syncProject(): TestProject {
  return tempProject({
    frontend: ['sync: [{from: app, to: /app/app}, {from: public, to: /app/public}]'],
    files: {
      'frontend/Dockerfile': `${BUSYBOX_DOCKERFILE}\nFROM scratch AS dev\nCOPY busybox /bin/busybox\nCOPY app /app/app\n\nFROM scratch AS runtime\nCOPY busybox /bin/busybox\nCOPY app /app\n`,
      'frontend/package.json': '{}\n',
      'frontend/public/hello.txt': 'hello\n',
    },
  })
}

function changed(paths: string[]): ChangeSet {
  return {
    services: [{service: 'frontend', files: paths.length, paths}],
    config: false,
    chart: false,
    env: false,
    manual: false,
  }
}

type Ended = Extract<DevLoopEvent, {type: 'iteration-finished' | 'iteration-failed'}>

async function startDev(p: TestProject, fake: FakeCluster) {
  fake.kubeletFollowsHelm(p.resolved)
  const events: DevLoopEvent[] = []
  let onChange: ((changes: ChangeSet) => void) | undefined
  const loop = await DevLoop.open(
    {resolved: p.resolved, secrets: testSecrets()},
    {
      connection: fake.connection,
      reach: {answers: async () => true, forward: async () => Promise.reject(new Error('not used'))},
      watch: async (_targets, options) => {
        onChange = options.onChange
        return {close: () => {}}
      },
      onEvent: (event) => events.push(event),
    },
    {
      reload: () => ({resolved: p.resolved, secrets: testSecrets()}),
      debounceMs: 0,
      rollbackOnFailure: true,
      portForward: false,
      logs: false,
      holder: HOLDER,
      renderer: 'silent',
    },
  )
  const running = loop.run()
  await vi.waitFor(() => expect(events.some((event) => event.type === 'watching')).toBe(true), {
    timeout: 20_000,
  })
  const ended = (): Ended[] =>
    events.filter(
      (event): event is Ended => event.type === 'iteration-finished' || event.type === 'iteration-failed',
    )
  const iterate = async (changes: ChangeSet): Promise<Ended> => {
    const before = ended().length
    onChange?.(changes)
    await vi.waitFor(() => expect(ended().length).toBe(before + 1), {timeout: 20_000})
    return ended()[before]!
  }
  const of = <T extends DevLoopEvent['type']>(type: T) =>
    events.filter((event): event is Extract<DevLoopEvent, {type: T}> => event.type === type)
  const lines = (event: DevLoopEvent): string[] =>
    renderDevLoopEvent(event, {
      color: false,
      interactive: false,
      logs: new LogView({
        color: false,
        timestamps: false,
        services: ['frontend', 'backend'],
        containers: {frontend: 'frontend', backend: 'backend'},
      }),
    }).map((line) => line.text)
  return {events, iterate, of, lines, stop: () => (loop.stop(), running)}
}

/** The release's pods as the fake kubelet runs them now, with `change` applied to the frontend pod. */
function republishFrontend(fake: FakeCluster, change: (pod: V1Pod) => void): void {
  const pods = structuredClone(fake.workloads.current.pods)
  const pod = pods.find((candidate) => candidate.metadata?.name === FRONTEND_POD)!
  change(pod)
  fake.workloads.publish({pods})
}

describe('dev live sync over the fakes', () => {
  test('dev builds the dev stage; a covered edit is copied into the pod: no build, no helm revision, one line', async () => {
    const p = syncProject()
    const fake = new FakeCluster()
    const dev = await startDev(p, fake)
    expect(fake.engine.builds.find((build) => build.repository === 'todo-frontend')?.target).toBe('dev')
    const builds = fake.engine.builds.length
    const upgrades = fake.helm.upgrades.length

    p.write('frontend/app/index.html', '<h1>edited</h1>\n')
    p.write('frontend/app/new/nested/page.html', 'nested\n')
    const ended = await dev.iterate(changed(['app/index.html', 'app/new/nested/page.html']))

    expect(ended).toMatchObject({type: 'iteration-finished', status: 'synced'})
    expect(fake.engine.builds.length).toBe(builds)
    expect(fake.helm.upgrades.length).toBe(upgrades)
    expect(fake.fileSync.files(FRONTEND_POD, 'frontend')).toEqual(
      new Map([
        ['/app/app/index.html', '<h1>edited</h1>\n'],
        ['/app/app/new/nested/page.html', 'nested\n'],
      ]),
    )
    const [synced] = dev.of('synced')
    expect(dev.lines(synced!)).toEqual([
      expect.stringMatching(/^frontend: synced 2 files to 1 pod in \d+\.\d s → GET \/ answers$/),
    ])
    expect(JSON.parse(renderDevLoopEventJson(synced!))).toMatchObject({
      event: 'synced',
      service: 'frontend',
      files: 2,
      deletions: 0,
      pods: 1,
      check: {kind: 'healthy', path: '/'},
    })
    // The iteration itself adds no line: the sync line said it all.
    expect(dev.lines(ended)).toEqual([])
    await dev.stop()
  })

  test('up after dev builds and deploys the last stage under another tag: nothing of dev mode stays', async () => {
    const p = syncProject()
    const fake = new FakeCluster()
    const dev = await startDev(p, fake)
    await dev.stop()
    const devTag = fake.helm.upgrades.at(-1)?.request.setString['frontend.image.tag']
    await runUp(p.resolved, fake.connection, testSecrets(), UP_OPTIONS)
    const upTag = fake.helm.upgrades.at(-1)?.request.setString['frontend.image.tag']
    expect(upTag).toMatch(/^c-/)
    expect(upTag).not.toBe(devTag)
    const frontendBuilds = fake.engine.builds.filter((build) => build.repository === 'todo-frontend')
    expect(frontendBuilds.map((build) => build.target)).toEqual(['dev', undefined])
  })

  test('a file served as is is checked by its content: the line says served', async () => {
    const p = syncProject()
    const fake = new FakeCluster()
    // The frontend serves public/ from the container, as next dev does.
    fake.api.serviceProxyGet = async (_namespace, _service, _port, urlPath) => {
      const body = fake.fileSync.files(FRONTEND_POD).get(`/app/public${urlPath}`)
      return body === undefined
        ? {status: 404, bodySnippet: ''}
        : {status: 200, bodySnippet: body.slice(0, 500)}
    }
    const dev = await startDev(p, fake)
    p.write('frontend/public/hello.txt', 'hello again\n')
    await dev.iterate(changed(['public/hello.txt']))
    const [synced] = dev.of('synced')
    expect(synced?.sync.check).toEqual({kind: 'served', path: '/hello.txt'})
    expect(dev.lines(synced!)[0]).toMatch(/^frontend: synced 1 file to 1 pod in \d+\.\d s → served$/)
    await dev.stop()
  })

  test('a deleted file is removed from the container, in the same stream as the written ones', async () => {
    const p = syncProject()
    const fake = new FakeCluster()
    const dev = await startDev(p, fake)
    p.write('frontend/app/old.html', 'old\n')
    await dev.iterate(changed(['app/old.html']))
    expect(fake.fileSync.files(FRONTEND_POD).has('/app/app/old.html')).toBe(true)
    rmSync(path.join(p.dir, 'frontend', 'app', 'old.html'))
    p.write('frontend/app/index.html', 'new\n')
    await dev.iterate(changed(['app/index.html', 'app/old.html']))
    expect(fake.log.named('fileSync.copy').at(-1)?.args[1]).toEqual({
      files: ['/app/app/index.html'],
      deletions: ['/app/app/old.html'],
    })
    expect(fake.fileSync.files(FRONTEND_POD).has('/app/app/old.html')).toBe(false)
    expect(dev.lines(dev.of('synced')[1]!)[0]).toMatch(/^frontend: synced 1 file and 1 deletion to 1 pod in /)
    await dev.stop()
  })

  test('package.json rebuilds the service, saying why; its image holds the synced files, so status shows no live files', async () => {
    const p = syncProject()
    const fake = new FakeCluster()
    const dev = await startDev(p, fake)
    p.write('frontend/app/index.html', '<h1>edited</h1>\n')
    await dev.iterate(changed(['app/index.html']))
    let status = await readStatus(p.resolved, fake.connection)
    const frontend = () => status.deployments.find((deployment) => deployment.name === 'todo-frontend')
    expect(frontend()?.live).toMatchObject({files: 1, since: expect.stringMatching(/^todo-frontend:c-/)})
    expect(renderStatus(status)).toMatch(
      /^live {7}todo-frontend: 1 file synced since todo-frontend:c-[0-9a-f]{12} /m,
    )

    const upgrades = fake.helm.upgrades.length
    p.write('frontend/package.json', '{"name": "changed"}\n')
    const ended = await dev.iterate(changed(['package.json']))
    expect(ended).toMatchObject({type: 'iteration-finished', status: 'deployed'})
    expect(fake.helm.upgrades.length).toBe(upgrades + 1)
    expect(dev.of('sync-fallback').map((event) => dev.lines(event)[0])).toEqual([
      'frontend: rebuilding instead of syncing: package.json changed (it defines the image or its dependencies)',
    ])
    status = await readStatus(p.resolved, fake.connection)
    expect(frontend()?.live).toBeUndefined()
    expect(renderStatus(status)).not.toMatch(/^live/m)
    await dev.stop()
  })

  test('a container without tar: the obstacle and its fix are printed and the service is rebuilt', async () => {
    const p = syncProject()
    const fake = new FakeCluster()
    fake.fileSync.set(FRONTEND_POD, {noTar: true})
    const dev = await startDev(p, fake)
    const upgrades = fake.helm.upgrades.length
    p.write('frontend/app/index.html', '<h1>edited</h1>\n')
    const ended = await dev.iterate(changed(['app/index.html']))
    expect(ended).toMatchObject({type: 'iteration-finished', status: 'deployed'})
    expect(fake.helm.upgrades.length).toBe(upgrades + 1)
    expect(fake.log.named('fileSync.copy')).toEqual([])
    const [fallback] = dev.of('sync-fallback')
    expect(dev.lines(fallback!)[0]).toMatch(
      /^frontend: rebuilding instead of syncing: container frontend of pod .* has no tar.*\n {2}fix: install tar in the image/,
    )
  })

  test('a target the user cannot write names the folder and the COPY --chown fix, and rebuilds', async () => {
    const p = syncProject()
    const fake = new FakeCluster()
    fake.fileSync.set(FRONTEND_POD, {readOnly: ['/app/public']})
    const dev = await startDev(p, fake)
    p.write('frontend/app/index.html', '<h1>edited</h1>\n')
    await dev.iterate(changed(['app/index.html']))
    const [fallback] = dev.of('sync-fallback')
    expect(fallback?.fallback).toMatchObject({
      reason: expect.stringContaining('cannot write to /app/public'),
      fix: expect.stringContaining('COPY --chown='),
    })
    await dev.stop()
  })

  test("a failed copy shows tar's own stderr and rebuilds", async () => {
    const p = syncProject()
    const fake = new FakeCluster()
    const dev = await startDev(p, fake)
    fake.fileSync.set(FRONTEND_POD, {
      copyFailure: {stderr: 'tar: app/x: Cannot open: File exists\n', exitStatus: 2},
    })
    const upgrades = fake.helm.upgrades.length
    p.write('frontend/app/index.html', '<h1>edited</h1>\n')
    await dev.iterate(changed(['app/index.html']))
    expect(fake.helm.upgrades.length).toBe(upgrades + 1)
    const [fallback] = dev.of('sync-fallback')
    expect(dev.lines(fallback!)[0]).toContain('  tar: app/x: Cannot open: File exists')
    await dev.stop()
  })

  test('a pod that restarts gets every synced file again, unasked; a replacing pod too', async () => {
    const p = syncProject()
    const fake = new FakeCluster()
    const dev = await startDev(p, fake)
    p.write('frontend/app/index.html', '<h1>edited</h1>\n')
    p.write('frontend/app/about.html', 'about\n')
    await dev.iterate(changed(['app/index.html']))
    await dev.iterate(changed(['app/about.html']))
    const held = fake.fileSync.files(FRONTEND_POD)
    expect(held.size).toBe(2)

    // The container restarts: it starts from its image, without the synced files.
    fake.fileSync.restart(FRONTEND_POD)
    republishFrontend(fake, (pod) => {
      pod.status!.containerStatuses![0]!.restartCount = 1
    })
    await vi.waitFor(() => expect(dev.of('synced')).toHaveLength(3), {timeout: 10_000})
    expect(fake.fileSync.files(FRONTEND_POD)).toEqual(held)
    const resync = dev.of('synced')[2]!
    expect(resync.sync.resynced).toEqual({pods: [FRONTEND_POD], files: 2})
    expect(dev.lines(resync)[0]).toMatch(
      new RegExp(
        `^frontend: synced 2 files again to 1 pod \\(restarted or new: ${FRONTEND_POD}\\) in \\d+\\.\\d s → GET / answers$`,
      ),
    )

    // The pod is replaced: the new one gets them too.
    republishFrontend(fake, (pod) => {
      pod.metadata!.name = 'todo-frontend-5d8ffc89b7-newpd'
    })
    await vi.waitFor(() => expect(fake.fileSync.files('todo-frontend-5d8ffc89b7-newpd')).toEqual(held), {
      timeout: 10_000,
    })
    await dev.stop()
  })
})

describe('LiveSync on its own', () => {
  test('an app that does not answer after the copy is reported, not hidden', async () => {
    const p = syncProject()
    const fake = new FakeCluster()
    fake.kubeletFollowsHelm(p.resolved)
    const {runningRelease} = await import('../support/k8s-objects.js')
    fake.workloads.publish(runningRelease(p.resolved, {frontend: 'c-000000000001'}))
    fake.api.answers.set('todo-frontend-service /', 500)
    const sync = new LiveSync(
      {files: fake.fileSync, workloads: fake.workloads, api: fake.api, state: fake.state},
      {checkTimeoutMs: 50, checkIntervalMs: 10},
    )
    sync.deployed('frontend', 'todo-frontend:c-000000000001')
    p.write('frontend/app/index.html', 'broken\n')
    const outcome = await sync.sync(p.resolved, 'frontend', ['app/index.html'])
    expect(outcome).toMatchObject({status: 'synced', check: {kind: 'unanswered', path: '/', status: 500}})
  })

  test('a service with no ready pod falls back to a rebuild', async () => {
    const p = syncProject()
    const fake = new FakeCluster()
    const sync = new LiveSync({
      files: fake.fileSync,
      workloads: fake.workloads,
      api: fake.api,
      state: fake.state,
    })
    sync.deployed('frontend', 'todo-frontend:c-000000000001')
    expect(await sync.sync(p.resolved, 'frontend', ['app/index.html'])).toEqual({
      status: 'fallback',
      service: 'frontend',
      reason: 'no ready pod of deployment todo-frontend to sync into',
    })
  })
})
