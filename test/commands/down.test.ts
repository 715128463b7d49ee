import {afterEach, beforeEach, describe, expect, onTestFinished, test} from 'vitest'

import Down from '../../src/commands/down.js'
import Up from '../../src/commands/up.js'
import type {DownResult} from '../../src/lib/lifecycle/down.js'
import type {UpResult} from '../../src/lib/lifecycle/up.js'
import {createTestProject, FakeCluster, runningRelease, type TestProject} from '../support/fake-connection.js'
import {useFakeCluster} from '../support/lifecycle-fixtures.js'
import {runCommand} from '../support/run-command.js'

let fake = new FakeCluster()
const stdinTTY = Object.getOwnPropertyDescriptor(process.stdin, 'isTTY')
useFakeCluster((created) => {
  fake = created
})

beforeEach(() => {
  // As in CI or a pipe: no terminal to ask on.
  Object.defineProperty(process.stdin, 'isTTY', {value: undefined, configurable: true})
})

afterEach(() => {
  if (stdinTTY) Object.defineProperty(process.stdin, 'isTTY', stdinTTY)
  else delete (process.stdin as {isTTY?: boolean}).isTTY
})

async function deployed(): Promise<TestProject> {
  const p = createTestProject()
  onTestFinished(() => p.remove())
  const run = await runCommand<UpResult>(Up, [], {cwd: p.dir})
  expect(run.exitCode).toBe(0)
  return p
}

describe('todo-deploy down', () => {
  test('--yes uninstalls and waits for the pods; a second run says nothing is deployed, exit 0 both times', async () => {
    const p = await deployed()
    fake.workloads.publish(
      runningRelease(p.resolved, {frontend: 'c-000000000001', backend: 'c-000000000002'}),
    )
    fake.log.onCall = (name) => {
      if (name === 'workloads.watch')
        setTimeout(() => fake.workloads.publish({deployments: [], pods: [], services: []}), 5)
    }

    const first = await runCommand<DownResult>(Down, ['--yes'], {cwd: p.dir})
    expect(first.exitCode).toBe(0)
    expect(first.stdout.trim().split('\n').at(-1)).toBe('todo-chatbot removed from todo-app-dev')
    expect(first.stdout).toMatch(/│ pods +│ Removing +│ succeeded │/)
    expect(fake.helm.uninstalls).toHaveLength(1)
    expect(fake.workloads.current.pods).toEqual([])

    const second = await runCommand<DownResult>(Down, ['--yes'], {cwd: p.dir})
    expect(second.exitCode).toBe(0)
    expect(second.stdout.trim().split('\n').at(-1)).toBe(
      'release todo-chatbot is not deployed in todo-app-dev: nothing to uninstall',
    )
    expect(fake.helm.uninstalls).toHaveLength(1)
  })

  test('without --yes and without a terminal: exit 2 with the --yes hint, before connecting to anything', async () => {
    const p = await deployed()
    const callsBefore = fake.log.calls.length
    const run = await runCommand<DownResult>(Down, ['--purge'], {cwd: p.dir})
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toContain('down needs confirmation, and there is no terminal to ask on')
    expect(run.stderr).toContain('fix: run `todo-deploy down --yes --purge` to confirm')
    expect(fake.log.calls).toHaveLength(callsBefore)
    expect(fake.helm.uninstalls).toEqual([])
  })

  test('--keep without --purge is refused: exit 2', async () => {
    const p = await deployed()
    const run = await runCommand<DownResult>(Down, ['--yes', '--keep', '2'], {cwd: p.dir})
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toContain('--purge')
    expect(fake.helm.uninstalls).toEqual([])
  })

  test('--yes --purge --json: what was removed and why the namespace stayed', async () => {
    const p = await deployed()
    fake.api.namespaces.set('todo-app-dev', {ours: false})
    const run = await runCommand<DownResult>(Down, ['--yes', '--purge', '--keep', '1', '--json'], {
      cwd: p.dir,
    })
    expect(run.exitCode).toBe(0)
    const json = JSON.parse(run.stdout) as DownResult
    expect(json).toMatchObject({
      command: 'down',
      uninstalled: true,
      state: 'Removed',
      purged: {
        secret: true,
        stateRecord: true,
        namespace: false,
        namespaceKept: 'todo-deploy did not create it',
        localImages: [],
        clusterImages: [],
      },
    })
    expect(fake.secrets.secrets.size).toBe(0)
    expect(await fake.state.read('todo-app-dev', 'todo-chatbot')).toBeNull()
  })
})
