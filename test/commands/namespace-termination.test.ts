import {afterEach, beforeEach, describe, expect, test, vi} from 'vitest'

import Down from '../../src/commands/down.js'
import Rollback from '../../src/commands/rollback.js'
import Up from '../../src/commands/up.js'
import type {UpResult} from '../../src/lib/lifecycle/up.js'
import {FakeCluster} from '../support/fake-connection.js'
import {NAMESPACE_TERMINATION_MS} from '../support/fakes/cluster-lags.js'
import {NAMESPACE, tempProject, useFakeCluster} from '../support/lifecycle-fixtures.js'
import {runCommand, type CommandClass, type CommandRun} from '../support/run-command.js'

let fake = new FakeCluster()
useFakeCluster((created) => {
  fake = created
})

// Simulated time: the fake namespace stays Terminating for NAMESPACE_TERMINATION_MS of Date.now().
beforeEach(() => {
  vi.useFakeTimers({toFake: ['Date', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval']})
})
afterEach(() => {
  vi.useRealTimers()
})

/** Simulated time per turn of the event loop while the command waits on timers only. */
const SIMULATED_STEP_MS = 5

/** Real work the process waits for (file reads, child processes, lookups): simulated time stands still meanwhile. */
const REAL_WORK = /^(FSReq|FileHandle|CloseReq|Process|GetAddrInfo|Zlib|Stat)/
/**
 * Streams, sockets and ports, some of which stay open for good (the worker's pipes): only new ones
 * count. A MessagePort is vitest's way to the main thread, which loads the modules a command imports.
 */
const REAL_STREAMS = /^(Pipe|TCP|TTY|MessagePort)/

function realWorkPending(baseline: Map<string, number>): boolean {
  const counts = new Map<string, number>()
  for (const resource of process.getActiveResourcesInfo())
    counts.set(resource, (counts.get(resource) ?? 0) + 1)
  return [...counts].some(
    ([resource, count]) =>
      REAL_WORK.test(resource) || (REAL_STREAMS.test(resource) && count > (baseline.get(resource) ?? 0)),
  )
}

/**
 * Runs a command in simulated time: while it waits only on timers, time moves on in 5 ms steps; while
 * real work is in flight (reading the build contexts, the real helm of `helm template`) it stands still,
 * so a step of the command takes no more simulated time than it would take on a cluster.
 */
async function simulated<T>(command: CommandClass, argv: string[], cwd: string): Promise<CommandRun<T>> {
  const baseline = new Map<string, number>()
  for (const resource of process.getActiveResourcesInfo())
    baseline.set(resource, (baseline.get(resource) ?? 0) + 1)
  let settled = false
  const running = runCommand<T>(command, argv, {cwd}).finally(() => {
    settled = true
  })
  while (!settled) {
    await new Promise((resolve) => setImmediate(resolve))
    if (!realWorkPending(baseline)) await vi.advanceTimersByTimeAsync(SIMULATED_STEP_MS)
  }
  return running
}

describe('a namespace that is going away (simulated time)', () => {
  test('down --purge returns once the namespace is gone, showing the wait; up right after exits 0', async () => {
    const p = tempProject()
    expect((await simulated(Up, [], p.dir)).exitCode).toBe(0)

    const started = Date.now()
    const down = await simulated(Down, ['--yes', '--purge'], p.dir)
    expect(down.exitCode).toBe(0)
    expect(Date.now() - started).toBeGreaterThanOrEqual(NAMESPACE_TERMINATION_MS)
    expect(`${down.stdout}${down.stderr}`).toMatch(
      /namespace todo-app-dev terminating: \d+ objects? left, \d+ s/,
    )
    expect(await fake.api.readNamespace(NAMESPACE)).toBeNull()

    const up = await simulated<UpResult>(Up, [], p.dir)
    expect({exitCode: up.exitCode, stderr: up.stderr}).toMatchObject({exitCode: 0})
    expect(up.stdout.trim().split('\n').at(-1)).toBe('http://192.168.49.2:30080')
    expect(await fake.api.readNamespace(NAMESPACE)).toMatchObject({terminating: false, ours: true})
  })

  test('up that meets a Terminating namespace waits for it to go, says so, then creates it again', async () => {
    const p = tempProject()
    // Deleted a moment ago by someone else (`kubectl delete namespace`, another `down --purge`).
    fake.api.startDeleting(NAMESPACE)
    const started = Date.now()

    const up = await simulated<UpResult>(Up, ['--json'], p.dir)
    expect({exitCode: up.exitCode, stdout: up.stdout}).toMatchObject({exitCode: 0})
    expect(Date.now() - started).toBeGreaterThanOrEqual(NAMESPACE_TERMINATION_MS)
    expect(await fake.api.readNamespace(NAMESPACE)).toMatchObject({terminating: false})
    expect(fake.lock.acquired).toBe(1)

    const verbose = await simulated<UpResult>(Up, ['--verbose'], p.dir)
    expect(verbose.exitCode).toBe(0)
  })

  test('up after `kubectl delete namespace` of a deployed release: waits, then installs afresh (the release went with it)', async () => {
    const p = tempProject()
    expect((await simulated(Up, [], p.dir)).exitCode).toBe(0)
    fake.api.startDeleting(NAMESPACE)

    const up = await simulated<UpResult>(Up, ['--json'], p.dir)
    expect(up.exitCode).toBe(0)
    expect(up.result).toMatchObject({helm: {action: 'install', revision: 1}, state: 'Healthy'})
    expect(fake.helm.upgrades).toHaveLength(2)
  })

  test('up shows the wait as a progress line of its preflight', async () => {
    const p = tempProject()
    fake.api.startDeleting(NAMESPACE)
    const up = await simulated<UpResult>(Up, ['--verbose'], p.dir)
    expect(up.exitCode).toBe(0)
    const output = `${up.stdout}${up.stderr}`
    expect(output).toContain('namespace todo-app-dev is being deleted: waiting until it is gone')
    expect(output).toMatch(/namespace todo-app-dev terminating: \d+ objects? left, [1-4] s/)
    expect(output).not.toMatch(/403|not allowed|grant the user/)
  })

  test('rollback that meets a Terminating namespace waits for it, then reads what is left: nothing to roll back', async () => {
    const p = tempProject()
    expect((await simulated(Up, [], p.dir)).exitCode).toBe(0)
    p.write('frontend/app/index.html', '<h1>todo v2</h1>\n')
    expect((await simulated(Up, [], p.dir)).exitCode).toBe(0)
    fake.api.startDeleting(NAMESPACE)
    const rollback = await simulated(Rollback, ['--verbose'], p.dir)

    expect(rollback.exitCode).toBe(2)
    expect(`${rollback.stdout}${rollback.stderr}`).toMatch(/namespace todo-app-dev terminating: /)
    expect(rollback.stderr).toContain(
      'release todo-chatbot is not deployed in todo-app-dev: nothing to roll back',
    )
    expect(fake.helm.rollbacks).toEqual([])
  })

  test('down --purge of a namespace a finalizer holds: exit 5 after --timeout, naming the finalizer and the fix', async () => {
    const p = tempProject()
    expect((await simulated(Up, [], p.dir)).exitCode).toBe(0)
    fake.api.namespaces.set(NAMESPACE, {ours: true, stuckOn: 'example.com/hold'})

    const started = Date.now()
    const down = await simulated(Down, ['--yes', '--purge', '--timeout', '10s'], p.dir)
    expect(down.exitCode).toBe(5)
    expect(Date.now() - started).toBeGreaterThanOrEqual(10_000)
    expect(down.stderr).toContain('namespace todo-app-dev was still terminating after 10 s')
    expect(down.stderr).toContain('example.com/hold')
    expect(down.stderr).toContain('roles.rbac.authorization.k8s.io has 1 resource instances')
    expect(`${down.stdout}${down.stderr}`).toMatch(/namespace todo-app-dev terminating: 1 object left, 10 s/)
    expect(down.stderr).toMatch(/fix: .*kubectl patch <kind>\/<name> -n todo-app-dev --type=merge/)
  })
})
