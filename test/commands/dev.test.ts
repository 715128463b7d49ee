import {writeFileSync} from 'node:fs'
import path from 'node:path'

import {beforeEach, describe, expect, test, vi} from 'vitest'

import Dev from '../../src/commands/dev.js'
import {FakeCluster, runningRelease} from '../support/fake-connection.js'
import {NAMESPACE, RELEASE, tempProject, useFakeCluster} from '../support/lifecycle-fixtures.js'
import {runCommand} from '../support/run-command.js'

let fake = new FakeCluster()
useFakeCluster((created) => {
  fake = created
})

// The NodePort URL "answers" (FakeAppReach): no request ever leaves this machine, and no port-forward is expected.
beforeEach(() => {
  fake.reach.forwardFailure = new Error('no port-forward expected')
})

/** Runs `dev` in this process; `drive` acts while it runs, then Ctrl-C stops it. */
async function runDev(
  dir: string,
  argv: string[],
  drive: () => Promise<void>,
): Promise<Awaited<ReturnType<typeof runCommand<void>>>> {
  const running = runCommand<void>(Dev, argv, {cwd: dir})
  try {
    await drive()
  } catch (error) {
    // Stop dev before the test's project folder goes away under it.
    process.emit('SIGINT', 'SIGINT')
    await running
    throw error
  }
  process.emit('SIGINT', 'SIGINT')
  return running
}

/** Waits until the first up has deployed and the app's logs are followed (dev starts them after the watcher). */
async function untilFollowingLogs(): Promise<void> {
  await vi.waitFor(() => expect(fake.helm.upgrades).toHaveLength(1), {timeout: 15_000})
  await vi.waitFor(() => expect(fake.log.count('workloads.watch')).toBeGreaterThan(0), {timeout: 15_000})
}

/** The kubelet removes the pods once helm uninstalled the release (`down` waits for them). */
function podsGoOnUninstall(): void {
  fake.log.onCall = (name) => {
    if (name === 'helm.uninstall')
      setTimeout(() => fake.workloads.publish({deployments: [], pods: [], services: []}), 5)
  }
}

describe('todo-deploy dev (real watcher on a temp project, in-memory cluster)', () => {
  test('editing a frontend file makes one iteration that redeploys the frontend only; Ctrl-C exits 0 and leaves the app', async () => {
    const p = tempProject()
    fake.kubeletFollowsHelm(p.resolved)
    const run = await runDev(p.dir, ['--debounce', '50', '--no-logs'], async () => {
      await vi.waitFor(() => expect(fake.helm.upgrades).toHaveLength(1), {timeout: 15_000})
      // The watcher starts right after the first up: edit until it has seen one (each edit is new content).
      await vi.waitFor(
        () => {
          if (fake.helm.upgrades.length < 2)
            writeFileSync(path.join(p.dir, 'frontend/app/index.html'), `<h1>v${Date.now()}</h1>\n`)
          expect(fake.helm.upgrades.length).toBeGreaterThanOrEqual(2)
        },
        {timeout: 15_000, interval: 400},
      )
      await vi.waitFor(() => expect(fake.lock.isHeld(RELEASE, NAMESPACE)).toBe(true))
    })

    expect(run.exitCode).toBe(0)
    expect(run.stdout).toMatch(
      /frontend changed \(1 file\) → build .*, load .*, rollout .* → http:\/\/192\.168\.49\.2:30080/,
    )
    expect(fake.engine.builds.slice(2).every((build) => build.repository === 'todo-frontend')).toBe(true)
    expect(fake.helm.uninstalls).toEqual([])
    expect(fake.lock.isHeld(RELEASE, NAMESPACE)).toBe(false)
    expect(`${run.stdout}${run.stderr}`).not.toContain('test-secret-value')
    // --no-logs: the app's pods were never followed for their logs.
    expect(fake.log.count('workloads.watch')).toBe(0)
    expect(fake.logStreams.requests).toEqual([])
  })

  test('--json prints one event per line: reachable, up, watching, the app log lines, stopping, stopped', async () => {
    const p = tempProject()
    fake.kubeletFollowsHelm(p.resolved)
    const pod = runningRelease(p.resolved, {}).pods[0]!.metadata!.name!
    const run = await runDev(p.dir, ['--json'], async () => {
      await untilFollowingLogs()
      // The kubelet reports the container's ID once it runs: from then on its log is streamed.
      const running = structuredClone(fake.workloads.current)
      running.pods[0]!.status!.containerStatuses![0]!.containerID = 'containerd://0123abcd'
      fake.workloads.publish(running)
      // The app's own line, written once the multiplexer follows the pod.
      await vi.waitFor(
        () => {
          fake.logStreams.write(pod, 'frontend', new Date().toISOString(), 'GET / 200')
          expect(fake.logStreams.requests.length).toBeGreaterThan(0)
        },
        {timeout: 15_000, interval: 200},
      )
    })

    expect(run.exitCode).toBe(0)
    const events = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as {event: string; [key: string]: unknown})
    const names = events.map((event) => event.event)
    expect(names.slice(0, 2)).toEqual(['reachable', 'up'])
    expect(names).toContain('watching')
    expect(names.slice(-2)).toEqual(['stopping', 'stopped'])
    expect(events[1]).toMatchObject({
      result: {command: 'up', state: 'Healthy', url: 'http://192.168.49.2:30080'},
    })
    expect(events).toContainEqual(
      expect.objectContaining({event: 'log', service: 'frontend', pod, line: 'GET / 200'}),
    )
    expect(run.stdout).not.toContain('test-secret-value')
    expect(run.stderr).toBe('')
  })

  test('--cleanup runs down when dev stops', async () => {
    const p = tempProject()
    fake.kubeletFollowsHelm(p.resolved)
    podsGoOnUninstall()
    const run = await runDev(p.dir, ['--cleanup'], untilFollowingLogs)
    expect(run.exitCode).toBe(0)
    expect(fake.helm.uninstalls).toEqual([{release: RELEASE, namespace: NAMESPACE}])
    expect(run.stdout).toContain('todo-chatbot')
    expect(fake.lock.isHeld(RELEASE, NAMESPACE)).toBe(false)
  })

  test('output into a closed pipe (`dev | head`) stops dev as Ctrl-C does: exit 0, the app left deployed, the lock freed', async () => {
    const p = tempProject()
    fake.kubeletFollowsHelm(p.resolved)
    const running = runCommand<void>(Dev, ['--no-logs'], {cwd: p.dir})
    await vi.waitFor(() => expect(fake.lock.isHeld(RELEASE, NAMESPACE)).toBe(true), {timeout: 15_000})
    await vi.waitFor(() => expect(fake.helm.upgrades).toHaveLength(1), {timeout: 15_000})
    // What a write into a pipe whose reader has gone meets (Node ignores SIGPIPE).
    process.stdout.emit('error', Object.assign(new Error('write EPIPE'), {code: 'EPIPE', syscall: 'write'}))
    const run = await running
    expect(run.exitCode).toBe(0)
    expect(run.stderr).not.toContain('EPIPE')
    expect(fake.helm.uninstalls).toEqual([])
    expect(fake.helm.revisions(RELEASE, NAMESPACE).at(-1)?.status).toBe('deployed')
    expect(fake.lock.isHeld(RELEASE, NAMESPACE)).toBe(false)
  })

  test('--cleanup --json ends with a down event that has its time, like every other event', async () => {
    const p = tempProject()
    fake.kubeletFollowsHelm(p.resolved)
    podsGoOnUninstall()
    const run = await runDev(p.dir, ['--cleanup', '--json'], untilFollowingLogs)
    expect(run.exitCode).toBe(0)
    const events = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as {event: string; at?: string})
    expect(events.every((event) => typeof event.at === 'string' && !Number.isNaN(Date.parse(event.at)))).toBe(
      true,
    )
    expect(events.at(-1)).toMatchObject({event: 'down', result: {command: 'down'}})
  })

  test.each([['abc'], ['-5'], ['1.5'], ['600000']])(
    '--debounce %s exits 2 naming the flag',
    async (value) => {
      const p = tempProject()
      const run = await runCommand(Dev, ['--debounce', value], {cwd: p.dir})
      expect(run.exitCode).toBe(2)
      expect(run.stderr).toContain('--debounce')
      expect(fake.lock.acquired).toBe(0)
    },
  )

  test('the lock held by another command refuses dev before anything is built (exit 5, naming it)', async () => {
    const p = tempProject()
    fake.lock.holdBy(RELEASE, NAMESPACE, 'someone@other-laptop pid 99')
    const run = await runCommand(Dev, [], {cwd: p.dir})
    expect(run.exitCode).toBe(5)
    expect(run.stderr).toContain('`todo-deploy up` (holder someone@other-laptop pid 99)')
    expect(fake.engine.buildCount).toBe(0)
  })
})
