import {describe, expect, onTestFinished, test, vi} from 'vitest'

import Up from '../../src/commands/up.js'
import type {UpResult} from '../../src/lib/lifecycle/up.js'
import {createTestProject, FakeCluster} from '../support/fake-connection.js'
import {runCommand} from '../support/run-command.js'
import {tempProject, useFakeCluster} from '../support/lifecycle-fixtures.js'

let fake = new FakeCluster()
useFakeCluster((created) => {
  fake = created
})

interface FailureJson {
  error: {exitCode: number; kind: string; message: string; details: string[]; fix?: string}
  result: UpResult
}

describe('todo-deploy up (in-memory cluster)', () => {
  test('prints the phase table and ends with the URL; a second run changes nothing', async () => {
    const p = tempProject()
    const cold = await runCommand<UpResult>(Up, [], {cwd: p.dir})
    expect(cold.exitCode).toBe(0)
    const lines = cold.stdout.trim().split('\n')
    expect(lines.at(-1)).toBe('http://192.168.49.2:30080')
    expect(lines.at(-2)).toBe('todo-chatbot in todo-app-dev: Healthy, revision 1')
    expect(fake.closed).toBe(1)

    const again = await runCommand<UpResult>(Up, [], {cwd: p.dir})
    expect(again.exitCode).toBe(0)
    expect(again.result?.helm.action).toBe('skipped')
    expect(fake.engine.buildCount).toBe(2)
    expect(fake.helm.upgrades).toHaveLength(1)
    expect(`${cold.stdout}${cold.stderr}${again.stdout}${again.stderr}`).not.toContain('test-secret-value')
  })

  test('--json prints the result: phases with timings, tags, revision, URL', async () => {
    const p = tempProject()
    const run = await runCommand<UpResult>(Up, ['--json'], {cwd: p.dir})
    expect(run.exitCode).toBe(0)
    const json = JSON.parse(run.stdout) as UpResult
    expect(json).toMatchObject({
      command: 'up',
      release: 'todo-chatbot',
      namespace: 'todo-app-dev',
      state: 'Healthy',
      helm: {action: 'install', revision: 1},
      url: 'http://192.168.49.2:30080',
    })
    expect(json.phases.map((phase) => phase.phase)).toEqual([
      'preflight',
      'build',
      'load',
      'secret',
      'deploy',
      'rollout',
      'traffic',
      'verify',
    ])
    expect(json.phases.every((phase) => typeof phase.durationMs === 'number')).toBe(true)
    expect(json.images.map((image) => image.ref)).toEqual([
      expect.stringMatching(/^todo-frontend:c-[0-9a-f]{12}$/),
      expect.stringMatching(/^todo-backend:c-[0-9a-f]{12}$/),
    ])
  })

  test('a failed rollout with --json: exit 5, the error and the diagnosis in the JSON, no secret value', async () => {
    const p = tempProject()
    fake.rollout.script.push({status: 'failed', reason: 'CreateContainerConfigError'})
    const run = await runCommand<UpResult>(Up, ['--json'], {cwd: p.dir})
    expect(run.exitCode).toBe(5)
    const json = JSON.parse(run.stdout) as FailureJson
    expect(json.error).toMatchObject({
      exitCode: 5,
      message: expect.stringContaining('CreateContainerConfigError'),
    })
    expect(json.error.fix).toContain('The Secret todo-app-dev/todo-app-secrets has no key JWT_SECRET')
    expect(json.result.diagnosis).toMatchObject({
      reason: 'CreateContainerConfigError',
      pod: 'todo-backend-7d9f8b6c4-x2x7q',
      container: 'backend',
    })
    expect(json.result.state).toBe('Failed')
    expect(run.stdout).not.toContain('test-secret-value')
  })

  test('a failed rollout without --json: the diagnosis and the rollback line on stderr, exit 5', async () => {
    const p = tempProject()
    await runCommand<UpResult>(Up, [], {cwd: p.dir})
    p.write('backend/app/health', 'v2\n')
    fake.rollout.script.push({status: 'failed', reason: 'CrashLoopBackOff'})
    const run = await runCommand<UpResult>(Up, [], {cwd: p.dir})
    expect(run.exitCode).toBe(5)
    expect(run.stderr).toContain(
      'CrashLoopBackOff: deployment todo-backend, pod todo-backend-7d9f8b6c4-x2x7q, container backend',
    )
    expect(run.stderr).toContain('rolled back to revision 1: the previous version is running again')
    expect(run.stderr).toContain('kubectl -n todo-app-dev logs todo-backend-7d9f8b6c4-x2x7q -c backend')
  })

  test('--dry-run prints the plan and the rendered manifests, and changes nothing', async () => {
    const p = tempProject()
    const run = await runCommand<UpResult>(Up, ['--dry-run'], {cwd: p.dir})
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toContain('Plan (nothing was changed):')
    expect(run.stdout).toMatch(
      /^ {2}backend: (todo-backend:c-[0-9a-f]{12})\n {4}build: yes, the engine has no \1: the backend source changed\n {4}load: yes, /m,
    )
    expect(run.stdout).toContain('  helm: install, release todo-chatbot is not installed in todo-app-dev')
    expect(run.stdout).toContain('Rendered manifests (helm template):')
    expect(run.stdout).toContain('kind: Deployment')
    expect(
      fake.engine.buildCount +
        fake.cluster.loadCount +
        fake.secrets.applyCount +
        fake.helm.upgrades.length +
        fake.lock.acquired,
    ).toBe(0)
  })

  test('--dry-run --json returns the plan: per service the tag, build and load with their reasons; the Helm action', async () => {
    const p = tempProject()
    const run = await runCommand<UpResult>(Up, ['--dry-run', '--json'], {cwd: p.dir})
    expect(run.exitCode).toBe(0)
    const json = JSON.parse(run.stdout) as UpResult
    expect(json).toMatchObject({command: 'up', dryRun: true, state: 'Initial'})
    expect(
      json.plan?.services.map((service) => [service.service, service.build.action, service.load.action]),
    ).toEqual([
      ['frontend', 'build', 'load'],
      ['backend', 'build', 'load'],
    ])
    expect(json.plan?.services[1]?.ref).toMatch(/^todo-backend:c-[0-9a-f]{12}$/)
    expect(json.plan?.helm).toEqual({
      action: 'install',
      reason: 'release todo-chatbot is not installed in todo-app-dev',
    })
    expect(json.plan?.values.digest).toMatch(/^[0-9a-f]{32}$/)
    expect(json.manifests).toContain('kind: Deployment')
    expect(
      fake.engine.buildCount + fake.cluster.loadCount + fake.helm.upgrades.length + fake.lock.acquired,
    ).toBe(0)
  })

  test('--dry-run --json with registry.url: each service says push (and why), load is skipped, nothing is pushed', async () => {
    const p = createTestProject({extraConfig: 'registry:\n  url: localhost:5000/team\n  insecure: true\n'})
    onTestFinished(() => p.remove())
    fake.useRegistry('localhost:5000/team')
    const run = await runCommand<UpResult>(Up, ['--dry-run', '--json'], {cwd: p.dir})
    expect(run.exitCode).toBe(0)
    const json = JSON.parse(run.stdout) as UpResult
    expect(
      json.plan?.services.map((service) => [service.service, service.push, service.load.action]),
    ).toEqual([
      [
        'frontend',
        {
          action: 'push',
          reason: expect.stringMatching(
            /^registry localhost:5000 has no localhost:5000\/team\/todo-frontend:c-/,
          ),
        },
        'skip',
      ],
      [
        'backend',
        {
          action: 'push',
          reason: expect.stringMatching(
            /^registry localhost:5000 has no localhost:5000\/team\/todo-backend:c-/,
          ),
        },
        'skip',
      ],
    ])
    expect(fake.log.count('registry.push')).toBe(0)
    const human = await runCommand<UpResult>(Up, ['--dry-run'], {cwd: p.dir})
    expect(human.stdout).toMatch(/^ {4}push: yes, registry localhost:5000 has no /m)
  })

  test('--only and --no-build reach the lifecycle: a missing image is exit 2', async () => {
    const p = tempProject()
    await runCommand<UpResult>(Up, [], {cwd: p.dir})
    p.write('frontend/app/index.html', '<h1>v2</h1>\n')
    p.write('backend/app/health', 'v2\n')
    const run = await runCommand<UpResult>(Up, ['--only', 'backend', '--no-build'], {cwd: p.dir})
    expect(run.exitCode).toBe(2)
    // The frontend changed too, but it is not in --only: only the backend's missing image matters.
    expect(run.stderr).toMatch(
      /--no-build: the engine has no image todo-backend:c-[0-9a-f]{12} for the current backend source/,
    )
    expect(fake.engine.buildCount).toBe(2)
  })

  test('a missing secret: exit 2 naming it, before anything connects', async () => {
    const p = tempProject()
    vi.stubEnv('JWT_SECRET', undefined)
    const run = await runCommand<UpResult>(Up, [], {cwd: p.dir})
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toContain('missing secret: JWT_SECRET')
    expect(fake.log.calls).toHaveLength(0)
  })
})

describe('todo-deploy up --port-forward (in-memory cluster)', () => {
  /** Runs `up` until `shown` appears on stdout, then Ctrl-C; returns the run and what was on stdout before Ctrl-C. */
  async function upUntilShown(dir: string, argv: string[], shown: string) {
    let beforeInterrupt = ''
    const running = runCommand<UpResult>(Up, argv, {cwd: dir})
    // captureOutput has replaced stdout.write by now: watch what it is given.
    const captured = process.stdout.write.bind(process.stdout)
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      beforeInterrupt += String(chunk)
      return captured(chunk, ...rest)
    }) as typeof process.stdout.write
    try {
      await vi.waitFor(() => expect(beforeInterrupt).toContain(shown), {timeout: 15_000})
      expect(fake.reach.open).toBe(1)
    } finally {
      process.stdout.write = captured
      process.emit('SIGINT', 'SIGINT')
    }
    return {run: await running, beforeInterrupt}
  }

  test('--json: the result (url = the forward) is printed once the forward works, then it forwards until Ctrl-C, exit 0', async () => {
    const p = tempProject()
    const {run, beforeInterrupt} = await upUntilShown(
      p.dir,
      ['--port-forward', '--json'],
      '"forwarding": true',
    )
    expect(run.exitCode).toBe(0)
    expect(JSON.parse(beforeInterrupt)).toMatchObject({
      state: 'Healthy',
      url: 'http://127.0.0.1:8080',
      forwarding: true,
    })
    // Printed once: nothing more on stdout after Ctrl-C.
    expect(run.stdout).toBe(beforeInterrupt)
    expect(fake.reach.open).toBe(0)
    // The app stays deployed.
    expect(fake.helm.upgrades).toHaveLength(1)
    expect(fake.log.count('helm.uninstall')).toBe(0)
  })

  test('human output: the localhost URL last, forwarding until Ctrl-C', async () => {
    const p = tempProject()
    const {run} = await upUntilShown(p.dir, ['--port-forward'], 'http://127.0.0.1:8080')
    expect(run.exitCode).toBe(0)
    expect(run.stdout.trim().split('\n').slice(-2)).toEqual([
      'forwarding to the frontend until Ctrl-C (the app stays deployed):',
      'http://127.0.0.1:8080',
    ])
  })

  test('with --dry-run or --no-wait there is nothing to forward to: exit 2 naming the flag', async () => {
    const p = tempProject()
    const dry = await runCommand<UpResult>(Up, ['--port-forward', '--dry-run'], {cwd: p.dir})
    expect(dry.exitCode).toBe(2)
    expect(dry.stderr).toContain(
      '--port-forward needs a healthy deploy to forward to, and --dry-run deploys nothing',
    )
    const noWait = await runCommand<UpResult>(Up, ['--port-forward', '--no-wait'], {cwd: p.dir})
    expect(noWait.exitCode).toBe(2)
    expect(fake.helm.upgrades).toHaveLength(0)
  })
})
