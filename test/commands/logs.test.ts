import {describe, expect, test} from 'vitest'

import Logs from '../../src/commands/logs.js'
import type {WorkloadSnapshot} from '../../src/lib/kube/workload-source.js'
import {FakeCluster, runningRelease, TEST_SECRET_NAMES} from '../support/fake-connection.js'
import {tempProject, useFakeCluster} from '../support/lifecycle-fixtures.js'
import {runCommand} from '../support/run-command.js'

let fake = new FakeCluster()
useFakeCluster((created) => {
  fake = created
})

const FRONTEND_POD = 'todo-frontend-5d8ffc89b7-g5tfb'
const BACKEND_POD = 'todo-backend-5d8ffc89b7-ztfmf'

/** The release running with one started pod per service (a started container has a containerID). */
function deploy(
  project: ReturnType<typeof tempProject>,
  condition: 'started' | 'creating' = 'started',
): void {
  const snapshot: WorkloadSnapshot = runningRelease(project.resolved, {
    frontend: 'c-000000000001',
    backend: 'c-000000000002',
  })
  for (const pod of snapshot.pods) {
    for (const status of pod.status?.containerStatuses ?? []) {
      if (condition === 'started') status.containerID = `containerd://${pod.metadata?.name}`
      else status.state = {waiting: {reason: 'ContainerCreating'}}
    }
  }
  fake.workloads.publish(snapshot)
}

function scriptBoth(): void {
  fake.logStreams.script(FRONTEND_POD, 'frontend', {
    current: [
      ['2026-11-21T20:00:01.000000001Z', 'ready on :3000'],
      ['2026-11-21T20:00:03.000000001Z', 'GET / 200'],
    ],
  })
  fake.logStreams.script(BACKEND_POD, 'backend', {
    current: [['2026-11-21T20:00:02.000000001Z', 'Uvicorn running on http://0.0.0.0:8000']],
  })
}

describe('todo-deploy logs', () => {
  test('every service, prefixed with service and short pod name, merged in time order; --tail 50 by default', async () => {
    const project = tempProject()
    deploy(project)
    scriptBoth()
    const run = await runCommand(Logs, [], {cwd: project.dir})
    expect(run.exitCode).toBe(0)
    expect(run.stdout.split('\n').filter(Boolean)).toEqual([
      'frontend 5d8f-g5tfb │ ready on :3000',
      'backend  5d8f-ztfmf │ Uvicorn running on http://0.0.0.0:8000',
      'frontend 5d8f-g5tfb │ GET / 200',
    ])
    expect(fake.logStreams.requests.map((r) => [r.pod, r.tailLines, r.follow, r.previous])).toEqual(
      expect.arrayContaining([
        [FRONTEND_POD, 50, false, false],
        [BACKEND_POD, 50, false, false],
      ]),
    )
  })

  test('a named service only; --timestamps puts the time first; --tail N and --since reach the API', async () => {
    const project = tempProject()
    deploy(project)
    const recent = new Date(Date.now() - 60_000).toISOString()
    const old = new Date(Date.now() - 3_600_000).toISOString()
    fake.logStreams.script(BACKEND_POD, 'backend', {
      current: [
        [old, 'an hour ago'],
        [recent, 'Uvicorn running on http://0.0.0.0:8000'],
      ],
    })
    const run = await runCommand(Logs, ['backend', '--timestamps', '--since', '10m', '--tail', '7'], {
      cwd: project.dir,
    })
    expect(run.exitCode).toBe(0)
    expect(run.stdout.trim()).toBe(`backend  5d8f-ztfmf │ ${recent} Uvicorn running on http://0.0.0.0:8000`)
    expect(fake.logStreams.requests).toEqual([
      expect.objectContaining({pod: BACKEND_POD, container: 'backend', tailLines: 7, sinceSeconds: 600}),
    ])
  })

  test('--since alone reads the whole period (no tail)', async () => {
    const project = tempProject()
    deploy(project)
    scriptBoth()
    const run = await runCommand(Logs, ['--since', '1m'], {cwd: project.dir})
    expect(run.exitCode).toBe(0)
    expect(fake.logStreams.requests.map((r) => [r.tailLines, r.sinceSeconds])).toEqual([
      [undefined, 60],
      [undefined, 60],
    ])
  })

  test('--json: one object per line with service, pod, container, time and line', async () => {
    const project = tempProject()
    deploy(project)
    scriptBoth()
    const run = await runCommand(Logs, ['--json'], {cwd: project.dir})
    expect(run.exitCode).toBe(0)
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as unknown)
    expect(lines).toHaveLength(3)
    expect(lines[0]).toStrictEqual({
      service: 'frontend',
      pod: FRONTEND_POD,
      container: 'frontend',
      time: '2026-11-21T20:00:01.000000001Z',
      line: 'ready on :3000',
    })
  })

  test.each([
    [['--since', '10'], '--since'],
    [['--since', 'ten minutes'], '--since'],
    [['--since', '0s'], '--since'],
    [['--tail', 'x'], '--tail'],
    [['--tail', '-2'], '--tail'],
    [['--follow', '--previous'], '--previous'],
  ])('bad flags %j: exit 2 naming %s', async (argv, flag) => {
    const project = tempProject()
    deploy(project)
    const run = await runCommand(Logs, argv, {cwd: project.dir})
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toContain(flag)
    if (flag === '--since') expect(run.stderr).toContain('--since 10m')
    expect(fake.logStreams.requests).toEqual([])
  })

  test('an unknown service: exit 2 listing the valid ones', async () => {
    const project = tempProject()
    deploy(project)
    const run = await runCommand(Logs, ['frontend', 'db'], {cwd: project.dir})
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toContain('unknown service "db"')
    expect(run.stderr).toContain('frontend, backend')
  })

  test('nothing deployed: says so, exit 0 like status, stdout stays empty', async () => {
    const project = tempProject()
    const run = await runCommand(Logs, [], {cwd: project.dir})
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toBe('')
    expect(run.stderr).toContain('not deployed: release todo-chatbot has no frontend or backend Deployment')
  })

  test('pods that have not started say why; --previous without a restart says there is no previous instance', async () => {
    const project = tempProject()
    deploy(project, 'creating')
    const run = await runCommand(Logs, [], {cwd: project.dir})
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toBe('')
    expect(run.stderr).toContain('frontend 5d8f-g5tfb │ no logs yet: ContainerCreating')
    expect(run.stderr).toContain('backend  5d8f-ztfmf │ no logs yet: ContainerCreating')

    deploy(project)
    const previous = await runCommand(Logs, ['--previous', 'frontend'], {cwd: project.dir})
    expect(previous.exitCode).toBe(0)
    expect(previous.stderr).toContain('no previous instance: the container has not restarted')
  })

  test('--follow streams new lines until Ctrl-C, then exits 0', async () => {
    const project = tempProject()
    deploy(project)
    scriptBoth()
    const running = runCommand(Logs, ['-f', '--json'], {cwd: project.dir})
    while (fake.logStreams.requests.length < 2) await new Promise((resolve) => setTimeout(resolve, 5))
    fake.logStreams.write(BACKEND_POD, 'backend', '2026-11-21T20:00:04.000000001Z', 'POST /api/tasks 201')
    process.emit('SIGINT', 'SIGINT')
    const run = await running
    expect(run.exitCode).toBe(0)
    expect(
      run.stdout
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as {line: string}).line),
    ).toEqual(expect.arrayContaining(['ready on :3000', 'POST /api/tasks 201']))
    expect(fake.logStreams.requests.every((r) => r.follow)).toBe(true)
    expect(fake.closed).toBe(1)
  })

  test('no secret value in anything the CLI prints itself', async () => {
    const project = tempProject()
    deploy(project, 'creating')
    const runs = [
      await runCommand(Logs, [], {cwd: project.dir}),
      await runCommand(Logs, ['nope'], {cwd: project.dir}),
      await runCommand(Logs, ['--since', 'x'], {cwd: project.dir}),
      await runCommand(Logs, ['--json', '--previous'], {cwd: project.dir}),
    ]
    const printed = runs.map((run) => run.stdout + run.stderr).join('\n')
    expect(printed).toContain('ContainerCreating')
    for (const name of TEST_SECRET_NAMES) expect(printed).not.toContain(`test-secret-value-${name}`)
  })
})
