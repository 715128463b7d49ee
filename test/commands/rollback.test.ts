import {describe, expect, onTestFinished, test} from 'vitest'

import Rollback from '../../src/commands/rollback.js'
import Up from '../../src/commands/up.js'
import type {RevisionRow, RollbackResult} from '../../src/lib/lifecycle/rollback.js'
import type {UpResult} from '../../src/lib/lifecycle/up.js'
import {createTestProject, FakeCluster, type TestProject} from '../support/fake-connection.js'
import {useFakeCluster} from '../support/lifecycle-fixtures.js'
import {runCommand} from '../support/run-command.js'

let fake = new FakeCluster()
useFakeCluster((created) => {
  fake = created
})

/** A project deployed twice (backend v1, v2) by the `up` command; returns the backend tags. */
async function deployedTwice(): Promise<{p: TestProject; backendTags: string[]}> {
  const p = createTestProject()
  onTestFinished(() => p.remove())
  fake.kubeletFollowsHelm(p.resolved)
  const backendTags: string[] = []
  for (const version of ['v1', 'v2']) {
    p.write('backend/app/health', `ok ${version}\n`)
    const run = await runCommand<UpResult>(Up, [], {cwd: p.dir})
    expect(run.exitCode).toBe(0)
    backendTags.push(run.result?.images[1]?.tag ?? '')
  }
  return {p, backendTags}
}

interface FailureJson {
  error: {exitCode: number; kind: string; message: string; details: string[]; fix?: string}
  result: RollbackResult
}

describe('todo-deploy rollback', () => {
  test('goes back to the previous revision: the phase table, the state line and the URL last', async () => {
    const {p, backendTags} = await deployedTwice()
    const run = await runCommand<RollbackResult>(Rollback, [], {cwd: p.dir})
    expect(run.exitCode).toBe(0)
    const lines = run.stdout.trim().split('\n')
    expect(lines.at(-1)).toBe('http://192.168.49.2:30080')
    expect(lines.at(-2)).toBe('todo-chatbot in todo-app-dev: Healthy, revision 3 (rollback to 1)')
    expect(run.stdout).toMatch(/│ verify +│ Running +│ succeeded │/)
    expect(run.result?.tags.backend).toBe(backendTags[0])
    expect(fake.closed).toBe(3)
  })

  test('--json: the result with the revisions, tags, state and URL', async () => {
    const {p, backendTags} = await deployedTwice()
    const run = await runCommand<RollbackResult>(Rollback, ['1', '--json'], {cwd: p.dir})
    expect(run.exitCode).toBe(0)
    expect(JSON.parse(run.stdout)).toMatchObject({
      command: 'rollback',
      fromRevision: 2,
      toRevision: 1,
      revision: 3,
      state: 'Healthy',
      url: 'http://192.168.49.2:30080',
      tags: {backend: backendTags[0]},
    })
  })

  test('an unknown revision: exit 2, the history listed on stderr', async () => {
    const {p} = await deployedTwice()
    const run = await runCommand<RollbackResult>(Rollback, ['7'], {cwd: p.dir})
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toContain('✖ release todo-chatbot has no revision 7')
    expect(run.stderr).toContain('where: REVISION 7')
    expect(run.stderr).toMatch(/ {4}1 {2}superseded +Install complete\n {4}2 {2}deployed +Upgrade complete/)
    expect(fake.helm.rollbacks).toEqual([])
  })

  test('images gone from the cluster and the engine, with --json: exit 5, the error and the result', async () => {
    const {p, backendTags} = await deployedTwice()
    const ref = `todo-backend:${backendTags[0]}`
    fake.cluster.images.delete(ref)
    fake.engine.images.delete(ref)
    const run = await runCommand<RollbackResult>(Rollback, ['--json'], {cwd: p.dir})
    expect(run.exitCode).toBe(5)
    const json = JSON.parse(run.stdout) as FailureJson
    expect(json.error).toMatchObject({
      exitCode: 5,
      kind: 'DeployError',
      message: `revision 1 runs ${ref}, which is neither in the cluster nor in the local Docker Engine`,
    })
    expect(json.error.fix).toContain('todo-deploy up --only backend')
    expect(json.result).toMatchObject({state: 'Failed', toRevision: 1})
    expect(json.result.phases.find((phase) => phase.phase === 'load')?.state).toBe('failed')
  })
})

describe('todo-deploy rollback --list', () => {
  test('a table of every revision with its status, tags and description; nothing changes', async () => {
    const {p, backendTags} = await deployedTwice()
    const run = await runCommand<RevisionRow[]>(Rollback, ['--list'], {cwd: p.dir})
    expect(run.exitCode).toBe(0)
    const rows = run.stdout.split('\n').filter((line) => /^│ \d/.test(line))
    expect(rows).toHaveLength(2)
    expect(rows[0]).toMatch(
      new RegExp(`^│ 1 +│ superseded │ \\S+ │ c-[0-9a-f]{12} │ ${backendTags[0]} │ Install complete │$`),
    )
    expect(rows[1]).toMatch(
      new RegExp(`^│ 2 +│ deployed +│ \\S+ │ c-[0-9a-f]{12} │ ${backendTags[1]} │ Upgrade complete │$`),
    )
    expect(run.stdout).toMatch(/│ revision │ status +│ updated +│ frontend +│ backend +│ description +│/)
    expect(fake.helm.rollbacks).toEqual([])
    expect(fake.lock.acquired).toBe(2)
  })

  test('--json: one row per revision with the tags each revision deploys', async () => {
    const {p, backendTags} = await deployedTwice()
    const run = await runCommand<RevisionRow[]>(Rollback, ['--list', '--json'], {cwd: p.dir})
    expect(run.exitCode).toBe(0)
    const rows = JSON.parse(run.stdout) as RevisionRow[]
    expect(rows.map((row) => [row.revision, row.status, row.tags.backend])).toEqual([
      [1, 'superseded', backendTags[0]],
      [2, 'deployed', backendTags[1]],
    ])
    expect(rows.every((row) => /^c-[0-9a-f]{12}$/.test(row.tags.frontend ?? ''))).toBe(true)
    expect(rows.every((row) => !Number.isNaN(Date.parse(row.updated)))).toBe(true)
  })

  test('no history: says so, exit 0', async () => {
    const p = createTestProject()
    onTestFinished(() => p.remove())
    const run = await runCommand<RevisionRow[]>(Rollback, ['--list'], {cwd: p.dir})
    expect(run.exitCode).toBe(0)
    expect(run.stdout.trim()).toBe('release todo-chatbot has no history in todo-app-dev')
  })
})
