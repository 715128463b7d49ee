import {createHash} from 'node:crypto'
import {mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {afterEach, expect, onTestFinished, test, vi} from 'vitest'

import {useDependencies} from '../../src/cli/dependencies.js'
import Dev from '../../src/commands/dev.js'
import Down from '../../src/commands/down.js'
import Logs from '../../src/commands/logs.js'
import Rollback from '../../src/commands/rollback.js'
import Status from '../../src/commands/status.js'
import Up from '../../src/commands/up.js'
import {secretChecksum} from '../../src/lib/kube/secret-store.js'
import {contentHashCacheDir} from '../../src/lib/lifecycle/connect.js'
import {pullSecretBody} from '../../src/lib/registry/pull-secret.js'
import {SecretValue} from '../../src/lib/secrets/secret-value.js'
import {createTestProject, FakeCluster, TEST_SECRET_NAMES} from '../support/fake-connection.js'
import {REGISTRY_PASSWORD} from '../support/fakes/fake-registry.js'
import {runCommand, type CommandRun} from '../support/run-command.js'

afterEach(() => {
  vi.unstubAllEnvs()
})

/** Every file under `dir`, with its bytes. */
function filesUnder(dir: string): {file: string; text: string}[] {
  return readdirSync(dir, {recursive: true, encoding: 'utf8'})
    .map((relative) => path.join(dir, relative))
    .filter((file) => statSync(file).isFile())
    .map((file) => ({file, text: readFileSync(file).toString('latin1')}))
}

/** Where each forbidden string shows up: outputs, files, helm calls and values, recorded calls, state records. */
function leaksOf(
  forbidden: string[],
  runs: CommandRun<unknown>[],
  fake: FakeCluster,
  dirs: string[],
): string[] {
  const places: {where: string; text: string}[] = [
    ...runs.flatMap((entry, index) => [
      {where: `stdout of run ${index}`, text: entry.stdout},
      {where: `stderr of run ${index}`, text: entry.stderr},
    ]),
    ...dirs.flatMap((dir) => filesUnder(dir).map(({file, text}) => ({where: file, text}))),
    {where: 'helm calls (arguments and values files)', text: JSON.stringify(fake.helm.upgrades)},
    {where: 'every recorded call', text: JSON.stringify(fake.log.calls)},
    {where: 'helm release values', text: JSON.stringify([...fake.helm.releases.values()])},
    {where: 'state records', text: [...fake.state.texts.values()].join('\n')},
  ]
  return places.flatMap(({where, text}) =>
    forbidden.filter((secret) => text.includes(secret)).map((secret) => `${secret} in ${where}`),
  )
}

test('up, status --json, a failing up and down (all --verbose) leak no secret value anywhere, and the values do reach the Secret store', async () => {
  const sentinels = TEST_SECRET_NAMES.map((name, index) => ({
    name,
    value: `test-secret-value-hygiene-${index + 1}`,
  }))
  for (const {name, value} of sentinels) vi.stubEnv(name, value)
  vi.stubEnv('NO_COLOR', '1')
  const cacheHome = mkdtempSync(path.join(os.tmpdir(), 'todo-deploy-cache-'))
  vi.stubEnv('XDG_CACHE_HOME', cacheHome)
  const p = createTestProject()
  onTestFinished(() => {
    p.remove()
    rmSync(cacheHome, {recursive: true, force: true})
  })
  const cacheDir = contentHashCacheDir(p.dir, process.env)
  expect(cacheDir.startsWith(cacheHome)).toBe(true)
  // The content-tag cache lives where the real connection puts it.
  const fake = new FakeCluster({tagCacheDir: cacheDir})
  fake.kubeletFollowsHelm(p.resolved)
  const restore = useDependencies({connect: () => fake.connect()})
  onTestFinished(restore)

  const runs: CommandRun<unknown>[] = []
  const run = async (
    command: Parameters<typeof runCommand>[0],
    argv: string[],
  ): Promise<CommandRun<unknown>> => {
    const result = await runCommand<unknown>(command, [...argv, '--verbose'], {cwd: p.dir})
    runs.push(result)
    return result
  }

  expect((await run(Up, [])).exitCode).toBe(0)
  const status = await run(Status, ['--json'])
  expect(status.exitCode).toBe(0)
  expect(JSON.parse(status.stdout)).toMatchObject({state: 'Healthy'})
  p.write('backend/app/health', 'v2\n')
  fake.rollout.script.push({status: 'failed', reason: 'CreateContainerConfigError'})
  const failing = await run(Up, [])
  expect(failing.exitCode).toBe(5)
  expect(failing.stderr).toContain('CreateContainerConfigError')
  // --verbose adds the stack trace: it is scanned too.
  expect(failing.stderr).toMatch(/\n\s+at /)
  fake.log.onCall = (name) => {
    if (name === 'workloads.watch')
      setTimeout(() => fake.workloads.publish({deployments: [], pods: [], services: []}), 5)
  }
  expect((await run(Down, ['--yes'])).exitCode).toBe(0)

  const forbidden = sentinels.flatMap(({value}) => [value, Buffer.from(value).toString('base64')])
  expect(leaksOf(forbidden, runs, fake, [p.dir, cacheHome])).toEqual([])
  // The scan saw real content: the cache was written, and the outputs are not empty.
  expect(filesUnder(cacheHome).length).toBeGreaterThan(0)
  expect(runs.every((entry) => entry.stdout.length + entry.stderr.length > 0)).toBe(true)

  // The values did reach the one place they belong: the Secret store got exactly these values.
  const stored = fake.secrets.secrets.get('todo-app-dev/todo-app-secrets')
  expect(stored?.keys).toEqual([...TEST_SECRET_NAMES])
  expect(stored?.checksum).toBe(
    secretChecksum(sentinels.map(({name, value}) => new SecretValue(name, value, 'environment'))),
  )
})

test('with registry.url and a pull Secret, up, rollback and down --purge (all --verbose) leak no registry credential, and it does reach the pull Secret', async () => {
  for (const name of TEST_SECRET_NAMES) vi.stubEnv(name, `test-secret-value-${name}`)
  vi.stubEnv('NO_COLOR', '1')
  const p = createTestProject({
    extraConfig:
      'registry:\n  url: localhost:5000/team\n  insecure: true\n  pullSecret: todo-registry-pull\n',
  })
  onTestFinished(() => p.remove())
  const fake = new FakeCluster()
  const registry = fake.useRegistry('localhost:5000/team')
  fake.kubeletFollowsHelm(p.resolved)
  const restore = useDependencies({connect: () => fake.connect()})
  onTestFinished(restore)

  const runs: CommandRun<unknown>[] = []
  const run = async (command: Parameters<typeof runCommand>[0], argv: string[]): Promise<number> => {
    const result = await runCommand<unknown>(command, [...argv, '--verbose'], {cwd: p.dir})
    runs.push(result)
    return result.exitCode
  }
  expect(await run(Up, [])).toBe(0)
  const stored = {...fake.secrets.secrets.get('todo-app-dev/todo-registry-pull')}
  p.write('backend/app/health', 'v2\n')
  expect(await run(Up, ['--json'])).toBe(0)
  expect(await run(Rollback, ['1'])).toBe(0)
  // A rollback to a tag the registry lost fails, and its message is scanned too.
  registry.tags.clear()
  expect(await run(Rollback, ['2'])).toBe(2)
  fake.log.onCall = (name) => {
    if (name === 'workloads.watch')
      setTimeout(() => fake.workloads.publish({deployments: [], pods: [], services: []}), 5)
  }
  expect(await run(Down, ['--yes', '--purge'])).toBe(0)

  const login = `todo-user:${REGISTRY_PASSWORD}`
  const forbidden = [
    REGISTRY_PASSWORD,
    Buffer.from(REGISTRY_PASSWORD).toString('base64'),
    Buffer.from(login).toString('base64'),
  ]
  expect(leaksOf(forbidden, runs, fake, [p.dir])).toEqual([])
  expect(fake.log.count('secrets.applyPullSecret')).toBe(2)

  // It reached the pull Secret (which --purge removed): the store got the Docker config with this login.
  expect(fake.secrets.secrets.has('todo-app-dev/todo-registry-pull')).toBe(false)
  expect(stored.type).toBe('kubernetes.io/dockerconfigjson')
  const credential = await registry.credential()
  const body = pullSecretBody({
    name: 'todo-registry-pull',
    namespace: 'todo-app-dev',
    credential: credential!,
  })
  const data = JSON.parse(Buffer.from(body.data!['.dockerconfigjson']!, 'base64').toString('utf8')) as {
    auths: Record<string, {password: string}>
  }
  expect(Object.keys(data.auths)).toEqual(['localhost:5000'])
  expect(data.auths['localhost:5000']?.password).toBe(REGISTRY_PASSWORD)
  expect(stored.checksum).toBe(createHash('sha256').update(JSON.stringify(body.data)).digest('hex'))
})

test('dev (--verbose and --json, through a deploy, a failed rollout, a broken .env and a fix) and logs leak no secret value', async () => {
  const sentinels = TEST_SECRET_NAMES.map((name, index) => `test-secret-value-dev-${index + 1}`)
  for (const [index, name] of TEST_SECRET_NAMES.entries()) vi.stubEnv(name, sentinels[index])
  vi.stubEnv('NO_COLOR', '1')
  const p = createTestProject()
  onTestFinished(() => p.remove())
  const fake = new FakeCluster()
  fake.kubeletFollowsHelm(p.resolved)
  fake.reach.forwardFailure = new Error('no port-forward expected')
  const restore = useDependencies({connect: () => fake.connect()})
  onTestFinished(restore)
  const runs: CommandRun<unknown>[] = []

  for (const argv of [
    ['--verbose', '--debounce', '50'],
    ['--json', '--debounce', '50'],
  ]) {
    // The app's logs are followed once the first up is done and the watcher runs.
    const watches = fake.log.count('workloads.watch')
    const running = runCommand<unknown>(Dev, argv, {cwd: p.dir})
    await vi.waitFor(() => expect(fake.log.count('workloads.watch')).toBeGreaterThan(watches), {
      timeout: 20_000,
    })
    // A failed rollout: diagnosis and rollback are printed.
    fake.rollout.script.push({status: 'failed', reason: 'CreateContainerConfigError'})
    const rollbacks = fake.helm.rollbacks.length
    await vi.waitFor(
      () => {
        if (fake.helm.rollbacks.length === rollbacks)
          writeFileSync(path.join(p.dir, 'backend/app/health'), `broken ${Date.now()}\n`)
        expect(fake.helm.rollbacks.length).toBeGreaterThan(rollbacks)
      },
      {timeout: 20_000, interval: 500},
    )
    // A .env line that is not KEY=value (a value after a space): the error must not quote it.
    writeFileSync(path.join(p.dir, '.env'), `JWT_SECRET ${sentinels[1]}\n`)
    await new Promise((resolve) => setTimeout(resolve, 600))
    writeFileSync(path.join(p.dir, '.env'), '')
    writeFileSync(path.join(p.dir, 'backend/app/health'), `ok ${Date.now()}\n`)
    await new Promise((resolve) => setTimeout(resolve, 600))
    process.emit('SIGINT', 'SIGINT')
    const result = await running
    expect(result.exitCode).toBe(0)
    runs.push(result)
  }
  const pod = fake.workloads.current.pods[0]!
  pod.status!.containerStatuses![0]!.containerID = 'containerd://0123abcd'
  fake.workloads.publish(structuredClone(fake.workloads.current))
  for (const argv of [['--verbose'], ['--json', '--timestamps'], ['database']])
    runs.push(await runCommand<unknown>(Logs, argv, {cwd: p.dir}))

  const forbidden = sentinels.flatMap((value) => [value, Buffer.from(value).toString('base64')])
  expect(leaksOf(forbidden, runs, fake, [p.dir])).toEqual([])
  // The scan saw the work: iterations, a diagnosis and a rollback were printed.
  const printed = runs.map((entry) => entry.stdout + entry.stderr).join('\n')
  expect(printed).toContain('CreateContainerConfigError')
  expect(printed).toContain('"event":"iteration-failed"')
  expect(printed).toMatch(/rolled back to revision \d/)
  expect(printed).toMatch(/\.env:1: this line is not KEY=value/)
})
